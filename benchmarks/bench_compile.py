"""Compile time of ``xform.jit`` against ``jax.jit`` (issue 15, section 1), program by program.

    python benchmarks/bench_compile.py                  # every program, one process each
    python benchmarks/bench_compile.py --quick          # without the 20,000-op chain
    python benchmarks/bench_compile.py --only gram      # one program (names: --list)
    python benchmarks/bench_compile.py --repeat 3       # medians of 3 fresh processes
    python benchmarks/bench_compile.py --json out.json  # also save every sample

Each measurement is a fresh Python process (``--worker``) with an empty program cache: xform
gets a new ``XFORM_CACHE_DIR`` (and ``NUMBA_CACHE_DIR``) per process, JAX runs with its
persistent compilation cache disabled. xform's own runtime kernels (BLAS/LAPACK wrappers,
vector-math routines, convolution and window kernels: compiled once per machine into the
cache, as JAX's runtime is compiled before anyone's first program) are in that cache by
default: a template with them (``warm_runtime``, tiny programs none of which is measured)
is copied into each fresh directory. ``--runtime cold`` starts from an empty directory.
The process imports the library and compiles one trivial function first, so import and
one-time initialization (Numba's, XLA's) are not counted; the compile time is then the
first call of the program minus its steady call (the fastest of 3 calls after it), in wall
time and in process CPU time (``time.process_time``: all threads of the process, less
disturbed than wall time by other load on a shared machine). "peak RSS +" is the growth of
the process's peak resident memory over that first call (``ru_maxrss``).

Programs (the same math for both libraries, float64):
  mlp          grad of an MLP loss, batch 128, 784 -> 256 -> 10, tanh, softmax cross-entropy
  elementwise  grad of sum of a ~12-op elementwise expression, n = 1e6
  layernorm    grad of a layer-norm MLP block (x: 256x512, 512 -> 1024 -> 512, residual)
  softmax_ce   grad of softmax cross-entropy w.r.t. logits (512 x 1000)
  gram         grad of a Gram-matrix style loss, F: 128x4096
  rk4          grad of an RK4 ODE solve through fori_loop (200 steps, n = 32) w.r.t. A
  rnn          grad of a tanh RNN through scan (1,000 steps, hidden 64, input 64)
  newton_cg    Newton-CG on L2 logistic regression (2,000 x 50). xform: optimize.minimize
               (method="newton-cg"). JAX has no jittable Newton-CG: a hand-written one
               under jax.jit (while_loop outer, CG inner on jvp-of-grad Hessian-vector
               products, Armijo backtracking; see ``jax_newton_cg``). xform's program also
               carries its scipy-compatible extras (flat-curvature test, model-step rule,
               implicit-differentiation wrapper), so it is the larger program of the two.
  convnet      grad of a 3-layer conv (3x3, SAME) + relu + 2x2 max-pool loss, 1x64x64x3
  gp           grad of a GP negative log marginal likelihood (RBF kernel, Cholesky, n = 200)
  d6           6th derivative of tanh(sin x) * exp x (grad nested 6 times), a scalar
  chain<N>     straight-line chain of N elementwise ops on a 1,000-vector, cycling
               sin, *1.1, +0.3, tanh, x*x, -0.5 (N = 250, 500, 1,000, 2,000, 20,000; not
               part of the sum over realistic programs)

The targets of issue 15 are checked at the end (CPU-time ratios measured in this run).
Every result of xform is compared with JAX's (a checksum of the outputs): "!" marks a
program where they differ (then the two programs do not compute the same thing).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name -> (realistic (counts in the sum), description)
PROGRAMS = {
    "mlp": (True, "MLP grad 128x784-256-10"),
    "elementwise": (True, "elementwise grad, n=1e6"),
    "layernorm": (True, "layer-norm MLP block grad"),
    "softmax_ce": (True, "softmax cross-entropy grad"),
    "gram": (True, "Gram style-loss grad, F 128x4096"),
    "rk4": (True, "RK4 ODE grad, fori_loop 200"),
    "rnn": (True, "RNN grad, scan 1000"),
    "newton_cg": (True, "Newton-CG logistic (JAX: hand-written)"),
    "convnet": (True, "3-layer conv net grad"),
    "gp": (True, "GP marginal likelihood grad, n=200"),
    "d6": (True, "6th derivative tanh(sin x)exp x"),
}
CHAINS = (250, 500, 1_000, 2_000, 20_000)
for _n in CHAINS:
    PROGRAMS[f"chain{_n}"] = (False, f"chain of {_n:,} elementwise ops")

# issue 15's targets
SUM_RATIO, MAX_RATIO = 3.0, 5.0
CHAIN_2K_S, CHAIN_20K_S, CHAIN_20K_GB = 5.0, 60.0, 2.0


# == the worker: one program, one library, one fresh process =====================================


class Lib:
    """The parts of xform or JAX the programs use, under the same names."""

    def __init__(self, name: str):
        self.name = name
        if name == "jax":
            import jax
            import jax.numpy as jnp
            import jax.scipy.linalg as jsl

            jax.config.update("jax_enable_x64", True)
            jax.config.update("jax_platforms", "cpu")
            jax.config.update("jax_enable_compilation_cache", False)
            self.jax, self.np, self.lax, self.sl = jax, jnp, jax.lax, jsl
            self.grad, self.jit = jax.grad, jax.jit
            self.asarray = jnp.asarray
            self.tree_leaves = jax.tree_util.tree_leaves
            self.block = jax.block_until_ready
            self.version = jax.__version__
        else:
            import xform
            import xform.numpy as xnp
            import xform.scipy.linalg as xsl
            from xform import lax

            self.np, self.lax, self.sl = xnp, lax, xsl
            self.grad, self.jit = xform.grad, xform.jit
            self.asarray = np.asarray  # xform takes numpy arrays as they are
            self.tree_leaves = xform.tree_util.tree_leaves
            self.block = xform.block_until_ready
            self.version = getattr(xform, "__version__", "")


def build_mlp(L: Lib, rng):
    xp = L.np

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        h = xp.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits = logits - xp.max(logits, axis=1, keepdims=True)
        logp = logits - xp.log(xp.sum(xp.exp(logits), axis=1, keepdims=True))
        return -xp.mean(xp.sum(logp * y, axis=1))

    params = (rng.standard_normal((784, 256)) * 0.05, np.zeros(256),
              rng.standard_normal((256, 10)) * 0.05, np.zeros(10))
    x = rng.standard_normal((128, 784))
    y = np.eye(10)[rng.integers(0, 10, 128)]
    return L.jit(L.grad(loss)), (params, x, y)


def build_elementwise(L: Lib, rng):
    xp = L.np

    def f(x):
        return xp.sum(xp.tanh(x) * xp.sin(x) + xp.exp(-x * x) + xp.log1p(x * x) * xp.cos(x))

    return L.jit(L.grad(f)), (rng.standard_normal(1_000_000),)


def build_layernorm(L: Lib, rng):
    xp = L.np

    def loss(params, x):
        g, b, w1, b1, w2, b2 = params
        mu = xp.mean(x, axis=-1, keepdims=True)
        var = xp.mean((x - mu) ** 2, axis=-1, keepdims=True)
        h = (x - mu) / xp.sqrt(var + 1e-5) * g + b
        h = xp.tanh(h @ w1 + b1)
        y = x + h @ w2 + b2
        return xp.mean(y * y)

    params = (np.ones(512), np.zeros(512), rng.standard_normal((512, 1024)) / np.sqrt(512),
              np.zeros(1024), rng.standard_normal((1024, 512)) / np.sqrt(1024), np.zeros(512))
    return L.jit(L.grad(loss)), (params, rng.standard_normal((256, 512)))


def build_softmax_ce(L: Lib, rng):
    xp = L.np

    def loss(logits, y):
        z = logits - xp.max(logits, axis=-1, keepdims=True)
        logp = z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))
        return -xp.mean(xp.sum(logp * y, axis=-1))

    y = np.eye(1000)[rng.integers(0, 1000, 512)]
    return L.jit(L.grad(loss)), (rng.standard_normal((512, 1000)), y)


def build_gram(L: Lib, rng):
    xp = L.np

    def loss(f, g_target):
        g = f @ f.T / f.shape[1]
        return xp.sum((g - g_target) ** 2)

    g_target = rng.standard_normal((128, 128)) * 0.01
    return L.jit(L.grad(loss)), (rng.standard_normal((128, 4096)), g_target)


def build_rk4(L: Lib, rng):
    xp, lax = L.np, L.lax
    dt = 0.01

    def loss(a, y0):
        def f(y):
            return xp.tanh(a @ y) - 0.1 * y

        def step(i, y):
            k1 = f(y)
            k2 = f(y + 0.5 * dt * k1)
            k3 = f(y + 0.5 * dt * k2)
            k4 = f(y + dt * k3)
            return y + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        y = lax.fori_loop(0, 200, step, y0)
        return xp.sum(y * y)

    return L.jit(L.grad(loss)), (rng.standard_normal((32, 32)) / np.sqrt(32),
                                 rng.standard_normal(32))


def build_rnn(L: Lib, rng):
    xp, lax = L.np, L.lax
    T, H, D = 1000, 64, 64

    def loss(params, xs, h0):
        W, U, b = params

        def step(h, x):
            return xp.tanh(W @ h + U @ x + b), None

        h, _ = lax.scan(step, h0, xs)
        return xp.sum(h)

    params = (rng.standard_normal((H, H)) / np.sqrt(H), rng.standard_normal((H, D)) / np.sqrt(D),
              rng.standard_normal(H) * 0.1)
    return L.jit(L.grad(loss)), (params, rng.standard_normal((T, D)), np.zeros(H))


def jax_newton_cg(L: Lib, f, gtol=1e-5, xtol=1e-5, c1=1e-4):
    """A jittable Newton-CG in JAX (JAX has none), the same loops as xform's: an outer
    ``while_loop``; per iteration value-and-gradient, an inner CG ``while_loop`` on
    Hessian-vector products (forward-over-reverse: jvp of grad) with scipy's forcing
    tolerance and a stop at non-positive curvature, then Armijo backtracking (a
    ``while_loop``); stop when max|g| <= gtol after a full Newton step with L1 norm below
    n * xtol."""
    jax, jnp, lax = L.jax, L.np, L.lax
    vg = jax.value_and_grad(f)

    def solve(x0, *args):
        n = x0.shape[0]
        maxiter, cg_maxiter = 200 * n, 20 * n

        def hvp(x, v):
            return jax.jvp(lambda y: jax.grad(f)(y, *args), (x,), (v,))[1]

        def direction(x, g):
            mag = jnp.sum(jnp.abs(g))
            termcond = jnp.minimum(0.5, jnp.sqrt(mag)) * mag

            def cond(s):
                z, r, p, rr, i, stop = s
                return ~stop & (i < cg_maxiter) & (jnp.sum(jnp.abs(r)) > termcond)

            def body(s):
                z, r, p, rr, i, _ = s
                ap = hvp(x, p)
                curv = p @ ap
                neg = curv <= 0
                alpha = rr / jnp.where(neg, 1.0, curv)
                r_new = r + alpha * ap
                rr_new = r_new @ r_new
                z_out = jnp.where(neg, jnp.where(i == 0, -g, z), z + alpha * p)
                return (z_out, jnp.where(neg, r, r_new),
                        jnp.where(neg, p, -r_new + (rr_new / rr) * p),
                        jnp.where(neg, rr, rr_new), i + 1, neg)

            z, _, _, _, _, neg = lax.while_loop(
                cond, body, (jnp.zeros_like(g), g, -g, g @ g, 0, False))
            return z, ~neg

        def outer(s):
            x, _, _, k, small, _ = s
            fx, g = vg(x, *args)
            done = (jnp.max(jnp.abs(g)) <= gtol) & small
            p, solved = direction(x, g)
            slope = g @ p

            def ls_cond(t):
                a, fa, j = t
                return ~(fa <= fx + c1 * a * slope) & (j < 40)

            def ls_body(t):
                a, _, j = t
                a = 0.5 * a
                return a, f(x + a * p, *args), j + 1

            a, _, _ = lax.while_loop(ls_cond, ls_body, (1.0, f(x + p, *args), 0))
            step = jnp.where(done, 0.0, a) * p
            small = solved & (a == 1.0) & (jnp.sum(jnp.abs(step)) <= n * xtol)
            return x + step, fx, g, k + jnp.where(done, 0, 1), small, done

        init = (x0, jnp.zeros(()), jnp.zeros_like(x0), 0, False, False)
        x, fx, g, k, _, _ = lax.while_loop(lambda s: ~s[5] & (s[3] < maxiter), outer, init)
        return x

    return jax.jit(solve)


def build_newton_cg(L: Lib, rng):
    xp = L.np
    n, d, lam = 2_000, 50, 1e-3

    def loss(w, x, y):
        return xp.mean(xp.logaddexp(0.0, -y * (x @ w))) + 0.5 * lam * xp.sum(w * w)

    x = rng.standard_normal((n, d)) / np.sqrt(d)
    y = np.where(x @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    if L.name == "jax":
        return jax_newton_cg(L, loss), (np.zeros(d), x, y)
    from xform.optimize import minimize

    def run(w0, x, y):  # minimize compiles one program per (fun, method, options)
        return minimize(loss, w0, (x, y), method="newton-cg").x

    return run, (np.zeros(d), x, y)


def build_convnet(L: Lib, rng):
    xp, lax = L.np, L.lax
    dn = ("NHWC", "HWIO", "NHWC")

    def loss(params, x):
        for w in params:
            x = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn)
            x = xp.maximum(x, 0.0)
            x = lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        return xp.sum(x * x)

    chans = [3, 16, 32, 32]
    params = [rng.standard_normal((3, 3, a, b)) * 0.3 for a, b in zip(chans[:-1], chans[1:])]
    return L.jit(L.grad(loss)), (params, rng.standard_normal((1, 64, 64, 3)))


def build_gp(L: Lib, rng):
    xp, sl = L.np, L.sl

    def nll(params, x, y):
        log_ls, log_var, log_noise = params[0], params[1], params[2]
        d2 = (x[:, None] - x[None, :]) ** 2
        k = (xp.exp(log_var) * xp.exp(-0.5 * d2 / xp.exp(2 * log_ls))
             + xp.exp(log_noise) * xp.eye(x.shape[0]))
        c = sl.cho_factor(k, lower=True)
        alpha = sl.cho_solve(c, y)
        return (0.5 * y @ alpha + xp.sum(xp.log(xp.diagonal(c[0])))
                + 0.5 * x.shape[0] * np.log(2 * np.pi))

    x = np.sort(rng.uniform(0, 10, 200))
    y = np.sin(x) + 0.1 * rng.standard_normal(200)
    return L.jit(L.grad(nll)), (np.array([0.0, 0.0, -2.0]), x, y)


def build_d6(L: Lib, rng):
    xp = L.np

    def f(x):
        return xp.tanh(xp.sin(x)) * xp.exp(x)

    d = f
    for _ in range(6):
        d = L.grad(d)
    return L.jit(d), (np.float64(0.3),)


def build_chain(L: Lib, rng, n_ops: int):
    xp = L.np

    def f(x):
        for i in range(n_ops):
            k = i % 6
            if k == 0:
                x = xp.sin(x)
            elif k == 1:
                x = x * 1.1
            elif k == 2:
                x = x + 0.3
            elif k == 3:
                x = xp.tanh(x)
            elif k == 4:
                x = x * x
            else:
                x = x - 0.5
        return x

    return L.jit(f), (rng.standard_normal(1_000),)


def build(name: str, L: Lib):
    rng = np.random.default_rng(0)
    if name.startswith("chain"):
        return build_chain(L, rng, int(name[5:]))
    return globals()["build_" + name](L, rng)


def to_lib(L: Lib, tree):
    if isinstance(tree, (tuple, list)):
        return type(tree)(to_lib(L, t) for t in tree)
    return L.asarray(tree)


def checksum(L: Lib, out) -> tuple[float, float]:
    """(sum, sum of |.|) over every output leaf: compared between the two libraries."""
    leaves = [np.asarray(v, dtype=np.float64) for v in L.tree_leaves(out)]
    return (float(sum(v.sum() for v in leaves)), float(sum(np.abs(v).sum() for v in leaves)))


def worker(lib: str, name: str) -> None:
    import resource

    L = Lib(lib)
    # import and one-time initialization (Numba / XLA) happen in this trivial compile
    L.block(L.jit(lambda v: v * 2.0 + 1.0)(L.asarray(np.ones(3))))
    fn, args = build(name, L)
    args = to_lib(L, args)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c0, w0 = time.process_time(), time.perf_counter()
    out = L.block(fn(*args))
    first_wall, first_cpu = time.perf_counter() - w0, time.process_time() - c0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steady_wall = steady_cpu = float("inf")
    for _ in range(3):
        c0, w0 = time.process_time(), time.perf_counter()
        L.block(fn(*args))
        steady_wall = min(steady_wall, time.perf_counter() - w0)
        steady_cpu = min(steady_cpu, time.process_time() - c0)
    print(json.dumps(dict(
        wall=first_wall - steady_wall, cpu=first_cpu - steady_cpu, first_wall=first_wall,
        first_cpu=first_cpu, steady_wall=steady_wall, steady_cpu=steady_cpu,
        rss_increase_mb=(rss1 - rss0) / 1024, rss_peak_mb=rss1 / 1024,
        checksum=checksum(L, out), version=L.version)))


def warm_runtime() -> None:
    """Compile xform's runtime kernels (the generic routines every program calls: BLAS
    and LAPACK wrappers, the vector-math routines, the convolution and window kernels)
    into the cache directory, through tiny programs that are none of the measured ones.
    These are compiled once per machine, as JAX's own runtime is compiled once, before
    anyone's first program; ``--runtime cold`` measures with them uncompiled as well."""
    import xform
    import xform.numpy as xnp
    import xform.scipy.linalg
    from xform import lax

    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal(40)
    spd = a @ a.T + 3 * np.eye(3)
    # matrix products: small ones run as loops (dot_small), from 16 x 16 x 16 through
    # the BLAS wrappers, one per operand layout (C or transposed)
    xform.jit(lambda a, b: [a @ b, a.T @ b, a @ b.T, a.T @ b.T, a @ b[:, 0], b[:, 0] @ a,
                            a[0] @ b, a.T @ b[0], b[0] @ a.T, xnp.outer(a[0], b[0]), a @ a.T,
                            xnp.einsum("bij,bjk->bik", a[None], b[None])])(a, b)
    a16, b16 = rng.standard_normal((16, 16)), rng.standard_normal((16, 16))
    xform.jit(lambda a, b: [a @ b, a.T @ b, a @ b.T, a.T @ b.T, a @ a.T,
                            xnp.einsum("bij,bjk->bik", a[None], b[None])])(a16, b16)
    xform.jit(lambda v: [xnp.exp(v), xnp.log(xnp.abs(v) + 1), xnp.tanh(v), xnp.sin(v),
                         xnp.cos(v), xform.nn.sigmoid(v), xnp.exp(v[0]), xnp.log(v[1] ** 2),
                         xnp.tanh(v[2]), xnp.sin(v[3]), xnp.cos(v[4]), xform.nn.sigmoid(v[5])])(v)
    xform.jit(lambda m, y: [xnp.linalg.cholesky(m), xnp.linalg.solve(m, y),
                            xform.scipy.linalg.solve_triangular(m, y, lower=True),
                            xnp.linalg.eigh(m)[0], xnp.linalg.slogdet(m)[1]])(spd, b)
    img, ker = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((2, 2, 3, 3))

    def net(k, x):
        y = lax.conv_general_dilated(x, k, (1, 1), "SAME")
        y = lax.reduce_window(y, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        return xnp.sum(lax.reduce_window(y, 0.0, lax.add, (1, 1, 2, 2), (1, 1, 1, 1), "SAME"))

    xform.jit(xform.grad(net, argnums=(0, 1)))(ker, img)
    xform.jit(lambda v: [xnp.sort(v), xnp.argsort(v), xnp.cumsum(v)])(v)


# == the driver ===================================================================================


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run_one(lib: str, name: str, timeout: float, max_rss_mb: float,
            runtime_cache: str | None = None) -> dict:
    """One fresh process; a dict of the worker's numbers, or {"error": ...}. With
    ``runtime_cache``, the process starts from a copy of it (xform's runtime kernels
    compiled, no program of the benchmark)."""
    cache = tempfile.mkdtemp(prefix="xform-bench-compile-")
    if runtime_cache is not None:
        shutil.copytree(runtime_cache, cache, dirs_exist_ok=True)
    env = dict(os.environ, XFORM_CACHE_DIR=cache, NUMBA_CACHE_DIR=os.path.join(cache, "numba"),
               JAX_ENABLE_COMPILATION_CACHE="false")
    # no tiered execution, verifier or compile log: the default configuration of a user
    for var in ("XFORM_JIT_TIERED", "XFORM_CHECK_JAXPR", "XFORM_LOG_COMPILES",
                "XFORM_DISABLE_DISK_CACHE", "JAX_COMPILATION_CACHE_DIR"):
        env.pop(var, None)
    out_f, err_f = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", lib, name],
                            env=env, stdout=out_f, stderr=err_f, cwd=ROOT)
    error, peak = None, 0.0
    try:
        while proc.poll() is None:
            peak = max(peak, rss_mb(proc.pid))
            # the limit is on CPU time, as the measurement: on a loaded machine wall time
            # stretches several-fold; wall time only as a backstop
            if cpu_seconds(proc.pid) > timeout or time.perf_counter() - start > 4 * timeout:
                error = "timeout"
            elif peak > max_rss_mb:
                error = f"RSS > {max_rss_mb / 1024:g} GB"
            if error:
                proc.kill()
                proc.wait()
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(cache, ignore_errors=True)
    out_f.seek(0)
    err_f.seek(0)
    stdout, stderr = out_f.read(), err_f.read()
    if error:
        return {"error": error, "rss_peak_mb": peak}
    if proc.returncode != 0:
        tail = stderr.strip().splitlines()[-1:] or ["?"]
        return {"error": f"exit {proc.returncode}: {tail[0][:100]}"}
    return json.loads(stdout.strip().splitlines()[-1])


def median_of(samples: list[dict]) -> dict:
    """Medians over the successful samples; an error if any sample failed."""
    bad = [s for s in samples if "error" in s]
    if bad:
        return dict(bad[0])
    keys = ("wall", "cpu", "first_wall", "first_cpu", "steady_wall", "steady_cpu",
            "rss_increase_mb", "rss_peak_mb")
    m = {k: statistics.median(s[k] for s in samples) for k in keys}
    m["checksum"] = samples[0]["checksum"]
    m["version"] = samples[0]["version"]
    return m


def fmt_s(r: dict | None, key: str) -> str:
    if r is None:
        return "-"
    if "error" in r:
        return r["error"].split(":")[0]
    return f"{r[key]:.2f} s"


def same_result(a: dict | None, b: dict | None) -> bool:
    if not a or not b or "error" in a or "error" in b:
        return True
    (sa, aa), (sb, ab) = a["checksum"], b["checksum"]
    scale = max(aa, ab, 1e-300)
    return abs(sa - sb) <= 1e-6 * scale and abs(aa - ab) <= 1e-6 * scale


def ok(r: dict | None) -> bool:
    return r is not None and "error" not in r


def print_results(results: dict, names: list[str]) -> list[str]:
    head = (f"{'program':<42}{'xform wall':>12}{'xform CPU':>12}{'JAX wall':>11}{'JAX CPU':>10}"
            f"{'ratio (CPU)':>13}{'xform peak RSS +':>18}{'JAX peak RSS +':>16}")
    print(head)
    print("-" * len(head))
    lines = []
    mismatched = []
    sums = {"xform_wall": 0.0, "xform_cpu": 0.0, "jax_wall": 0.0, "jax_cpu": 0.0}
    for name in names:
        realistic, desc = PROGRAMS[name]
        rx, rj = results[name].get("xform"), results[name].get("jax")
        ratio = f"{rx['cpu'] / rj['cpu']:.1f}x" if ok(rx) and ok(rj) and rj["cpu"] > 0 else "-"
        mark = "" if same_result(rx, rj) else " !"
        if mark:
            mismatched.append(name)
        rss_x = f"{rx['rss_increase_mb']:.0f} MB" if ok(rx) else "-"
        rss_j = f"{rj['rss_increase_mb']:.0f} MB" if ok(rj) else "-"
        line = (f"{(desc + mark)[:41]:<42}{fmt_s(rx, 'wall'):>12}{fmt_s(rx, 'cpu'):>12}"
                f"{fmt_s(rj, 'wall'):>11}{fmt_s(rj, 'cpu'):>10}{ratio:>13}{rss_x:>18}{rss_j:>16}")
        print(line)
        lines.append(line)
        if realistic and ok(rx) and ok(rj):
            sums["xform_wall"] += rx["wall"]
            sums["xform_cpu"] += rx["cpu"]
            sums["jax_wall"] += rj["wall"]
            sums["jax_cpu"] += rj["cpu"]
    n_real = sum(1 for n in names if PROGRAMS[n][0] and ok(results[n].get("xform"))
                 and ok(results[n].get("jax")))
    if n_real:
        ratio = sums["xform_cpu"] / sums["jax_cpu"] if sums["jax_cpu"] > 0 else float("nan")
        print("-" * len(head))
        print(f"{f'sum over {n_real} realistic programs':<42}{sums['xform_wall']:>10.2f} s"
              f"{sums['xform_cpu']:>10.2f} s{sums['jax_wall']:>9.2f} s{sums['jax_cpu']:>8.2f} s"
              f"{ratio:>12.1f}x")
    if mismatched:
        print(f"\n! xform's and JAX's results differ (relative 1e-6 on checksums): "
              f"{', '.join(mismatched)}")
    return mismatched


def check_targets(results: dict, names: list[str], quick: bool) -> None:
    print("\nTargets of issue 15 (CPU-time ratios from this run):")

    def verdict(good: bool) -> str:
        return "PASS" if good else "FAIL"

    real = [n for n in names if PROGRAMS[n][0]]
    pairs = [(n, results[n].get("xform"), results[n].get("jax")) for n in real]
    if real:
        failed = [n for n, rx, rj in pairs if not (ok(rx) and ok(rj))]
        done = [(n, rx, rj) for n, rx, rj in pairs if ok(rx) and ok(rj)]
        if done:
            sx, sj = sum(rx["cpu"] for _, rx, _ in done), sum(rj["cpu"] for _, _, rj in done)
            r = sx / sj if sj > 0 else float("inf")
            note = f" ({', '.join(failed)} failed)" if failed else ""
            enough = "" if len(done) >= 10 else f" [only {len(done)} programs; the target needs >= 10]"
            print(f"  sum over {len(done)} realistic programs <= {SUM_RATIO:g}x JAX: "
                  f"{sx:.2f} s / {sj:.2f} s = {r:.1f}x  {verdict(r <= SUM_RATIO and not failed)}"
                  f"{note}{enough}")
            over = [f"{n} {rx['cpu'] / rj['cpu']:.1f}x" for n, rx, rj in done
                    if rj["cpu"] <= 0 or rx["cpu"] / rj["cpu"] > MAX_RATIO]
            print(f"  no program over {MAX_RATIO:g}x JAX: "
                  f"{verdict(not over and not failed)}"
                  + (f" (over: {', '.join(over)})" if over else ""))
    if "chain2000" in names:
        r = results["chain2000"].get("xform")
        if ok(r):
            print(f"  2,000-op chain <= {CHAIN_2K_S:g} s: CPU {r['cpu']:.2f} s, wall {r['wall']:.2f} s"
                  f"  {verdict(r['cpu'] <= CHAIN_2K_S)}")
        else:
            print(f"  2,000-op chain <= {CHAIN_2K_S:g} s: {r['error'] if r else '-'}  FAIL")
    if "chain20000" in names:
        r = results["chain20000"].get("xform")
        if ok(r):
            gb = r["rss_peak_mb"] / 1024
            print(f"  20,000-op chain <= {CHAIN_20K_S:g} s and <= {CHAIN_20K_GB:g} GB peak: CPU "
                  f"{r['cpu']:.1f} s, wall {r['wall']:.1f} s, process peak RSS {gb:.2f} GB  "
                  f"{verdict(r['cpu'] <= CHAIN_20K_S and gb <= CHAIN_20K_GB)}")
        else:
            print(f"  20,000-op chain <= {CHAIN_20K_S:g} s and <= {CHAIN_20K_GB:g} GB: "
                  f"{r['error'] if r else '-'}  FAIL")
    elif quick:
        print("  20,000-op chain: skipped (--quick)")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 2 and sys.argv[1] == "--warm-runtime":
        warm_runtime()
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the 20,000-op chain")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="run only this program (repeatable; comma-separated also works)")
    ap.add_argument("--repeat", type=int, default=1, metavar="K",
                    help="medians of K fresh processes per program and library (default 1)")
    ap.add_argument("--json", metavar="FILE", help="save every sample and the medians")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="CPU seconds per process before it is killed (default 300; and at 4x that "
                         "in wall time)")
    ap.add_argument("--max-rss-gb", type=float, default=6.0,
                    help="kill a process whose resident memory exceeds this (default 6 GB: "
                         "the machine is shared)")
    ap.add_argument("--runtime", choices=("warm", "cold"), default="warm",
                    help="warm (default): each process starts from a cache holding xform's "
                         "runtime kernels (compiled once per machine) and no program; cold: "
                         "from an empty cache")
    ap.add_argument("--list", action="store_true", help="list the program names")
    a = ap.parse_args()
    if a.list:
        for name, (realistic, desc) in PROGRAMS.items():
            print(f"{name:<12} {desc}{'' if realistic else '  (chain)'}")
        return
    names = list(PROGRAMS)
    if a.only:
        wanted = [n for arg in a.only for n in arg.split(",") if n]
        unknown = [n for n in wanted if n not in PROGRAMS]
        if unknown:
            ap.error(f"unknown program(s) {', '.join(unknown)}; the names are {', '.join(PROGRAMS)}")
        names = [n for n in names if n in wanted]
    elif a.quick:
        names = [n for n in names if n != "chain20000"]
    try:
        import jax  # noqa: F401
        libs = ("xform", "jax")
    except ImportError:
        libs = ("xform",)
        print("JAX is not installed: xform only.")

    runtime_cache = None
    if a.runtime == "warm":
        runtime_cache = tempfile.mkdtemp(prefix="xform-bench-runtime-")
        env = dict(os.environ, XFORM_CACHE_DIR=runtime_cache,
                   NUMBA_CACHE_DIR=os.path.join(runtime_cache, "numba"))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, os.path.abspath(__file__), "--warm-runtime"], env=env,
                       cwd=ROOT, check=True)
        print(f"xform runtime kernels compiled into a template cache in "
              f"{time.perf_counter() - t0:.1f} s (once per machine)")
    load0 = os.getloadavg()
    what = ("empty program caches, xform's runtime kernels compiled" if runtime_cache
            else "empty caches")
    print(f"compile time, fresh process per run, {what}; {os.cpu_count()} CPUs; "
          f"load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; repeat {a.repeat}")
    samples: dict = {n: {lib: [] for lib in libs} for n in names}
    for name in names:
        for _ in range(a.repeat):
            for lib in libs:  # interleaved: both libraries see the same load
                samples[name][lib].append(run_one(lib, name, a.timeout, a.max_rss_gb * 1024,
                                                  runtime_cache if lib == "xform" else None))
        results = {lib: median_of(samples[name][lib]) for lib in libs}
        brief = "  ".join(f"{lib} {fmt_s(r, 'cpu')} CPU" for lib, r in results.items())
        print(f"  {name:<12} {brief}", flush=True)
    results = {n: {lib: median_of(samples[n][lib]) for lib in libs} for n in names}
    load1 = os.getloadavg()
    versions = {lib: next((s["version"] for n in names for s in samples[n][lib] if "version" in s),
                          None) for lib in libs}
    print(f"\nxform / JAX {versions.get('jax')} (x64, CPU); compile = first call - steady call; "
          f"medians of {a.repeat}")
    print_results(results, names)
    check_targets(results, names, a.quick)
    print(f"\nload average: start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if runtime_cache is not None:
        shutil.rmtree(runtime_cache, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(dict(cpus=os.cpu_count(), load_start=load0, load_end=load1,
                           versions=versions, repeat=a.repeat, date=time.strftime("%Y-%m-%d %H:%M"),
                           medians=results, samples=samples), fh, indent=1)
        print(f"saved {a.json}")


if __name__ == "__main__":
    main()
