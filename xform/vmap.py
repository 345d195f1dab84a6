"""vmap: vectorize a function over a batch axis of its inputs."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._util import check_leaves, flatten_fun, fun_name, plain_leaves, to_output
from .core.axes import normalize_axis
from .core.pytree import broadcast_prefix, tree_flatten, tree_unflatten
from .core.trace import get_aval, state
from .interpreters.batching import batch_flat
from .lax.parallel import axis_env


def _norm_axis(ax, ndim, where, what="an argument"):
    if ax is None:
        return None
    if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
        raise TypeError(f"{where}: axes must be ints or None, got {ax!r}")
    return normalize_axis(ax, ndim, where, what=what)


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_name: Any = None,
         axis_size: int | None = None, spmd_axis_name: Any = None) -> Callable:
    """Vectorize ``fun`` over axis ``in_axes`` of its inputs (a pytree prefix of the
    positional arguments; None = not batched); outputs get the batch axis at
    ``out_axes``. Keyword arguments are mapped over their axis 0 (as in JAX).

    ``axis_name`` names the mapped axis for the collectives ``lax.psum``, ``pmean``,
    ``pmax``, ``pmin``, ``all_gather``, ``axis_index`` (see ``xform/lax/parallel.py`` for
    where inside ``f`` they may be used). ``spmd_axis_name`` (a sharding hint) is accepted
    and changes nothing.

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
        if isinstance(in_axes, list):
            axes_prefix = tuple(in_axes)
        else:
            axes_prefix = in_axes
        if isinstance(axes_prefix, dict):
            raise TypeError(
                f"{where}: in_axes must be an int, None, or a tuple with one entry per "
                f"positional argument, got a dict {axes_prefix!r}; for one dict argument "
                f"write in_axes=({axes_prefix!r},).")
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
        if kwargs:  # keyword arguments are mapped over their leading axis, as in JAX
            kw_leaves, kw_tree = tree_flatten(kwargs)
            kw_leaves = plain_leaves(kw_leaves)
            check_leaves(kw_leaves, where)
            n_pos = len(leaves)
            leaves = leaves + kw_leaves
            axes = list(axes) + [0] * len(kw_leaves)
        axes = [_norm_axis(a, get_aval(x).ndim, where) for a, x in zip(axes, leaves)]
        sizes = {}
        for i, (x, a) in enumerate(zip(leaves, axes)):
            if a is not None:
                sizes.setdefault(get_aval(x).shape[a], []).append(i)
        if len(sizes) > 1:
            owner = [str(i) for i, a in enumerate(args) for _ in tree_flatten(a)[0]]
            owner += [repr(k) for k, v in kwargs.items() for _ in tree_flatten(v)[0]]
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
        if kwargs:
            store: dict = {}

            def flat(*ls):
                out = fun(*tree_unflatten(in_tree, list(ls[:n_pos])),
                          **tree_unflatten(kw_tree, list(ls[n_pos:])))
                out_leaves, store["tree"] = tree_flatten(out)
                return out_leaves
        else:
            flat, store = flatten_fun(fun, in_tree)
        if axis_name is not None:
            named = flat

            def flat(*ls):
                # the batch interpreter batch_flat just pushed carries the named axis
                with axis_env(axis_name, state().stack[-1], size):
                    return named(*ls)
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


def pmap(fun: Callable, axis_name: Any = None, *, in_axes=0, out_axes=0,
         static_broadcasted_argnums: int | tuple = (), devices: Any = None, backend: Any = None,
         axis_size: int | None = None, donate_argnums: Any = (), global_arg_shapes: Any = None
         ) -> Callable:
    """JAX's ``pmap`` on one CPU: ``jit`` of ``vmap(fun, in_axes, out_axes,
    axis_name=axis_name)``, so the collectives of ``xform.lax`` (``psum``, ``pmean``,
    ...) work over ``axis_name``. Where JAX runs one element per device (and needs as
    many devices as elements), this computes all elements in one vectorized program;
    the values are the same. ``static_broadcasted_argnums`` are static (hashable, not
    mapped) as in JAX; ``devices``/``backend`` may only name the CPU; ``donate_argnums``
    is accepted.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> grads = np.array([[1.0, 2.0], [3.0, 4.0]])  # one row per "device"
    >>> xform.pmap(lambda g: lax.pmean(g, "batch"), axis_name="batch")(grads)
    array([[2., 3.],
           [2., 3.]])
    """
    from .jit import jit

    name = fun_name(fun)
    for what, val in (("devices", devices), ("backend", backend)):
        if val is not None:
            items = val if isinstance(val, (list, tuple)) else [val]
            if any(str(getattr(d, "platform", d)).lower() != "cpu" for d in items):
                raise ValueError(f"pmap of {name}: {what} must be the CPU (xform has one device), "
                                 f"got {val!r}.")
    if global_arg_shapes is not None:
        raise NotImplementedError(f"pmap of {name}: global_arg_shapes is not supported.")
    static = (static_broadcasted_argnums,) if isinstance(static_broadcasted_argnums, int) \
        else tuple(static_broadcasted_argnums)

    def mapped(*args):
        dyn_pos = [i for i in range(len(args)) if i not in static]
        axes = in_axes
        if isinstance(in_axes, (tuple, list)):
            if len(in_axes) != len(args):
                raise ValueError(f"pmap of {name}: in_axes has {len(in_axes)} entries for "
                                 f"{len(args)} arguments.")
            axes = tuple(in_axes[i] for i in dyn_pos)

        def call(*dyn):
            full = list(args)
            for i, v in zip(dyn_pos, dyn):
                full[i] = v
            return fun(*full)

        call.__name__ = name
        return vmap(call, axes, out_axes, axis_name=axis_name, axis_size=axis_size)(
            *[args[i] for i in dyn_pos])

    mapped.__name__ = f"pmap_{name}"
    return jit(mapped, static_argnums=static)
