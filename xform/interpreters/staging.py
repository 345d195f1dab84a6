"""Staging: trace Python functions into jaxprs (make_jaxpr, jit, linearize).

A ``StagingTrace`` records each primitive applied to its tracers as an equation.
Values that enter from outside (numpy constants, tracers of outer levels) become
constants of the jaxpr; scalar constants are written inline as literals.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.abstract import ShapedArray, concrete_aval
from ..core.check import check_after
from ..core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, _var_ids, literal_or_none, new_eqn
from ..core.primitive import missing_rule
from ..core.trace import Trace, Tracer, full_raise, get_aval, new_main


_new_var = object.__new__
_next_id = _var_ids.__next__


class StagingTracer(Tracer):
    # ``aval`` is a plain slot here (it overrides Tracer's property): read constantly.
    __slots__ = ("aval", "ir_var")

    def __init__(self, trace, aval: ShapedArray):
        self._trace = trace
        self.aval = aval
        var = self.ir_var = _new_var(Var)  # Var(aval), inlined
        var.aval = aval
        var.id = _next_id()


class JaxprBuilder:
    """The growing program of one staging level."""

    def __init__(self, dynamic: bool = True):
        # dynamic: the program of make_jaxpr/jit (nested calls are inlined); otherwise
        # the linear program of linearize (calls stay calls, so they transpose whole).
        self.dynamic = dynamic
        self.eqns: list[Eqn] = []
        # (each cached constant stays referenced by its Literal or by const_val, so the
        # ids keying const_tracer stay unique)
        self.const_tracer: dict[int, StagingTracer] = {}
        self.const_val: dict[int, object] = {}  # var id -> value

    def new_tracer(self, trace, aval) -> StagingTracer:
        return StagingTracer(trace, aval)

    def const(self, trace, val) -> StagingTracer:
        t = self.const_tracer.get(id(val))
        if t is None:
            tv = type(val)
            if tv is np.float64 or tv is float:  # the common residual: a scalar literal
                aval = concrete_aval(val)
                lit = val
            else:
                aval = get_aval(val)
                lit = literal_or_none(val)
            if lit is not None:  # scalars are written inline in equations
                t = _new_tracer(StagingTracer)
                t._trace = trace
                t.aval = aval
                t.ir_var = Literal(lit, aval)
            else:
                t = StagingTracer(trace, aval)
                self.const_val[t.ir_var.id] = val
            self.const_tracer[id(val)] = t
        return t

    @staticmethod
    def var(tracer) -> Var:
        return tracer.ir_var

    def to_jaxpr(self, in_tracers, out_tracers) -> tuple[Jaxpr, list]:
        invars = [t.ir_var for t in in_tracers]
        outvars = [t.ir_var for t in out_tracers]
        from .transforms import dce  # (transforms imports this module)

        jaxpr, used = dce(Jaxpr([], invars, outvars, self.eqns))
        constvars, consts = [], []
        if self.const_val:
            in_ids = {v.id for v in invars}
            for t in self.const_tracer.values():
                v = t.ir_var
                if type(v) is Var and v.id in used and v.id not in in_ids:
                    constvars.append(v)
                    consts.append(self.const_val[v.id])
        jaxpr.constvars = constvars
        check_after(jaxpr, "tracing")
        return jaxpr, consts


class StagingTrace(Trace):
    def _builder(self) -> JaxprBuilder:
        return self.main.payload

    def pure(self, val):
        return self.main.payload.const(self, val)

    def lift(self, tracer):
        return self.main.payload.const(self, tracer)

    def new_arg(self, aval) -> StagingTracer:
        return self._builder().new_tracer(self, aval)

    def process_primitive(self, primitive, tracers, params):
        stage = primitive.stage
        if stage is not None:  # e.g. nested jit is inlined, custom rules keep their rule
            return stage(self, tracers, params)
        abstract_eval = primitive.abstract_eval
        if abstract_eval is None:
            raise missing_rule(primitive, "abstract evaluation")
        if primitive.multiple_results:
            avals_out = abstract_eval(*[t.aval for t in tracers], **params)
            return self.emit(primitive, tracers, params, avals_out)
        # The single-result case of ``emit``, inlined (the hot path of linearize).
        n = len(tracers)
        if n == 2:
            x, y = tracers
            aval = abstract_eval(x.aval, y.aval, **params)
            invars = [x.ir_var, y.ir_var]
        elif n == 1:
            x = tracers[0]
            aval = abstract_eval(x.aval, **params)
            invars = [x.ir_var]
        else:
            aval = abstract_eval(*[t.aval for t in tracers], **params)
            invars = [t.ir_var for t in tracers]
        out = StagingTracer(self, aval)
        self.main.payload.eqns.append(new_eqn(primitive, invars, [out.ir_var], params))
        return out

    def emit(self, primitive, tracers, params, avals_out):
        b = self.main.payload
        params = dict(params)
        if primitive.multiple_results:
            outs = [StagingTracer(self, a) for a in avals_out]
            b.eqns.append(new_eqn(primitive, [t.ir_var for t in tracers], [t.ir_var for t in outs], params))
            return outs
        out = StagingTracer(self, avals_out)
        b.eqns.append(new_eqn(primitive, [t.ir_var for t in tracers], [out.ir_var], params))
        return out


_new_tracer = object.__new__


def trace_to_jaxpr(fun: Callable, in_avals, name: str = "make_jaxpr", dynamic: bool = True):
    """Trace ``fun`` (flat list of arrays -> flat list) at ``in_avals``.

    Returns ``(jaxpr, consts)``; ``consts`` may hold tracers of outer levels.
    """
    builder = JaxprBuilder(dynamic)
    with new_main(StagingTrace, builder, name=name, dynamic=dynamic) as main:
        trace = StagingTrace(main)
        in_tracers = [trace.new_arg(a) for a in in_avals]
        outs = fun(*in_tracers)
        out_tracers = [full_raise(trace, o) for o in outs]
        jaxpr, consts = builder.to_jaxpr(in_tracers, out_tracers)
    return jaxpr, consts


def closure_convert(jaxpr: Jaxpr, consts) -> tuple[ClosedJaxpr, list]:
    """Move constants that are tracers (of outer levels) into leading input variables.

    Returns the closed jaxpr (holding only concrete constants) and the list of
    tracer constants to pass as its first arguments.
    """
    tracer_vars, tracer_vals, cvars, cvals = [], [], [], []
    for v, c in zip(jaxpr.constvars, consts):
        if isinstance(c, Tracer):
            tracer_vars.append(v)
            tracer_vals.append(c)
        else:
            cvars.append(v)
            cvals.append(c)
    new = Jaxpr(cvars, tracer_vars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(new, cvals), tracer_vals


def make_closed_jaxpr(fun: Callable, in_avals, name: str = "make_jaxpr"):
    """Trace a flat function into a ClosedJaxpr plus the tracer constants it closes over."""
    jaxpr, consts = trace_to_jaxpr(fun, in_avals, name=name)
    return closure_convert(jaxpr, consts)


def literal_aval(x) -> ShapedArray:
    return get_aval(x)


def is_concrete_scalar(x) -> bool:
    return isinstance(x, (int, float, bool, complex, np.generic))
