"""numpy's selection routines that were missing: select, choose, compress, extract,
place, put, put_along_axis. ``compress``/``extract`` have data-dependent sizes: they
need concrete conditions (or ``size=`` for ``extract``, as JAX). ``place``/``put``/
``put_along_axis``/``putmask``/``copyto`` return new arrays (``inplace=False``, as JAX
requires of its in-place routines; the default ``inplace=True`` is an error naming the
alternative, since xform arrays inside transformations are immutable).
"""
from __future__ import annotations

import numpy as np

from ._creation import asarray
from ._indexing import at, getitem
from ._manipulation import broadcast_arrays, moveaxis, ravel, stack
from ._promote import array_arg, concrete_or_none, is_tracer, ndim, result_type_of, shape
from ._ufuncs import where

__all__ = ["select", "choose", "compress", "extract", "place", "put", "put_along_axis", "putmask",
           "copyto"]


def _dt(x):
    return np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)


def select(condlist, choicelist, default=0):
    """``choicelist[i]`` where ``condlist[i]`` is the first true condition, else
    ``default`` (all broadcast together).

    >>> import numpy as np, xform.numpy as xnp
    >>> x = np.arange(5)
    >>> xnp.select([x < 2, x > 3], [x, x ** 2], default=-1)
    array([ 0,  1, -1, -1, 16])
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist and choicelist must have the same length, got "
                         f"{len(condlist)} and {len(choicelist)}.")
    if not condlist:
        raise ValueError("select: condlist must not be empty.")
    conds = [array_arg(c, "select") for c in condlist]
    for c in conds:
        if _dt(c) != np.bool_:
            raise TypeError(f"select: conditions must be boolean arrays, got {_dt(c)}.")
    choices = [array_arg(c, "select") for c in choicelist]
    dt, _ = result_type_of(*choices, default)
    out = asarray(default, dtype=dt)
    for c, v in zip(conds[::-1], choices[::-1]):
        out = where(c, asarray(v, dtype=dt), out)
    return out


def choose(a, choices, out=None, mode: str = "raise"):
    """``choices[a[i]][i]`` elementwise (all broadcast together). ``mode='raise'`` checks
    the indices when they are concrete; under transformations use 'wrap' or 'clip'.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.choose(np.array([0, 2, 1]), [np.array([1, 2, 3]), np.array([10, 20, 30]),
    ...                                  np.array([7, 8, 9])])
    array([ 1,  8, 30])
    """
    from ._indexing_routines import take_along_axis
    if out is not None:
        raise NotImplementedError("choose: out= is not supported (arrays are immutable).")
    a = array_arg(a, "choose")
    ch = [array_arg(c, "choose") for c in choices]
    n = len(ch)
    dt, _ = result_type_of(*ch)
    parts = broadcast_arrays(a, *[asarray(c, dtype=dt) for c in ch])
    a, ch = parts[0], parts[1:]
    if mode == "raise":
        ac = concrete_or_none(a)
        if ac is None:
            raise TypeError("choose: mode='raise' needs concrete indices; use mode='wrap' or "
                            "'clip' under transformations.")
        if np.any((np.asarray(ac) < 0) | (np.asarray(ac) >= n)):
            raise ValueError(f"choose: invalid entry in the index array (must be in [0, {n})).")
    elif mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = where(a < 0, 0, where(a >= n, n - 1, a))
    else:
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}.")
    st = stack(ch, axis=0)
    return take_along_axis(st, asarray(a, dtype=np.int64)[None], axis=0)[0]


def _concrete_mask(cond, where_):
    c = concrete_or_none(cond)
    if c is None:
        raise TypeError(f"{where_}: the result size depends on the condition's values; pass "
                        "a concrete condition (or use where(condition, x, 0) under jit).")
    return np.asarray(c).astype(bool)


def compress(condition, a, axis: int | None = None, *, size: int | None = None,
             fill_value=0):
    """The slices of ``a`` along ``axis`` (flattened if None) where ``condition`` holds.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.compress(np.array([False, True, True]), np.array([[1, 2], [3, 4], [5, 6]]), axis=0)
    array([[3, 4],
           [5, 6]])
    """
    a = array_arg(a, "compress")
    if axis is None:
        a, axis = ravel(a), 0
    c = ravel(array_arg(condition, "compress"))
    if size is not None:
        from ._sets import _compact_index
        n = shape(a)[axis]
        c = c[:n]
        ind = _compact_index(c, size)
        x = moveaxis(a, axis, 0)
        safe = where(ind < shape(c)[0], ind, 0)
        got = getitem(x, safe)
        ok = (ind < shape(c)[0]).reshape((size,) + (1,) * (ndim(x) - 1))
        return moveaxis(where(ok, got, fill_value), 0, axis)
    idx = np.flatnonzero(_concrete_mask(c, "compress"))
    if idx.size and idx[-1] >= shape(a)[axis]:
        raise IndexError(f"compress: condition has true entries beyond the length "
                         f"{shape(a)[axis]} of axis {axis}.")
    x = moveaxis(a, axis, 0)
    return moveaxis(x[idx], 0, axis)


def extract(condition, arr, *, size: int | None = None, fill_value=0):
    """The elements of ``arr`` where ``condition`` is true (flattened); ``size`` pads or
    cuts the result so it works under jit.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.extract(np.array([1, 0, 1]), np.array([4, 5, 6]))
    array([4, 6])
    """
    c = ravel(array_arg(condition, "extract")) != 0
    return compress(c, ravel(array_arg(arr, "extract")), size=size, fill_value=fill_value)


def place(arr, mask, vals, *, inplace: bool = True):
    """``arr`` with its elements where ``mask`` holds replaced, in order, by ``vals``
    (cycled). Returns a new array: call with ``inplace=False``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.place(np.arange(5), np.arange(5) > 2, np.array([9]), inplace=False)
    array([0, 1, 2, 9, 9])
    """
    from ._reductions import cumsum
    if inplace:
        raise ValueError("place: xform arrays are immutable; call with inplace=False and use "
                         "the returned array.")
    arr = array_arg(arr, "place")
    m = ravel(asarray(array_arg(mask, "place"), dtype=bool))
    v = ravel(array_arg(vals, "place"))
    nv = shape(v)[0]
    flat = ravel(arr)
    if nv == 0:
        return arr
    k = (cumsum(asarray(m, dtype=np.int64)) - 1) % nv
    new = where(m, getitem(asarray(v, dtype=_dt(arr)), k), flat)
    return new.reshape(shape(arr))


def put(a, ind, v, mode: str | None = None, *, inplace: bool = True):
    """``a`` with the flat positions ``ind`` set to ``v`` (cycled); returns a new array
    (``inplace=False``). ``mode`` 'wrap'/'clip' as numpy; default raises eagerly on
    out-of-range indices.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.put(np.arange(5), np.array([0, 2]), np.array([-4, -5]), inplace=False)
    array([-4,  1, -5,  3,  4])
    """
    if inplace:
        raise ValueError("put: xform arrays are immutable; call with inplace=False and use "
                         "the returned array.")
    a = array_arg(a, "put")
    flat = ravel(a)
    n = shape(flat)[0]
    ind = ravel(asarray(array_arg(ind, "put"), dtype=np.int64))
    if mode == "wrap":
        ind = ind % n
    elif mode == "clip":
        ind = where(ind < 0, 0, where(ind >= n, n - 1, ind))
    elif mode in (None, "raise"):
        ic = concrete_or_none(ind)
        if ic is not None and np.any((np.asarray(ic) < -n) | (np.asarray(ic) >= n)):
            raise IndexError(f"put: index out of range for an array of size {n}.")
    else:
        raise ValueError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}.")
    v = ravel(array_arg(v, "put"))
    k = shape(ind)[0]
    if k == 0:
        return a
    if shape(v)[0] != k:
        v = v[np.arange(k) % shape(v)[0]]
    return at(flat)[ind].set(asarray(v, dtype=_dt(a))).reshape(shape(a))


def put_along_axis(arr, indices, values, axis: int | None, *, inplace: bool = True,
                   mode=None):
    """``arr`` with ``values`` written at ``indices`` along ``axis`` (the counterpart of
    ``take_along_axis``); returns a new array (``inplace=False``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.put_along_axis(np.zeros((2, 3)), np.array([[1], [2]]), 5.0, axis=1,
    ...                    inplace=False)
    array([[0., 5., 0.],
           [0., 0., 5.]])
    """
    if inplace:
        raise ValueError("put_along_axis: xform arrays are immutable; call with inplace=False "
                         "and use the returned array.")
    arr = array_arg(arr, "put_along_axis")
    idx = asarray(array_arg(indices, "put_along_axis"), dtype=np.int64)
    if axis is None:
        return put_along_axis(ravel(arr), ravel(idx), ravel(array_arg(values, "put")), 0,
                              inplace=False)
    nd = ndim(arr)
    axis = axis % nd
    if ndim(idx) != nd:
        raise ValueError(f"put_along_axis: indices must have {nd} dimensions like arr, got "
                         f"shape {shape(idx)}.")
    bshape = tuple(max(a, b) if a == 1 or b == 1 else a
                   for a, b in zip(shape(arr), shape(idx)))
    bshape = tuple(shape(idx)[d] if d == axis else bshape[d] for d in range(nd))
    from ._manipulation import broadcast_to
    idx = broadcast_to(idx, bshape)
    full = []
    for d in range(nd):
        if d == axis:
            full.append(idx)
        else:
            r = np.arange(bshape[d]).reshape(tuple(-1 if e == d else 1 for e in range(nd)))
            full.append(np.broadcast_to(r, bshape))
    vals = broadcast_to(asarray(array_arg(values, "put_along_axis"), dtype=_dt(arr)), bshape)
    return at(arr)[tuple(full)].set(vals)




def _inplace_error(name: str) -> ValueError:
    return ValueError(f"xform.numpy.{name} cannot modify arrays in-place, because xform arrays "
                      f"are immutable inside transformations (as JAX's). Pass inplace=False to "
                      f"instead return an updated array.")


def putmask(a, mask, values, *, inplace: bool = True):
    """``a`` with ``a.flat[n] = values.flat[n % len(values)]`` wherever ``mask.flat[n]``
    holds (numpy's ``putmask``: values cycle by *position*, unlike ``place``); returns a
    new array (``inplace=False``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.putmask(np.arange(6), np.arange(6) % 2 == 1, np.array([-1, -2]), inplace=False)
    array([ 0, -2,  2, -2,  4, -2])
    """
    if inplace:
        raise _inplace_error("putmask")
    a = array_arg(a, "putmask")
    m = asarray(array_arg(mask, "putmask"), dtype=bool)
    if shape(m) != shape(a):
        raise ValueError(f"putmask: mask and data must be the same size, got shapes {shape(m)} "
                         f"and {shape(a)}.")
    v = ravel(asarray(array_arg(values, "putmask"), dtype=_dt(a)))
    n = int(np.prod(shape(a), dtype=np.int64))
    nv = shape(v)[0]
    if nv == 0:
        if n and concrete_or_none(m) is not None and np.any(concrete_or_none(m)):
            raise ValueError("putmask: cannot put values from an empty array.")
        return a
    full = v if nv == n else getitem(v, np.arange(n) % nv)
    return where(m, full.reshape(shape(a)), a)


def copyto(dst, src, casting: str = "same_kind", where=True, *, inplace: bool = True):  # noqa: A002
    """``dst`` with ``src`` (broadcast to its shape, cast to its dtype) copied in where
    ``where`` holds (numpy's ``copyto``, ``casting`` checked as numpy does); returns a
    new array (``inplace=False``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.copyto(np.zeros(4), np.array([1, 2, 3, 4]), where=np.array([1, 0, 1, 0]) > 0,
    ...            inplace=False)
    array([1., 0., 3., 0.])
    """
    from ._manipulation import broadcast_to
    from ._ufuncs import where as _where

    if inplace:
        raise _inplace_error("copyto")
    dst = array_arg(dst, "copyto")
    src_in = src
    src = array_arg(src, "copyto")
    if casting not in ("no", "equiv", "safe", "same_kind", "unsafe"):
        raise ValueError(f"copyto: casting must be one of 'no', 'equiv', 'safe', 'same_kind', "
                         f"'unsafe', got {casting!r}.")
    dst_dt = _dt(dst)
    if type(src_in) in (bool, int, float, complex):
        # a Python scalar is weak (NEP 50): it may not change the kind of dst's dtype
        ok = casting == "unsafe" or np.result_type(dst_dt, src_in) == dst_dt
        from_dt = np.result_type(src_in)
    else:
        from_dt = _dt(src)
        ok = bool(np.can_cast(from_dt, dst_dt, casting))  # type: ignore[arg-type]
    if not ok:
        raise TypeError(f"copyto: cannot cast array data from dtype {from_dt} to {dst_dt} "
                        f"according to the rule {casting!r}.")
    new = broadcast_to(asarray(src, dtype=_dt(dst)), shape(dst))
    if where is True:
        return new
    w = asarray(array_arg(where, "copyto"), dtype=bool)
    return _where(w, new, dst)
