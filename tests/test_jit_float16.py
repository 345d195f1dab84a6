"""float16 under jit (computed in float32, every result rounded to float16) and the
``lax.reduce_precision`` primitive that does the rounding.

References: numpy's own float16 casts and ufuncs (which compute in float32 and round
once), and for bfloat16-like formats an independent bit-level rounding of float32.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as xnp
from _tolerance import assert_within, gamma, rounded_tolerance, unit_roundoff
from xform import lax

RNG = np.random.default_rng(7)


def _hard_values(dtype):
    """Values spanning every float16 exponent (and beyond), with exact ties, the
    overflow and subnormal boundaries, signed zeros, inf and nan."""
    h = RNG.standard_normal(4000) * 2.0 ** RNG.integers(-24, 16, 4000)
    h = h[np.abs(h) <= 65504].astype(np.float16).astype(np.float64)
    ulp = np.spacing(np.abs(h).astype(np.float16)).astype(np.float64)
    ties = h + ulp / 2  # exactly halfway between two float16 numbers
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 65519.99, 65520.0, -65520.0,
               2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26, 2.0 ** -26, 2.0 ** -14,
               2.0 ** -14 - 2.0 ** -25, 1e-30, -1e-30, 1e30, 1e300, 0.1, 1 / 3]
    wide = RNG.standard_normal(3000) * 10.0 ** RNG.integers(-12, 8, 3000)
    with np.errstate(over="ignore"):
        return np.concatenate([h, ties, special, wide]).astype(dtype)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return (a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            and np.array_equal(np.signbit(a), np.signbit(b)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reduce_precision_is_numpys_float16_rounding(dtype):
    x = _hard_values(dtype)
    with np.errstate(over="ignore"):
        ref = x.astype(np.float16).astype(dtype)  # numpy rounds float64 -> float16 directly
    assert _same_bits(lax.reduce_precision(x, 5, 10), ref)
    assert _same_bits(xform.jit(lambda v: lax.reduce_precision(v, 5, 10))(x), ref)


def _bfloat16_reference(x32):
    """Round-to-nearest-even of float32 to its top 16 bits (bfloat16), on the bits."""
    u = x32.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x32), x32, r)


def test_reduce_precision_bfloat16_against_bit_rounding():
    x = _hard_values(np.float32)
    ref = _bfloat16_reference(x)
    assert _same_bits(lax.reduce_precision(x, 8, 7), ref)
    assert _same_bits(xform.jit(lambda v: lax.reduce_precision(v, 8, 7))(x), ref)


def test_reduce_precision_rules_and_errors():
    g = xform.grad(lambda x: lax.reduce_precision(3.0 * x, 5, 10))(0.1)
    assert float(g) == 3.0
    t = xform.jvp(lambda x: lax.reduce_precision(x, 5, 10), (0.1,), (0.1,))[1]
    assert float(t) == float(np.float16(0.1))
    v = xform.vmap(lambda x: lax.reduce_precision(x, 5, 10))(np.full(3, 0.1))
    assert _same_bits(v, np.full(3, float(np.float16(0.1))))
    with pytest.raises(TypeError, match="reduce_precision: mantissa_bits must be an int >= 0"):
        lax.reduce_precision(1.0, 5, -1)
    with pytest.raises(TypeError, match="reduce_precision: exponent_bits must be an int >= 1"):
        lax.reduce_precision(1.0, 2.5, 3)
    with pytest.raises(TypeError, match="reduce_precision: does not accept dtype int64"):
        lax.reduce_precision(np.arange(3), 5, 10)


# -- float16 programs under jit ------------------------------------------------------------


def _f16(*shape):
    x = RNG.standard_normal(shape) * 3
    return x.astype(np.float16)


def _arith(x, y):
    return [x + y, x - y, x * y, x / y, -x, xnp.abs(x), xnp.sqrt(xnp.abs(x)), x * x * x,
            xnp.maximum(x, y), xnp.where(x > y, x, y * 2), x > y, x == y,
            x.astype(np.float64) * 3.3, (x.astype(np.float64) * 3.3).astype(np.float16),
            (x * 1000).astype(np.int32), x[::-1, 1:] * np.float16(0.1), x.T + y.T,
            (y * 40000).astype(np.float16) * 2, xnp.arange(3000, dtype=np.float16)[-5:]]


_arith_jit = xform.jit(_arith)


def test_float16_elementwise_is_numpys_bit_for_bit():
    """+, -, *, /, sqrt, casts and moves give numpy's float16 results exactly, including
    overflow to inf, subnormals and nan."""
    x, y = _f16(6, 7), _f16(6, 7)
    x[0, :3] = [np.inf, np.nan, 6e-8]  # inf, nan, a subnormal
    y[0, 3] = 0.0
    with np.errstate(all="ignore"):
        expected = _arith(x, y)
        actual = _arith_jit(x, y)
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert _same_bits(a, e), (i, a, e)


_transcendental_jit = xform.jit(lambda x: [xnp.exp(x), xnp.log(xnp.abs(x)), xnp.sin(x),
                                           xnp.cos(x), xnp.tanh(x), xnp.arctan(x)])


@pytest.mark.codegen_portable
def test_float16_transcendentals_within_one_ulp():
    """Computed in float32 (a few float32 ulps = ~2**-13 float16 ulps) and rounded once,
    each result is within 1/2 + 2**-12 float16 ulp of the exact value, so at most one
    ulp from the correctly rounded one (float64 function rounded to float16). numpy's
    own float16 functions are not the reference: with AVX512-FP16 (Sapphire Rapids)
    they use other kernels whose last bit may differ."""
    x = _f16(500)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        expected = [np.exp(x64), np.log(np.abs(x64)), np.sin(x64), np.cos(x64), np.tanh(x64),
                    np.arctan(x64)]
        for a, e in zip(_transcendental_jit(x), expected):
            e = e.astype(np.float16)
            assert a.dtype == np.float16
            fin = np.isfinite(e)
            assert np.array_equal(np.isfinite(a), fin)
            assert np.array_equal(a[~fin], e[~fin])
            ulps = np.abs(a[fin].astype(np.float64) - e[fin]) / np.spacing(np.abs(e[fin]))
            assert ulps.max() <= 1


@pytest.mark.codegen_portable
def test_float16_reductions_matmul_and_grad():
    x, w = _f16(16, 8), _f16(8, 3)

    def loss(w, x):
        return xnp.mean(xnp.tanh(x @ w) ** 2)

    f = xform.jit(lambda x, w: (xnp.sum(x, axis=0), xnp.max(x, axis=1), x @ w,
                                xnp.cumsum(x[:, 0]), loss(w, x)))
    got = f(x, w)
    for a, e in zip(got, (x.sum(axis=0), x.max(axis=1), x @ w, np.cumsum(x[:, 0]), loss(w, x))):
        assert a.dtype == np.float16 == np.asarray(e).dtype
    # Against float64 references, not numpy's float16 results (numpy accumulates float16
    # sums in float16 in an order that depends on the memory layout): the jitted sums
    # accumulate in float32 and round once (xform/backend/numba/float16.py), so each is
    # within u16 |exact| + gamma_f32(k) (sum of |terms|) (tests/_tolerance.py).
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    ax, aw = np.abs(x64), np.abs(w64)
    for a, ref, mag, k in ((got[0], x64.sum(0), ax.sum(0), 16), (got[2], x64 @ w64, ax @ aw, 8),
                           (got[3], np.cumsum(x64[:, 0]), np.cumsum(ax[:, 0]), 16)):
        assert_within(a, ref, rounded_tolerance(k, mag, ref, np.float32, np.float16))
    np.testing.assert_array_equal(got[1], x.max(axis=1))  # max is exact
    # The loss, by propagating those bounds through each float16 result: y = x @ w
    # (above); t = tanh(y): |tanh'| <= sech(|y| - e_y)**2 on the interval, tanh in float32
    # (a few float32 ulps) rounded to float16; the square, rounded; the mean (float32 sum
    # of 48 terms, one division, one rounding).
    u16, u32 = unit_roundoff(np.float16), unit_roundoff(np.float32)
    y = x64 @ w64
    t = np.tanh(y)
    e_y = rounded_tolerance(8, ax @ aw, y, np.float32, np.float16)
    e_t = e_y / np.cosh(np.maximum(np.abs(y) - e_y, 0)) ** 2 + u16 * (np.abs(t) + e_y) + 4 * u32
    e_s = 2 * np.abs(t) * e_t + e_t ** 2
    e_s = e_s + u16 * (t ** 2 + e_s)
    ref = np.mean(t ** 2)
    e_loss = np.mean(e_s) + gamma(48 + 1, np.float32) * np.mean(t ** 2 + e_s) + u16 * (ref + np.mean(e_s))
    assert_within(got[4], ref, e_loss)
    g = xform.jit(xform.grad(loss))(w, x)
    g_ref = xform.grad(lambda w: loss(w.astype(np.float64), x.astype(np.float64)))(
        w.astype(np.float64))
    assert g.dtype == np.float16
    np.testing.assert_allclose(g.astype(np.float64), g_ref, rtol=2e-2, atol=2e-3)


def test_float16_control_flow_scalars_and_constants():
    x = _f16(5)
    c = _f16(5)  # a float16 constant captured by the program

    def f(x, s):
        def body(i, carry):
            return carry * np.float16(1.1) + c

        y = lax.fori_loop(0, 4, body, x)
        z, ys = lax.scan(lambda k, r: (k + r * r, k), np.float16(0), y)
        w = lax.cond(s > 0, lambda v: v * s, lambda v: v - s, y)
        return y, z, ys, w, s * np.float16(3)

    s = np.float16(0.7)
    actual = xform.jit(f)(x, s)
    expected = f(x, s)
    for a, e in zip(actual, expected):
        assert _same_bits(a, e), (a, e)
    assert np.ndim(actual[1]) == 0 and np.asarray(actual[1]).dtype == np.float16


def test_float16_vmap_and_tiered():
    x = _f16(4, 5)
    vm = xform.jit(xform.vmap(lambda v: v * v[0] + np.float16(1)))
    assert _same_bits(vm(x), x * x[:, :1] + np.float16(1))
    tiered = xform.jit(lambda v: v / np.float16(3) + v, tiered=True)
    first = tiered(x)
    xform.wait_for_compilations()
    assert _same_bits(first, x / np.float16(3) + x)
    assert _same_bits(tiered(x), first)


def test_float16_lowered_source_computes_in_float32():
    src = xform.jit(lambda v: v * np.float16(2) + v).lower(np.ones(3, np.float16)).source
    assert "round_precision(" in src and "float16" not in src.split("def kernel")[1]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), min_size=12, max_size=12).map(  # any bit pattern;
           lambda b: np.array(b, np.uint16).view(np.float16)),  # one shape: one compile
       st.floats(min_value=-100, max_value=100).map(np.float16))
def test_float16_arithmetic_property(x, s):
    with np.errstate(all="ignore"):
        expected = [x * s + x, x / s - s, xnp.sqrt(x * x)]
        actual = _property_jit(x, s)
    for a, e in zip(actual, expected):
        assert _same_bits(a, e), (x, s, a, e)


_property_jit = xform.jit(lambda x, s: [x * s + x, x / s - s, xnp.sqrt(x * x)])


@pytest.mark.parametrize("fmt", [(8, 23), (6, 20), (5, 30), (12, 60), (20, 2000)])
def test_reduce_precision_to_a_wider_format_changes_nothing(fmt):
    x = (RNG.standard_normal(200) * 100).astype(np.float16)
    assert _same_bits(lax.reduce_precision(x, *fmt), x)
    assert _same_bits(xform.jit(lambda v: lax.reduce_precision(v, *fmt))(x), x)
    y = RNG.standard_normal(50).astype(np.float32)
    assert _same_bits(lax.reduce_precision(y, 8, 200), y)
