"""Jitted results whose last bits depend on the machine (issue 19), checked against
float64 / long double references within error bounds (tests/_tolerance.py):

- reductions of at least FASTMATH_MIN_SIZE (2**14) elements run in fast-math loops
  (reassociated: vectorized partial sums, so the summation order follows the SIMD
  width Numba compiles for, 512-bit vectors on AVX-512 targets);
- products under jit call scipy's BLAS, whose kernel depends on the CPU;
- elementwise math of large arrays uses the vectorized functions of vector_math.py and
  the fast sin/cos reduction, and arrays of at least PARALLEL_MIN_SIZE (2**18 here)
  run in parallel (prange) loops, split by the thread count.

Marked ``codegen_portable``: .ci/run repeats them under NUMBA_CPU_NAME=generic.
"""
from __future__ import annotations

import numpy as np
import pytest
from _tolerance import assert_within, gamma, mean_of, sum_of_products, unit_roundoff, variance

import xform
import xform.numpy as xnp

pytestmark = pytest.mark.codegen_portable

RNG = np.random.default_rng(19)
U32, U64 = unit_roundoff(np.float32), unit_roundoff(np.float64)


def _reductions(x, y):
    return [xnp.sum(x), xnp.sum(x, axis=0), xnp.sum(x, axis=1), xnp.sum(x * y),
            xnp.mean(x, axis=0), xnp.var(x), xnp.max(x, axis=1)]


_reductions_jit = xform.jit(_reductions)


def test_large_float64_reductions_within_summation_bounds():
    x = RNG.standard_normal((256, 300))
    y = RNG.standard_normal((256, 300))
    s, s0, s1, sxy, m0, v, mx = _reductions_jit(x, y)
    # any summation order of n terms: |error| <= gamma(n) sum|x_i| (+ the reference's)
    assert_within(s, *sum_of_products(np.sum, (x,), {}, np.float64))
    assert_within(s0, *sum_of_products(lambda a: np.sum(a, axis=0), (x,), {}, np.float64))
    assert_within(s1, *sum_of_products(lambda a: np.sum(a, axis=1), (x,), {}, np.float64))
    assert_within(m0, *mean_of(np.mean, lambda args, kw: x.shape[0])(None, (x,), {"axis": 0},
                                                                       np.float64))
    assert_within(sxy, *sum_of_products(lambda a, b: np.sum(a * b), (x, y), {}, np.float64))
    assert_within(v, *variance(x))
    np.testing.assert_array_equal(mx, x.max(axis=1))  # exact in any order


def test_large_float32_reductions_accumulate_in_float64():
    """float32 sums accumulate in float64 (xform/backend/numba/fusion.py) and round once:
    within u32 |exact| + gamma_f64(n) sum|terms| (+ u32 sum|x y| for the float32
    products of x * y), much tighter than a float32 summation (gamma_f32(76800) ~ 5e-3
    relative to sum|x| would accept nearly anything)."""
    x = RNG.standard_normal((256, 300)).astype(np.float32)
    y = RNG.standard_normal((256, 300)).astype(np.float32)
    s, s0, s1, sxy, m0, v, mx = _reductions_jit(x, y)
    assert all(r.dtype == np.float32 for r in (s, s0, s1, sxy, m0, v, mx))
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    ax = np.abs(x64)

    def bound(ref, mag, n, per_term=0):
        # per_term float32 roundings of each term, n float64 accumulations, one
        # rounding to float32, and the float64 reference's own gamma_f64(n)
        return (U32 * np.abs(ref) + (1 + U32) * (gamma(per_term, np.float32) + gamma(n, np.float64)) * mag
                + gamma(n, np.float64) * mag)

    n0, n1 = x.shape
    assert_within(s, x64.sum(), bound(x64.sum(), ax.sum(), x.size))
    assert_within(s0, x64.sum(0), bound(x64.sum(0), ax.sum(0), n0))
    assert_within(s1, x64.sum(1), bound(x64.sum(1), ax.sum(1), n1))
    assert_within(sxy, (x64 * y64).sum(), bound((x64 * y64).sum(), (ax * np.abs(y64)).sum(), x.size, 1))
    # mean: the float64 sum divided (one more rounding, in float64 or float32)
    assert_within(m0, x64.mean(0), bound(x64.mean(0), ax.mean(0), n0 + 1, 1))
    # var: m = float32(sum / n); d = x - m and d * d in float32 (3 roundings per term, see
    # tests/_tolerance.variance); the sum in float64; the division; plus the shift
    # n delta**2 / n from the error delta of m (two float32 roundings of the mean, and
    # gamma_f64(n + 1) mean|x| on each side)
    ref_v = x64.var()
    delta = 2 * U32 * abs(x64.mean()) + 2 * gamma(x.size + 1, np.float64) * ax.mean()
    assert_within(v, ref_v, bound(ref_v + delta ** 2, ref_v + delta ** 2, x.size + 1, 4) + delta ** 2)
    np.testing.assert_array_equal(mx, x.max(axis=1))


def test_jitted_float32_matmul_within_dot_bound():
    a = RNG.uniform(-1, 1, (64, 512)).astype(np.float32)
    b = RNG.uniform(-1, 1, (512, 24)).astype(np.float32)
    got = xform.jit(lambda a, b: a @ b)(a, b)
    assert got.dtype == np.float32
    # |fl(a @ b) - a @ b| <= gamma_f32(512) (|a| @ |b|) for any BLAS kernel
    assert_within(got, *sum_of_products(np.matmul, (a, b), {}, np.float32))


# ulp bounds of xform's vector math against the exact value (measured maxima 0.76 to
# 1.38 ulp, see tests/test_numba_math.py::test_accuracy_vs_long_double); libm and
# numpy's SIMD kernels are within 4 ulp of it, which is the bound without long double.
_ULP = {"exp": 1.5, "log": 1.5, "tanh": 2.0, "sin": 1.5, "cos": 1.5}
_HAVE_LD = np.finfo(np.longdouble).nmant >= 63


def _math(x):
    return [xnp.exp(x * 0.1), xnp.log(xnp.abs(x) + 1e-3), xnp.tanh(x), xnp.sin(x), xnp.cos(x)]


@pytest.fixture(autouse=True)
def _parallel_from_2_18(monkeypatch):
    # these tests exercise the parallel (prange) path at 2**18-2**19 elements, below the
    # default XFORM_PARALLEL_MIN_SIZE (2**20); the setting is read when compiling
    monkeypatch.setenv("XFORM_PARALLEL_MIN_SIZE", str(1 << 18))


def test_large_jitted_elementwise_math_within_ulp_bounds():
    n = 1 << 18  # the parallel (prange) path, fast sin/cos blocks, vector math
    x = RNG.standard_normal(n) * 20.0
    got = xform.jit(_math)(x)
    # the arguments as the kernel computes them (x * 0.1 and |x| + 1e-3 round alike)
    args = [x * 0.1, np.abs(x) + 1e-3, x, x, x]
    for (name, ulps), g, a in zip(_ULP.items(), got, args):
        fn = getattr(np, name)
        if _HAVE_LD:
            ref = fn(a.astype(np.longdouble))
            bound = ulps
        else:  # pragma: no cover - no extended precision: numpy's float64 function
            ref, bound = fn(a), ulps + 4
        err = np.abs(g.astype(np.longdouble) - ref) / np.spacing(np.abs(ref.astype(np.float64)))
        assert float(err.max()) <= bound, (name, float(err.max()), x[int(np.argmax(err))])
