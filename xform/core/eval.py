"""The base interpreter: primitives applied to concrete numpy values, and eval_jaxpr."""
from __future__ import annotations

from .ir import ClosedJaxpr, Jaxpr, Literal
from .primitive import missing_rule
from .trace import Trace


class EvalTrace(Trace):
    """Level 0: no tracers, every primitive runs its numpy ``impl``."""

    def pure(self, val):
        return val

    lift = pure

    def process_primitive(self, primitive, args, params):
        impl = primitive.impl
        if impl is None:
            raise missing_rule(primitive, "impl")
        return impl(*args, **params)


def eval_jaxpr(jaxpr: Jaxpr, consts, *args):
    """Evaluate a jaxpr by binding each equation's primitive (so it works under any
    transformation: the current interpreters process each bind)."""
    env: dict = {}

    def read(v):
        return v.val if type(v) is Literal else env[v.id]

    for v, x in zip(jaxpr.constvars, consts):
        env[v.id] = x
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"eval_jaxpr: expected {len(jaxpr.invars)} arguments, got {len(args)}")
    for v, x in zip(jaxpr.invars, args):
        env[v.id] = x
    for eqn in jaxpr.eqns:
        outs = eqn.primitive.bind(*[read(v) for v in eqn.invars], **eqn.params)
        if eqn.primitive.multiple_results:
            for v, x in zip(eqn.outvars, outs):
                env[v.id] = x
        else:
            env[eqn.outvars[0].id] = outs
    return [read(v) for v in jaxpr.outvars]


def eval_closed_jaxpr(closed: ClosedJaxpr, *args):
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)
