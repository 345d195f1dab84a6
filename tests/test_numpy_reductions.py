"""Reductions and cumulative ops against numpy (axis None/int/negative/tuple, keepdims,
dtype rules: sum of bool/int8/int32 -> int64, mean of ints -> float64, float16 via
float32), empty and 0-d inputs; grad, vmap and jit."""
import numpy as np
import pytest
from _numpy_helpers import assert_same, compare, rand, vmap_reference
from _tolerance import mean_of, product_of, variance
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xform
import xform.numpy as xnp

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint8, np.uint32,
          np.bool_]
AXES = [None, 0, -1, (0, 2), (-1, 0, 1), ()]
REDUCTIONS = ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "all", "any",
              "nansum", "nanmean", "nanmax", "nanmin", "ptp"]


def _count(args, kwargs, keep=None):
    """Number of elements each output reduces (of the non-nan ones if ``keep``)."""
    x = np.asarray(args[0])
    ones = np.ones(x.shape) if keep is None else keep(x).astype(np.float64)
    axis = kwargs.get("axis")
    return np.sum(ones, axis=axis, keepdims=kwargs.get("keepdims", False))


def _cumulative_count(args, kwargs):
    x = np.asarray(args[0])
    return np.cumsum(np.ones(x.shape), axis=kwargs.get("axis"))


def _variance(std):
    def bound(fn, args, kwargs, dtype):
        kw = {k: v for k, v in kwargs.items() if k in ("axis", "ddof", "keepdims", "dtype")}
        return variance(args[0], std=std, **kw)
    return bound


# Sums, means and variances are compared with a float64 reference within their error
# bounds (tests/_tolerance.py), not with numpy's rounding (pairwise vs sequential order,
# SIMD partial sums); max/min/ptp/all/any are exact or one rounding (relative _TOL).
BOUNDS = {
    "sum": "sum_of_products", "nansum": "sum_of_products", "cumsum": "sum_of_products",
    "mean": mean_of(np.mean, _count),
    "nanmean": mean_of(np.nanmean, lambda a, k: _count(a, k, keep=lambda x: ~np.isnan(x))),
    "var": _variance(False), "std": _variance(True),
    "prod": product_of(_count), "cumprod": product_of(_cumulative_count),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_reductions_match_numpy(name, dtype):
    rng = np.random.default_rng(0)
    x = rand(rng, (2, 3, 4), dtype, -3, 3)
    xfn, npfn = getattr(xnp, name), getattr(np, name)
    for axis in AXES:
        for keepdims in (False, True):
            compare(xfn, npfn, x, axis=axis, keepdims=keepdims, bound=BOUNDS.get(name))


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_edge_shapes(name):
    xfn, npfn = getattr(xnp, name), getattr(np, name)
    for x in (np.float64(2.5), np.array(3), np.zeros((0,)), np.ones((2, 0)), np.arange(5.0),
              np.array([True, False])):
        for axis in (None, 0, -1):
            if axis is not None and np.ndim(x) == 0:
                continue
            compare(xfn, npfn, x, axis=axis, bound=BOUNDS.get(name))
    compare(xfn, npfn, [[1, 2], [3, 4]], axis=1, bound=BOUNDS.get(name))
    compare(xfn, npfn, 5, bound=BOUNDS.get(name))


def test_reduction_dtype_rules():
    i32 = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert xnp.sum(i32).dtype == np.int64
    assert xnp.sum(np.ones(3, np.uint8)).dtype == np.uint64
    assert xnp.sum(np.ones(3, bool)).dtype == np.int64
    assert xnp.mean(i32).dtype == np.float64
    assert xnp.mean(np.ones(3, np.float16)).dtype == np.float16
    assert xnp.var(np.ones(3, np.float32)).dtype == np.float32
    assert xnp.argmax(i32).dtype == np.int64
    assert xnp.prod(np.ones(3, np.int8)).dtype == np.int64
    compare(xnp.sum, np.sum, i32, axis=0, dtype=np.float32, bound=BOUNDS["sum"])
    compare(xnp.mean, np.mean, i32, axis=1, dtype=np.float32, bound=BOUNDS["mean"])
    compare(xnp.sum, np.sum, i32, initial=10)
    compare(xnp.max, np.max, np.zeros((0, 2)), axis=0, initial=-1.0)
    compare(xnp.prod, np.prod, i32 + 1, axis=1, initial=2)


@pytest.mark.parametrize("ddof", [0, 1, 2, 5])
def test_var_std_ddof(ddof):
    x = np.random.default_rng(1).normal(size=(3, 4))
    for fn in ("var", "std"):
        for axis in (None, 0, 1, (0, 1)):
            for a in (x, x.astype(np.float32), (x * 5).astype(np.int16)):
                compare(getattr(xnp, fn), getattr(np, fn), a, axis=axis, ddof=ddof, bound=BOUNDS[fn])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint8, np.bool_])
def test_argmax_argmin(name, dtype):
    rng = np.random.default_rng(2)
    x = rand(rng, (3, 4, 2), dtype, -2, 2)  # many ties: numpy picks the first
    xfn, npfn = getattr(xnp, name), getattr(np, name)
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            compare(xfn, npfn, x, axis=axis, keepdims=keepdims)
    compare(xfn, npfn, np.array([1.0, np.nan, 3.0, np.nan]))
    compare(xfn, npfn, np.array(4.0))
    compare(xfn, npfn, np.zeros((0, 3)), axis=1)
    with pytest.raises(ValueError, match="empty"):
        xfn(np.zeros((0, 3)))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int8, np.uint8, np.bool_])
def test_cumulative(name, dtype):
    rng = np.random.default_rng(3)
    x = rand(rng, (3, 4), dtype, -2, 2)
    xfn, npfn = getattr(xnp, name), getattr(np, name)
    bound = BOUNDS[name]
    for axis in (None, 0, 1, -1):
        compare(xfn, npfn, x, axis=axis, bound=bound)
    compare(xfn, npfn, x, axis=0, dtype=np.float32, bound=bound)
    compare(xfn, npfn, np.zeros((2, 0)), axis=1, bound=bound)
    compare(xfn, npfn, np.float64(3.0), bound=bound)
    compare(xnp.cumulative_sum, np.cumulative_sum, x[0], include_initial=True, bound=BOUNDS["cumsum"])
    compare(xnp.cumulative_prod, np.cumulative_prod, x, axis=1, bound=BOUNDS["cumprod"])


def test_misc_reductions():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4))
    x[x < -0.5] = 0
    compare(xnp.count_nonzero, np.count_nonzero, x)
    compare(xnp.count_nonzero, np.count_nonzero, x, axis=1)
    compare(xnp.average, np.average, x)
    compare(xnp.average, np.average, x, axis=1, weights=np.arange(1.0, 5.0))
    compare(xnp.average, np.average, x, weights=rng.random((3, 4)))
    xn = x.copy()
    xn[0, 1] = np.nan
    for name in ("nansum", "nanmean", "nanmax", "nanmin"):
        compare(getattr(xnp, name), getattr(np, name), xn, axis=0)
    compare(xnp.max, np.max, xn, axis=1)  # nan propagates


def test_empty_reduction_errors():
    with pytest.raises(ValueError, match="zero-size"):
        xnp.max(np.zeros((0, 3)), axis=0)
    with pytest.raises(np.exceptions.AxisError):
        xnp.sum(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="duplicate"):
        xnp.sum(np.ones((2, 3)), axis=(0, -2))
    with pytest.raises(TypeError, match="where= must be a boolean array"):
        xnp.sum(np.ones(3), where=np.ones(3))
    with pytest.raises(ValueError, match="specify 'initial'"):
        xnp.max(np.ones(3), where=np.ones(3, bool))


@given(st.data())
@settings(max_examples=50, deadline=None)
def test_reduction_property(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    dtype = data.draw(st.sampled_from([np.float64, np.float32, np.int32, np.int8, np.bool_]))
    name = data.draw(st.sampled_from(["sum", "mean", "prod", "all", "any", "var", "max"]))
    nd = len(shape)
    axis = data.draw(st.one_of(st.none(), st.lists(st.integers(-nd, nd - 1), unique_by=lambda a: a % nd,
                                                   max_size=nd).map(tuple) if nd else st.none()))
    keepdims = data.draw(st.booleans())
    x = rand(np.random.default_rng(data.draw(st.integers(0, 999))), shape, dtype)
    compare(getattr(xnp, name), getattr(np, name), x, axis=axis, keepdims=keepdims,
            bound=BOUNDS.get(name))


# -- transformations ------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: xnp.sum(x ** 2, axis=1),
    lambda x: xnp.mean(xnp.sin(x), axis=(0, 1)),
    lambda x: xnp.var(x, axis=0, ddof=1),
    lambda x: xnp.std(x, axis=-1, keepdims=True),
    lambda x: xnp.max(x, axis=1),
    lambda x: xnp.min(x),
    lambda x: xnp.prod(x, axis=0),
    lambda x: xnp.cumsum(x, axis=1),
    lambda x: xnp.cumprod(x, axis=0),
    lambda x: xnp.average(x, axis=1, weights=np.array([1.0, 2.0, 3.0, 4.0])),
    lambda x: xnp.ptp(x, axis=0),
], ids=["sum", "mean", "var", "std", "max", "min", "prod", "cumsum", "cumprod", "average", "ptp"])
def test_grads(fn):
    x = np.random.default_rng(5).uniform(0.5, 2.0, size=(3, 4))
    xform.check_grads(fn, (x,), order=2, atol=1e-4, rtol=1e-4)


def test_grad_values():
    x = np.array([[1.0, 5.0, 2.0], [7.0, 3.0, 0.5]])
    np.testing.assert_allclose(xform.grad(lambda v: xnp.max(v))(x), [[0, 0, 0], [1, 0, 0]])
    np.testing.assert_allclose(xform.grad(lambda v: xnp.mean(v))(x), np.full((2, 3), 1 / 6))
    g = xform.grad(lambda v: v.sum(axis=0).prod())(x)
    np.testing.assert_allclose(g, np.broadcast_to((x.sum(0).prod() / x.sum(0)), (2, 3)))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "argmax", "all", "cumsum", "prod"])
@pytest.mark.parametrize("in_axis", [0, 1, 2])
def test_vmap_reductions(name, in_axis):
    x = np.random.default_rng(6).normal(size=(2, 3, 4))
    for axis in (0, -1, None):
        fn = lambda v: getattr(xnp, name)(v, axis=axis)  # noqa: E731
        assert_same(xform.vmap(fn, in_axes=in_axis)(x), vmap_reference(fn, (x,), (in_axis,)))


def test_jit_reductions_match_eager():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 4))
    i = rng.integers(-3, 3, size=(3, 4)).astype(np.int32)

    def f(x, i):
        return (xnp.sum(x, axis=0), xnp.mean(i), xnp.var(x, axis=1, ddof=1), xnp.max(x, axis=0),
                xnp.argmin(x, axis=1), xnp.any(i > 2, axis=0), xnp.cumsum(i, axis=1),
                xnp.prod(x, axis=(0, 1), keepdims=True), xnp.std(x))

    for e, j in zip(f(x, i), xform.jit(f)(x, i)):
        assert_same(j, e, rtol=1e-12)
    assert_same(xform.jit(f)(x, i)[1], np.mean(i))


def test_nanmax_nanmin_of_all_nan_slices_are_nan():
    a = np.array([[np.nan, np.nan], [1.0, np.nan], [3.0, -2.0]])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = [np.nanmax(a, axis=1), np.nanmin(a, axis=1), np.nanmax(a, axis=0, keepdims=True)]
    got = [xnp.nanmax(a, axis=1), xnp.nanmin(a, axis=1), xnp.nanmax(a, axis=0, keepdims=True)]
    jitted = xform.jit(lambda a: [xnp.nanmax(a, axis=1), xnp.nanmin(a, axis=1),
                                  xnp.nanmax(a, axis=0, keepdims=True)])(a)
    for g, j, w in zip(got, jitted, want):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(j, w)
    assert np.isnan(xnp.nanmax(np.array([np.nan])))
    # with ``initial`` an all-nan slice gives it, as in numpy
    np.testing.assert_array_equal(xnp.nanmax(a, axis=1, initial=5.0), np.nanmax(a, axis=1, initial=5.0))
    # gradients flow to the selected non-nan entries only
    g = xform.grad(lambda a: xnp.nansum(xnp.nanmax(a, axis=1)))(a)
    np.testing.assert_array_equal(g, [[0, 0], [1, 0], [1, 0]])


@pytest.mark.parametrize("a_dt,w_dt", [(np.int8, np.float32), (np.float32, np.int8),
                                       (np.complex128, np.float64), (np.int32, np.int64),
                                       (np.float32, np.float32)])
def test_average_result_dtype_follows_numpy(a_dt, w_dt):
    a = (np.arange(6).reshape(2, 3) + 1).astype(a_dt)
    w = np.array([1, 3, 2]).astype(w_dt)
    r, s = xnp.average(a, axis=1, weights=w, returned=True)
    er, es = np.average(a, axis=1, weights=w, returned=True)
    assert np.asarray(r).dtype == er.dtype and np.asarray(s).dtype == es.dtype
    np.testing.assert_allclose(r, er, rtol=1e-6)
    np.testing.assert_allclose(s, es)
