"""A short tour of xform: ``python -m xform``."""
from __future__ import annotations

import time

import numpy as np

import xform
import xform.numpy as xnp


def f(x):
    return xnp.tanh(x) * xnp.sin(x)


def main() -> None:
    print("xform", xform.__version__, "- composable transformations of numpy code\n")
    x = np.linspace(-1.0, 1.0, 4)
    print("f(x) = tanh(x) * sin(x);  make_jaxpr(f)(x):")
    print(xform.make_jaxpr(f)(x))
    print("\nderivatives at 0.5:")
    d1 = xform.grad(f)
    d2 = xform.grad(d1)
    d3 = xform.grad(d2)
    print(f"  f'(0.5)   = {d1(0.5):+.12f}")
    print(f"  f''(0.5)  = {d2(0.5):+.12f}")
    print(f"  f'''(0.5) = {d3(0.5):+.12f}")
    print("\nmake_jaxpr(grad(f))(0.5):")
    print(xform.make_jaxpr(d1)(0.5))
    print("\nper-example gradients with vmap(grad(...)):")
    w = np.array([0.5, -0.25, 1.0])
    xs = np.arange(6.0).reshape(2, 3)

    def loss(w, x):
        return xnp.sum(xnp.tanh(w * x) ** 2)

    print(xform.vmap(xform.grad(loss), in_axes=(None, 0))(w, xs))
    print("\nHessian of sum(sin(x) * x) at x = [0, 1]:")
    print(xform.hessian(lambda v: xnp.sum(xnp.sin(v) * v))(np.array([0.0, 1.0])))
    n = 1_000_000
    big = np.random.default_rng(0).standard_normal(n)

    def objective(v):
        return xnp.sum(xnp.tanh(v) * xnp.sin(v) + xnp.exp(-v * v))

    g = xform.jit(xform.grad(objective))
    t0 = time.perf_counter()
    g(big)
    t1 = time.perf_counter()
    reps = 10
    for _ in range(reps):
        g(big)
    t2 = time.perf_counter()
    print(f"\njit(grad(objective)) on {n:,} elements: first call (trace + compile) "
          f"{t1 - t0:.2f} s, then {(t2 - t1) / reps * 1e3:.2f} ms per call")

    tiered = xform.jit(xform.grad(lambda v: xnp.sum(xnp.cos(v) * v)), tiered=True)
    t0 = time.perf_counter()
    tiered(big)
    t1 = time.perf_counter()
    xform.wait_for_compilations()
    t2 = time.perf_counter()
    print(f"jit(grad(...), tiered=True): first result after {(t1 - t0) * 1e3:.0f} ms "
          f"(computed uncompiled), kernel compiled in the background after {t2 - t0:.2f} s")


if __name__ == "__main__":
    main()
