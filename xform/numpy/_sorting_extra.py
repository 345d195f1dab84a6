"""numpy's sorting routines that were missing: partition/argpartition (a full stable
sort satisfies their contract: the k-th element in place, smaller before, larger after),
lexsort (stable argsorts from the last key to the first) and sort_complex.
"""
from __future__ import annotations

import numpy as np

from ._creation import asarray
from ._indexing import getitem
from ._indexing_routines import take_along_axis
from ._promote import array_arg, is_tracer, shape
from ._sorting import argsort, sort

__all__ = ["partition", "argpartition", "lexsort", "sort_complex"]


def partition(a, kth: int, axis: int = -1):
    """``a`` rearranged so that the ``kth`` element along ``axis`` is where sorting would
    put it, smaller ones before and larger after (here: fully sorted).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.partition(np.array([3, 1, 2]), 1)[1]
    np.int64(2)
    """
    a = array_arg(a, "partition")
    n = shape(a)[axis] if axis is not None else int(np.prod(shape(a)))
    for k in np.atleast_1d(kth):
        if not -n <= int(k) < n:
            raise ValueError(f"partition: kth {int(k)} is out of bounds for length {n}.")
    return sort(a, axis=axis)


def argpartition(a, kth: int, axis: int = -1):
    """Indices that ``partition`` ``a`` (here: a stable argsort).

    >>> import numpy as np, xform.numpy as xnp
    >>> int(xnp.argpartition(np.array([3, 1, 2]), 0)[0])
    1
    """
    a = array_arg(a, "argpartition")
    n = shape(a)[axis] if axis is not None else int(np.prod(shape(a)))
    for k in np.atleast_1d(kth):
        if not -n <= int(k) < n:
            raise ValueError(f"argpartition: kth {int(k)} is out of bounds for length {n}.")
    return argsort(a, axis=axis, stable=True)


def lexsort(keys, axis: int = -1):
    """Indices sorting by the last key first, then the previous ones (stable).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.lexsort((np.array([1, 0, 1]), np.array([0, 0, 1])))
    array([1, 0, 2])
    """
    if is_tracer(keys) or isinstance(keys, np.ndarray):
        keys = [keys[i] for i in range(shape(keys)[0])]
    keys = [array_arg(k, "lexsort") for k in keys]
    if not keys:
        raise TypeError("lexsort: need at least one key.")
    idx = argsort(keys[0], axis=axis, stable=True)
    for k in keys[1:]:
        kk = take_along_axis(k, idx, axis=axis)
        idx = take_along_axis(idx, argsort(kk, axis=axis, stable=True), axis=axis)
    return idx


def sort_complex(a):
    """Sort by real part, then imaginary part; the result is complex.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.sort_complex(np.array([1 + 2j, 1 - 1j, 0 + 5j]))
    array([0.+5.j, 1.-1.j, 1.+2.j])
    """
    from ._logic import imag, real
    a = array_arg(a, "sort_complex")
    dt = np.dtype(a.aval.dtype if is_tracer(a) else a.dtype)
    cdt = dt if dt.kind == "c" else np.result_type(dt, np.complex64)
    a = asarray(a, dtype=cdt)
    order = lexsort([imag(a), real(a)])
    return take_along_axis(a, order, axis=-1) if len(shape(a)) else getitem(a, order)
