"""Shared machinery for defining primitives and their rules.

Elementwise primitives follow numpy broadcasting; their operands must share a dtype
(``xform.numpy`` promotes first; ``xform.lax`` functions convert Python scalars).
"""
from __future__ import annotations

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import Tracer, get_aval


def broadcast_shapes(opname: str, *shapes) -> tuple:
    """numpy's broadcasting of shapes, with an error naming the op and all shapes."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        size = 1
        for s in shapes:
            k = len(s) - ndim + i
            d = s[k] if k >= 0 else 1
            if d != 1:
                if size != 1 and d != size:
                    raise ValueError(
                        f"{opname}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                        f"cannot be broadcast together (dimension {i} of the result: "
                        f"{size} vs {d})."
                    )
                size = d
        out.append(size)
    return tuple(out)


def elementwise_abstract_eval(prim_name: str, out_dtype=None, same_dtype: bool = True):
    """Shape rule for a broadcasting elementwise op; ``out_dtype`` fixes the result dtype."""

    def rule(*avals, **params):
        a0 = avals[0]
        if all(a.shape == a0.shape for a in avals):
            shape = a0.shape
        else:
            shape = broadcast_shapes(prim_name, *(a.shape for a in avals))
        if same_dtype and len(avals) > 1:
            if any(a.dtype != a0.dtype for a in avals):
                raise TypeError(
                    f"{prim_name}: operands must have the same dtype, got "
                    f"{', '.join(a.str_short() for a in avals)}; convert them with "
                    f"xform.lax.convert_element_type or use xform.numpy which promotes."
                )
        dt = out_dtype if out_dtype is not None else avals[0].dtype
        weak = all(a.weak_type for a in avals) and out_dtype is None
        return ShapedArray(shape, dt, weak)

    return rule


def elementwise_primitive(name: str, numpy_fn, nargs: int, out_dtype=None,
                          allowed_kinds: str | None = None) -> Primitive:
    """A broadcasting elementwise primitive evaluated by a numpy ufunc-like function."""
    prim = Primitive(name)
    prim.elementwise = True
    prim.impl = numpy_fn
    shape_rule = elementwise_abstract_eval(name, out_dtype)

    def abstract_eval(*avals, **params):
        if len(avals) != nargs:
            raise TypeError(f"{name}: takes {nargs} operands, got {len(avals)}")
        a0 = avals[0]
        if out_dtype is None and (allowed_kinds is None or a0.dtype.kind in allowed_kinds):
            # Fast path: operands of one shape and dtype (the common case under
            # autodiff). The result is the strong operand's aval (weak if all are weak),
            # so no new aval is made.
            res = a0
            for a in avals:
                if a is not res:
                    if a.shape != a0.shape or (a.dtype is not a0.dtype and a.dtype != a0.dtype):
                        break
                    if res.weak_type and not a.weak_type:
                        res = a
            else:
                return res
        if allowed_kinds is not None:
            for a in avals:
                if a.dtype.kind not in allowed_kinds:
                    raise TypeError(
                        f"{name}: does not accept dtype {a.dtype} "
                        f"(operand {a.str_short()}); allowed kinds: {_kind_names(allowed_kinds)}."
                    )
        return shape_rule(*avals, **params)

    prim.abstract_eval = abstract_eval
    prim.batch = broadcasting_batch_rule(prim)
    return prim


def scalar_rule_traits(rule, *, needs_dtype: bool = False, runtime_helpers: tuple = ()):
    """Mark a ``numba_scalar`` rule: ``needs_dtype`` (the backend passes the operand
    dtype as ``dtype=``), ``runtime_helpers`` (names of ``backend/numba/runtime.py``
    functions its expression may call, imported into the kernel when used)."""
    if needs_dtype:
        setattr(rule, "needs_dtype", True)  # noqa: B010  (function attributes)
    if runtime_helpers:
        setattr(rule, "runtime_helpers", tuple(runtime_helpers))  # noqa: B010
    return rule


def _kind_names(kinds: str) -> str:
    names = {"b": "bool", "i": "signed int", "u": "unsigned int", "f": "float", "c": "complex"}
    return ", ".join(names[k] for k in kinds)


# -- batching ---------------------------------------------------------------------


def move_bdim_to_front(x, bdim):
    from . import moveaxis

    if bdim is None or bdim == 0:
        return x
    return moveaxis(x, bdim, 0)


def broadcasting_batch_rule(prim: Primitive):
    """vmap rule for broadcasting elementwise ops: batch dims to the front, and batched
    operands of lower rank get size-1 dims so numpy broadcasting lines up."""

    def rule(vals, dims, **params):
        from . import expand_dims

        ranks = [get_aval(v).ndim - (d is not None) for v, d in zip(vals, dims)]
        out_rank = max(ranks)
        args = []
        for v, d, r in zip(vals, dims, ranks):
            if d is None:
                args.append(v)
                continue
            v = move_bdim_to_front(v, d)
            if r < out_rank:
                v = expand_dims(v, tuple(range(1, 1 + out_rank - r)))
            args.append(v)
        return prim.bind(*args, **params), 0

    return rule


# -- transposition helpers ------------------------------------------------------------


def unbroadcast(ct, aval: ShapedArray):
    """Sum a cotangent of the broadcast result shape back to ``aval``'s shape."""
    ct_shape = ct.aval.shape if isinstance(ct, Tracer) else get_aval(ct).shape
    if ct_shape == aval.shape:
        return ct
    from . import reduce_sum, reshape

    lead = len(ct_shape) - len(aval.shape)
    axes = list(range(lead))
    for i, d in enumerate(aval.shape):
        if d == 1 and ct_shape[lead + i] != 1:
            axes.append(lead + i)
    if axes:
        ct = reduce_sum(ct, tuple(axes))
    if tuple(get_aval(ct).shape) != tuple(aval.shape):
        ct = reshape(ct, aval.shape)
    return ct


_PY_SCALARS = (bool, int, float, complex)


def as_dtype_of(x, like):
    """Convert a Python scalar ``x`` to the dtype of ``like`` (lax's weak-scalar rule)."""
    tx = type(x)
    if tx not in _PY_SCALARS and not isinstance(x, np.generic):
        return x
    if type(like) in _PY_SCALARS:
        return x
    dt = get_aval(like).dtype
    if tx is not float or dt != np.float64:
        return np.asarray(x, dtype=dt)[()]
    return x
