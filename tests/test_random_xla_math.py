"""The functions xform.random rounds as JAX computes them on CPU: float64 ``fma``,
``log1p``, ``exp``, ``erf_inv`` (``xform/lax/random_math64.py``), float32 ``exp``
(``random_math.py``) and the C library's ``log``, ``erf``, ``tan``, ``pow``
(``random_libm.py``).

Checked without JAX: the fused multiply-add against exact rationals, the functions'
accuracy against mpmath/numpy (with XLA's known weak spots as the bounds), special
values, the Numba lowering against the numpy implementation bit for bit, derivatives
(finite differences) and vmap. With JAX installed: bit for bit against JAX's functions,
eagerly and jitted.
"""
from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform.lax import random_libm as rl
from xform.lax import random_math as rm
from xform.lax import random_math64 as r64

F32, F64 = np.float32, np.float64
RNG = np.random.default_rng(14)


def assert_bits_equal(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)
    num = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(actual[num]), np.signbit(expected[num]))


def ulps(got, ref):
    """|got - ref| in units of the last place of ``ref`` in ``got``'s dtype."""
    got = np.asarray(got)
    ref = np.asarray(ref, F64)
    spacing = np.spacing(np.abs(ref).astype(got.dtype)).astype(F64)
    return np.abs(got.astype(F64) - ref) / spacing


def _mp(fn, xs):
    mpmath.mp.prec = 120
    return np.array([float(fn(mpmath.mpf(float(v)))) for v in np.ravel(xs)]).reshape(np.shape(xs))


# -- the fused multiply-add ---------------------------------------------------------------------


def _exact_fma(a, b, c):
    return np.array([float(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
                     for x, y, z in zip(a, b, c)])


_jit_fma64 = xform.jit(r64.fma_f64_xla)


def test_fma64_is_correctly_rounded():
    a, b = RNG.standard_normal((2, 400))
    cases = []
    for scale in (1.0, 1e-150, 1e150):
        c = RNG.standard_normal(400)
        cases += [(a * scale, b, c * scale), (a, b, -(a * b)), (a, b, -(a * b) * (1 + 2.0 ** -50))]
    # ties of the plain sum, and operands outside the exact-steps range (exact rationals)
    one_ulp = 1 + 2.0 ** -52
    cases.append((np.array([one_ulp, 1e-160, 2.0 ** 600, 3.0, 0.0, 1e300]),
                  np.array([one_ulp, 1e-160, 2.0 ** 400, 1e-320, 5.0, 10.0]),
                  np.array([-1.0, 1e-320, -(2.0 ** 1000), 1e-300, -0.0, -1e308])))
    for x, y, z in cases:
        got = r64.fma_f64_xla(x, y, z)
        assert_bits_equal(got, _exact_fma(x, y, z))
        assert_bits_equal(_jit_fma64(x, y, z), got)
    # the plain a * b + c rounds twice: it differs from the fma on a quarter of the values
    x, y, z = cases[0]
    assert np.mean(r64.fma_f64_xla(x, y, z) != x * y + z) > 0.1
    # special values and broadcasting
    specials = r64.fma_f64_xla(np.array([np.inf, np.nan, 1.0, np.inf]), np.array([0.0, 1.0, 1.0, 2.0]),
                               np.array([1.0, 1.0, np.inf, -np.inf]))
    assert np.isnan(specials[[0, 1, 3]]).all() and specials[2] == np.inf
    assert r64.fma_f64_xla(np.arange(3.0), 2.0, np.ones((2, 1))).shape == (2, 3)


# -- accuracy and special values ------------------------------------------------------------------


def test_float64_exp_log1p_erf_inv_accuracy():
    x = RNG.uniform(-708, 709, 400)
    assert ulps(r64.exp_f64_xla(x), _mp(mpmath.exp, x)).max() <= 1
    # Cephes' log1p approximation is made for 1 + x in [1/sqrt(2), sqrt(2)]; XLA applies
    # it down to x = 1 - sqrt(2) (up to ~130 ulps there), JAX's values
    x = np.concatenate([RNG.uniform(-0.99, 5, 300), RNG.uniform(-1e-3, 1e-3, 100)])
    err = ulps(r64.log1p_f64_xla(x), _mp(mpmath.log1p, x))
    outside = (x > -0.4143) & (x < -0.2928)
    assert err[~outside].max() <= 4 and err[outside].max() <= 256
    # erf_inv: Giles' polynomials, in w = -log1p(-x**2) which loses digits near |x| = 1
    x = RNG.uniform(-0.999, 0.999, 300)
    assert ulps(r64.erf_inv_f64_xla(x), _mp(mpmath.erfinv, x)).max() <= 32
    x = 1 - np.logspace(-15, -3, 60)
    rel = np.abs(r64.erf_inv_f64_xla(x) / _mp(mpmath.erfinv, x) - 1)
    assert rel.max() < 1e-10


def test_float32_exp_accuracy():
    x = RNG.uniform(-87, 88, 400).astype(F32)
    assert ulps(rm.exp_f32_xla(x), _mp(mpmath.exp, x)).max() <= 1
    # XLA flushes subnormal results to zero
    assert rm.exp_f32_xla(np.array([-88.0, -100.0], F32)).tolist() == [0.0, 0.0]


def test_special_values():
    inf, nan = np.inf, np.nan
    assert_bits_equal(r64.exp_f64_xla(np.array([0.0, -0.0, inf, -inf, 710.0, -709.0])),
                      np.array([1.0, 1.0, inf, 0.0, inf, 0.0]))
    assert np.isnan(r64.exp_f64_xla(nan)) and np.isnan(rm.exp_f32_xla(F32(nan)))
    assert_bits_equal(r64.log1p_f64_xla(np.array([0.0, -0.0, -1.0, inf])),
                      np.array([0.0, -0.0, -inf, inf]))
    assert np.isnan(r64.log1p_f64_xla(np.array([-2.0, nan]))).all()
    assert_bits_equal(r64.erf_inv_f64_xla(np.array([0.0, -0.0, 1.0, -1.0])),
                      np.array([0.0, -0.0, inf, -inf]))
    assert np.isnan(r64.erf_inv_f64_xla(np.array([1.5, nan]))).all()
    for dt in (F32, F64):
        assert_bits_equal(rl.libm_log(np.array([1.0, 0.0, inf], dt)), np.array([0.0, -inf, inf], dt))
        assert np.isnan(rl.libm_log(np.array([-1.0, nan], dt))).all()
        assert_bits_equal(rl.libm_erf(np.array([0.0, inf, -inf], dt)), np.array([0.0, 1.0, -1.0], dt))
        assert np.isnan(rl.libm_tan(np.array([inf, nan], dt))).all()
        assert_bits_equal(rl.libm_pow(np.array([0.0, 2.0, 4.0], dt), np.array([2.0, -1.0, 0.5], dt)),
                          np.array([0.0, 0.5, 2.0], dt))


@pytest.mark.parametrize("dt", [F32, F64])
def test_c_library_functions_are_accurate(dt):
    x = RNG.uniform(0.01, 50, 300).astype(dt)
    assert ulps(rl.libm_log(x), np.log(x.astype(F64))).max() <= 1
    t = RNG.uniform(-1.5, 1.5, 300).astype(dt)
    assert ulps(rl.libm_tan(t), np.tan(t.astype(F64))).max() <= 1
    assert ulps(rl.libm_erf(t), _mp(mpmath.erf, t)).max() <= 1
    y = RNG.uniform(-3, 3, 300).astype(dt)
    assert ulps(rl.libm_pow(x, y), np.power(x.astype(F64), y.astype(F64))).max() <= 1


def test_dtype_errors():
    with pytest.raises(TypeError, match="exp_f64_xla.*float64"):
        r64.exp_f64_xla(np.ones(2, F32))
    with pytest.raises(TypeError, match="fma_f64_xla"):
        r64.fma_f64_xla(np.ones(2), np.ones(2, F32), np.ones(2))
    with pytest.raises(TypeError, match="libm_log.*float32 or float64"):
        rl.libm_log(np.ones(2, np.int64))
    with pytest.raises(TypeError, match="libm_pow"):
        rl.libm_pow(np.ones(2), np.ones(2, F32))


# -- the Numba lowering: the same bits as the numpy implementation ---------------------------------

X64 = np.concatenate([RNG.uniform(-1, 1, 3000), RNG.uniform(-750, 750, 1000),
                      1 - np.exp(-RNG.uniform(0, 36, 200)), RNG.uniform(-0.42, -0.28, 200),
                      [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 709.78, -708.3964185322641,
                       709.7827128933839, 1e-310]])
Y64 = RNG.uniform(-3, 3, X64.size)
X32, Y32 = (X64 / 8).astype(F32), Y64.astype(F32)


def _all_functions(x, y, x32, y32):
    ax, ax32 = xnp.abs(x), xnp.abs(x32)
    return (r64.exp_f64_xla(x), r64.log1p_f64_xla(x), r64.erf_inv_f64_xla(x), rl.libm_log(ax),
            rl.libm_erf(x), rl.libm_tan(x), rl.libm_pow(ax, y), r64.fma_f64_xla(x, y, y),
            rm.exp_f32_xla(x32), rl.libm_log(ax32), rl.libm_erf(x32), rl.libm_tan(x32),
            rl.libm_pow(ax32, y32))


_jit_all = xform.jit(_all_functions)


def test_jit_matches_eager_bit_for_bit():
    with np.errstate(all="ignore"):
        eager = _all_functions(X64, Y64, X32, Y32)
    for got, ref in zip(_jit_all(X64, Y64, X32, Y32), eager):
        assert_bits_equal(got, ref)
    # scalars, and arrays broadcast against scalars
    jitted = _jit_all(X64[7], Y64[7], X32[7], Y32[7])
    for got, ref in zip(jitted, _all_functions(X64[7], Y64[7], X32[7], Y32[7])):
        assert_bits_equal(got, ref)


# -- derivatives and vmap ------------------------------------------------------------------------------


@pytest.mark.parametrize("fn,x", [
    (r64.exp_f64_xla, np.array([-1.5, 0.3, 2.0])),
    (r64.log1p_f64_xla, np.array([-0.6, 0.1, 3.0])),
    (r64.erf_inv_f64_xla, np.array([-0.7, 0.2, 0.95])),
    (rl.libm_log, np.array([0.2, 1.5, 30.0])),
    (rl.libm_erf, np.array([-1.2, 0.1, 2.0])),
    (rl.libm_tan, np.array([-1.0, 0.3, 1.2])),
])
def test_unary_derivatives(fn, x):
    xform.check_grads(fn, (x,), order=2)


def test_binary_and_ternary_derivatives_and_vmap():
    x, y = np.array([0.5, 1.7, 3.0]), np.array([-1.3, 0.4, 2.2])
    xform.check_grads(rl.libm_pow, (x, y), order=2)
    xform.check_grads(lambda a, b, c: r64.fma_f64_xla(a, b, c), (x, y, x + y), order=2)
    gx, gy = xform.grad(lambda a, b: rl.libm_pow(a, b).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y * x ** (y - 1), rtol=1e-13)
    np.testing.assert_allclose(gy, np.log(x) * x ** y, rtol=1e-13)
    # at x = 0 the derivative in the exponent is 0, as JAX's (log 0 read as 0)
    assert xform.grad(lambda b: rl.libm_pow(0.0, b))(2.0) == 0.0
    v = xform.vmap(rl.libm_pow, in_axes=(0, None))(np.stack([x, x + 1]), y)
    assert_bits_equal(v, rl.libm_pow(np.stack([x, x + 1]), y))
    v = xform.vmap(r64.erf_inv_f64_xla)(np.array([[0.1, -0.2], [0.5, 0.9]]))
    assert_bits_equal(v, r64.erf_inv_f64_xla(np.array([[0.1, -0.2], [0.5, 0.9]])))


# -- against JAX (skipped without it) ----------------------------------------------------------------


def test_bit_for_bit_against_jax():
    jax = pytest.importorskip("jax")
    jnp, jlax = jax.numpy, jax.lax
    ax, ax32 = np.abs(X64), np.abs(X32)
    pairs = [(r64.exp_f64_xla, jnp.exp, (X64,)), (r64.log1p_f64_xla, jnp.log1p, (X64,)),
             (r64.erf_inv_f64_xla, jlax.erf_inv, (X64,)), (rl.libm_log, jnp.log, (ax,)),
             (rl.libm_erf, jlax.erf, (X64,)), (rl.libm_tan, jnp.tan, (X64,)),
             (rl.libm_pow, jnp.power, (ax[:-1], Y64[:-1])),  # (not 1e-310: note below)
             (r64.fma_f64_xla, lambda a, b, c: a * b + c,
                                                   (X64[:4000], Y64[:4000], Y64[:4000] * 3)),
             (rm.exp_f32_xla, jnp.exp, (X32,)), (rl.libm_tan, jnp.tan, (X32,)),
             (rl.libm_pow, jnp.power, (ax32, Y32))]
    # (a subnormal base of pow: with denormals-are-zero the C pow misreads it, which xform
    # does not reproduce)
    with np.errstate(all="ignore"), jax.enable_x64(True):
        for mine, theirs, args in pairs:
            assert_bits_equal(mine(*args), np.asarray(jax.jit(theirs)(*args)))
