"""Callbacks: Python functions (numpy, scipy, anything) called from inside
transformations, as JAX's ``pure_callback`` and ``debug.callback``.

Two primitives (multiple results), each holding a *flat* Python function (the API
layer wraps the user's function so that it takes and returns flat lists of arrays):

``pure_callback`` (operands: the arguments' leaves)
    params: ``callback`` (flat function ``*arrays -> list of arrays``), ``result_avals``
    (tuple of ``ShapedArray``: what it returns), ``vmap_method``. Pure: unused results
    are removed like any other, equal calls may be merged. It has no derivative: its JVP
    rule raises unless the tangents are zero (wrap it in ``custom_jvp``/``custom_vjp``).
    Batching follows ``vmap_method``: ``"sequential"`` (one call per batch element,
    results stacked), ``"expand_dims"`` (one call; unbatched operands get a leading axis
    of size 1), ``"broadcast_all"`` (one call; every operand has the batch axis first),
    ``"legacy_vectorized"`` (one call; batched operands have the batch axis first,
    unbatched ones are passed as they are); ``None`` is an error under ``vmap``.

``debug_callback`` (operands: the arguments' leaves; no results)
    params: ``callback`` (flat function ``*arrays -> None``). ``effectful``: kept by
    dead-code elimination and never merged or constant-folded. Under ``jvp``/``grad``
    it sees the primal values; under ``vmap`` it is called once per batch element.

``io_callback`` (operands: the arguments' leaves)
    params as ``pure_callback`` plus ``ordered``, without ``vmap_method``. Impure (JAX's
    ``jax.experimental.io_callback``): ``effectful``, so every call happens, in program
    order, even when its results are unused. No derivative (JVP raises unless the
    tangents are zero, as in JAX); under ``vmap`` an unordered one is called once per
    batch element, an ``ordered`` one is an error (as in JAX).

All impls call the function with numpy arrays; compiled (``jit``) programs call it
from the kernel (``xform/backend/numba/callbacks.py``: a Numba object-mode block).
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.transforms import bcast_batch, move_batch
from .structural import expand_dims

# Compiled kernels call back from a Numba object-mode block, which holds the GIL while it
# runs (the point: it calls Python); Numba warns about that at every compilation of a
# ``nogil`` kernel. Installed here, at ``import xform``, not with the (lazily imported)
# backend, so that it is in place before any warning capture (pytest's) starts.
warnings.filterwarnings("ignore", message=r".*won't allow parallel execution despite nogil")

pure_callback_p = Primitive("pure_callback", multiple_results=True)
debug_callback_p = Primitive("debug_callback", multiple_results=True)
debug_callback_p.effectful = True
io_callback_p = Primitive("io_callback", multiple_results=True)
io_callback_p.effectful = True

VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                "legacy_vectorized")


def _name(callback) -> str:
    return getattr(callback, "__name__", type(callback).__name__)


class Callback:
    """The Python function an equation holds, shown by its name: printed jaxprs and
    generated kernel sources (whose hash keys the disk cache) must not depend on where
    the function object happens to live in memory."""

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable, name: str | None = None):
        self.fn = fn
        self.name = name or _name(fn)

    @property
    def __name__(self) -> str:
        return self.name

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return self.name


def check_results(outs, result_avals, name: str) -> list:
    """The callback's results as numpy arrays of the declared shapes and dtypes (a
    clear error otherwise). Values of another dtype of the same kind are cast, as JAX
    does (numpy and scipy often compute float32 inputs in float64); others (complex
    for a real result, floats for an integer one) are errors."""
    if not isinstance(outs, (list, tuple)) or len(outs) != len(result_avals):
        n = len(outs) if isinstance(outs, (list, tuple)) else 1
        raise TypeError(f"pure_callback of `{name}`: the callback returned {n} arrays, but "
                        f"result_shape_dtypes declares {len(result_avals)}.")
    res = []
    for i, (o, a) in enumerate(zip(outs, result_avals)):
        if isinstance(o, (bool, int, float, complex)):
            arr = np.asarray(o, dtype=a.dtype)
        else:
            # a copy: the callback may return an array it keeps (or its argument)
            arr = np.array(o, copy=True)
            if arr.dtype != a.dtype and np.can_cast(arr.dtype, a.dtype, "same_kind"):
                arr = arr.astype(a.dtype)
            elif arr.dtype != a.dtype:
                raise TypeError(
                    f"pure_callback of `{name}`: result {i} has dtype {arr.dtype}, but "
                    f"result_shape_dtypes declares {a.dtype}; return {a.dtype} values (e.g. "
                    f"np.asarray(r, dtype={a.dtype.name!r})) or declare {arr.dtype}.")
        if arr.shape != a.shape:
            raise ValueError(
                f"pure_callback of `{name}`: result {i} has shape {arr.shape}, but "
                f"result_shape_dtypes declares {a.shape}.")
        res.append(arr)
    return res


def callback_args(args) -> list:
    """The operands as the callback sees them: numpy arrays, read-only (they may be the
    caller's arrays or a kernel's buffers)."""
    out = []
    for a in args:
        v = np.array(a) if not isinstance(a, np.ndarray) else a.view(np.ndarray)
        v.flags.writeable = False
        out.append(v)
    return out


# -- pure_callback ------------------------------------------------------------------------


def _pure_impl(*args, callback: Callable, result_avals: tuple, vmap_method):
    outs = callback(*callback_args(args))
    return check_results(outs, result_avals, _name(callback))


def _pure_abstract(*avals, callback, result_avals, vmap_method):
    return list(result_avals)


def _pure_jvp(primals, tangents, *, callback, result_avals, vmap_method):
    # Only reached with a nonzero tangent (zero tangents run the primal bind).
    raise ValueError(
        f"pure_callback of `{_name(callback)}` has no derivative: xform cannot see inside "
        f"the Python function. Wrap the function that calls pure_callback in "
        f"xform.custom_jvp or xform.custom_vjp and give its derivative (which may call "
        f"pure_callback too).")


def _sequential(callback, batched, axis_size: int, result_avals):
    """One call per batch element (batched operands sliced at axis 0), stacked."""
    def sequential(*xs):
        rows = [callback(*[x[i] if b else x for x, b in zip(xs, batched)])
                for i in range(axis_size)]
        if axis_size == 0:
            return [np.empty((0,) + a.shape, a.dtype) for a in result_avals]
        return [np.stack([np.asarray(r[k]) for r in rows]) for k in range(len(result_avals))]

    return Callback(sequential, _name(callback))


def _pure_batch(vals, dims, *, callback, result_avals, vmap_method, axis_size: int):
    name = _name(callback)
    if vmap_method is None:
        raise NotImplementedError(
            f"pure_callback of `{name}` under vmap: pass vmap_method to say how the "
            f"callback handles a batch: 'sequential' (one call per element), 'expand_dims' "
            f"(one call; unbatched arguments get a leading axis of size 1), 'broadcast_all' "
            f"(one call; every argument gets the batch axis) or 'legacy_vectorized'.")
    batched = [d is not None for d in dims]
    moved = [move_batch(v, d, 0) for v, d in zip(vals, dims)]
    out_avals = tuple(ShapedArray((axis_size,) + a.shape, a.dtype) for a in result_avals)
    if vmap_method in ("sequential", "sequential_unrolled"):
        cb = _sequential(callback, batched, axis_size, result_avals)
        args = moved
    else:
        cb = callback
        if vmap_method == "expand_dims":
            args = [m if b else expand_dims(m, (0,)) for m, b in zip(moved, batched)]
        elif vmap_method == "broadcast_all":
            args = [m if b else bcast_batch(m, axis_size) for m, b in zip(moved, batched)]
        else:  # legacy_vectorized
            args = moved
    outs = pure_callback_p.bind(*args, callback=cb, result_avals=out_avals,
                                vmap_method=vmap_method)
    return outs, [0] * len(outs)


pure_callback_p.impl = _pure_impl
pure_callback_p.abstract_eval = _pure_abstract
pure_callback_p.jvp = _pure_jvp
pure_callback_p.batch = _pure_batch
pure_callback_p.batch_needs_size = True


def pure_callback_flat(callback: Callable, result_avals, args, vmap_method=None) -> list:
    """Bind ``pure_callback`` with a flat ``callback`` (``*arrays -> list of arrays``).

    >>> import numpy as np
    >>> from xform.core.abstract import ShapedArray
    >>> pure_callback_flat(lambda x: [np.cumsum(x)], [ShapedArray((3,), np.float64)],
    ...                    [np.ones(3)])
    [array([1., 2., 3.])]
    """
    if vmap_method is not None and vmap_method not in VMAP_METHODS:
        raise ValueError(f"pure_callback of `{_name(callback)}`: vmap_method must be one of "
                         f"{', '.join(VMAP_METHODS)} or None, got {vmap_method!r}.")
    for x in args:
        get_aval(x, f"pure_callback of `{_name(callback)}`")
    return pure_callback_p.bind(*args, callback=Callback(callback),
                                result_avals=tuple(result_avals), vmap_method=vmap_method)


# -- debug_callback -----------------------------------------------------------------------


def _debug_impl(*args, callback: Callable):
    callback(*callback_args(args))
    return []


def _debug_abstract(*avals, callback):
    return []


def _debug_jvp(primals, tangents, *, callback):
    # the callback sees the primal values (tangents are not printed)
    return debug_callback_p.bind(*primals, callback=callback), []


def _debug_batch(vals, dims, *, callback, axis_size: int):
    batched = [d is not None for d in dims]
    moved = [move_batch(v, d, 0) for v, d in zip(vals, dims)]

    def per_element(*xs):
        for i in range(axis_size):
            callback(*[x[i] if b else x for x, b in zip(xs, batched)])

    return debug_callback_p.bind(*moved, callback=Callback(per_element, _name(callback))), []


debug_callback_p.impl = _debug_impl
debug_callback_p.abstract_eval = _debug_abstract
debug_callback_p.jvp = _debug_jvp
debug_callback_p.batch = _debug_batch
debug_callback_p.batch_needs_size = True


def debug_callback_flat(callback: Callable, args) -> None:
    """Bind ``debug_callback`` with a flat ``callback`` (``*arrays -> None``).

    >>> import numpy as np
    >>> debug_callback_flat(lambda x: print(x.sum()), [np.arange(4.0)])
    6.0
    """
    for x in args:
        get_aval(x, f"debug.callback of `{_name(callback)}`")
    debug_callback_p.bind(*args, callback=Callback(callback))


# -- io_callback --------------------------------------------------------------------------


def _io_impl(*args, callback: Callable, result_avals: tuple, ordered: bool):
    outs = callback(*callback_args(args))
    return check_results(outs, result_avals, _name(callback))


def _io_abstract(*avals, callback, result_avals, ordered):
    return list(result_avals)


def _io_jvp(primals, tangents, *, callback, result_avals, ordered):
    # Only reached with a nonzero tangent (zero tangents run the primal bind), as JAX's.
    raise ValueError(f"io_callback of `{_name(callback)}`: IO callbacks do not support JVP "
                     f"(xform cannot differentiate through a side-effecting Python function).")


def _io_batch(vals, dims, *, callback, result_avals, ordered, axis_size: int):
    name = _name(callback)
    if ordered:
        raise ValueError(f"io_callback of `{name}`: cannot vmap an ordered IO callback (its "
                         f"calls could not keep their order); pass ordered=False.")
    batched = [d is not None for d in dims]
    moved = [move_batch(v, d, 0) for v, d in zip(vals, dims)]
    out_avals = tuple(ShapedArray((axis_size,) + a.shape, a.dtype) for a in result_avals)
    cb = _sequential(callback, batched, axis_size, result_avals)
    outs = io_callback_p.bind(*moved, callback=cb, result_avals=out_avals, ordered=False)
    return outs, [0] * len(outs)


io_callback_p.impl = _io_impl
io_callback_p.abstract_eval = _io_abstract
io_callback_p.jvp = _io_jvp
io_callback_p.batch = _io_batch
io_callback_p.batch_needs_size = True


def io_callback_flat(callback: Callable, result_avals, args, ordered: bool = False) -> list:
    """Bind ``io_callback`` with a flat ``callback`` (``*arrays -> list of arrays``).

    >>> import numpy as np
    >>> from xform.core.abstract import ShapedArray
    >>> log = []
    >>> io_callback_flat(lambda x: log.append(x.sum()) or [x * 2],
    ...                  [ShapedArray((2,), np.float64)], [np.ones(2)])
    [array([2., 2.])]
    >>> log
    [np.float64(2.0)]
    """
    for x in args:
        get_aval(x, f"io_callback of `{_name(callback)}`")
    return io_callback_p.bind(*args, callback=Callback(callback), result_avals=tuple(result_avals),
                              ordered=bool(ordered))
