"""Concrete arrays (docs/arrays.md): xform's results are ``xform.Array``s, numpy arrays
with JAX's ``.at``, ``block_until_ready`` and list-of-axes reductions; traced integer
indices into them work in every mode, while plain numpy arrays indexed by a traced
value fail with one clear message in every mode. References: numpy; JAX where it is
installed."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.core.trace import TracerArrayConversionError

_jit_double = xform.jit(lambda x: x * 2.0)
_jit_pair = xform.jit(lambda x: (x + 1.0, xnp.sum(x)))


def test_at_on_results_of_every_kind():
    assert (xnp.zeros(3).at[0].set(1.0) == np.array([1.0, 0.0, 0.0])).all()
    x = np.arange(4.0)
    results = {
        "xnp": xnp.sin(x),
        "jit first call": _jit_double(x),
        "jit fast path": _jit_double(x),
        "jit tuple": _jit_pair(x)[0],
        "grad": xform.grad(lambda v: xnp.sum(v ** 2))(x),
        "vmap": xform.vmap(lambda v: v * 3.0)(x),
        "jacfwd": xform.jacfwd(xnp.sin)(x),
        "jvp": xform.jvp(xnp.sin, (x,), (x,))[1],
        "vjp": xform.vjp(xnp.sin, x)[1](x)[0],
        "linalg": xnp.linalg.inv(np.eye(2) * 2.0),
    }
    for name, r in results.items():
        assert type(r) is xform.Array, name
        ref = np.asarray(r).copy()
        ref[(0,) * ref.ndim] = -7.0
        np.testing.assert_array_equal(r.at[(0,) * r.ndim].set(-7.0), ref, err_msg=name)
        assert r.block_until_ready() is r


def test_at_updates_match_numpy():
    x = xnp.arange(6.0).reshape(2, 3)
    ref = np.arange(6.0).reshape(2, 3)
    idx = (slice(None), [0, 2, 0])
    cases = [
        (x.at[1, 2].set(9.0), _set(ref, (1, 2), 9.0)),
        (x.at[idx].add(1.0), _apply(ref, np.add.at, idx, 1.0)),
        (x.at[idx].multiply(2.0), _apply(ref, np.multiply.at, idx, 2.0)),
        (x.at[idx].min(0.5), _apply(ref, np.minimum.at, idx, 0.5)),
        (x.at[idx].max(4.5), _apply(ref, np.maximum.at, idx, 4.5)),
        (x.at[0].add(1.0).at[1].set(0.0), np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])),
    ]
    for got, want in cases:
        assert type(got) is xform.Array
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x.at[1].get(), ref[1])
    np.testing.assert_array_equal(x, ref)  # functional: x itself is unchanged


def _set(a, idx, v):
    a = a.copy()
    a[idx] = v
    return a


def _apply(a, ufunc_at, idx, v):
    a = a.copy()
    ufunc_at(a, idx, v)
    return a


def test_arrays_are_numpy_arrays():
    x = xnp.linspace(0.0, 1.0, 5)
    assert isinstance(x, np.ndarray) and isinstance(x, xnp.ndarray)
    assert repr(x) == repr(np.linspace(0.0, 1.0, 5)) and str(x) == str(np.linspace(0, 1, 5))
    np.testing.assert_allclose(np.sin(x), np.sin(np.linspace(0.0, 1.0, 5)))
    y = x + 1.0  # numpy keeps the subclass: chained JAX code goes on working
    assert type(y) is xform.Array and y.at[0].set(5.0)[0] == 5.0
    assert type(xnp.sum(x)) is np.float64  # 0-d results are numpy scalars, as before
    assert type(x.tolist()) is list
    z = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(z, x)
    x[0] = 3.0  # a numpy array: in-place writes work as in numpy
    assert x[0] == 3.0


def test_reductions_take_lists_of_axes():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = xnp.asarray(a)
    for name in ("sum", "mean", "prod", "max", "min", "std", "var"):
        np.testing.assert_allclose(getattr(x, name)(axis=[0, 2]), getattr(a, name)(axis=(0, 2)),
                                   err_msg=name)
        np.testing.assert_allclose(getattr(x, name)(), getattr(a, name)(), err_msg=name)
    b = xnp.asarray(a > 3)
    assert (b.all(axis=[1, 2]) == (a > 3).all(axis=(1, 2))).all()
    assert (b.any(axis=[0]) == (a > 3).any(axis=0)).all()
    np.testing.assert_allclose(x.sum(axis=1, keepdims=True), a.sum(axis=1, keepdims=True))


def test_arrays_as_inputs_behave_as_plain_arrays():
    a = np.array([0.5, 1.5, -2.0])
    x = xnp.asarray(a)
    f = xform.jit(lambda v: v * v + 1.0)
    np.testing.assert_array_equal(f(a), f(x))
    np.testing.assert_array_equal(f(x), f(x))  # the fast path, with an Array argument
    assert f._cache_size() == 1  # an Array traces as the plain array it is
    g = xform.grad(lambda v: xnp.sum(xnp.sin(v) * v))
    np.testing.assert_array_equal(g(a), g(x))
    np.testing.assert_array_equal(xform.vmap(xnp.sin)(x), np.sin(a))
    np.testing.assert_array_equal(xnp.add(x, x), 2 * a)


def _index_plain(n):
    a = np.arange(5.0) ** 2

    def body(i, acc):
        return acc + a[i]

    return lax.fori_loop(0, n, body, 0.0)


def _index_array(x):
    a = xnp.arange(5.0) ** 2  # an xform.Array

    def body(i, acc):
        return acc + a[i] * x

    return lax.fori_loop(0, 4, body, 0.0)


def test_traced_index_into_numpy_array_fails_the_same_way_in_every_mode():
    msg = r"np_array\[i\].*xform.numpy.take"
    a = np.arange(5.0)
    runs = {
        "eager fori_loop": lambda: _index_plain(3),
        "jit": lambda: xform.jit(lambda i: a[i])(2),
        "grad": lambda: xform.grad(lambda x: _index_plain(3) * x)(1.0),
        "vmap": lambda: xform.vmap(lambda i: a[i])(np.arange(3)),
    }
    for run in runs.values():
        with pytest.raises(TracerArrayConversionError, match=msg):
            run()


def test_traced_index_into_xform_array_works_in_every_mode():
    ref = sum(float(i) ** 2 * 2.0 for i in range(4))
    assert _index_array(2.0) == ref
    assert xform.jit(_index_array)(2.0) == ref
    assert xform.grad(_index_array)(2.0) == pytest.approx(ref / 2.0)
    a = xnp.arange(5.0) * 10
    np.testing.assert_array_equal(xform.vmap(lambda i: a[i])(np.array([4, 0, 2])), [40.0, 0.0, 20.0])
    m = xnp.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(xform.jit(lambda i: m[i, 1:3])(2), np.arange(12.0).reshape(3, 4)[2, 1:3])
    np.testing.assert_array_equal(xform.vmap(lambda i: m[:, i])(np.array([3, 0])),
                                  np.arange(12.0).reshape(3, 4)[:, [3, 0]].T)


def test_arrays_against_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_array_equal(xnp.zeros(3).at[0].set(1.0), jnp.zeros(3).at[0].set(1.0))
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    idx = (slice(None), np.array([0, 2, 0]))
    for op in ("add", "multiply", "min", "max"):
        ours = getattr(xnp.asarray(x).at[idx], op)(np.float32(2.0))
        theirs = getattr(jnp.asarray(x).at[idx], op)(2.0)
        np.testing.assert_array_equal(ours, theirs, err_msg=op)
    np.testing.assert_array_equal(xnp.asarray(x).sum(axis=[0, 1]), jnp.asarray(x).sum(axis=[0, 1]))
    del jax


def test_zero_d_results_of_array_methods_are_numpy_scalars():
    """As for plain numpy arrays: ``x.sum()`` of an xform.Array is a numpy scalar, not a
    0-d Array (numpy returns 0-d subclass arrays unless ``__array_wrap__`` says otherwise)."""
    import xform.numpy as xnp

    x = xnp.arange(4.0)
    for got, want in [(x.sum(), np.float64(6.0)), ((x > 1).all(), np.False_),
                      (np.sum(x), np.float64(6.0)), (x.max(axis=[0]), np.float64(3.0))]:
        assert type(got) is type(want) and got == want
    assert type(x + 1) is xform.Array and type(x.sum(axis=0, keepdims=True)) is xform.Array
