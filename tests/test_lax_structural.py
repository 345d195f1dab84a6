"""Shape primitives of xform.lax: impl vs numpy, abstract eval, errors, grads, vmap."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
from xform import lax

from _lax_helpers import make_rand, check, check_vmap, grads, both_modes_raise

rng = np.random.default_rng(0)
rand = make_rand(rng)

DTYPES = [np.float64, np.float32, np.int32, np.int64, np.bool_]












# -- broadcast_in_dim / reshape / transpose / expand_dims / squeeze ----------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_shape,shape,bdims", [
    ((), (2, 3), ()), ((3,), (2, 3), (1,)), ((1, 3), (4, 2, 3), (1, 2)),
    ((0,), (2, 0), (1,)), ((2,), (2, 3), (0,)), ((), (), ()),
])
def test_broadcast_in_dim(dtype, in_shape, shape, bdims):
    x = rand(in_shape, dtype)
    tmp = [1] * len(shape)
    for s, d in enumerate(bdims):
        tmp[d] = in_shape[s]
    check(lambda x: lax.broadcast_in_dim(x, shape, bdims), (x,),
          np.broadcast_to(x.reshape(tmp), shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_shape,new", [
    ((2, 3), (3, 2)), ((2, 3), (-1,)), ((), (1, 1)), ((0, 3), (3, 0)), ((4,), (2, -1)),
    ((1,), ()),
])
def test_reshape(dtype, in_shape, new):
    x = rand(in_shape, dtype)
    check(lambda x: lax.reshape(x, new), (x,), x.reshape(new))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_shape,perm", [
    ((2, 3, 4), (2, 0, 1)), ((2, 3), (-1, 0)), ((), ()), ((0, 2), (1, 0)),
])
def test_transpose(dtype, in_shape, perm):
    x = rand(in_shape, dtype)
    check(lambda x: lax.transpose(x, perm), (x,), np.transpose(x, perm))


@pytest.mark.parametrize("in_shape,dims", [((2, 3), (0, -1)), ((), (0,)), ((0,), (1,)), ((2,), -1)])
def test_expand_dims_squeeze(in_shape, dims):
    x = rand(in_shape)
    want = np.expand_dims(x, dims)
    check(lambda x: lax.expand_dims(x, dims), (x,), want)
    check(lambda y: lax.squeeze(y, dims), (want,), x)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.float32])
@pytest.mark.parametrize("shape,axes", [
    ((2, 3), (1,)), ((2, 3), (-1, 0)), ((2, 3, 4), (0, 2)), ((0, 3), (0,)), ((3, 0), (1,)),
    ((4,), 0), ((2, 3), None),
])
def test_reduce_sum(dtype, shape, axes):
    x = rand(shape, dtype)
    ax = tuple(range(len(shape))) if axes is None else axes
    check(lambda x: lax.reduce_sum(x, axes), (x,), np.sum(x, axis=ax, dtype=dtype))


def test_reduce_sum_zero_dim_no_axes():
    x = np.float64(2.5)
    assert lax.reduce_sum(x, ()) == 2.5


def test_shape_errors():
    x = np.ones((2, 3))
    both_modes_raise(ValueError, "broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (4, 2), (0, 1)), x)
    both_modes_raise(ValueError, "reshape", lambda x: lax.reshape(x, (4, 2)), x)
    both_modes_raise(ValueError, "transpose", lambda x: lax.transpose(x, (0, 0)), x)
    both_modes_raise(ValueError, "squeeze", lambda x: lax.squeeze(x, (0,)), x)
    both_modes_raise(ValueError, "reduce_sum.*out of bounds", lambda x: lax.reduce_sum(x, 2), x)
    both_modes_raise(ValueError, "reduce_sum.*out of bounds", lambda x: lax.reduce_sum(x, 0),
                     np.float64(1.0))
    both_modes_raise(ValueError, "repeated", lambda x: lax.reduce_sum(x, (1, -1)), x)
    both_modes_raise(ValueError, "moveaxis", lambda x: lax.moveaxis(x, 3, 0), x)


def test_structural_grads():
    x = rand((2, 3))
    grads(lambda x: lax.broadcast_in_dim(x, (4, 2, 3), (1, 2)), x)
    grads(lambda x: lax.broadcast_in_dim(x, (2, 5, 3), (0, 2)), rand((2, 1)).reshape(2, 1))
    grads(lambda x: lax.reshape(x, (3, 2)), x)
    grads(lambda x: lax.transpose(x, (1, 0)), x)
    grads(lambda x: lax.expand_dims(x, (1,)), x)
    grads(lambda x: lax.squeeze(x, (1,)), rand((2, 1, 3)))
    grads(lambda x: lax.reduce_sum(lax.mul(x, x), (0,)), x)
    grads(lambda x: lax.moveaxis(lax.sin(x), 0, -1), rand((2, 3, 4)))


@pytest.mark.parametrize("f,shape,axis", [
    (lambda x: lax.broadcast_in_dim(x, (4, 2, 3), (1, 2)), (5, 2, 3), 0),
    (lambda x: lax.broadcast_in_dim(x, (4, 2, 3), (1, 2)), (2, 5, 3), 1),
    (lambda x: lax.reshape(x, (3, 2)), (2, 5, 3), 1),
    (lambda x: lax.transpose(x, (1, 0)), (2, 3, 5), 2),
    (lambda x: lax.expand_dims(x, (0, 2)), (2, 5, 3), 1),
    (lambda x: lax.squeeze(x, (1,)), (5, 2, 1, 3), 0),
    (lambda x: lax.reduce_sum(x, (0,)), (2, 3, 5), 2),
    (lambda x: lax.moveaxis(x, 0, 1), (2, 3, 5), 2),
])
def test_structural_vmap(f, shape, axis):
    check_vmap(f, (rand(shape),), (axis,))


# -- rev / slice / slice_in_dim / index_in_dim ------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dims", [((3,), (0,)), ((2, 3), (0, 1)), ((2, 3), (-1,)),
                                        ((0, 2), (0,)), ((), ())])
def test_rev(dtype, shape, dims):
    x = rand(shape, dtype)
    check(lambda x: lax.rev(x, dims), (x,), np.flip(x, dims) if dims else x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,start,limit,strides", [
    ((10,), (1,), (8,), (3,)), ((4, 5), (0, 1), (4, 5), None), ((4, 5), (1, 2), (1, 5), (1, 2)),
    ((0, 3), (0, 1), (0, 3), (1, 1)), ((), (), (), ()), ((6,), (5,), (6,), (4,)),
])
def test_slice(dtype, shape, start, limit, strides):
    x = rand(shape, dtype)
    st = strides or (1,) * len(shape)
    want = x[tuple(slice(a, b, c) for a, b, c in zip(start, limit, st))]
    check(lambda x: lax.slice(x, start, limit, strides), (x,), want)


def test_slice_in_dim_matches_python_slicing():
    x = np.arange(7 * 2).reshape(7, 2)
    vals = [None, -9, -3, -1, 0, 2, 5, 7, 9]
    for a, b, c in itertools.product(vals, vals, [None, 1, 2, 3, -1, -2, -4]):
        want = x[a:b:c]
        got = lax.slice_in_dim(x, a, b, c, axis=0)
        np.testing.assert_array_equal(got, want, err_msg=f"{a}:{b}:{c}")
        got1 = lax.slice_in_dim(x.T, a, b, c, axis=-1)
        np.testing.assert_array_equal(got1, want.T, err_msg=f"{a}:{b}:{c}")
    (aval,) = xform.make_jaxpr(lambda x: lax.slice_in_dim(x, -1, None, -3))(x).out_avals
    assert aval.shape == x[-1::-3].shape
    with pytest.raises(ValueError, match="stride"):
        lax.slice_in_dim(x, 0, 1, 0)


def test_index_in_dim():
    x = rand((3, 4))
    check(lambda x: lax.index_in_dim(x, -1, axis=1), (x,), x[:, -1:])
    check(lambda x: lax.index_in_dim(x, 2, axis=0, keepdims=False), (x,), x[2])
    with pytest.raises(IndexError, match="index_in_dim"):
        lax.index_in_dim(x, 3)


def test_slice_errors():
    x = np.ones((4, 5))
    both_modes_raise(ValueError, "slice", lambda x: lax.slice(x, (0, 3), (4, 2)), x)
    both_modes_raise(ValueError, "slice", lambda x: lax.slice(x, (0, 0), (5, 5)), x)
    both_modes_raise(ValueError, "slice", lambda x: lax.slice(x, (0,), (4,)), x)
    both_modes_raise(ValueError, "slice", lambda x: lax.slice(x, (0, 0), (4, 5), (1, 0)), x)
    both_modes_raise(ValueError, "rev", lambda x: lax.rev(x, (2,)), x)


def test_slice_rev_grads():
    x = rand((5, 4))
    grads(lambda x: lax.slice(x, (1, 0), (5, 3), (2, 2)), x)
    grads(lambda x: lax.slice(lax.sin(x), (0, 1), (0, 4)), x)  # empty result
    grads(lambda x: lax.slice_in_dim(lax.mul(x, x), None, None, -2, axis=1), x)
    grads(lambda x: lax.rev(lax.mul(x, x), (0, 1)), x)
    grads(lambda x: lax.index_in_dim(x, -2, 1, keepdims=False), x)


@pytest.mark.parametrize("f,shape,axis", [
    (lambda x: lax.slice(x, (1, 0), (5, 3), (2, 2)), (5, 6, 4), 1),
    (lambda x: lax.slice(x, (1, 0), (5, 3), (2, 2)), (5, 4, 6), 2),
    (lambda x: lax.slice_in_dim(x, None, None, -1, axis=0), (6, 5, 4), 0),
    (lambda x: lax.rev(x, (0,)), (5, 6), 0),
    (lambda x: lax.rev(x, (0,)), (5, 6), 1),
])
def test_slice_rev_vmap(f, shape, axis):
    check_vmap(f, (rand(shape),), (axis,))


# -- pad ----------------------------------------------------------------------------------


def pad_ref(x, pv, config):
    x = np.asarray(x)
    for axis, (lo, hi, it) in enumerate(config):
        x = np.moveaxis(x, axis, 0)
        n = x.shape[0]
        if it and n > 1:
            y = np.full((n + (n - 1) * it,) + x.shape[1:], pv, x.dtype)
            y[::it + 1] = x
            x = y
        block = lambda k: np.full((k,) + x.shape[1:], pv, x.dtype)
        x = np.concatenate([block(max(lo, 0)), x, block(max(hi, 0))])
        x = x[max(-lo, 0): x.shape[0] - max(-hi, 0)]
        x = np.moveaxis(x, 0, axis)
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,config", [
    ((3,), ((1, -1, 1),)), ((2, 3), ((-1, 2, 0), (0, 0, 2))), ((0, 2), ((1, 1, 1), (2, -1, 0))),
    ((), ()), ((1,), ((0, 0, 3),)), ((2,), ((-3, 2, 0),)), ((4,), ((2, 3, 0),)),
])
def test_pad(dtype, shape, config):
    x = rand(shape, dtype)
    pv = rand((), dtype)[()]
    want = pad_ref(x, pv, config)
    check(lambda x, p: lax.pad(x, p, config), (x, pv), want)
    if config and all(lo >= 0 and hi >= 0 and it == 0 for lo, hi, it in config):
        np.testing.assert_array_equal(
            want, np.pad(x, [(lo, hi) for lo, hi, _ in config], constant_values=pv))


def test_pad_errors():
    x = np.ones((2, 3))
    both_modes_raise(ValueError, "pad", lambda x: lax.pad(x, 0.0, ((0, 0, 0),)), x)
    both_modes_raise(ValueError, "pad.*negative", lambda x: lax.pad(x, 0.0, ((-2, -1, 0), (0, 0, 0))), x)
    both_modes_raise(ValueError, "interior", lambda x: lax.pad(x, 0.0, ((0, 0, -1), (0, 0, 0))), x)
    both_modes_raise(ValueError, "scalar", lambda x: lax.pad(x, np.zeros(2), ((0, 0, 0), (1, 0, 0))), x)
    both_modes_raise(TypeError, "dtype",
                     lambda x: lax.pad(x, np.zeros((), np.float32), ((0, 0, 0), (1, 0, 0))), x)


def test_pad_grads():
    x = rand((3, 4))
    cfg = ((1, -1, 1), (-2, 3, 2))
    grads(lambda x: lax.pad(x, 0.5, cfg), x)
    grads(lambda x, p: lax.pad(lax.mul(x, x), lax.mul(p, p), cfg), x, np.float64(0.7))
    grads(lambda p: lax.pad(x, p, cfg), np.float64(0.3))


@pytest.mark.parametrize("in_axes", [(0, None), (1, None), (0, 0), (None, 0), (2, 0)])
def test_pad_vmap(in_axes):
    cfg = ((1, -1, 1), (0, 2, 0))
    xs = {0: (5, 3, 4), 1: (3, 5, 4), 2: (3, 4, 5), None: (3, 4)}[in_axes[0]]
    x = rand(xs)
    p = rand((5,)) if in_axes[1] == 0 else np.float64(1.5)
    check_vmap(lambda x, p: lax.pad(x, p, cfg), (x, p), in_axes)


def test_pad_vmap_of_grad():
    cfg = ((1, 2, 1),)
    f = xform.grad(lambda x, p: lax.reduce_sum(lax.mul(lax.pad(x, p, cfg), lax.pad(x, p, cfg)), 0),
                   argnums=(0, 1))
    xs, ps = rand((4, 3)), rand((4,))
    got = xform.vmap(f)(xs, ps)
    for i in range(4):
        want = f(xs[i], ps[i])
        np.testing.assert_allclose(got[0][i], want[0])
        np.testing.assert_allclose(got[1][i], want[1])


# -- concatenate -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,dim", [
    ([(1, 2), (3, 2)], 0), ([(2, 1), (2, 0), (2, 3)], -1), ([(4,)], 0), ([(0,), (0,)], 0),
])
def test_concatenate(dtype, shapes, dim):
    xs = [rand(s, dtype) for s in shapes]
    check(lambda *xs: lax.concatenate(xs, dim), xs, np.concatenate(xs, axis=dim))


def test_concatenate_errors():
    a, b = np.ones((2, 3)), np.ones((3, 2))
    both_modes_raise(ValueError, "concatenate.*agree", lambda a, b: lax.concatenate([a, b], 0), a, b)
    both_modes_raise(TypeError, "concatenate.*dtype",
                     lambda a, b: lax.concatenate([a, b], 0), a, np.ones((1, 3), np.float32))
    both_modes_raise(ValueError, "0-d", lambda a: lax.concatenate([a, a], 0), np.float64(1))
    both_modes_raise(ValueError, "concatenate", lambda a: lax.concatenate([a, a], 2), a)


def test_concatenate_grads_and_vmap():
    a, b = rand((2, 3)), rand((2, 1))
    grads(lambda a, b: lax.concatenate([lax.sin(a), b, a], 1), a, b)
    grads(lambda a: lax.concatenate([a, np.ones((2, 1))], 1), a)
    check_vmap(lambda a, b: lax.concatenate([a, b], 1), (rand((5, 2, 3)), b), (0, None))
    check_vmap(lambda a, b: lax.concatenate([a, b], 0), (rand((2, 3, 5)), rand((1, 5, 3))), (2, 1))


# -- iota -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64, np.uint8])
def test_iota(dtype):
    check(lambda: lax.iota(dtype, 5), (), np.arange(5, dtype=dtype))
    check(lambda: lax.iota(dtype, 0), (), np.arange(0, dtype=dtype))
    want = np.broadcast_to(np.arange(3, dtype=dtype)[None, :, None], (2, 3, 4))
    check(lambda: lax.broadcasted_iota(dtype, (2, 3, 4), -2), (), want)
    with pytest.raises(ValueError, match="iota"):
        lax.broadcasted_iota(dtype, (2, 3), 2)


def test_iota_under_vmap_and_jit_staging():
    f = lambda x: lax.add(x, lax.iota(np.float64, 3))
    check_vmap(f, (rand((4, 3)),), (0,))
    jx = xform.make_jaxpr(f)(np.ones(3))
    assert "iota" in str(jx)


# -- property tests --------------------------------------------------------------------------


@st.composite
def broadcast_case(draw):
    out = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    keep = sorted(draw(st.sets(st.sampled_from(range(len(out))), max_size=len(out)))) if out else []
    in_shape = tuple(draw(st.sampled_from([1, out[d]])) for d in keep)
    return in_shape, out, tuple(keep)


@settings(max_examples=60, deadline=None)
@given(broadcast_case())
def test_broadcast_in_dim_property(case):
    in_shape, out, bdims = case
    x = rand(in_shape)
    y = lax.broadcast_in_dim(x, out, bdims)
    tmp = [1] * len(out)
    for s, d in enumerate(bdims):
        tmp[d] = in_shape[s]
    np.testing.assert_array_equal(y, np.broadcast_to(x.reshape(tmp), out))
    # the transpose sums the cotangent over the broadcast dimensions
    ct = rand(out)
    _, f_vjp = xform.vjp(lambda x: lax.broadcast_in_dim(x, out, bdims), x)
    (g,) = f_vjp(ct)
    sum_axes = tuple(d for d in range(len(out)) if d not in bdims or tmp[d] == 1)
    want = np.sum(ct, axis=sum_axes, keepdims=True).reshape(in_shape)
    np.testing.assert_allclose(g, want, atol=1e-12)


@st.composite
def pad_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    config = tuple((draw(st.integers(-2, 3)), draw(st.integers(-2, 3)), draw(st.integers(0, 2)))
                   for _ in shape)
    out = [lo + hi + n + max(n - 1, 0) * it for n, (lo, hi, it) in zip(shape, config)]
    if any(s < 0 for s in out):
        config = tuple((max(lo, 0), max(hi, 0), it) for lo, hi, it in config)
    return shape, config


@settings(max_examples=60, deadline=None)
@given(pad_case())
def test_pad_property_and_adjoint(case):
    shape, config = case
    x = rand(shape)
    y = lax.pad(x, 1.5, config)
    np.testing.assert_array_equal(y, pad_ref(x, 1.5, config))
    # transpose is the adjoint of the linear map x -> pad(x, 0)
    ct = rand(np.shape(y))
    _, f_vjp = xform.vjp(lambda x: lax.pad(x, 0.0, config), x)
    (g,) = f_vjp(ct)
    lhs = np.vdot(np.asarray(lax.pad(x, 0.0, config)), ct)
    np.testing.assert_allclose(lhs, np.vdot(g, x), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=3), st.data())
def test_slice_property(shape, data):
    x = rand(tuple(shape))
    start = [data.draw(st.integers(0, n)) for n in shape]
    limit = [data.draw(st.integers(s, n)) for s, n in zip(start, shape)]
    strides = [data.draw(st.integers(1, 3)) for _ in shape]
    y = lax.slice(x, start, limit, strides)
    np.testing.assert_array_equal(y, x[tuple(slice(a, b, c) for a, b, c in zip(start, limit, strides))])
    ct = rand(np.shape(y))
    _, f_vjp = xform.vjp(lambda x: lax.slice(x, start, limit, strides), x)
    np.testing.assert_allclose(np.vdot(y, ct), np.vdot(f_vjp(ct)[0], x), atol=1e-10)
