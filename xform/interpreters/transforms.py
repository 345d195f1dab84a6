"""Jaxpr-to-jaxpr transformations: the held programs of higher-order primitives
(jit, cond, while, scan, custom derivatives, checkpoint) are transformed with these.

Each runs one of the interpreters on a ``ClosedJaxpr`` and stages the result into a
new ``ClosedJaxpr``; results are memoized in the program's ``cache``:

- ``jvp_jaxpr``: the joint JVP program ``(primals, tangents) -> (outs, tangents)``;
- ``linearize_jaxpr``: the JVP split into a primal program that also returns residuals
  and a linear tangent program (what reverse mode transposes);
- ``batch_jaxpr``: the vmap of a program;
- ``transpose_jaxpr``: the transpose of a program linear in some of its inputs;
- ``dce_jaxpr``: dead-code elimination (keeps equations with side effects).
"""
from __future__ import annotations

from ..core import hooks
from ..core.abstract import ShapedArray
from ..core.dtypes import tangent_dtype
from ..core.eval import eval_closed_jaxpr, eval_jaxpr
from ..core.ir import ClosedJaxpr, Jaxpr, Var, sub_jaxprs
from ..core.trace import Tracer, get_aval
from .batching import batch_flat
from .jvp import Zero, instantiate, jvp_flat
from .linearize import linearize_flat
from .staging import StagingTrace, closure_convert, trace_to_jaxpr
from .transpose import UndefinedPrimal, backward_pass, is_undefined


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    """The abstract value of a tangent of ``aval`` (float0 for integers and booleans)."""
    return ShapedArray(aval.shape, tangent_dtype(aval.dtype), False)


def zeros_of(aval: ShapedArray):
    return instantiate(Zero(ShapedArray(aval.shape, aval.dtype, False)))


def is_linear_tracer(x) -> bool:
    """Whether ``x`` is a tangent being recorded by ``linearize`` (a tracer of a
    non-dynamic staging trace): reverse mode is in progress."""
    if not isinstance(x, Tracer):
        return False
    tr = x._trace
    return isinstance(tr, StagingTrace) and not tr.main.payload.dynamic


def trace_flat(fun, in_avals, name: str) -> ClosedJaxpr:
    """Trace a flat function that closes over no tracers into a ClosedJaxpr."""
    jaxpr, consts = trace_to_jaxpr(fun, list(in_avals), name=name)
    closed, tracer_consts = closure_convert(jaxpr, consts)
    assert not tracer_consts, "internal error: unexpected closed-over tracers"
    return closed


run = eval_closed_jaxpr


# -- jvp and linearize --------------------------------------------------------------------


def jvp_jaxpr(closed: ClosedJaxpr, in_nonzero: tuple, instantiate_out: tuple | None = None):
    """The joint JVP program of ``closed``: ``(primals, nonzero tangents) -> (outs,
    nonzero tangent outs)``. Returns ``(ClosedJaxpr, out_nonzero)``; outputs listed in
    ``instantiate_out`` always get a (possibly zero) tangent. Memoized."""
    n_out = len(closed.out_avals)
    inst = tuple(instantiate_out) if instantiate_out is not None else (False,) * n_out
    key = ("jvp_jaxpr", tuple(in_nonzero), inst)
    hit = closed.cache.get(key)
    if hit is not None:
        return hit
    in_avals = closed.in_avals
    t_avals = [tangent_aval(a) for a, nz in zip(in_avals, in_nonzero) if nz]
    box = {}

    def fun(*args):
        primals = list(args[:len(in_avals)])
        it = iter(args[len(in_avals):])
        tangents = [next(it) if nz else Zero(tangent_aval(a)) for a, nz in zip(in_avals, in_nonzero)]
        outs, touts = jvp_flat(lambda *xs: run(closed, *xs), primals, tangents, name="jvp")
        out_nz = [type(t) is not Zero or i for t, i in zip(touts, inst)]
        box["out_nz"] = tuple(out_nz)
        return list(outs) + [instantiate(t, tangent_aval(a)) for t, a, nz
                             in zip(touts, closed.out_avals, out_nz) if nz]

    j = trace_flat(fun, list(in_avals) + t_avals, "jvp")
    result = (j, box["out_nz"])
    closed.cache[key] = result
    return result


def linearize_jaxpr(closed: ClosedJaxpr, in_nonzero: tuple[bool, ...]):
    """Split the JVP of ``closed`` into a primal program (primals -> outs + residuals)
    and a linear tangent program (residuals + nonzero tangents -> tangents).

    Returns (primal_jaxpr, tangent_jaxpr, out_nonzero, n_outs). Memoized per program.
    """
    key = ("linearize", in_nonzero)
    hit = closed.cache.get(key)
    if hit is not None:
        return hit
    box: dict = {}

    def primal_fun(*primals):
        outs, lin = linearize_flat(
            lambda *xs: eval_jaxpr(closed.jaxpr, closed.consts, *xs), list(primals),
            name="jvp", in_nonzero=list(in_nonzero))
        box["lin"] = lin
        return list(outs) + list(lin.closed.consts)

    primal_closed = trace_flat(primal_fun, closed.in_avals, "jvp")
    lin = box["lin"]
    lj = lin.closed.jaxpr
    tangent_jaxpr = ClosedJaxpr(Jaxpr([], list(lj.constvars) + list(lj.invars), lj.outvars, lj.eqns), [])
    result = (primal_closed, tangent_jaxpr, tuple(lin.out_nonzero), len(closed.out_avals))
    closed.cache[key] = result
    return result


# -- batching -----------------------------------------------------------------------------


def bcast_batch(x, axis_size: int, dim: int = 0):
    """Add a batch axis of ``axis_size`` at ``dim`` by broadcasting."""
    shape = list(get_aval(x).shape)
    bdims = tuple(i for i in range(len(shape) + 1) if i != dim)
    shape.insert(dim, axis_size)
    return hooks.broadcast_in_dim(x, tuple(shape), bdims)


def move_batch(x, d, to: int):
    if d is None or d == to:
        return x
    return hooks.moveaxis(x, d, to)


def batch_jaxpr(closed: ClosedJaxpr, dims: tuple, axis_size: int, force_out: tuple):
    """``vmap`` of ``closed`` for inputs batched at ``dims`` (ints or None). Outputs are
    batched at 0 when they depend on batched inputs or ``force_out`` says so, and
    unbatched otherwise. Returns ``(ClosedJaxpr, out_batched)``. Memoized."""
    key = ("batch_jaxpr", tuple(dims), axis_size, tuple(force_out))
    hit = closed.cache.get(key)
    if hit is not None:
        return hit
    in_avals = []
    for a, d in zip(closed.in_avals, dims):
        if d is None:
            in_avals.append(a)
        else:
            shape = list(a.shape)
            shape.insert(d, axis_size)
            in_avals.append(ShapedArray(shape, a.dtype, a.weak_type))
    box = {}

    def fun(*args):
        outs, odims = batch_flat(lambda *xs: run(closed, *xs), list(args), list(dims), axis_size)
        res, out_b = [], []
        for o, d, f in zip(outs, odims, force_out):
            if d is None and f:
                o = bcast_batch(o, axis_size)
                d = 0
            else:
                o = move_batch(o, d, 0)
                d = None if d is None else 0
            res.append(o)
            out_b.append(d is not None)
        box["out_b"] = tuple(out_b)
        return res

    j = trace_flat(fun, in_avals, "vmap")
    result = (j, box["out_b"])
    closed.cache[key] = result
    return result


# -- transposition ------------------------------------------------------------------------


def transpose_call(closed: ClosedJaxpr, cts, args):
    """Transpose a held program in place (evaluated by the current interpreters): one
    cotangent per argument (None for the defined, non-linear ones)."""
    outs = iter(backward_pass(closed.jaxpr, closed.consts, list(args), list(cts)))
    return [next(outs) if is_undefined(a) else None for a in args]


def transpose_jaxpr(closed: ClosedJaxpr, linear: tuple, ct_nonzero: tuple) -> ClosedJaxpr:
    """The transpose of ``closed`` as a program: ``(residuals, nonzero cotangents) ->
    cotangents of the linear inputs``. ``linear[i]`` says whether input i is linear
    (the others are residuals); ``ct_nonzero[j]`` whether output j gets a cotangent.
    Memoized."""
    key = ("transpose", tuple(linear), tuple(ct_nonzero))
    hit = closed.cache.get(key)
    if hit is not None:
        return hit
    in_avals = closed.in_avals
    res_avals = [a for a, lin in zip(in_avals, linear) if not lin]
    ct_avals = [a for a, nz in zip(closed.out_avals, ct_nonzero) if nz]

    def transposed(*res_and_cts):
        res = iter(res_and_cts[:len(res_avals)])
        nz_cts = iter(res_and_cts[len(res_avals):])
        full_args = [UndefinedPrimal(a) if lin else next(res) for a, lin in zip(in_avals, linear)]
        full_cts = [next(nz_cts) if nz else Zero(a) for a, nz in zip(closed.out_avals, ct_nonzero)]
        outs = backward_pass(closed.jaxpr, closed.consts, full_args, full_cts)
        return [instantiate(o) for o in outs]

    tj = trace_flat(transposed, res_avals + ct_avals, "transpose")
    closed.cache[key] = tj
    return tj


# -- dead-code elimination ----------------------------------------------------------------


def has_effects(eqn) -> bool:
    """Whether an equation has a side effect: its primitive is ``effectful`` (debug
    callbacks) or a program it holds has such an equation (a jit, cond or loop around a
    ``debug.print``)."""
    if eqn.primitive.effectful:
        return True
    return any(has_effects(e) for sub in sub_jaxprs(eqn) for e in sub.eqns)


def dce(jaxpr: Jaxpr) -> tuple[Jaxpr, set]:
    """Remove equations whose outputs are never used, unless they have side effects
    (``has_effects``). Returns the new jaxpr and the ids of the variables it reads (its
    live set)."""
    live = {v.id for v in jaxpr.outvars if type(v) is Var}
    add = live.add
    kept = []
    for eqn in reversed(jaxpr.eqns):
        outs = eqn.outvars
        if len(outs) == 1:
            if outs[0].id not in live and not has_effects(eqn):
                continue
        elif not any(v.id in live for v in outs) and not has_effects(eqn):
            continue
        kept.append(eqn)
        for v in eqn.invars:
            if type(v) is Var:
                add(v.id)
    kept.reverse()
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, kept), live


def dce_jaxpr(jaxpr: Jaxpr) -> Jaxpr:
    """``dce`` without the live set."""
    return dce(jaxpr)[0]


def dce_closed(jaxpr: Jaxpr, consts: list) -> tuple[Jaxpr, list]:
    """``dce`` that also drops the constants no equation reads any more."""
    j, live = dce(jaxpr)
    cv, cs = [], []
    for v, c in zip(j.constvars, consts):
        if v.id in live:
            cv.append(v)
            cs.append(c)
    return Jaxpr(cv, j.invars, j.outvars, j.eqns), cs


def batch_fun(fun, args, dims, axis_size: int) -> list:
    """vmap of a flat function ``fun(*args) -> list`` whose inputs are batched at
    ``dims`` (ints or None): every output comes back batched at axis 0."""
    outs, odims = batch_flat(lambda *xs: list(fun(*xs)), list(args), list(dims), axis_size)
    return [bcast_batch(o, axis_size) if d is None else move_batch(o, d, 0)
            for o, d in zip(outs, odims)]
