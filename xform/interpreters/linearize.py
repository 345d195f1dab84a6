"""linearize = jvp with the tangent computation staged into a linear jaxpr.

The primal computation runs in whatever interpreters are active (eagerly, or in an
outer transformation); only operations touching tangents are recorded. The recorded
program is linear in the tangents; its constants are the residuals it needs. vjp is
then the transpose of that program.
"""
from __future__ import annotations

from ..core.abstract import ShapedArray
from ..core.ir import ClosedJaxpr
from ..core.trace import Tracer, full_raise, get_aval, new_main
from .jvp import Zero, jvp_flat
from .staging import JaxprBuilder, StagingTrace, StagingTracer
from .transpose import UndefinedPrimal, backward_pass


class LinearFunction:
    """The linear map of a linearization: tangents in -> tangents out."""

    def __init__(self, jaxpr, consts, in_avals, in_nonzero, out_avals, out_nonzero):
        self.closed = ClosedJaxpr(jaxpr, consts)
        self.in_avals = in_avals
        self.in_nonzero = in_nonzero
        self.out_avals = out_avals
        self.out_nonzero = out_nonzero

    def apply(self, tangents):
        from ..core.eval import eval_jaxpr

        ts = [t for t, nz in zip(tangents, self.in_nonzero) if nz]
        outs = iter(eval_jaxpr(self.closed.jaxpr, self.closed.consts, *ts))
        return [next(outs) if nz else Zero(a) for a, nz in zip(self.out_avals, self.out_nonzero)]

    def transpose(self, cts):
        cts = [ct for ct, nz in zip(cts, self.out_nonzero) if nz]
        args = [UndefinedPrimal(a) for a, nz in zip(self.in_avals, self.in_nonzero) if nz]
        res = iter(backward_pass(self.closed.jaxpr, self.closed.consts, args, cts))
        return [next(res) if nz else Zero(a) for a, nz in zip(self.in_avals, self.in_nonzero)]


def strong_aval(aval: ShapedArray) -> ShapedArray:
    """``aval`` without its weak type (tangents are strongly typed)."""
    return aval if not aval.weak_type else ShapedArray(aval.shape, aval.dtype, False)


def linearize_flat(fun, primals, name: str = "linearize", in_nonzero=None):
    """Returns ``(primals_out, LinearFunction)`` for a flat function.

    ``in_nonzero`` says which inputs get a tangent (default: the floating ones).
    """
    builder = JaxprBuilder(dynamic=False)
    with new_main(StagingTrace, builder, name=name) as smain:
        strace = smain.trace
        in_avals = [get_aval(p) for p in primals]
        if in_nonzero is None:
            in_nonzero = [a.dtype.kind in "fc" for a in in_avals]
        tangent_avals = [strong_aval(a) for a in in_avals]
        tangent_in = []
        tangents = []
        for p, a, nz in zip(primals, tangent_avals, in_nonzero):
            if nz:
                t = StagingTracer(strace, a)
                tangent_in.append(t)
                tangents.append(t)
            else:
                tangents.append(Zero.like(p))
        primals_out, tangents_out = jvp_flat(fun, primals, tangents, name=name)
        out_nonzero = [type(t) is not Zero for t in tangents_out]
        out_avals = [strong_aval(get_aval(p)) for p in primals_out]
        out_tracers = [full_raise(strace, t) for t in tangents_out if type(t) is not Zero]
        jaxpr, consts = builder.to_jaxpr(tangent_in, out_tracers)
    for p in primals_out:
        if isinstance(p, Tracer) and p._trace.main is smain:
            raise AssertionError("linearize: a primal output depends on tangents (internal error)")
    lin = LinearFunction(jaxpr, consts, tangent_avals, in_nonzero, out_avals, out_nonzero)
    return primals_out, lin
