"""Transposition: run a linear jaxpr backwards, turning output cotangents into
input cotangents. Each linear primitive has a ``transpose`` rule."""
from __future__ import annotations

from ..core.abstract import ShapedArray
from ..core.ir import Jaxpr, Literal
from ..core.primitive import missing_rule
from .jvp import Zero, add_tangents


class UndefinedPrimal:
    """A linear input of a primitive during transposition (its value is unknown)."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined(x) -> bool:
    return type(x) is UndefinedPrimal


def backward_pass(jaxpr: Jaxpr, consts, args, cts_out):
    """Transpose ``jaxpr`` w.r.t. the inputs given as ``UndefinedPrimal`` in ``args``.

    ``cts_out`` has one cotangent (or Zero/None) per output. Returns one cotangent per
    undefined input (a ``Zero`` where nothing flowed back).
    """
    env: dict = {}
    linear: set = set()

    def read(v):
        return v.val if type(v) is Literal else env[v.id]

    for v, c in zip(jaxpr.constvars, consts):
        env[v.id] = c
    for v, a in zip(jaxpr.invars, args):
        if is_undefined(a):
            linear.add(v.id)
        else:
            env[v.id] = a

    # Forward: evaluate what does not depend on linear inputs; collect the rest.
    lin_eqns = []
    for eqn in jaxpr.eqns:
        if any(type(v) is not Literal and v.id in linear for v in eqn.invars):
            lin_eqns.append(eqn)
            linear.update(v.id for v in eqn.outvars)
        else:
            outs = eqn.primitive.bind(*[read(v) for v in eqn.invars], **eqn.params)
            if not eqn.primitive.multiple_results:
                outs = [outs]
            for v, x in zip(eqn.outvars, outs):
                env[v.id] = x

    ct_env: dict = {}

    def write_ct(v, ct):
        if ct is None or type(v) is Literal or type(ct) is Zero or v.id not in linear:
            return
        prev = ct_env.get(v.id)
        ct_env[v.id] = ct if prev is None else add_tangents(prev, ct)

    for v, ct in zip(jaxpr.outvars, cts_out):
        write_ct(v, ct)

    for eqn in reversed(lin_eqns):
        cts = [ct_env.pop(v.id, None) for v in eqn.outvars]
        if all(c is None for c in cts):
            continue
        cts = [Zero(v.aval) if c is None else c for c in cts]
        prim = eqn.primitive
        if prim.transpose is None:
            raise missing_rule(prim, "transpose (reverse-mode differentiation)")
        invals = [
            UndefinedPrimal(v.aval) if type(v) is not Literal and v.id in linear else read(v)
            for v in eqn.invars
        ]
        cts_in = prim.transpose(cts if prim.multiple_results else cts[0], *invals, **eqn.params)
        for v, ct in zip(eqn.invars, cts_in):
            if type(v) is not Literal and v.id in linear:
                write_ct(v, ct)

    results = []
    for v, a in zip(jaxpr.invars, args):
        if is_undefined(a):
            ct = ct_env.get(v.id)
            results.append(Zero(a.aval) if ct is None else ct)
    return results
