"""float16 under jit: compute in float32, round every result to float16.

Numba has no float16 type (not even for loads and stores), so before code generation
a program that uses float16 is rewritten into one without it:

- every float16 value becomes a float32 value that holds a float16 number exactly;
- every operation that produces float16 computes in float32 and is followed by
  ``reduce_precision(x, 5, 10)`` (round to nearest float16, ties to even; overflow to
  inf; subnormals kept). For +, -, *, / and sqrt this is exactly numpy's float16
  result: numpy also computes half-precision ops in float32 and rounds once, and
  float32 has enough bits that rounding twice cannot differ from rounding once.
  Casts to float16 from float64 and integers round directly from float64, as numpy does;
- operations that only move or select values (reshape, slice, gather, select, max,
  neg, ...) need no rounding;
- the kernel takes and returns float32 arrays; ``Compiled`` converts at the boundary
  (both directions are exact).

Reductions and cumulative sums accumulate in float32 and round once per result, so
they can be more accurate than numpy, whose float16 accumulation order depends on the
memory layout.
"""
from __future__ import annotations

import numpy as np

from ...core.ir import ClosedJaxpr, Jaxpr, Literal, Var, all_eqns, new_eqn, sub_jaxprs
from ...lax.elementwise import convert_element_type_p, reduce_precision_p
from .traits import FLOAT16_EXACT

F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

def uses_float16(jaxpr: Jaxpr) -> bool:
    if any(v.aval.dtype == F16 for v in (*jaxpr.constvars, *jaxpr.invars)):
        return True
    return any(v.aval.dtype == F16 for e in all_eqns(jaxpr) for v in (*e.invars, *e.outvars))


def emulate_float16(closed: ClosedJaxpr):
    """``closed`` rewritten without float16 (see the module docstring), and which of its
    inputs and outputs were float16; None when it has no float16."""
    if not uses_float16(closed.jaxpr):
        return None
    j = closed.jaxpr
    in_f16 = tuple(v.aval.dtype == F16 for v in j.invars)
    out_f16 = tuple(v.aval.dtype == F16 for v in j.outvars)
    return _rewrite_closed(closed), in_f16, out_f16


def _rewrite_closed(closed: ClosedJaxpr) -> ClosedJaxpr:
    consts = [np.asarray(c).astype(F32) if np.asarray(c).dtype == F16 else c
              for c in closed.consts]
    return ClosedJaxpr(_rewrite(closed.jaxpr), consts)


def _aval32(aval):
    return aval.update(dtype=F32) if aval.dtype == F16 else aval


def _param(v):
    if isinstance(v, ClosedJaxpr):
        return _rewrite_closed(v)
    if isinstance(v, Jaxpr):
        return _rewrite(v)
    if isinstance(v, tuple):
        return tuple(_param(x) for x in v)
    if isinstance(v, list):
        return [_param(x) for x in v]
    if isinstance(v, np.dtype) and v == F16:
        return F32
    if isinstance(v, type) and v is np.float16:
        return np.float32
    return v


def _rewrite(jaxpr: Jaxpr) -> Jaxpr:
    env: dict = {}

    def new_var(v):
        if v.aval.dtype != F16:
            return v
        nv = Var(_aval32(v.aval))
        env[v] = nv
        return nv

    def read(a):
        if isinstance(a, Literal):
            if a.aval.dtype == F16:
                return Literal(np.float32(a.val), _aval32(a.aval))
            return a
        return env.get(a, a)

    eqns = []

    def emit(prim, invars, out_aval, **params):
        out = Var(out_aval)
        eqns.append(new_eqn(prim, list(invars), [out], params))
        return out

    def round_to_f16(x):
        return emit(reduce_precision_p, [x], x.aval, exponent_bits=5, mantissa_bits=10)

    constvars = [new_var(v) for v in jaxpr.constvars]
    invars = [new_var(v) for v in jaxpr.invars]
    for e in jaxpr.eqns:
        ins = [read(a) for a in e.invars]
        if e.primitive is convert_element_type_p and e.params["new_dtype"] == F16:
            (src,), (out,) = e.invars, e.outvars
            x = ins[0]
            if src.aval.dtype != F16:
                if src.aval.dtype != F32:  # from float64 (and ints, complex): round once
                    x = emit(convert_element_type_p, [x], src.aval.update(dtype=F64),
                             new_dtype=F64, weak_type=False)
                x = round_to_f16(x)
                if x.aval.dtype != F32:
                    x = emit(convert_element_type_p, [x], x.aval.update(dtype=F32),
                             new_dtype=F32, weak_type=False)
            eqns.append(new_eqn(convert_element_type_p, [x], [new_var(out)],
                                {"new_dtype": F32, "weak_type": out.aval.weak_type}))
            continue
        params = {k: _param(v) for k, v in e.params.items()}
        rounded = any(v.aval.dtype == F16 for v in e.outvars) and e.primitive not in FLOAT16_EXACT \
            and not any(True for _ in sub_jaxprs(e))  # control flow rounds inside
        if not rounded:
            eqns.append(new_eqn(e.primitive, ins, [new_var(v) for v in e.outvars], params))
            continue
        outs = [Var(_aval32(v.aval)) if v.aval.dtype == F16 else new_var(v) for v in e.outvars]
        eqns.append(new_eqn(e.primitive, ins, outs, params))
        for v, tmp in zip(e.outvars, outs):
            if v.aval.dtype == F16:
                eqns.append(new_eqn(reduce_precision_p, [tmp], [new_var(v)],
                                    {"exponent_bits": 5, "mantissa_bits": 10}))
    return Jaxpr(constvars, invars, [read(a) for a in jaxpr.outvars], eqns)
