"""``mode``, ``rankdata`` and ``sem`` of jax.scipy.stats."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import lax
from ... import numpy as xnp

__all__ = ["ModeResult", "mode", "rankdata", "sem"]

Array = Any


class ModeResult(NamedTuple):
    """``mode``'s result: the most frequent values and their counts."""

    mode: Any
    count: Any


def _check_nan_policy(name, nan_policy, allowed=("propagate",)):
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError(f"xform.scipy.stats.{name}: illegal nan_policy {nan_policy!r}; expected "
                         f"one of 'propagate', 'omit', 'raise'.")
    if nan_policy not in allowed:
        raise NotImplementedError(
            f"xform.scipy.stats.{name}: nan_policy={nan_policy!r} is not supported (values are "
            f"not known while tracing; check for NaNs before calling), as in JAX.")


def mode(a: Array, axis: int | None = 0, nan_policy: str = "propagate",
         keepdims: bool = False) -> ModeResult:
    """The most frequent value along ``axis`` (the smallest among ties, as scipy) and
    its count (flattened for ``axis=None``).

    >>> import numpy as np; from xform.scipy.stats import mode
    >>> mode(np.array([[1, 3, 3], [2, 2, 1]]), axis=1)
    ModeResult(mode=array([3, 2]), count=array([2, 2]))
    """
    _check_nan_policy("mode", nan_policy)
    x = xnp.atleast_1d(xnp.asarray(a))
    if axis is None:
        x, ax = xnp.ravel(x), 0
        out_keep = (1,) * xnp.ndim(a) if keepdims else ()
    else:
        ax = axis % x.ndim
        out_keep = None
    x = xnp.moveaxis(x, ax, -1)
    n = x.shape[-1]
    if n == 0:
        shape = x.shape[:-1]
        return ModeResult(xnp.full(shape, np.nan), xnp.zeros(shape))
    s = xnp.sort(x, axis=-1)
    # for each sorted value, how many equal it (O(n^2) comparisons: fine for data sizes
    # that mode is used on, and free of data-dependent shapes)
    counts = xnp.sum(s[..., :, None] == s[..., None, :], axis=-1)
    best = xnp.argmax(counts, axis=-1)  # first maximum: the smallest value among ties
    m = xnp.take_along_axis(s, best[..., None], axis=-1)[..., 0]
    c = xnp.take_along_axis(counts, best[..., None], axis=-1)[..., 0]
    if keepdims:
        if axis is None:
            m, c = xnp.reshape(m, out_keep), xnp.reshape(c, out_keep)
        else:
            m, c = xnp.expand_dims(m, ax), xnp.expand_dims(c, ax)
    return ModeResult(m, c)


def rankdata(a: Array, method: str = "average", *, axis: int | None = None,
             nan_policy: str = "propagate") -> Array:
    """Ranks of the data from 1 (scipy's ``rankdata``): ties get the 'average', 'min',
    'max', 'dense' or 'ordinal' rank; float results (all NaN when there is a NaN, with
    ``nan_policy='propagate'``).

    >>> import numpy as np; from xform.scipy.stats import rankdata
    >>> rankdata(np.array([10, 20, 20, 5]))
    array([2. , 3.5, 3.5, 1. ])
    >>> rankdata(np.array([10, 20, 20, 5]), "dense")
    array([2., 3., 3., 1.])
    """
    _check_nan_policy("rankdata", nan_policy)
    if method not in ("average", "min", "max", "dense", "ordinal"):
        raise ValueError(f"xform.scipy.stats.rankdata: unknown method {method!r}.")
    if axis is not None:
        return xnp.apply_along_axis(lambda v: rankdata(v, method), axis, a)
    x = xnp.ravel(xnp.asarray(a))
    n = x.shape[0]
    if n == 0:
        return xnp.zeros((0,))
    sorter = xnp.argsort(x, kind="stable")
    inv = xnp.argsort(sorter, kind="stable")
    s = x[sorter]
    idx = xnp.arange(n)
    new = xnp.concatenate([xnp.ones(1, bool), s[1:] != s[:-1]])
    last = xnp.concatenate([s[1:] != s[:-1], xnp.ones(1, bool)])
    start = lax.cummax(xnp.where(new, idx, 0), 0)          # first index of each tie group
    end = xnp.flip(lax.cummin(xnp.flip(xnp.where(last, idx, n)), 0))  # its last index
    if method == "ordinal":
        r = idx + 1.0
    elif method == "dense":
        r = xnp.cumsum(new) * 1.0
    elif method == "min":
        r = start + 1.0
    elif method == "max":
        r = end + 1.0
    else:
        r = (start + end) / 2.0 + 1.0
    ranks = xnp.asarray(r[inv], dtype=np.float64)
    if xnp.asarray(x).dtype.kind == "f":
        ranks = xnp.where(xnp.any(xnp.isnan(x)), np.nan, ranks)
    return ranks


def sem(a: Array, axis: int | None = 0, ddof: int = 1, nan_policy: str = "propagate", *,
        keepdims: bool = False) -> Array:
    """Standard error of the mean, ``std(a, ddof) / sqrt(n)`` (``nan_policy='omit'``:
    NaNs are left out).

    >>> import numpy as np; from xform.scipy.stats import sem
    >>> float(sem(np.array([1.0, 2.0, 3.0, 4.0])))
    0.6454972243679028
    """
    _check_nan_policy("sem", nan_policy, ("propagate", "omit"))
    b = xnp.asarray(a)
    if b.dtype.kind not in "fc":
        b = xnp.asarray(b, dtype=np.float64)
    if nan_policy == "omit":
        count = xnp.sum(~xnp.isnan(b), axis=axis, keepdims=keepdims)
        return xnp.nanstd(b, axis=axis, ddof=ddof, keepdims=keepdims) / xnp.sqrt(
            xnp.asarray(count, dtype=b.dtype))
    n = b.size if axis is None else b.shape[axis]
    return xnp.std(b, axis=axis, ddof=ddof, keepdims=keepdims) / np.sqrt(n).astype(b.dtype)
