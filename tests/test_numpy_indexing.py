"""Indexing of traced arrays against numpy: basic (ints, slices with any step, None,
Ellipsis), advanced (integer arrays incl. traced ones, concrete boolean masks) and their
mixes with numpy's placement rules; a property test over random index expressions;
derivatives (the transpose of indexing is a scatter-add), vmap, jit; ``.at[]`` updates;
error messages."""
import numpy as np
import pytest
from _numpy_helpers import assert_same
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xform
import xform.numpy as xnp
from xform.numpy._indexing import getitem

X = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)

INDICES = [
    0, -1, (1, 2), (slice(None), 1), (Ellipsis, 2), (None, 0), (0, None, Ellipsis, None),
    slice(None, None, -1), (slice(1, None), slice(None, None, -2), slice(-2, 0, -1)),
    (slice(5, 10),), (slice(None, None, 3), Ellipsis, slice(4, None, -3)), (),
    [1, 0, 1], np.array([[0, 1], [1, 0]]), ([0, 1], [2, 0]), (0, [1, 2], [0, 3]),
    (slice(None), [0, 2], [1, 3]),            # adjacent advanced: in place
    ([0, 1], slice(None), [1, 3]),            # separated: B dims first
    (0, slice(None), [1, 2]),                 # int + array separated by slice
    (slice(None), 0, [1, 2]),                 # int + array adjacent
    (Ellipsis, [0, -1]), (None, [1], None, [2, 0]), ([[0], [1]], slice(1, 3), [[0, 2]]),
    (slice(None), [0, 2], None, [1, 3]),      # None separates advanced indices
    np.array([True, False]), (slice(None), np.array([True, False, True])),
    (np.array([[True, False, True], [False, True, True]]),),
    (Ellipsis, np.array([True, False, True, False, True])), (1, np.array([False, True, True]), 0),
    (np.array(1), Ellipsis), (slice(None), np.array([], dtype=int)), [[1]],
    (Ellipsis, None), (Ellipsis, 1, 2, 3),
]


@pytest.mark.parametrize("idx", INDICES, ids=[repr(i)[:40] for i in INDICES])
def test_getitem_matches_numpy(idx):
    expected = X[idx]
    assert_same(getitem(X, idx), expected)
    y, t = xform.jvp(lambda a: a[idx], (X,), (X * 2,))
    assert_same(y, expected, check_type=False)
    assert_same(t, 2 * expected, check_type=False)


@pytest.mark.parametrize("idx", INDICES[:24], ids=[repr(i)[:40] for i in INDICES[:24]])
def test_getitem_transpose_is_scatter_add(idx):
    w = np.random.default_rng(0).normal(size=np.shape(X[idx]))
    g = xform.grad(lambda a: xnp.sum(a[idx] * w))(X)
    expected = np.zeros_like(X)
    np.add.at(expected, idx, w)
    assert_same(g, expected)


@st.composite
def index_exprs(draw, shape):
    idx = []
    d = 0
    nd = len(shape)
    bshape = draw(st.sampled_from([(), (2,), (1, 3), (2, 1), (3,)]))
    ellipsis = False
    while d < nd:
        kind = draw(st.sampled_from(["int", "slice", "slice", "array", "mask", "none", "ellipsis",
                                     "stop"]))
        n = shape[d]
        if kind == "int" and n > 0:
            idx.append(draw(st.integers(-n, n - 1)))
            d += 1
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
            idx.append(slice(draw(bound), draw(bound), step))
            d += 1
        elif kind == "array" and n > 0:
            s = draw(st.sampled_from([bshape, bshape[-1:], ()]))
            vals = draw(hnp.arrays(np.int64, s, elements=st.integers(-n, n - 1)))
            idx.append(vals if draw(st.booleans()) else vals.tolist())
            d += 1
        elif kind == "mask":
            idx.append(draw(hnp.arrays(np.bool_, (n,))))
            d += 1
        elif kind == "none":
            idx.append(None)
        elif kind == "ellipsis" and not ellipsis:
            idx.append(Ellipsis)
            ellipsis = True
            d = draw(st.integers(d, nd))
        elif kind == "stop":
            break
    if draw(st.booleans()) and len(idx) == 1:
        return idx[0]
    return tuple(idx)


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_getitem_property(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    idx = data.draw(index_exprs(shape))
    try:
        expected = x[idx]
    except IndexError:
        with pytest.raises(IndexError):
            getitem(x, idx)
        return
    assert_same(getitem(x, idx), expected)
    y = xform.vmap(lambda a, s: a[idx] * s, in_axes=(None, 0))(x, np.array([1.0, 2.0]))
    assert_same(y, np.stack([expected, 2 * expected]), check_type=False)


def test_traced_integer_indices():
    idx = np.array([2, 0, -1])
    f = lambda a, i: a[1, i] * 2.0  # noqa: E731
    assert_same(f(xnp.asarray(X), idx), X[1, idx] * 2.0)
    # traced index under vmap: one index per batch member
    out = xform.vmap(lambda i: xnp.take(X, i, axis=1), in_axes=0)(np.array([0, 2, 1]))
    assert_same(out, np.stack([X[:, i] for i in [0, 2, 1]]))
    # derivative w.r.t. the array with a traced (batched) integer index
    g = xform.vmap(lambda i: xform.grad(lambda a: a[i].sum())(X[0, 0, 0]))(np.array([1, 1, 3]))
    exp = np.zeros((3, 5))
    exp[[0, 1, 2], [1, 1, 3]] = 1
    assert_same(g, exp)
    # scalar traced index
    assert_same(xform.vmap(lambda i: getitem(X[0, 0, 0], i))(np.array([4, -1])), X[0, 0, 0][[4, -1]])
    assert_same(xform.vmap(lambda a, i: a[i])(X[0], np.array([2, -1, 0])), X[0, [0, 1, 2], [2, -1, 0]])


def test_jit_indexing():
    upd = xform.jit(lambda a, v: (a.at[[1, 1, 0]].set(v), a.at[::2].add(1.0), a.at[0].multiply(v[0])))
    a, v = np.arange(4.0), np.array([5.0, 6.0, 7.0])
    exp_set = a.copy()
    exp_set[[1, 1, 0]] = v
    assert_same(upd(a, v)[0], exp_set)
    assert_same(upd(a, v)[1], a + np.array([1.0, 0, 1.0, 0]))
    assert_same(upd(a, v)[2], np.array([0.0, 1.0, 2.0, 3.0]))

    def f(a, i):
        return a[1, ::-1, None, [0, 3]], a[..., 1:4:2], a[i, :, i], a[:, [True, False, True]]

    i = np.array([1, 0])
    for got, exp in zip(xform.jit(f)(X, i), f(X, i)):
        assert_same(got, exp)
    assert_same(xform.jit(f)(X, i)[0], X[1, ::-1, None, [0, 3]])


def test_indexing_errors():
    with pytest.raises(IndexError, match="data-dependent"):
        xform.vmap(lambda a: a[a > 2])(X[0])
    with pytest.raises(IndexError, match="where"):
        xform.jit(lambda a: a[a > 2].sum())(X)
    with pytest.raises(IndexError, match="out of bounds"):
        xform.jvp(lambda a: a[5], (X,), (X,))
    with pytest.raises(IndexError, match="out of bounds"):
        getitem(X, (0, [0, 3]))
    with pytest.raises(IndexError, match="too many indices"):
        getitem(X, (0, 0, 0, 0, 0))
    with pytest.raises(IndexError, match="single ellipsis"):
        getitem(X, (Ellipsis, 0, Ellipsis))
    with pytest.raises(IndexError, match="only integers"):
        getitem(X, 1.5)
    with pytest.raises(IndexError, match="boolean index did not match"):
        getitem(X, np.array([True, False, True]))
    with pytest.raises(IndexError, match="could not be broadcast"):
        getitem(X, ([0, 1], [0, 1, 2]))
    with pytest.raises(IndexError, match="concrete"):
        xform.jit(lambda a, i: a[i:i + 2])(X, 1)
    with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
        xform.grad(lambda a: a.__setitem__(0, 1.0))(X)
    # boolean masks computed from primal values are concrete under grad
    g = xform.grad(lambda a: (a[a > 100] ** 2).sum())(X)
    assert_same(g, np.where(X > 100, 2 * X, 0.0))


def _np_at(x, idx, v, op):
    r = x.copy()
    if op == "set":
        r[idx] = v
    elif op == "add":
        np.add.at(r, idx, v)
    elif op == "multiply":
        np.multiply.at(r, idx, v)
    elif op == "min":
        np.minimum.at(r, idx, v)
    elif op == "max":
        np.maximum.at(r, idx, v)
    return r


AT_INDICES = [0, (1, slice(None, None, -1)), ([0, 1, 0], [2, 2, 2]), (Ellipsis, [1, 3]),
              np.array([[True, False, True, False]] * 3), (slice(None), None, 2)]


@pytest.mark.parametrize("op", ["set", "add", "multiply", "min", "max"])
@pytest.mark.parametrize("idx", AT_INDICES, ids=[repr(i)[:30] for i in AT_INDICES])
def test_at_updates(op, idx):
    x = np.arange(12.0).reshape(3, 4) - 4
    shape = np.shape(x[idx])
    v = np.random.default_rng(1).normal(size=shape).round(2)
    expected = _np_at(x, idx, v, op)
    assert_same(getattr(_AtX(x)[idx], op)(v), expected)
    y = xform.jvp(lambda a: getattr(a.at[idx], op)(v), (x,), (np.ones_like(x),))[0]
    assert_same(y, expected)


_AtX = xnp.at  # x.at for numpy arrays (the helper the tracer property returns)


def test_at_broadcast_dtype_and_grad():
    x = np.zeros((3, 4), np.float32)
    r = _AtX(x)[:, 1].set(2)
    assert r.dtype == np.float32 and r[:, 1].tolist() == [2, 2, 2]
    assert_same(_AtX(np.arange(4))[[1, 1]].add(5), np.array([0, 11, 2, 3]))
    assert_same(_AtX(np.arange(4))[[1, 1, 2]].set(np.array([7, 8, 9])), np.array([0, 8, 9, 3]))
    assert_same(_AtX(np.arange(4.0))[1].get(), np.float64(1.0))
    # gradients flow to both the array and the updates
    gx, gv = xform.grad(lambda a, v: xnp.sum(a.at[[0, 2]].set(v) ** 2), argnums=(0, 1))(
        np.arange(4.0), np.array([5.0, 6.0]))
    assert_same(gx, np.array([0.0, 2.0, 0.0, 6.0]))
    assert_same(gv, np.array([10.0, 12.0]))
    xform.check_grads(lambda a, v: xnp.at(a)[1:3].add(v * a[0]), (np.arange(1.0, 5.0), np.array([2.0, 3.0])),
                      order=2)
    xform.check_grads(lambda a, v: xnp.at(a)[[0, 2]].multiply(v), (np.arange(1.0, 5.0), np.array([2.0, 3.0])),
                      order=2)
    # traced indices (under vmap)
    out = xform.vmap(lambda i: xnp.at(xnp.zeros(4))[i].set(1.0))(np.array([0, 3]))
    assert_same(out, np.array([[1.0, 0, 0, 0], [0, 0, 0, 1.0]]))
    out = xform.vmap(lambda i: xnp.at(xnp.zeros(4))[i].add(1.0))(np.array([0, 3]))
    assert_same(out, np.array([[1.0, 0, 0, 0], [0, 0, 0, 1.0]]))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        _AtX(np.zeros(4))[:2].set(np.ones(3))


def test_at_divide_is_true_division():
    x = np.array([7.0, 9.0, 10.0])
    # exactly x / v (not x * (1 / v): 7 * 0.1 is 0.7000000000000001)
    np.testing.assert_array_equal(xnp.at(x)[0].divide(10.0), [7.0 / 10.0, 9.0, 10.0])
    got = xform.jit(lambda x: x.at[np.array([0, 0, 2])].divide(np.array([2.0, 5.0, 10.0])))(x)
    np.testing.assert_array_equal(got, [7.0 / 10.0, 9.0, 1.0])  # a repeated index divides by both
    gx, gv = xform.grad(lambda x, v: xnp.sum(x.at[1].divide(v)), argnums=(0, 1))(xnp.asarray(x), 3.0)
    np.testing.assert_allclose(gx, [1.0, 1 / 3, 1.0])
    np.testing.assert_allclose(gv, -9.0 / 9.0)
    with pytest.raises(TypeError, match=r"at\[\]\.divide: the array is int64; .*astype\(float\)"):
        xnp.at(np.array([7, 9]))[0].divide(2)


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_take_modes(mode):
    a = np.arange(12.0).reshape(3, 4)
    i = np.array([5, -5, 0, 3, -1, 9])
    np.testing.assert_array_equal(xnp.take(a, i, axis=1, mode=mode), np.take(a, i, axis=1, mode=mode))
    got = xform.jit(lambda a, i: xnp.take(a, i, mode=mode))(a, i)
    np.testing.assert_array_equal(got, np.take(a, i, mode=mode))
    g = xform.grad(lambda v: xnp.take(v, i, mode=mode).sum())(np.arange(4.0))
    np.testing.assert_array_equal(g, np.bincount(np.take(np.arange(4), i, mode=mode), minlength=4))


def test_take_rejects_unknown_mode_and_out():
    with pytest.raises(ValueError, match="take: mode must be 'raise', 'wrap', 'clip' or 'fill'"):
        xnp.take(np.arange(3.0), [0], mode="nearest")
    with pytest.raises(TypeError, match="take: out= is not supported"):
        xnp.take(np.arange(3.0), [0], out=np.empty(1))


@pytest.mark.parametrize("op", ["set", "multiply", "min", "max", "add", "power"])
def test_at_updates_with_repeated_traced_indices_combine_in_order(op):
    """Traced indices (jit, vmap) with repeats give what concrete indices give: set keeps
    the last value, multiply/min/max combine (they used to be summed first)."""
    a = np.arange(1.0, 11.0).reshape(2, 5) / 4
    idx = np.array([[1, 1, 4], [3, 3, 3]])
    vals = np.array([[1.5, -2.0, 0.5], [3.0, -0.5, 2.0]])

    def f(x, i, v):
        return getattr(xnp.at(x)[i], op)(v)

    want = np.stack([f(x, i, v) for x, i, v in zip(a, idx, vals)])  # concrete indices
    np.testing.assert_allclose(xform.vmap(f)(a, idx, vals), want, rtol=1e-14)
    np.testing.assert_allclose(xform.jit(xform.vmap(f))(a, idx, vals), want, rtol=1e-14)
    np.testing.assert_allclose(xform.jit(f)(a[0], idx[0], vals[0]), want[0], rtol=1e-14)


def test_at_updates_with_repeated_traced_indices_differentiate():
    def f(v, i):
        return xnp.sum(xnp.at(np.full(4, 2.0))[i].multiply(v) ** 2)

    i = np.array([1, 1, 3])
    v = np.array([3.0, 5.0, 7.0])
    g = xform.jit(xform.grad(f))(v, i)
    # positions 1: (2 * 3 * 5)^2, 3: (2 * 7)^2
    np.testing.assert_allclose(g, [2 * 900 / 3, 2 * 900 / 5, 2 * 196 / 7])
    np.testing.assert_array_equal(xform.jit(lambda x, j: x.at[j].set(np.array([3, 4])))(
        np.ones(3, np.int32), np.array([2, 2])), [1, 1, 4])
