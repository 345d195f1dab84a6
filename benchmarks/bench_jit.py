"""jit benchmarks: xform (Numba backend) vs hand-written numpy, JAX (x64, CPU) and
autograd (when installed). Prints a table of median times and ratios.

    python benchmarks/bench_jit.py            # all workloads
    python benchmarks/bench_jit.py --quick    # fewer repetitions
    python benchmarks/bench_jit.py --only=4,7,8,9,10,11   # issue 15's steady-state rows
    python benchmarks/bench_jit.py --cpu ...  # process CPU time (see _harness.py)

Workloads:
 1. jit(grad(sum(tanh(x)*sin(x) + exp(-x*x)))), n = 1e6
 2. jit(grad(mlp_loss)), batch 128, 784 -> 256 -> 10, tanh, softmax cross-entropy
 3. jit(hvp) of Rosenbrock, n = 1e5
 4. jit(jacrev) of tanh(A @ x) * x, n = 200
 5. dispatch latency of jit(lambda x, y: x * y + 1) on 10-element arrays
 6. first call (trace + compile) of workload 2 in a fresh process: cold disk cache and
    warm disk cache; 6a': cold with jit(..., tiered=True) (first result computed
    uncompiled while Numba compiles in the background) and 6a'': until its kernel is
    compiled; 6c: numba import + initialization alone (the floor of 6a and 6b); 6d:
    the cold first call of the smallest program, jit(lambda v: v * 2.0 + 1.0), against
    JAX's for the same program (what any cold first call costs at least)
 7. jit(grad) of a Gram-matrix style loss sum((F F^T / n - G)^2), F: 128 x 4096
 8. jit(grad) of a layer-norm MLP block (x: 256 x 512, 512 -> 1024 -> 512, tanh, residual)
 9. jit(grad) of an RK4 ODE solve through fori_loop (200 steps, n = 32) w.r.t. the matrix
10. jit(grad) of a tanh RNN through scan (1,000 steps, hidden and input size 64)
11. loops over rows (1,000 x 64) by a traced index: (a) jit(grad) of a sum of
    tanh(x[i] * w) through fori_loop (reverse mode adds into one row per step), (b) a
    fori_loop filling a buffer with dynamic_update_slice (numpy: the vectorized result)
 (7-10 are the programs of bench_compile.py. "numpy" is a hand-written gradient;
 "numpy BLAS" in 7 and 8 times only the matrix products of that gradient. Thread counts
 follow the environment: compare OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 with the
 defaults.)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import CPU, jax_t, load_jax, print_table, t  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402
from xform import lax  # noqa: E402

jax, jnp = load_jax()

try:
    import autograd
    import autograd.numpy as anp
except Exception:  # pragma: no cover
    autograd = None


rows = []
rng = np.random.default_rng(0)
ONLY = {int(n) for a in sys.argv if a.startswith("--only=") for n in a[7:].split(",")}


def want(n: int) -> bool:
    """Whether workload ``n`` runs (``--only=4,7`` selects workloads)."""
    return not ONLY or n in ONLY


# -- 1. elementwise grad, n = 1e6 -------------------------------------------------------------

if want(1):


    def f1(x, np_=xnp):
        return np_.sum(np_.tanh(x) * np_.sin(x) + np_.exp(-x * x))


    def f1_numpy_grad(x):
        t_, s, e = np.tanh(x), np.sin(x), np.exp(-x * x)
        return (1 - t_ * t_) * s + t_ * np.cos(x) - 2 * x * e


    x1 = rng.standard_normal(1_000_000)
    g1 = xform.jit(xform.grad(f1))
    res = {"xform": t(lambda: g1(x1)), "numpy": t(lambda: f1_numpy_grad(x1))}
    if jax:
        jg1 = jax.jit(jax.grad(lambda x: f1(x, jnp)))
        xj1 = jnp.asarray(x1)
        res["jax"] = jax_t(lambda: jg1(xj1))
    if autograd:
        ag1 = autograd.grad(lambda x: f1(x, anp))
        res["autograd"] = t(lambda: ag1(x1))
    np.testing.assert_allclose(g1(x1), f1_numpy_grad(x1), rtol=1e-9, atol=1e-12)
    rows.append(("1 grad tanh*sin+exp, n=1e6", res))

# -- 2. MLP loss gradient -----------------------------------------------------------------------

if want(2):


    def mlp_loss(params, x, y, np_=xnp):
        w1, b1, w2, b2 = params
        h = np_.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits = logits - np_.max(logits, axis=1, keepdims=True)
        logp = logits - np_.log(np_.sum(np_.exp(logits), axis=1, keepdims=True))
        return -np_.mean(np_.sum(logp * y, axis=1))


    def mlp_numpy_grad(params, x, y):
        w1, b1, w2, b2 = params
        h = np.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits = logits - logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        d = (p * y.sum(1, keepdims=True) - y) / x.shape[0]
        gw2, gb2 = h.T @ d, d.sum(0)
        dh = (d @ w2.T) * (1 - h * h)
        return x.T @ dh, dh.sum(0), gw2, gb2


    params = (rng.standard_normal((784, 256)) * 0.05, np.zeros(256),
              rng.standard_normal((256, 10)) * 0.05, np.zeros(10))
    xb = rng.standard_normal((128, 784))
    yb = np.eye(10)[rng.integers(0, 10, 128)]
    g2 = xform.jit(xform.grad(mlp_loss))
    res = {"xform": t(lambda: g2(params, xb, yb)), "numpy": t(lambda: mlp_numpy_grad(params, xb, yb))}
    for a, b in zip(g2(params, xb, yb), mlp_numpy_grad(params, xb, yb)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    if jax:
        jg2 = jax.jit(jax.grad(lambda p, x, y: mlp_loss(p, x, y, jnp)))
        pj = tuple(jnp.asarray(a) for a in params)
        xj, yj = jnp.asarray(xb), jnp.asarray(yb)
        res["jax"] = jax_t(lambda: jg2(pj, xj, yj))
    if autograd:
        ag2 = autograd.grad(lambda p, x, y: mlp_loss(p, x, y, anp))
        res["autograd"] = t(lambda: ag2(params, xb, yb))
    rows.append(("2 grad MLP 128x784-256-10", res))

# -- 3. hvp of Rosenbrock, n = 1e5 ------------------------------------------------------------

if want(3):


    def rosen(x, np_=xnp):
        return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


    def rosen_hvp_numpy(x, v):
        n = x.shape[0]
        hv = np.zeros(n)
        a, b = x[:-1], x[1:]
        va, vb = v[:-1], v[1:]
        diag_a = 1200 * a * a - 400 * b + 2
        hv[:-1] += diag_a * va - 400 * a * vb
        hv[1:] += 200 * vb - 400 * a * va
        return hv


    x3 = rng.standard_normal(100_000) * 0.5
    v3 = rng.standard_normal(100_000)
    g3 = xform.jit(lambda x, v: xform.hvp(rosen, (x,), (v,)))
    res = {"xform": t(lambda: g3(x3, v3)), "numpy": t(lambda: rosen_hvp_numpy(x3, v3))}
    np.testing.assert_allclose(g3(x3, v3), rosen_hvp_numpy(x3, v3), rtol=1e-8, atol=1e-8)
    if jax:
        def jhvp(x, v):
            return jax.jvp(jax.grad(lambda y: rosen(y, jnp)), (x,), (v,))[1]
        jg3 = jax.jit(jhvp)
        xj3, vj3 = jnp.asarray(x3), jnp.asarray(v3)
        res["jax"] = jax_t(lambda: jg3(xj3, vj3))
    if autograd:
        from autograd import hessian_vector_product

        ag3 = hessian_vector_product(lambda x: rosen(x, anp))
        res["autograd"] = t(lambda: ag3(x3, v3))
    rows.append(("3 hvp Rosenbrock, n=1e5", res))

# -- 4. jacrev of tanh(A @ x) * x, n = 200 -----------------------------------------------------

if want(4):

    A = rng.standard_normal((200, 200)) / 14
    x4 = rng.standard_normal(200)


    def f4(x, np_=xnp):
        return np_.tanh(A @ x) * x


    def jac4_numpy(x):
        t_ = np.tanh(A @ x)
        return (1 - t_ * t_)[:, None] * A * x[:, None] + np.diag(t_)


    g4 = xform.jit(xform.jacrev(f4))
    res = {"xform": t(lambda: g4(x4)), "numpy": t(lambda: jac4_numpy(x4))}
    np.testing.assert_allclose(g4(x4), jac4_numpy(x4), rtol=1e-8, atol=1e-12)
    if jax:
        Aj = jnp.asarray(A)
        jg4 = jax.jit(jax.jacrev(lambda x: jnp.tanh(Aj @ x) * x))
        xj4 = jnp.asarray(x4)
        res["jax"] = jax_t(lambda: jg4(xj4))
    if autograd:
        ag4 = autograd.jacobian(lambda x: anp.tanh(anp.dot(A, x)) * x)
        res["autograd"] = t(lambda: ag4(x4))
    rows.append(("4 jacrev tanh(A@x)*x, n=200", res))

# -- 5. dispatch latency --------------------------------------------------------------------------

if want(5):

    a5, b5 = np.ones(10), np.ones(10)
    g5 = xform.jit(lambda x, y: x * y + 1)
    res = {"xform": t(lambda: g5(a5, b5)), "numpy": t(lambda: a5 * b5 + 1)}
    if jax:
        jg5 = jax.jit(lambda x, y: x * y + 1)
        aj5, bj5 = jnp.asarray(a5), jnp.asarray(b5)
        res["jax"] = jax_t(lambda: jg5(aj5, bj5))
        res["jax (no sync)"] = t(lambda: jg5(aj5, bj5))
    rows.append(("5 dispatch x*y+1, n=10", res))

# -- 6. first call in a fresh process ----------------------------------------------------------------

if want(6):

    FIRST_CALL = r'''
    import sys, time
    t0 = time.perf_counter()
    sys.path.insert(0, {root!r})
    import numpy as np
    MODE = {mode!r}
    TRIVIAL = MODE.endswith("-trivial")
    MODE = MODE.replace("-trivial", "")
    if MODE == "jax":
        import jax, jax.numpy as np_
        jax.config.update("jax_enable_x64", True)
        grad, jit = jax.grad, jax.jit
    else:
        import functools
        import xform, xform.numpy as np_
        grad, jit = xform.grad, functools.partial(xform.jit, tiered=MODE == "xform-tiered")
    t_import = time.perf_counter() - t0
    def mlp_loss(params, x, y):
        w1, b1, w2, b2 = params
        h = np_.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits = logits - np_.max(logits, axis=1, keepdims=True)
        logp = logits - np_.log(np_.sum(np_.exp(logits), axis=1, keepdims=True))
        return -np_.mean(np_.sum(logp * y, axis=1))
    rng = np.random.default_rng(0)
    params = (rng.standard_normal((784, 256)) * 0.05, np.zeros(256),
              rng.standard_normal((256, 10)) * 0.05, np.zeros(10))
    x = rng.standard_normal((128, 784)); y = np.eye(10)[rng.integers(0, 10, 128)]
    if TRIVIAL:  # the smallest program: what any first call costs at least
        g = jit(lambda v: v * 2.0 + 1.0)
        call_args = (np.ones(3),)
    else:
        g = jit(grad(mlp_loss))
        call_args = (params, x, y)
    t0 = time.perf_counter()
    out = g(*call_args)
    if MODE == "jax":
        jax.block_until_ready(out)
    first = time.perf_counter() - t0
    if MODE == "xform-tiered":
        xform.wait_for_compilations()
    print(first, t_import, time.perf_counter() - t0)
    '''


    NUMBA_INIT = r'''
    import sys, time
    sys.path.insert(0, {root!r})
    import numpy as np
    import xform
    t0 = time.perf_counter()
    import numba
    t1 = time.perf_counter()
    # as in xform's first call: scipy's BLAS extension, then numba's typing/lowering registries
    import xform.backend.numba.runtime
    numba.njit(lambda x: x + 1.0)(1.0)
    print(time.perf_counter() - t0, t1 - t0)
    '''


    def numba_init():
        """Seconds for `import numba` + its one-time initialization in a fresh process."""
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = subprocess.run([sys.executable, "-c", NUMBA_INIT.format(root=root)],
                             capture_output=True, text=True, check=True)
        total, imp = map(float, out.stdout.split())
        return total, imp


    def first_call(mode, env):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        code = FIRST_CALL.format(root=root, mode=mode)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             check=True)
        first, imp, until_compiled = map(float, out.stdout.split())
        return first, imp, until_compiled


    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, XFORM_CACHE_DIR=d)
        cold, imp_cold, _ = first_call("xform", env)
        warm, imp_warm, _ = first_call("xform", env)
    with tempfile.TemporaryDirectory() as d:
        tiered, _, tiered_compiled = first_call("xform-tiered", dict(os.environ, XFORM_CACHE_DIR=d))
    with tempfile.TemporaryDirectory() as d:
        trivial, _, _ = first_call("xform-trivial", dict(os.environ, XFORM_CACHE_DIR=d))
    res_trivial = {"xform": trivial}
    res_cold = {"xform": cold}
    res_warm = {"xform": warm}
    res_tiered = {"xform": tiered}
    res_tiered_compiled = {"xform": tiered_compiled}
    if jax:
        jcold, _, _ = first_call("jax", dict(os.environ))
        for r in (res_cold, res_warm, res_tiered, res_tiered_compiled):
            r["jax"] = jcold
        res_trivial["jax"] = first_call("jax-trivial", dict(os.environ))[0]
    rows.append(("6a first call of (2), cold cache", res_cold))
    rows.append(("6a' cold, tiered=True: 1st result", res_tiered))
    rows.append(("6a'' cold, tiered: until compiled", res_tiered_compiled))
    rows.append(("6b first call of (2), warm disk cache", res_warm))
    nb_total, nb_import = numba_init()
    rows.append(("6c numba import + init alone (bound of 6a/6b)", {"xform": nb_total}))
    rows.append(("6d first call of jit(v*2+1), cold (floor of 6a)", res_trivial))

# -- 7-10. issue 15's steady-state workloads (the programs of bench_compile.py) ---------------
# Matmul-bound programs (7, 8) also get "numpy BLAS": numpy's time for the matrix products
# of the gradient alone (the floor the target is measured against).

if want(7):
    def gram_loss(f, g_target, np_=xnp):
        g = f @ f.T / f.shape[1]
        return np_.sum((g - g_target) ** 2)

    def gram_numpy_grad(f, g_target):
        n = f.shape[1]
        d = 2.0 * (f @ f.T / n - g_target) / n
        return (d + d.T) @ f

    F7, G7 = rng.standard_normal((128, 4096)), rng.standard_normal((128, 128)) * 0.01
    D7 = rng.standard_normal((128, 128))
    g7 = xform.jit(xform.grad(gram_loss))
    np.testing.assert_allclose(g7(F7, G7), gram_numpy_grad(F7, G7), rtol=1e-9, atol=1e-12)
    res = {"xform": t(lambda: g7(F7, G7)), "numpy": t(lambda: gram_numpy_grad(F7, G7)),
           "numpy BLAS": t(lambda: (F7 @ F7.T, D7 @ F7))}
    if jax:
        jg7 = jax.jit(jax.grad(lambda f, g: gram_loss(f, g, jnp)))
        Fj7, Gj7 = jnp.asarray(F7), jnp.asarray(G7)
        res["jax"] = jax_t(lambda: jg7(Fj7, Gj7))
    rows.append(("7 grad Gram style loss, F 128x4096", res))

if want(8):
    def ln_block_loss(params, x, np_=xnp):
        g, b, w1, b1, w2, b2 = params
        mu = np_.mean(x, axis=-1, keepdims=True)
        var = np_.mean((x - mu) ** 2, axis=-1, keepdims=True)
        h = (x - mu) / np_.sqrt(var + 1e-5) * g + b
        h = np_.tanh(h @ w1 + b1)
        y = x + h @ w2 + b2
        return np_.mean(y * y)

    def ln_block_numpy_grad(params, x):
        g, b, w1, b1, w2, b2 = params
        xc = x - x.mean(-1, keepdims=True)
        xh = xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5)
        h = xh * g + b
        z = np.tanh(h @ w1 + b1)
        y = x + z @ w2 + b2
        dy = 2.0 * y / y.size
        dz = (dy @ w2.T) * (1.0 - z * z)
        dh = dz @ w1.T
        return (dh * xh).sum(0), dh.sum(0), h.T @ dz, dz.sum(0), z.T @ dy, dy.sum(0)

    P8 = (1.0 + 0.1 * rng.standard_normal(512), 0.1 * rng.standard_normal(512),
          rng.standard_normal((512, 1024)) / np.sqrt(512), 0.1 * rng.standard_normal(1024),
          rng.standard_normal((1024, 512)) / np.sqrt(1024), 0.1 * rng.standard_normal(512))
    X8 = rng.standard_normal((256, 512))
    A8, Z8 = rng.standard_normal((256, 512)), rng.standard_normal((256, 1024))

    def ln_products():  # the six products of the gradient
        w1, w2 = P8[2], P8[4]
        return A8 @ w1, Z8 @ w2, Z8.T @ A8, A8 @ w2.T, A8.T @ Z8, Z8 @ w1.T

    g8 = xform.jit(xform.grad(ln_block_loss))
    for a, b in zip(g8(P8, X8), ln_block_numpy_grad(P8, X8)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-11)
    res = {"xform": t(lambda: g8(P8, X8)), "numpy": t(lambda: ln_block_numpy_grad(P8, X8)),
           "numpy BLAS": t(ln_products)}
    if jax:
        jg8 = jax.jit(jax.grad(lambda p, x: ln_block_loss(p, x, jnp)))
        Pj8, Xj8 = tuple(jnp.asarray(a) for a in P8), jnp.asarray(X8)
        res["jax"] = jax_t(lambda: jg8(Pj8, Xj8))
    rows.append(("8 grad layer-norm MLP block 256x512", res))

if want(9):
    RK4_STEPS, RK4_DT = 200, 0.01

    def rk4_loss(a, y0, np_=xnp, fori_loop=lax.fori_loop):
        def f(y):
            return np_.tanh(a @ y) - 0.1 * y

        def step(i, y):
            k1 = f(y)
            k2 = f(y + 0.5 * RK4_DT * k1)
            k3 = f(y + 0.5 * RK4_DT * k2)
            k4 = f(y + RK4_DT * k3)
            return y + (RK4_DT / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        return np_.sum(fori_loop(0, RK4_STEPS, step, y0) ** 2)

    def rk4_numpy_grad(a, y0):
        """Forward steps keeping the stage points, then the adjoint of each step."""
        stages, y = [], y0
        for _ in range(RK4_STEPS):
            s1 = y
            k1 = np.tanh(a @ s1) - 0.1 * s1
            s2 = y + 0.5 * RK4_DT * k1
            k2 = np.tanh(a @ s2) - 0.1 * s2
            s3 = y + 0.5 * RK4_DT * k2
            k3 = np.tanh(a @ s3) - 0.1 * s3
            s4 = y + RK4_DT * k3
            k4 = np.tanh(a @ s4) - 0.1 * s4
            stages.append((s1, k1, s2, k2, s3, k3, s4, k4))
            y = y + RK4_DT / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        gy, ga = 2.0 * y, np.zeros_like(a)

        def back(s, k, ck):
            th = k + 0.1 * s
            u = (1.0 - th * th) * ck
            ga[...] += np.outer(u, s)
            return a.T @ u - 0.1 * ck

        for s1, k1, s2, k2, s3, k3, s4, k4 in reversed(stages):
            c = RK4_DT / 6.0 * gy
            d4 = back(s4, k4, c)
            d3 = back(s3, k3, 2.0 * c + RK4_DT * d4)
            d2 = back(s2, k2, 2.0 * c + 0.5 * RK4_DT * d3)
            d1 = back(s1, k1, c + 0.5 * RK4_DT * d2)
            gy = gy + d1 + d2 + d3 + d4
        return ga

    A9, Y9 = rng.standard_normal((32, 32)) / np.sqrt(32), rng.standard_normal(32)
    g9 = xform.jit(xform.grad(rk4_loss))
    np.testing.assert_allclose(g9(A9, Y9), rk4_numpy_grad(A9, Y9), rtol=1e-8, atol=1e-11)
    res = {"xform": t(lambda: g9(A9, Y9)), "numpy": t(lambda: rk4_numpy_grad(A9, Y9))}
    if jax:
        jg9 = jax.jit(jax.grad(lambda a, y: rk4_loss(a, y, jnp, jax.lax.fori_loop)))
        Aj9, Yj9 = jnp.asarray(A9), jnp.asarray(Y9)
        res["jax"] = jax_t(lambda: jg9(Aj9, Yj9))
    rows.append(("9 grad RK4 fori_loop, 200 steps, n=32", res))

if want(10):
    T10, H10 = 1000, 64

    def rnn_loss(params, xs, h0, np_=xnp, scan=lax.scan):
        W, U, b = params

        def step(h, x):
            return np_.tanh(W @ h + U @ x + b), None

        return np_.sum(scan(step, h0, xs)[0])

    def rnn_numpy_grad(params, xs, h0):
        """Forward with the input products as one matrix product, then backpropagation
        through time."""
        W, U, b = params
        hs = np.empty((xs.shape[0] + 1, h0.shape[0]))
        hs[0] = h0
        pre = xs @ U.T + b
        for i in range(xs.shape[0]):
            hs[i + 1] = np.tanh(W @ hs[i] + pre[i])
        gh, ds = np.ones_like(h0), np.empty_like(pre)
        for i in range(xs.shape[0] - 1, -1, -1):
            ds[i] = (1.0 - hs[i + 1] ** 2) * gh
            gh = W.T @ ds[i]
        return ds.T @ hs[:-1], ds.T @ xs, ds.sum(0)

    P10 = (rng.standard_normal((H10, H10)) / np.sqrt(H10),
           rng.standard_normal((H10, H10)) / np.sqrt(H10), rng.standard_normal(H10) * 0.1)
    X10, H010 = rng.standard_normal((T10, H10)), np.zeros(H10)
    g10 = xform.jit(xform.grad(rnn_loss))
    for a, b in zip(g10(P10, X10, H010), rnn_numpy_grad(P10, X10, H010)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-11)
    res = {"xform": t(lambda: g10(P10, X10, H010)), "numpy": t(lambda: rnn_numpy_grad(P10, X10, H010))}
    if jax:
        jg10 = jax.jit(jax.grad(lambda p, x, h: rnn_loss(p, x, h, jnp, jax.lax.scan)))
        Pj10 = tuple(jnp.asarray(a) for a in P10)
        Xj10, Hj10 = jnp.asarray(X10), jnp.asarray(H010)
        res["jax"] = jax_t(lambda: jg10(Pj10, Xj10, Hj10))
    rows.append(("10 grad RNN scan, T=1000, H=64", res))

if want(11):
    T11, D11 = 1000, 64

    def rows_loss(xs, w, np_=xnp, lax_=lax):
        def step(i, c):
            return c + np_.tanh(lax_.dynamic_index_in_dim(xs, i, keepdims=False) * w)

        return np_.sum(lax_.fori_loop(0, xs.shape[0], step, np_.zeros(xs.shape[1])) ** 2)

    def rows_numpy_grad(xs, w):
        t_ = np.tanh(xs * w)
        gc = 2.0 * t_.sum(0)
        d = gc * (1.0 - t_ * t_)
        return d * w, (d * xs).sum(0)

    def fill_rows(x, np_=xnp, lax_=lax):
        return lax_.fori_loop(0, T11, lambda i, b: lax_.dynamic_update_slice(
            b, (x * i)[None], (i, 0)), np_.zeros((T11, x.shape[0])))

    X11, W11 = rng.standard_normal((T11, D11)), rng.standard_normal(D11)
    g11, f11 = xform.jit(xform.grad(rows_loss, argnums=(0, 1))), xform.jit(fill_rows)
    for a, b in zip(g11(X11, W11), rows_numpy_grad(X11, W11)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(f11(W11), np.arange(T11)[:, None] * W11, rtol=1e-15)
    res_g = {"xform": t(lambda: g11(X11, W11)), "numpy": t(lambda: rows_numpy_grad(X11, W11))}
    res_f = {"xform": t(lambda: f11(W11)), "numpy": t(lambda: np.arange(T11)[:, None] * W11)}
    if jax:
        jg11 = jax.jit(jax.grad(lambda x, w: rows_loss(x, w, jnp, jax.lax), argnums=(0, 1)))
        jf11 = jax.jit(lambda x: fill_rows(x, jnp, jax.lax))
        Xj11, Wj11 = jnp.asarray(X11), jnp.asarray(W11)
        res_g["jax"] = jax_t(lambda: jg11(Xj11, Wj11))
        res_f["jax"] = jax_t(lambda: jf11(Wj11))
    rows.append(("11a grad, rows read by index in fori_loop", res_g))
    rows.append(("11b fori_loop filling a buffer row by row", res_f))

print_table(f"xform jit benchmarks (medians of {'CPU' if CPU else 'wall'} time; numpy {np.__version__}"
            + (f", jax {jax.__version__}" if jax else "") + ")", rows)
if want(6):
    print(f"\n(import time in the fresh process: xform {imp_cold:.2f} s; numba import "
          f"{nb_import:.2f} s + numba initialization {nb_total - nb_import:.2f} s happen "
          f"inside xform's first call)")
