"""jit benchmarks: xform (Numba backend) vs hand-written numpy, JAX (x64, CPU) and
autograd (when installed). Prints a table of median times and ratios.

    python benchmarks/bench_jit.py            # all workloads
    python benchmarks/bench_jit.py --quick    # fewer repetitions

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
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import jax_t, load_jax, print_table, t  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402

jax, jnp = load_jax()

try:
    import autograd
    import autograd.numpy as anp
except Exception:  # pragma: no cover
    autograd = None


rows = []
rng = np.random.default_rng(0)

# -- 1. elementwise grad, n = 1e6 -------------------------------------------------------------


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

print_table(f"xform jit benchmarks (medians; numpy {np.__version__}"
            + (f", jax {jax.__version__}" if jax else "") + ")", rows)
print(f"\n(import time in the fresh process: xform {imp_cold:.2f} s; numba import "
      f"{nb_import:.2f} s + numba initialization {nb_total - nb_import:.2f} s happen "
      f"inside xform's first call)")
