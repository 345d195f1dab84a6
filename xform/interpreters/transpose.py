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
    # Environments are keyed by the Var objects themselves (identity hashing); a
    # Literal is never in ``linear`` nor in the cotangent environment.
    env: dict = {}
    linear: set = set()
    for v, c in zip(jaxpr.constvars, consts):
        env[v] = c
    for v, a in zip(jaxpr.invars, args):
        if type(a) is UndefinedPrimal:
            linear.add(v)
        else:
            env[v] = a

    # Forward: evaluate what does not depend on linear inputs; collect the rest.
    lin_eqns = []
    for eqn in jaxpr.eqns:
        for v in eqn.invars:
            if v in linear:
                lin_eqns.append(eqn)
                linear.update(eqn.outvars)
                break
        else:
            invals = [v.val if type(v) is Literal else env[v] for v in eqn.invars]
            outs = eqn.primitive.bind(*invals, **eqn.params)
            if not eqn.primitive.multiple_results:
                outs = [outs]
            for v, x in zip(eqn.outvars, outs):
                env[v] = x

    ct_env: dict = {}
    get = ct_env.get
    for v, ct in zip(jaxpr.outvars, cts_out):
        if ct is not None and type(ct) is not Zero and v in linear:
            prev = get(v)
            ct_env[v] = ct if prev is None else add_tangents(prev, ct)

    pop = ct_env.pop
    for eqn in reversed(lin_eqns):
        prim = eqn.primitive
        if prim.multiple_results:
            cts = [pop(v, None) for v in eqn.outvars]
            if all(c is None for c in cts):
                continue
            ct = [Zero(v.aval) if c is None else c for v, c in zip(eqn.outvars, cts)]
        else:
            ct = pop(eqn.outvars[0], None)
            if ct is None:
                continue
        rule = prim.transpose
        if rule is None:
            raise missing_rule(prim, "transpose (reverse-mode differentiation)")
        invars = eqn.invars
        invals = []
        for v in invars:
            if v in linear:
                invals.append(UndefinedPrimal(v.aval))
            elif type(v) is Literal:
                invals.append(v.val)
            else:
                invals.append(env[v])
        params = eqn.params
        cts_in = rule(ct, *invals, **params) if params else rule(ct, *invals)
        for v, c in zip(invars, cts_in):
            if c is not None and v in linear and type(c) is not Zero:
                prev = get(v)
                ct_env[v] = c if prev is None else add_tangents(prev, c)

    results = []
    for v, a in zip(jaxpr.invars, args):
        if type(a) is UndefinedPrimal:
            ct = get(v)
            results.append(Zero(a.aval) if ct is None else ct)
    return results
