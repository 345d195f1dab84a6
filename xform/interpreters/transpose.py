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
    for v, c in zip(jaxpr.constvars, consts):
        env[v.id] = c
    for v, a in zip(jaxpr.invars, args):
        if type(a) is UndefinedPrimal:
            linear.add(v.id)
        else:
            env[v.id] = a

    # Forward: evaluate what does not depend on linear inputs; collect the rest.
    lin_eqns = []
    for eqn in jaxpr.eqns:
        for v in eqn.invars:
            if type(v) is not Literal and v.id in linear:
                lin_eqns.append(eqn)
                for o in eqn.outvars:
                    linear.add(o.id)
                break
        else:
            invals = [v.val if type(v) is Literal else env[v.id] for v in eqn.invars]
            outs = eqn.primitive.bind(*invals, **eqn.params)
            if not eqn.primitive.multiple_results:
                outs = [outs]
            for v, x in zip(eqn.outvars, outs):
                env[v.id] = x

    ct_env: dict = {}
    for v, ct in zip(jaxpr.outvars, cts_out):
        _write_ct(ct_env, linear, v, ct)

    pop = ct_env.pop
    for eqn in reversed(lin_eqns):
        prim = eqn.primitive
        if prim.multiple_results:
            cts = [pop(v.id, None) for v in eqn.outvars]
            if all(c is None for c in cts):
                continue
            ct = [Zero(v.aval) if c is None else c for v, c in zip(eqn.outvars, cts)]
        else:
            ct = pop(eqn.outvars[0].id, None)
            if ct is None:
                continue
        rule = prim.transpose
        if rule is None:
            raise missing_rule(prim, "transpose (reverse-mode differentiation)")
        invals = []
        for v in eqn.invars:
            if type(v) is Literal:
                invals.append(v.val)
            elif v.id in linear:
                invals.append(UndefinedPrimal(v.aval))
            else:
                invals.append(env[v.id])
        cts_in = rule(ct, *invals, **eqn.params)
        for v, c in zip(eqn.invars, cts_in):
            if c is not None and type(c) is not Zero and type(v) is not Literal:
                i = v.id
                if i in linear:
                    prev = ct_env.get(i)
                    ct_env[i] = c if prev is None else add_tangents(prev, c)

    results = []
    for v, a in zip(jaxpr.invars, args):
        if type(a) is UndefinedPrimal:
            ct = ct_env.get(v.id)
            results.append(Zero(a.aval) if ct is None else ct)
    return results


def _write_ct(ct_env: dict, linear: set, v, ct) -> None:
    if ct is None or type(v) is Literal or type(ct) is Zero or v.id not in linear:
        return
    prev = ct_env.get(v.id)
    ct_env[v.id] = ct if prev is None else add_tangents(prev, ct)
