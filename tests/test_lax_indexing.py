"""Indexing primitives of xform.lax: gather / scatter_add (numpy-style contract),
dynamic_slice / dynamic_update_slice (clamped starts), sort / argsort /
take_along_axis: impl vs numpy, abstract eval, errors, grads, vmap."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
from xform import lax

from _lax_helpers import make_rand, check, check_vmap, grads, both_modes_raise

rng = np.random.default_rng(3)
rand = make_rand(rng)













def gather_ref(x, indices, axes):
    rest = [i for i in range(x.ndim) if i not in axes]
    return np.transpose(x, tuple(axes) + tuple(rest))[tuple(indices)]


# -- gather --------------------------------------------------------------------------------

GATHER_CASES = [
    ((5,), [np.array([0, 4, -1, 2])], (0,)),
    ((3, 4), [np.array([[2, 0], [-3, 1]])], (0,)),
    ((3, 4), [np.array([3, -4, 0])], (-1,)),
    ((3, 4, 2), [np.array([0, 2]), np.array([[1], [3]])], (0, 1)),
    ((3, 4, 2), [np.array([1, 0]), np.array([2, 2])], (2, 0)),
    ((3, 4), [np.array(2)], (1,)),                          # 0-d index: drops the axis
    ((3, 4), [np.zeros((0,), np.int64)], (0,)),             # empty index
    ((3, 0), [np.array([1, 2])], (0,)),                     # empty non-indexed dim
    ((0, 3), [np.zeros((0, 2), np.int32)], (0,)),            # empty indexed axis, empty B
]


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32, np.int8])
@pytest.mark.parametrize("shape,indices,axes", GATHER_CASES)
def test_gather(dtype, idx_dtype, shape, indices, axes):
    x = rand(shape, dtype)
    indices = [i.astype(idx_dtype) for i in indices]
    nax = tuple(a % len(shape) for a in axes)
    check(lambda x, *i: lax.gather(x, *i, axes=axes), (x, *indices), gather_ref(x, indices, nax))


def test_gather_clamps_out_of_bounds():
    x = np.arange(5.0)
    np.testing.assert_array_equal(lax.gather(x, np.array([7, -1, -5, -9, 100]), axes=(0,)),
                                  [4.0, 4.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(lax.gather(x, np.array([250], np.uint8), axes=0), [4.0])


def test_gather_errors():
    x = np.ones((3, 4))
    i = np.array([0, 1])
    both_modes_raise(TypeError, "gather.*integers", lambda x: lax.gather(x, np.array([0.5]), axes=(0,)), x)
    both_modes_raise(ValueError, "gather.*broadcast",
                     lambda x: lax.gather(x, i, np.array([0, 1, 2]), axes=(0, 1)), x)
    both_modes_raise(ValueError, "gather.*repeated", lambda x: lax.gather(x, i, i, axes=(0, -2)), x)
    both_modes_raise(ValueError, "gather.*index arrays", lambda x: lax.gather(x, i, axes=(0, 1)), x)
    both_modes_raise(ValueError, "gather.*out of bounds", lambda x: lax.gather(x, i, axes=(2,)), x)
    both_modes_raise(IndexError, "gather.*empty axis", lambda x: lax.gather(x, i, axes=(0,)),
                     np.ones((0, 2)))


def test_gather_grads():
    x = rand((3, 4))
    grads(lambda x: lax.gather(x, np.array([[0, 2], [2, 2]]), axes=(0,)), x)
    grads(lambda x: lax.gather(lax.sin(x), np.array([0, 2, -1]), np.array([[1], [3]]), axes=(1, 0)), x)
    # duplicated indices: cotangents accumulate
    g = xform.grad(lambda x: lax.reduce_sum(lax.gather(x, np.array([1, 1, 2, 9]), axes=(0,)), 0))(
        np.zeros(4))
    np.testing.assert_array_equal(g, [0.0, 2.0, 1.0, 1.0])


@pytest.mark.parametrize("in_axes,shapes", [
    ((0, None), ((5, 3, 4), (2, 2))),
    ((1, None), ((3, 5, 4), (2, 2))),
    ((2, None), ((3, 4, 5), (2,))),
    ((None, 0), ((3, 4), (5, 2))),
    ((None, 1), ((3, 4), (2, 5))),
    ((0, 0), ((5, 3, 4), (5, 2, 2))),
    ((2, 1), ((3, 4, 5), (2, 5))),
])
def test_gather_vmap(in_axes, shapes):
    x = rand(shapes[0])
    i = rng.integers(-3, 3, shapes[1])
    check_vmap(lambda x, i: lax.gather(x, i, axes=(1,)), (x, i), in_axes)
    check_vmap(lambda x, i: lax.gather(x, i, np.array([0, 2]).reshape((2,) + (1,) * (i.ndim - 1))
                                       if i.ndim else np.int64(0), axes=(1, 0)), (x, i), in_axes)


def test_gather_vmap_two_index_arrays_batched_differently():
    x = rand((3, 4, 2))
    i0, i1 = rng.integers(0, 3, (5, 2)), rng.integers(0, 4, (2, 5))
    f = lambda x, i, j: lax.gather(x, i, j, axes=(0, 1))
    check_vmap(f, (x, i0, i1), (None, 0, 1))
    check_vmap(f, (rand((3, 4, 5)), i0, i1[:, 0]), (2, 0, None))


# -- scatter_add -----------------------------------------------------------------------------


def scatter_ref(x, indices, updates, axes):
    out = np.array(x, copy=True)
    rest = [i for i in range(x.ndim) if i not in axes]
    view = np.transpose(out, tuple(axes) + tuple(rest))
    idx = tuple(np.clip(np.where(i < 0, i + x.shape[a], i), 0, x.shape[a] - 1)
                for i, a in zip(indices, axes))
    np.add.at(view, idx, updates)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@pytest.mark.parametrize("shape,indices,axes", GATHER_CASES[:-1] + [
    ((4,), [np.array([1, 1, 1, -1, 7])], (0,))])
def test_scatter_add(dtype, shape, indices, axes):
    x = rand(shape, dtype)
    nax = tuple(a % len(shape) for a in axes)
    ushape = np.broadcast_shapes(*(i.shape for i in indices)) + tuple(
        shape[i] for i in range(len(shape)) if i not in nax)
    u = rand(ushape, dtype)
    check(lambda x, u, *i: lax.scatter_add(x, *i, updates=u, axes=axes), (x, u, *indices),
          scatter_ref(x, indices, u, nax))


def test_scatter_add_errors():
    x, i = np.ones((3, 4)), np.array([0, 1])
    both_modes_raise(ValueError, r"scatter_add.*must have shape \(2, 4\)",
                     lambda x: lax.scatter_add(x, i, updates=np.ones((2, 3)), axes=(0,)), x)
    both_modes_raise(TypeError, "scatter_add.*dtype",
                     lambda x: lax.scatter_add(x, i, updates=np.ones((2, 4), np.float32), axes=(0,)), x)


def test_scatter_add_grads():
    x, u = rand((3, 4)), rand((3, 3))
    i = np.array([0, 2, 0])
    grads(lambda x, u: lax.scatter_add(x, i, updates=u, axes=(1,)), x, u)
    grads(lambda u: lax.scatter_add(x, i, updates=lax.mul(u, u), axes=(1,)), u)
    grads(lambda x: lax.scatter_add(lax.sin(x), i, updates=u, axes=(1,)), x)


@pytest.mark.parametrize("in_axes", [(0, None, None), (None, None, 2), (None, 0, None),
                                     (1, None, 0), (None, 0, 0), (1, 0, 2)])
def test_scatter_add_vmap(in_axes):
    n = 5
    xs, is_, us = (3, 4), (3,), (3, 3)

    def add_batch(shape, ax):
        return shape if ax is None else shape[:ax] + (n,) + shape[ax:]

    x = rand(add_batch(xs, in_axes[0]))
    i = rng.integers(-4, 4, add_batch(is_, in_axes[1]))
    u = rand(add_batch(us, in_axes[2]))
    check_vmap(lambda x, i, u: lax.scatter_add(x, i, updates=u, axes=(1,)), (x, i, u), in_axes)


# -- dynamic_slice / dynamic_update_slice -----------------------------------------------------


def ds_ref(x, starts, sizes):
    st = [min(max(int(s), 0), n - k) for s, n, k in zip(starts, x.shape, sizes)]
    return x[tuple(slice(s, s + k) for s, k in zip(st, sizes))]


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
@pytest.mark.parametrize("shape,starts,sizes", [
    ((10,), (3,), (4,)), ((10,), (8,), (3,)), ((10,), (-2,), (3,)), ((4, 5), (1, 9), (2, 2)),
    ((4, 5), (np.int32(2), np.uint8(0)), (0, 5)), ((), (), ()), ((0, 3), (0, 1), (0, 2)),
])
def test_dynamic_slice(dtype, shape, starts, sizes):
    x = rand(shape, dtype)
    check(lambda x: lax.dynamic_slice(x, starts, sizes), (x,), ds_ref(x, starts, sizes))
    # traced starts
    check(lambda x, *s: lax.dynamic_slice(x, s, sizes), (x, *[np.int64(s) for s in starts]),
          ds_ref(x, starts, sizes))


def test_dynamic_slice_start_array_and_helpers():
    x = rand((4, 6))
    np.testing.assert_array_equal(lax.dynamic_slice(x, np.array([1, 2]), (2, 3)), x[1:3, 2:5])
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, 4, 2, axis=-1), x[:, 4:6])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, 9, axis=0, keepdims=False), x[3])
    y = lax.dynamic_update_slice_in_dim(x, np.zeros((4, 2)), 5, axis=1)
    want = x.copy()
    want[:, 4:] = 0
    np.testing.assert_array_equal(y, want)
    y = lax.dynamic_update_index_in_dim(x, np.ones(6), -3, axis=0)
    want = x.copy()
    want[0] = 1
    np.testing.assert_array_equal(y, want)


def test_dynamic_slice_errors():
    x = np.ones((4, 5))
    both_modes_raise(ValueError, "dynamic_slice.*start indices",
                     lambda x: lax.dynamic_slice(x, (0,), (1, 1)), x)
    both_modes_raise(ValueError, "dynamic_slice.*slice_sizes",
                     lambda x: lax.dynamic_slice(x, (0, 0), (5, 1)), x)
    both_modes_raise(TypeError, "dynamic_slice.*integer",
                     lambda x: lax.dynamic_slice(x, (0, np.float64(1.0)), (1, 1)), x)
    both_modes_raise(ValueError, "dynamic_update_slice.*does not fit",
                     lambda x: lax.dynamic_update_slice(x, np.ones((5, 1)), (0, 0)), x)
    both_modes_raise(TypeError, "dynamic_update_slice.*dtype",
                     lambda x: lax.dynamic_update_slice(x, np.ones((1, 1), np.int32), (0, 0)), x)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
@pytest.mark.parametrize("shape,ushape,starts", [
    ((10,), (4,), (3,)), ((10,), (3,), (9,)), ((10,), (3,), (-4,)), ((4, 5), (2, 2), (1, 9)),
    ((4, 5), (0, 5), (2, 0)), ((), (), ()),
])
def test_dynamic_update_slice(dtype, shape, ushape, starts):
    x, u = rand(shape, dtype), rand(ushape, dtype)
    want = x.copy()
    st = [min(max(int(s), 0), n - k) for s, n, k in zip(starts, shape, ushape)]
    want[tuple(slice(s, s + k) for s, k in zip(st, ushape))] = u
    check(lambda x, u: lax.dynamic_update_slice(x, u, starts), (x, u), want)
    check(lambda x, u, *s: lax.dynamic_update_slice(x, u, s), (x, u, *[np.int64(s) for s in starts]),
          want)


def test_dynamic_slice_grads():
    x, u = rand((4, 5)), rand((2, 2))
    grads(lambda x: lax.dynamic_slice(x, (1, 4), (2, 2)), x)
    grads(lambda x: lax.dynamic_slice(lax.mul(x, x), (np.int32(-1), 2), (3, 3)), x)
    grads(lambda x, u: lax.dynamic_update_slice(x, u, (1, 4)), x, u)
    grads(lambda u: lax.dynamic_update_slice(x, lax.sin(u), (3, 0)), u)
    grads(lambda x: lax.dynamic_update_slice(lax.mul(x, x), u, (0, 0)), x)


@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0), (2, 0), (1, None)])
def test_dynamic_slice_vmap(in_axes):
    n = 6
    x = rand({0: (n, 4, 5), 1: (4, n, 5), 2: (4, 5, n), None: (4, 5)}[in_axes[0]])
    s = np.array([0, 1, 2, -1, 5, 3]) if in_axes[1] == 0 else np.int64(2)
    check_vmap(lambda x, s: lax.dynamic_slice(x, (s, 1), (2, 3)), (x, s), in_axes)
    check_vmap(lambda x, s: lax.dynamic_slice(x, (1, s), (3, 3)), (x, s), in_axes)


@pytest.mark.parametrize("in_axes", [(0, None, None), (None, 0, None), (None, None, 0),
                                     (0, 1, 0), (1, None, 0), (None, 0, 0)])
def test_dynamic_update_slice_vmap(in_axes):
    n = 6
    x = rand({0: (n, 4, 5), 1: (4, n, 5), None: (4, 5)}[in_axes[0]])
    u = rand({0: (n, 2, 3), 1: (2, n, 3), None: (2, 3)}[in_axes[1]])
    s = np.array([0, 1, 2, -1, 5, 3]) if in_axes[2] == 0 else np.int64(2)
    check_vmap(lambda x, u, s: lax.dynamic_update_slice(x, u, (s, 1)), (x, u, s), in_axes)
    check_vmap(lambda x, u, s: lax.dynamic_update_slice(x, u, (1, s)), (x, u, s), in_axes)


def test_dynamic_slice_batched_starts_grad_and_vmap_of_grad():
    x = rand((6, 5))
    s = np.array([0, 1, 4, -2, 3, 9])

    def f(x, s):
        return lax.reduce_sum(lax.mul(lax.dynamic_slice(x, (s,), (2,)), np.array([1.0, 3.0])), 0)

    g = xform.grad(lambda x: lax.reduce_sum(xform.vmap(f)(x, s), 0))(x)
    want = np.stack([xform.grad(f)(x[i], s[i]) for i in range(6)])
    np.testing.assert_allclose(g, want)
    np.testing.assert_allclose(xform.vmap(xform.grad(f))(x, s), want)
    grads(lambda x: xform.vmap(f)(x, s), x)

    def h(x, u, s):
        return lax.reduce_sum(lax.mul(lax.dynamic_update_slice(x, u, (s,)), x), 0)

    u = rand((6, 2))
    gx, gu = xform.vmap(xform.grad(h, argnums=(0, 1)))(x, u, s)
    for i in range(6):
        wx, wu = xform.grad(h, argnums=(0, 1))(x[i], u[i], s[i])
        np.testing.assert_allclose(gx[i], wx)
        np.testing.assert_allclose(gu[i], wu)
    grads(lambda x, u: xform.vmap(h)(x, u, s), x, u)


# -- sort / argsort / take_along_axis ---------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_, np.uint8])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((0, 2), 0), ((2, 0), 1)])
def test_sort_argsort(dtype, shape, dim):
    x = rand(shape, dtype)
    check(lambda x: lax.sort(x, dim), (x,), np.sort(x, axis=dim, kind="stable"))
    check(lambda x: lax.argsort(x, dim), (x,), np.argsort(x, axis=dim, kind="stable").astype(np.int64))


def test_sort_nan_and_stability():
    x = np.array([3.0, np.nan, 1.0, 3.0, -np.inf, np.nan])
    np.testing.assert_array_equal(lax.sort(x), np.sort(x))
    np.testing.assert_array_equal(lax.argsort(x), np.argsort(x, kind="stable"))
    k = np.array([2, 1, 2, 1, 0])
    v = np.arange(5.0)
    ks, vs = lax.sort_key_val(k, v)
    np.testing.assert_array_equal(ks, [0, 1, 1, 2, 2])
    np.testing.assert_array_equal(vs, [4.0, 1.0, 3.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="sort.*same shape"):
        lax.sort([k, np.arange(4.0)])
    both_modes_raise(ValueError, "sort", lambda x: lax.sort(x, 1), x)


def test_sort_grads():
    x = rand((3, 5))
    grads(lambda x: lax.sort(x, 1), x)
    grads(lambda x: lax.sort(lax.sin(x), 0), x)
    grads(lambda v: lax.sort([np.array([2, 0, 1]), v])[1], rand((3,)))
    g = xform.grad(lambda x: lax.reduce_sum(lax.mul(lax.sort(x), np.array([1.0, 10.0, 100.0])), 0))(
        np.array([5.0, 1.0, 3.0]))
    np.testing.assert_allclose(g, [100.0, 1.0, 10.0])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_sort_vmap(axis):
    check_vmap(lambda x: lax.sort(x, 0), (rand((4, 3, 5)),), (axis,))
    check_vmap(lambda x: lax.argsort(x, -1), (rand((4, 3, 5)),), (axis,))


@pytest.mark.parametrize("xs,ishape,axis", [
    ((3, 4), (3, 2), 1), ((3, 4), (5, 4), 0), ((3, 4), (1, 6), 1), ((1, 4), (3, 4), 1),
    ((2, 3, 4), (2, 3, 2), -1), ((5,), (7,), 0), ((3, 4), (3, 0), 1),
])
def test_take_along_axis(xs, ishape, axis):
    x = rand(xs)
    n = xs[axis]
    i = rng.integers(-n, n, ishape)
    check(lambda x, i: lax.take_along_axis(x, i, axis), (x, i), np.take_along_axis(x, i, axis))
    if 0 not in ishape:
        grads(lambda x: lax.take_along_axis(x, i, axis), x)


def test_take_along_axis_vmap_and_errors():
    x, i = rand((5, 3, 4)), rng.integers(0, 4, (5, 3, 2))
    check_vmap(lambda x, i: lax.take_along_axis(x, i, 1), (x, i), (0, 0))
    check_vmap(lambda x, i: lax.take_along_axis(x, i, 1), (x, i[0]), (0, None))
    check_vmap(lambda x, i: lax.take_along_axis(x, i, 0), (x[0], rng.integers(0, 3, (2, 4, 5))), (None, 2))
    with pytest.raises(ValueError, match="take_along_axis.*rank"):
        lax.take_along_axis(x, i[0, 0], 0)


# -- property tests ---------------------------------------------------------------------------


@st.composite
def gather_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    k = draw(st.integers(1, len(shape)))
    axes = tuple(draw(st.permutations(range(len(shape))))[:k])
    B = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    idx = [rng.integers(-shape[a], shape[a], B) for a in axes]
    return shape, axes, idx


@settings(max_examples=60, deadline=None)
@given(gather_case())
def test_gather_scatter_property(case):
    shape, axes, idx = case
    x = rand(shape)
    y = lax.gather(x, *idx, axes=axes)
    np.testing.assert_array_equal(y, gather_ref(x, idx, axes))
    # scatter_add is the adjoint of gather
    ct = rand(np.shape(y))
    z = lax.scatter_add(np.zeros(shape), *idx, updates=ct, axes=axes)
    np.testing.assert_allclose(np.vdot(z, x), np.vdot(ct, y), atol=1e-10)
    _, f_vjp = xform.vjp(lambda x: lax.gather(x, *idx, axes=axes), x)
    np.testing.assert_allclose(f_vjp(ct)[0], z, atol=1e-12)
