"""linearize = jvp with the tangent computation staged into a linear jaxpr.

The primal computation runs in whatever interpreters are active (eagerly, or in an
outer transformation); only operations touching tangents are recorded. The recorded
program is linear in the tangents; its constants are the residuals it needs. vjp is
then the transpose of that program.

A linear map from one real scalar to one real scalar is a 1x1 matrix: its own
transpose. When the program is being staged (``jit``, ``make_jaxpr``),
``LinearFunction.transpose`` then evaluates the linear program forward on the
cotangent instead of running it backwards (``forward_program``, ``evaluate_forward``),
provided every linear equation is an elementwise operation on real floating operands
(products and quotients by residuals, sums, negations, float conversions): the result
is the sum over the program's paths of the products of their partial derivatives
either way, with the products rounded in the forward order instead of the reverse one.
Nested ``grad`` of a scalar function thus stages nested forward mode, whose repeated
derivatives jit's CSE merges exactly (every seed is the same value), where the reverse
sweeps compute equal values in different orders that no exact rewrite can merge: the
6th derivative of ``tanh(sin x) * exp x`` compiles to 122 equations instead of 632.
Eagerly nothing merges repeated values, and the backward pass binds slightly fewer
primitives (7-13% for nested ``grad``: grad's unit cotangent skips the products at
the output, forward evaluation only those at the input), so eager reverse mode
transposes as before.

Everything else is transposed as before: selections (``where``; their transpose
injects zeros that meet infinite partials, ``0 * inf = nan``, where forward evaluation
discards the branch, so reverse mode keeps JAX's NaN there), structural and complex
operations, calls and control flow (reverse mode through ``while_loop`` still raises),
custom VJPs. Only intermediate overflow or underflow can then tell the two orders
apart (as any reordering of a product).
"""
from __future__ import annotations

from ..core.abstract import ShapedArray
from ..core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from ..core.trace import Tracer, full_raise, get_aval, new_main, state
from .jvp import Zero, instantiate, jvp_flat
from .staging import JaxprBuilder, StagingTrace, StagingTracer
from .transpose import UndefinedPrimal, backward_pass

# Switch for measurements and tests (benchmarks/bench_smaller_programs.py compares with
# it off): evaluate 1x1 linear programs forward instead of transposing them.
SCALAR_SELF_TRANSPOSE = True


class LinearFunction:
    """The linear map of a linearization: tangents in -> tangents out."""

    def __init__(self, jaxpr, consts, in_avals, in_nonzero, out_avals, out_nonzero):
        self.closed = ClosedJaxpr(jaxpr, consts)
        self.in_avals = in_avals
        self.in_nonzero = in_nonzero
        self.out_avals = out_avals
        self.out_nonzero = out_nonzero
        self._forward: dict = {}  # output index -> its forward_program (or None)

    def apply(self, tangents):
        from ..core.eval import eval_jaxpr

        ts = [t for t, nz in zip(tangents, self.in_nonzero) if nz]
        outs = iter(eval_jaxpr(self.closed.jaxpr, self.closed.consts, *ts))
        return [next(outs) if nz else Zero(a) for a, nz in zip(self.out_avals, self.out_nonzero)]

    def transpose(self, cts):
        cts = [ct for ct, nz in zip(cts, self.out_nonzero) if nz]
        ct_in = self._self_transposed(cts)
        if ct_in is not None:
            return [ct_in if nz else Zero(a) for a, nz in zip(self.in_avals, self.in_nonzero)]
        args = [UndefinedPrimal(a) for a, nz in zip(self.in_avals, self.in_nonzero) if nz]
        res = iter(backward_pass(self.closed.jaxpr, self.closed.consts, args, cts))
        return [next(res) if nz else Zero(a) for a, nz in zip(self.in_avals, self.in_nonzero)]

    def _self_transposed(self, cts):
        """The cotangent of the one nonzero input when the map is real scalar -> real
        scalar (its own transpose): the linear program evaluated forward on the one
        nonzero cotangent. None when that does not apply (see the module docstring)."""
        if not SCALAR_SELF_TRANSPOSE or state().dynamic.level == 0:
            return None  # eager: see the module docstring
        nz_in = [a for a, nz in zip(self.in_avals, self.in_nonzero) if nz]
        live = [i for i, ct in enumerate(cts) if ct is not None and type(ct) is not Zero]
        if len(nz_in) != 1 or len(live) != 1:
            return None
        (a,), ct = nz_in, cts[live[0]]
        if a.shape != () or a.dtype.kind != "f":
            return None
        out = self.closed.jaxpr.outvars[live[0]]
        ct_aval = get_aval(ct)
        if out.aval.shape != () or out.aval.dtype != a.dtype or ct_aval.shape != () \
                or ct_aval.dtype != a.dtype:
            return None
        program = self._forward.get(live[0], False)
        if program is False:
            program = self._forward[live[0]] = forward_program(self.closed.jaxpr, out)
        if program is None:
            return None
        return evaluate_forward(program, self.closed.consts, ct)


def evaluate_forward(program: Jaxpr, consts, ct):
    """Run a ``forward_program`` on ``ct``. An equation with one linear operand of the
    result's type (``mul(t, r)``, ``div(t, r)``, ``neg t``) is a 1x1 map too, so it runs
    its transpose rule on the incoming value: the same operation, written with lax's
    functions, which skip ``1 * r`` (grad's unit cotangent) as the backward pass does.
    Sums of two linear values (the transposes of fan-outs) bind as they are."""
    env: dict = {}
    for v, c in zip(program.constvars, consts):
        env[v] = c
    env[program.invars[0]] = ct
    linear = {program.invars[0]}

    def read(v):
        return v.val if type(v) is Literal else env[v]

    for e in program.eqns:
        invals = [read(v) for v in e.invars]
        lin = [i for i, v in enumerate(e.invars) if type(v) is not Literal and v in linear]
        out = e.outvars[0]
        if len(lin) == 1 and e.invars[lin[0]].aval.shape == out.aval.shape \
                and e.invars[lin[0]].aval.dtype == out.aval.dtype:
            i = lin[0]
            args = [UndefinedPrimal(v.aval) if j == i else x
                    for j, (v, x) in enumerate(zip(e.invars, invals))]
            env[out] = instantiate(e.primitive.transpose(invals[i], *args, **e.params)[i],
                                   out.aval)
        else:
            env[out] = e.primitive.bind(*invals, **e.params)
        if lin:
            linear.add(out)
    return read(program.outvars[0])


def forward_program(jaxpr: Jaxpr, out) -> Jaxpr | None:
    """The equations of linear program ``jaxpr`` (one input) that compute output ``out``,
    as a program ``input -> out``, if each one reading the input (directly or not) is an
    elementwise, effect-free primitive with a transpose rule whose operands are all real
    floating values (which excludes selections: their predicate is boolean). Then its
    values are scalars (nothing elementwise reduces the input's shape back to the
    output's) and evaluating it forward gives what transposing it would (module
    docstring). None otherwise, or when ``out`` does not depend on the input (nothing
    flows back: ``backward_pass`` says so with a symbolic zero)."""
    if type(out) is not Var:
        return None
    needed = {out}
    kept = []
    for e in reversed(jaxpr.eqns):
        if any(o in needed for o in e.outvars):
            kept.append(e)
            needed.update(v for v in e.invars if type(v) is not Literal)
    kept.reverse()
    linear = set(jaxpr.invars)
    for e in kept:
        if not any(type(v) is not Literal and v in linear for v in e.invars):
            continue  # evaluated forward by the backward pass as well
        p = e.primitive
        if not p.elementwise or p.multiple_results or p.transpose is None or p.effectful \
                or any(v.aval.dtype.kind != "f" for v in (*e.invars, *e.outvars)):
            return None
        linear.update(e.outvars)
    if out not in linear:
        return None
    return Jaxpr(jaxpr.constvars, jaxpr.invars, [out], kept)


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
