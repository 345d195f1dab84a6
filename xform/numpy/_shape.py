"""Shape manipulation, joining/splitting and array creation (numpy semantics)."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from .. import lax
from ._promote import (
    arg,
    aval,
    check_broadcast,
    concrete_or_none,
    is_py_scalar,
    is_tracer,
    normalize_axes,
    normalize_axis,
    out,
    out_array,
    result_type_of,
    shape_arg,
)
from ._promote import asarray as _asarray
from ._promote import astype as _to

__all__ = [
    "reshape", "transpose", "permute_dims", "swapaxes", "moveaxis", "squeeze", "expand_dims",
    "ravel", "broadcast_to", "broadcast_arrays", "broadcast_shapes", "concatenate", "concat",
    "stack", "vstack", "hstack", "dstack", "column_stack", "row_stack", "split", "array_split",
    "hsplit", "vsplit", "tile", "repeat", "flip", "fliplr", "flipud", "roll", "diff",
    "linspace", "logspace", "arange", "zeros", "ones", "zeros_like", "ones_like", "full",
    "full_like", "empty", "empty_like", "eye", "identity", "tri", "diag", "diagonal", "diagflat",
    "triu", "tril", "trace", "sort", "argsort", "atleast_1d", "atleast_2d", "atleast_3d",
    "asarray", "array", "shape", "ndim", "size", "astype", "copy", "nonzero", "flatnonzero",
    "argwhere", "meshgrid", "take", "take_along_axis", "append", "pad", "isclose", "allclose",
    "real", "imag", "iscomplexobj", "isrealobj", "isscalar", "rot90", "ix_", "indices",
    "result_type", "promote_types", "can_cast", "unravel_index", "ravel_multi_index",
]


def _a(x, name):
    x = arg(x, name)
    if is_py_scalar(x) or isinstance(x, np.generic):
        x = np.asarray(x)
    return x


# -- reshaping ----------------------------------------------------------------------------


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


# -- joining and splitting ---------------------------------------------------------------


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


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """n-th discrete difference along ``axis`` (not_equal for booleans).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diff(np.array([1, 4, 9, 16]), n=2)
    array([2, 2])
    """
    from ._ufuncs import not_equal, subtract

    a = _a(a, "diff")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if n == 0:
        return out_array(a)
    nd = aval(a).ndim
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = normalize_axis(axis, nd, "diff")
    parts = []
    for v in (prepend, append):
        if v is np._NoValue:
            parts.append(None)
            continue
        v = _a(v, "diff")
        if aval(v).ndim == 0:
            shp = list(aval(a).shape)
            shp[ax] = 1
            v = lax.broadcast_to_shape(v, tuple(shp))
        parts.append(v)
    if parts[0] is not None or parts[1] is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=ax)
    op = not_equal if aval(a).dtype.kind == "b" else subtract
    for _ in range(n):
        m = aval(a).shape[ax]
        if m == 0:
            break
        a = op(lax.slice_in_dim(a, 1, m, 1, ax), lax.slice_in_dim(a, 0, m - 1, 1, ax))
    return out_array(a)


# -- creation -------------------------------------------------------------------------------


def _dtype_or(dtype, default):
    return np.dtype(default if dtype is None else dtype)


def zeros(shape, dtype=float, order="C", *, like=None):
    """An array of zeros (float64 by default).

    >>> import xform.numpy as xnp
    >>> xnp.zeros((2, 2), dtype=int)
    array([[0, 0],
           [0, 0]])
    """
    return lax.full(shape_arg(shape, "zeros"), 0, _dtype_or(dtype, float))


def ones(shape, dtype=None, order="C", *, like=None):
    """An array of ones (float64 by default).

    >>> import xform.numpy as xnp
    >>> xnp.ones(3)
    array([1., 1., 1.])
    """
    return lax.full(shape_arg(shape, "ones"), 1, _dtype_or(dtype, float))


def empty(shape, dtype=float, order="C", *, like=None):
    """Same as ``zeros`` (xform arrays are never uninitialized).

    >>> import xform.numpy as xnp
    >>> xnp.empty(2)
    array([0., 0.])
    """
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None, order="C", *, like=None):
    """An array filled with ``fill_value`` (may be traced, or an array that broadcasts).

    >>> import xform.numpy as xnp
    >>> xnp.full((2,), 7)
    array([7, 7])
    """
    shape = shape_arg(shape, "full")
    fill_value = arg(fill_value, "full")
    if is_py_scalar(fill_value) or isinstance(fill_value, np.generic):
        dt = np.asarray(fill_value).dtype if dtype is None else np.dtype(dtype)
        return lax.full(shape, fill_value, dt)
    if dtype is not None:
        fill_value = _to(fill_value, dtype)
    elif aval(fill_value).weak_type:
        fill_value = _to(fill_value, aval(fill_value).dtype)
    if aval(fill_value).ndim == 0:
        return out_array(lax.full(shape, fill_value, aval(fill_value).dtype))
    return broadcast_to(fill_value, shape)


def _like(a, dtype, shape_, name):
    a = arg(a, name)
    av = aval(a)
    dt = av.dtype if dtype is None else np.dtype(dtype)
    shp = av.shape if shape_ is None else shape_arg(shape_, name)
    return dt, shp


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros with the shape and dtype of ``a``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.zeros_like(np.array([1, 2]))
    array([0, 0])
    """
    dt, shp = _like(a, dtype, shape, "zeros_like")
    return lax.full(shp, 0, dt)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones with the shape and dtype of ``a``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.ones_like(np.array([1.5, 2.0]))
    array([1., 1.])
    """
    dt, shp = _like(a, dtype, shape, "ones_like")
    return lax.full(shp, 1, dt)


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Same as ``zeros_like``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.empty_like(np.array([1, 2]))
    array([0, 0])
    """
    return zeros_like(prototype, dtype, shape=shape)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """``fill_value`` with the shape and dtype of ``a``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.full_like(np.array([1, 2]), 7.9)
    array([7, 7])
    """
    dt, shp = _like(a, dtype, shape, "full_like")
    fill_value = arg(fill_value, "full_like")
    if is_py_scalar(fill_value) or isinstance(fill_value, np.generic):
        with np.errstate(all="ignore"):
            return lax.full(shp, np.asarray(fill_value).astype(dt)[()], dt)
    return full(shp, _to(fill_value, dt))


def arange(start, stop=None, step=None, dtype=None, *, like=None, device=None):
    """Evenly spaced values in [start, stop) (arguments must be concrete).

    >>> import xform.numpy as xnp
    >>> xnp.arange(1, 7, 2)
    array([1, 3, 5])
    """
    vals = []
    for v in (start, stop, step):
        if is_tracer(v):
            c = concrete_or_none(v)
            if c is None:
                raise v._concretization_error("arange (its length depends on the value)")
            v = c
        vals.append(v)
    start, stop, step = vals
    if stop is None and step is None:
        return np.arange(start, dtype=dtype)
    if step is None:
        return np.arange(start, stop, dtype=dtype)
    return np.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``num`` evenly spaced samples over [start, stop] (start/stop may be traced).

    >>> import xform.numpy as xnp
    >>> xnp.linspace(0.0, 1.0, 5)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative.")
    if not is_tracer(start) and not is_tracer(stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    start = _a(start, "linspace")
    stop = _a(stop, "linspace")
    from ._ufuncs import add, floor, multiply, subtract, true_divide

    dt, _ = result_type_of(start, stop, 1.0)
    div = (num - 1) if endpoint else num
    start_f, stop_f = _to(start, dt), _to(stop, dt)
    delta = subtract(stop_f, start_f)
    nd = aval(delta).ndim
    y = lax.reshape(np.arange(0, num, dtype=dt), (num,) + (1,) * nd)
    step = true_divide(delta, div) if div > 0 else np.nan
    if div > 0:
        y = add(multiply(y, step), start_f)
    else:
        y = add(multiply(y, delta), start_f)
    if endpoint and num > 1:
        last = lax.expand_dims(lax.broadcast_to_shape(stop_f, aval(y).shape[1:]), (0,))
        y = lax.concatenate([lax.slice_in_dim(y, 0, num - 1, 1, 0), _to(last, aval(y).dtype)], 0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        if np.dtype(dtype).kind in "iu":
            y = floor(y)
        y = _to(y, dtype)
    y = out_array(y)
    if retstep:
        return y, step
    return y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``.

    >>> import xform.numpy as xnp
    >>> xnp.logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.])
    """
    from ._ufuncs import power

    y = linspace(start, stop, num, endpoint, axis=axis)
    r = power(base, y)
    return out_array(_to(r, dtype) if dtype is not None else r)


def eye(N, M=None, k=0, dtype=float, order="C", *, device=None, like=None):
    """2-d array with ones on the ``k``-th diagonal.

    >>> import xform.numpy as xnp
    >>> xnp.eye(2, 3, k=1, dtype=int)
    array([[0, 1, 0],
           [0, 0, 1]])
    """
    return np.eye(N, M, k, dtype=dtype)


def identity(n, dtype=None, *, like=None):
    """Square identity matrix.

    >>> import xform.numpy as xnp
    >>> xnp.identity(2)
    array([[1., 0.],
           [0., 1.]])
    """
    return np.identity(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=float, *, like=None):
    """Ones at and below the ``k``-th diagonal.

    >>> import xform.numpy as xnp
    >>> xnp.tri(2, dtype=int)
    array([[1, 0],
           [1, 1]])
    """
    return np.tri(N, M, k, dtype=dtype)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal over axes (axis1, axis2), placed last.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diagonal(np.arange(9).reshape(3, 3), 1)
    array([1, 5])
    """
    from ._indexing import getitem

    a = _a(a, "diagonal")
    av = aval(a)
    if av.ndim < 2:
        raise ValueError("diagonal: input must be at least 2-d")
    i1 = normalize_axis(axis1, av.ndim, "diagonal")
    i2 = normalize_axis(axis2, av.ndim, "diagonal")
    if i1 == i2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    a = moveaxis(a, (i1, i2), (-2, -1))
    n, m = aval(a).shape[-2:]
    offset = operator.index(offset)
    if offset >= 0:
        length = builtins.max(0, builtins.min(n, m - offset))
        rows = np.arange(length)
        cols = rows + offset
    else:
        length = builtins.max(0, builtins.min(n + offset, m))
        cols = np.arange(length)
        rows = cols - offset
    return out_array(getitem(a, (Ellipsis, rows, cols)))


def diag(v, k=0):
    """Diagonal of a 2-d array, or a 2-d array with the 1-d ``v`` on its ``k``-th diagonal.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diag(np.array([1, 2]), k=1)
    array([[0, 1, 0],
           [0, 0, 2],
           [0, 0, 0]])
    """
    v = _a(v, "diag")
    av = aval(v)
    k = operator.index(k)
    if av.ndim == 2:
        return diagonal(v, k)
    if av.ndim != 1:
        raise ValueError("diag: input must be 1-d or 2-d")
    n = av.shape[0] + abs(k)
    mask = np.eye(n, n, k, dtype=bool)
    pad_cfg = ((0, abs(k), 0),)
    vp = lax.pad(v, np.zeros((), av.dtype)[()], pad_cfg) if k else v
    vb = lax.broadcast_in_dim(vp, (n, n), (0,) if k >= 0 else (1,))
    from ._ufuncs import _where

    return out_array(_where(mask, vb, np.zeros((), av.dtype)[()]))


def diagflat(v, k=0):
    """2-d array with the flattened ``v`` on the ``k``-th diagonal.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diagflat(np.array([[1, 2]]))
    array([[1, 0],
           [0, 2]])
    """
    return diag(ravel(v), k)


def _tri_mask(a, k, lower):
    av = aval(a)
    if av.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: input must be at least 2-d")
    n, m = av.shape[-2:]
    mask = np.tri(n, m, k, dtype=bool)
    return mask if lower else ~np.tri(n, m, k - 1, dtype=bool)


def triu(m, k=0):
    """Upper triangle (zero below the ``k``-th diagonal) of the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.triu(np.ones((2, 2), dtype=int))
    array([[1, 1],
           [0, 1]])
    """
    from ._ufuncs import _where

    m = _a(m, "triu")
    if aval(m).ndim == 1:
        m = lax.broadcast_in_dim(m, (aval(m).shape[0],) * 2, (1,))
    return out_array(_where(_tri_mask(m, k, False), m, np.zeros((), aval(m).dtype)[()]))


def tril(m, k=0):
    """Lower triangle (zero above the ``k``-th diagonal) of the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.tril(np.ones((2, 2), dtype=int))
    array([[1, 0],
           [1, 1]])
    """
    from ._ufuncs import _where

    m = _a(m, "tril")
    if aval(m).ndim == 1:
        m = lax.broadcast_in_dim(m, (aval(m).shape[0],) * 2, (1,))
    return out_array(_where(_tri_mask(m, k, True), m, np.zeros((), aval(m).dtype)[()]))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.trace(np.arange(9).reshape(3, 3))
    np.int64(12)
    """
    from ._reductions import sum as _sum

    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


# -- sorting -------------------------------------------------------------------------------


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted copy along ``axis`` (flattened if None); nans last like numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.sort(np.array([[3, 1], [0, 2]]), axis=0)
    array([[0, 1],
           [3, 2]])
    """
    if order is not None:
        raise TypeError("sort: order= (structured arrays) is not supported")
    a = _a(a, "sort")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    if aval(a).ndim == 0:
        raise np.exceptions.AxisError("sort: axis -1 is out of bounds for array of dimension 0")
    ax = normalize_axis(axis, aval(a).ndim, "sort")
    if aval(a).shape[ax] <= 1:
        return out_array(a)
    return out_array(lax.sort(a, ax))


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Indices that sort ``a`` along ``axis`` (stable). Uses ``lax.argsort`` when available,
    otherwise an O(n^2) rank computation (fine for modest sizes, works under every
    transformation).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argsort(np.array([3, 1, 2]))
    array([1, 2, 0])
    """
    if order is not None:
        raise TypeError("argsort: order= is not supported")
    a = _a(a, "argsort")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    av = aval(a)
    ax = normalize_axis(axis, av.ndim, "argsort")
    fn = getattr(lax, "argsort", None)
    if fn is not None:
        return out_array(fn(a, ax))
    from ._reductions import sum as _sum
    from ._ufuncs import bitwise_or, equal, isnan, less, logical_and, logical_not, multiply

    x = moveaxis(a, ax, -1)
    n = aval(x).shape[-1]
    xi = lax.expand_dims(x, (aval(x).ndim,))       # (..., n, 1): element i
    xj = lax.expand_dims(x, (aval(x).ndim - 1,))   # (..., 1, n): element j
    before = np.tri(n, n, -1, dtype=bool)  # before[i, j] = j < i
    if av.dtype.kind in "fc":
        # nan sorts last: treat nan as larger than everything, equal to other nans
        ni, nj = isnan(xi), isnan(xj)
        lt = bitwise_or(logical_and(less(xj, xi), logical_not(nj)), logical_and(ni, logical_not(nj)))
        eq = bitwise_or(equal(xj, xi), logical_and(ni, nj))
    else:
        lt, eq = less(xj, xi), equal(xj, xi)
    rank = _sum(bitwise_or(lt, logical_and(eq, before)), axis=-1)   # (..., n)
    onehot = equal(lax.expand_dims(rank, (aval(rank).ndim,)), np.arange(n))  # (..., i, k)
    idx = _sum(multiply(onehot, lax.expand_dims(np.arange(n), (1,))), axis=-2)
    return out_array(moveaxis(idx, -1, ax))


# -- conversion and inspection -------------------------------------------------------------


def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """Convert to an array; lists holding traced values are stacked.

    >>> import xform.numpy as xnp
    >>> xnp.asarray([1, 2], dtype=float)
    array([1., 2.])
    """
    r = _asarray(a, dtype)
    if is_tracer(r) and aval(r).weak_type:
        r = _to(r, aval(r).dtype)
    return r


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):  # noqa: A002
    """Create an array (a copy for numpy inputs); lists holding traced values are stacked.

    >>> import xform.numpy as xnp
    >>> xnp.array([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    r = asarray(object, dtype)
    if isinstance(r, np.ndarray) and copy and r is object:
        r = r.copy()
    if ndmin and aval(r).ndim < ndmin:
        r = lax.reshape(r, (1,) * (ndmin - aval(r).ndim) + tuple(aval(r).shape))
    return r


def astype(x, dtype, /, *, copy=True, device=None):
    """Cast to ``dtype`` (numpy's casting; float -> int truncates).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.astype(np.array([1.7, -1.7]), np.int32)
    array([ 1, -1], dtype=int32)
    """
    from ._promote import astype as _astype

    x = _a(x, "astype")
    r = _astype(x, dtype)
    if isinstance(r, np.ndarray) and r is x and copy:
        r = r.copy()
    return out_array(r)


def copy(a, order="K", subok=False):
    """A copy (traced values are immutable: returned as they are).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.copy(np.array([1, 2]))
    array([1, 2])
    """
    a = _a(a, "copy")
    if isinstance(a, np.ndarray):
        return a.copy()
    return a


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


def _data_dependent(name, x):
    c = concrete_or_none(x)
    if c is None:
        raise TypeError(
            f"{name}: the result shape depends on the values of a traced "
            f"{x.aval.str_short()} (data-dependent shape), which xform cannot trace. Use "
            f"xform.numpy.where(condition, x, y) to select values with a fixed shape, or "
            f"compute it outside the transformation.")
    return np.asarray(c)


def nonzero(a):
    """Indices of nonzero elements (concrete inputs only: the shape depends on the data).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nonzero(np.array([0, 3, 0, 4]))
    (array([1, 3]),)
    """
    a = arg(a, "nonzero")
    if is_tracer(a):
        a = _data_dependent("nonzero", a)
    return np.nonzero(np.asarray(a))


def flatnonzero(a):
    """Indices of nonzero elements of the flattened array (concrete only).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.flatnonzero(np.array([0, 3, 4]))
    array([1, 2])
    """
    a = arg(a, "flatnonzero")
    if is_tracer(a):
        a = _data_dependent("flatnonzero", a)
    return np.flatnonzero(a)


def argwhere(a):
    """Indices of nonzero elements grouped by element (concrete only).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argwhere(np.array([0, 3]))
    array([[1]])
    """
    a = arg(a, "argwhere")
    if is_tracer(a):
        a = _data_dependent("argwhere", a)
    return np.argwhere(a)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate matrices from coordinate vectors.

    >>> import numpy as np, xform.numpy as xnp
    >>> [g.shape for g in xnp.meshgrid(np.arange(3), np.arange(2))]
    [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: Valid values for `indexing` are 'xy' and 'ij'.")
    xs = [ravel(x) for x in xi]
    nd = len(xs)
    shp = [aval(x).shape[0] for x in xs]
    if indexing == "xy" and nd > 1:
        shp[0], shp[1] = shp[1], shp[0]
    outs = []
    for i, x in enumerate(xs):
        d = i
        if indexing == "xy" and nd > 1 and i < 2:
            d = 1 - i
        if sparse:
            s = [1] * nd
            s[d] = aval(x).shape[0]
            outs.append(out_array(lax.reshape(x, tuple(s))))
        else:
            outs.append(out_array(lax.broadcast_in_dim(x, tuple(shp), (d,))))
    return tuple(outs)


def take(a, indices, axis=None, out=None, mode=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (flattened if None).

    ``mode``: ``'raise'`` (the default) as indexing (concrete out-of-range indices raise
    IndexError; traced ones are clamped, as in JAX), ``'wrap'`` (modulo the length) or
    ``'clip'`` (to the valid range; negative indices become 0, as in numpy).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.take(np.array([[1, 2], [3, 4]]), [1, 0], axis=1)
    array([[2, 1],
           [4, 3]])
    >>> xnp.take(np.arange(4.0), [5, -5], mode="wrap")
    array([1., 3.])
    """
    from ._indexing import getitem
    from ._ufuncs import clip, remainder

    if out is not None:
        raise TypeError("take: out= is not supported (arrays are immutable); use the result.")
    if mode not in (None, "raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}.")
    a = _a(a, "take")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    ax = normalize_axis(axis, aval(a).ndim, "take")
    idx = _a(indices, "take")
    if aval(idx).dtype.kind not in "iu":
        raise IndexError("take: indices must be integers")
    n = aval(a).shape[ax]
    if mode in ("wrap", "clip") and n == 0 and aval(idx).size:
        raise IndexError(f"take: cannot take from an empty axis {ax} with mode={mode!r}.")
    if mode == "wrap":
        idx = remainder(idx, n)
    elif mode == "clip":
        idx = clip(idx, 0, n - 1)
    return out_array(getitem(a, (slice(None),) * ax + (idx,)))


def take_along_axis(arr, indices, axis):
    """Pick values along ``axis`` with an index array broadcasting against ``arr``.

    >>> import numpy as np, xform.numpy as xnp
    >>> a = np.array([[10, 30, 20]])
    >>> xnp.take_along_axis(a, np.argsort(a, axis=1), axis=1)
    array([[10, 20, 30]])
    """
    from ._indexing import getitem

    arr = _a(arr, "take_along_axis")
    idx = _a(indices, "take_along_axis")
    if axis is None:
        arr = ravel(arr)
        axis = 0
    nd = aval(arr).ndim
    if aval(idx).ndim != nd:
        raise ValueError("take_along_axis: `indices` and `arr` must have the same number of "
                         "dimensions")
    ax = normalize_axis(axis, nd, "take_along_axis")
    index = []
    for d in range(nd):
        if d == ax:
            index.append(idx)
        else:
            s = [1] * nd
            s[d] = aval(arr).shape[d]
            index.append(np.arange(aval(arr).shape[d]).reshape(s))
    return out_array(getitem(arr, tuple(index)))


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


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol * |b| (infinities equal only to themselves).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isclose(np.array([1.0, 2.0]), np.array([1.0 + 1e-9, 2.1]))
    array([ True, False])
    """
    from ._ufuncs import (
        _where,
        absolute,
        add,
        equal,
        isfinite,
        isnan,
        less_equal,
        logical_and,
        logical_or,
        multiply,
        subtract,
    )

    a, b = _a(a, "isclose"), _a(b, "isclose")
    dt, _ = result_type_of(a, b, 1.0)
    a, b = _to(a, dt), _to(b, dt)
    fin = logical_and(isfinite(a), isfinite(b))
    with np.errstate(invalid="ignore"):
        close = less_equal(absolute(subtract(a, b)), add(atol, multiply(rtol, absolute(b))))
    r = _where(fin, close, equal(a, b))
    if equal_nan:
        r = logical_or(r, logical_and(isnan(a), isnan(b)))
    return out(r)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all elements are close (a Python bool: needs concrete values).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.allclose(np.array([1.0]), np.array([1.0 + 1e-9]))
    True
    """
    from ._reductions import all as _all

    return bool(_all(isclose(a, b, rtol, atol, equal_nan)))


def real(val):
    """Real part (the array itself for real dtypes).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.real(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    v = _a(val, "real")
    if aval(v).dtype.kind == "c":
        return out_array(lax.real(v))
    return out_array(v)


def imag(val):
    """Imaginary part (zeros for real dtypes).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.imag(np.array([1.0, 2.0]))
    array([0., 0.])
    """
    v = _a(val, "imag")
    if aval(v).dtype.kind == "c":
        return out_array(lax.imag(v))
    return lax.full(aval(v).shape, 0, aval(v).dtype)


def iscomplexobj(x):
    """True if ``x`` has a complex dtype.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.iscomplexobj(np.array([1.0]))
    False
    """
    return aval(arg(x, "iscomplexobj")).dtype.kind == "c"


def isrealobj(x):
    """True if ``x`` does not have a complex dtype.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isrealobj(np.array([1.0]))
    True
    """
    return not iscomplexobj(x)


def isscalar(element):
    """numpy.isscalar (traced values are arrays, never scalars).

    >>> import xform.numpy as xnp
    >>> xnp.isscalar(1.0)
    True
    """
    if is_tracer(element):
        return False
    return np.isscalar(element)


def ix_(*args):
    """Open mesh of index arrays for cross-indexing.

    >>> import numpy as np, xform.numpy as xnp
    >>> [i.shape for i in xnp.ix_([0, 1], [2, 3, 4])]
    [(2, 1), (1, 3)]
    """
    outs = []
    n = len(args)
    for k, a in enumerate(args):
        a = _a(a, "ix_")
        if aval(a).ndim != 1:
            raise ValueError("ix_: Cross index must be 1 dimensional")
        s = [1] * n
        s[k] = aval(a).shape[0]
        if not is_tracer(a) and a.dtype == bool:
            a = np.nonzero(a)[0]
            s[k] = a.shape[0]
        outs.append(out_array(lax.reshape(a, tuple(s))))
    return tuple(outs)


def indices(dimensions, dtype=int, sparse=False):
    """Grid of indices (concrete).

    >>> import xform.numpy as xnp
    >>> xnp.indices((2, 2))[0]
    array([[0, 0],
           [1, 1]])
    """
    return np.indices(dimensions, dtype, sparse)


def unravel_index(indices, shape, order="C"):
    """Flat indices to coordinate arrays (works on traced indices, order 'C').

    >>> import xform.numpy as xnp
    >>> xnp.unravel_index(5, (2, 3))
    (np.int64(1), np.int64(2))
    """
    from ._ufuncs import floor_divide, remainder

    shape = shape_arg(shape, "unravel_index")
    idx = _a(indices, "unravel_index")
    if not is_tracer(idx):
        return np.unravel_index(idx, shape, order)
    outs = []
    for d in reversed(shape):
        outs.append(remainder(idx, d))
        idx = floor_divide(idx, d)
    return tuple(reversed(outs))


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Coordinate arrays to flat indices (row-major).

    >>> import xform.numpy as xnp
    >>> xnp.ravel_multi_index(([1], [2]), (2, 3))
    array([5])
    """
    from ._ufuncs import add, multiply

    if not any(is_tracer(m) for m in multi_index):
        return np.ravel_multi_index(multi_index, dims, mode=mode, order=order)
    r = 0
    for m, d in zip(multi_index, dims):
        r = add(multiply(r, d), m)
    return r


result_type = np.result_type
promote_types = np.promote_types
can_cast = np.can_cast
