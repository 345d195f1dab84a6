"""Shape manipulation, joining/splitting, creation, diagonals, sorting against numpy;
grad, vmap and jit of the structural functions."""
import numpy as np
import pytest
from _numpy_helpers import assert_same, compare, vmap_reference

import xform
import xform.numpy as xnp

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 4))
IA = RNG.integers(-5, 5, size=(3, 4)).astype(np.int32)


def test_reshape_family():
    for shape in [(6, 4), (-1,), (4, -1), (2, -1, 2), (24,), (1, 24, 1)]:
        compare(xnp.reshape, np.reshape, X, shape)
        compare(xnp.reshape, np.reshape, X, shape, order="F")
    compare(xnp.reshape, np.reshape, np.array(3.0), (1, 1))
    compare(xnp.reshape, np.reshape, np.zeros((0, 3)), (3, 0, -1))
    compare(xnp.reshape, np.reshape, X, (5, -1))
    compare(xnp.reshape, np.reshape, X, (-1, -1))
    compare(xnp.ravel, np.ravel, X)
    compare(xnp.ravel, np.ravel, X, order="F")
    assert_same(xnp.reshape(X, shape=(4, 6)), np.reshape(X, shape=(4, 6)))


def test_axes_functions():
    for axes in [None, (1, 0, 2), (-1, 0, 1)]:
        compare(xnp.transpose, np.transpose, X, axes)
    compare(xnp.transpose, np.transpose, X, (0, 1))
    compare(xnp.swapaxes, np.swapaxes, X, 0, -1)
    for src, dst in [(0, -1), (-1, 0), ((0, 1), (-1, -2)), ((2, 0), (0, 1))]:
        compare(xnp.moveaxis, np.moveaxis, X, src, dst)
    y = np.zeros((1, 3, 1, 2))
    for axis in [None, 0, (0, 2), -2]:
        compare(xnp.squeeze, np.squeeze, y, axis)
    compare(xnp.squeeze, np.squeeze, y, 1)
    for axis in [0, -1, (0, 2), (1, -1)]:
        compare(xnp.expand_dims, np.expand_dims, X, axis)
    compare(xnp.expand_dims, np.expand_dims, np.float64(1.0), 0)
    compare(xnp.permute_dims, np.permute_dims, X, (2, 0, 1))


def test_broadcasting_functions():
    compare(xnp.broadcast_to, np.broadcast_to, np.arange(3), (2, 3))
    compare(xnp.broadcast_to, np.broadcast_to, 5.0, (2,))
    compare(xnp.broadcast_to, np.broadcast_to, np.arange(3), (3, 2))
    compare(xnp.broadcast_arrays, np.broadcast_arrays, np.zeros((2, 1)), np.ones(3, np.int8))
    assert xnp.broadcast_shapes((2, 1), (3,)) == (2, 3)


def test_join():
    a, b = np.ones((2, 3)), np.arange(6, dtype=np.int32).reshape(2, 3)
    for axis in [0, 1, -1, None]:
        compare(xnp.concatenate, np.concatenate, [a, b], axis=axis)
        compare(xnp.concatenate, np.concatenate, (a, b, a[:1]) if axis in (0, None) else (a, b), axis)
    for axis in [0, 1, 2, -1]:
        compare(xnp.stack, np.stack, [a, b, a], axis=axis)
    v1, v2 = np.arange(3), np.arange(3.0)
    for fn in ["vstack", "hstack", "dstack", "column_stack"]:
        compare(getattr(xnp, fn), getattr(np, fn), [v1, v2])
        compare(getattr(xnp, fn), getattr(np, fn), [a, b])
    compare(xnp.hstack, np.hstack, [np.float64(1.0), v1])
    compare(xnp.concatenate, np.concatenate, [np.zeros((0, 3)), a])
    compare(xnp.append, np.append, a, [1, 2])
    compare(xnp.append, np.append, a, b, axis=0)
    compare(xnp.stack, np.stack, [a, b], dtype=np.float32)


def test_join_errors():
    with pytest.raises(ValueError, match=r"dimension 1.*size 3.*size 2"):
        xnp.concatenate([np.ones((2, 3)), np.ones((2, 2))], axis=0)
    with pytest.raises(ValueError, match="same shape"):
        xnp.stack([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="zero-dimensional"):
        xnp.concatenate([np.float64(1), np.float64(2)])


def test_split():
    x = np.arange(12).reshape(6, 2)
    for sec in [2, 3, [1, 4], [2, -1], [0, 10]]:
        compare(xnp.split, np.split, x, sec)
    for sec in [4, 5, [1, 3]]:
        compare(xnp.array_split, np.array_split, x, sec)
        compare(xnp.array_split, np.array_split, x.T, sec, axis=1)
    compare(xnp.hsplit, np.hsplit, x, 2)
    compare(xnp.vsplit, np.vsplit, x, 3)
    with pytest.raises(ValueError, match="equal division"):
        xnp.split(x, 4)


def test_tile_repeat_flip_roll():
    for reps in [2, (2, 1), (1, 2, 3), (0, 2)]:
        compare(xnp.tile, np.tile, IA, reps)
    compare(xnp.tile, np.tile, np.float64(2.0), 3)
    for rep, axis in [(2, None), (3, 0), (2, -1), ([1, 0, 2], 0), (0, 1)]:
        compare(xnp.repeat, np.repeat, IA, rep, axis)
    for axis in [None, 0, -1, (0, 1)]:
        compare(xnp.flip, np.flip, IA, axis)
    compare(xnp.fliplr, np.fliplr, IA)
    compare(xnp.flipud, np.flipud, IA)
    for k in range(-1, 4):
        compare(xnp.rot90, np.rot90, IA, k)
    for shift, axis in [(1, None), (-2, 0), (5, 1), ((1, 2), (0, 1)), (0, None)]:
        compare(xnp.roll, np.roll, IA, shift, axis)


def test_diff():
    for n in [0, 1, 2, 5]:
        for axis in [0, -1]:
            compare(xnp.diff, np.diff, IA, n, axis)
    compare(xnp.diff, np.diff, np.array([True, False, False]))
    compare(xnp.diff, np.diff, IA, prepend=0, append=IA[:, :1])


def test_creation():
    compare(xnp.zeros, np.zeros, (2, 3))
    compare(xnp.zeros, np.zeros, 3, dtype=np.int8)
    compare(xnp.ones, np.ones, (2,), dtype=bool)
    compare(xnp.empty, np.zeros, (0, 2))
    compare(xnp.full, np.full, (2, 2), 7)
    compare(xnp.full, np.full, (2, 2), 7.5, dtype=np.float32)
    compare(xnp.full, np.full, (2, 3), np.arange(3))
    for fn in ["zeros_like", "ones_like"]:
        compare(getattr(xnp, fn), getattr(np, fn), IA)
        compare(getattr(xnp, fn), getattr(np, fn), IA, dtype=float)
    compare(xnp.full_like, np.full_like, IA, 3.7)
    compare(xnp.full_like, np.full_like, X, 2, shape=(2,))
    compare(xnp.arange, np.arange, 5)
    compare(xnp.arange, np.arange, 1, 7, 2)
    compare(xnp.arange, np.arange, 0.0, 1.0, 0.25, dtype=np.float32)
    for args in [(0.0, 1.0, 5), (2, 10, 7), (0, 1, 1), (0, 1, 0), (np.zeros(2), np.ones(2), 4)]:
        compare(xnp.linspace, np.linspace, *args)
        compare(xnp.linspace, np.linspace, *args, endpoint=False)
    compare(xnp.linspace, np.linspace, 0, 10, 4, dtype=int)
    compare(xnp.logspace, np.logspace, 0.0, 2.0, 5)
    for args in [(3,), (2, 3), (3, 3, 1), (3, 2, -1)]:
        compare(xnp.eye, np.eye, *args)
        compare(xnp.tri, np.tri, *args)
    compare(xnp.identity, np.identity, 3, dtype=int)


def test_diag_tri_trace():
    m = np.arange(12.0).reshape(3, 4)
    for k in [-3, -1, 0, 1, 2, 5]:
        compare(xnp.diag, np.diag, m, k)
        compare(xnp.diag, np.diag, np.arange(3), k)
        compare(xnp.triu, np.triu, m, k)
        compare(xnp.tril, np.tril, m, k)
        compare(xnp.trace, np.trace, m, k)
        compare(xnp.diagonal, np.diagonal, X, k, 2, 0)
    compare(xnp.diagflat, np.diagflat, [[1, 2], [3, 4]], 1)
    compare(xnp.triu, np.triu, X, 1)
    compare(xnp.trace, np.trace, IA)
    compare(xnp.trace, np.trace, X, 0, 0, 2)


def test_sort_argsort():
    y = np.array([[3.0, np.nan, 1.0, 1.0], [0.0, -1.0, np.inf, 2.0]])
    for axis in [None, 0, 1, -1]:
        compare(xnp.sort, np.sort, y, axis)
        compare(xnp.argsort, np.argsort, y, axis, kind="stable")
        compare(xnp.sort, np.sort, IA, axis)
        compare(xnp.argsort, np.argsort, IA, axis, kind="stable")
    compare(xnp.sort, np.sort, np.array([True, False, True]))


def test_conversion_and_inspection():
    compare(xnp.asarray, np.asarray, [1, 2, 3])
    compare(xnp.asarray, np.asarray, [[1.0, 2], [3, 4]], dtype=np.float32)
    compare(xnp.array, np.array, 3.0)
    compare(xnp.array, np.array, [1, 2], ndmin=3)
    arr = np.ones(2)
    assert xnp.array(arr) is not arr
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for v in (1.0, np.arange(2), np.ones((2, 2)), np.ones((1, 2, 3, 4))):
            compare(getattr(xnp, fn), getattr(np, fn), v)
        compare(getattr(xnp, fn), getattr(np, fn), 1.0, np.arange(2))
    assert xnp.shape(X) == (2, 3, 4) and xnp.ndim(X) == 3 and xnp.size(X) == 24
    assert xnp.size(X, 1) == 3 and xnp.shape(3.0) == ()
    compare(xnp.astype, lambda a, d: a.astype(d), X, np.int16)
    compare(xnp.copy, np.copy, X)
    compare(xnp.nonzero, np.nonzero, IA)
    compare(xnp.flatnonzero, np.flatnonzero, IA)
    compare(xnp.argwhere, np.argwhere, IA)
    compare(xnp.real, np.real, X)
    compare(xnp.imag, np.imag, X)
    compare(xnp.meshgrid, np.meshgrid, np.arange(3), np.arange(2.0))
    compare(xnp.meshgrid, np.meshgrid, np.arange(3), np.arange(2.0), np.arange(4), indexing="ij")
    compare(xnp.meshgrid, np.meshgrid, np.arange(3), np.arange(2.0), sparse=True)
    compare(xnp.take, np.take, IA, [0, -1, 2])
    compare(xnp.take, np.take, IA, [[0, 1]], axis=1)
    compare(xnp.take_along_axis, np.take_along_axis, IA, np.argsort(IA, axis=1), 1)
    compare(xnp.take_along_axis, np.take_along_axis, IA, np.argsort(IA, axis=0)[:1], 0)
    compare(xnp.isclose, np.isclose, np.array([1.0, np.inf, np.nan, 2.0]),
            np.array([1.0 + 1e-9, np.inf, np.nan, 2.1]))
    compare(xnp.isclose, np.isclose, np.array([np.nan]), np.nan, equal_nan=True)
    assert xnp.allclose(X, X + 1e-12) is True
    compare(xnp.unravel_index, np.unravel_index, np.array([5, 7]), (3, 4))
    compare(xnp.ix_, np.ix_, [0, 1], [2, 3, 4])
    for mode in ["constant", "edge", "reflect", "symmetric", "wrap"]:
        compare(xnp.pad, np.pad, IA, ((1, 2), (0, 3)), mode)
    compare(xnp.pad, np.pad, IA, 1, constant_values=9)
    compare(xnp.pad, np.pad, IA, (1, 2), constant_values=((5, 6), (7, 8)))


# -- transformations --------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [
    lambda x: xnp.reshape(x, (4, -1)) * 2.0,
    lambda x: xnp.transpose(x, (1, 0, 2)) ** 2,
    lambda x: xnp.moveaxis(xnp.sin(x), 0, -1),
    lambda x: xnp.concatenate([x, x ** 2], axis=1),
    lambda x: xnp.stack([x[0], xnp.exp(x[1])], axis=-1),
    lambda x: xnp.tile(x[0], (2, 1)) * xnp.repeat(x[1], 2, axis=0),
    lambda x: xnp.flip(x, (0, 2)) * xnp.roll(x, 1, axis=1),
    lambda x: xnp.diff(x ** 2, axis=-1),
    lambda x: xnp.split(x, [1, 3], axis=1)[1] ** 3,
    lambda x: xnp.diag(x[0, 0, :3]) + xnp.triu(x[1, :, :3]),
    lambda x: xnp.trace(x[0, :, :3] ** 2),
    lambda x: xnp.sort(x, axis=1),
    lambda x: xnp.linspace(x[0, 0, 0], x[1, 2, 3], 5),
    lambda x: xnp.broadcast_to(x[0, 0], (3, 4)) * x[1],
    lambda x: xnp.pad(x[0] ** 2, 1, mode="reflect"),
    lambda x: xnp.take_along_axis(x, np.argsort(X, axis=1), axis=1),
])
def test_structural_grads(fn):
    x = np.random.default_rng(9).uniform(0.5, 2.0, size=(2, 3, 4))
    xform.check_grads(fn, (x,), order=2, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("fn", [
    lambda v: xnp.reshape(v, (-1,)),
    lambda v: xnp.concatenate([v, v[:1]], axis=0),
    lambda v: xnp.stack([v, 2 * v], axis=1),
    lambda v: xnp.roll(v, 1, axis=1),
    lambda v: xnp.diag(v[0]),
    lambda v: xnp.tril(v),
    lambda v: xnp.sort(v, axis=0),
    lambda v: xnp.argsort(v, axis=1),
    lambda v: xnp.cumsum(v, axis=0),
    lambda v: xnp.trace(v),
    lambda v: xnp.tile(v, 2),
    lambda v: xnp.repeat(v, [1, 2, 0, 1], axis=1),
])
@pytest.mark.parametrize("in_axis", [0, 2])
def test_vmap_structural(fn, in_axis):
    x = np.moveaxis(np.random.default_rng(10).normal(size=(3, 4, 4)), 0, in_axis)
    got = xform.vmap(fn, in_axes=in_axis)(x)
    assert_same(got, vmap_reference(fn, (x,), (in_axis,)))


def test_jit_structural_matches_eager():

    def f(x, i):
        a = xnp.concatenate([xnp.reshape(x, (6, 4)), xnp.zeros((1, 4))], axis=0)
        b = xnp.stack([xnp.flip(x[0], 1), xnp.roll(x[1], 2, axis=0)])
        c = xnp.tril(i[:, :3]) + xnp.diag(xnp.diagonal(i))
        return a, b, c, xnp.sort(x, axis=-1), xnp.linspace(0.0, x[0, 0, 0], 4), xnp.tile(i, (2, 1))

    eager = f(X, IA)
    for e, j in zip(eager, xform.jit(f)(X, IA)):
        assert_same(j, e)


def test_pad_odd_reflection_matches_numpy():
    for n in range(1, 5):
        a = np.arange(n, dtype=float) ** 2 + 1
        for lo in range(0, 8):
            for hi in (0, 1, 3, 7):
                for mode in ("reflect", "symmetric"):
                    np.testing.assert_array_equal(
                        xnp.pad(a, (lo, hi), mode=mode, reflect_type="odd"),
                        np.pad(a, (lo, hi), mode=mode, reflect_type="odd"), err_msg=f"{n} {lo} {hi} {mode}")
    a = np.arange(12.0).reshape(3, 4)
    pw = ((1, 4), (2, 0))
    got = xform.jit(lambda a: xnp.pad(a, pw, mode="reflect", reflect_type="odd"))(a)
    np.testing.assert_array_equal(got, np.pad(a, pw, mode="reflect", reflect_type="odd"))


def test_pad_rejects_keywords_it_does_not_use():
    a = np.arange(4.0)
    with pytest.raises(ValueError, match=r"pad: unsupported keyword arguments for mode 'constant'"):
        xnp.pad(a, 2, foo=3)
    with pytest.raises(ValueError, match="mode 'edge'"):
        xnp.pad(a, 2, mode="edge", reflect_type="odd")
    with pytest.raises(NotImplementedError, match="pad: mode 'mean' is not supported; supported"):
        xnp.pad(a, 2, mode="mean")


def test_tile_with_traced_reps_is_a_clear_error():
    with pytest.raises(TypeError, match=r"tile: `reps` must be concrete .*static_argnums"):
        xform.jit(lambda x, n: xnp.tile(x, n))(np.ones(2), 2)
    got = xform.jit(lambda x, n: xnp.tile(x, n), static_argnums=1)(np.arange(2.0), (2, 2))
    np.testing.assert_array_equal(got, np.tile(np.arange(2.0), (2, 2)))


def test_pad_width_forms_and_constant_values_only_for_constant_mode():
    a = np.arange(6.0).reshape(2, 3)
    for pw in (1, (1,), ((1,),), (1, 2), ((1, 2),), ((1, 0), (0, 2)), [[1, 2]]):
        for mode in ("constant", "edge", "reflect", "wrap"):
            np.testing.assert_array_equal(xnp.pad(a, pw, mode=mode), np.pad(a, pw, mode=mode))
    np.testing.assert_array_equal(xnp.pad(a, 1, constant_values=7), np.pad(a, 1, constant_values=7))
    with pytest.raises(ValueError, match="unsupported keyword arguments for mode 'reflect'"):
        xnp.pad(a, 1, mode="reflect", constant_values=3)
    with pytest.raises(ValueError, match=r"pad: pad_width .* does not fit an array of shape \(2, 3\)"):
        xnp.pad(a, ((1, 2), (3, 4), (5, 6)))
