"""Threads: jitted programs under xform's thread policies, on an idle machine and with
one busy background process, against eager (uncompiled xform, hand-written numpy) and
JAX jit in the same run. Prints median times and ratios (docs/performance.md,
"Threads").

    python benchmarks/bench_threads.py            # both conditions
    python benchmarks/bench_threads.py --quick    # fewer repetitions

Policies (switched at run time on the same compiled kernels, through xform.config):

- default: ``xform_num_threads`` and ``xform_blas_num_threads`` unset (xform's policy:
  BLAS single-threaded for small calls and inside parallel regions, both counts capped
  by the cores other processes leave free);
- all: every parallel loop and BLAS call on all cores (Numba's and OpenBLAS's own
  defaults, what xform did before the policy);
- single: one thread for both.

Conditions: "idle" (nothing started by this script; other users of the machine are not
controlled: the load average is printed) and "busy" (this script runs one
``python -c "while True: pass"`` in the background).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import QUICK, fmt_time, load_jax, median_time  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402
from xform import config  # noqa: E402

jax, jnp = load_jax()
ROUNDS = 2 if QUICK else 3
MIN_TIME = 0.05 if QUICK else 0.15
rng = np.random.default_rng(0)

# -- programs: (name, xform function, args, numpy function or None, jax function or None) --


def ew(x, np_=xnp):
    return np_.tanh(x) * np_.sin(x) + np_.exp(-x * x)


def rowsum(x, np_=xnp):
    return np_.sum(np_.exp(-x * x) * x, axis=1)


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
    dh = (d @ w2.T) * (1 - h * h)
    return x.T @ dh, dh.sum(0), h.T @ d, d.sum(0)


A = rng.standard_normal((200, 200)) / 14


def tanh_ax(x, np_=xnp, a=A):
    return np_.tanh(a @ x) * x


def jac_numpy(x):
    t = np.tanh(A @ x)
    return (1 - t * t)[:, None] * A * x[:, None] + np.diag(t)


def small_mm(a, b, np_=xnp):
    return np_.tanh(np_.tanh(a @ b) @ b) @ b


def matmul(a, b):
    return a @ b


m128, m512 = rng.standard_normal((128, 128)), rng.standard_normal((512, 512))
x_ew = rng.standard_normal(1 << 22)
x_rows = rng.standard_normal((2048, 1024))
params = (rng.standard_normal((784, 256)) * 0.05, np.zeros(256),
          rng.standard_normal((256, 10)) * 0.05, np.zeros(10))
xb, yb = rng.standard_normal((128, 784)), np.eye(10)[rng.integers(0, 10, 128)]
x_jac = rng.standard_normal(200)
a_s, b_s = rng.standard_normal((32, 32)), rng.standard_normal((32, 32)) / 6

PROGRAMS = [
    ("elementwise map, n=2^22", ew, (x_ew,), lambda: ew(x_ew, np), "ew"),
    ("row reduction 2048x1024", rowsum, (x_rows,), lambda: rowsum(x_rows, np), "rowsum"),
    ("grad MLP 128x784-256-10", xform.grad(mlp_loss), (params, xb, yb),
     lambda: mlp_numpy_grad(params, xb, yb), "mlp"),
    ("jacrev tanh(A@x)*x, n=200", xform.jacrev(tanh_ax), (x_jac,), lambda: jac_numpy(x_jac), "jac"),
    ("3 small matmuls 32x32", small_mm, (a_s, b_s), lambda: small_mm(a_s, b_s, np), "small"),
    ("matmul 128x128 (2^21 madds)", matmul, (m128, m128), lambda: m128 @ m128, "mm128"),
    ("matmul 512x512 (2^27 madds)", matmul, (m512, m512), lambda: m512 @ m512, "mm512"),
]


def jax_programs():
    if jax is None:
        return {}
    aj = jnp.asarray(A)
    fns = {
        "ew": (jax.jit(lambda x: ew(x, jnp)), (x_ew,)),
        "rowsum": (jax.jit(lambda x: rowsum(x, jnp)), (x_rows,)),
        "mlp": (jax.jit(jax.grad(lambda p, x, y: mlp_loss(p, x, y, jnp))), (params, xb, yb)),
        "jac": (jax.jit(jax.jacrev(lambda x: tanh_ax(x, jnp, aj))), (x_jac,)),
        "small": (jax.jit(lambda a, b: small_mm(a, b, jnp)), (a_s, b_s)),
        "mm128": (jax.jit(matmul), (m128, m128)),
        "mm512": (jax.jit(matmul), (m512, m512)),
    }
    out = {}
    for k, (f, args) in fns.items():
        jargs = jax.tree_util.tree_map(jnp.asarray, args)
        out[k] = (lambda f=f, jargs=jargs: jax.block_until_ready(f(*jargs)))
    return out


POLICIES = {
    "default": {"xform_num_threads": None, "xform_blas_num_threads": None,
                "xform_blas_min_work": None},
    "all": {"xform_num_threads": config.numba_pool_size(), "xform_blas_num_threads": config._cores(),
            "xform_blas_min_work": 0},
    "single": {"xform_num_threads": 1, "xform_blas_num_threads": 1, "xform_blas_min_work": None},
}


def set_policy(name):
    for k, v in POLICIES[name].items():
        config.update(k, v)


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def measure(jitted, jaxf):
    """{(program, impl): median seconds}, policies and references interleaved by round."""
    res: dict = {}
    for _ in range(ROUNDS):
        for _name, f, args, np_f, key in PROGRAMS:
            for pol in POLICIES:
                set_policy(pol)
                res.setdefault((key, pol), []).append(
                    median_time(lambda: jitted[key](*args), repeat=3, min_time=MIN_TIME))
            set_policy("default")
            res.setdefault((key, "eager"), []).append(
                median_time(lambda: f(*args), repeat=3, min_time=MIN_TIME))
            res.setdefault((key, "numpy"), []).append(
                median_time(np_f, repeat=3, min_time=MIN_TIME))
            if key in jaxf:
                res.setdefault((key, "jax"), []).append(
                    median_time(jaxf[key], repeat=3, min_time=MIN_TIME))
    return {k: statistics.median(v) for k, v in res.items()}


def print_condition(title, r):
    impls = ["default", "all", "single", "eager", "numpy"] + (["jax"] if jax else [])
    head = f"{'program':<28}" + "".join(f"{k:>11}" for k in impls)
    ratios = ["default/eager", "default/numpy", "default/all", "default/single"]
    if jax:
        ratios.append("default/jax")
    ratios += ["all/eager", "single/eager"]
    print(f"\n{title}")
    print(head + "".join(f"{k:>15}" for k in ratios))
    print("-" * (len(head) + 15 * len(ratios)))
    for name, _, _, _, key in PROGRAMS:
        line = f"{name:<28}" + "".join(f"{fmt_time(r.get((key, k))):>11}" for k in impls)
        for rk in ratios:
            a, b = rk.split("/")
            x, y = r.get((key, a)), r.get((key, b))
            line += f"{x / y:>15.2f}" if x and y else f"{'-':>15}"
        print(line)


def main():
    from xform.backend.numba import threads

    jitted = {key: xform.jit(f) for _, f, _, _, key in PROGRAMS}
    for _name, _f, args, np_f, key in PROGRAMS:  # compile (default policy) and check
        set_policy("default")
        out = jitted[key](*args)
        ref = np_f()
        for o, e in zip(out if isinstance(out, tuple) else (out,),
                        ref if isinstance(ref, tuple) else (ref,)):
            np.testing.assert_allclose(np.asarray(o), e, rtol=1e-8, atol=1e-10)
    jaxf = jax_programs()
    for f in jaxf.values():
        f()
    info = threads.info()
    print(f"cores: {config._cores()}, Numba pool: {info['numba_pool']}, threading layer: "
          f"{info['threading_layer']}, BLAS of kernels: {info['blas'].get('filepath', '?')} "
          f"({info['blas'].get('internal_api')}, {info['blas'].get('threading_layer')}, "
          f"{info['blas'].get('num_threads')} threads)")
    print(f"jax: {jax.__version__ if jax else 'not installed'}; "
          f"XFORM_THREAD_GOVERNOR={os.environ.get('XFORM_THREAD_GOVERNOR', '1')}")
    for cond in ("idle", "busy"):
        bg = None
        if cond == "busy":
            bg = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(2.0)  # the governor samples every 0.5 s
            before = load()
            t0 = time.monotonic()
            r = measure(jitted, jaxf)
            cap = int(threads.STATE[threads.CAP])
            print_condition(f"== {cond}: {before} at start, {load()} at end, "
                            f"{time.monotonic() - t0:.0f} s; governor cap at end: {cap or '-'}", r)
        finally:
            if bg is not None:
                bg.kill()
                bg.wait()
    set_policy("default")


if __name__ == "__main__":
    main()
