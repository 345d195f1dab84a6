"""Shape primitives: broadcast_in_dim, reshape, transpose, expand_dims, squeeze,
and the sum reduction they need for cotangents. Each defined with all its rules."""
from __future__ import annotations

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import Tracer, get_aval, state
from ..interpreters.jvp import Zero, deflinear
from ._rules import move_bdim_to_front


def _norm_axis(axis: int, ndim: int, opname: str) -> int:
    if not -ndim <= axis < max(ndim, 1) and not (ndim == 0 and axis in (0, -1)):
        raise ValueError(f"{opname}: axis {axis} is out of bounds for an array of rank {ndim}")
    return axis % ndim if ndim else 0


# -- broadcast_in_dim ----------------------------------------------------------------

broadcast_in_dim_p = Primitive("broadcast_in_dim")


def _bid_impl(x, shape, broadcast_dimensions):
    x = np.asarray(x)
    tmp = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        tmp[dst] = x.shape[src]
    return np.broadcast_to(x.reshape(tmp), shape)


def _bid_abstract(x, shape, broadcast_dimensions):
    shape = tuple(shape)
    if len(broadcast_dimensions) != x.ndim:
        raise ValueError(
            f"broadcast_in_dim: operand of shape {x.shape} needs {x.ndim} broadcast "
            f"dimensions, got {broadcast_dimensions}"
        )
    for src, dst in enumerate(broadcast_dimensions):
        if not 0 <= dst < len(shape) or x.shape[src] not in (1, shape[dst]):
            raise ValueError(
                f"broadcast_in_dim: operand shape {x.shape} cannot be broadcast to {shape} "
                f"with broadcast_dimensions={broadcast_dimensions}"
            )
    return ShapedArray(shape, x.dtype, x.weak_type)


def _bid_transpose(ct, x, shape, broadcast_dimensions):
    if type(ct) is Zero:
        return [Zero(x.aval)]
    in_shape = x.aval.shape
    sum_axes = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    sum_axes += [dst for src, dst in enumerate(broadcast_dimensions)
                 if in_shape[src] == 1 and shape[dst] != 1]
    out = reduce_sum(ct, tuple(sorted(sum_axes))) if sum_axes else ct
    if get_aval(out).shape != in_shape:
        out = reshape(out, in_shape)
    return [out]


def _bid_batch(vals, dims, shape, broadcast_dimensions):
    (x,), (d,) = vals, dims
    x = move_bdim_to_front(x, d)
    size = get_aval(x).shape[0]
    return broadcast_in_dim(
        x, (size,) + tuple(shape), (0,) + tuple(b + 1 for b in broadcast_dimensions)
    ), 0


broadcast_in_dim_p.impl = _bid_impl
broadcast_in_dim_p.abstract_eval = _bid_abstract
deflinear(broadcast_in_dim_p, _bid_transpose)
broadcast_in_dim_p.batch = _bid_batch


def broadcast_in_dim(x, shape, broadcast_dimensions):
    """Broadcast ``x`` to ``shape``; operand dim i becomes result dim broadcast_dimensions[i].

    >>> import numpy as np
    >>> broadcast_in_dim(np.array([1., 2.]), (3, 2), (1,)).shape
    (3, 2)
    """
    shape = tuple(int(s) for s in shape)
    broadcast_dimensions = tuple(int(b) for b in broadcast_dimensions)
    if not isinstance(x, Tracer) and np.shape(x) == shape:
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=broadcast_dimensions)


def broadcast_to_shape(x, shape):
    """numpy-style broadcast_to via broadcast_in_dim (trailing dims aligned)."""
    shape = tuple(shape)
    xs = get_aval(x).shape
    if tuple(xs) == shape:
        return x
    lead = len(shape) - len(xs)
    if lead < 0:
        raise ValueError(f"broadcast_to: cannot broadcast shape {xs} to {shape}")
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value``.

    >>> full((2,), 3.0)
    array([3., 3.])
    """
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if isinstance(fill_value, Tracer) or state().dynamic.level > 0:
        # Under jit/make_jaxpr stage a broadcast of a scalar (fusable), not a big constant.
        if not isinstance(fill_value, Tracer):
            dt = np.dtype(dtype) if dtype is not None else np.asarray(fill_value).dtype
            fill_value = np.asarray(fill_value, dtype=dt)[()]
        elif dtype is not None:
            fill_value = _convert(fill_value, dtype)
        return broadcast_in_dim(fill_value, shape, ())
    dt = np.dtype(dtype) if dtype is not None else np.asarray(fill_value).dtype
    return np.full(shape, fill_value, dtype=dt)


def _convert(x, dtype):
    from . import convert_element_type

    return convert_element_type(x, dtype)


# -- reshape -------------------------------------------------------------------------

reshape_p = Primitive("reshape")


def _reshape_abstract(x, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ValueError(f"reshape: cannot reshape array of shape {x.shape} into shape {new_sizes}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


reshape_p.impl = lambda x, new_sizes: np.reshape(x, new_sizes)
reshape_p.abstract_eval = _reshape_abstract
deflinear(reshape_p, lambda ct, x, new_sizes: [
    Zero(x.aval) if type(ct) is Zero else reshape(ct, x.aval.shape)])


def _reshape_batch(vals, dims, new_sizes):
    x = move_bdim_to_front(vals[0], dims[0])
    return reshape(x, (get_aval(x).shape[0],) + tuple(new_sizes)), 0


reshape_p.batch = _reshape_batch


def reshape(x, new_sizes):
    """Reshape ``x`` (row-major) to ``new_sizes`` (a tuple of ints, no -1)."""
    new_sizes = tuple(int(s) for s in new_sizes)
    if get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


# -- transpose -----------------------------------------------------------------------

transpose_p = Primitive("transpose")


def _transpose_abstract(x, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose: permutation {permutation} is invalid for shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p.impl = lambda x, permutation: np.transpose(x, permutation)
transpose_p.abstract_eval = _transpose_abstract
deflinear(transpose_p, lambda ct, x, permutation: [
    Zero(x.aval) if type(ct) is Zero else transpose(ct, tuple(np.argsort(permutation)))])


def _transpose_batch(vals, dims, permutation):
    x = move_bdim_to_front(vals[0], dims[0])
    return transpose(x, (0,) + tuple(p + 1 for p in permutation)), 0


transpose_p.batch = _transpose_batch


def transpose(x, permutation):
    """Permute the axes of ``x``."""
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


def moveaxis(x, source: int, destination: int):
    """Move axis ``source`` of x to position ``destination``."""
    ndim = get_aval(x).ndim
    source, destination = source % ndim, destination % ndim
    perm = [i for i in range(ndim) if i != source]
    perm.insert(destination, source)
    return transpose(x, tuple(perm))


# -- expand_dims / squeeze -----------------------------------------------------------

expand_dims_p = Primitive("expand_dims")


def _expand_shape(shape, dimensions):
    out = list(shape)
    for d in sorted(dimensions):
        out.insert(d, 1)
    return tuple(out)


expand_dims_p.impl = lambda x, dimensions: np.reshape(x, _expand_shape(np.shape(x), dimensions))
expand_dims_p.abstract_eval = lambda x, dimensions: ShapedArray(
    _expand_shape(x.shape, dimensions), x.dtype, x.weak_type)
deflinear(expand_dims_p, lambda ct, x, dimensions: [
    Zero(x.aval) if type(ct) is Zero else squeeze(ct, dimensions)])


def _expand_dims_batch(vals, dims, dimensions):
    x = move_bdim_to_front(vals[0], dims[0])
    return expand_dims(x, tuple(d + 1 for d in dimensions)), 0


expand_dims_p.batch = _expand_dims_batch


def expand_dims(x, dimensions):
    """Insert size-1 axes at ``dimensions`` (positions in the result)."""
    if isinstance(dimensions, int):
        dimensions = (dimensions,)
    out_ndim = get_aval(x).ndim + len(dimensions)
    dimensions = tuple(sorted(_norm_axis(d, out_ndim, "expand_dims") for d in dimensions))
    if not dimensions:
        return x
    return expand_dims_p.bind(x, dimensions=dimensions)


squeeze_p = Primitive("squeeze")


def _squeeze_abstract(x, dimensions):
    for d in dimensions:
        if x.shape[d] != 1:
            raise ValueError(f"squeeze: dimension {d} of shape {x.shape} is not 1")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions),
                       x.dtype, x.weak_type)


squeeze_p.impl = lambda x, dimensions: np.squeeze(x, axis=dimensions) if dimensions else x
squeeze_p.abstract_eval = _squeeze_abstract
deflinear(squeeze_p, lambda ct, x, dimensions: [
    Zero(x.aval) if type(ct) is Zero else expand_dims(ct, dimensions)])


def _squeeze_batch(vals, dims, dimensions):
    x = move_bdim_to_front(vals[0], dims[0])
    return squeeze(x, tuple(d + 1 for d in dimensions)), 0


squeeze_p.batch = _squeeze_batch


def squeeze(x, dimensions):
    """Remove the size-1 axes ``dimensions``."""
    if isinstance(dimensions, int):
        dimensions = (dimensions,)
    ndim = get_aval(x).ndim
    dimensions = tuple(sorted(_norm_axis(d, ndim, "squeeze") for d in dimensions))
    if not dimensions:
        return x
    return squeeze_p.bind(x, dimensions=dimensions)


# -- reduce_sum ----------------------------------------------------------------------

reduce_sum_p = Primitive("reduce_sum")


def _reduce_abstract(name):
    def rule(x, axes):
        for a in axes:
            if not 0 <= a < x.ndim:
                raise ValueError(f"{name}: axis {a} is out of bounds for shape {x.shape}")
        return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in axes),
                           x.dtype, x.weak_type)

    return rule


reduce_sum_p.impl = lambda x, axes: np.asarray(np.sum(x, axis=axes, dtype=np.asarray(x).dtype))
reduce_sum_p.abstract_eval = _reduce_abstract("reduce_sum")


def _reduce_sum_transpose(ct, x, axes):
    if type(ct) is Zero:
        return [Zero(x.aval)]
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return [broadcast_in_dim(ct, shape, kept)]


deflinear(reduce_sum_p, _reduce_sum_transpose)


def _reduce_sum_batch(vals, dims, axes):
    x = move_bdim_to_front(vals[0], dims[0])
    return reduce_sum(x, tuple(a + 1 for a in axes)), 0


reduce_sum_p.batch = _reduce_sum_batch


def reduce_sum(x, axes):
    """Sum over ``axes`` (a tuple of non-negative ints); dtype is kept."""
    if isinstance(axes, int):
        axes = (axes,)
    ndim = get_aval(x).ndim
    axes = tuple(sorted({_norm_axis(a, ndim, "reduce_sum") for a in axes}))
    if not axes:
        return x
    return reduce_sum_p.bind(x, axes=axes)
