"""Elementwise functions at extreme magnitudes (issue 17): subnormals (5e-324, 1e-310),
the edges of the normal range, 1e+-154 (where squares leave the range), 1e+-300, the
largest double, +-0, +-inf and nan, against numpy, eagerly and under jit.

Results numpy defines exactly (arithmetic, sqrt, hypot, min/max, rounding, tests) must
agree bit for bit, signed zeros included; transcendental functions (xform's jit uses
its own vectorizable implementations) within 4 ulps, and exactly where the answer is
0, inf or nan. Derivatives that square their operand (hypot, atan2, asinh, acosh) are
checked where the squares overflow or underflow against closed forms.

The jitted side is one program per arity (all functions at once), so the module
compiles twice.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.lax.elementwise import hypot as lax_hypot

_P = [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200, 1.5e-154, 0.5, 1.0, 3.0,
      1.5e154, 1e200, 1e300, 1.7976931348623157e308, np.inf]
VALUES = np.array([0.0, -0.0, np.nan] + _P + [-p for p in _P])

UNARY = ["negative", "positive", "abs", "absolute", "fabs", "sign", "sqrt", "cbrt", "square",
         "reciprocal", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos",
         "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
         "arctanh", "deg2rad", "rad2deg", "degrees", "radians", "floor", "ceil", "trunc", "rint",
         "fix", "signbit", "isnan", "isinf", "isfinite"]
BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "power",
          "float_power", "mod", "remainder", "fmod", "maximum", "minimum", "fmax", "fmin",
          "arctan2", "hypot", "logaddexp", "logaddexp2", "heaviside"]
# numpy's answer is a correctly rounded (or exact) operation: bit for bit
EXACT = {"negative", "positive", "abs", "absolute", "fabs", "sign", "sqrt", "square",
         "reciprocal", "floor", "ceil", "trunc", "rint", "fix", "isnan", "isinf", "isfinite",
         "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "fmax",
         "fmin", "hypot", "fmod", "heaviside", "deg2rad", "rad2deg", "degrees", "radians"}
# numpy's signbit reads the sign bit of a nan; xform has no bit cast to read it (-nan is
# reported as not negative)
NAN_SIGN_UNKNOWN = {"signbit"}


def _pairs():
    a, b = np.meshgrid(VALUES, VALUES, indexing="ij")
    return a.ravel(), b.ravel()


A, B = _pairs()


def _numpy(name, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return getattr(np, name)(*args)


def _eager(name, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return getattr(xnp, name)(*args)


# one jitted program per arity, compiled once for the module
_jit_unary = xform.jit(lambda x: {n: getattr(xnp, n)(x) for n in UNARY})
_jit_binary = xform.jit(lambda x, y: {n: getattr(xnp, n)(x, y) for n in BINARY})


@pytest.fixture(scope="module")
def jitted():
    out = dict(_jit_unary(VALUES))
    out.update(_jit_binary(A, B))
    return out


def assert_agrees(got, want, name, args, exact):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (name, got.dtype, want.dtype)
    if want.dtype == bool:
        bad = got != want
        if name in NAN_SIGN_UNKNOWN:
            bad &= ~np.isnan(args[0])
    else:
        special = ~np.isfinite(want) | (want == 0)
        same = (got == want) & (np.signbit(got) == np.signbit(want))
        same |= np.isnan(got) & np.isnan(want)
        if not exact:
            with np.errstate(all="ignore"):
                ulps = np.abs(got - want) / np.spacing(np.abs(want))
            same |= ~special & np.isfinite(got) & (ulps <= 4)
        bad = ~same
    if bad.any():
        k = np.flatnonzero(bad)[:6]
        cases = [tuple(float(a[i]) for a in args) for i in k]
        raise AssertionError(f"{name}: {bad.sum()} of {bad.size} differ from numpy, at "
                             f"{cases}: got {got[k].tolist()}, numpy {want[k].tolist()}")


@pytest.mark.parametrize("name", UNARY)
def test_unary_at_extremes(name, jitted):
    want = _numpy(name, VALUES)
    assert_agrees(_eager(name, VALUES), want, f"{name} (eager)", (VALUES,), name in EXACT)
    assert_agrees(jitted[name], want, f"{name} (jit)", (VALUES,), name in EXACT)


@pytest.mark.parametrize("name", BINARY)
def test_binary_at_extremes(name, jitted):
    want = _numpy(name, A, B)
    assert_agrees(_eager(name, A, B), want, f"{name} (eager)", (A, B), name in EXACT)
    assert_agrees(jitted[name], want, f"{name} (jit)", (A, B), name in EXACT)


# -- hypot: a primitive, not sqrt(x**2 + y**2) ------------------------------------------------

_hypot_jit = xform.jit(xnp.hypot)
_hypot_grad = xform.grad(xnp.hypot, argnums=(0, 1))
_hypot_grad_jit = xform.jit(_hypot_grad)


@pytest.mark.parametrize("x, y", [(3e200, 4e200), (3e-200, 4e-200), (1e-310, 1e-310),
                                  (5e-324, 0.0), (1.7976931348623157e308, 1e300)])
def test_hypot_scaled_in_eager_jit_and_derivative(x, y):
    want = np.hypot(x, y)
    assert np.isfinite(want) and want > 0
    for how, got in (("eager", xnp.hypot(x, y)), ("jit", _hypot_jit(x, y)),
                     ("lax", lax_hypot(np.float64(x), np.float64(y)))):
        assert got == want, (how, got, want)  # the same libm function: bit for bit
    for how, (gx, gy) in (("grad", _hypot_grad(x, y)), ("jit(grad)", _hypot_grad_jit(x, y))):
        # x / hypot(x, y): exact closed form in the (mathematical) reals, here in [0, 1]
        np.testing.assert_allclose([gx, gy], [x / want, y / want], rtol=1e-13, err_msg=how)
        assert 0 <= gx <= 1 and 0 <= gy <= 1


def test_hypot_derivative_at_zero_and_infinity():
    assert _hypot_grad(0.0, 0.0) == (0.0, 0.0)  # the smallest subgradient
    assert _hypot_grad(np.inf, 1.0) == (1.0, 0.0)  # the limits, not nan
    assert _hypot_grad(-np.inf, 1.0) == (-1.0, 0.0)
    assert _hypot_grad(1.0, np.inf) == (0.0, 1.0)
    assert _hypot_grad_jit(np.inf, 1.0) == (1.0, 0.0)
    assert np.hypot(np.inf, np.nan) == xnp.hypot(np.inf, np.nan) == _hypot_jit(np.inf, np.nan)


def test_hypot_float32():
    x, y = np.float32(3e30), np.float32(4e30)  # the squares overflow float32
    for got in (xnp.hypot(x, y), _hypot_jit(x, y)):
        assert got == np.hypot(x, y) and np.asarray(got).dtype == np.float32
    assert xnp.hypot(np.array([3, 0]), np.array([4, 0])).tolist() == [5.0, 0.0]  # ints promote


def test_hypot_second_derivative_is_finite_at_large_magnitudes():
    # d2/dx2 hypot = y^2 / hypot^3 = (y / h)^2 / h
    x, y = 3e200, 4e200
    h = np.hypot(x, y)
    got = xform.grad(xform.grad(xnp.hypot))(x, y)
    np.testing.assert_allclose(got, (y / h) ** 2 / h, rtol=1e-13)


# -- derivatives that square their operand -----------------------------------------------------

_BIG = np.array([1.5e154, 1e200, 1e300, 1.7976931348623157e308])
_SMALL = np.array([1e-310, 1e-300, 1e-200, 1.5e-154])
_grad_vm = {n: xform.vmap(xform.grad(getattr(xnp, n))) for n in ("arcsinh", "arccosh")}


@pytest.mark.parametrize("name, x, want", [
    ("arcsinh", _BIG, lambda x: 1.0 / np.hypot(x, 1.0)),
    ("arcsinh", -_BIG, lambda x: 1.0 / np.hypot(x, 1.0)),
    ("arcsinh", _SMALL, lambda x: np.ones_like(x)),
    ("arccosh", _BIG, lambda x: 1.0 / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0))),
    ("arccosh", np.array([1.0 + 2 ** -52, 1.5, 3.0]),
     lambda x: 1.0 / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0))),
])
def test_inverse_hyperbolic_derivatives_do_not_overflow(name, x, want):
    got = _grad_vm[name](x)
    np.testing.assert_allclose(got, want(x), rtol=1e-14)
    assert np.all(got != 0)  # x^2 + 1 overflowed to inf: the derivative was 0


@pytest.mark.parametrize("y, x", [(3e200, 4e200), (3e-160, 4e-160), (1e-300, 2e-300), (-1e300, 1e-300)])
def test_atan2_derivative_does_not_overflow(y, x):
    gy, gx = xform.grad(xnp.arctan2, argnums=(0, 1))(y, x)
    h = np.hypot(y, x)
    np.testing.assert_allclose([gy, gx], [(x / h) / h, (-y / h) / h], rtol=1e-13)


# -- signed zeros in max/min ------------------------------------------------------------------

_max_jit = xform.jit(lambda a, b: (xnp.maximum(a, b), xnp.minimum(a, b), xnp.fmax(a, b),
                                   xnp.fmin(a, b), lax.clamp(b, a, 1.0)))


@pytest.mark.parametrize("n", [1, 20])
@pytest.mark.parametrize("a, b", [(-0.0, 0.0), (0.0, -0.0)])
def test_signed_zeros_in_max_min_follow_numpy(a, b, n):
    """numpy's maximum and minimum give the second of equal operands (so max(-0.0, 0.0)
    is 0.0 and max(0.0, -0.0) is -0.0), for any array length. fmax/fmin do the same
    here (numpy's own give the first for arrays shorter than its vector width)."""
    x, y = np.full(n, a), np.full(n, b)
    for want in (np.maximum(x, y), np.minimum(x, y)):  # numpy's rule, whatever the length
        assert np.signbit(want).tolist() == np.signbit(y).tolist()
    eager = (xnp.maximum(x, y), xnp.minimum(x, y), xnp.fmax(x, y), xnp.fmin(x, y),
             lax.clamp(y, x, 1.0))
    for how, outs in (("eager", eager), ("jit", _max_jit(x, y))):
        for got in outs[:4]:
            np.testing.assert_array_equal(np.signbit(got), np.signbit(y), err_msg=how)
        # clamp(lo=b, x=a, hi): numpy's minimum(maximum(a, b), hi)
        np.testing.assert_array_equal(np.signbit(outs[4]),
                                      np.signbit(np.minimum(np.maximum(x, y), 1.0)), err_msg=how)
