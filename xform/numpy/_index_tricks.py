"""numpy's index tricks and index-array constructors: mgrid, ogrid, r_, c_, s_,
index_exp, tril_indices(_from), triu_indices(_from), diag_indices(_from), mask_indices,
fill_diagonal. Index arrays depend only on static shapes, so they are numpy arrays.
"""
from __future__ import annotations

import numpy as np

from ._creation import arange, asarray, linspace
from ._manipulation import concatenate, expand_dims, moveaxis, stack
from ._promote import array_arg, is_tracer, ndim, shape

__all__ = ["mgrid", "ogrid", "r_", "c_", "s_", "index_exp", "tril_indices", "triu_indices",
           "tril_indices_from", "triu_indices_from", "diag_indices", "diag_indices_from",
           "mask_indices", "fill_diagonal"]


def _range(sl: slice, where_: str):
    start = 0 if sl.start is None else sl.start
    step = 1 if sl.step is None else sl.step
    if is_tracer(start) or is_tracer(sl.stop) or is_tracer(step):
        raise TypeError(f"{where_}: slice bounds must be static numbers.")
    if isinstance(step, complex):
        return linspace(start, sl.stop, int(abs(step)))
    return arange(start, sl.stop, step)


class _Grid:
    """``mgrid[...]``/``ogrid[...]``: dense or open (broadcastable) coordinate grids;
    a complex step ``5j`` means that many points, endpoint included."""

    def __init__(self, sparse: bool, name: str):
        self.sparse = sparse
        self.name = name

    def __getitem__(self, key):
        if isinstance(key, slice):
            return _range(key, self.name)
        axes = [_range(k, self.name) for k in key]
        dt = np.result_type(*[a.dtype for a in axes])
        axes = [asarray(a, dtype=dt) for a in axes]
        n = len(axes)
        if self.sparse:
            return tuple(np.reshape(a, (1,) * i + (-1,) + (1,) * (n - 1 - i))
                         for i, a in enumerate(axes))
        return stack(np.meshgrid(*axes, indexing="ij"))


class _Concat:
    """``r_[...]``/``c_[...]``: concatenate arrays, scalars and slices (ranges) along an
    axis; a leading string ``'axis'`` or ``'axis,ndmin,trans1d'`` sets the details, as
    numpy."""

    def __init__(self, axis: int, ndmin: int, trans1d: int, name: str):
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if key and isinstance(key[0], str):
            spec = key[0]
            key = key[1:]
            if spec in ("r", "c"):
                raise NotImplementedError(f"{self.name}: matrix strings 'r'/'c' are not supported.")
            parts = [int(p) for p in spec.split(",")]
            axis = parts[0]
            if len(parts) > 1:
                ndmin = parts[1]
            if len(parts) > 2:
                trans1d = parts[2]
        items = []
        for k in key:
            if isinstance(k, slice):
                a = _range(k, self.name)
            else:
                a = array_arg(k, self.name)
            if ndmin > ndim(a):
                k_nd = ndim(a)
                a = asarray(a).reshape(shape(a) + (1,) * (ndmin - k_nd)) if not is_tracer(a) \
                    else expand_dims(a, tuple(range(k_nd, ndmin)))
                t = trans1d if trans1d >= 0 else ndmin + trans1d
                # numpy: the original axes move to position trans1d.
                if t != k_nd - 1 + 0 and k_nd > 0:
                    src = tuple(range(k_nd))
                    dst = tuple(range(t - k_nd + 1, t + 1))
                    a = moveaxis(a, src, dst)
            items.append(a)
        if not items:
            return np.array([])
        return concatenate(items, axis=axis)


class _IndexExp:
    """``s_[...]``/``index_exp[...]``: build index tuples with slice syntax."""

    def __init__(self, maketuple: bool):
        self.maketuple = maketuple

    def __getitem__(self, item):
        if self.maketuple and not isinstance(item, tuple):
            return (item,)
        return item


mgrid = _Grid(False, "mgrid")
ogrid = _Grid(True, "ogrid")
r_ = _Concat(0, 1, -1, "r_")
c_ = _Concat(-1, 2, 0, "c_")
s_ = _IndexExp(False)
index_exp = _IndexExp(True)


def tril_indices(n: int, k: int = 0, m: int | None = None):
    """Row and column indices of the lower triangle (diagonal offset ``k``).

    >>> import xform.numpy as xnp
    >>> xnp.tril_indices(3)
    (array([0, 1, 1, 2, 2, 2]), array([0, 0, 1, 0, 1, 2]))
    """
    return np.tril_indices(n, k, m)


def triu_indices(n: int, k: int = 0, m: int | None = None):
    """Row and column indices of the upper triangle (diagonal offset ``k``).

    >>> import xform.numpy as xnp
    >>> xnp.triu_indices(3, k=1)
    (array([0, 0, 1]), array([1, 2, 2]))
    """
    return np.triu_indices(n, k, m)


def tril_indices_from(arr, k: int = 0):
    """``tril_indices`` for the shape of the 2-D ``arr``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.tril_indices_from(np.ones((2, 3)))
    (array([0, 1, 1]), array([0, 0, 1]))
    """
    s = shape(array_arg(arr, "tril_indices_from"))
    if len(s) != 2:
        raise ValueError(f"tril_indices_from: arr must be 2-D, got shape {s}.")
    return np.tril_indices(s[0], k, s[1])


def triu_indices_from(arr, k: int = 0):
    """``triu_indices`` for the shape of the 2-D ``arr``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.triu_indices_from(np.ones((2, 2)))
    (array([0, 0, 1]), array([0, 1, 1]))
    """
    s = shape(array_arg(arr, "triu_indices_from"))
    if len(s) != 2:
        raise ValueError(f"triu_indices_from: arr must be 2-D, got shape {s}.")
    return np.triu_indices(s[0], k, s[1])


def diag_indices(n: int, ndim: int = 2):  # noqa: A002 (numpy's name)
    """Indices of the main diagonal of an ``(n,) * ndim`` array.

    >>> import xform.numpy as xnp
    >>> xnp.diag_indices(2)
    (array([0, 1]), array([0, 1]))
    """
    return np.diag_indices(n, ndim)


def diag_indices_from(arr):
    """``diag_indices`` for ``arr`` (all dimensions equal).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diag_indices_from(np.ones((2, 2)))
    (array([0, 1]), array([0, 1]))
    """
    s = shape(array_arg(arr, "diag_indices_from"))
    if len(s) < 2 or len(set(s)) != 1:
        raise ValueError(f"diag_indices_from: arr must have >= 2 equal dimensions, got {s}.")
    return np.diag_indices(s[0], len(s))


def mask_indices(n: int, mask_func, k: int = 0):
    """Indices where ``mask_func(ones((n, n)), k)`` is nonzero (e.g. ``triu``).

    >>> import xform.numpy as xnp
    >>> xnp.mask_indices(2, xnp.triu)
    (array([0, 0, 1]), array([0, 1, 1]))
    """
    m = np.asarray(mask_func(np.ones((n, n), dtype=int), k))
    return np.nonzero(m != 0)


def fill_diagonal(a, val, wrap: bool = False, *, inplace: bool = True):
    """``a`` with its main diagonal set to ``val`` (cycled), returned as a new array:
    xform arrays are immutable, so pass ``inplace=False`` (as JAX requires).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fill_diagonal(np.zeros((2, 3)), 5.0, inplace=False)
    array([[5., 0., 0.],
           [0., 5., 0.]])
    """
    from ._indexing import at
    if inplace:
        raise ValueError("fill_diagonal: xform arrays are immutable; call with inplace=False "
                         "and use the returned array.")
    a = array_arg(a, "fill_diagonal")
    s = shape(a)
    if len(s) < 2:
        raise ValueError(f"fill_diagonal: a must be at least 2-D, got shape {s}.")
    if len(s) > 2 and len(set(s)) != 1:
        raise ValueError(f"fill_diagonal: all dimensions must be equal for ndim > 2, got {s}.")
    if len(s) == 2:
        n = min(s)
        if wrap and s[0] > s[1]:
            # numpy fills every (ncols + 1)-th element of the flat array.
            flat = np.arange(0, s[0] * s[1], s[1] + 1)
            rows, cols = flat // s[1], flat % s[1]
        else:
            rows = cols = np.arange(n)
        idx: tuple = (rows, cols)
    else:
        idx = np.diag_indices(s[0], len(s))
    nv = idx[0].size
    v = array_arg(val, "fill_diagonal")
    v = asarray(v).reshape(-1) if not is_tracer(v) else v.reshape(-1)
    if shape(v)[0] not in (1, nv):
        v = v[np.arange(nv) % shape(v)[0]]
    return at(a)[idx].set(v)
