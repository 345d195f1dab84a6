"""Helpers shared by the control-flow primitives, custom derivatives and checkpoint:
tracing user functions, type signatures, and the dtype rules of branch outputs and
loop carries."""
from __future__ import annotations

import numpy as np

from ..._util import flatten_fun
from ...core.abstract import ShapedArray
from ...core.ir import ClosedJaxpr, Jaxpr, Var
from ...core.pytree import tree_unflatten
from ...core.trace import Tracer, get_aval
from ...interpreters.staging import closure_convert, trace_to_jaxpr
from ...interpreters.transforms import (
    run,
    trace_flat,
)

# -- helpers shared with xform.custom_derivatives and xform.checkpoint ------------------


def _lax():
    from ... import lax

    return lax


def trace_fun(fun, args_tree, in_avals, name: str):
    """Trace ``fun`` (called as ``fun(*args)`` where ``args`` unflattens from
    ``args_tree``) at ``in_avals``. Returns ``(closed_jaxpr, tracer_consts, out_tree)``;
    the jaxpr takes ``tracer_consts + flat_args``."""
    flat, store = flatten_fun(fun, args_tree)
    jaxpr, consts = trace_to_jaxpr(flat, list(in_avals), name=name)
    closed, tracer_consts = closure_convert(jaxpr, consts)
    return closed, tracer_consts, store["tree"]


def signature(tree, avals) -> str:
    """A readable type signature of a pytree of abstract values."""

    class _A:
        def __init__(self, a):
            self.a = a

        def __repr__(self):
            return self.a.str_short() if hasattr(self.a, "str_short") else repr(self.a)

    return repr(tree_unflatten(tree, [_A(a) for a in avals]))


def _same_type(a: ShapedArray, b: ShapedArray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype


def coerce_outputs(vals, avals):
    """Eager results as numpy values of the declared dtypes."""
    out = []
    for v, a in zip(vals, avals):
        if not isinstance(v, (np.ndarray, np.generic)) or v.dtype != a.dtype:
            v = np.asarray(v, dtype=a.dtype)
            v = v[()] if v.ndim == 0 else v
        out.append(v)
    return out


def _with_invars(closed: ClosedJaxpr, invars) -> ClosedJaxpr:
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, invars, j.outvars, j.eqns), closed.consts)


def _check_int_fits(x, dtype, where: str):
    """``x``, after checking that a concrete weakly typed integer fits ``dtype``: one
    that does not raises OverflowError, as numpy does (no silent wrap-around)."""
    dt = np.dtype(dtype)
    if not isinstance(x, Tracer) and dt.kind in "iu":
        a = get_aval(x)
        if a.weak_type and a.dtype.kind in "iu" and a.shape == ():
            v, info = int(np.asarray(x)), np.iinfo(dt)
            if not info.min <= v <= info.max:
                raise OverflowError(f"{where}: Python integer {v} out of bounds for {dt} (the "
                                    f"dtype of the other branch or of the loop's output).")
    return x


def _weak_int_to(x, dtype, where: str):
    return _lax().convert_element_type(_check_int_fits(x, dtype, where), np.dtype(dtype))


def _convert_outputs(closed: ClosedJaxpr, avals, where: str = "cond") -> ClosedJaxpr:
    """Wrap ``closed`` so that its outputs have dtypes (and weak types) ``avals``."""
    lax = _lax()

    def fun(*args):
        outs = run(closed, *args)
        return [lax.convert_element_type(_check_int_fits(o, a.dtype, where), a.dtype,
                                         a.weak_type) for o, a in zip(outs, avals)]

    return trace_flat(fun, closed.in_avals, "convert")


def _unify_consts(per_branch_consts):
    """Union of closed-over tracers of several traced functions (deduplicated)."""
    all_consts, index = [], {}
    for consts in per_branch_consts:
        for c in consts:
            if id(c) not in index:
                index[id(c)] = len(all_consts)
                all_consts.append(c)
    return all_consts, index


def _pad_consts(closed: ClosedJaxpr, consts, all_consts, index) -> ClosedJaxpr:
    n = len(consts)
    own = {index[id(c)]: v for c, v in zip(consts, closed.jaxpr.invars[:n])}
    head = [own.get(j) or Var(get_aval(c)) for j, c in enumerate(all_consts)]
    return _with_invars(closed, head + list(closed.jaxpr.invars[n:]))


_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _weak_fits(weak_dtype, dtype) -> bool:
    """Whether a weakly typed value (a Python scalar) may take ``dtype``: never to a
    lower kind (a Python float does not become an int, as in JAX)."""
    return _KIND_RANK[np.dtype(dtype).kind] >= _KIND_RANK[np.dtype(weak_dtype).kind]


def _promotable_carry(init_avals, out_avals):
    """Indices of weakly typed init carries whose body output has another dtype/weak
    type of the same shape and no lower kind: the init is promoted to the output type
    (as in JAX)."""
    fix = []
    for i, (a, b) in enumerate(zip(init_avals, out_avals)):
        if a.shape == b.shape and (a.dtype != b.dtype or a.weak_type != b.weak_type) and \
                a.weak_type and _weak_fits(a.dtype, b.dtype):
            fix.append(i)
    return fix


