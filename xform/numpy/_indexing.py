"""numpy indexing on xform arrays: ``x[idx]`` and JAX-style ``x.at[idx].set/add/...``.

Basic indices (ints, slices with any step, None, Ellipsis) become one ``lax.rev`` (for
negative steps), one ``lax.slice`` and reshapes. Advanced indices (integer arrays,
possibly traced, and concrete boolean masks) become one ``lax.gather`` over the sliced
array, whose broadcast index dimensions come first; they are then moved to where numpy
puts them: in place of the advanced indices when those are adjacent, else in front.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import lax
from ._promote import aval, concrete_or_none, is_tracer, out

_INDEX_ERROR = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                "integer or boolean arrays are valid indices")


class _Adv:
    """An advanced (integer array) index entry."""

    __slots__ = ("arr",)

    def __init__(self, arr):
        self.arr = arr


def _bool_mask_error(t):
    return IndexError(
        f"Boolean mask indexing with a traced mask {t.aval.str_short()} has a data-dependent "
        f"result shape, which xform cannot trace. Use xform.numpy.where(mask, x, other) "
        f"(e.g. where(mask, x, 0).sum() instead of x[mask].sum()), or index with a concrete "
        f"mask.")


def _normalize(idx, ndim):
    """Entries: slice | int | _Adv | None, with Ellipsis expanded and masks converted."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    entries = []
    n_ellipsis = 0
    for i in idx:
        if i is None or i is Ellipsis or isinstance(i, slice):
            if i is Ellipsis:
                n_ellipsis += 1
                if n_ellipsis > 1:
                    raise IndexError("an index can only have a single ellipsis ('...')")
            entries.append(i)
            continue
        if isinstance(i, (bool, np.bool_)):
            raise IndexError("indexing with a scalar boolean is not supported by xform")
        if isinstance(i, (int, np.integer)):
            entries.append(int(i))
            continue
        if is_tracer(i):
            dt = i.aval.dtype
            if dt.kind == "b":
                c = concrete_or_none(i)
                if c is None:
                    raise _bool_mask_error(i)
                entries.append(("mask", np.asarray(c)))
                continue
            if dt.kind not in "iu":
                raise IndexError(f"{_INDEX_ERROR}; got a traced {i.aval.str_short()}")
            entries.append(_Adv(i))
            continue
        if isinstance(i, (list, np.ndarray)) or (isinstance(i, tuple)):
            arr = np.asarray(i) if not (isinstance(i, list) and _has_tracer(i)) else None
            if arr is None:
                from ._creation import asarray

                entries.append(_Adv(asarray(i)))
                continue
            if arr.dtype == object:
                raise IndexError(_INDEX_ERROR)
            if arr.size == 0 and arr.dtype.kind == "f":
                arr = arr.astype(np.intp)
            if arr.dtype.kind == "b":
                entries.append(("mask", arr))
                continue
            if arr.dtype.kind not in "iu":
                raise IndexError(_INDEX_ERROR)
            entries.append(_Adv(arr))
            continue
        raise IndexError(f"{_INDEX_ERROR}; got {type(i).__name__}")
    # expand Ellipsis and boolean masks
    consumed = 0
    for e in entries:
        if e is None or e is Ellipsis:
            continue
        consumed += e[1].ndim if isinstance(e, tuple) else 1
    if consumed > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but "
                         f"{consumed} were indexed")
    out_entries = []
    seen_ellipsis = False
    for e in entries:
        if e is Ellipsis:
            out_entries.extend([slice(None)] * (ndim - consumed))
            if ndim == consumed:
                out_entries.append(_ELLIPSIS_MARK)  # still separates advanced indices
            seen_ellipsis = True
        elif isinstance(e, tuple):
            out_entries.append(e)
        else:
            out_entries.append(e)
    if not seen_ellipsis:
        out_entries.extend([slice(None)] * (ndim - consumed))
    return out_entries


_ELLIPSIS_MARK = object()


def _has_tracer(seq):
    for v in seq:
        if is_tracer(v) or (isinstance(v, (list, tuple)) and _has_tracer(v)):
            return True
    return False


def getitem(x, idx):
    """``x[idx]`` with numpy's semantics (see module docstring).

    >>> import numpy as np, xform.numpy as xnp
    >>> from xform.numpy._indexing import getitem
    >>> getitem(np.arange(12).reshape(3, 4), (slice(None, None, -2), [0, 3]))
    array([[ 8, 11],
           [ 0,  3]])
    """
    r = _getitem(x, idx)
    if type(r) is not np.ndarray and not is_tracer(r) and (
            idx is Ellipsis or (isinstance(idx, tuple) and any(i is Ellipsis for i in idx))):
        return np.asarray(r)  # numpy: a 0-d result of an index with '...' is an array
    return r


def _getitem(x, idx):
    xa = aval(x)
    entries = _normalize(idx, xa.ndim)
    # numpy: advanced indices separated by anything (even an empty '...') are not adjacent
    mark_entries = entries
    entries = [e for e in entries if e is not _ELLIPSIS_MARK]
    # masks -> integer arrays over the axes they cover
    expanded = []
    dim = 0
    for e in entries:
        if isinstance(e, tuple):
            mask = e[1]
            shp = xa.shape[dim:dim + mask.ndim]
            if mask.shape != tuple(shp):
                for k, (ms, xs) in enumerate(zip(mask.shape, shp)):
                    if ms != xs and mask.size != 0:  # numpy accepts any empty mask
                        raise IndexError(
                            f"boolean index did not match indexed array along axis {dim + k}; "
                            f"size of axis is {xs} but size of corresponding boolean axis is {ms}")
            if mask.ndim == 0:
                raise IndexError("indexing with a 0-d boolean is not supported by xform")
            for nz in np.nonzero(mask):
                expanded.append(_Adv(nz))
            dim += mask.ndim
        else:
            expanded.append(e)
            if e is not None:
                dim += 1
    entries = expanded
    have_adv = any(isinstance(e, _Adv) for e in entries)
    mark_pos = []  # positions (in entries) just before which an empty '...' stood
    k = 0
    for e in mark_entries:
        if e is _ELLIPSIS_MARK:
            mark_pos.append(k)
        else:
            k += e[1].ndim if isinstance(e, tuple) else 1

    starts, limits, strides, revs = [], [], [], []
    kinds = []  # per consumed axis of x: 's' slice, 'i' int (dropped), 'a' advanced
    adv_arrays = []
    d = 0
    for e in entries:
        if e is None:
            continue
        n = xa.shape[d]
        if isinstance(e, slice):
            start, stop, step = _slice_indices(e, n)
            cnt = len(range(start, stop, step))
            if cnt == 0:
                starts.append(0), limits.append(0), strides.append(1)
            elif step > 0:
                starts.append(start), limits.append(start + (cnt - 1) * step + 1)
                strides.append(step)
            else:
                revs.append(d)
                r0 = n - 1 - start
                starts.append(r0), limits.append(r0 + (cnt - 1) * (-step) + 1)
                strides.append(-step)
            kinds.append("s")
        elif isinstance(e, int):
            if not -n <= e < n:
                raise IndexError(f"index {e} is out of bounds for axis {d} with size {n}")
            e = e % n
            if have_adv:
                starts.append(0), limits.append(n), strides.append(1)
                adv_arrays.append(np.asarray(e, dtype=np.int64))
                kinds.append("a")
            else:
                starts.append(e), limits.append(e + 1), strides.append(1)
                kinds.append("i")
        else:  # _Adv
            arr = e.arr
            if not is_tracer(arr):
                arr = np.asarray(arr)
                if arr.size and (arr.max() >= n or arr.min() < -n):
                    bad = arr.max() if arr.max() >= n else arr.min()
                    raise IndexError(f"index {bad} is out of bounds for axis {d} with size {n}")
                if arr.dtype != np.int64:
                    arr = arr.astype(np.int64)
            elif arr.aval.dtype.kind == "u" or arr.aval.dtype.itemsize < 8:
                arr = lax.convert_element_type(arr, np.int64)
            starts.append(0), limits.append(n), strides.append(1)
            adv_arrays.append(arr)
            kinds.append("a")
        d += 1

    y = x
    if revs:
        y = lax.rev(y, tuple(revs))
    if tuple(starts) != (0,) * xa.ndim or tuple(limits) != tuple(xa.shape) or any(
            s != 1 for s in strides):
        y = lax.slice(y, tuple(starts), tuple(limits), tuple(strides))

    if not have_adv:
        drop = tuple(i for i, k in enumerate(kinds) if k == "i")
        if drop:
            y = lax.reshape(y, tuple(s for i, s in enumerate(aval(y).shape) if i not in drop))
        new_axes, pos = [], 0
        for e in entries:
            if e is None:
                new_axes.append(pos)
                pos += 1
            elif isinstance(e, slice):
                pos += 1
        if new_axes:
            y = lax.reshape(y, _insert_ones(aval(y).shape, new_axes))
        return out(y)

    # advanced indexing: gather over the advanced axes of y
    shapes = [np.shape(a) if not is_tracer(a) else a.aval.shape for a in adv_arrays]
    try:
        bshape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with "
                         f"shapes {' '.join(str(tuple(s)) for s in shapes)}") from None
    adv_axes = tuple(i for i, k in enumerate(kinds) if k == "a")
    g = lax.gather(y, *adv_arrays, axes=adv_axes)
    nb = len(bshape)
    # positions (in the entry list) of advanced entries: ints count as advanced here
    adv_pos = [i for i, e in enumerate(entries) if isinstance(e, (_Adv, int))]
    adjacent = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1)) and not any(
        adv_pos[0] < m <= adv_pos[-1] for m in mark_pos)
    tokens = []  # final layout: ('B',) / ('s', k) / ('n',)
    k = 0
    placed = False
    if not adjacent:
        tokens.append(("B",))
        placed = True
    for e in entries:
        if e is None:
            tokens.append(("n",))
        elif isinstance(e, slice):
            tokens.append(("s", k))
            k += 1
        elif not placed:
            tokens.append(("B",))
            placed = True
    perm, new_axes, pos = [], [], 0
    for t in tokens:
        if t[0] == "B":
            perm.extend(range(nb))
            pos += nb
        elif t[0] == "s":
            perm.append(nb + t[1])
            pos += 1
        else:
            new_axes.append(pos)
            pos += 1
    if perm != list(range(len(perm))):
        g = lax.transpose(g, tuple(perm))
    if new_axes:
        g = lax.reshape(g, _insert_ones(aval(g).shape, new_axes))
    return out(g)


def _slice_indices(s: slice, n: int):
    def idx(v):
        if v is None:
            return None
        if is_tracer(v) and concrete_or_none(v) is None:
            raise IndexError(
                f"slice bounds must be concrete: got a traced {v.aval.str_short()}. "
                f"Use xform.lax.dynamic_slice(x, start, sizes) for a slice at a traced offset.")
        return operator.index(v if not is_tracer(v) else concrete_or_none(v))

    st = idx(s.step)
    if st == 0:
        raise ValueError("slice step cannot be zero")
    return slice(idx(s.start), idx(s.stop), st).indices(n)


def _insert_ones(shape, positions):
    shape = list(shape)
    for p in sorted(positions):
        shape.insert(p, 1)
    return tuple(shape)


# -- x.at[idx] --------------------------------------------------------------------------------


def at(x):
    """``x.at`` for any array: numpy arrays have no ``.at`` property, traced ones do.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.at(np.zeros(3))[1].set(5.0)
    array([0., 5., 0.])
    """
    return _IndexUpdateHelper(x)


class _IndexUpdateHelper:
    """``x.at``: indexable; ``x.at[idx]`` gives an ``_IndexUpdateRef``."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, idx):
        return _IndexUpdateRef(self.array, idx)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


_MODES = (None, "promise_in_bounds", "clip", "drop", "fill")


def _check_mode(method: str, mode) -> None:
    if mode not in _MODES:
        raise ValueError(f"at[].{method}: mode must be one of 'promise_in_bounds', 'clip', "
                         f"'drop', 'fill' or None, got {mode!r}.")


def default_fill(dtype) -> Any:
    """JAX's default ``fill_value`` of out-of-bounds reads: NaN for inexact dtypes, the
    most negative value of signed ones, the largest of unsigned ones, True for bool."""
    dt = np.dtype(dtype)
    if dt.kind in "fc":
        return np.nan
    if dt.kind == "i":
        return np.iinfo(dt).min
    if dt.kind == "u":
        return np.iinfo(dt).max
    return True


def _get_filled(x, idx, fill_value):
    """``x[idx]`` with out-of-bounds entries (of integer and integer-array indices) read
    as ``fill_value``: the gather goes through the flat positions, with the dropped
    ones pointing at a fill element appended to the flattened array."""
    from ._promote import arg

    x = arg(x, "at[].get")
    if not is_tracer(x) and not isinstance(x, np.ndarray):
        x = np.asarray(x)
    xa = aval(x)
    positions, sentinel = index_positions(xa.shape, idx, "drop")
    if not sentinel:
        return getitem(x, idx)
    fill = np.asarray(default_fill(xa.dtype) if fill_value is None else fill_value)
    with np.errstate(invalid="ignore"):
        fill = fill.astype(xa.dtype).reshape(1)
    flat = lax.concatenate([lax.reshape(x, (xa.size,)), fill], 0)
    return out(getitem(flat, positions))


class _IndexUpdateRef:
    """Functional index updates, like JAX: each returns a new array.

    Repeated indices: ``add`` accumulates, ``multiply``/``min``/``max`` combine in order,
    ``set`` keeps the last value, for concrete and traced (jit, vmap) indices alike.
    Out-of-bounds indices follow ``mode`` (JAX's): updates drop them by default
    (``'drop'``/``'fill'``), or clamp them (``'clip'``, ``'promise_in_bounds'``); ``get``
    clamps traced ones by default (as indexing; concrete ones raise, as numpy), or reads
    ``fill_value`` for them (``mode='fill'``). ``indices_are_sorted`` and
    ``unique_indices`` are accepted hints.
    """

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def get(self, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None, fill_value: Any = None, out_sharding: Any = None):
        _check_mode("get", mode)
        if mode == "fill" or (fill_value is not None and mode is None):
            return _get_filled(self.array, self.index, fill_value)
        if mode == "clip":
            from ._promote import arg

            x = arg(self.array, "at[].get")
            positions, _ = index_positions(aval(x).shape, self.index, "clip")
            return out(getitem(lax.reshape(x, (aval(x).size,)), positions))
        return getitem(self.array, self.index)

    def set(self, values, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None):
        return _update(self.array, self.index, values, "set", mode)

    def add(self, values, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None):
        return _update(self.array, self.index, values, "add", mode)

    def subtract(self, values, *, indices_are_sorted: bool = False,
                 unique_indices: bool = False, mode: str | None = None):
        from ._ufuncs import negative

        return _update(self.array, self.index, negative(values), "add", mode)

    def multiply(self, values, *, indices_are_sorted: bool = False,
                 unique_indices: bool = False, mode: str | None = None):
        return _update(self.array, self.index, values, "multiply", mode)

    mul = multiply

    def divide(self, values, *, indices_are_sorted: bool = False, unique_indices: bool = False,
               mode: str | None = None):
        """x / d, where d is 1 except at the index, where it is the values (their
        product at a repeated index): true division, so exactly x[idx] / values."""
        from ._promote import arg
        from ._creation import ones_like
        from ._ufuncs import true_divide

        x = arg(self.array, "at[].divide")
        dt = aval(x).dtype
        if dt.kind not in "fc":
            raise TypeError(
                f"at[].divide: the array is {dt}; dividing it in place would need a "
                f"floating result (numpy raises for a[i] /= v as well). Convert it first: "
                f"x.astype(float).at[...].divide(v).")
        return true_divide(x, _update(ones_like(x), self.index, values, "multiply", mode))

    def power(self, values, *, indices_are_sorted: bool = False, unique_indices: bool = False,
              mode: str | None = None):
        return _update(self.array, self.index, values, "power", mode)

    def min(self, values, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None):
        return _update(self.array, self.index, values, "min", mode)

    def max(self, values, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None):
        return _update(self.array, self.index, values, "max", mode)

    def apply(self, func, *, indices_are_sorted: bool = False, unique_indices: bool = False,
              mode: str | None = None):
        """``x`` with ``x[idx] = func(x[idx])``, applied once per occurrence of a repeated
        index (``func`` elementwise, e.g. a ufunc).

        >>> import numpy as np, xform.numpy as xnp
        >>> xnp.at(np.arange(4.0))[np.array([1, 1, 3])].apply(lambda v: v * 10)
        array([  0., 100.,   2.,  30.])
        """
        return _apply(self.array, self.index, func, mode)


def index_positions(shape, idx, mode: str):
    """The flat (row-major) positions of the elements ``x[idx]`` selects, for an array of
    ``shape``, and whether some may be out of bounds. Out-of-bounds integer and
    integer-array entries (after numpy's wrap of negative ones) are clamped
    (``mode='clip'``) or get the position ``size`` (``'drop'``), one past the end,
    which callers use as a sentinel. Concrete indices give numpy positions (also under
    jit)."""
    from ._ufuncs import _where

    shape = tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    entries = _normalize(idx, len(shape))
    new: list[Any] = []
    padded: set[int] = set()
    d = 0
    for e in entries:
        if e is _ELLIPSIS_MARK:
            new.append(Ellipsis)
            continue
        if e is None:
            new.append(None)
            continue
        if isinstance(e, slice):
            new.append(e)
            d += 1
            continue
        if isinstance(e, tuple):  # a concrete boolean mask: always in bounds
            new.append(e[1])
            d += e[1].ndim
            continue
        n = shape[d]
        if isinstance(e, int):
            w = e + n if e < 0 else e
            if 0 <= w < n:
                new.append(w)
            elif mode == "clip":
                new.append(min(max(w, 0), n - 1))
            else:
                new.append(n)
                padded.add(d)
        else:
            a = e.arr
            if is_tracer(a):
                a = lax.convert_element_type(a, np.int64) if a.aval.dtype != np.int64 else a
                a = _where(lax.lt(a, np.int64(0)), lax.add(a, np.int64(n)), a)
                if mode == "clip":
                    a = lax.clamp(np.int64(0), a, np.int64(max(n - 1, 0)))
                else:
                    bad = lax.bitwise_or(lax.lt(a, np.int64(0)), lax.ge(a, np.int64(n)))
                    a = _where(bad, np.int64(n), a)
                    padded.add(d)
            else:
                a = np.asarray(a).astype(np.int64)
                a = np.where(a < 0, a + n, a)
                if mode == "clip":
                    a = np.clip(a, 0, max(n - 1, 0))
                elif a.size and (a.min() < 0 or a.max() >= n):
                    a = np.where((a < 0) | (a >= n), n, a)
                    padded.add(d)
            new.append(a)
        d += 1
    iota = np.arange(size, dtype=np.int64).reshape(shape)
    if padded:
        iota = np.pad(iota, [(0, 1) if k in padded else (0, 0) for k in range(len(shape))],
                      constant_values=size)
    new_t = tuple(new)
    if _has_tracer(new_t):
        return getitem(iota, new_t), bool(padded)
    return np.asarray(iota[new_t]), bool(padded)


def _apply(x, idx, func, mode):
    from ._promote import arg, astype

    x = arg(x, "at[].apply")
    if not is_tracer(x) and not isinstance(x, np.ndarray):
        x = np.asarray(x)
    xa = aval(x)
    positions, sentinel = index_positions(xa.shape, idx, "clip" if mode in (
        "clip", "promise_in_bounds") else "drop")
    flat = lax.reshape(x, (xa.size,))
    if sentinel:
        flat = lax.concatenate([flat, np.zeros(1, xa.dtype)], 0)
    conc = None if is_tracer(positions) else np.reshape(positions, -1)
    if conc is not None and np.unique(conc).size == conc.size:  # one application each
        r = _update(flat, conc, astype(func(getitem(flat, conc)), xa.dtype), "set", "clip")
    else:
        p = lax.reshape(positions, (aval(positions).size,)) if conc is None else conc

        def step(k, acc):  # repeated positions: func applied once per occurrence, in order
            pk = getitem(p, k)
            return _update(acc, pk, astype(func(getitem(acc, pk)), xa.dtype), "set", "clip")

        r = lax.fori_loop(0, int(aval(p).shape[0]), step, flat)
    if sentinel:
        r = lax.slice_in_dim(r, 0, xa.size, 1, 0)
    return out(lax.reshape(r, xa.shape))


def _update(x, idx, values, op, mode=None):
    from ._promote import arg, astype
    from ._ufuncs import _where

    _check_mode(op, mode)
    x = arg(x, f"at[].{op}")
    if not is_tracer(x) and not isinstance(x, np.ndarray):
        x = np.asarray(x)
    xa = aval(x)
    # JAX's default for updates drops out-of-bounds indices; those get the sentinel
    # position ``size``: the flat target gets one extra element, sliced off at the end
    positions, sentinel = index_positions(
        xa.shape, idx, "clip" if mode in ("clip", "promise_in_bounds") else "drop")
    size = xa.size + 1 if sentinel else xa.size
    pshape = aval(positions).shape
    values = arg(values, f"at[].{op}")
    vshape = aval(values).shape
    try:
        np.broadcast_shapes(vshape, pshape)
        ok = len(vshape) <= len(pshape) or all(s == 1 for s in vshape[:len(vshape) - len(pshape)])
    except ValueError:
        ok = False
    if not ok or np.broadcast_shapes(vshape, pshape) != tuple(pshape):
        raise ValueError(f"at[].{op}: values of shape {tuple(vshape)} cannot be broadcast to "
                         f"the indexed shape {tuple(pshape)}")
    if len(vshape) > len(pshape):
        values = lax.reshape(values, vshape[len(vshape) - len(pshape):])
    values = astype(values, xa.dtype)
    if aval(values).shape != tuple(pshape):
        values = lax.broadcast_to_shape(values, tuple(pshape))
    m = int(np.prod(pshape, dtype=np.int64))
    flat_x = lax.reshape(x, (xa.size,))
    if sentinel:
        flat_x = lax.concatenate([flat_x, np.zeros(1, xa.dtype)], 0)
    flat_v = lax.reshape(values, (m,))
    flat_p = lax.reshape(positions, (m,))

    def finish(r):
        if sentinel:
            r = lax.slice_in_dim(r, 0, xa.size, 1, 0)
        return out(lax.reshape(r, xa.shape))

    if op == "add":
        if xa.dtype == np.dtype(bool):
            s = _scatter(np.zeros(size, np.int64), flat_p, astype(flat_v, np.int64))
            r = lax.bitwise_or(flat_x, lax.ne(s, 0))
        else:
            r = lax.scatter_add(flat_x, flat_p, updates=flat_v, axes=(0,))
        return finish(r)
    # positions of a concrete index are numpy values; under jit a lax.reshape of them
    # would be staged, so read them before that (else duplicates would be summed)
    conc = None if is_tracer(positions) else concrete_or_none(positions)
    if conc is not None:
        conc = np.reshape(np.asarray(conc), -1)
        groups = _occurrence_groups(conc)
    elif m == 0:
        groups = []
    else:
        groups = [(None, None)]
    r = flat_x
    for sel, pos in groups:
        if sel is None:  # traced positions: combine repeated ones first, in order
            p, v, last = _combine_repeated(flat_p, flat_v, op)
            ones = lax.convert_element_type(last, np.int64)
            mask = lax.ne(_scatter(np.zeros(size, np.int64), p, ones), 0)
            # only the last of each run of equal positions contributes: one term per
            # position, added to -0.0 (exact, and keeps the sign of a zero)
            neutral = -0.0 if xa.dtype.kind in "fc" else 0
            v = _where(last, v, neutral)
            scattered = _scatter(lax.full((size,), neutral, xa.dtype), p, v)
        else:
            v = getitem(flat_v, sel) if len(sel) != m or np.any(sel != np.arange(m)) else flat_v
            p = pos
            mask = np.zeros(size, bool)
            mask[p] = True
            scattered = _scatter(lax.full((size,), 0, xa.dtype), p, v)
        if op == "set":
            r = _where(mask, scattered, r)
        elif op == "multiply":
            from ._ufuncs import multiply

            r = _where(mask, multiply(r, scattered), r)
        elif op == "power":
            from ._ufuncs import power

            r = _where(mask, power(r, scattered), r)
        elif op == "min":
            r = _where(mask, lax.min(r, scattered), r)
        elif op == "max":
            r = _where(mask, lax.max(r, scattered), r)
        else:
            raise ValueError(f"unknown update {op}")
    return finish(r)


def _combine_repeated(positions, values, op):
    """Traced flat positions and values, sorted by position (stably), with the values
    of each run of equal positions combined in their original order; returns
    ``(sorted positions, combined values, is-last-of-its-run)``: the value at the last
    element of a run is what the run does to its position (``set``: the last value;
    ``multiply``/``min``/``max``: their product/min/max; ``power``: the product of
    the exponents, as (x**a)**b == x**(a*b))."""
    from ._ufuncs import _where

    order = lax.argsort(positions, 0)
    p = getitem(positions, order)
    v = getitem(values, order)
    m = aval(p).shape[0]
    if m > 1:
        differs = lax.ne(lax.slice_in_dim(p, 1, m, 1, 0), lax.slice_in_dim(p, 0, m - 1, 1, 0))
        start = lax.concatenate([np.ones(1, bool), differs], 0)
        last = lax.concatenate([differs, np.ones(1, bool)], 0)
    else:
        start = last = np.ones(m, bool)
    if op != "set" and m > 1:
        combine_values = {"multiply": lax.mul, "power": lax.mul, "min": lax.min,
                          "max": lax.max}[op]

        def combine(a, b):  # segmented scan: a run restarts where b starts one
            (fa, va), (fb, vb) = a, b
            return lax.bitwise_or(fa, fb), _where(fb, vb, combine_values(va, vb))

        v = lax.associative_scan(combine, (start, v))[1]
    return p, v, last


def _scatter(target, positions, updates):
    dt = aval(target).dtype
    if dt == np.dtype(bool):
        s = lax.scatter_add(lax.full(aval(target).shape, 0, np.int8), positions,
                            updates=lax.convert_element_type(updates, np.int8), axes=(0,))
        return lax.ne(s, 0)
    return lax.scatter_add(target, positions, updates=updates, axes=(0,))


def _occurrence_groups(p):
    """Split concrete flat positions into groups without duplicates, in order of
    occurrence (for 'set': only the last occurrence of each position is kept)."""
    m = p.shape[0]
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    sp = p[order]
    first = np.r_[True, sp[1:] != sp[:-1]]
    # rank of each occurrence among equal positions
    grp_start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    rank = np.empty(m, np.int64)
    rank[order] = np.arange(m) - grp_start
    nmax = int(rank.max()) + 1
    groups = []
    for k in range(nmax):
        sel = np.nonzero(rank == k)[0]
        groups.append((sel, p[sel]))
    return groups
