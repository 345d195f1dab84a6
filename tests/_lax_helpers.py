"""Helpers shared by the lax primitive tests (structural, reductions, indexing, linalg)."""
import numpy as np
import pytest

import xform


def make_rand(rng: np.random.Generator):
    """A ``rand(shape, dtype)`` drawing from ``rng`` (each test file has its own seed)."""

    def rand(shape, dtype=np.float64):
        dtype = np.dtype(dtype)
        if dtype.kind == "b":
            return rng.random(shape) > 0.5
        if dtype.kind in "iu":
            return rng.integers(-5, 6, shape).astype(dtype)
        return rng.standard_normal(shape).astype(dtype)

    return rand


def check(f, args, expected):
    """Eager result equals ``expected`` (values, shape, dtype) and so does the staged aval."""
    expected = np.asarray(expected)
    got = np.asarray(f(*args))
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_array_equal(got, expected)
    (aval,) = xform.make_jaxpr(f)(*args).out_avals
    assert (aval.shape, aval.dtype) == (expected.shape, expected.dtype)


def check_vmap(f, args, in_axes, tol=1e-12):
    """vmap(f) equals a Python loop over the batch axis."""
    (n,) = {a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None}
    want = np.stack([np.asarray(f(*[a if ax is None else np.take(a, i, axis=ax)
                                    for a, ax in zip(args, in_axes)])) for i in range(n)])
    got = np.asarray(xform.vmap(f, in_axes=in_axes)(*args))
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def grads(f, *args):
    xform.check_grads(f, args, order=2, modes=("fwd", "rev"))


def both_modes_raise(exc, match, f, *args):
    """The same clear error eagerly and under make_jaxpr."""
    with pytest.raises(exc, match=match):
        f(*args)
    with pytest.raises(exc, match=match):
        xform.make_jaxpr(f)(*args)
