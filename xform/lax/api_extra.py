"""More of ``jax.lax``'s user-facing functions, composed of existing primitives (so each
has every rule its parts have: derivatives, batching, lowering): ``broadcast``,
``broadcast_shapes``, ``broadcast_to_rank``, ``collapse``, ``full_like``, ``empty``,
``exp2``, ``shift_right_logical``, ``shift_right_arithmetic``, ``population_count``,
``clz``, ``select_n``, ``top_k``, ``approx_max_k``, ``approx_min_k``, ``split``, ``tile``,
``stack``, ``unstack``, ``index_take``, ``reduce`` (any computation), ``reduce_xor``,
``optimization_barrier``, ``with_sharding_constraint``, ``dtype`` and the ``Precision`` names.
"""
from __future__ import annotations

import enum
import operator
from typing import Any, Callable, Sequence

import numpy as np

from ..core.pytree import tree_flatten, tree_unflatten
from ..core.trace import Tracer, get_aval
from . import elementwise as ew
from . import reductions as red
from . import structural as st
from .indexing import gather, sort, take_along_axis

__all__ = ["Precision", "broadcast", "broadcast_shapes", "broadcast_to_rank", "collapse",
           "full_like", "empty", "exp2", "shift_right_logical", "shift_right_arithmetic",
           "population_count", "clz", "select_n", "top_k", "approx_max_k", "approx_min_k",
           "split", "tile", "stack", "unstack",
           "index_take", "reduce", "reduce_xor", "optimization_barrier",
           "with_sharding_constraint", "dtype"]


class Precision(enum.Enum):
    """JAX's matrix-product precision names (``precision=`` of ``dot_general`` and
    ``conv``): accepted everywhere; on the CPU products compute in the operands' own
    precision whatever is asked.

    >>> from xform import lax
    >>> lax.Precision.HIGHEST
    <Precision.HIGHEST: 2>
    """

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2


def _aval(x, name):
    return get_aval(x, name)


def broadcast(operand, sizes: Sequence[int]):
    """``operand`` with leading dimensions ``sizes`` added (``lax.broadcast``).

    >>> import numpy as np; from xform import lax
    >>> lax.broadcast(np.array([1.0, 2.0]), (3,)).shape
    (3, 2)
    """
    a = _aval(operand, "broadcast")
    sizes = tuple(operator.index(s) for s in sizes)
    return st.broadcast_in_dim(operand, sizes + a.shape,
                               tuple(range(len(sizes), len(sizes) + a.ndim)))


def broadcast_shapes(*shapes) -> tuple:
    """The numpy broadcast of shapes (``lax.broadcast_shapes``).

    >>> from xform import lax
    >>> lax.broadcast_shapes((2, 1), (3,))
    (2, 3)
    """
    return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))


def broadcast_to_rank(x, rank: int):
    """``x`` with leading unit dimensions up to ``rank``.

    >>> import numpy as np; from xform import lax
    >>> lax.broadcast_to_rank(np.ones(3), 3).shape
    (1, 1, 3)
    """
    a = _aval(x, "broadcast_to_rank")
    if a.ndim >= rank:
        return x
    return st.reshape(x, (1,) * (rank - a.ndim) + a.shape)


def collapse(operand, start_dimension: int, stop_dimension: int | None = None):
    """``operand`` with dimensions ``start:stop`` merged into one.

    >>> import numpy as np; from xform import lax
    >>> lax.collapse(np.ones((2, 3, 4)), 1).shape
    (2, 12)
    """
    shape = _aval(operand, "collapse").shape
    stop = len(shape) if stop_dimension is None else stop_dimension
    start, stop = slice(start_dimension, stop).indices(len(shape))[:2]
    size = int(np.prod(shape[start:stop], dtype=np.int64))
    return st.reshape(operand, shape[:start] + (size,) + shape[stop:])


def full_like(x, fill_value, dtype=None, shape=None, sharding: Any = None):
    """An array like ``x`` (its shape and dtype unless given) filled with
    ``fill_value``.

    >>> import numpy as np; from xform import lax
    >>> lax.full_like(np.ones((2,), np.float32), 3)
    array([3., 3.], dtype=float32)
    """
    a = _aval(x, "full_like")
    return st.full(a.shape if shape is None else tuple(shape), fill_value,
                   a.dtype if dtype is None else dtype)


def empty(shape, dtype, *, out_sharding: Any = None):
    """A zero-filled array (JAX's ``lax.empty`` promises no particular values).

    >>> import numpy as np; from xform import lax
    >>> lax.empty((2,), np.float32)
    array([0., 0.], dtype=float32)
    """
    return st.full(shape, 0, dtype)


def exp2(x, *, accuracy: Any = None):
    """Elementwise ``2 ** x`` (``exp(x log 2)``).

    >>> import numpy as np; from xform import lax
    >>> lax.exp2(np.array([0.0, 3.0, -1.0]))
    array([1. , 8. , 0.5])
    """
    return ew.exp(ew.mul(x, ew._c(x, np.log(2.0))))


def _unsigned(dt: np.dtype) -> np.dtype:
    return np.dtype(f"uint{8 * dt.itemsize}")


def _signed(dt: np.dtype) -> np.dtype:
    return np.dtype(f"int{8 * dt.itemsize}")


def _check_int(name, x, y=None):
    dt = _aval(x, name).dtype
    if dt.kind not in "iu":
        raise TypeError(f"lax.{name}: expected integer operands, got {dt}.")
    return dt


def shift_right_logical(x, y):
    """``x >> y`` filling with zeros (the bits of ``x`` read as unsigned); shifts of
    the width or more give 0.

    >>> import numpy as np; from xform import lax
    >>> lax.shift_right_logical(np.array([-8], np.int8), np.array([1], np.int8))
    array([124], dtype=int8)
    """
    dt = _check_int("shift_right_logical", x)
    u = _unsigned(dt)
    r = ew.shift_right(ew.convert_element_type(x, u), ew.convert_element_type(y, u))
    return ew.convert_element_type(r, dt)


def shift_right_arithmetic(x, y):
    """``x >> y`` filling with the sign bit (the bits of ``x`` read as signed).

    >>> import numpy as np; from xform import lax
    >>> lax.shift_right_arithmetic(np.array([248], np.uint8), np.array([1], np.uint8))
    array([252], dtype=uint8)
    """
    dt = _check_int("shift_right_arithmetic", x)
    s = _signed(dt)
    r = ew.shift_right(ew.convert_element_type(x, s), ew.convert_element_type(y, s))
    return ew.convert_element_type(r, dt)


def _popcount_u64(v):
    # SWAR population count (Hacker's Delight 5-2) on uint64 values
    u = np.uint64
    v = ew.sub(v, ew.bitwise_and(ew.shift_right(v, u(1)), u(0x5555555555555555)))
    v = ew.add(ew.bitwise_and(v, u(0x3333333333333333)),
               ew.bitwise_and(ew.shift_right(v, u(2)), u(0x3333333333333333)))
    v = ew.bitwise_and(ew.add(v, ew.shift_right(v, u(4))), u(0x0F0F0F0F0F0F0F0F))
    return ew.shift_right(ew.mul(v, u(0x0101010101010101)), u(56))


def _as_u64(x, dt):
    """The bits of ``x`` (``dt`` wide) as a uint64 value (zero-extended)."""
    return ew.convert_element_type(ew.convert_element_type(x, _unsigned(dt)), np.uint64)


def population_count(x):
    """The number of 1 bits of each element (of its two's complement bits), in ``x``'s
    dtype.

    >>> import numpy as np; from xform import lax
    >>> lax.population_count(np.array([0, 7, -1], np.int8))
    array([0, 3, 8], dtype=int8)
    """
    dt = _check_int("population_count", x)
    return ew.convert_element_type(_popcount_u64(_as_u64(x, dt)), dt)


def clz(x):
    """The number of leading zero bits of each element, in ``x``'s dtype.

    >>> import numpy as np; from xform import lax
    >>> lax.clz(np.array([0, 1, 255, -1], np.int16))
    array([16, 15,  8,  0], dtype=int16)
    """
    dt = _check_int("clz", x)
    v = _as_u64(x, dt)
    for s in (1, 2, 4, 8, 16, 32):  # smear the highest 1 bit rightwards
        v = ew.bitwise_or(v, ew.shift_right(v, np.uint64(s)))
    bits = _popcount_u64(v)
    return ew.convert_element_type(ew.sub(np.uint64(8 * dt.itemsize), bits), dt)


def select_n(which, *cases):
    """``cases[which]`` elementwise: ``which`` is boolean (two cases: False picks the
    first) or an integer in ``[0, len(cases))``.

    >>> import numpy as np; from xform import lax
    >>> lax.select_n(np.array([0, 2, 1]), np.zeros(3), np.ones(3), np.full(3, 2.0))
    array([0., 2., 1.])
    """
    if not cases:
        raise ValueError("lax.select_n: at least one case is required.")
    wa = _aval(which, "select_n")
    if wa.dtype == np.bool_:
        if len(cases) > 2:
            raise ValueError(f"lax.select_n: a boolean which selects between two cases, got "
                             f"{len(cases)}.")
        return cases[0] if len(cases) == 1 else ew.select(which, cases[1], cases[0])
    if wa.dtype.kind not in "iu":
        raise TypeError(f"lax.select_n: which must be boolean or integer, got {wa.dtype}.")
    out = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
        out = ew.select(ew.eq(which, np.asarray(i, wa.dtype)[()]), cases[i], out)
    return out


def _descending_key(x):
    """An order-reversing transform of ``x`` whose ascending sort is ``x``'s descending
    one (without overflow for integers)."""
    dt = _aval(x, "top_k").dtype
    if dt.kind == "f":
        return ew.neg(x)
    if dt.kind == "i":
        return ew.bitwise_not(x)
    if dt.kind == "u":
        return ew.sub(np.asarray(np.iinfo(dt).max, dt)[()], x)
    if dt.kind == "b":
        return ew.bitwise_not(x)
    raise TypeError(f"lax.top_k: unsupported dtype {dt}.")


def top_k(operand, k: int, *, axis: int = -1):
    """The ``k`` largest entries along ``axis`` and their indices (int32, as JAX's;
    largest first; among equal values the lower index first). Differentiable in the
    values. Returns a list ``[values, indices]`` (JAX's result structure).

    >>> import numpy as np; from xform import lax
    >>> lax.top_k(np.array([3.0, 1.0, 4.0, 1.0, 5.0]), 2)
    [array([5., 4.]), array([4, 2], dtype=int32)]
    """
    a = _aval(operand, "top_k")
    if a.ndim == 0:
        raise ValueError("lax.top_k: operand must have at least one dimension.")
    axis = st.canonicalize_axis(axis, a.ndim, "top_k")
    k = operator.index(k)
    if not 0 <= k <= a.shape[axis]:
        raise ValueError(f"lax.top_k: k={k} must be between 0 and the axis size "
                         f"{a.shape[axis]}.")
    iota = st.broadcasted_iota(np.int64, a.shape, axis)
    _, idx = sort([_descending_key(operand), iota], axis, True)
    idx = st.slice_in_dim(idx, 0, k, 1, axis)
    return [take_along_axis(operand, idx, axis), ew.convert_element_type(idx, np.int32)]


def _k_extreme(operand, k, dimension, largest: bool, name: str):
    a = _aval(operand, name)
    if a.ndim == 0:
        raise ValueError(f"lax.{name}: operand must have at least one dimension.")
    axis = st.canonicalize_axis(dimension, a.ndim, name)
    k = operator.index(k)
    if not 0 <= k <= a.shape[axis]:
        raise ValueError(f"lax.{name}: k={k} must be between 0 and the size {a.shape[axis]} "
                         f"of the reduction dimension.")
    iota = st.broadcasted_iota(np.int64, a.shape, axis)
    key = _descending_key(operand) if largest else operand
    _, idx = sort([key, iota], axis, True)  # stable: among equal values the lower index
    idx = st.slice_in_dim(idx, 0, k, 1, axis)
    return [take_along_axis(operand, idx, axis), ew.convert_element_type(idx, np.int32)]


def approx_max_k(operand, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
                 reduction_input_size_override: int = -1, aggregate_to_topk: bool = True):
    """The ``k`` largest entries along ``reduction_dimension`` and their (int32) indices,
    as a list ``[values, indices]`` (JAX's). xform computes them exactly, as JAX does on
    CPU, so ``recall_target`` and the other tuning arguments change nothing.

    >>> import numpy as np; from xform import lax
    >>> lax.approx_max_k(np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]]), 2)
    [array([[5., 3.],
           [6., 4.]]), array([[1, 2],
           [2, 0]], dtype=int32)]
    """
    return _k_extreme(operand, k, reduction_dimension, True, "approx_max_k")


def approx_min_k(operand, k: int, reduction_dimension: int = -1, recall_target: float = 0.95,
                 reduction_input_size_override: int = -1, aggregate_to_topk: bool = True):
    """The ``k`` smallest entries along ``reduction_dimension`` and their (int32) indices,
    as in ``approx_max_k`` (exact).

    >>> import numpy as np; from xform import lax
    >>> lax.approx_min_k(np.array([3.0, 1.0, 2.0]), 2)
    [array([1., 2.]), array([1, 2], dtype=int32)]
    """
    return _k_extreme(operand, k, reduction_dimension, False, "approx_min_k")


def split(operand, sizes: Sequence[int], axis: int = 0):
    """``operand`` cut along ``axis`` into pieces of ``sizes`` (which sum to its size).

    >>> import numpy as np; from xform import lax
    >>> [p.tolist() for p in lax.split(np.arange(5), (2, 3))]
    [[0, 1], [2, 3, 4]]
    """
    a = _aval(operand, "split")
    axis = st.canonicalize_axis(axis, a.ndim, "split")
    sizes = [operator.index(s) for s in sizes]
    if sum(sizes) != a.shape[axis] or any(s < 0 for s in sizes):
        raise ValueError(f"lax.split: sizes {tuple(sizes)} must be non-negative and sum to the "
                         f"axis size {a.shape[axis]}.")
    out, start = [], 0
    for s in sizes:
        out.append(st.slice_in_dim(operand, start, start + s, 1, axis))
        start += s
    return out


def tile(operand, reps: Sequence[int]):
    """``operand`` repeated ``reps[i]`` times along each dimension (same rank).

    >>> import numpy as np; from xform import lax
    >>> lax.tile(np.array([[1, 2]]), (2, 2))
    array([[1, 2, 1, 2],
           [1, 2, 1, 2]])
    """
    a = _aval(operand, "tile")
    reps = tuple(operator.index(r) for r in reps)
    if len(reps) != a.ndim:
        raise ValueError(f"lax.tile: reps {reps} must have one entry per dimension of the "
                         f"operand (shape {a.shape}).")
    inter = tuple(x for r, s in zip(reps, a.shape) for x in (r, s))
    b = st.broadcast_in_dim(operand, inter, tuple(range(1, 2 * a.ndim, 2)))
    return st.reshape(b, tuple(r * s for r, s in zip(reps, a.shape)))


def stack(operands: Sequence, axis: int = 0):
    """The operands (one shape) stacked along a new ``axis``.

    >>> import numpy as np; from xform import lax
    >>> lax.stack([np.zeros(2), np.ones(2)], axis=1)
    array([[0., 1.],
           [0., 1.]])
    """
    if not operands:
        raise ValueError("lax.stack: need at least one operand.")
    nd = _aval(operands[0], "stack").ndim
    axis = st.canonicalize_axis(axis, nd + 1, "stack")
    return st.concatenate([st.expand_dims(o, (axis,)) for o in operands], axis)


def unstack(x, axis: int = 0) -> tuple:
    """The slices of ``x`` along ``axis``, as a tuple.

    >>> import numpy as np; from xform import lax
    >>> lax.unstack(np.arange(4).reshape(2, 2))
    (array([0, 1]), array([2, 3]))
    """
    a = _aval(x, "unstack")
    axis = st.canonicalize_axis(axis, a.ndim, "unstack")
    return tuple(st.index_in_dim(x, i, axis, keepdims=False) for i in range(a.shape[axis]))


def index_take(src, idxs, axes: Sequence[int]):
    """``src`` indexed by the integer arrays ``idxs`` on ``axes`` (one per axis): the
    result has the indices' broadcast shape followed by the other dimensions.

    >>> import numpy as np; from xform import lax
    >>> lax.index_take(np.arange(6).reshape(2, 3), (np.array([1, 0]),), (1,))
    array([[1, 4],
           [0, 3]])
    """
    return gather(src, *idxs, axes=tuple(axes))


_KNOWN_MONOIDS: dict = {}


def _monoid(computation, init, dt):
    """The specialized reduction for a known computation and its identity, or None."""
    if not _KNOWN_MONOIDS:
        _KNOWN_MONOIDS.update({
            ew.add: (red.reduce_sum if hasattr(red, "reduce_sum") else st.reduce_sum, 0),
            ew.mul: (red.reduce_prod, 1), ew.max: (red.reduce_max, None),
            ew.min: (red.reduce_min, None), ew.bitwise_and: (None, None),
            ew.bitwise_or: (None, None)})
    entry = _KNOWN_MONOIDS.get(computation)
    if entry is None or entry[0] is None:
        return None
    fn, ident = entry
    if isinstance(init, Tracer):
        return None
    iv = np.asarray(init)
    if ident is not None and iv.shape == () and iv == ident:
        return fn
    if ident is None:  # max/min: the identity is the dtype's extreme (or +-inf)
        ext = ((np.iinfo(dt).min if computation is ew.max else np.iinfo(dt).max)
               if dt.kind in "iu" else (-np.inf if computation is ew.max else np.inf))
        if iv.shape == () and iv == ext:
            return fn
    return None


def reduce(operands, init_values, computation: Callable, dimensions: Sequence[int],
           out_sharding: Any = None):
    """Reduce ``operands`` (an array or a pytree of arrays of one shape) over
    ``dimensions`` with ``computation(acc, x) -> acc`` starting from ``init_values``
    (its identity). ``lax.add``/``mul``/``max``/``min`` with their identities use the
    built-in reductions; any other computation is folded in order with a ``scan``.

    >>> import numpy as np; from xform import lax
    >>> lax.reduce(np.arange(6.0).reshape(2, 3), 0.0, lax.add, (1,))
    array([ 3., 12.])
    >>> lax.reduce(np.array([3.0, 1.0, 2.0]), 1.0, lambda a, b: a * b + 1.0, (0,))
    np.float64(11.0)
    """
    from .control_flow import scan

    ops, tree = tree_flatten(operands)
    inits, init_tree = tree_flatten(init_values)
    if tree != init_tree or not ops:
        raise TypeError("lax.reduce: operands and init_values must be pytrees of one structure "
                        "with at least one array.")
    shape = _aval(ops[0], "reduce").shape
    dims = tuple(sorted(st.canonicalize_axis(d, len(shape), "reduce") for d in dimensions))
    if len(ops) == 1:
        fn = _monoid(computation, inits[0], _aval(ops[0], "reduce").dtype)
        if fn is not None:
            return tree_unflatten(tree, [fn(ops[0], dims)])
    rest = [d for d in range(len(shape)) if d not in dims]
    n = int(np.prod([shape[d] for d in dims], dtype=np.int64))
    moved = [st.reshape(st.transpose(o, dims + tuple(rest)), (n,) + tuple(shape[d] for d in rest))
             for o in ops]
    out_shape = tuple(shape[d] for d in rest)
    acc0 = [st.full(out_shape, i, _aval(o, "reduce").dtype) if not isinstance(i, Tracer)
            else st.broadcast_to_shape(i, out_shape) for i, o in zip(inits, ops)]

    def step(acc, xs):
        r = computation(tree_unflatten(tree, acc), tree_unflatten(tree, list(xs)))
        return tree_flatten(r)[0], None

    if n == 0:
        return tree_unflatten(tree, acc0)
    acc, _ = scan(step, acc0, moved)
    return tree_unflatten(tree, acc)


def reduce_xor(operand, axes: Sequence[int]):
    """Bitwise XOR (logical XOR for booleans) over ``axes``.

    >>> import numpy as np; from xform import lax
    >>> lax.reduce_xor(np.array([[1, 2], [3, 3]]), (1,))
    array([3, 0])
    """
    dt = _aval(operand, "reduce_xor").dtype
    return reduce(operand, np.zeros((), dt)[()], ew.bitwise_xor, axes)


def optimization_barrier(operand, /):
    """``operand`` unchanged (JAX's barrier against reordering across it; xform's
    compiler does not move computations across Python-visible values anyway).

    >>> import numpy as np; from xform import lax
    >>> lax.optimization_barrier((np.ones(2), 3.0))
    (array([1., 1.]), 3.0)
    """
    return operand


def with_sharding_constraint(x, shardings):
    """``x`` unchanged: xform runs on one CPU device, so there is nothing to shard.

    >>> import numpy as np; from xform import lax
    >>> lax.with_sharding_constraint(np.ones(2), None)
    array([1., 1.])
    """
    return x


def dtype(x) -> np.dtype:
    """The dtype of an array, traced value, Python scalar (numpy's: float64, int64) or
    dtype-like.

    >>> import numpy as np; from xform import lax
    >>> lax.dtype(np.ones(2, np.float32)), lax.dtype(1.0)
    (dtype('float32'), dtype('float64'))
    """
    if isinstance(x, Tracer) or hasattr(x, "dtype"):
        return np.dtype(x.dtype)
    if isinstance(x, (bool, int, float, complex)):
        return np.result_type(type(x))
    return np.dtype(x)
