"""Reductions and cumulative ops of xform.lax: impl vs numpy, abstract eval, errors,
JAX's derivative conventions (ties, zeros), grads, vmap, property tests."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
from xform import lax

from _lax_helpers import make_rand, check, check_vmap, grads, both_modes_raise

rng = np.random.default_rng(1)
rand = make_rand(rng)













SHAPES_AXES = [((2, 3), (1,)), ((2, 3), (-1, 0)), ((2, 3, 4), (0, 2)), ((4,), 0),
               ((3, 0), (0,)), ((2, 3), None)]


def _axes(shape, axes):
    return tuple(range(len(shape))) if axes is None else axes


# -- max / min / prod / and / or --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("shape,axes", SHAPES_AXES)
def test_reduce_max_min(dtype, shape, axes):
    x = rand(shape, dtype)
    ax = _axes(shape, axes)
    check(lambda x: lax.reduce_max(x, axes), (x,), np.max(x, axis=ax))
    check(lambda x: lax.reduce_min(x, axes), (x,), np.min(x, axis=ax))


@pytest.mark.parametrize("dtype,lo,hi", [(np.float64, -np.inf, np.inf), (np.int8, -128, 127),
                                         (np.uint16, 0, 65535), (np.bool_, False, True)])
def test_reduce_max_min_empty_identity(dtype, lo, hi):
    x = np.zeros((3, 0), dtype)
    check(lambda x: lax.reduce_max(x, 1), (x,), np.full(3, lo, dtype))
    check(lambda x: lax.reduce_min(x, 1), (x,), np.full(3, hi, dtype))


def test_reduce_max_nan_and_zero_d():
    x = np.array([[1.0, np.nan], [2.0, 3.0]])
    np.testing.assert_array_equal(lax.reduce_max(x, 1), [np.nan, 3.0])
    np.testing.assert_array_equal(lax.reduce_min(x, 0), [1.0, np.nan])
    assert lax.reduce_max(np.float64(2.0), ()) == 2.0


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32])
@pytest.mark.parametrize("shape,axes", SHAPES_AXES)
def test_reduce_prod(dtype, shape, axes):
    x = rand(shape, dtype)
    check(lambda x: lax.reduce_prod(x, axes), (x,), np.prod(x, axis=_axes(shape, axes), dtype=dtype))


@pytest.mark.parametrize("shape,axes", SHAPES_AXES)
def test_reduce_and_or(shape, axes):
    x = rand(shape, bool)
    ax = _axes(shape, axes)
    check(lambda x: lax.reduce_and(x, axes), (x,), np.all(x, axis=ax))
    check(lambda x: lax.reduce_or(x, axes), (x,), np.any(x, axis=ax))
    both_modes_raise(TypeError, "reduce_or.*boolean", lambda x: lax.reduce_or(x, 0), np.ones(2))


def test_reduction_errors():
    x = np.ones((2, 3))
    for f in (lax.reduce_max, lax.reduce_min, lax.reduce_prod):
        both_modes_raise(ValueError, f.__name__ + ".*out of bounds", lambda x: f(x, (2,)), x)
        both_modes_raise(ValueError, f.__name__ + ".*repeated", lambda x: f(x, (0, -2)), x)
    both_modes_raise(TypeError, "complex", lambda x: lax.reduce_max(x, 0), np.ones(2, complex))


def test_max_ties_split_equally():
    g = xform.grad(lambda x: lax.reduce_max(x, 0))(np.array([1.0, 3.0, 3.0]))
    np.testing.assert_allclose(g, [0.0, 0.5, 0.5])
    g = xform.grad(lambda x: lax.reduce_sum(lax.reduce_min(x, 1), 0))(
        np.array([[2.0, 2.0, 2.0], [0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(g, [[1 / 3] * 3, [0.5, 0.0, 0.5]])
    _, t = xform.jvp(lambda x: lax.reduce_max(x, 0), (np.array([3.0, 3.0]),), (np.array([1.0, 3.0]),))
    np.testing.assert_allclose(t, 2.0)


def test_reduce_grads():
    x = rand((3, 4))
    grads(lambda x: lax.reduce_max(x, 1), x)
    grads(lambda x: lax.reduce_min(lax.sin(x), (0, 1)), x)
    grads(lambda x: lax.reduce_prod(x, 0), x)
    grads(lambda x: lax.reduce_prod(x, (0, 1)), x)
    grads(lambda x: lax.reduce_prod(x, -1), rand((2, 3, 4)))


def test_reduce_prod_grad_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 5.0])
    np.testing.assert_allclose(xform.grad(lambda x: lax.reduce_prod(x, 0))(x), [0, 30, 0, 0])
    x2 = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_allclose(xform.grad(lambda x: lax.reduce_prod(x, 0))(x2), [0, 0, 0, 0])
    # second derivative between the two zeros is the product of the others: 2 * 3
    h = xform.jacfwd(xform.grad(lambda x: lax.reduce_prod(x, 0)))(x2)
    want = np.zeros((4, 4))
    want[1, 3] = want[3, 1] = 6.0
    np.testing.assert_allclose(h, want)
    xz = rand((3, 4))
    xz[0, 1] = xz[1, 1] = xz[1, 2] = xz[2, 0] = 0.0
    grads(lambda x: lax.reduce_prod(x, 1), xz)
    grads(lambda x: lax.reduce_prod(x, (0, 1)), xz)


def test_reduce_empty_grads():
    x = np.zeros((2, 0))
    g = xform.grad(lambda x: lax.reduce_sum(lax.reduce_prod(x, 1), 0))(x)
    assert g.shape == (2, 0)
    _, t = xform.jvp(lambda x: lax.reduce_max(x, 1), (x,), (x,))
    np.testing.assert_array_equal(t, [0.0, 0.0])


@pytest.mark.parametrize("f", [lambda x: lax.reduce_max(x, (0, 1)), lambda x: lax.reduce_min(x, 1),
                               lambda x: lax.reduce_prod(x, (1,)),
                               lambda x: lax.reduce_or(lax.reduce_and(lax.gt(x, 0.0), 0), 0)])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_reduce_vmap(f, axis):
    check_vmap(f, (rand((4, 3, 5)),), (axis,))


# -- argmax / argmin ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1),
                                        ((0, 3), 1)])
def test_argmax_argmin(dtype, shape, axis):
    x = rand(shape, dtype)
    check(lambda x: lax.argmax(x, axis), (x,), np.argmax(x, axis=axis).astype(np.int64))
    check(lambda x: lax.argmin(x, axis, np.int32), (x,), np.argmin(x, axis=axis).astype(np.int32))


def test_argmax_ties_and_nan_like_numpy():
    x = np.array([[1.0, 5.0, 5.0, np.nan, 7.0], [2.0, 2.0, 0.0, 0.0, np.nan]])
    np.testing.assert_array_equal(lax.argmax(x, 1), np.argmax(x, 1))
    np.testing.assert_array_equal(lax.argmin(x, 1), np.argmin(x, 1))
    y = np.array([3, 1, 1, 3])
    assert lax.argmax(y, 0) == 0 and lax.argmin(y, 0) == 1


def test_argmax_errors_and_no_tangent():
    both_modes_raise(ValueError, "argmax.*empty", lambda x: lax.argmax(x, 0), np.zeros((0, 3)))
    both_modes_raise(ValueError, "argmin.*out of bounds", lambda x: lax.argmin(x, 2), np.zeros((2, 3)))
    both_modes_raise(ValueError, "argmax", lambda x: lax.argmax(x, 0), np.float64(1.0))
    with pytest.raises(TypeError, match="index_dtype"):
        lax.argmax(np.ones(3), 0, np.float32)
    _, t = xform.jvp(lambda x: lax.argmax(x, 0), (np.array([1.0, 2.0]),), (np.ones(2),))
    assert t.dtype == xform.float0
    g = xform.grad(lambda x: lax.reduce_sum(
        lax.mul(x, lax.convert_element_type(lax.argmax(x, 0), np.float64)), 0))(np.array([2.0, 3.0]))
    np.testing.assert_allclose(g, [1.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_argmax_vmap(axis):
    check_vmap(lambda x: lax.argmax(x, 1), (rand((4, 3, 5)),), (axis,))
    check_vmap(lambda x: lax.argmin(x, -1, np.int32), (rand((4, 3, 5)),), (axis,))


# -- cumulative ops -------------------------------------------------------------------------------

CUM = [(lax.cumsum, np.cumsum), (lax.cumprod, np.cumprod),
       (lax.cummax, np.maximum.accumulate), (lax.cummin, np.minimum.accumulate)]


def _np_cum(fn, x, axis, reverse):
    if reverse:
        return np.flip(fn(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return fn(x, axis=axis, dtype=x.dtype)


@pytest.mark.parametrize("lfn,nfn", CUM)
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.float32])
@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((0, 3), 0), ((2, 0), 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative(lfn, nfn, dtype, shape, axis, reverse):
    x = rand(shape, dtype)
    check(lambda x: lfn(x, axis, reverse=reverse), (x,), _np_cum(nfn, x, axis, reverse))


def test_cumulative_errors():
    both_modes_raise(ValueError, "cumsum.*out of bounds", lambda x: lax.cumsum(x, 2), np.ones((2, 3)))
    both_modes_raise(ValueError, "cummax.*out of bounds", lambda x: lax.cummax(x, 0), np.float64(1))


def test_cummax_nan_propagates():
    x = np.array([1.0, np.nan, 3.0])
    np.testing.assert_array_equal(lax.cummax(x), np.maximum.accumulate(x))


@pytest.mark.parametrize("fn", [lax.add, lax.mul, lax.max, lax.min])
def test_associative_scan(fn):
    ref = {lax.add: np.add, lax.mul: np.multiply, lax.max: np.maximum, lax.min: np.minimum}[fn]
    for n in range(0, 18):
        x = rand((2, n))
        np.testing.assert_allclose(lax.associative_scan(fn, x, axis=1),
                                   ref.accumulate(x, axis=1), rtol=1e-12)
        np.testing.assert_allclose(lax.associative_scan(fn, x, axis=-1, reverse=True),
                                   np.flip(ref.accumulate(np.flip(x, 1), axis=1), 1), rtol=1e-12)


def test_cumulative_grads():
    x = rand((3, 5))
    grads(lambda x: lax.cumsum(x, 1), x)
    grads(lambda x: lax.cumsum(lax.mul(x, x), 0, reverse=True), x)
    grads(lambda x: lax.cumprod(x, 1), x)
    grads(lambda x: lax.cumprod(x, 0, reverse=True), x)
    grads(lambda x: lax.cummax(x, 1), x)
    grads(lambda x: lax.cummin(x, 0, reverse=True), x)
    xz = x.copy()
    xz[0, 1] = xz[1, 3] = xz[1, 0] = 0.0
    grads(lambda x: lax.cumprod(x, 1), xz)


def test_cumsum_transpose_is_reverse_cumsum():
    ct = rand((6,))
    _, f_vjp = xform.vjp(lambda x: lax.cumsum(x, 0), rand((6,)))
    np.testing.assert_allclose(f_vjp(ct)[0], np.cumsum(ct[::-1])[::-1])
    jx = xform.make_jaxpr(lambda x: lax.cumsum(x, 0))(np.ones(3))
    assert [e.primitive.name for e in jx.eqns] == ["cumsum"]


def test_cumprod_grad_with_zero_exact():
    x = np.array([2.0, 0.0, 3.0])
    g = xform.grad(lambda x: lax.reduce_sum(lax.cumprod(x, 0), 0))(x)
    # d/dx of [x0, x0 x1, x0 x1 x2] summed
    np.testing.assert_allclose(g, [1.0, 2.0 + 6.0, 0.0])


@pytest.mark.parametrize("lfn", [c[0] for c in CUM])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_cumulative_vmap(lfn, axis):
    check_vmap(lambda x: lfn(x, 1, reverse=True), (rand((4, 3, 5)),), (axis,))
    check_vmap(lambda x: lfn(x, 0), (rand((4, 3, 5)),), (axis,))


def test_vmap_of_grad_cumprod():
    f = xform.grad(lambda x: lax.reduce_sum(lax.cumprod(x, 0), 0))
    xs = rand((4, 5))
    got = xform.vmap(f)(xs)
    np.testing.assert_allclose(got, np.stack([f(x) for x in xs]), rtol=1e-12)


# -- property tests -------------------------------------------------------------------------------


@st.composite
def shape_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=4)))
    axes = sorted(draw(st.sets(st.integers(-len(shape), len(shape) - 1), max_size=len(shape)))) \
        if shape else []
    axes = sorted({a % len(shape) for a in axes}) if shape else []
    return shape, tuple(axes)


@settings(max_examples=50, deadline=None)
@given(shape_and_axes())
def test_reductions_property(case):
    shape, axes = case
    x = rand(shape)
    np.testing.assert_allclose(lax.reduce_sum(x, axes), np.sum(x, axis=axes), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(lax.reduce_max(x, axes), np.max(x, axis=axes))
    np.testing.assert_allclose(lax.reduce_prod(x, axes), np.prod(x, axis=axes), rtol=1e-12)
    # d/dx prod = prod / x (no zeros in random normal data)
    g = xform.grad(lambda x: lax.reduce_sum(lax.reduce_prod(x, axes), None))(x)
    keep = np.prod(x, axis=axes, keepdims=True)
    np.testing.assert_allclose(g, keep / x, rtol=1e-9, atol=1e-12)
    # max: gradient is the one-hot of the maximum along the reduced axes
    gm = xform.grad(lambda x: lax.reduce_sum(lax.reduce_max(x, axes), None))(x)
    np.testing.assert_array_equal(gm, (x == np.max(x, axis=axes, keepdims=True)).astype(float))
