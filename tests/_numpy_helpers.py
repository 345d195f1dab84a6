"""Helpers for tests/test_numpy_*.py: comparison of xform.numpy results with numpy's
(type: scalar vs array, dtype, shape, values), random inputs per dtype, a vmap reference.

Values: elementwise functions compare with a dtype-dependent relative tolerance (each
result is a few ulps from the exact value in both implementations, so they agree to a
few ulps; the _TOL values are 8-16 ulps). Results that are sums (dot, matmul, einsum,
sum, mean, var, ...) are instead compared with a float64 reference within an a-priori
error bound (``compare(..., bound=...)``, see tests/_tolerance.py): numpy's own last
bits depend on the BLAS kernel and SIMD width of the machine (issue 19).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from _tolerance import assert_within, sum_of_products

# relative tolerances for elementwise results: float16 ~8 ulp (2**-10 spacing), float32
# ~17 ulp (2**-23), float64 ~4500 ulp; none is used for a sum with cancellation.
_TOL = {"f": {2: 2e-3, 4: 2e-6, 8: 1e-12}, "c": {8: 2e-6, 16: 1e-12}}


def assert_same(actual, expected, rtol=None, atol=0.0, exact=False, check_type=True, within=None):
    """``actual`` equals numpy's ``expected``: same kind of object (ndarray vs numpy
    scalar), same dtype and shape, equal values (nan == nan); floats compare with a
    dtype-dependent relative tolerance unless ``exact``.

    ``within=(ref, tol)`` (float results only): instead of numpy's values, the values
    must satisfy |actual - ref| <= tol (an error bound around a float64 reference, see
    tests/_tolerance.py); numpy's ``expected`` must satisfy it too, which checks the
    bound itself."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, rtol, atol, exact, check_type)
        return
    if isinstance(expected, list):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, rtol, atol, exact, check_type)
        return
    if check_type:
        if isinstance(expected, np.ndarray):
            assert isinstance(actual, np.ndarray), f"expected an ndarray, got {type(actual)}"
        elif isinstance(expected, np.generic):
            assert isinstance(actual, np.generic), (
                f"expected a numpy scalar {type(expected)}, got {type(actual)}: {actual!r}")
    actual_a, expected_a = np.asarray(actual), np.asarray(expected)
    assert actual_a.dtype == expected_a.dtype, f"dtype {actual_a.dtype} != numpy's {expected_a.dtype}"
    assert actual_a.shape == expected_a.shape, f"shape {actual_a.shape} != numpy's {expected_a.shape}"
    kind = expected_a.dtype.kind
    if exact or kind not in "fc":
        np.testing.assert_array_equal(actual_a, expected_a)
    elif within is not None:
        ref, tol = within
        assert_within(actual_a, ref, tol, "(xform)")
        assert_within(expected_a, ref, tol, "(numpy: the bound itself is wrong)")
    else:
        tol = _TOL[kind][expected_a.dtype.itemsize]
        tol = tol if rtol is None else max(tol, rtol)
        np.testing.assert_allclose(actual_a, expected_a, rtol=tol, atol=atol, equal_nan=True)


def rand(rng, shape, dtype, lo=-2.0, hi=2.0):
    """Random array (or Python scalar for dtype float/int/bool) of ``shape``."""
    if dtype in (float, int, bool):
        v = rand(rng, (), {float: np.float64, int: np.int64, bool: np.bool_}[dtype], lo, hi)
        return dtype(v)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        lo_i = 0 if dt.kind == "u" else int(np.floor(lo))
        x = rng.integers(lo_i, int(np.ceil(hi)) + 1, size=shape).astype(dt)
        if lo > 0:
            x = np.where(x == 0, np.ones((), dt), x)
        return x
    if dt.kind == "c":
        return (rng.uniform(lo, hi, size=shape) + 1j * rng.uniform(lo, hi, size=shape)).astype(dt)
    return rng.uniform(lo, hi, size=shape).astype(dt)


def numpy_result(fn, *args, **kwargs):
    """numpy's result or the exception type it raises (warnings silenced)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs), None
        except Exception as e:  # noqa: BLE001
            return None, e


def compare(xfn, npfn, *args, rtol=None, exact=False, bound=None, **kwargs):
    """Run both; if numpy raises, xform must raise the same kind of error.

    ``bound``: for float results that are sums (see the module docstring), a function
    ``bound(npfn, args, kwargs, dtype) -> (ref, tol)`` from tests/_tolerance.py, or
    ``"sum_of_products"`` (dot, matmul, einsum, tensordot, sum, cumsum, ...); the values
    are then checked against that error bound instead of numpy's last bits."""
    expected, err = numpy_result(npfn, *args, **kwargs)
    if err is not None:
        exc = (TypeError, ValueError, IndexError) if not isinstance(err, OverflowError) else OverflowError
        with pytest.raises(exc), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            xfn(*args, **kwargs)
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        actual = xfn(*args, **kwargs)
    within = None
    if bound is not None and not exact and np.asarray(expected).dtype.kind in "fc":
        bound = sum_of_products if bound == "sum_of_products" else bound
        within = bound(npfn, args, kwargs, np.asarray(expected).dtype)
    assert_same(actual, expected, rtol=rtol, exact=exact, within=within)
    return actual


def vmap_reference(f, args, in_axes):
    """Stack f over the batch (axis 0 of outputs) with a Python loop."""
    size = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = []
    for i in range(size):
        outs.append(f(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, in_axes)]))
    return np.stack([np.asarray(o) for o in outs])

