"""vmap: vectorize a function over a batch axis of its inputs."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._util import check_leaves, flatten_fun, fun_name, plain_leaves, to_output
from .core.axes import normalize_axis
from .core.pytree import broadcast_prefix, tree_flatten, tree_unflatten
from .core.trace import get_aval
from .interpreters.batching import batch_flat


def _norm_axis(ax, ndim, where, what="an argument"):
    if ax is None:
        return None
    if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
        raise TypeError(f"{where}: axes must be ints or None, got {ax!r}")
    return normalize_axis(ax, ndim, where, what=what)


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_size: int | None = None) -> Callable:
    """Vectorize ``fun`` over axis ``in_axes`` of its inputs (a pytree prefix of the
    arguments; None = not batched); outputs get the batch axis at ``out_axes``.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xform.vmap(lambda v: xnp.dot(v, v))(np.array([[1., 2.], [3., 4.]]))
    array([ 5., 25.])
    """
    name = fun_name(fun)
    where = f"vmap of {name}"
    if axis_size is not None and (isinstance(axis_size, bool) or not isinstance(
            axis_size, (int, np.integer)) or axis_size < 0):
        raise TypeError(f"{where}: axis_size must be a non-negative int or None, got "
                        f"{axis_size!r}.")

    def batched(*args, **kwargs):
        if kwargs:
            raise TypeError(
                f"{where}: called with keyword arguments {sorted(kwargs)}; vmap maps over "
                f"positional arguments only. Pass them positionally (with in_axes), or close "
                f"over unbatched values with functools.partial.")
        if isinstance(in_axes, list):
            axes_prefix = tuple(in_axes)
        else:
            axes_prefix = in_axes
        leaves, in_tree = tree_flatten(args)
        leaves = plain_leaves(leaves)
        check_leaves(leaves, where)
        if isinstance(axes_prefix, tuple) and len(axes_prefix) != len(args):
            raise ValueError(
                f"{where}: in_axes has {len(axes_prefix)} entries but the function was "
                f"called with {len(args)} positional arguments.")
        try:
            axes = broadcast_prefix(axes_prefix, args, what=f"{where} in_axes")
        except ValueError as e:
            raise ValueError(str(e)) from None
        axes = [_norm_axis(a, get_aval(x).ndim, where) for a, x in zip(axes, leaves)]
        sizes = {}
        for i, (x, a) in enumerate(zip(leaves, axes)):
            if a is not None:
                sizes.setdefault(get_aval(x).shape[a], []).append(i)
        if len(sizes) > 1:
            owner = [i for i, a in enumerate(args) for _ in tree_flatten(a)[0]]
            desc = "; ".join(
                f"argument {owner[i]} (shape {get_aval(leaves[i]).shape}, axis {axes[i]}) has "
                f"size {get_aval(leaves[i]).shape[axes[i]]}"
                for ix in sizes.values() for i in ix[:2])
            raise ValueError(
                f"{where}: the batched axes have different sizes: {desc}. All mapped axes "
                f"must have one size; use in_axes=None for arguments that are not batched.")
        if sizes:
            size = next(iter(sizes))
            if axis_size is not None and axis_size != size:
                raise ValueError(f"{where}: axis_size={axis_size} but the inputs have size {size}.")
        elif axis_size is None:
            raise ValueError(
                f"{where}: no argument is batched (all in_axes are None); pass axis_size.")
        else:
            size = axis_size
        flat, store = flatten_fun(fun, in_tree)
        outs, dims = batch_flat(flat, leaves, axes, size, name="vmap")
        out_tree = store["tree"]
        if isinstance(out_axes, list):
            o_axes = tuple(out_axes)
        else:
            o_axes = out_axes
        o_axes = broadcast_prefix(o_axes, tree_unflatten(out_tree, outs), what=f"{where} out_axes")
        results = []
        from . import lax

        for o, d, oa in zip(outs, dims, o_axes):
            if oa is None:
                if d is not None:
                    raise ValueError(
                        f"{where}: out_axes=None for an output that depends on the batched "
                        f"inputs (shape {get_aval(o).shape}).")
                results.append(to_output(o))
                continue
            if d is None:
                shape = get_aval(o).shape
                o = lax.broadcast_in_dim(o, (size,) + tuple(shape), tuple(range(1, len(shape) + 1)))
                d = 0
            oa = _norm_axis(oa, get_aval(o).ndim, where, "an output (with its batch axis)")
            if d != oa:
                o = lax.moveaxis(o, d, oa)
            results.append(to_output(o))
        return tree_unflatten(out_tree, results)

    batched.__name__ = f"vmap_{name}"
    return batched
