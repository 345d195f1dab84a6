"""Eager (no jit) autodiff overhead: grad(grad(grad(f)))(0.5), f = tanh(x) * sin(x).

Run: ``python benchmarks/bench_ad.py``. Compares xform with autograd and JAX (eager,
x64) when they are installed, and with the closed-form third derivative in numpy.
Also prints how many primitive binds one xform call performs (every operation of every
interpreter level is a ``Primitive.bind``), the structural measure of eager overhead.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _harness import median_time, print_table  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402
from xform.core.primitive import Primitive  # noqa: E402


def count_binds(fn) -> int:
    """Number of ``Primitive.bind`` calls (all interpreter levels) during ``fn()``."""
    n = [0]
    orig = Primitive.bind

    def bind(self, *args, **params):
        n[0] += 1
        return orig(self, *args, **params)

    Primitive.bind = bind
    try:
        fn()
    finally:
        Primitive.bind = orig
    return n[0]


def main() -> None:
    rows = []
    binds = []

    def f(x):
        return xnp.tanh(x) * xnp.sin(x)

    g3 = xform.grad(xform.grad(xform.grad(f)))
    times = {"xform": median_time(lambda: g3(0.5))}
    try:
        import autograd
        import autograd.numpy as anp

        ag3 = autograd.grad(autograd.grad(autograd.grad(lambda x: anp.tanh(x) * anp.sin(x))))
        assert abs(ag3(0.5) - g3(0.5)) < 1e-12
        times["autograd"] = median_time(lambda: ag3(0.5))
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        jg3 = jax.grad(jax.grad(jax.grad(lambda x: jnp.tanh(x) * jnp.sin(x))))
        assert abs(float(jg3(0.5)) - g3(0.5)) < 1e-12
        times["jax (eager)"] = median_time(lambda: jg3(0.5))
    except ImportError:
        pass
    rows.append(("grad(grad(grad(tanh(x)*sin(x))))(0.5)", times))
    binds.append(("grad(grad(grad(f)))", count_binds(lambda: g3(0.5))))

    def loss(w):
        return xnp.sum(xnp.tanh(w) ** 2)

    w = np.linspace(-1, 1, 100)
    gl = xform.grad(loss)
    times = {"xform": median_time(lambda: gl(w))}
    try:
        import autograd
        import autograd.numpy as anp

        agl = autograd.grad(lambda w: anp.sum(anp.tanh(w) ** 2))
        times["autograd"] = median_time(lambda: agl(w))
    except ImportError:
        pass
    rows.append(("grad(sum(tanh(w)**2)), w: 100 elements", times))
    binds.append(("grad(sum(tanh(w)**2))", count_binds(lambda: gl(w))))
    print_table("Eager autodiff (per call, median)", rows)
    print("xform binds per call: " + ", ".join(f"{name}: {n}" for name, n in binds))


if __name__ == "__main__":
    main()
