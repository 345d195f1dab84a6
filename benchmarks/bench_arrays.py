"""The cost of returning ``xform.Array`` (docs/arrays.md): A/B in one process.

``plain`` re-creates the old code path (results as plain ndarrays: ``to_output``
without the view, no ``plain_leaves`` on arguments, the unwrapped ``xform.numpy``
functions, the raw kernel as ``jit``'s fast path); ``Array`` is the current code.
The two are measured in alternating rounds (CPU time, so that other processes disturb
less); the table shows the median over rounds of each round's best time.

    python benchmarks/bench_arrays.py [--quick]
"""
from __future__ import annotations

import statistics
import sys
import time
import timeit

import numpy as np

import xform
import xform.numpy as xnp
from xform.core.trace import Tracer

ad = sys.modules["xform.ad"]
jit_mod = sys.modules["xform.jit"]
ROUNDS = 3 if "--quick" in sys.argv else 9


def _plain_to_output(x):
    if isinstance(x, Tracer):
        return x
    if isinstance(x, np.ndarray):
        return x[()] if x.ndim == 0 else x
    if isinstance(x, (np.generic,)):
        return x
    if isinstance(x, (bool, int, float, complex)):
        return np.asarray(x)[()]
    return x


_ARRAY = {"to_output": ad.to_output, "plain_leaves": ad.plain_leaves,
          "tanh": xnp.tanh, "sin": xnp.sin, "mean": xnp.mean}
_PLAIN = {"to_output": _plain_to_output, "plain_leaves": lambda leaves: leaves,
          "tanh": xnp.tanh.__wrapped__, "sin": xnp.sin.__wrapped__,
          "mean": xnp.mean.__wrapped__}
F: dict = {}


def _use(variant: dict) -> None:
    ad.to_output = variant["to_output"]
    ad.plain_leaves = variant["plain_leaves"]
    F.update(variant)


def f(x):
    return F["tanh"](x) * F["sin"](x)


def loss(w, x, y):
    return F["mean"]((F["tanh"](x @ w) - y) ** 2)


def main() -> None:
    rng = np.random.default_rng(0)
    x, y, w = rng.random((8, 3)), rng.random(8), np.zeros(3)
    w_array = xnp.asarray(w)
    g3 = xform.grad(xform.grad(xform.grad(f)))
    gl = xform.grad(loss)
    _use(_ARRAY)
    jl = xform.jit(lambda w, x, y: xnp.tanh(x @ w) - y)
    jl(w, x, y)
    jl(w, x, y)
    key = jit_mod._fast_key((w, x, y))
    fast_array = jl._fast[key]
    raw = next(iter(jl._cache.values())).jaxpr.cache["compiled"].raw
    cases = {
        "grad(grad(grad(f)))(0.5), scalar": (lambda: g3(0.5), 200),
        "grad(loss)(w, x, y), ndarray w": (lambda: gl(w, x, y), 500),
        "grad(loss)(w, x, y), Array w": (lambda: gl(w_array, x, y), 500),
        "xnp.sin(w), eager, 3 elements": (lambda: F["sin"](w), 20000),
        "jit fast path, 3 arguments": (lambda: jl(w, x, y), 20000),
    }
    times: dict = {name: {"plain": [], "Array": []} for name in cases}
    for _ in range(ROUNDS):
        for label, variant, fast in (("plain", _PLAIN, raw), ("Array", _ARRAY, fast_array)):
            _use(variant)
            jl._fast[key] = fast
            for name, (fn, n) in cases.items():
                best = min(timeit.repeat(fn, number=n, repeat=3, timer=time.process_time))
                times[name][label].append(best / n)
    _use(_ARRAY)
    jl._fast[key] = fast_array
    print(f"{'workload':<36}{'plain ndarray':>15}{'xform.Array':>14}{'overhead':>11}")
    for name, t in times.items():
        p, a = statistics.median(t["plain"]), statistics.median(t["Array"])
        print(f"{name:<36}{p * 1e6:>12.2f} us{a * 1e6:>11.2f} us{(a - p) / p * 100:>+10.1f}%")


if __name__ == "__main__":
    main()
