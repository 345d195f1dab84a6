"""Windowed reductions (pooling): ``reduce_window`` (JAX's ``lax.reduce_window``), the
monoid primitives ``reduce_window_sum/max/min`` and the max-pool derivative primitives
``select_and_gather_add`` / ``select_and_scatter_add``, each with all of its rules.

Window semantics (XLA's ReduceWindow, as in JAX): the operand is dilated by
``base_dilation`` (holes between elements) and padded by ``padding`` (negative values
crop); holes and padding hold the reduction's initial value. Output element ``o``
reduces the elements at ``o * window_strides + k * window_dilation`` for every offset
``k`` of the window (``window_dimensions``), starting from the initial value.

Derivatives: ``reduce_window_sum`` is linear (its transpose is a ``reduce_window_sum``
of the interior-padded cotangent); the tangent of a max (min) pool is the tangent at
the *first* maximum (minimum) of each window (``select_and_gather_add``), and its
transpose scatters each cotangent to that position (``select_and_scatter_add``), as
JAX does. A general computation is differentiated through its unrolled fold (one
application of the computation per window offset, on strided slices).
"""
from __future__ import annotations

import builtins
import operator
from typing import Callable, Sequence

import numpy as np

from ..core.abstract import ShapedArray
from ..core.ir import ClosedJaxpr
from ..core.primitive import Primitive
from ..core.trace import Tracer, get_aval
from ..interpreters.jvp import Zero, deflinear, jvp_flat
from ..interpreters.transforms import batch_jaxpr, run
from ..interpreters.transpose import is_undefined
from . import elementwise as ew
from .convolution import _dilate_shape, _vjp_lhs_padding, padtype_to_pads
from .structural import broadcast_in_dim, checked_impl, moveaxis, pad, reshape, shape_of, slice

__all__ = [
    "reduce_window", "reduce_window_sum", "reduce_window_max", "reduce_window_min",
    "reduce_window_shape_tuple", "select_and_gather_add", "select_and_scatter_add",
    "reduce_window_p", "reduce_window_sum_p", "reduce_window_max_p", "reduce_window_min_p",
    "select_and_gather_add_p", "select_and_scatter_add_p",
]

_pyslice = builtins.slice
_WINDOW = ("window_dimensions", "window_strides", "padding", "base_dilation", "window_dilation")


# -- shapes ----------------------------------------------------------------------------------


def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None) -> tuple:
    """The output shape of a windowed reduction (explicit ``(low, high)`` padding pairs).

    >>> reduce_window_shape_tuple((8, 9), (2, 3), (2, 3), ((0, 0), (0, 0)))
    (4, 3)
    """
    shape = tuple(int(d) for d in operand_shape)
    if base_dilation is not None:
        shape = _dilate_shape(shape, base_dilation)
    window = tuple(int(w) for w in window_dimensions)
    if window_dilation is not None:
        window = _dilate_shape(window, window_dilation)
    padded = [d + int(lo) + int(hi) for d, (lo, hi) in zip(shape, padding)]
    return tuple((p - w) // int(s) + 1 if p >= w else 0
                 for p, w, s in zip(padded, window, window_strides))


def _window_shape(name, aval, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    n = aval.ndim
    for what, v in (("window_dimensions", window_dimensions), ("window_strides", window_strides),
                    ("padding", padding), ("base_dilation", base_dilation),
                    ("window_dilation", window_dilation)):
        if len(v) != n:
            raise ValueError(f"{name}: {what}={tuple(v)} needs one entry per dimension of the "
                             f"operand {aval.str_short()} ({n})")
    for what, v, low in (("window_dimensions", window_dimensions, 0),
                         ("window_strides", window_strides, 1),
                         ("base_dilation", base_dilation, 1), ("window_dilation", window_dilation, 1)):
        if any(int(e) < low for e in v):
            raise ValueError(f"{name}: {what} must be >= {low}, got {tuple(v)}")
    dil = _dilate_shape(aval.shape, base_dilation)
    if any(d + lo + hi < 0 for d, (lo, hi) in zip(dil, padding)):
        raise ValueError(f"{name}: padding {tuple(padding)} crops more than the (dilated) "
                         f"operand shape {dil}")
    return reduce_window_shape_tuple(aval.shape, window_dimensions, window_strides, padding,
                                     base_dilation, window_dilation)


# -- numpy helpers -----------------------------------------------------------------------------


def _pad_dilate(x, fill, padding, dilation):
    """x with ``dilation - 1`` ``fill`` values between elements, then padded with ``fill``
    (negative padding crops)."""
    if all(d == 1 for d in dilation) and all(lo == 0 and hi == 0 for lo, hi in padding):
        return x
    dil = _dilate_shape(x.shape, dilation)
    big = tuple(n + max(lo, 0) + max(hi, 0) for n, (lo, hi) in zip(dil, padding))
    out = np.full(big, fill, dtype=x.dtype)
    out[tuple(_pyslice(max(lo, 0), max(lo, 0) + n, d)
              for n, d, (lo, _) in zip(dil, dilation, padding))] = x
    return out[tuple(_pyslice(max(-lo, 0), b - max(-hi, 0))
                     for b, (lo, hi) in zip(big, padding))]


def _window_view(xp, window_dimensions, window_strides, window_dilation, out_shape):
    """(*out_shape, *window_dimensions) view: element (o, k) is xp[o * stride + k * dil]."""
    span = _dilate_shape(window_dimensions, window_dilation)
    v = np.lib.stride_tricks.sliding_window_view(xp, span)
    sel = tuple(_pyslice(0, (o - 1) * s + 1 if o else 0, s)
                for o, s in zip(out_shape, window_strides))
    sel += tuple(_pyslice(None, None, d) for d in window_dilation)
    return v[sel]


def _windows_flat(x, fill, out_shape, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    """(*out_shape, window size) array of the windows of x (None when there are none)."""
    if 0 in out_shape or 0 in window_dimensions:
        return None
    xp = _pad_dilate(np.asarray(x), fill, padding, base_dilation)
    v = _window_view(xp, window_dimensions, window_strides, window_dilation, out_shape)
    return v.reshape(tuple(out_shape) + (-1,))


def _identity(dtype, which: str):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.bool_(which == "min")
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return dt.type(info.min if which == "max" else info.max)
    return dt.type(-np.inf if which == "max" else np.inf)


def _params(kw):
    return {k: kw[k] for k in _WINDOW}


# -- the monoid primitives ----------------------------------------------------------------------


def _monoid_batch(prim):
    """vmap: the batch axis gets a window of 1."""

    def rule(vals, dims, **kw):
        (x,), (d,) = vals, dims
        return prim.bind(x, **_insert_unit_window(kw, d)), d

    return rule


def _insert_unit_window(kw, d):
    p = dict(kw)
    for k, v in (("window_dimensions", 1), ("window_strides", 1), ("padding", (0, 0)),
                 ("base_dilation", 1), ("window_dilation", 1)):
        t = list(kw[k])
        t.insert(d, v)
        p[k] = tuple(t)
    return p


def _monoid(name, kinds, which):
    p = Primitive(name)

    def abstract(x, **kw):
        if x.dtype.kind not in kinds:
            raise TypeError(f"{name}: operand {x.str_short()} has an unsupported dtype")
        return ShapedArray(_window_shape(name, x, **kw), x.dtype, x.weak_type)

    def impl(x, **kw):
        x = np.asarray(x)
        out_shape = abstract(ShapedArray(x.shape, x.dtype), **kw).shape
        fill = x.dtype.type(0) if which == "sum" else _identity(x.dtype, which)
        w = _windows_flat(x, fill, out_shape, **kw)
        if w is None:
            return np.full(out_shape, fill, x.dtype)
        if which == "sum":
            return np.asarray(np.sum(w, axis=-1, dtype=x.dtype))
        return np.asarray((np.max if which == "max" else np.min)(w, axis=-1))

    p.impl = checked_impl(p, impl)
    p.abstract_eval = abstract
    p.batch = _monoid_batch(p)
    return p


reduce_window_sum_p = _monoid("reduce_window_sum", "iufc", "sum")
reduce_window_max_p = _monoid("reduce_window_max", "biuf", "max")
reduce_window_min_p = _monoid("reduce_window_min", "biuf", "min")


def _sum_transpose(ct, x, **kw):
    if type(ct) is Zero:
        return [Zero(x.aval)]
    in_shape = x.aval.shape
    n = len(in_shape)
    pads = _vjp_lhs_padding(in_shape, kw["window_dimensions"], kw["window_strides"],
                            shape_of(ct), kw["padding"], kw["base_dilation"], kw["window_dilation"])
    config = tuple((lo, hi, s - 1) for (lo, hi), s in zip(pads, kw["window_strides"]))
    padded = pad(ct, np.zeros((), get_aval(ct).dtype), config)
    out = reduce_window_sum_p.bind(
        padded, window_dimensions=kw["window_dimensions"], window_strides=kw["base_dilation"],
        padding=((0, 0),) * n, base_dilation=(1,) * n, window_dilation=kw["window_dilation"])
    assert shape_of(out) == in_shape, (shape_of(out), in_shape)
    return [out]


deflinear(reduce_window_sum_p, _sum_transpose)


def _chooser_jvp(prim, select_prim):
    def jvp(primals, tangents, **kw):
        (x,), (t,) = primals, tangents
        ans = prim.bind(x, **kw)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, select_and_gather_add_p.bind(t, x, select_prim=select_prim, **kw)

    return jvp


# -- select_and_gather_add / select_and_scatter_add --------------------------------------------


def _first_selected(x, select_prim, out_shape, kw):
    """Index in the window of the first maximum (``ge``) / minimum (``le``) of each
    window of x (NaN counts as the extreme, as numpy's argmax), or None if no windows."""
    which = "max" if select_prim is ew.ge_p else "min"
    w = _windows_flat(x, _identity(np.asarray(x).dtype, which), out_shape, **kw)
    if w is None:
        return None
    return (np.argmax if which == "max" else np.argmin)(w, axis=-1)


def _check_select(name, select_prim):
    if select_prim is not ew.ge_p and select_prim is not ew.le_p:
        raise ValueError(f"{name}: select_prim must be lax.ge_p (max) or lax.le_p (min), got "
                         f"{select_prim}")


select_and_gather_add_p = Primitive("select_and_gather_add")


def _sga_abstract(t, x, *, select_prim, **kw):
    name = "select_and_gather_add"
    _check_select(name, select_prim)
    if t.shape != x.shape:
        raise ValueError(f"{name}: tangents {t.str_short()} and operand {x.str_short()} need "
                         f"the same shape")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name}: operand {x.str_short()} has no ordering")
    return ShapedArray(_window_shape(name, x, **kw), t.dtype, t.weak_type)


def _sga_impl(t, x, *, select_prim, **kw):
    t, x = np.asarray(t), np.asarray(x)
    out_shape = _window_shape("select_and_gather_add", ShapedArray(x.shape, x.dtype), **kw)
    idx = _first_selected(x, select_prim, out_shape, kw)
    if idx is None:
        return np.zeros(out_shape, t.dtype)
    tw = _windows_flat(t, t.dtype.type(0), out_shape, **kw)
    return np.take_along_axis(tw, idx[..., None], axis=-1)[..., 0]


def _sga_transpose(ct, t, x, *, select_prim, **kw):
    if is_undefined(x):
        raise ValueError("select_and_gather_add: not linear in its operand")
    if type(ct) is Zero:
        return [Zero(t.aval), None]
    return [select_and_scatter_add_p.bind(ct, x, select_prim=select_prim, **kw), None]


def _pair_batch(prim):
    """vmap of a (linear value, operand) window primitive: both batched at 0 and a unit
    window for the batch axis."""

    def rule(vals, dims, **kw):
        (v, x), (vd, xd) = vals, dims
        size = shape_of(v)[vd] if vd is not None else shape_of(x)[xd]
        v = _batched_front(v, vd, size)
        x = _batched_front(x, xd, size)
        return prim.bind(v, x, **_insert_unit_window(kw, 0)), 0

    return rule


def _batched_front(v, d, size):
    if d is None:
        s = shape_of(v)
        return broadcast_in_dim(v, (size,) + tuple(s), tuple(range(1, len(s) + 1)))
    return moveaxis(v, d, 0) if d != 0 else v


select_and_gather_add_p.impl = checked_impl(select_and_gather_add_p, _sga_impl)
select_and_gather_add_p.abstract_eval = _sga_abstract
select_and_gather_add_p.jvp = lambda primals, tangents, **kw: (
    select_and_gather_add_p.bind(*primals, **kw),
    Zero.like(select_and_gather_add_p.bind(*primals, **kw)) if type(tangents[0]) is Zero
    else select_and_gather_add_p.bind(tangents[0], primals[1], **kw))
select_and_gather_add_p.transpose = _sga_transpose
select_and_gather_add_p.batch = _pair_batch(select_and_gather_add_p)

select_and_scatter_add_p = Primitive("select_and_scatter_add")


def _ssa_abstract(s, x, *, select_prim, **kw):
    name = "select_and_scatter_add"
    _check_select(name, select_prim)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name}: operand {x.str_short()} has no ordering")
    out = _window_shape(name, x, **kw)
    if tuple(s.shape) != tuple(out):
        raise ValueError(f"{name}: source {s.str_short()} must have the window output shape "
                         f"{tuple(out)} of operand {x.str_short()}")
    return ShapedArray(x.shape, s.dtype, s.weak_type)


def _ssa_impl(s, x, *, select_prim, **kw):
    s, x = np.asarray(s), np.asarray(x)
    out_shape = _window_shape("select_and_scatter_add", ShapedArray(x.shape, x.dtype), **kw)
    res = np.zeros(x.shape, s.dtype)
    idx = _first_selected(x, select_prim, out_shape, kw)
    if idx is None:
        return res
    wd, ws, wdl = kw["window_dimensions"], kw["window_strides"], kw["window_dilation"]
    bd, padding = kw["base_dilation"], kw["padding"]
    k = np.unravel_index(idx, wd)  # window offsets of the selected elements, per dim
    o = np.indices(out_shape)
    # position in the padded, dilated operand, then back to the operand's coordinates
    valid = np.ones(out_shape, bool)
    coords = []
    for d in range(x.ndim):
        pos = o[d] * ws[d] + k[d] * wdl[d] - padding[d][0]
        valid &= (pos >= 0) & (pos % bd[d] == 0) & (pos // bd[d] < x.shape[d])
        coords.append(pos // bd[d])
    np.add.at(res, tuple(c[valid] for c in coords), s[valid])
    return res


def _ssa_transpose(ct, s, x, *, select_prim, **kw):
    if is_undefined(x):
        raise ValueError("select_and_scatter_add: not linear in its operand")
    if type(ct) is Zero:
        return [Zero(s.aval), None]
    return [select_and_gather_add_p.bind(ct, x, select_prim=select_prim, **kw), None]


select_and_scatter_add_p.impl = checked_impl(select_and_scatter_add_p, _ssa_impl)
select_and_scatter_add_p.abstract_eval = _ssa_abstract
select_and_scatter_add_p.jvp = lambda primals, tangents, **kw: (
    select_and_scatter_add_p.bind(*primals, **kw),
    Zero.like(select_and_scatter_add_p.bind(*primals, **kw)) if type(tangents[0]) is Zero
    else select_and_scatter_add_p.bind(tangents[0], primals[1], **kw))
select_and_scatter_add_p.transpose = _ssa_transpose
select_and_scatter_add_p.batch = _pair_batch(select_and_scatter_add_p)

reduce_window_max_p.jvp = _chooser_jvp(reduce_window_max_p, ew.ge_p)
reduce_window_min_p.jvp = _chooser_jvp(reduce_window_min_p, ew.le_p)


# -- the general reduce_window ----------------------------------------------------------------

reduce_window_p = Primitive("reduce_window", multiple_results=True)


def _rw_abstract(*args, jaxpr, **kw):
    n = len(args) // 2
    operands, inits = args[:n], args[n:]
    name = "reduce_window"
    if len(args) != 2 * n or n == 0:
        raise ValueError(f"{name}: needs as many initial values as operands, got {len(args)} "
                         f"arguments")
    shape = operands[0].shape
    for x, i in zip(operands, inits):
        if x.shape != shape:
            raise ValueError(f"{name}: operands must have the same shape, got "
                             f"{', '.join(o.str_short() for o in operands)}")
        if i.ndim != 0 or i.dtype != x.dtype:
            raise TypeError(f"{name}: initial value {i.str_short()} must be a scalar of the "
                            f"operand's dtype ({x.str_short()})")
    sig = [ShapedArray((), a.dtype) for a in operands]
    jin = [ShapedArray(a.shape, a.dtype) for a in jaxpr.in_avals]
    jout = [ShapedArray(a.shape, a.dtype) for a in jaxpr.out_avals]
    if [(a.shape, a.dtype) for a in jin] != [(a.shape, a.dtype) for a in sig + sig] or \
            [(a.shape, a.dtype) for a in jout] != [(a.shape, a.dtype) for a in sig]:
        raise TypeError(f"{name}: the computation must map two tuples of scalars "
                        f"({', '.join(a.str_short() for a in sig)}) to one, got "
                        f"{[a.str_short() for a in jaxpr.in_avals]} -> "
                        f"{[a.str_short() for a in jaxpr.out_avals]}")
    out = _window_shape(name, operands[0], **kw)
    return [ShapedArray(out, x.dtype, x.weak_type) for x in operands]


def _apply_elementwise(jaxpr: ClosedJaxpr, args, shape):
    """The scalar computation ``jaxpr`` applied elementwise to arrays of ``shape``
    (traceable: its vmap over the flattened elements)."""
    size = int(np.prod(shape, dtype=np.int64))
    flat = [reshape(a, (size,)) for a in args]
    batched, _ = batch_jaxpr(jaxpr, (0,) * len(args), size, (True,) * len(jaxpr.out_avals))
    return [reshape(o, tuple(shape)) for o in run(batched, *flat)]


def _valid_windows(shape, out_shape, kw):
    """(*out_shape, window size) booleans: which window elements are operand elements
    (padding and dilation holes are skipped, as XLA does)."""
    real = np.ones(shape, bool)
    return _windows_flat(real, False, out_shape, **kw)


def _rw_fold(operands, inits, jaxpr, out_shape, **kw):
    """The reduction as lax operations: padded, dilated operands, one strided slice per
    window offset, folded with the computation where the slice holds operand elements
    (differentiable like the computation)."""
    if 0 in out_shape or 0 in kw["window_dimensions"]:
        return [broadcast_in_dim(i, tuple(out_shape), ()) for i in inits]
    config = tuple((lo, hi, d - 1) for (lo, hi), d in zip(kw["padding"], kw["base_dilation"]))
    padded = [pad(x, i, config) for x, i in zip(operands, inits)]
    acc = [broadcast_in_dim(i, tuple(out_shape), ()) for i in inits]
    valid = _valid_windows(shape_of(operands[0]), out_shape, kw)
    strides = tuple(kw["window_strides"])
    for j, k in enumerate(np.ndindex(*kw["window_dimensions"])):
        mask = valid[..., j]
        if not mask.any():
            continue
        start = tuple(int(kk) * d for kk, d in zip(k, kw["window_dilation"]))
        limit = tuple(s + (o - 1) * st + 1 for s, o, st in zip(start, out_shape, strides))
        elems = [slice(p, start, limit, strides) for p in padded]
        new = _apply_elementwise(jaxpr, acc + elems, out_shape)
        acc = new if mask.all() else [ew.select(mask, a, b) for a, b in zip(new, acc)]
    return acc


def _rw_impl(*args, jaxpr, **kw):
    n = len(args) // 2
    operands = [np.asarray(a) for a in args[:n]]
    inits = [np.asarray(a) for a in args[n:]]
    out_shape = _window_shape("reduce_window", ShapedArray(operands[0].shape, operands[0].dtype), **kw)
    if 0 in out_shape or 0 in kw["window_dimensions"]:
        return [np.full(out_shape, i, x.dtype) for x, i in zip(operands, inits)]
    size = int(np.prod(out_shape, dtype=np.int64))
    batched, _ = batch_jaxpr(jaxpr, (0,) * (2 * n), size, (True,) * n)
    wins = [_windows_flat(x, i[()], out_shape, **kw).reshape(size, -1)
            for x, i in zip(operands, inits)]
    valid = _valid_windows(operands[0].shape, out_shape, kw).reshape(size, -1)
    acc = [np.full((size,), i, x.dtype) for x, i in zip(operands, inits)]
    for k in range(wins[0].shape[1]):
        m = valid[:, k]
        if not m.any():
            continue
        new = run(batched, *acc, *[w[:, k] for w in wins])
        acc = [np.where(m, np.asarray(a, x.dtype), old) for a, old, x in zip(new, acc, operands)]
    return [a.reshape(out_shape) for a in acc]


def _rw_jvp(primals, tangents, *, jaxpr, **kw):
    n = len(primals) // 2
    out_shape = _window_shape("reduce_window", get_aval(primals[0]), **kw)
    outs = reduce_window_p.bind(*primals, jaxpr=jaxpr, **kw)
    if all(type(t) is Zero for t in tangents):
        return outs, [Zero.like(o) for o in outs]

    def fold(*args):
        return _rw_fold(list(args[:n]), list(args[n:]), jaxpr, out_shape, **kw)

    _, touts = jvp_flat(fold, list(primals), list(tangents), name="reduce_window_jvp")
    return outs, touts


def _rw_batch(vals, dims, *, jaxpr, **kw):
    n = len(vals) // 2
    if any(d is not None for d in dims[n:]):
        raise NotImplementedError("reduce_window: vmap over the initial values is not supported "
                                  "(as in JAX); close over them or pass them unbatched")
    size = next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)
    operands = [_batched_front(v, d, size) for v, d in zip(vals[:n], dims[:n])]
    outs = reduce_window_p.bind(*operands, *vals[n:], jaxpr=jaxpr, **_insert_unit_window(kw, 0))
    return outs, [0] * n


reduce_window_p.impl = _rw_impl
reduce_window_p.abstract_eval = _rw_abstract
reduce_window_p.jvp = _rw_jvp
reduce_window_p.batch = _rw_batch


# -- user-facing functions -------------------------------------------------------------------


def _canon_window(name, shape, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    n = len(shape)

    def ints(what, v, default):
        if v is None:
            return (default,) * n
        try:
            t = tuple(operator.index(e) for e in v)
        except TypeError:
            raise TypeError(f"{name}: {what} must be a sequence of ints, got {v!r}") from None
        if len(t) != n:
            raise ValueError(f"{name}: {what}={t} needs one entry per operand dimension ({n}; "
                             f"operand shape {tuple(shape)})")
        return t

    wd = ints("window_dimensions", window_dimensions, 1)
    ws = ints("window_strides", window_strides, 1)
    if isinstance(padding, str):
        pads = tuple(tuple(p) for p in padtype_to_pads(shape, wd, ws, padding))
    else:
        try:
            pads = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: padding must be 'SAME', 'SAME_LOWER', 'VALID' or a "
                             f"sequence of (low, high) pairs, got {padding!r}") from None
        if len(pads) != n:
            raise ValueError(f"{name}: padding needs one (low, high) pair per operand dimension "
                             f"({n}), got {len(pads)}")
    return dict(window_dimensions=wd, window_strides=ws, padding=pads,
                base_dilation=ints("base_dilation", base_dilation, 1),
                window_dilation=ints("window_dilation", window_dilation, 1))


def reduce_window_sum(operand, window_dimensions: Sequence[int], window_strides: Sequence[int],
                      padding, base_dilation=None, window_dilation=None):
    """Sum over sliding windows (sum pooling; padding counts as 0).

    >>> import numpy as np
    >>> reduce_window_sum(np.arange(6.0), (2,), (2,), "VALID")
    array([1., 5., 9.])
    """
    kw = _canon_window("reduce_window_sum", shape_of(operand), window_dimensions,
                       window_strides, padding, base_dilation, window_dilation)
    return reduce_window_sum_p.bind(operand, **kw)


def reduce_window_max(operand, window_dimensions: Sequence[int], window_strides: Sequence[int],
                      padding, base_dilation=None, window_dilation=None):
    """Maximum over sliding windows (max pooling; padding counts as -inf). Its gradient
    goes to the first maximum of each window.

    >>> import numpy as np
    >>> reduce_window_max(np.array([[1., 5.], [7., 2.]]), (1, 2), (1, 1), "VALID")
    array([[5.],
           [7.]])
    """
    kw = _canon_window("reduce_window_max", shape_of(operand), window_dimensions,
                       window_strides, padding, base_dilation, window_dilation)
    return reduce_window_max_p.bind(operand, **kw)


def reduce_window_min(operand, window_dimensions: Sequence[int], window_strides: Sequence[int],
                      padding, base_dilation=None, window_dilation=None):
    """Minimum over sliding windows (padding counts as +inf).

    >>> import numpy as np
    >>> reduce_window_min(np.array([3., 1., 2., 0.]), (2,), (1,), "SAME")
    array([1., 1., 0., 0.])
    """
    kw = _canon_window("reduce_window_min", shape_of(operand), window_dimensions,
                       window_strides, padding, base_dilation, window_dilation)
    return reduce_window_min_p.bind(operand, **kw)


def select_and_gather_add(tangents, operand, select_prim, window_dimensions, window_strides,
                          padding, base_dilation=None, window_dilation=None):
    """For each window of ``operand``, the element of ``tangents`` at the position of the
    window's first maximum (``select_prim=lax.ge_p``) or minimum (``lax.le_p``): the JVP
    of max/min pooling.

    >>> import numpy as np
    >>> from xform import lax
    >>> select_and_gather_add(np.array([10., 20., 30., 40.]), np.array([1., 3., 2., 0.]),
    ...                       lax.ge_p, (2,), (2,), "VALID")
    array([20., 30.])
    """
    kw = _canon_window("select_and_gather_add", shape_of(operand), window_dimensions,
                       window_strides, padding, base_dilation, window_dilation)
    tangents = as_dtype_like(tangents, operand)
    return select_and_gather_add_p.bind(tangents, operand, select_prim=select_prim, **kw)


def select_and_scatter_add(source, operand, select_prim, window_dimensions, window_strides,
                           padding, base_dilation=None, window_dilation=None):
    """Add each element of ``source`` (one per window) at the position of its window's
    first maximum (``lax.ge_p``) or minimum (``lax.le_p``) in ``operand``: the gradient of
    max/min pooling (XLA's SelectAndScatter with addition).

    >>> import numpy as np
    >>> from xform import lax
    >>> select_and_scatter_add(np.array([1., 2.]), np.array([1., 3., 2., 0.]), lax.ge_p,
    ...                        (2,), (2,), "VALID")
    array([0., 1., 2., 0.])
    """
    kw = _canon_window("select_and_scatter_add", shape_of(operand), window_dimensions,
                       window_strides, padding, base_dilation, window_dilation)
    return select_and_scatter_add_p.bind(source, operand, select_prim=select_prim, **kw)


def as_dtype_like(x, like):
    if not isinstance(x, Tracer) and not isinstance(x, np.ndarray):
        return np.asarray(x, dtype=get_aval(like).dtype)
    return x


def _is_identity(init, which: str) -> bool:
    if isinstance(init, Tracer):
        return False
    v = np.asarray(init)
    if v.shape != ():
        return False
    if which == "add":
        return bool(v == 0)
    return bool(v == _identity(v.dtype, which))


def reduce_window(operand, init_value, computation: Callable, window_dimensions: Sequence[int],
                  window_strides: Sequence[int], padding, base_dilation=None,
                  window_dilation=None):
    """Reduce sliding windows of ``operand`` with ``computation`` (JAX's
    ``lax.reduce_window``): ``lax.add``/``lax.max``/``lax.min`` with their identity as
    ``init_value`` become sum/max/min pooling; any other binary function of scalars (or
    of tuples of scalars, for a pytree of operands with matching ``init_value``) is
    folded over each window starting from ``init_value`` (padding and dilation holes are
    skipped, as in XLA).

    >>> import numpy as np
    >>> from xform import lax
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> reduce_window(x, -np.inf, lax.max, (2, 2), (2, 2), "VALID")
    array([[ 5.,  7.],
           [13., 15.]])
    >>> reduce_window(np.array([1., 2., 3., 4.]), 1.0, lax.mul, (2,), (1,), "VALID")
    array([ 2.,  6., 12.])
    """
    from ..core.pytree import tree_flatten, tree_unflatten
    from .control_flow.common import trace_fun

    flat_ops, tree = tree_flatten(operand)
    flat_init, init_tree = tree_flatten(init_value)
    if tree != init_tree:
        raise ValueError(f"reduce_window: operand and init_value must have the same structure, "
                         f"got {tree} and {init_tree}")
    if not flat_ops:
        raise ValueError("reduce_window: needs at least one operand")
    kw = _canon_window("reduce_window", shape_of(flat_ops[0]), window_dimensions, window_strides,
                       padding, base_dilation, window_dilation)
    if len(flat_ops) == 1:
        for fn, prim, which in ((ew.add, reduce_window_sum_p, "add"),
                                (ew.max, reduce_window_max_p, "max"),
                                (ew.min, reduce_window_min_p, "min")):
            if computation is fn and _is_identity(flat_init[0], which):
                return tree_unflatten(tree, [prim.bind(flat_ops[0], **kw)])
    flat_init = [_init_as(i, x) for i, x in zip(flat_init, flat_ops)]
    avals = [ShapedArray((), get_aval(x).dtype) for x in flat_ops]
    closed, consts, out_tree = trace_fun(
        lambda a, b: computation(a, b), _pair_tree(tree), avals + avals, "reduce_window")
    if consts:
        raise ValueError("reduce_window: the computation closes over traced values; pass "
                         "them as operands instead")
    if out_tree != tree:
        raise ValueError(f"reduce_window: the computation must return the structure of the "
                         f"operands ({tree}), got {out_tree}")
    closed = _cast_outputs(closed, avals)
    outs = reduce_window_p.bind(*flat_ops, *flat_init, jaxpr=closed, **kw)
    return tree_unflatten(tree, outs)


def _pair_tree(tree):
    """The tree of the computation's arguments ``(a, b)``, each shaped like the operands."""
    from ..core.pytree import tree_flatten, tree_unflatten

    n = tree.num_leaves
    return tree_flatten((tree_unflatten(tree, list(range(n))), tree_unflatten(tree, list(range(n)))))[1]


def _init_as(init, x):
    dt = get_aval(x).dtype
    if isinstance(init, Tracer):
        if init.aval.dtype != dt:
            return ew.convert_element_type(init, dt)
        return init
    v = np.asarray(init)
    if v.shape != ():
        raise TypeError(f"reduce_window: init_value must be a scalar, got shape {v.shape}")
    return np.asarray(v, dtype=dt)


def _cast_outputs(closed: ClosedJaxpr, avals) -> ClosedJaxpr:
    """The computation with results converted to the operand dtypes (a Python-scalar
    computation such as ``lambda a, b: a + 1.0`` may give weak types)."""
    if all(a.dtype == b.dtype and not a.weak_type for a, b in zip(closed.out_avals, avals)):
        return closed
    from ..interpreters.transforms import trace_flat

    def fun(*args):
        return [ew.convert_element_type(o, a.dtype) for o, a in zip(run(closed, *args), avals)]

    return trace_flat(fun, [ShapedArray((), a.dtype) for a in avals + avals], "reduce_window")
