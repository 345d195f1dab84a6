"""Array manipulation routines, grouped as in numpy's documentation: basic operations
(shape, ndim, size), changing the shape (reshape, ravel), transpose-like operations,
changing the number of dimensions (atleast_*d, broadcasting, expand_dims, squeeze),
joining, splitting, tiling (tile, repeat), adding elements (append, pad) and rearranging
(flip, roll, rot90)."""
from __future__ import annotations

import builtins

import numpy as np

from .. import lax
from ._indexing_routines import take
from ._promote import (
    arg,
    aval,
    check_broadcast,
    concrete_or_none,
    is_tracer,
    normalize_axes,
    normalize_axis,
    out_array,
    result_type_of,
    shape_arg,
)
from ._promote import array_arg as _a
from ._promote import astype as _to

__all__ = ["shape", "ndim", "size", "reshape", "ravel", "transpose", "permute_dims",
           "swapaxes", "moveaxis", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
           "broadcast_arrays", "broadcast_shapes", "expand_dims", "squeeze", "concatenate",
           "concat", "stack", "vstack", "hstack", "dstack", "column_stack", "row_stack",
           "split", "array_split", "hsplit", "vsplit", "tile", "repeat", "append", "pad",
           "flip", "fliplr", "flipud", "roll", "rot90"]


# -- basic operations --------------------------------------------------------------------


def shape(a):
    """The shape of an array, traced or not.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.shape(np.zeros((2, 3)))
    (2, 3)
    """
    return tuple(aval(arg(a, "shape")).shape)


def ndim(a):
    """The number of dimensions.

    >>> import xform.numpy as xnp
    >>> xnp.ndim([[1, 2]])
    2
    """
    return aval(arg(a, "ndim")).ndim


def size(a, axis=None):
    """The number of elements (along ``axis`` if given).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.size(np.zeros((2, 3)))
    6
    """
    av = aval(arg(a, "size"))
    if axis is None:
        return av.size
    return av.shape[normalize_axis(axis, av.ndim, "size")]


# -- changing array shape ----------------------------------------------------------------


def _resolve_shape(newshape, size, where):
    newshape = list(shape_arg(newshape, where))
    unknown = [i for i, s in enumerate(newshape) if s < 0]
    if len(unknown) > 1:
        raise ValueError(f"{where}: can only specify one unknown dimension (-1)")
    if unknown:
        known = 1
        for i, s in enumerate(newshape):
            if i != unknown[0]:
                known *= s
        if known == 0 or size % known:
            raise ValueError(f"{where}: cannot reshape array of size {size} into shape "
                             f"{tuple(newshape)}")
        newshape[unknown[0]] = size // known
    n = 1
    for s in newshape:
        n *= s
    if n != size:
        raise ValueError(f"{where}: cannot reshape array of size {size} into shape "
                         f"{tuple(newshape)}")
    return tuple(newshape)


def reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    """Give a new shape (one dimension may be -1) to an array; order 'C' or 'F'.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.reshape(np.arange(6), (2, -1))
    array([[0, 1, 2],
           [3, 4, 5]])
    """
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("reshape: missing required argument 'shape'")
    a = _a(a, "reshape")
    av = aval(a)
    new = _resolve_shape(shape, av.size, "reshape")
    if order in ("C", "A", None):
        return out_array(lax.reshape(a, new))
    if order == "F":
        t = lax.transpose(a, tuple(range(av.ndim))[::-1])
        r = lax.reshape(t, new[::-1])
        return out_array(lax.transpose(r, tuple(range(len(new)))[::-1]))
    raise ValueError(f"reshape: order must be one of 'C', 'F', 'A', got {order!r}")


def ravel(a, order="C"):
    """The flattened array (row-major for order 'C').

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.ravel(np.array([[1, 2], [3, 4]]))
    array([1, 2, 3, 4])
    """
    a = _a(a, "ravel")
    return reshape(a, (aval(a).size,), order=order)


# -- transpose-like operations -----------------------------------------------------------


def transpose(a, axes=None):
    """Permute the axes (reverse them when ``axes`` is None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    a = _a(a, "transpose")
    nd = aval(a).ndim
    if axes is None:
        perm = tuple(range(nd))[::-1]
    else:
        if isinstance(axes, (int, np.integer)):
            axes = (axes,)
        if len(axes) != nd:
            raise ValueError(f"transpose: axes {tuple(axes)} don't match array of dimension {nd}")
        perm = tuple(normalize_axis(ax, nd, "transpose") for ax in axes)
        if len(set(perm)) != nd:
            raise ValueError(f"transpose: repeated axis in axes {tuple(axes)}")
    return out_array(lax.transpose(a, perm))


def permute_dims(a, /, axes=None):
    """Array-API name of ``transpose``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.permute_dims(np.zeros((2, 3)), (1, 0)).shape
    (3, 2)
    """
    return transpose(a, axes)


def swapaxes(a, axis1, axis2):
    """Interchange two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.swapaxes(np.zeros((2, 3, 4)), 0, -1).shape
    (4, 3, 2)
    """
    a = _a(a, "swapaxes")
    nd = aval(a).ndim
    i, j = normalize_axis(axis1, nd, "swapaxes"), normalize_axis(axis2, nd, "swapaxes")
    perm = list(range(nd))
    perm[i], perm[j] = perm[j], perm[i]
    return out_array(lax.transpose(a, tuple(perm)))


def moveaxis(a, source, destination):
    """Move axes to new positions (ints or sequences).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    a = _a(a, "moveaxis")
    nd = aval(a).ndim
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` arguments must have the same "
                         "number of elements")
    src = [normalize_axis(s, nd, "moveaxis") for s in src]
    dst = [normalize_axis(d, nd, "moveaxis") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: repeated axis")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return out_array(lax.transpose(a, tuple(order)))


# -- changing number of dimensions -------------------------------------------------------


def atleast_1d(*arys):
    """Inputs as arrays with at least one dimension.

    >>> import xform.numpy as xnp
    >>> xnp.atleast_1d(1.0)
    array([1.])
    """
    res = []
    for x in arys:
        x = _a(x, "atleast_1d")
        if aval(x).ndim == 0:
            x = lax.reshape(x, (1,))
        res.append(out_array(x))
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*arys):
    """Inputs as arrays with at least two dimensions (1-d -> (1, n)).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.atleast_2d(np.array([1, 2])).shape
    (1, 2)
    """
    res = []
    for x in arys:
        x = _a(x, "atleast_2d")
        nd = aval(x).ndim
        if nd < 2:
            x = lax.reshape(x, (1,) * (2 - nd) + tuple(aval(x).shape))
        res.append(out_array(x))
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*arys):
    """Inputs as arrays with at least three dimensions ((n,) -> (1, n, 1), (m, n) -> (m, n, 1)).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.atleast_3d(np.zeros((2, 3))).shape
    (2, 3, 1)
    """
    res = []
    for x in arys:
        x = _a(x, "atleast_3d")
        s = tuple(aval(x).shape)
        if len(s) == 0:
            x = lax.reshape(x, (1, 1, 1))
        elif len(s) == 1:
            x = lax.reshape(x, (1,) + s + (1,))
        elif len(s) == 2:
            x = lax.reshape(x, s + (1,))
        res.append(out_array(x))
    return res[0] if len(res) == 1 else tuple(res)


def squeeze(a, axis=None):
    """Remove axes of length one (all of them, or those in ``axis``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.squeeze(np.zeros((1, 3, 1))).shape
    (3,)
    """
    a = _a(a, "squeeze")
    av = aval(a)
    if axis is None:
        axes = tuple(i for i, s in enumerate(av.shape) if s == 1)
    else:
        axes = normalize_axes(axis, av.ndim, "squeeze")
        for ax in axes:
            if av.shape[ax] != 1:
                raise ValueError(f"squeeze: cannot select an axis to squeeze out which has size "
                                 f"not equal to one (axis {ax} of shape {av.shape})")
    return out_array(lax.squeeze(a, axes) if axes else a)


def expand_dims(a, axis):
    """Insert axes of length one at positions ``axis`` (int or tuple) of the result.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.expand_dims(np.zeros((2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    a = _a(a, "expand_dims")
    nd = aval(a).ndim
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = normalize_axes(axes, nd + len(axes), "expand_dims")
    return out_array(lax.expand_dims(a, axes))


def broadcast_to(array, shape, subok=False):
    """Broadcast an array to ``shape`` (numpy's rules).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.broadcast_to(np.array([1, 2]), (2, 2))
    array([[1, 2],
           [1, 2]])
    """
    a = _a(array, "broadcast_to")
    shape = shape_arg(shape, "broadcast_to")
    src = aval(a).shape
    ok = len(shape) >= len(src) and all(
        s in (1, d) for s, d in zip(src[::-1], shape[::-1]))
    if not ok or any(d < 0 for d in shape):
        raise ValueError(f"broadcast_to: cannot broadcast an array of shape {src} to shape {shape}")
    return out_array(lax.broadcast_to_shape(a, shape))


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to.

    >>> import xform.numpy as xnp
    >>> xnp.broadcast_shapes((2, 1), (3,))
    (2, 3)
    """
    return np.broadcast_shapes(*shapes)


def broadcast_arrays(*args):
    """Broadcast arrays against each other; returns a tuple.

    >>> import numpy as np, xform.numpy as xnp
    >>> [x.shape for x in xnp.broadcast_arrays(np.zeros((2, 1)), np.zeros(3))]
    [(2, 3), (2, 3)]
    """
    args = [_a(x, "broadcast_arrays") for x in args]
    shp = check_broadcast("broadcast_arrays", *args) if args else ()
    return tuple(out_array(lax.broadcast_to_shape(x, shp)) for x in args)


# -- joining arrays ----------------------------------------------------------------------


def _common(arrays, dtype, where):
    arrays = [_a(x, where) for x in arrays]
    if not arrays:
        raise ValueError(f"{where}: need at least one array to concatenate")
    if dtype is None:
        dt, _ = result_type_of(*arrays)
    else:
        dt = np.dtype(dtype)
    return [_to(x, dt) for x in arrays], dt


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (``axis=None`` flattens first).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.concatenate([np.zeros((1, 2)), np.ones((2, 2))]).shape
    (3, 2)
    """
    if out is not None:
        raise TypeError("concatenate: out= is not supported; use the returned value")
    if is_tracer(arrays) or isinstance(arrays, np.ndarray):
        arrays = list(arrays)
    arrays, dt = _common(arrays, dtype, "concatenate")
    if axis is None:
        arrays = [lax.reshape(x, (aval(x).size,)) for x in arrays]
        axis = 0
    avs = [aval(x) for x in arrays]
    nd = avs[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    ax = normalize_axis(axis, nd, "concatenate")
    for i, av in enumerate(avs[1:], 1):
        if av.ndim != nd:
            raise ValueError(
                f"concatenate: all the input arrays must have same number of dimensions, but "
                f"the array at index 0 has {nd} dimension(s) and the array at index {i} has "
                f"{av.ndim} dimension(s)")
        for d in range(nd):
            if d != ax and av.shape[d] != avs[0].shape[d]:
                raise ValueError(
                    f"concatenate: all the input array dimensions except for the concatenation "
                    f"axis must match exactly, but along dimension {d}, the array at index 0 "
                    f"has size {avs[0].shape[d]} and the array at index {i} has size "
                    f"{av.shape[d]}")
    if len(arrays) == 1:
        return out_array(arrays[0])
    return out_array(lax.concatenate(arrays, ax))


def concat(arrays, /, *, axis=0):
    """Array-API name of ``concatenate``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.concat([np.array([1]), np.array([2, 3])])
    array([1, 2, 3])
    """
    return concatenate(arrays, axis=axis)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays of the same shape along a new axis.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.stack([np.zeros(3), np.ones(3)], axis=1).shape
    (3, 2)
    """
    if out is not None:
        raise TypeError("stack: out= is not supported; use the returned value")
    if is_tracer(arrays) or isinstance(arrays, np.ndarray):
        arrays = list(arrays)
    arrays, dt = _common(arrays, dtype, "stack")
    shapes = {aval(x).shape for x in arrays}
    if len(shapes) != 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got "
                         f"{[aval(x).shape for x in arrays]}")
    nd = aval(arrays[0]).ndim
    ax = normalize_axis(axis, nd + 1, "stack")
    arrays = [lax.expand_dims(x, (ax,)) for x in arrays]
    if len(arrays) == 1:
        return out_array(arrays[0])
    return out_array(lax.concatenate(arrays, ax))


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Stack arrays vertically (rows); 1-d arrays become rows.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.vstack([np.array([1, 2]), np.array([3, 4])])
    array([[1, 2],
           [3, 4]])
    """
    arrs = [atleast_2d(x) for x in tup]
    return concatenate(arrs, axis=0, dtype=dtype)


row_stack = vstack


def hstack(tup, *, dtype=None, casting="same_kind"):
    """Stack arrays horizontally (columns; along axis 0 for 1-d arrays).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.hstack([np.array([1, 2]), np.array([3])])
    array([1, 2, 3])
    """
    arrs = [atleast_1d(x) for x in tup]
    if arrs and aval(arrs[0]).ndim == 1:
        return concatenate(arrs, axis=0, dtype=dtype)
    return concatenate(arrs, axis=1, dtype=dtype)


def dstack(tup):
    """Stack arrays along the third axis.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.dstack([np.array([1, 2]), np.array([3, 4])]).shape
    (1, 2, 2)
    """
    return concatenate([atleast_3d(x) for x in tup], axis=2)


def column_stack(tup):
    """Stack 1-d arrays as columns of a 2-d array (2-d arrays are stacked as they are).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.column_stack([np.array([1, 2]), np.array([3, 4])])
    array([[1, 3],
           [2, 4]])
    """
    arrs = []
    for x in tup:
        x = _a(x, "column_stack")
        if aval(x).ndim < 2:
            x = lax.reshape(x, (aval(x).size, 1)) if aval(x).ndim == 1 else lax.reshape(x, (1, 1))
        arrs.append(x)
    return concatenate(arrs, axis=1)


# -- splitting arrays --------------------------------------------------------------------


def _split_at(a, bounds, ax):
    n = aval(a).shape[ax]
    outs = []
    for start, stop in zip([0] + bounds, bounds + [n]):
        start = builtins.min(builtins.max(start, 0), n)
        stop = builtins.min(builtins.max(stop, start), n)
        outs.append(out_array(lax.slice_in_dim(a, start, stop, 1, ax)))
    return outs


def array_split(ary, indices_or_sections, axis=0):
    """Split into sub-arrays; an integer N gives N nearly equal parts.

    >>> import numpy as np, xform.numpy as xnp
    >>> [p.tolist() for p in xnp.array_split(np.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    """
    a = _a(ary, "array_split")
    av = aval(a)
    ax = normalize_axis(axis, av.ndim, "array_split")
    n = av.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        each, extras = divmod(n, sections)
        sizes = [each + 1] * extras + [each] * (sections - extras)
        bounds = list(np.cumsum(sizes)[:-1])
    else:
        bounds = [int(i) for i in indices_or_sections]
        bounds = [b + n if b < 0 else b for b in bounds]
    return _split_at(a, [int(b) for b in bounds], ax)


def split(ary, indices_or_sections, axis=0):
    """Split into equal sub-arrays (an integer must divide the axis) or at indices.

    >>> import numpy as np, xform.numpy as xnp
    >>> [p.tolist() for p in xnp.split(np.arange(6), [2, 3])]
    [[0, 1], [2], [3, 4, 5]]
    """
    if isinstance(indices_or_sections, (int, np.integer)):
        a = _a(ary, "split")
        n = aval(a).shape[normalize_axis(axis, aval(a).ndim, "split")]
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """Split along axis 1 (axis 0 for 1-d arrays).

    >>> import numpy as np, xform.numpy as xnp
    >>> len(xnp.hsplit(np.zeros((2, 4)), 2))
    2
    """
    a = _a(ary, "hsplit")
    return split(a, indices_or_sections, 1 if aval(a).ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """Split along axis 0.

    >>> import numpy as np, xform.numpy as xnp
    >>> len(xnp.vsplit(np.zeros((4, 2)), 2))
    2
    """
    return split(ary, indices_or_sections, 0)


# -- tiling arrays -----------------------------------------------------------------------


def tile(A, reps):
    """Repeat ``A`` ``reps`` times along each axis.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.tile(np.array([1, 2]), (2, 2))
    array([[1, 2, 1, 2],
           [1, 2, 1, 2]])
    """
    a = _a(A, "tile")
    if is_tracer(reps) or (isinstance(reps, (tuple, list)) and builtins.any(map(is_tracer, reps))):
        c = concrete_or_none(reps) if is_tracer(reps) else None
        if c is None:
            raise TypeError(
                "tile: `reps` must be concrete (the output shape depends on it); got a traced "
                "value. Pass it as a static argument (jit(..., static_argnums=...)).")
        reps = c
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    av = aval(a)
    d = builtins.max(len(reps), av.ndim)
    reps = (1,) * (d - len(reps)) + reps
    shp = (1,) * (d - av.ndim) + tuple(av.shape)
    a = lax.reshape(a, shp)
    big = []
    dims = []
    for i, (r, s) in enumerate(zip(reps, shp)):
        big += [r, s]
        dims.append(2 * i + 1)
    b = lax.broadcast_in_dim(a, tuple(big), tuple(dims))
    return out_array(lax.reshape(b, tuple(r * s for r, s in zip(reps, shp))))


def repeat(a, repeats, axis=None):
    """Repeat each element ``repeats`` times (an int or concrete per-element counts).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.repeat(np.array([[1, 2], [3, 4]]), 2, axis=1)
    array([[1, 1, 2, 2],
           [3, 3, 4, 4]])
    """
    a = _a(a, "repeat")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    av = aval(a)
    ax = normalize_axis(axis, av.ndim, "repeat")
    if is_tracer(repeats):
        c = concrete_or_none(repeats)
        if c is None:
            raise TypeError(
                "repeat: `repeats` must be concrete (the output shape depends on it); got a "
                f"traced {repeats.aval.str_short()}")
        repeats = c
    r = np.asarray(repeats)
    n = av.shape[ax]
    if r.ndim == 0 or r.size == 1:
        k = int(r.reshape(()))
        if k < 0:
            raise ValueError("repeat: negative dimensions are not allowed")
        shp = list(av.shape)
        big = shp[:ax + 1] + [k] + shp[ax + 1:]
        b = lax.broadcast_in_dim(a, tuple(big), tuple(i if i <= ax else i + 1 for i in range(av.ndim)))
        shp[ax] = n * k
        return out_array(lax.reshape(b, tuple(shp)))
    if r.shape != (n,):
        raise ValueError(f"repeat: operands could not be broadcast together with shape ({n},) "
                         f"{r.shape}")
    idx = np.repeat(np.arange(n), r)
    return take(a, idx, axis=ax)


# -- adding elements ---------------------------------------------------------------------


def append(arr, values, axis=None):
    """``values`` appended at the end (flattened if ``axis`` is None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.append(np.array([1, 2]), [3])
    array([1, 2, 3])
    """
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


def pad(array, pad_width, mode="constant", constant_values=np._NoValue, **kwargs):
    """Pad with a constant (mode 'constant'), or 'edge' / 'reflect' / 'symmetric' /
    'wrap' (``reflect_type='odd'`` as well) by indexing.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.pad(np.array([1, 2]), (1, 2))
    array([0, 1, 2, 0, 0])
    >>> xnp.pad(np.arange(4.0), 2, mode="reflect", reflect_type="odd")
    array([-2., -1.,  0.,  1.,  2.,  3.,  4.,  5.])
    """
    if constant_values is not np._NoValue:
        kwargs["constant_values"] = constant_values
    allowed = _PAD_KEYWORDS.get(mode)
    if allowed is None:
        raise NotImplementedError(
            f"pad: mode {mode!r} is not supported; supported modes: "
            f"{', '.join(repr(m) for m in _PAD_KEYWORDS)}.")
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {unknown}")
    reflect_type = kwargs.get("reflect_type", "even")
    if reflect_type not in ("even", "odd"):
        raise ValueError(f"pad: reflect_type must be 'even' or 'odd', got {reflect_type!r}.")
    a = _a(array, "pad")
    av = aval(a)
    try:  # numpy's forms: n, (n,), (before, after), ((before, after),) or one pair per axis
        pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (av.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit an array of shape "
                         f"{tuple(av.shape)}; give n, (before, after), or one (before, after) "
                         f"pair per axis.") from None
    if np.any(pw < 0):
        raise ValueError("pad: index can't contain negative values")
    if mode == "constant":
        cv = kwargs.get("constant_values", 0)
        if isinstance(cv, (tuple, list)) or (isinstance(cv, np.ndarray) and cv.ndim):
            cvs = np.broadcast_to(np.asarray(cv), (av.ndim, 2))
            for d in range(av.ndim):
                for side in (0, 1):
                    cfg = [(0, 0, 0)] * av.ndim
                    cfg[d] = (int(pw[d, 0]), 0, 0) if side == 0 else (0, int(pw[d, 1]), 0)
                    if cfg[d] != (0, 0, 0):
                        a = lax.pad(a, np.asarray(cvs[d, side]).astype(av.dtype)[()], tuple(cfg))
            return out_array(a)
        if is_tracer(cv):
            pv = _to(cv, av.dtype)
        else:
            pv = np.asarray(cv).astype(av.dtype)[()]
        cfg = tuple((int(lo), int(hi), 0) for lo, hi in pw)
        return out_array(lax.pad(a, pv, cfg))
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        for d in range(av.ndim):
            lo, hi = int(pw[d, 0]), int(pw[d, 1])
            n = aval(a).shape[d]
            if lo == hi == 0:
                continue
            if reflect_type == "odd" and mode in ("reflect", "symmetric"):
                a = _pad_odd(a, d, lo, hi, mode == "symmetric")
                continue
            idx = np.arange(-lo, n + hi)
            if mode == "edge":
                idx = np.clip(idx, 0, n - 1)
            elif mode == "wrap":
                idx = idx % n
            elif mode == "reflect":
                period = 2 * (n - 1) if n > 1 else 1
                idx = np.abs(idx) % period
                idx = np.where(idx >= n, period - idx, idx)
            else:
                period = 2 * n
                idx = idx % period
                idx = np.where(idx >= n, period - 1 - idx, idx)
            a = take(a, idx, axis=d)
        return out_array(a)


_PAD_KEYWORDS = {"constant": frozenset({"constant_values"}), "edge": frozenset(),
                 "wrap": frozenset(),
                 "reflect": frozenset({"reflect_type"}),
                 "symmetric": frozenset({"reflect_type"})}


def _pad_odd(a, d, lo, hi, symmetric):
    """Odd reflection along axis ``d``, one period at a time as numpy pads: each chunk is
    ``2 * edge - mirror image`` of the values next to the current edge."""
    from ._ufuncs import subtract

    n = aval(a).shape[d]
    period = n if symmetric else n - 1
    if period < 1:  # a single value reflects onto itself: odd reflection repeats it
        return take(a, np.zeros(lo + n + hi, np.int64), axis=d)
    skip = 0 if symmetric else 1
    while lo or hi:
        size = aval(a).shape[d]
        parts = []
        if lo:
            k = min(lo, period)
            edge = take(a, np.array([0]), axis=d)
            mirror = take(a, np.arange(skip + k - 1, skip - 1, -1), axis=d)
            parts.append(subtract(2 * edge, mirror))
            lo -= k
        parts.append(a)
        if hi:
            k = min(hi, period)
            edge = take(a, np.array([size - 1]), axis=d)
            mirror = take(a, np.arange(size - 1 - skip, size - 1 - skip - k, -1), axis=d)
            parts.append(subtract(2 * edge, mirror))
            hi -= k
        a = concatenate(parts, axis=d)
    return a


# -- rearranging elements ----------------------------------------------------------------


def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes if None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.flip(np.array([[1, 2], [3, 4]]), axis=1)
    array([[2, 1],
           [4, 3]])
    """
    m = _a(m, "flip")
    axes = normalize_axes(axis, aval(m).ndim, "flip")
    return out_array(lax.rev(m, axes) if axes else m)


def fliplr(m):
    """Flip along axis 1.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fliplr(np.array([[1, 2]]))
    array([[2, 1]])
    """
    m = _a(m, "fliplr")
    if aval(m).ndim < 2:
        raise ValueError("fliplr: input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    """Flip along axis 0.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.flipud(np.array([1, 2]))
    array([2, 1])
    """
    m = _a(m, "flipud")
    if aval(m).ndim < 1:
        raise ValueError("flipud: input must be >= 1-d.")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane ``axes``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.rot90(np.array([[1, 2], [3, 4]]))
    array([[2, 4],
           [1, 3]])
    """
    m = _a(m, "rot90")
    k = k % 4
    a0, a1 = axes
    if k == 0:
        return out_array(m)
    if k == 2:
        return flip(flip(m, a0), a1)
    if k == 1:
        return swapaxes(flip(m, a1), a0, a1)
    return flip(swapaxes(m, a0, a1), a1)


def roll(a, shift, axis=None):
    """Roll elements along ``axis`` (flattened if None); traced shifts are supported.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.roll(np.arange(5), 2)
    array([3, 4, 0, 1, 2])
    """
    a = _a(a, "roll")
    av = aval(a)
    if axis is None:
        r = roll(lax.reshape(a, (av.size,)), shift, 0)
        return out_array(lax.reshape(r, av.shape))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,) * len(axes)
    if len(shifts) != len(axes):
        shifts_b, axes_b = np.broadcast_arrays(np.asarray(shifts, dtype=object),
                                               np.asarray(axes, dtype=object))
        shifts, axes = list(shifts_b), list(axes_b)
    for s, ax in zip(shifts, axes):
        ax = normalize_axis(ax, av.ndim, "roll")
        n = av.shape[ax]
        if n == 0:
            continue
        if is_tracer(s) and concrete_or_none(s) is None:
            idx = lax.rem(lax.add(lax.rem(lax.sub(np.arange(n), lax.convert_element_type(
                s, np.int64)), n), n), n)
            a = take(a, idx, axis=ax)
            continue
        s = int(concrete_or_none(s)) % n
        if s:
            a = lax.concatenate([lax.slice_in_dim(a, n - s, n, 1, ax),
                                 lax.slice_in_dim(a, 0, n - s, 1, ax)], ax)
    return out_array(a)
