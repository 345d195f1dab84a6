"""xform.numpy elementwise functions against numpy: values, dtypes (NEP 50 weak scalars,
numpy's loop selection), broadcasting, 0-d/empty arrays, special values, errors; and the
same functions under grad (check_grads), vmap and jit."""
import numpy as np
import pytest
from _numpy_helpers import assert_same, compare, rand, vmap_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xform
import xform.numpy as xnp

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_,
          float, int, bool]
SHAPES = [(), (3,), (2, 0), (2, 3)]

# name -> (lo, hi) input domain
UNARY = {
    "sin": (-2, 2), "cos": (-2, 2), "tan": (-1.2, 1.2), "arcsin": (-0.9, 0.9),
    "arccos": (-0.9, 0.9), "arctan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2),
    "tanh": (-2, 2), "arcsinh": (-2, 2), "arccosh": (1.1, 3), "arctanh": (-0.9, 0.9),
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.1, 3), "log2": (0.1, 3),
    "log10": (0.1, 3), "log1p": (-0.5, 2), "sqrt": (0.1, 4), "cbrt": (-3, 3),
    "square": (-3, 3), "reciprocal": (0.5, 3), "absolute": (-3, 3), "abs": (-3, 3),
    "fabs": (-3, 3), "sign": (-3, 3), "floor": (-3, 3), "ceil": (-3, 3), "trunc": (-3, 3),
    "fix": (-3, 3), "rint": (-3, 3), "negative": (-3, 3), "positive": (-3, 3),
    "conjugate": (-3, 3), "conj": (-3, 3), "deg2rad": (-3, 3), "rad2deg": (-3, 3),
    "isnan": (-3, 3), "isfinite": (-3, 3), "isinf": (-3, 3), "logical_not": (-2, 2),
    "signbit": (-3, 3),
    "invert": (-3, 3), "bitwise_not": (-3, 3), "radians": (-3, 3), "degrees": (-3, 3),
}
# composites whose last bits can differ from numpy's C implementation
LOOSE = {"exp2": 1e-15, "log2": 1e-15, "log10": 1e-15, "logaddexp2": 1e-15, "hypot": 1e-15}


def _rtol(name, dtype):
    dt = np.dtype(dtype if dtype not in (float, int, bool) else np.float64)
    if name in LOOSE and dt == np.float64:
        return 4 * LOOSE[name]
    return None


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: getattr(d, "__name__", str(d)))
def test_unary_matches_numpy(name, dtype):
    rng = np.random.default_rng(0)
    lo, hi = UNARY[name]
    xfn, npfn = getattr(xnp, name), getattr(np, name)
    for shape in SHAPES if dtype not in (float, int, bool) else [()]:
        x = rand(rng, shape, dtype, lo, hi)
        compare(xfn, npfn, x, rtol=_rtol(name, dtype))


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, -0.5, 1e300, -1e-300])


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"invert", "bitwise_not"}))
def test_unary_special_values(name):
    compare(getattr(xnp, name), getattr(np, name), SPECIAL, rtol=_rtol(name, float))
    with np.errstate(over="ignore"):
        s32 = SPECIAL.astype(np.float32)
    compare(getattr(xnp, name), getattr(np, name), s32)


BINARY = [
    "add", "subtract", "multiply", "true_divide", "divide", "floor_divide", "remainder", "mod",
    "fmod", "power", "float_power", "maximum", "minimum", "fmax", "fmin", "arctan2", "hypot",
    "logaddexp", "logaddexp2", "heaviside", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
    "bitwise_or", "bitwise_xor",
]
PAIRS = [
    (np.float64, np.float64), (np.float32, float), (np.float32, np.float64), (np.int32, np.float32),
    (np.int64, np.int64), (np.int8, int), (np.uint8, np.int8), (np.bool_, np.bool_), (np.bool_, int),
    (int, float), (float, float), (int, int), (np.float16, np.float32), (np.int32, np.uint8),
    (np.float32, int), (np.bool_, np.float32), (bool, np.float32), (np.uint8, int),
]
BSHAPES = [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,)), ((0, 3), (3,)), ((4,), ())]


def _name(d):
    return getattr(d, "__name__", str(d))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{_name(p[0])}-{_name(p[1])}")
def test_binary_matches_numpy(name, pair):
    rng = np.random.default_rng(1)
    xfn, npfn = getattr(xnp, name), getattr(np, name)
    lo = 0.5 if name in ("power", "float_power") else -2
    for s1, s2 in BSHAPES:
        x = rand(rng, s1, pair[0], lo, 2)
        y = rand(rng, s2, pair[1], -2, 2)
        compare(xfn, npfn, x, y, rtol=_rtol(name, pair[0]))
        compare(xfn, npfn, y, x, rtol=_rtol(name, pair[0]))


@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod", "true_divide", "maximum",
                                  "minimum", "fmax", "fmin", "logaddexp", "logaddexp2", "power",
                                  "arctan2", "heaviside", "equal", "less"])
def test_binary_special_values(name):
    a, b = np.meshgrid(SPECIAL, np.r_[SPECIAL, 3.0, -3.0])
    compare(getattr(xnp, name), getattr(np, name), a, b, rtol=_rtol(name, float))


def test_integer_division_and_modulo_signs():
    a = np.array([7, -7, 7, -7, 0, 5, -128], dtype=np.int8)
    b = np.array([2, 2, -2, -2, 3, 0, -1], dtype=np.int8)
    for name in ("floor_divide", "remainder", "fmod"):
        compare(getattr(xnp, name), getattr(np, name), a, b)
    ua, ub = np.array([7, 0, 5], np.uint16), np.array([2, 3, 0], np.uint16)
    for name in ("floor_divide", "remainder", "fmod", "true_divide"):
        compare(getattr(xnp, name), getattr(np, name), ua, ub)
    with np.errstate(all="ignore"):
        assert_same(xnp.divmod(a, b), np.divmod(a, b))


def test_weak_python_scalars_keep_array_dtype():
    x32 = np.ones(3, np.float32)
    assert xnp.add(x32, 1.0).dtype == np.float32
    assert xnp.multiply(np.int8(3), 2).dtype == np.int8
    assert xnp.true_divide(np.arange(3, dtype=np.int16), 2).dtype == np.float64
    assert_same(xnp.add(1, 2), np.add(1, 2))
    assert_same(xnp.add(1, 2.5), np.add(1, 2.5))
    assert_same(xnp.power(np.float32(2), 3), np.power(np.float32(2), 3))
    with pytest.raises(OverflowError):
        xnp.add(np.int8(1), 1000)


def test_dtype_argument():
    compare(xnp.add, np.add, np.arange(3), np.arange(3), dtype=np.float32)
    compare(xnp.sqrt, np.sqrt, np.arange(3), dtype=np.float32)


def test_where_function():
    rng = np.random.default_rng(2)
    c = rng.random((2, 3)) < 0.5
    compare(xnp.where, np.where, c, rng.random((2, 3)), 1)
    compare(xnp.where, np.where, c, np.arange(3, dtype=np.int8), 2.5)
    compare(xnp.where, np.where, c[0], np.float32(1), 2)
    compare(xnp.where, np.where, np.arange(3), 1.0, np.zeros((2, 1), np.float32))
    compare(xnp.where, np.where, True, 1, 2)
    assert_same(xnp.where(np.array([0, 2, 0, 3])), np.where(np.array([0, 2, 0, 3])))


def test_where_one_argument_traced_is_clear_error():
    with pytest.raises(TypeError, match="data-dependent shape"):
        xform.jit(lambda x: xnp.where(x > 0))(np.arange(3.0))
    with pytest.raises(TypeError, match="data-dependent shape"):
        xform.vmap(lambda x: xnp.where(x)[0])(np.ones((2, 3)))


def test_clip_and_round():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4)) * 3
    compare(xnp.clip, np.clip, x, -1, 2)
    compare(xnp.clip, np.clip, x.astype(np.float32), -1, 2.5)
    compare(xnp.clip, np.clip, np.arange(-3, 4, dtype=np.int8), -1, 2)
    compare(xnp.clip, np.clip, x, None, np.zeros(4))
    compare(xnp.clip, np.clip, x, np.zeros((3, 1)), None)
    assert_same(xnp.clip(x, min=0), np.clip(x, min=0))
    for d in (0, 1, 2, -1):
        compare(xnp.round, np.round, x * 10, d)
        compare(xnp.around, np.around, x.astype(np.float32) * 10, d)
    compare(xnp.round, np.round, np.array([0.5, 1.5, 2.5, -0.5, -1.5]))
    compare(xnp.round, np.round, np.arange(-5, 200, 17), -1)
    compare(xnp.round, np.round, np.arange(5, dtype=np.int16), 2)


def test_outputs_are_numpy_types():
    assert type(xnp.sin(0.5)) is np.float64
    assert type(xnp.sin(np.array(0.5))) is np.float64
    assert type(xnp.add(np.ones(2), 1)) is xform.Array  # an ndarray subclass (.at)
    assert type(xnp.less(1, 2)) is np.bool_


def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"subtract.*\(2,\).*\(3,\)"):
        xnp.subtract(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"multiply.*\(2, 3\).*\(2,\)"):
        xform.make_jaxpr(lambda a, b: a * b)(np.ones((2, 3)), np.ones(2))


def test_unsupported_dtypes_clear_type_error():
    with pytest.raises(TypeError, match="not supported"):
        xnp.sin(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="not supported"):
        xnp.add(np.array([object()]), 1)
    with pytest.raises(TypeError):
        xnp.bitwise_and(np.ones(2), 1)
    with pytest.raises(TypeError, match="out="):
        xnp.add(np.ones(2), 1, out=np.ones(2))


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_binary_broadcasting_property(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    d1 = data.draw(st.sampled_from([np.float64, np.float32, np.int32, np.int8, np.bool_, np.uint8]))
    d2 = data.draw(st.sampled_from([np.float64, np.float32, np.int64, np.bool_, float, int]))
    name = data.draw(st.sampled_from(["add", "multiply", "maximum", "true_divide", "less",
                                      "floor_divide", "remainder", "logaddexp", "arctan2"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rand(rng, shapes.input_shapes[0], d1)
    y = rand(rng, shapes.input_shapes[1], d2)
    compare(getattr(xnp, name), getattr(np, name), x, y)


# -- transformations --------------------------------------------------------------------

GRAD_UNARY = ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
              "arcsinh", "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2", "log10",
              "log1p", "sqrt", "cbrt", "square", "reciprocal", "absolute", "negative",
              "deg2rad", "trunc", "rint", "floor"]


@pytest.mark.parametrize("name", GRAD_UNARY)
def test_grad_unary(name):
    lo, hi = UNARY[name]
    x = np.random.default_rng(4).uniform(lo, hi, size=(3,))
    if name in ("absolute", "cbrt"):
        x = np.where(np.abs(x) < 0.3, 0.7, x)
    if name in ("trunc", "rint", "floor"):
        x = x.round() + 0.3
    xform.check_grads(getattr(xnp, name), (x,), order=2, atol=1e-4, rtol=1e-4)


GRAD_BINARY = ["add", "subtract", "multiply", "true_divide", "power", "maximum", "minimum",
               "fmax", "fmin", "arctan2", "hypot", "logaddexp", "logaddexp2", "float_power"]


@pytest.mark.parametrize("name", GRAD_BINARY)
def test_grad_binary(name):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 2, size=(2, 3))
    y = rng.uniform(0.5, 2, size=(3,)) + 0.05  # no ties for max/min
    xform.check_grads(getattr(xnp, name), (x, y), order=2, atol=1e-4, rtol=1e-4)


def test_grad_special_cases():
    # integer powers at 0 have finite derivatives (integer_pow)
    assert xform.grad(lambda x: x ** 2)(0.0) == 0.0
    assert xform.grad(lambda x: xnp.power(x, 3))(0.0) == 0.0
    # logaddexp splits the gradient at a tie; mod/floor_divide have their a.e. derivatives
    np.testing.assert_allclose(xform.grad(xnp.logaddexp, argnums=(0, 1))(1.0, 1.0), (0.5, 0.5))
    assert xform.grad(lambda x: xnp.remainder(x, 1.5))(2.0) == 1.0
    assert xform.grad(lambda x: xnp.floor_divide(x, 1.5))(2.0) == 0.0
    # where / clip route derivatives
    g = xform.grad(lambda x: xnp.sum(xnp.where(x > 0, x ** 2, -x)))(np.array([-1.0, 2.0]))
    np.testing.assert_allclose(g, [-1.0, 4.0])
    g = xform.grad(lambda x: xnp.sum(xnp.clip(x, -1, 1)))(np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_allclose(g, [0.0, 1.0, 0.0])


def test_weak_type_under_grad_and_jvp():
    f32 = np.float32(1.5)
    assert xform.grad(lambda x: x * 2.0 + 1)(f32).dtype == np.float32
    y, t = xform.jvp(lambda x: xnp.sin(x) / 3, (np.ones(2, np.float32),), (np.ones(2, np.float32),))
    assert y.dtype == t.dtype == np.float32


@pytest.mark.parametrize("name", ["add", "arctan2", "power", "maximum", "remainder", "less",
                                  "logaddexp", "where3"])
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 1), (1, 0)])
def test_vmap_binary(name, in_axes):
    rng = np.random.default_rng(6)
    x = rng.uniform(0.5, 2, size=(3, 3))
    y = rng.uniform(0.5, 2, size=(3, 3))
    if name == "where3":
        def fn(a, b):
            return xnp.where(a > b, a, 2.0 * b)
    else:
        fn = getattr(xnp, name)
    got = xform.vmap(fn, in_axes=in_axes)(x, y)
    assert_same(got, vmap_reference(fn, (x, y), in_axes))


def test_vmap_unary_chain():
    x = np.random.default_rng(7).uniform(0.1, 2, size=(4, 3))

    def f(v):
        return xnp.log1p(xnp.sqrt(v)) * xnp.sign(v - 1) + xnp.rint(v * 3) - xnp.floor_divide(v, 0.3)

    assert_same(xform.vmap(f)(x), vmap_reference(f, (x,), (0,)))
    assert_same(xform.vmap(f, in_axes=1)(x), vmap_reference(f, (x,), (1,)))


def test_jit_elementwise_matches_eager():
    rng = np.random.default_rng(8)
    x = rng.uniform(0.5, 2, size=(3, 4))
    y = rng.uniform(0.5, 2, size=(4,)).astype(np.float32)
    i = rng.integers(-5, 5, size=(3, 4)).astype(np.int32)

    def f(x, y, i):
        a = xnp.sin(x) * y + xnp.exp2(y) - xnp.logaddexp(x, y) / xnp.hypot(x, 1.5)
        b = xnp.floor_divide(i, 3) + xnp.remainder(i, -4) * xnp.fmod(i, 3)
        c = xnp.where(x > 1, xnp.maximum(x, y), xnp.fmin(x, y)) ** 2
        d = xnp.logical_xor(i > 0, x < 1.5)
        return a, b, c, d, xnp.clip(i, -2, 2), xnp.rint(x * 4), xnp.true_divide(i, 2)

    eager = f(x, y, i)
    jitted = xform.jit(f)(x, y, i)
    for e, j in zip(eager, jitted):
        assert_same(j, e, rtol=1e-12)
    expected = (np.sin(x) * y + np.exp2(y) - np.logaddexp(x, y) / np.hypot(x, 1.5))
    assert_same(jitted[0], expected, rtol=1e-12)


_SIGNED_UNSIGNED = [np.array([1, -2, 5, np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0], np.int64),
                    np.array([3, 2, 5, 2**63 + 5, 2**63 - 1, 0], np.uint64)]
_COMPARE = [(xnp.equal, np.equal), (xnp.not_equal, np.not_equal), (xnp.less, np.less),
            (xnp.less_equal, np.less_equal), (xnp.greater, np.greater),
            (xnp.greater_equal, np.greater_equal)]


@pytest.mark.parametrize("signed_dt", [np.int8, np.int64])
def test_signed_and_uint64_compare_exactly(signed_dt):
    """numpy 2 compares signed integers with uint64 exactly (no common dtype holds both)."""
    s = _SIGNED_UNSIGNED[0].astype(signed_dt)
    u = _SIGNED_UNSIGNED[1]
    jitted = xform.jit(lambda a, b: [f(a, b) for f, _ in _COMPARE] + [f(b, a) for f, _ in _COMPARE]
                       + [a < b, b >= a])
    got = jitted(s, u)
    want = ([g(s, u) for _, g in _COMPARE] + [g(u, s) for _, g in _COMPARE] + [s < u, u >= s])
    eager = [f(s, u) for f, _ in _COMPARE] + [f(u, s) for f, _ in _COMPARE]
    for e, w in zip(eager, want):
        np.testing.assert_array_equal(e, w)
    for g, w in zip(got, want):
        assert g.dtype == np.bool_
        np.testing.assert_array_equal(g, w)


def test_complex_predicates_and_sign():
    z = np.array([1e308 + 1e308j, 3 + 4j, 0j, np.inf + 0j, -np.inf + 5j, complex(2, -np.inf),
                  complex(np.inf, np.inf), complex(np.nan, 0), complex(-0.0, 0), complex(0, -2),
                  complex(np.nan, np.inf)])
    fns = [(xnp.isfinite, np.isfinite), (xnp.isinf, np.isinf), (xnp.isnan, np.isnan),
           (xnp.sign, np.sign)]
    jitted = xform.jit(lambda z: [f(z) for f, _ in fns])(z)
    with np.errstate(all="ignore"):
        for (f, g), j in zip(fns, jitted):
            want = g(z)
            np.testing.assert_array_equal(f(z), want)
            np.testing.assert_array_equal(j, want)
        np.testing.assert_array_equal(xnp.isclose(z, z * (1 + 1e-9)), np.isclose(z, z * (1 + 1e-9)))
    assert xnp.sign(np.array([1 + 1j], np.complex64)).dtype == np.complex64


def test_sign_of_negative_zero_and_of_doubly_infinite_complex():
    v = np.array([-0.0, 0.0, -2.0, np.nan, 3.0])
    for got in (xnp.sign(v), xform.jit(xnp.sign)(v), xform.jit(xnp.sign)(v.astype(np.float32))):
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.sign(v)))
        np.testing.assert_array_equal(got, np.sign(v))
    z = np.array([complex(-np.inf, -np.inf), complex(np.inf, 1)])
    with np.errstate(invalid="ignore"):
        want = np.sign(z)
        for got in (xnp.sign(z), xform.jit(xnp.sign)(z)):
            np.testing.assert_array_equal(got, want)


def test_python_ints_up_to_2_64_work_with_uint64_operands():
    u = np.array([1, 2**64 - 1, 2**63], np.uint64)
    i = np.array([-5, 2**63 - 1, 0], np.int64)
    np.testing.assert_array_equal(xnp.equal(u, 2**64 - 1), np.equal(u, 2**64 - 1))
    np.testing.assert_array_equal(xform.jit(lambda a: a == 2**64 - 1)(u), u == 2**64 - 1)
    np.testing.assert_array_equal(xform.jit(lambda a: a > 2**63)(u), u > 2**63)
    np.testing.assert_array_equal(xnp.add(u, 2**63), np.add(u, 2**63))
    np.testing.assert_array_equal(xform.jit(lambda a: a + 2**63)(u), np.add(u, 2**63))
    np.testing.assert_array_equal(xnp.less(i, 2**63), np.less(i, 2**63))
    with pytest.raises(OverflowError, match="add: Python integer 9223372036854775808 out of bounds"):
        xnp.add(i, 2**63)


def test_power_with_a_scalar_one_half_is_sqrt_like_numpy():
    """numpy's float power with a scalar exponent 0.5 is sqrt (-0.0 -> -0.0, -inf -> nan);
    an array exponent of 0.5s is pow (-0.0 -> 0.0, -inf -> inf)."""
    v = np.array([-np.inf, -0.0, 4.0, np.nan, -1.0])
    halves = np.full(5, 0.5)
    with np.errstate(invalid="ignore"):
        got = xform.jit(lambda x, h: [x ** 0.5, xnp.power(x, 0.5), xnp.power(x, np.float32(0.5)),
                                      xnp.power(x, h)])(v, halves)
        for g, w in zip(got, [v ** 0.5, np.power(v, 0.5), np.power(v, np.float32(0.5)),
                              np.power(v, halves)]):
            np.testing.assert_array_equal(g, w)
            np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
        np.testing.assert_array_equal(xnp.power(v, 0.5), np.power(v, 0.5))
    assert float(xform.grad(lambda x: x ** 0.5)(4.0)) == 0.25


def test_bool_array_squared_by_the_operator_is_int8_like_numpy():
    b = np.array([True, False])
    got = xform.jit(lambda x: [x ** 2, xnp.power(x, 2)])(b)
    assert got[0].dtype == (b ** 2).dtype == np.int8
    assert got[1].dtype == np.power(b, 2).dtype
    np.testing.assert_array_equal(got[0], b ** 2)
