"""Elementwise primitives of xform.lax: impl vs numpy, shape/dtype rules and errors,
derivatives (check_grads in both modes to order 2, closed forms to order 4,
conventions at non-differentiable points), vmap against a Python loop, and the
numba_scalar expressions compiled with Numba."""
import math
import warnings
import zlib

import numpy as np
import pytest
from _elementwise_helpers import numba_eval_many, rand, vmap_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xform
from xform.core.primitive import Primitive
from xform import lax
from xform.lax import elementwise as ew

F64, F32, C128 = np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.complex128)
I64, I32, I8, U8, BOOL = (np.dtype(d) for d in (np.int64, np.int32, np.int8, np.uint8, bool))

_erf_ref = np.vectorize(math.erf, otypes=[np.float64])


def _logistic_ref(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


# name -> (numpy reference, (lo, hi) domain for values and derivatives, kinds accepted)
UNARY = {
    "neg": (np.negative, (-2, 2), "iufc"),
    "exp": (np.exp, (-2, 2), "fc"),
    "log": (np.log, (0.2, 3), "fc"),
    "log1p": (np.log1p, (-0.5, 2), "fc"),
    "expm1": (np.expm1, (-2, 2), "fc"),
    "sin": (np.sin, (-3, 3), "fc"),
    "cos": (np.cos, (-3, 3), "fc"),
    "tan": (np.tan, (-1.2, 1.2), "fc"),
    "asin": (np.arcsin, (-0.9, 0.9), "fc"),
    "acos": (np.arccos, (-0.9, 0.9), "fc"),
    "atan": (np.arctan, (-3, 3), "fc"),
    "sinh": (np.sinh, (-2, 2), "fc"),
    "cosh": (np.cosh, (-2, 2), "fc"),
    "tanh": (np.tanh, (-2, 2), "fc"),
    "asinh": (np.arcsinh, (-3, 3), "fc"),
    "acosh": (np.arccosh, (1.2, 3), "fc"),
    "atanh": (np.arctanh, (-0.8, 0.8), "fc"),
    "sqrt": (np.sqrt, (0.2, 3), "fc"),
    "rsqrt": (lambda x: 1 / np.sqrt(x), (0.2, 3), "fc"),
    "cbrt": (np.cbrt, (0.2, 3), "f"),
    "logistic": (_logistic_ref, (-4, 4), "f"),
    "erf": (_erf_ref, (-2, 2), "f"),
    "square": (np.square, (-2, 2), "iufc"),
    "reciprocal": (np.reciprocal, (0.3, 3), "fc"),
    "abs": (np.abs, (-2, 2), "iufc"),
    "sign": (np.sign, (-2, 2), "iuf"),
    "floor": (np.floor, (-3, 3), "f"),
    "ceil": (np.ceil, (-3, 3), "f"),
    "round": (np.round, (-3, 3), "f"),
}
ZERO_DERIVATIVE = {"sign", "floor", "ceil", "round"}

def _div_ref(x, y):
    """True division for floats; integer quotients truncated toward zero."""
    if np.result_type(x, y).kind in "iu":
        q = np.abs(x) // np.abs(y)
        return np.where((x < 0) != (y < 0), -q, q).astype(np.result_type(x, y))
    return np.true_divide(x, y)


# name -> (numpy reference, x domain, y domain, kinds accepted)
BINARY = {
    "add": (np.add, (-2, 2), (-2, 2), "iufc"),
    "sub": (np.subtract, (-2, 2), (-2, 2), "iufc"),
    "mul": (np.multiply, (-2, 2), (-2, 2), "iufc"),
    "div": (_div_ref, (-2, 2), (0.5, 2), "iufc"),
    "rem": (np.fmod, (0.1, 5), (0.7, 1.3), "iuf"),
    "pow": (np.power, (0.3, 2), (-2, 2), "fc"),
    "max": (np.maximum, (-2, 2), (-2, 2), "biuf"),
    "min": (np.minimum, (-2, 2), (-2, 2), "biuf"),
    "atan2": (np.arctan2, (-2, 2), (0.3, 2), "f"),
}
COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
           "gt": np.greater, "ge": np.greater_equal}
BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
           "bitwise_xor": np.bitwise_xor}

UNARY_SHAPES = [(), (0,), (3,), (2, 3)]
BINARY_SHAPES = [((3, 1), (4,)), ((), (3,)), ((2, 3), ()), ((0,), (1,)), ((0, 3), (3,)),
                 ((2, 3), (2, 3)), ((), ())]
DTYPES = [F64, F32, I64, I32, U8, BOOL, C128]


def _rng(*salt):
    # crc32, not hash(): str hashes are randomized per process (PYTHONHASHSEED), which
    # gave every run different inputs
    return np.random.default_rng(zlib.crc32(repr(salt).encode()))


def _assert_same(got, want, dtype, rtol=None):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == dtype, (got.dtype, dtype)
    if dtype.kind in "fc":
        tol = 2e-6 if dtype in (F32, np.dtype(np.complex64)) else 1e-12
        np.testing.assert_allclose(got, want.astype(dtype), rtol=rtol or tol, atol=rtol or tol)
    else:
        np.testing.assert_array_equal(got, want.astype(dtype))


def _out_aval(f, *args):
    (aval,) = xform.make_jaxpr(f)(*args).out_avals
    return aval


# -- impl and shape rule against numpy -------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_impl_and_aval_match_numpy(name):
    ref, (lo, hi), kinds = UNARY[name]
    f = getattr(lax, name)
    for dt in DTYPES:
        for shape in UNARY_SHAPES:
            x = rand(_rng(name, dt.str, shape), shape, dt, lo, hi)
            if dt.kind not in kinds:
                with pytest.raises(TypeError, match=f"{name}: does not accept dtype {dt}"):
                    f(x)
                with pytest.raises(TypeError, match=f"{name}: does not accept dtype {dt}"):
                    xform.make_jaxpr(f)(x)
                continue
            out_dt = F64 if (name == "abs" and dt == C128) else dt
            with np.errstate(all="ignore"):
                want = np.asarray(ref(x)).astype(out_dt)
            got = f(x)
            _assert_same(got, want, out_dt)
            aval = _out_aval(f, x)
            assert (aval.shape, aval.dtype) == (shape, out_dt)


@pytest.mark.parametrize("name", sorted(BINARY) + sorted(COMPARE) + sorted(BITWISE))
def test_binary_impl_and_aval_match_numpy(name):
    if name in BINARY:
        ref, (lo, hi), (ylo, yhi), kinds = BINARY[name]
    elif name in COMPARE:
        ref, (lo, hi), (ylo, yhi) = COMPARE[name], (-2, 2), (-2, 2)
        kinds = "biufc" if name in ("eq", "ne") else "biuf"
    else:
        ref, (lo, hi), (ylo, yhi), kinds = BITWISE[name], (-5, 5), (-5, 5), "biu"
    f = getattr(lax, name)
    for dt in DTYPES:
        for xs, ys in BINARY_SHAPES:
            rng = _rng(name, dt.str, xs, ys)
            x, y = rand(rng, xs, dt, lo, hi), rand(rng, ys, dt, ylo, yhi)
            if dt.kind not in kinds:
                with pytest.raises(TypeError, match=f"{name}: does not accept dtype {dt}"):
                    f(x, y)
                continue
            out_dt = BOOL if name in COMPARE else dt
            with np.errstate(all="ignore"):
                want = ref(x, y)
            _assert_same(f(x, y), want, out_dt)
            aval = _out_aval(f, x, y)
            assert aval.shape == np.broadcast_shapes(xs, ys)
            assert aval.dtype == out_dt


def test_weak_python_scalars_take_the_array_dtype():
    x32 = np.array([1.0, 2.0], np.float32)
    assert lax.add(x32, 1.0).dtype == F32
    assert lax.mul(2, x32).dtype == F32
    assert lax.max(np.array([1, 5], np.int8), 3).dtype == I8
    assert lax.select(np.array([True, False]), x32, 0.0).dtype == F32
    # both Python scalars: the higher Python type wins
    assert lax.add(1, 2.5) == 3.5
    aval = _out_aval(lambda a: lax.add(a, 1.0), x32)
    assert aval.dtype == F32 and not aval.weak_type
    aval = _out_aval(lambda a: lax.add(a, 1.0), 2.0)
    assert aval.dtype == F64 and aval.weak_type
    with pytest.raises(TypeError, match=r"add: cannot combine a Python float \(2.5\)"):
        lax.add(np.array([1, 2]), 2.5)


def test_integer_division_truncates_and_tolerates_zero():
    x = np.array([7, -7, 7, -7, 5, 0, -8, 9, 0])
    y = np.array([2, 2, -2, -2, 0, 0, 3, 3, -1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = lax.div(x, y)
        r = lax.rem(x, y)
    np.testing.assert_array_equal(q, [3, -3, -3, 3, 0, 0, -2, 3, 0])
    np.testing.assert_array_equal(r, [1, -1, 1, -1, 0, 0, -2, 0, 0])
    for dt in (I32, I8, U8):
        xs, ys = np.abs(x).astype(dt), np.abs(y).astype(dt)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(lax.div(xs, ys), np.where(ys == 0, 0, xs // np.maximum(ys, 1)))
        assert lax.div(xs, ys).dtype == dt
    assert lax.div(np.int64(-7), np.int64(2)) == -3
    assert lax.div(-7, 2) == -3  # Python ints: integer division too
    np.testing.assert_array_equal(lax.rem(np.array([7.5, -7.5]), 2.0), [1.5, -1.5])
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(lax.div(np.array([1.0, -1.0]), 0.0), [np.inf, -np.inf])


def test_integer_pow_values_and_errors():
    x = np.array([-3.0, 0.5, 2.0])
    for n in (0, 1, 2, 3, -1, -2, 7):
        np.testing.assert_allclose(lax.integer_pow(x, n), x ** n)
    np.testing.assert_array_equal(lax.integer_pow(np.array([2, -3], np.int8), 3), [8, -27])
    assert lax.integer_pow(np.array([2, -3], np.int8), 3).dtype == I8
    with pytest.raises(TypeError, match="integer_pow: integer operand i64.* negative power -1"):
        lax.integer_pow(np.array([2]), -1)
    with pytest.raises(TypeError, match="integer_pow: integer operand"):
        xform.make_jaxpr(lambda a: lax.integer_pow(a, -2))(np.array([2]))
    with pytest.raises(TypeError, match="exponent must be a Python int"):
        lax.integer_pow(x, 2.0)
    assert str(xform.make_jaxpr(lambda a: lax.integer_pow(a, 3))(x)).count("integer_pow[y=3]") == 1


def test_special_values():
    np.testing.assert_array_equal(lax.is_finite(np.array([1.0, np.inf, -np.inf, np.nan])),
                                  [True, False, False, False])
    big = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = lax.logistic(big)
    np.testing.assert_allclose(s, [0.0, math.exp(-40) / (1 + math.exp(-40)), 0.5, 1.0, 1.0],
                               rtol=1e-15, atol=0)
    assert s[1] > 0  # no underflow to 0 in the left tail
    assert lax.logistic(np.float32(3.0)).dtype == F32
    y = np.linspace(-0.999, 0.999, 41)
    np.testing.assert_allclose(lax.erf(lax.erf_inv(y)), y, rtol=1e-14, atol=1e-15)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(lax.erf_inv(np.array([-1.0, 1.0, 1.5])),
                                      [-np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(lax.round(np.array([0.5, 1.5, 2.5, -0.5, -1.5])),
                                  [0.0, 2.0, 2.0, -0.0, -2.0])  # halves to even
    np.testing.assert_array_equal(lax.max(np.array([1.0, np.nan]), np.array([np.nan, 0.0])),
                                  [np.nan, np.nan])
    np.testing.assert_array_equal(lax.bitwise_not(np.array([True, False])), [False, True])
    np.testing.assert_array_equal(lax.bitwise_not(np.array([0, 5], np.uint8)), [255, 250])
    np.testing.assert_array_equal(lax.clamp(0.0, np.array([-1.0, 0.5, 2.0]), 1.0), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(lax.clamp(np.array([0, 0, 5]), np.array([-3, 3, 3]), 4), [0, 3, 4])


def test_erf_inv_against_scipy():
    import scipy.special as special
    y = np.concatenate([np.linspace(-0.9999999, 0.9999999, 201), [1e-300, -1e-12, 0.0]])
    np.testing.assert_allclose(lax.erf_inv(y), special.erfinv(y), rtol=1e-13, atol=1e-300)
    x = np.linspace(-4, 4, 101)
    np.testing.assert_allclose(lax.erf(x), special.erf(x), rtol=1e-15, atol=1e-16)


# -- select ---------------------------------------------------------------------------


def test_select_broadcasts_like_where():
    rng = _rng("select")
    for ps, ts, fs in [((3, 1), (4,), ()), ((), (2, 3), (2, 3)), ((2, 1), (1, 3), (2, 3)),
                       ((0,), (1,), ())]:
        p = rand(rng, ps, BOOL)
        t, f = rand(rng, ts, F32), rand(rng, fs, F32)
        got = lax.select(p, t, f)
        _assert_same(got, np.where(p, t, f), F32)
        aval = _out_aval(lax.select, p, t, f)
        assert aval.shape == np.broadcast_shapes(ps, ts, fs) and aval.dtype == F32
    assert lax.select(True, 1.0, 2.0) == 1.0


def test_select_errors():
    with pytest.raises(TypeError, match=r"select: pred must be a boolean array, got f64\[2\]"):
        lax.select(np.array([1.0, 0.0]), np.ones(2), np.zeros(2))
    with pytest.raises(TypeError, match=r"select: pred must be a boolean"):
        xform.make_jaxpr(lax.select)(np.array([1.0, 0.0]), np.ones(2), np.zeros(2))
    with pytest.raises(TypeError, match=r"select: on_true and on_false must have the same dtype, "
                                        r"got f64\[2\] and f32\[2\]"):
        lax.select(np.array([True, False]), np.ones(2), np.zeros(2, np.float32))
    with pytest.raises(ValueError, match=r"select: shapes \(2,\) and \(3,\) and \(\) cannot"):
        lax.select(np.array([True, False]), np.ones(3), 0.0)


def test_select_jvp_instantiates_zero_only_when_needed():
    p = np.array([True, False, True])
    t, f = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    # only on_true carries a tangent: on_false's Zero becomes a scalar zero
    _, tan = xform.jvp(lambda a: lax.select(p, a, f), (t,), (np.ones(3),))
    np.testing.assert_array_equal(tan, [1.0, 0.0, 1.0])
    # the linearized program has one select and never materializes a zeros array
    jx = str(xform.make_jaxpr(lambda a: xform.jvp(lambda b: lax.select(p, b, f), (a,), (a,))[1])(t))
    assert jx.count("select") == 1 and "broadcast_in_dim" not in jx
    # broadcasting branches: tangents are broadcast to the result, cotangents summed back
    g = xform.grad(lambda a, b: lax.reduce_sum(lax.select(p, a, b), (0,)), argnums=(0, 1))(2.0, f)
    assert g[0] == 2.0
    np.testing.assert_array_equal(g[1], [0.0, 1.0, 0.0])
    xform.check_grads(lambda a, b: lax.select(lax.gt(a, 0.0), a, b),
                      (np.array([[-1.0], [0.5]]), np.array([0.3, -0.2, 0.9])), order=2)


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["add", "mul", "max", "atan2", "eq", "bitwise_and", "rem"])
def test_shape_mismatch_names_op_and_shapes(name):
    f = getattr(lax, name)
    dt = F64 if name != "bitwise_and" else I64
    x, y = np.ones((2, 3), dt), np.ones((4,), dt)
    pattern = rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"
    with pytest.raises(ValueError, match=pattern):
        f(x, y)
    with pytest.raises(ValueError, match=pattern):
        xform.make_jaxpr(f)(x, y)


def test_dtype_errors_name_op_and_dtypes():
    with pytest.raises(TypeError, match=r"add: operands must have the same dtype, got f32\[2\], f64\[2\]"):
        lax.add(np.ones(2, np.float32), np.ones(2))
    with pytest.raises(TypeError, match=r"mul: operands must have the same dtype, got i64\[2\], f64\[2\]"):
        xform.make_jaxpr(lax.mul)(np.ones(2, np.int64), np.ones(2))
    with pytest.raises(TypeError, match=r"sin: does not accept dtype int64 \(operand i64\[3\]\)"):
        lax.sin(np.arange(3))
    with pytest.raises(TypeError, match=r"sin: does not accept dtype int64"):
        lax.sin(2)
    with pytest.raises(TypeError, match=r"add: does not accept dtype bool"):
        lax.add(np.array([True]), np.array([False]))
    with pytest.raises(TypeError, match=r"bitwise_or: does not accept dtype float64"):
        lax.bitwise_or(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match=r"floor: does not accept dtype int64"):
        xform.make_jaxpr(lax.floor)(np.arange(2))
    with pytest.raises(TypeError, match=r"lt: does not accept dtype complex128"):
        lax.lt(np.ones(2, complex), np.ones(2, complex))


# -- derivatives --------------------------------------------------------------------




@pytest.mark.parametrize("name", sorted(UNARY) + ["erf_inv", "cbrt_negative"])
def test_unary_check_grads(name):
    if name == "erf_inv":
        f, (lo, hi) = lax.erf_inv, (-0.9, 0.9)
    elif name == "cbrt_negative":
        f, (lo, hi) = lax.cbrt, (-3, -0.2)
    else:
        f, (lo, hi) = getattr(lax, name), UNARY[name][1]
    for shape in [(), (3,), (2, 2)]:
        x = rand(_rng(name, shape, "grad"), shape, F64, lo, hi)
        xform.check_grads(f, (x,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_check_grads(name):
    f = getattr(lax, name)
    _, (lo, hi), (ylo, yhi), _ = BINARY[name]
    for xs, ys in [((3, 1), (4,)), ((), (3,)), ((2, 2), ()), ((2,), (2,))]:
        rng = _rng(name, xs, ys, "grad")
        x, y = rand(rng, xs, F64, lo, hi), rand(rng, ys, F64, ylo, yhi)
        xform.check_grads(f, (x, y), order=2, modes=("fwd", "rev"))


def test_other_check_grads():
    rng = _rng("other")
    x = rand(rng, (3,), F64, -2, 2)
    for n in (0, 1, 2, 3, -2):
        xform.check_grads(lambda a: lax.integer_pow(a, n), (x + 3.0,), order=3)
    xform.check_grads(lambda lo, a, hi: lax.clamp(lo, a, hi),
                      (np.array(-0.5), np.array([-1.3, 0.1, 0.9, 2.0]), np.array([0.5, 0.5, 1.5, 1.0])),
                      order=2)
    xform.check_grads(lambda a: lax.convert_element_type(lax.mul(a, a), np.float32), (x,),
                      order=2, atol=1e-3, rtol=1e-3, eps=1e-3)
    xform.check_grads(lambda a: lax.add_any(lax.sin(a), a), (x,), order=2)


def test_float32_gradients_keep_dtype():
    x = np.array([0.5, 1.5], np.float32)
    for name in ("sin", "exp", "tanh", "sqrt", "logistic", "erf", "abs", "square"):
        g = xform.grad(lambda a: lax.reduce_sum(getattr(lax, name)(a), (0,)))(x)
        assert g.dtype == F32, name
    g = xform.grad(lambda a: lax.reduce_sum(lax.max(a, 1.0), (0,)))(x)
    assert g.dtype == F32
    np.testing.assert_array_equal(g, [0.0, 1.0])


def _nest_grad(f, n):
    for _ in range(n):
        f = xform.grad(f)
    return f


@pytest.mark.parametrize("f, derivs, points", [
    (lax.tanh, [lambda x: 1 - np.tanh(x) ** 2,
                lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
                lambda x: (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2),
                lambda x: (16 * np.tanh(x) - 24 * np.tanh(x) ** 3) * (1 - np.tanh(x) ** 2)],
     [-1.3, 0.0, 0.4, 2.0]),
    (lax.sin, [np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin], [-2.0, 0.0, 0.7]),
    (lax.exp, [np.exp] * 4, [-1.0, 0.0, 1.5]),
    (lax.log, [lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3,
               lambda x: -6 / x ** 4], [0.3, 1.0, 2.5]),
    (lambda x: lax.exp(lax.sin(x)),
     [None, None, None,
      lambda x: (np.sin(x) ** 4 + 6 * np.sin(x) ** 3 + 5 * np.sin(x) ** 2 - 5 * np.sin(x) - 3)
      * np.exp(np.sin(x))], [-1.0, 0.2, 2.0]),
    (lambda x: lax.sin(lax.log(x)), [None, None, None, lambda x: -10 * np.sin(np.log(x)) / x ** 4],
     [0.5, 1.0, 3.0]),
])
def test_nested_grad_closed_forms_to_fourth_order(f, derivs, points):
    for x in points:
        for k, d in enumerate(derivs, start=1):
            if d is None:
                continue
            got = _nest_grad(f, k)(x)
            np.testing.assert_allclose(got, d(x), rtol=1e-11, atol=1e-11)
    # forward-over-reverse agrees at order 2
    x = np.array(points, dtype=float)
    d2 = derivs[1]
    if d2 is not None:
        _, t = xform.jvp(xform.grad(lambda a: lax.reduce_sum(f(a), (0,))), (x,), (np.ones_like(x),))
        np.testing.assert_allclose(t, d2(x), rtol=1e-11, atol=1e-11)


def test_conventions_at_non_differentiable_points():
    g = xform.grad
    assert g(lax.abs)(0.0) == 1.0  # JAX's convention (the x >= 0 branch)
    assert g(lax.abs)(-2.0) == -1.0
    for name in ("sign", "floor", "ceil", "round"):
        f = getattr(lax, name)
        for v in (0.0, 1.0, 0.5, -2.5):
            assert g(f)(v) == 0.0, (name, v)
        assert g(g(f))(0.3) == 0.0
    with np.errstate(divide="ignore"):
        assert g(lax.sqrt)(0.0) == np.inf
        _, t = xform.jvp(lax.sqrt, (0.0,), (1.0,))
        assert t == np.inf
    # max/min: ties split the derivative in half
    assert g(lax.max, argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)
    assert g(lax.min, argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)
    assert g(lambda x: lax.max(x, x))(2.0) == 1.0
    assert g(lax.max, argnums=(0, 1))(2.0, 1.0) == (1.0, 0.0)
    assert g(lax.min, argnums=(0, 1))(2.0, 1.0) == (0.0, 1.0)
    _, t = xform.jvp(lax.max, (1.0, 1.0), (1.0, 3.0))
    assert t == 2.0
    # pow at x = 0: no nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert g(lax.pow, argnums=(0, 1))(0.0, 2.0) == (0.0, 0.0)
        assert g(lax.pow, argnums=(0, 1))(0.0, 1.0) == (1.0, 0.0)
        assert g(lax.pow)(0.0, 0.0) == 0.0
        assert g(lambda y: lax.pow(0.0, y))(3.0) == 0.0
        assert g(g(lax.pow))(0.0, 3.0) == 0.0
        assert g(lax.pow)(0.0, 0.5) == np.inf
    # clamp: the tangent passes strictly inside the bounds
    assert g(lambda x: lax.clamp(0.0, x, 1.0))(0.5) == 1.0
    assert g(lambda x: lax.clamp(0.0, x, 1.0))(1.5) == 0.0
    assert g(lambda hi: lax.clamp(0.0, 1.5, hi))(1.0) == 1.0
    assert g(lambda lo: lax.clamp(lo, -1.0, 1.0))(0.0) == 1.0


def test_non_float_results_have_zero_tangents():
    x = np.array([0.5, -1.0])
    for f in (lambda a: lax.lt(a, 0.0), lax.is_finite,
              lambda a: lax.convert_element_type(a, np.int32)):
        out, t = xform.jvp(f, (x,), (np.ones(2),))
        assert t.dtype == xform.float0 and t.shape == out.shape
    # a float result through an integer cast has a zero derivative
    f = lambda a: lax.convert_element_type(lax.convert_element_type(a, np.int64), np.float64)
    assert xform.grad(f)(2.7) == 0.0
    assert xform.grad(lambda a: lax.mul(a, lax.stop_gradient(a)))(3.0) == 3.0
    _, t = xform.jvp(lax.stop_gradient, (x,), (np.ones(2),))
    np.testing.assert_array_equal(t, 0.0)
    # integer arithmetic under jvp stays exact and has no tangent
    out, t = xform.jvp(lambda a: lax.mul(lax.convert_element_type(a, np.int64), 3), (x,), (x,))
    np.testing.assert_array_equal(out, [0, -3])
    assert t.dtype == xform.float0


def test_convert_element_type_rules():
    x = np.array([1.5, -2.5])
    np.testing.assert_array_equal(lax.convert_element_type(x, np.int32), [1, -2])
    assert lax.convert_element_type(x, np.float64) is x
    assert _out_aval(lambda a: lax.convert_element_type(a, np.float32), x).dtype == F32
    g = xform.grad(lambda a: lax.reduce_sum(lax.mul(lax.convert_element_type(a, np.float32), 2.0),
                                            (0,)))(x)
    assert g.dtype == F64
    np.testing.assert_array_equal(g, [2.0, 2.0])
    with pytest.raises(TypeError, match="convert_element_type: dtype <U1 is not supported"):
        lax.convert_element_type(x, np.dtype("U1"))


def test_complex_forward_derivatives():
    z = np.array([0.3 + 0.4j, -0.7 + 0.2j])
    t = np.array([1.0 + 0.5j, -0.3 + 1.0j])
    eps = 1e-7
    for name in ("exp", "log", "sin", "tanh", "sqrt", "reciprocal", "square"):
        f = getattr(lax, name)
        _, tan = xform.jvp(f, (z,), (t,))
        num = (f(z + eps * t) - f(z - eps * t)) / (2 * eps)
        np.testing.assert_allclose(tan, num, rtol=1e-6, err_msg=name)
    _, tan = xform.jvp(lambda a: lax.mul(a, lax.div(a, 2.0)), (z,), (t,))
    np.testing.assert_allclose(tan, z * t)


def _pairing(a, b):
    """The bilinear pairing Re(sum(a * b)) under which transposes are taken."""
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


def test_complex_parts():
    z = np.array([[1 + 2j, -3.5 + 0.5j]], np.complex64)
    for name, ref in (("real", np.real), ("imag", np.imag), ("conj", np.conj), ("abs", np.abs)):
        got = getattr(lax, name)(z)
        _assert_same(got, ref(z), ref(z).dtype)
        assert _out_aval(getattr(lax, name), z).dtype == ref(z).dtype
    c = lax.complex(np.array([1.0, np.inf], np.float32), np.array([np.inf, 2.0], np.float32))
    assert c.dtype == np.complex64
    np.testing.assert_array_equal(c.real, [1.0, np.inf])
    np.testing.assert_array_equal(c.imag, [np.inf, 2.0])
    assert _out_aval(lax.complex, np.ones(2), np.ones((3, 1))).str_short() == "c128[3,2]"
    with pytest.raises(TypeError, match=r"real: does not accept dtype float64"):
        lax.real(np.ones(2))
    with pytest.raises(TypeError, match=r"complex: does not accept dtype complex128"):
        lax.complex(z.astype(complex), z.astype(complex))


@pytest.mark.parametrize("f", [
    lax.real, lax.imag, lax.conj, lax.abs,
    lambda z: lax.mul(lax.conj(z), lax.sin(z)),
    lambda z: lax.complex(lax.real(z), lax.mul(lax.imag(z), lax.abs(z))),
    lambda z: lax.exp(lax.mul(z, lax.complex(0.5, -1.0))),
])
def test_complex_derivatives_forward_and_transpose(f):
    rng = _rng("cplx")
    z = rand(rng, (3,), C128, -1, 1)
    t = rand(rng, (3,), C128, -1, 1)
    eps = 1e-7
    out, tan = xform.jvp(f, (z,), (t,))
    num = (f(z + eps * t) - f(z - eps * t)) / (2 * eps)
    np.testing.assert_allclose(tan, num, rtol=1e-6, atol=1e-8)
    # reverse mode is the transpose under Re(u * v): <ct, J t> == <J^T ct, t>
    ct = rand(rng, np.shape(out), np.asarray(out).dtype, -1, 1)
    (ct_in,) = xform.vjp(f, z)[1](ct)
    assert ct_in.dtype == C128
    np.testing.assert_allclose(_pairing(ct_in, t), _pairing(ct, tan), rtol=1e-12)
    # and again for the derivative of the jvp (second order)
    g = lambda a: xform.jvp(f, (a,), (t,))[1]
    out2, tan2 = xform.jvp(g, (z,), (t,))
    (ct2,) = xform.vjp(g, z)[1](ct)
    np.testing.assert_allclose(_pairing(ct2, t), _pairing(ct, tan2), rtol=1e-10, atol=1e-12)


def test_complex_abs_gradient_at_zero_is_zero():
    _, tan = xform.jvp(lax.abs, (np.array([0j, 3 + 4j]),), (np.array([1 + 1j, 1 + 0j]),))
    np.testing.assert_allclose(tan, [0.0, 0.6])


# -- vmap -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sin", "exp", "abs", "logistic", "floor", "is_finite", "erf",
                                  "stop_gradient"])
def test_vmap_unary_matches_loop(name):
    f = getattr(lax, name)
    x = rand(_rng(name, "vmap"), (4, 3, 2), F64, -2, 2)
    for ax in (0, 1, 2, -1):
        got = xform.vmap(f, in_axes=ax)(x)
        np.testing.assert_allclose(got, vmap_reference(f, (x,), (ax % 3,)))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "max", "atan2", "rem", "lt",
                                  "eq"])
def test_vmap_binary_matches_loop(name):
    f = getattr(lax, name)
    rng = _rng(name, "vmap2")
    _, (lo, hi), (ylo, yhi), _ = BINARY.get(name, (None, (-2, 2), (-2, 2), None))
    cases = [
        ((5, 3), (5, 3), (0, 0)),
        ((3, 5), (5,), (1, 0)),
        ((5, 3), (3,), (0, None)),
        ((3,), (2, 5, 3), (None, 1)),
        ((4, 1, 5), (5, 3), (2, 0)),  # batched operands of different ranks broadcast
        ((5,), (5,), (0, 0)),  # 0-d members
        ((5, 2, 3), (3,), (0, None)),
    ]
    for xs, ys, axes in cases:
        x, y = rand(rng, xs, F64, lo, hi), rand(rng, ys, F64, ylo, yhi)
        got = xform.vmap(f, in_axes=axes)(x, y)
        np.testing.assert_allclose(got, vmap_reference(f, (x, y), axes), err_msg=str((xs, ys, axes)))


def test_vmap_select_clamp_integer_pow_convert():
    rng = _rng("vmap3")
    p = rand(rng, (4, 3), BOOL)
    t, f = rand(rng, (3,), F32), rand(rng, (4, 1), F32)
    for axes, args in [((0, None, None), (p, t, 0.0)), ((1, None, 0), (p.T.copy(), t, f)),
                       ((None, 0, 0), (p[0], rand(rng, (4, 3), F32), f)),
                       ((0, 0, None), (p, rand(rng, (4, 3), F32), np.float32(1.0)))]:
        got = xform.vmap(lax.select, in_axes=axes)(*args)
        want = vmap_reference(lax.select, args, axes)
        _assert_same(got, want, F32)
    x = rand(rng, (4, 3), F64)
    np.testing.assert_allclose(xform.vmap(lambda a: lax.integer_pow(a, 3), in_axes=1)(x), (x ** 3).T)
    np.testing.assert_array_equal(
        xform.vmap(lambda a: lax.convert_element_type(a, np.int32))(x), x.astype(np.int32))
    lo, hi = np.full(4, -0.5), 0.5
    got = xform.vmap(lax.clamp, in_axes=(0, 0, None))(lo, x, hi)
    np.testing.assert_allclose(got, np.clip(x, lo[:, None], hi))


def test_vmap_of_grad_and_grad_of_vmap():
    x = rand(_rng("vg"), (5, 3), F64, 0.3, 2)
    per_row = xform.vmap(xform.grad(lambda r: lax.reduce_sum(lax.mul(lax.sin(r), lax.log(r)), (0,))))
    want = np.cos(x) * np.log(x) + np.sin(x) / x
    np.testing.assert_allclose(per_row(x), want)
    g = xform.grad(lambda a: lax.reduce_sum(xform.vmap(lax.max, in_axes=(0, None))(a, 1.0), (0, 1)))
    np.testing.assert_array_equal(g(x), np.where(x > 1.0, 1.0, np.where(x == 1.0, 0.5, 0.0)))


# -- property tests over random shapes --------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3),
       name=st.sampled_from(["add", "mul", "max", "sub", "atan2", "lt", "select"]),
       seed=st.integers(0, 2**16))
def test_property_broadcasting_impl_aval_and_vmap(shapes, name, seed):
    rng = np.random.default_rng(seed)
    xs, ys = shapes.input_shapes
    x, y = rand(rng, xs, F64), rand(rng, ys, F64, 0.3, 2)
    if name == "select":
        f = lambda a, b: lax.select(lax.gt(a, 0.0), a, b)
        want = np.where(x > 0, x, y)
    else:
        f = getattr(lax, name)
        want = {"add": np.add, "mul": np.multiply, "max": np.maximum, "sub": np.subtract,
                "atan2": np.arctan2, "lt": np.less}[name](x, y)
    got = f(x, y)
    np.testing.assert_allclose(got, want)
    aval = _out_aval(f, x, y)
    assert aval.shape == shapes.result_shape == np.shape(got)
    # vmap over a new leading axis of x only
    xb = np.stack([x, x + 1.0, x - 0.5])
    np.testing.assert_allclose(xform.vmap(f, in_axes=(0, None))(xb, y),
                               vmap_reference(f, (xb, y), (0, None)))


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, min_side=1, max_side=3),
       name=st.sampled_from(["mul", "div", "pow", "max", "atan2", "sub"]),
       seed=st.integers(0, 2**16))
def test_property_grads_with_broadcasting(shapes, name, seed):
    rng = np.random.default_rng(seed)
    _, (lo, hi), (ylo, yhi), _ = BINARY[name]
    xs, ys = shapes.input_shapes
    x, y = rand(rng, xs, F64, lo, hi), rand(rng, ys, F64, ylo, yhi)
    xform.check_grads(getattr(lax, name), (x, y), order=1, modes=("fwd", "rev"))


# -- numba_scalar ------------------------------------------------------------------------

# the elementwise primitives by name (the test tables name them)
PRIMS = {p.name: p for p in vars(ew).values() if isinstance(p, Primitive) and p.elementwise}


def _float_cases(dt, rng):
    cases = []
    for name, (_, (lo, hi), kinds) in sorted(UNARY.items()):
        if "f" in kinds:
            cases.append((PRIMS[name], [rand(rng, (7,), dt, lo, hi)], {}, {}))
    cases.append((ew.erf_inv_p, [np.array([-1.0, -0.999, -0.3, 0.0, 0.4, 0.99999, 1.0, 2.0], dt)],
                  {}, {}))
    cases.append((ew.logistic_p, [np.array([-800, -30, -1, 0, 1, 30, 800, np.nan], dt)], {}, {}))
    cases.append((ew.is_finite_p, [np.array([0.0, np.inf, -np.inf, np.nan], dt)], {}, {}))
    for name, (_, (lo, hi), (ylo, yhi), _k) in sorted(BINARY.items()):
        x, y = rand(rng, (3, 1), dt, lo, hi), rand(rng, (4,), dt, ylo, yhi)
        cases.append((PRIMS[name], [x, y], {}, {}))
        if name in ("div", "rem"):
            cases.append((PRIMS[name], [x, y], {}, {"dtype": dt}))
    for name in COMPARE:
        a, b = rand(rng, (6,), dt, -1, 1).round(), rand(rng, (6,), dt, -1, 1).round()
        cases.append((PRIMS[name], [a, b], {}, {}))
    x = rand(rng, (5,), dt, 0.2, 2)
    for n in (0, 1, 2, 5, -1, -3):
        cases.append((ew.integer_pow_p, [x], {"y": n}, {}))
    cases.append((ew.select_p, [rand(rng, (5,), BOOL), x, np.array(-1.0, dt)], {}, {}))
    cases.append((ew.clamp_p, [np.array(0.5, dt), x, np.array(1.5, dt)], {}, {}))
    cases.append((ew.stop_gradient_p, [x], {}, {}))
    cases.append((ew.add_any_p, [x, x], {}, {}))
    for target in (F32, F64, I32, U8, BOOL):
        cases.append((ew.convert_element_type_p, [x * 3], {"new_dtype": target, "weak_type": False}, {}))
    return cases


def _int_cases(dt, rng):
    signed = dt.kind == "i"
    vals = np.array([7, -7, 7, -7, 5, 0, -8, 9, 0, 3], dtype=np.int64)
    dvs = np.array([2, 2, -2, -2, 0, 0, 3, 3, -1, 1], dtype=np.int64)
    if not signed:
        vals, dvs = np.abs(vals), np.abs(dvs)
    x, y = vals.astype(dt), dvs.astype(dt)
    cases = []
    for name in ("add", "sub", "mul", "max", "min", "div", "rem", "eq", "ne", "lt", "le", "gt", "ge",
                 "bitwise_and", "bitwise_or", "bitwise_xor"):
        cases.append((PRIMS[name], [x, y], {}, {}))
        if name in ("div", "rem"):
            cases.append((PRIMS[name], [x, y], {}, {"dtype": dt}))
    for name in ("neg", "abs", "sign", "square", "bitwise_not", "stop_gradient"):
        cases.append((PRIMS[name], [x], {}, {}))
    for n in (0, 1, 2, 3):
        cases.append((ew.integer_pow_p, [x], {"y": n}, {}))
    cases.append((ew.select_p, [x > 1, x, y], {}, {}))
    cases.append((ew.clamp_p, [np.array(0, dt), x, np.array(5, dt)], {}, {}))
    for target in (F64, F32, I8, BOOL):
        cases.append((ew.convert_element_type_p, [x], {"new_dtype": target, "weak_type": False}, {}))
    return cases


def _bool_cases(rng):
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    cases = [(PRIMS[n], [a, b], {}, {}) for n in
             ("bitwise_and", "bitwise_or", "bitwise_xor", "eq", "ne", "lt", "ge", "max", "min")]
    cases.append((ew.not_p, [a], {}, {}))
    cases.append((ew.select_p, [a, b, np.array(True)], {}, {}))
    for target in (F64, I64, U8):
        cases.append((ew.convert_element_type_p, [a], {"new_dtype": target, "weak_type": False}, {}))
    return cases


def _complex_cases(rng):
    z = rand(rng, (5,), C128, -0.8, 0.8)
    w = rand(rng, (5,), C128, 0.5, 1.5)
    names = ["exp", "log", "log1p", "expm1", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
             "cosh", "tanh", "asinh", "acosh", "atanh", "sqrt", "rsqrt", "square", "reciprocal",
             "neg"]
    cases = [(PRIMS[n], [z], {}, {}) for n in names]
    cases += [(PRIMS[n], [z, w], {}, {"dtype": C128} if n == "div" else {})
              for n in ("add", "sub", "mul", "div", "pow", "eq")]
    cases.append((ew.integer_pow_p, [z], {"y": 3}, {}))
    cases += [(PRIMS[n], [z], {}, {}) for n in ("real", "imag", "conj", "abs")]
    cases.append((ew.complex_p, [z.real.copy(), np.array([np.inf, -1.0, 0.0, 2.5, -0.0])], {}, {}))
    return cases


@pytest.mark.parametrize("group", ["f64", "f32", "i64", "i8", "u8", "bool", "c128"])
def test_numba_scalar_matches_impl(group):
    rng = _rng("numba", group)
    cases = {
        "f64": lambda: _float_cases(F64, rng), "f32": lambda: _float_cases(F32, rng),
        "i64": lambda: _int_cases(I64, rng), "i8": lambda: _int_cases(I8, rng),
        "u8": lambda: _int_cases(U8, rng), "bool": lambda: _bool_cases(rng),
        "c128": lambda: _complex_cases(rng),
    }[group]()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = numba_eval_many(cases)
        for (prim, ops, params, kw), got in zip(cases, results):
            want = np.asarray(prim.impl(*ops, **params))
            msg = f"{prim.name} {params} {kw} on {[np.asarray(o).dtype for o in ops]}"
            assert got.dtype == want.dtype, msg
            if want.dtype.kind in "fc":
                tol = 2e-6 if want.dtype in (F32,) else 1e-13
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=msg)
            else:
                np.testing.assert_array_equal(got, want, err_msg=msg)


def test_every_elementwise_primitive_has_full_rule_table():
    for name, prim in PRIMS.items():
        assert prim.elementwise, name
        for rule in ("impl", "abstract_eval", "jvp", "batch", "numba_scalar"):
            assert getattr(prim, rule) is not None, (name, rule)
    linear = {"add", "sub", "neg", "mul", "div", "select", "convert_element_type", "add_any",
              "real", "imag", "conj", "complex"}
    for name in linear:
        assert PRIMS[name].transpose is not None, name
    for name in ew.__all__:
        assert getattr(lax, name) is getattr(ew, name), name


def test_jit_matches_eager():
    x = rand(_rng("jit"), (3, 4), F64, 0.3, 2)
    y = rand(_rng("jit2"), (4,), F64, 0.3, 2)

    def f(a, b):
        s = lax.add(lax.mul(lax.sin(a), lax.exp(b)), lax.div(a, b))
        s = lax.select(lax.gt(s, 1.0), lax.logistic(s), lax.max(lax.abs(s), lax.pow(a, b)))
        return lax.add(s, lax.convert_element_type(lax.div(lax.convert_element_type(a, np.int64), 2),
                                                   np.float64))

    np.testing.assert_allclose(xform.jit(f)(x, y), f(x, y), rtol=1e-12)
    q = xform.jit(lax.div)(np.array([7, -7, 5]), np.array([2, 2, 0]))
    np.testing.assert_array_equal(q, [3, -3, 0])


def test_jit_of_every_elementwise_op_matches_eager():
    rng = _rng("jit-all")
    unary = {n: spec for n, spec in UNARY.items() if "f" in spec[2]}
    xs = {n: rand(rng, (3, 2), F64, lo, hi) for n, (_, (lo, hi), _) in unary.items()}
    xs["erf_inv"] = rand(rng, (3, 2), F64, -0.99, 0.99)
    bx = {n: (rand(rng, (3, 1), F64, lo, hi), rand(rng, (2,), F64, ylo, yhi))
          for n, (_, (lo, hi), (ylo, yhi), _) in BINARY.items()}
    ints = (np.array([7, -7, 7, -7, 5, 0, -8]), np.array([2, 2, -2, -2, 0, 0, 3]))

    def f(xs, bx, ints):
        out = {n: getattr(lax, n)(x) for n, x in xs.items()}
        out.update({"b_" + n: getattr(lax, n)(*xy) for n, xy in bx.items()})
        out.update({"i_" + n: getattr(lax, n)(*ints) for n in
                    ("div", "rem", "max", "mul", "bitwise_xor", "lt")})
        a, b = bx["add"]
        out["select"] = lax.select(lax.gt(a, b), a, lax.integer_pow(b, 3))
        out["clamp"] = lax.clamp(-0.5, a, 0.5)
        out["convert"] = lax.convert_element_type(lax.mul(a, 3.0), np.int32)
        out["is_finite"] = lax.is_finite(lax.div(a, b))
        return out

    with np.errstate(all="ignore"):
        want = f(xs, bx, ints)
        got = xform.jit(f)(xs, bx, ints)
    for k in want:
        assert np.asarray(got[k]).dtype == np.asarray(want[k]).dtype, k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-13, atol=1e-14, err_msg=k)
