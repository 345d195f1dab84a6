"""numpy's set routines: unique, isin, intersect1d, union1d, setdiff1d, setxor1d.

Their result sizes depend on the data. Eagerly the size is read from the values; under
transformations pass ``size=`` (and optionally ``fill_value=``), as JAX: the result is
cut or padded to that size. Everything is sort + compare + gather, so it jits.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._creation import arange, asarray
from ._indexing import getitem  # numpy arrays indexed by traced indices
from ._manipulation import concatenate, ravel
from ._promote import array_arg, is_tracer, shape
from ._reductions import any as _any, cumsum
from ._sorting import argsort
from ._statistics import searchsorted
from ._ufuncs import isnan, logical_not, where

__all__ = ["unique", "unique_values", "unique_counts", "unique_inverse", "unique_all", "isin",
           "intersect1d", "union1d", "setdiff1d", "setxor1d"]


def _dt(x):
    return np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)


def _static_size(mask, size, where_):
    if size is not None:
        return int(size)
    if is_tracer(mask):
        raise TypeError(f"{where_}: the result size depends on the values; under "
                        "transformations pass size= (and fill_value=).")
    return int(np.sum(np.asarray(mask)))


def _compact_index(mask, size):
    """Indices of the first ``size`` true entries of the 1-D ``mask`` (n where fewer)."""
    csum = cumsum(asarray(mask, dtype=np.int64))
    return searchsorted(csum, arange(1, size + 1, dtype=np.int64), side="left")


def _take_or_fill(vals, ind, fill):
    n = shape(vals)[0]
    safe = where(ind < n, ind, 0) if n else ind
    got = getitem(vals, safe) if n else asarray(np.zeros(shape(ind)), dtype=_dt(vals))
    return where(ind < n, got, fill)


def _sorted_unique_mask(s, equal_nan):
    n = shape(s)[0]
    if n == 0:
        return asarray(np.zeros(0, bool))
    new = s[1:] != s[:-1]
    if equal_nan and _dt(s).kind in "fc":
        new = new & logical_not(isnan(s[1:]) & isnan(s[:-1]))
    return concatenate([asarray(np.ones(1, bool)), new])


def unique(ar, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           size: int | None = None, fill_value=None, sorted: bool = True):  # noqa: A002
    """Sorted unique elements of the flattened ``ar`` (optionally first indices, the
    inverse map and counts). With ``size`` the result is cut/padded to that length and
    works under jit; padding is ``fill_value`` (default: the smallest element), padded
    counts are 0 and padded indices 0.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unique(np.array([3, 1, 3, 2]))
    array([1, 2, 3])
    >>> xnp.unique(np.array([3, 1, 3, 2]), size=4, fill_value=0)
    array([1, 2, 3, 0])
    """
    if axis is not None:
        if size is not None or is_tracer(ar):
            raise NotImplementedError("unique: axis= needs concrete values and no size=.")
        np_unique: Any = np.unique  # (numpy's stubs need literal flags)
        return np_unique(np.asarray(ar), return_index, return_inverse, return_counts, axis,
                         equal_nan=equal_nan)
    a = array_arg(ar, "unique")
    orig_shape = shape(a)
    a = ravel(a)
    n = shape(a)[0]
    perm = argsort(a, stable=True)
    s = getitem(a, perm)
    mask = _sorted_unique_mask(s, equal_nan)
    k = _static_size(mask, size, "unique")
    ind = _compact_index(mask, k)
    if fill_value is None:
        fill_value = s[0] if n else 0
    vals = _take_or_fill(s, ind, fill_value)
    extra = []
    if return_index:
        extra.append(_take_or_fill(perm, ind, 0))
    if return_inverse:
        inv_sorted = cumsum(asarray(mask, dtype=np.int64)) - 1
        inv = getitem(inv_sorted, argsort(perm)) if n else inv_sorted
        extra.append(inv.reshape(orig_shape) if not is_tracer(inv) else inv.reshape(orig_shape))
    if return_counts:
        nxt = concatenate([ind[1:], asarray(np.array([n]), dtype=np.int64)]) if k else ind
        nxt = where(nxt > n, n, nxt)
        extra.append(where(ind < n, nxt - ind, 0))
    return (vals, *extra) if extra else vals


def unique_values(x, *, size=None, fill_value=None):
    """Array API: the unique values.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unique_values(np.array([2, 2, 1]))
    array([1, 2])
    """
    return unique(x, size=size, fill_value=fill_value)


def unique_counts(x, *, size=None, fill_value=None):
    """Array API: ``(values, counts)``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unique_counts(np.array([2, 2, 1]))
    (array([1, 2]), array([1, 2]))
    """
    return unique(x, return_counts=True, size=size, fill_value=fill_value)


def unique_inverse(x, *, size=None, fill_value=None):
    """Array API: ``(values, inverse_indices)``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unique_inverse(np.array([2, 2, 1]))
    (array([1, 2]), array([1, 1, 0]))
    """
    return unique(x, return_inverse=True, size=size, fill_value=fill_value)


def unique_all(x, *, size=None, fill_value=None):
    """Array API: ``(values, indices, inverse_indices, counts)``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unique_all(np.array([2, 2, 1]))[3]
    array([1, 2])
    """
    return unique(x, True, True, True, size=size, fill_value=fill_value)


def isin(element, test_elements, assume_unique: bool = False, invert: bool = False, *,
         kind=None):
    """Whether each element of ``element`` is in ``test_elements`` (all-pairs compare).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isin(np.array([1, 2, 3]), np.array([3, 1]))
    array([ True, False,  True])
    """
    e = array_arg(element, "isin")
    t = ravel(array_arg(test_elements, "isin"))
    r = _any(e[..., None] == t, axis=-1)
    return logical_not(r) if invert else r


def _compact(vals, keep, size, fill_value, where_):
    k = _static_size(keep, size, where_)
    ind = _compact_index(keep, k)
    n = shape(vals)[0]
    if fill_value is None:
        fill_value = vals[0] if n else 0
    return _take_or_fill(vals, ind, fill_value)


def _unique_padded(ar, where_):
    # sorted values with a mask of the first occurrences (static length)
    a = ravel(array_arg(ar, where_))
    s = getitem(a, argsort(a, stable=True))
    return s, _sorted_unique_mask(s, True)


def intersect1d(ar1, ar2, assume_unique: bool = False, return_indices: bool = False, *,
                size: int | None = None, fill_value=None):
    """Sorted unique values in both arrays.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.intersect1d(np.array([1, 3, 4, 3]), np.array([3, 1, 2, 1]))
    array([1, 3])
    """
    if return_indices:
        raise NotImplementedError("intersect1d: return_indices=True is not supported.")
    s, first = _unique_padded(ar1, "intersect1d")
    keep = first & isin(s, ar2)
    return _compact(s, keep, size, fill_value, "intersect1d")


def union1d(ar1, ar2, *, size: int | None = None, fill_value=None):
    """Sorted unique values in either array.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.union1d(np.array([-1, 0, 1]), np.array([-2, 0, 2]))
    array([-2, -1,  0,  1,  2])
    """
    both = concatenate([ravel(array_arg(ar1, "union1d")), ravel(array_arg(ar2, "union1d"))])
    return unique(both, size=size, fill_value=fill_value)


def setdiff1d(ar1, ar2, assume_unique: bool = False, *, size: int | None = None,
              fill_value=None):
    """Sorted unique values of ``ar1`` not in ``ar2``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.setdiff1d(np.array([1, 2, 3, 2, 4, 1]), np.array([3, 4, 5, 6]))
    array([1, 2])
    """
    s, first = _unique_padded(ar1, "setdiff1d")
    keep = first & logical_not(isin(s, ar2))
    return _compact(s, keep, size, fill_value, "setdiff1d")


def setxor1d(ar1, ar2, assume_unique: bool = False, *, size: int | None = None,
             fill_value=None):
    """Sorted unique values in exactly one of the arrays.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.setxor1d(np.array([1, 2, 3, 2, 4]), np.array([2, 3, 5, 7, 5]))
    array([1, 4, 5, 7])
    """
    s1, f1 = _unique_padded(ar1, "setxor1d")
    s2, f2 = _unique_padded(ar2, "setxor1d")
    vals = concatenate([s1, s2])
    keep = concatenate([f1 & logical_not(isin(s1, s2)), f2 & logical_not(isin(s2, s1))])
    order = argsort(vals, stable=True)
    return _compact(getitem(vals, order), getitem(keep, order), size, fill_value, "setxor1d")


