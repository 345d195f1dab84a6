"""``pure_callback`` and ``io_callback``: call a Python function (numpy, scipy, file or
network I/O, ...) from inside ``jit``, ``vmap`` and ``grad`` (the primitives are in
``xform/lax/callbacks.py``)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._util import fun_name, to_output
from .core.abstract import ShapedArray
from .core.pytree import tree_flatten, tree_unflatten
from .lax.callbacks import VMAP_METHODS, io_callback_flat, pure_callback_flat

__all__ = ["pure_callback", "io_callback"]


def _result_avals(result_shape_dtypes, name: str, kind: str = "pure_callback"):
    leaves, tree = tree_flatten(result_shape_dtypes)
    avals = []
    for i, r in enumerate(leaves):
        if not (hasattr(r, "shape") and hasattr(r, "dtype")):
            raise TypeError(
                f"{kind} of `{name}`: result_shape_dtypes must be a pytree of objects "
                f"with .shape and .dtype (xform.ShapeDtypeStruct(shape, dtype) or arrays); "
                f"leaf {i} is {type(r).__name__}.")
        avals.append(ShapedArray(tuple(int(d) for d in r.shape), np.dtype(r.dtype)))
    return avals, tree


def pure_callback(callback: Callable, result_shape_dtypes: Any, *args,
                  sharding: Any = None, vmap_method: str | None = None,
                  vectorized: bool | None = None, **kwargs) -> Any:
    """Call ``callback(*args, **kwargs)`` (any Python function) from inside
    transformations; it gets numpy arrays and must return arrays of the shapes and dtypes
    of ``result_shape_dtypes`` (a pytree of ``ShapeDtypeStruct`` or arrays).

    The function must be pure: a call whose results are unused may be removed, and equal
    calls merged. Under ``jit`` the compiled kernel calls back into Python at that point.
    Under ``vmap``, ``vmap_method`` says how a batch is passed: ``"sequential"`` (one
    call per element), ``"expand_dims"`` (one call; unbatched arguments get a leading
    axis of size 1), ``"broadcast_all"`` (one call; all arguments get the batch axis
    first) or ``"legacy_vectorized"`` (``vectorized=True``: batched arguments get the
    batch axis first, unbatched ones are passed as they are); without it ``vmap`` is an
    error. It has no derivative: define one with ``custom_jvp``/``custom_vjp`` (whose
    rules may call ``pure_callback`` too). ``sharding`` is accepted for JAX
    compatibility (a single CPU device).

    >>> import numpy as np, scipy.special, xform, xform.numpy as xnp
    >>> def gammaln(x):  # scipy, called from inside jit
    ...     return xform.pure_callback(scipy.special.gammaln,
    ...                                xform.ShapeDtypeStruct(x.shape, x.dtype), x,
    ...                                vmap_method="expand_dims")
    >>> xform.jit(lambda x: gammaln(x) * 2.0)(np.array([1.0, 3.0]))
    array([0.        , 1.38629436])
    """
    name = fun_name(callback)
    if not callable(callback):
        raise TypeError(f"pure_callback: callback must be callable, got {type(callback).__name__}.")
    if vectorized is not None:
        if vmap_method is not None:
            raise ValueError(f"pure_callback of `{name}`: pass vmap_method or the older "
                             f"vectorized, not both.")
        vmap_method = "legacy_vectorized" if vectorized else "sequential"
    if vmap_method is not None and vmap_method not in VMAP_METHODS:
        raise ValueError(f"pure_callback of `{name}`: vmap_method must be one of "
                         f"{', '.join(map(repr, VMAP_METHODS))} or None, got {vmap_method!r}.")
    avals, r_tree = _result_avals(result_shape_dtypes, name)
    leaves, in_tree = tree_flatten((args, kwargs))

    def flat_callback(*flat_args):
        a, k = tree_unflatten(in_tree, list(flat_args))
        out_leaves, out_tree = tree_flatten(callback(*a, **k))
        if out_tree != r_tree:
            raise TypeError(f"pure_callback of `{name}`: the callback returned a value of "
                            f"structure {out_tree}, but result_shape_dtypes has structure "
                            f"{r_tree}.")
        return out_leaves

    flat_callback.__name__ = name
    outs = pure_callback_flat(flat_callback, avals, leaves, vmap_method)
    return tree_unflatten(r_tree, [to_output(o) for o in outs])


def io_callback(callback: Callable, result_shape_dtypes: Any, *args, sharding: Any = None,
                ordered: bool = False, **kwargs) -> Any:
    """Call an *impure* Python function (``callback(*args, **kwargs)``: logging, I/O,
    random state, counters) from inside transformations; it gets numpy arrays and
    returns arrays of the shapes and dtypes of ``result_shape_dtypes`` (JAX's
    ``jax.experimental.io_callback``).

    Unlike ``pure_callback``, every call runs, in program order, also when its results
    are unused (it is never removed or merged). ``ordered=True`` asks for calls in
    program order, which xform always keeps; JAX then forbids ``vmap``, and so does
    xform. Unordered calls under ``vmap`` run once per batch element. There is no
    derivative (differentiating through it raises, as in JAX). ``sharding`` is accepted
    for compatibility (one CPU device).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> from xform.experimental import io_callback
    >>> seen = []
    >>> def record(x):
    ...     seen.append(float(x.sum()))
    ...     return np.float64(len(seen))
    >>> @xform.jit
    ... def step(x):
    ...     n = io_callback(record, xform.ShapeDtypeStruct((), np.float64), x, ordered=True)
    ...     return x * n
    >>> step(np.ones(2)), step(np.ones(2))
    (array([1., 1.]), array([2., 2.]))
    >>> seen
    [2.0, 2.0]
    """
    name = fun_name(callback)
    if not callable(callback):
        raise TypeError(f"io_callback: callback must be callable, got {type(callback).__name__}.")
    avals, r_tree = _result_avals(result_shape_dtypes, name, "io_callback")
    leaves, in_tree = tree_flatten((args, kwargs))

    def flat_callback(*flat_args):
        a, k = tree_unflatten(in_tree, list(flat_args))
        out_leaves, out_tree = tree_flatten(callback(*a, **k))
        if out_tree != r_tree:
            raise TypeError(f"io_callback of `{name}`: the callback returned a value of "
                            f"structure {out_tree}, but result_shape_dtypes has structure "
                            f"{r_tree}.")
        return out_leaves

    flat_callback.__name__ = name
    outs = io_callback_flat(flat_callback, avals, leaves, ordered)
    return tree_unflatten(r_tree, [to_output(o) for o in outs])
