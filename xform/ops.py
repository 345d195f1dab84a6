"""``xform.ops`` (JAX's ``jax.ops``): segment reductions, the sums, products, maxima and
minima of the rows of ``data`` grouped by an integer segment id per row (message passing in
graph networks, per-group statistics). Each is a scatter (``x.at[ids].add/...``) into an
array of ``num_segments`` rows filled with the operation's identity, so it traces,
differentiates and batches like any ``xform.numpy`` code."""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import numpy as xnp
from .numpy._indexing import at as _at

__all__ = ["segment_sum", "segment_prod", "segment_max", "segment_min"]

_MODES = {"fill_or_drop": "drop", "drop": "drop", "fill": "drop", "clip": "clip",
          "promise_in_bounds": "promise_in_bounds"}


def _mode(mode, name):
    if mode is None:
        return "drop"
    key = getattr(mode, "name", mode)  # JAX's GatherScatterMode enum or its string names
    m = _MODES.get(str(key).lower())
    if m is None:
        raise ValueError(f"{name}: mode must be one of 'drop', 'clip', 'promise_in_bounds' "
                         f"(or JAX's GatherScatterMode), got {mode!r}")
    return m


def _identity(op: str, dtype: np.dtype):
    if op == "add":
        return 0
    if op == "multiply":
        return 1
    if dtype == np.bool_:
        return op == "min"
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if op == "max" else info.max
    return -np.inf if op == "max" else np.inf


def _segment(name, op, data, segment_ids, num_segments, bucket_size, mode):
    data = xnp.asarray(data)
    ids = xnp.asarray(segment_ids)
    if ids.ndim != 1 or data.ndim < 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"{name}: segment_ids must be a 1-d integer array with one id per row "
                         f"of data (data.shape[0]); got data of shape {data.shape} and "
                         f"segment_ids of shape {ids.shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name}: segment_ids must be integers, got dtype {ids.dtype}")
    if num_segments is None:
        try:
            num_segments = int(np.max(np.asarray(ids))) + 1 if ids.shape[0] else 0
        except Exception:  # a traced ids array has no concrete maximum
            raise TypeError(f"{name}: num_segments must be given (a static int) when "
                            f"segment_ids is traced, e.g. inside jit or vmap") from None
    num_segments = operator.index(num_segments)
    if num_segments < 0:
        raise ValueError(f"{name}: num_segments must be non-negative, got {num_segments}")
    m = _mode(mode, name)
    if m == "drop":
        # JAX does not wrap negative ids: they are out of range, hence dropped
        ids = xnp.where(ids < 0, num_segments, ids)
    fill = _identity(op, np.dtype(data.dtype))
    if bucket_size is None:
        out = xnp.full((num_segments,) + tuple(data.shape[1:]), fill, dtype=data.dtype)
        return getattr(_at(out)[ids], op)(data, mode=m)
    # partial results per bucket of rows, then combined (JAX's bucketing, for accuracy)
    bucket_size = operator.index(bucket_size)
    n = ids.shape[0]
    nb = -(-n // bucket_size)
    out = xnp.full((nb, num_segments) + tuple(data.shape[1:]), fill, dtype=data.dtype)
    out = getattr(_at(out)[xnp.arange(n) // bucket_size, ids], op)(data, mode=m)
    reduce = {"add": xnp.sum, "multiply": xnp.prod, "max": xnp.max, "min": xnp.min}[op]
    return reduce(out, axis=0).astype(data.dtype)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: Any = None) -> Any:
    """Sum of the rows of ``data`` in each segment: ``out[k] = sum(data[segment_ids == k])``.

    ``num_segments`` (static; by default ``max(segment_ids) + 1``, which needs concrete ids)
    is the number of output rows; ids outside ``[0, num_segments)`` are dropped (``mode``
    'clip' clamps them instead). ``indices_are_sorted`` and ``unique_indices`` are accepted
    hints; ``bucket_size`` sums buckets of that many rows separately first.

    >>> import numpy as np, xform
    >>> xform.ops.segment_sum(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 2, 2]), 3)
    array([3., 0., 7.])
    """
    return _segment("segment_sum", "add", data, segment_ids, num_segments, bucket_size, mode)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 indices_are_sorted: bool = False, unique_indices: bool = False,
                 bucket_size: int | None = None, mode: Any = None) -> Any:
    """Product of the rows of ``data`` in each segment (1 for empty segments); arguments as
    in ``segment_sum``.

    >>> import numpy as np, xform
    >>> xform.ops.segment_prod(np.array([2.0, 3.0, 4.0]), np.array([1, 1, 0]), 3)
    array([4., 6., 1.])
    """
    return _segment("segment_prod", "multiply", data, segment_ids, num_segments, bucket_size,
                    mode)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: Any = None) -> Any:
    """Maximum of the rows of ``data`` in each segment (``-inf``, or the dtype's minimum
    for integers, for empty segments); arguments as in ``segment_sum``.

    >>> import numpy as np, xform
    >>> xform.ops.segment_max(np.array([2.0, 3.0, 1.0]), np.array([0, 0, 2]), 3)
    array([  3., -inf,   1.])
    """
    return _segment("segment_max", "max", data, segment_ids, num_segments, bucket_size, mode)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: Any = None) -> Any:
    """Minimum of the rows of ``data`` in each segment (``inf``, or the dtype's maximum
    for integers, for empty segments); arguments as in ``segment_sum``.

    >>> import numpy as np, xform
    >>> xform.ops.segment_min(np.array([2.0, 3.0, 1.0]), np.array([0, 0, 2]), 3)
    array([ 2., inf,  1.])
    """
    return _segment("segment_min", "min", data, segment_ids, num_segments, bucket_size, mode)
