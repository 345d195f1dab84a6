"""Benchmark xform's vectorizable numba math against libm calls and numpy.

For each function, time a numba loop over 1e6 float64 calling the
``numba_math`` implementation, the same loop calling ``math.*`` (scalar libm,
never vectorized without SVML), and the numpy ufunc.  Also reports whether the
loop body was vectorized (packed ymm/zmm arithmetic in the assembly) and the
same loop compiled with ``fastmath=FASTMATH``.

Run: ``python benchmarks/bench_numba_math.py [n]``
"""

import math
import os
import re
import sys
import time

# Allow running as a plain script from a source checkout.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from xform.backend.numba.vector_math import FASTMATH, VECTOR_MATH  # noqa: E402


def _loop(f, fastmath=False):
    @numba.njit(fastmath=fastmath, error_model="numpy")
    def kernel(a, out):
        for i in range(a.size):
            out[i] = f(a[i])

    return kernel


@numba.njit(inline="never")
def _math_logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


_LIBM = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
}

_NUMPY = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
}


def _inputs(name, n, rng):
    lo, hi = {
        "exp": (-50.0, 50.0),
        "log": (1e-3, 1e3),
        "tanh": (-5.0, 5.0),
        "sin": (-100.0, 100.0),
        "cos": (-100.0, 100.0),
        "logistic": (-20.0, 20.0),
    }[name]
    return rng.uniform(lo, hi, n)


def _best(fn, repeat=15):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _vectorized(kernel):
    """True if the compiled loop uses packed double arithmetic on ymm/zmm."""
    asm = "\n".join(kernel.inspect_asm().values())
    return bool(re.search(r"\bv(fmadd|fmsub|fnmadd|mul|add|sub)\w*pd\s+%?[yz]mm", asm))


def main(n=1_000_000):
    rng = np.random.default_rng(0)
    header = (
        f"{'func':9s} {'xform ms':>9s} {'fm ms':>7s} {'libm ms':>8s} "
        f"{'numpy ms':>9s} {'libm/xform':>10s} {'numpy/xform':>11s} {'vec':>4s}"
    )
    print(f"n = {n}, numba {numba.__version__}, numpy {np.__version__}")
    print(header)
    print("-" * len(header))
    for name, vf in VECTOR_MATH.items():
        a = _inputs(name, n, rng)
        out = np.empty_like(a)
        kx = _loop(vf)
        kf = _loop(vf, fastmath=FASTMATH)
        kl = _loop(_LIBM.get(name, _math_logistic))
        for k in (kx, kf, kl):
            k(a, out)  # compile
        tx = _best(lambda: kx(a, out))
        tf = _best(lambda: kf(a, out))
        tl = _best(lambda: kl(a, out))
        tn = _best(lambda: _NUMPY[name](a))
        vec = "yes" if _vectorized(kx) and _vectorized(kf) else "NO"
        print(
            f"{name:9s} {tx * 1e3:9.3f} {tf * 1e3:7.3f} {tl * 1e3:8.3f} "
            f"{tn * 1e3:9.3f} {tl / tx:10.2f} {tn / tx:11.2f} {vec:>4s}"
        )


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000)
