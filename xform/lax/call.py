"""The ``jit`` primitive: a held program (``ClosedJaxpr``) called as one operation.

``jit_p`` binds with params ``jaxpr`` (the program), ``name`` and, when set, ``tiered``.
Its rules transform the held program and bind ``jit_p`` again, so a jitted function
stays one compiled call under every transformation. Inside ``jit``/``make_jaxpr`` a
nested call is inlined (the outer program compiles whole); inside a linear program
(``linearize``) it stays one equation, so its transpose is again one compiled call.

Its ``impl`` (compile with the backend, then call) is installed by ``xform.jit``: the
backends sit above ``lax``.
"""
from __future__ import annotations

from ..core.check import call_signature
from ..core.eval import eval_jaxpr
from ..core.ir import ClosedJaxpr
from ..core.primitive import Primitive
from ..interpreters.jvp import Zero
from ..interpreters.transforms import batch_jaxpr, linearize_jaxpr, transpose_jaxpr
from ..interpreters.transpose import is_undefined

jit_p = Primitive("jit", multiple_results=True)


def _tier_param(tiered: bool) -> dict:
    """The ``tiered`` parameter appears on ``jit`` equations only when set."""
    return {"tiered": True} if tiered else {}


def _jit_abstract(*avals, jaxpr: ClosedJaxpr, name: str, tiered: bool = False):
    return jaxpr.out_avals


def _jit_stage(trace, tracers, params):
    """Nested jit inside a jit/make_jaxpr program is inlined: the outer program is
    compiled whole. In a linear program (linearize) the call stays one equation, so
    its transpose is again one compiled call."""
    closed = params["jaxpr"]
    if trace.main.payload.dynamic:
        return eval_jaxpr(closed.jaxpr, closed.consts, *tracers)
    return trace.emit(jit_p, tracers, params, closed.out_avals)


def _jit_transpose(cts, *args, jaxpr: ClosedJaxpr, name: str, tiered: bool = False):
    linear = tuple(is_undefined(a) for a in args)
    ct_nonzero = tuple(type(c) is not Zero for c in cts)
    tj = transpose_jaxpr(jaxpr, linear, ct_nonzero)
    res_vals = [a for a, lin in zip(args, linear) if not lin]
    outs = iter(jit_p.bind(*res_vals, *[c for c in cts if type(c) is not Zero], jaxpr=tj,
                           name=f"transpose_{name}", **_tier_param(tiered)))
    return [next(outs) if lin else None for lin in linear]


def _jit_jvp(primals, tangents, jaxpr: ClosedJaxpr, name: str, tiered: bool = False):
    in_nonzero = tuple(type(t) is not Zero for t in tangents)
    primal_j, tangent_j, out_nonzero, n_out = linearize_jaxpr(jaxpr, in_nonzero)
    outs_res = jit_p.bind(*primals, jaxpr=primal_j, name=name, **_tier_param(tiered))
    outs, res = outs_res[:n_out], outs_res[n_out:]
    nz_tangents = [t for t in tangents if type(t) is not Zero]
    t_outs = iter(jit_p.bind(*res, *nz_tangents, jaxpr=tangent_j, name=f"jvp_{name}",
                               **_tier_param(tiered)))
    tangents_out = [next(t_outs) if nz else Zero.like(o) for o, nz in zip(outs, out_nonzero)]
    return outs, tangents_out


def _jit_batch(vals, dims, jaxpr: ClosedJaxpr, name: str, axis_size: int,
               tiered: bool = False):
    bj, _ = batch_jaxpr(jaxpr, tuple(dims), axis_size, (True,) * len(jaxpr.out_avals))
    outs = jit_p.bind(*vals, jaxpr=bj, name=name, **_tier_param(tiered))
    return outs, [0] * len(outs)


jit_p.abstract_eval = _jit_abstract
jit_p.stage = _jit_stage
jit_p.jvp = _jit_jvp
jit_p.batch = _jit_batch
jit_p.transpose = _jit_transpose
jit_p.batch_needs_size = True
jit_p.check_signature = call_signature("jaxpr")
