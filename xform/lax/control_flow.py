"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map.

The user-facing functions trace their Python callables (branches, loop bodies) once
into closed jaxprs held by three primitives. Values a body closes over that are
tracers of an enclosing transformation are passed as explicit leading operands
(``closure_convert``); concrete closed-over arrays stay constants of the held
``ClosedJaxpr`` (``jaxpr.consts``).

Primitives and their parameters (for interpreters and the Numba backend)
------------------------------------------------------------------------

``cond``  (``cond_p``, multiple results)
    operands: ``index, *ops``. ``index`` is an int32 scalar, already clamped to
    ``[0, len(branches))``.
    params: ``branches``: tuple of ``ClosedJaxpr``; each takes ``ops`` (all branches
    take the same operands, unused ones included) and returns outputs of identical
    shapes/dtypes. Meaning: ``outs = branches[index](*ops)``.
    ``lax.cond(pred, t, f, *ops)`` binds ``branches=(f, t)`` with ``index=int(pred)``.

``while``  (``while_p``, multiple results)
    operands: ``*cond_consts, *body_consts, *init``.
    params: ``cond_jaxpr`` (``ClosedJaxpr``: ``cond_consts + carry -> [bool scalar]``),
    ``body_jaxpr`` (``ClosedJaxpr``: ``body_consts + carry -> carry``),
    ``cond_nconsts``, ``body_nconsts`` (ints). Meaning::

        carry = init
        while cond_jaxpr(*cond_consts, *carry)[0]:
            carry = body_jaxpr(*body_consts, *carry)
        return carry

``scan``  (``scan_p``, multiple results)
    operands: ``*consts, *init, *xs``; every ``xs`` array has leading axis ``length``.
    params: ``jaxpr`` (``ClosedJaxpr``: ``consts + carry + x_slices -> carry + y_slices``),
    ``num_consts``, ``num_carry``, ``length`` (ints), ``reverse`` (bool), ``unroll``
    (int, a hint only). Meaning::

        carry = init
        for i in (reversed(range(length)) if reverse else range(length)):
            carry, y = jaxpr(*consts, *carry, *[x[i] for x in xs])
            ys[i] = y            # every y output stacked along a new leading axis
        return carry + ys

All three evaluate eagerly with ``eval_jaxpr`` in a Python loop (``impl``), stage as
one equation (a loop of any length traces to a program of constant size), and have
JVP, transpose (cond, scan) and batching rules:

- JVP (cond, scan) is split like jit's (``xform.jit.linearize_jaxpr``): a primal
  primitive that also returns residuals, then a tangent primitive over residuals and
  tangents. Under ``linearize`` only the tangent primitive is recorded; a scan
  stores per iteration only the residuals the tangent body uses (loop-invariant
  residuals are computed once, xs are reused, not copied).
- while_loop's JVP is a joint loop over (primal, tangent). It is forward-mode only:
  its transpose raises the error JAX gives, suggesting ``scan``/``fori_loop``.
- Batching with a batched predicate: cond runs every branch and selects, while_loop
  runs until all lanes are done and updates only the lanes still running.

Under ``jit`` (the ``numba_lower`` attributes, section "Numba lowering" below) the three
primitives become real ``if``/``while``/``for`` statements of the one generated Numba
function: held programs are optimized and emitted inline, carries are local variables,
scan's ys are preallocated and written per iteration, and the generated source depends
on a scan's length only through loop bounds.
"""
from __future__ import annotations

import numpy as np

from .._util import flatten_fun, fun_name
from ..core.abstract import ShapedArray
from ..core.dtypes import result_type, tangent_dtype
from ..core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from ..core.primitive import Primitive
from ..core.pytree import tree_flatten, tree_unflatten
from ..core.trace import Tracer, get_aval
from ..interpreters.batching import batch_flat
from ..interpreters.eval import eval_jaxpr
from ..interpreters.jvp import Zero, instantiate, jvp_flat
from ..interpreters.staging import StagingTrace, closure_convert, dce_jaxpr, trace_to_jaxpr
from ..interpreters.transpose import UndefinedPrimal, backward_pass, is_undefined

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map",
           "cond_p", "while_p", "scan_p"]


# -- helpers shared with xform.custom_derivatives and xform.checkpoint ------------------


def _lax():
    from .. import lax

    return lax


def tangent_aval(aval: ShapedArray) -> ShapedArray:
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


def trace_fun(fun, args_tree, in_avals, name: str):
    """Trace ``fun`` (called as ``fun(*args)`` where ``args`` unflattens from
    ``args_tree``) at ``in_avals``. Returns ``(closed_jaxpr, tracer_consts, out_tree)``;
    the jaxpr takes ``tracer_consts + flat_args``."""
    flat, store = flatten_fun(fun, args_tree)
    jaxpr, consts = trace_to_jaxpr(flat, list(in_avals), name=name)
    closed, tracer_consts = closure_convert(jaxpr, consts)
    return closed, tracer_consts, store["tree"]


def trace_flat(fun, in_avals, name: str) -> ClosedJaxpr:
    """Trace a flat function that closes over no tracers into a ClosedJaxpr."""
    jaxpr, consts = trace_to_jaxpr(fun, list(in_avals), name=name)
    closed, tracer_consts = closure_convert(jaxpr, consts)
    assert not tracer_consts, "internal error: unexpected closed-over tracers"
    return closed


def run(closed: ClosedJaxpr, *args):
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def signature(tree, avals) -> str:
    """A readable type signature of a pytree of abstract values."""

    class _A:
        def __init__(self, a):
            self.a = a

        def __repr__(self):
            return self.a.str_short() if hasattr(self.a, "str_short") else repr(self.a)

    return repr(tree_unflatten(tree, [_A(a) for a in avals]))


def _same_type(a: ShapedArray, b: ShapedArray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype


def coerce_outputs(vals, avals):
    """Eager results as numpy values of the declared dtypes."""
    out = []
    for v, a in zip(vals, avals):
        if not isinstance(v, (np.ndarray, np.generic)) or v.dtype != a.dtype:
            v = np.asarray(v, dtype=a.dtype)
            v = v[()] if v.ndim == 0 else v
        out.append(v)
    return out


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


def batch_closed(closed: ClosedJaxpr, dims: tuple, axis_size: int, force_out: tuple):
    """``vmap`` of ``closed`` for inputs batched at ``dims`` (ints or None). Outputs are
    batched at 0 when they depend on batched inputs or ``force_out`` says so, and
    unbatched otherwise. Returns ``(ClosedJaxpr, out_batched)``. Memoized."""
    key = ("batch_closed", tuple(dims), axis_size, tuple(force_out))
    hit = closed.cache.get(key)
    if hit is not None:
        return hit
    lax = _lax()
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
            elif d is not None and d != 0:
                o = lax.moveaxis(o, d, 0)
                d = 0
            res.append(o)
            out_b.append(d is not None)
        box["out_b"] = tuple(out_b)
        return res

    j = trace_flat(fun, in_avals, "vmap")
    result = (j, box["out_b"])
    closed.cache[key] = result
    return result


def bcast_batch(x, axis_size: int, dim: int = 0):
    """Add a batch axis of ``axis_size`` at ``dim`` by broadcasting."""
    lax = _lax()
    shape = list(get_aval(x).shape)
    bdims = tuple(i for i in range(len(shape) + 1) if i != dim)
    shape.insert(dim, axis_size)
    return lax.broadcast_in_dim(x, tuple(shape), bdims)


def move_batch(x, d, to: int):
    if d is None or d == to:
        return x
    return _lax().moveaxis(x, d, to)


def transpose_call(closed: ClosedJaxpr, cts, args):
    """Transpose a held program: one cotangent per argument (None for the defined,
    non-linear ones)."""
    cts = list(cts)
    outs = iter(backward_pass(closed.jaxpr, closed.consts, list(args), cts))
    return [next(outs) if is_undefined(a) else None for a in args]


def inline_lowering(param: str):
    """A Numba lowering rule (``numba_lower``) that inlines the program held in
    ``eqn.params[param]`` (for call-like primitives)."""

    def lower(em, eqn, ins):
        closed = eqn.params[param]
        return em.emit_jaxpr(closed.jaxpr, ins, closed.consts)

    return lower


def _with_invars(closed: ClosedJaxpr, invars) -> ClosedJaxpr:
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, invars, j.outvars, j.eqns), closed.consts)


def _check_int_fits(x, dtype, where: str):
    """``x``, after checking that a concrete weakly typed integer fits ``dtype``: one
    that does not raises OverflowError, as numpy does (no silent wrap-around)."""
    dt = np.dtype(dtype)
    if not isinstance(x, Tracer) and dt.kind in "iu":
        a = get_aval(x)
        if a.weak_type and a.dtype.kind in "iu" and a.shape == ():
            v, info = int(np.asarray(x)), np.iinfo(dt)
            if not info.min <= v <= info.max:
                raise OverflowError(f"{where}: Python integer {v} out of bounds for {dt} (the "
                                    f"dtype of the other branch or of the loop's output).")
    return x


def _weak_int_to(x, dtype, where: str):
    return _lax().convert_element_type(_check_int_fits(x, dtype, where), np.dtype(dtype))


def _convert_outputs(closed: ClosedJaxpr, avals, where: str = "cond") -> ClosedJaxpr:
    """Wrap ``closed`` so that its outputs have dtypes (and weak types) ``avals``."""
    lax = _lax()

    def fun(*args):
        outs = run(closed, *args)
        return [lax.convert_element_type(_check_int_fits(o, a.dtype, where), a.dtype,
                                         a.weak_type) for o, a in zip(outs, avals)]

    return trace_flat(fun, closed.in_avals, "convert")


def _unify_consts(per_branch_consts):
    """Union of closed-over tracers of several traced functions (deduplicated)."""
    all_consts, index = [], {}
    for consts in per_branch_consts:
        for c in consts:
            if id(c) not in index:
                index[id(c)] = len(all_consts)
                all_consts.append(c)
    return all_consts, index


def _pad_consts(closed: ClosedJaxpr, consts, all_consts, index) -> ClosedJaxpr:
    n = len(consts)
    own = {index[id(c)]: v for c, v in zip(consts, closed.jaxpr.invars[:n])}
    head = [own.get(j) or Var(get_aval(c)) for j, c in enumerate(all_consts)]
    return _with_invars(closed, head + list(closed.jaxpr.invars[n:]))


_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _weak_fits(weak_dtype, dtype) -> bool:
    """Whether a weakly typed value (a Python scalar) may take ``dtype``: never to a
    lower kind (a Python float does not become an int, as in JAX)."""
    return _KIND_RANK[np.dtype(dtype).kind] >= _KIND_RANK[np.dtype(weak_dtype).kind]


def _promotable_carry(init_avals, out_avals):
    """Indices of weakly typed init carries whose body output has another dtype/weak
    type of the same shape and no lower kind: the init is promoted to the output type
    (as in JAX)."""
    fix = []
    for i, (a, b) in enumerate(zip(init_avals, out_avals)):
        if a.shape == b.shape and (a.dtype != b.dtype or a.weak_type != b.weak_type) and \
                a.weak_type and _weak_fits(a.dtype, b.dtype):
            fix.append(i)
    return fix


# -- cond / switch -----------------------------------------------------------------------

cond_p = Primitive("cond", multiple_results=True)


def _clamp_index_value(i, n: int) -> int:
    return int(min(max(int(i), 0), n - 1))


def _cond_impl(index, *ops, branches):
    b = branches[_clamp_index_value(index, len(branches))]
    return coerce_outputs(run(b, *ops), _cond_out_avals(branches))


def _cond_out_avals(branches):
    out = []
    for avals in zip(*[b.out_avals for b in branches]):
        a0 = avals[0]
        out.append(ShapedArray(a0.shape, a0.dtype, all(a.weak_type for a in avals)))
    return out


def _cond_abstract(index, *ops, branches):
    if index.shape != () or index.dtype.kind not in "iu":
        raise TypeError(f"cond: the branch index must be an integer scalar, got {index.str_short()}")
    for b in branches:
        if len(b.in_avals) != len(ops):
            raise TypeError(f"cond: branches take {len(b.in_avals)} operands, got {len(ops)}")
    return _cond_out_avals(branches)


def _cache_home(branches) -> dict:
    return branches[0].cache


def _cond_jvp(primals, tangents, branches):
    index, ops = primals[0], primals[1:]
    t_ops = tangents[1:]
    in_nz = tuple(type(t) is not Zero for t in t_ops)
    prog = _cond_jvp_programs(branches, in_nz)
    primal_branches, tangent_branches, out_nz, n_out = prog
    outs_res = cond_p.bind(index, *ops, branches=primal_branches)
    outs, res = outs_res[:n_out], outs_res[n_out:]
    nz_tangents = [t for t in t_ops if type(t) is not Zero]
    if not any(out_nz):
        return outs, [Zero.like(o) for o in outs]
    t_outs = iter(cond_p.bind(index, *res, *nz_tangents, branches=tangent_branches))
    return outs, [next(t_outs) if nz else Zero.like(o) for o, nz in zip(outs, out_nz)]


def _cond_jvp_programs(branches, in_nz):
    from ..jit import linearize_jaxpr

    home = _cache_home(branches)
    key = ("cond_jvp", tuple(id(b) for b in branches), in_nz)
    hit = home.get(key)
    if hit is not None:
        return hit[1]
    lins = [linearize_jaxpr(b, in_nz) for b in branches]
    n_out = len(branches[0].out_avals)
    out_nz = tuple(any(lin[2][i] for lin in lins) for i in range(n_out))
    res_avals = [lin[0].out_avals[n_out:] for lin in lins]
    offsets = np.cumsum([0] + [len(r) for r in res_avals]).tolist()
    all_res = [a for r in res_avals for a in r]
    out_avals = branches[0].out_avals
    t_in_avals = [tangent_aval(a) for a, nz in zip(branches[0].in_avals, in_nz) if nz]

    primal_branches, tangent_branches = [], []
    for bi, (pj, tj, b_out_nz, _) in enumerate(lins):
        def primal(*ops, pj=pj, bi=bi):
            outs = run(pj, *ops)
            own = iter(outs[n_out:])
            res = [next(own) if offsets[bi] <= k < offsets[bi + 1] else zeros_of(a)
                   for k, a in enumerate(all_res)]
            return list(outs[:n_out]) + res

        def tangent(*args, tj=tj, bi=bi, b_out_nz=b_out_nz):
            res, ts = args[:len(all_res)], args[len(all_res):]
            own = res[offsets[bi]:offsets[bi + 1]]
            touts = iter(run(tj, *own, *ts))
            full = [next(touts) if nz else None for nz in b_out_nz]
            return [zeros_of(tangent_aval(a)) if t is None else t
                    for t, a, nz in zip(full, out_avals, out_nz) if nz]

        primal_branches.append(trace_flat(primal, branches[bi].in_avals, "cond_jvp"))
        tangent_branches.append(trace_flat(tangent, all_res + t_in_avals, "cond_jvp"))
    result = (tuple(primal_branches), tuple(tangent_branches), out_nz, n_out)
    home[key] = (branches, result)
    return result


def _cond_transpose(cts, index, *ops, branches):
    if is_undefined(index):
        raise ValueError("cond: transpose with respect to the branch index (not linear)")
    linear = tuple(is_undefined(a) for a in ops)
    ct_nz = tuple(type(c) is not Zero for c in cts)
    home = _cache_home(branches)
    key = ("cond_transpose", tuple(id(b) for b in branches), linear, ct_nz)
    hit = home.get(key)
    in_avals = branches[0].in_avals
    if hit is None:
        res_avals = [a for a, lin in zip(in_avals, linear) if not lin]
        out_avals = _cond_out_avals(branches)
        ct_avals = [tangent_aval(a) for a, nz in zip(out_avals, ct_nz) if nz]
        tbranches = []
        for b in branches:
            def transposed(*args, b=b):
                res = iter(args[:len(res_avals)])
                cts_it = iter(args[len(res_avals):])
                full = [UndefinedPrimal(a) if lin else next(res) for a, lin in zip(in_avals, linear)]
                full_cts = [next(cts_it) if nz else Zero(tangent_aval(a))
                            for a, nz in zip(out_avals, ct_nz)]
                outs = backward_pass(b.jaxpr, b.consts, full, full_cts)
                return [instantiate(o, tangent_aval(a))
                        for o, a in zip(outs, [a for a, lin in zip(in_avals, linear) if lin])]

            tbranches.append(trace_flat(transposed, res_avals + ct_avals, "cond_transpose"))
        hit = (branches, tuple(tbranches))
        home[key] = hit
    tbranches = hit[1]
    res = [a for a, lin in zip(ops, linear) if not lin]
    outs = iter(cond_p.bind(index, *res, *[c for c in cts if type(c) is not Zero],
                            branches=tbranches))
    return [None] + [next(outs) if lin else None for lin in linear]


def _cond_batch(vals, dims, branches, axis_size):
    lax = _lax()
    index, ops = vals[0], list(vals[1:])
    idim, odims = dims[0], list(dims[1:])
    ops = [move_batch(x, d, 0) for x, d in zip(ops, odims)]
    in_dims = tuple(None if d is None else 0 for d in odims)
    n_out = len(branches[0].out_avals)
    if idim is None:
        force = (False,) * n_out
        outs_b = [batch_closed(b, in_dims, axis_size, force)[1] for b in branches]
        force = tuple(any(ob[i] for ob in outs_b) for i in range(n_out))
        bbranches = tuple(batch_closed(b, in_dims, axis_size, force)[0] for b in branches)
        outs = cond_p.bind(index, *ops, branches=bbranches)
        return outs, [0 if f else None for f in force]
    # Batched predicate: every branch runs on every lane, then a per-lane selection.
    index = move_batch(index, idim, 0)
    force = (True,) * n_out
    results = [run(batch_closed(b, in_dims, axis_size, force)[0], *ops) for b in branches]
    outs = []
    for k in range(n_out):
        out = results[-1][k]
        shape = get_aval(out).shape
        for i in range(len(branches) - 2, -1, -1):
            pick = lax.le(index, np.int32(i)) if i == 0 else lax.eq(index, np.int32(i))
            if shape != (axis_size,):
                pick = lax.broadcast_in_dim(pick, shape, (0,))
            out = lax.select(pick, results[i][k], out)
        outs.append(out)
    return outs, [0] * n_out


cond_p.impl = _cond_impl
cond_p.abstract_eval = _cond_abstract
cond_p.jvp = _cond_jvp
cond_p.transpose = _cond_transpose
cond_p.batch = _cond_batch
cond_p.batch_needs_size = True


def _trace_branches(funs, ops, names, where):
    leaves, in_tree = tree_flatten(tuple(ops))
    avals = [get_aval(x, where) for x in leaves]
    traced = [trace_fun(f, in_tree, avals, where) for f in funs]
    out_trees = [t[2] for t in traced]
    closeds = [t[0] for t in traced]
    consts = [t[1] for t in traced]
    def mismatch(name, tree, c):
        return TypeError(
            f"{where}: {names[0]} and {name} output must have identical types "
            f"(pytree structure, shapes and dtypes), got\n"
            f"  {names[0]} output: {signature(out_trees[0], closeds[0].out_avals)}\n"
            f"  {name} output: {signature(tree, c.out_avals)}")

    for name, tree, c in zip(names, out_trees, closeds):
        if tree != out_trees[0]:
            raise mismatch(name, tree, c)
    for name, tree, c in zip(names, out_trees, closeds):
        if any(not _same_type(a, b) for a, b in zip(c.out_avals, closeds[0].out_avals)):
            # Weakly typed outputs (Python scalars) adopt the strong branch's dtype.
            fixed = _join_weak_outputs(closeds)
            if fixed is None:
                raise mismatch(name, tree, c)
            closeds = fixed
            break
    all_consts, index = _unify_consts(consts)
    branches = tuple(_pad_consts(c, k, all_consts, index) for c, k in zip(closeds, consts))
    return branches, all_consts, leaves, out_trees[0]


def _join_weak_outputs(closeds):
    target = []
    for avals in zip(*[c.out_avals for c in closeds]):
        if any(a.shape != avals[0].shape for a in avals):
            return None
        strong = {a.dtype for a in avals if not a.weak_type}
        if len(strong) > 1:
            return None
        if strong:
            dt = strong.pop()
            if not all(_weak_fits(a.dtype, dt) for a in avals if a.weak_type):
                return None  # e.g. a Python float branch against an int32 one
            target.append(ShapedArray(avals[0].shape, dt, False))
        elif len({a.dtype for a in avals}) == 1:
            target.append(avals[0])
        else:
            return None
    return [c if all(_same_type(a, t) for a, t in zip(c.out_avals, target))
            else _convert_outputs(c, target) for c in closeds]


def _branch_index(index, n: int, where: str):
    lax = _lax()
    if not isinstance(index, Tracer):
        aval = get_aval(index, where)
        if aval.shape != ():
            raise TypeError(f"{where}: the index must be a scalar, got {aval.str_short()}")
        if aval.dtype.kind not in "biu":
            raise TypeError(f"{where}: the index must be an integer or boolean scalar, got "
                            f"{aval.str_short()}")
        # as traced indices: to int32 (wrapping, as JAX does), then clamped
        return np.int32(_clamp_index_value(np.asarray(index).astype(np.int32)[()], n))
    aval = index.aval
    if aval.shape != ():
        raise TypeError(f"{where}: the index must be a scalar, got {aval.str_short()}")
    if aval.dtype.kind not in "biu":
        raise TypeError(f"{where}: the index must be an integer or boolean scalar, got "
                        f"{aval.str_short()}")
    index = lax.convert_element_type(index, np.int32)
    return lax.clamp(np.int32(0), index, np.int32(n - 1))


def switch(index, branches, *operands):
    """Apply ``branches[index](*operands)``; ``index`` is clamped to the valid range.

    All branches are traced (they must return the same types); only the selected one
    runs. Under ``vmap`` with a batched index every branch runs and results are
    selected per lane.

    >>> import numpy as np; from xform import lax
    >>> lax.switch(1, [lambda x: lax.neg(x), lambda x: lax.mul(x, 2.0)], 3.0)
    np.float64(6.0)
    """
    where = "switch"
    branches = list(branches)
    if not branches:
        raise ValueError("switch: needs at least one branch")
    for b in branches:
        if not callable(b):
            raise TypeError(f"switch: branches must be callables, got {type(b).__name__}")
    idx = _branch_index(index, len(branches), where)
    names = [f"branch 0 ({fun_name(branches[0])})"] + [
        f"branch {i} ({fun_name(b)})" for i, b in enumerate(branches) if i > 0]
    jaxprs, consts, leaves, out_tree = _trace_branches(branches, operands, names, where)
    if len(branches) == 1:
        return tree_unflatten(out_tree, run(jaxprs[0], *consts, *leaves))
    outs = cond_p.bind(idx, *consts, *leaves, branches=jaxprs)
    return tree_unflatten(out_tree, outs)


def cond(pred, true_fun, false_fun, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``.

    ``pred`` is a boolean (or numeric, nonzero = true) scalar; both functions are
    traced and must return the same types; only one runs.

    >>> import numpy as np; from xform import lax
    >>> lax.cond(np.float64(2.0) > 1.0, lax.sin, lax.cos, 0.0)
    np.float64(0.0)
    """
    where = "cond"
    if not (callable(true_fun) and callable(false_fun)):
        raise TypeError("cond: true_fun and false_fun must be callables")
    aval = get_aval(pred, where)
    if aval.shape != ():
        raise TypeError(f"cond: pred must be a scalar, got {aval.str_short()}")
    if aval.dtype.kind not in "biuf":
        raise TypeError(f"cond: pred must be a boolean or numeric scalar, got {aval.str_short()}")
    if isinstance(pred, Tracer):
        if aval.dtype != np.bool_:
            pred = _lax().ne(pred, np.zeros((), aval.dtype)[()])
        idx = _lax().convert_element_type(pred, np.int32)
    else:
        idx = np.int32(bool(pred))
    jaxprs, consts, leaves, out_tree = _trace_branches(
        [true_fun, false_fun], operands, ["true_fun", "false_fun"], where)
    outs = cond_p.bind(idx, *consts, *leaves, branches=(jaxprs[1], jaxprs[0]))
    return tree_unflatten(out_tree, outs)


# -- while_loop --------------------------------------------------------------------------

while_p = Primitive("while", multiple_results=True)

_WHILE_REVERSE_MSG = (
    "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop "
    "with dynamic start/stop values (the number of iterations is only known at run "
    "time, so the residuals of every iteration cannot be stored). Try using lax.scan, "
    "or lax.fori_loop with static (Python int) start/stop, or use forward mode "
    "(jvp, jacfwd).")


def _while_split(args, cond_nconsts, body_nconsts):
    cc = list(args[:cond_nconsts])
    bc = list(args[cond_nconsts:cond_nconsts + body_nconsts])
    init = list(args[cond_nconsts + body_nconsts:])
    return cc, bc, init


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, carry = _while_split(args, cond_nconsts, body_nconsts)
    while bool(run(cond_jaxpr, *cc, *carry)[0]):
        carry = run(body_jaxpr, *bc, *carry)
    return coerce_outputs(carry, body_jaxpr.out_avals)


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    _, _, init = _while_split(avals, cond_nconsts, body_nconsts)
    for a, b in zip(init, body_jaxpr.out_avals):
        if not _same_type(a, b):
            raise TypeError(f"while_loop: carry type {a.str_short()} does not match the body "
                            f"output {b.str_short()}")
    return [ShapedArray(a.shape, a.dtype, a.weak_type and b.weak_type)
            for a, b in zip(init, body_jaxpr.out_avals)]


def _while_jvp(primals, tangents, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, init = _while_split(primals, cond_nconsts, body_nconsts)
    _, bct, initt = _while_split(tangents, cond_nconsts, body_nconsts)
    bc_nz = [type(t) is not Zero for t in bct]
    carry_nz = [type(t) is not Zero for t in initt]
    nk = len(init)
    for _ in range(nk + 1):
        _, out_nz = jvp_jaxpr(body_jaxpr, tuple(bc_nz + carry_nz))
        new = [a or b for a, b in zip(carry_nz, out_nz)]
        if new == carry_nz:
            break
        carry_nz = new
    if not any(carry_nz):
        outs = while_p.bind(*primals, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                            cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
        return outs, [Zero.like(o) for o in outs]
    bj, _ = jvp_jaxpr(body_jaxpr, tuple(bc_nz + carry_nz), tuple(carry_nz))
    # bj takes (bc, carry, bc_t, carry_t); the loop needs consts first: (bc, bc_t, carry, carry_t)
    nb, n_bt = len(bc), sum(bc_nz)
    inv = bj.jaxpr.invars
    p_bc, p_carry = inv[:nb], inv[nb:nb + nk]
    t_bc, t_carry = inv[nb + nk:nb + nk + n_bt], inv[nb + nk + n_bt:]
    body = _with_invars(bj, p_bc + t_bc + p_carry + t_carry)
    t_carry_avals = [tangent_aval(a) for a, nz in zip(body_jaxpr.out_avals, carry_nz) if nz]
    cinv = list(cond_jaxpr.jaxpr.invars) + [Var(a) for a in t_carry_avals]
    cj = _with_invars(cond_jaxpr, cinv)
    bct_nz = [t for t in bct if type(t) is not Zero]
    init_t = [instantiate(t, tangent_aval(get_aval(p)))
              for p, t, nz in zip(init, initt, carry_nz) if nz]
    joint = while_p.bind(*cc, *bc, *bct_nz, *init, *init_t, cond_jaxpr=cj, body_jaxpr=body,
                         cond_nconsts=cond_nconsts, body_nconsts=nb + n_bt)
    t_it = iter(joint[nk:])
    t_outs = [next(t_it) if nz else None for nz in carry_nz]
    if any(is_linear_tracer(t) for t in bct_nz + init_t):
        # Reverse mode (linearize): the primal result must not depend on the recorded
        # tangent program, so it comes from a separate primal loop. The joint loop in
        # the linear program evaluates forward but cannot be transposed.
        outs = while_p.bind(*primals, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                            cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
    else:
        outs = joint[:nk]
    return outs, [Zero.like(o) if t is None else t for o, t in zip(outs, t_outs)]


def _while_transpose(cts, *args, **params):
    raise ValueError(_WHILE_REVERSE_MSG)


def _while_batch(vals, dims, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, axis_size):
    lax = _lax()
    cc, bc, init = _while_split(vals, cond_nconsts, body_nconsts)
    ccd, bcd, initd = _while_split(dims, cond_nconsts, body_nconsts)
    cc = [move_batch(x, d, 0) for x, d in zip(cc, ccd)]
    bc = [move_batch(x, d, 0) for x, d in zip(bc, bcd)]
    ccd = [None if d is None else 0 for d in ccd]
    bcd = [None if d is None else 0 for d in bcd]
    nk = len(init)
    carry_b = [d is not None for d in initd]
    pred_b = False
    for _ in range(nk + 2):
        cdims = [0 if b else None for b in carry_b]
        _, out_b = batch_closed(body_jaxpr, tuple(bcd + cdims), axis_size, tuple(carry_b))
        new = [a or b for a, b in zip(carry_b, out_b)]
        _, (pred_b,) = batch_closed(cond_jaxpr, tuple(ccd + cdims), axis_size, (False,))
        if pred_b:
            new = [True] * nk
        if new == carry_b:
            break
        carry_b = new
    cdims = tuple(0 if b else None for b in carry_b)
    init = [move_batch(x, d, 0) if d is not None else (bcast_batch(x, axis_size) if b else x)
            for x, d, b in zip(init, initd, carry_b)]
    bj, _ = batch_closed(body_jaxpr, tuple(bcd) + cdims, axis_size, tuple(carry_b))
    cj, _ = batch_closed(cond_jaxpr, tuple(ccd) + cdims, axis_size, (False,))
    out_dims = [0 if b else None for b in carry_b]
    if not pred_b:
        outs = while_p.bind(*cc, *bc, *init, cond_jaxpr=cj, body_jaxpr=bj,
                            cond_nconsts=cond_nconsts, body_nconsts=body_nconsts)
        return outs, out_dims
    # Batched predicate: loop while any lane runs; finished lanes keep their carry.
    nc = len(cc)

    def new_cond(*args):
        p = run(cj, *args)[0]
        return [lax.reduce_or(p, (0,))]

    def new_body(*args):
        ccv, bcv, carry = args[:nc], args[nc:nc + len(bc)], args[nc + len(bc):]
        p = run(cj, *ccv, *carry)[0]
        new = run(bj, *bcv, *carry)
        out = []
        for n, c in zip(new, carry):
            shape = get_aval(c).shape
            pick = p if len(shape) == 1 else lax.broadcast_in_dim(p, shape, (0,))
            out.append(lax.select(pick, n, c))
        return out

    carry_avals = [get_aval(x) for x in init]
    cj2 = trace_flat(new_cond, cj.in_avals, "vmap")
    bj2 = trace_flat(new_body, list(cj.in_avals[:nc]) + list(bj.in_avals[:len(bc)]) + carry_avals,
                     "vmap")
    outs = while_p.bind(*cc, *cc, *bc, *init, cond_jaxpr=cj2, body_jaxpr=bj2,
                        cond_nconsts=nc, body_nconsts=nc + len(bc))
    return outs, [0] * nk


while_p.impl = _while_impl
while_p.abstract_eval = _while_abstract
while_p.jvp = _while_jvp
while_p.transpose = _while_transpose
while_p.batch = _while_batch
while_p.batch_needs_size = True


def while_loop(cond_fun, body_fun, init_val):
    """``val = init_val; while cond_fun(val): val = body_fun(val); return val``.

    ``body_fun`` must return a value of the same structure and types as ``init_val``;
    ``cond_fun`` a boolean scalar. Differentiable in forward mode (jvp, jacfwd) only;
    for reverse mode use ``scan`` or ``fori_loop`` with static bounds.

    >>> from xform import lax
    >>> int(lax.while_loop(lambda i: lax.lt(i, 10), lambda i: lax.add(i, 3), 0))
    12
    """
    where = "while_loop"
    if not (callable(cond_fun) and callable(body_fun)):
        raise TypeError("while_loop: cond_fun and body_fun must be callables")
    leaves, in_tree = tree_flatten(init_val)
    avals = [get_aval(x, where) for x in leaves]
    carry_tree = in_tree
    for attempt in range(2):
        body, body_consts, body_tree = trace_fun(
            lambda c: body_fun(c), tree_flatten((init_val,))[1], avals, where)
        body_tree_ok = body_tree == carry_tree
        if body_tree_ok:
            fix = _promotable_carry(avals, body.out_avals)
            if fix and attempt == 0:
                leaves = [_weak_int_to(x, body.out_avals[i].dtype, "while_loop")
                          if i in fix else x for i, x in enumerate(leaves)]
                avals = [get_aval(x) for x in leaves]
                init_val = tree_unflatten(in_tree, leaves)
                continue
        if not body_tree_ok or any(not _same_type(a, b) for a, b in zip(avals, body.out_avals)):
            raise TypeError(
                f"while_loop: body_fun output and input must have identical types "
                f"(pytree structure, shapes and dtypes), got\n"
                f"  input carry (init_val): {signature(carry_tree, avals)}\n"
                f"  body_fun output:        {signature(body_tree, body.out_avals)}")
        break
    cond_j, cond_consts, cond_tree = trace_fun(lambda c: cond_fun(c), tree_flatten((init_val,))[1],
                                               avals, where)
    oa = cond_j.out_avals
    if len(oa) != 1 or oa[0].shape != () or oa[0].dtype != np.bool_:
        raise TypeError(
            f"while_loop: cond_fun must return a boolean scalar, but got output type(s) "
            f"{signature(cond_tree, oa)}.")
    outs = while_p.bind(*cond_consts, *body_consts, *leaves, cond_jaxpr=cond_j, body_jaxpr=body,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))
    return tree_unflatten(carry_tree, outs)


# -- scan ----------------------------------------------------------------------------------

scan_p = Primitive("scan", multiple_results=True)


def _scan_split(args, num_consts, num_carry):
    return (list(args[:num_consts]), list(args[num_consts:num_consts + num_carry]),
            list(args[num_consts + num_carry:]))


def _scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse, unroll):
    consts, carry, xs = _scan_split(args, num_consts, num_carry)
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.empty((length,) + a.shape, dtype=a.dtype) for a in y_avals]
    xs = [np.asarray(x) for x in xs]
    cj, cc = jaxpr.jaxpr, jaxpr.consts
    for k in range(length):
        i = length - 1 - k if reverse else k
        outs = eval_jaxpr(cj, cc, *consts, *carry, *[x[i] for x in xs])
        carry = outs[:num_carry]
        for y, o in zip(ys, outs[num_carry:]):
            y[i] = o
    carry = coerce_outputs(carry, jaxpr.out_avals[:num_carry])
    return carry + ys


def _scan_abstract(*avals, jaxpr, num_consts, num_carry, length, reverse, unroll):
    consts, carry, xs = _scan_split(avals, num_consts, num_carry)
    body_in = jaxpr.in_avals
    if len(body_in) != len(avals):
        raise TypeError(f"scan: the body takes {len(body_in)} operands, got {len(avals)}")
    for x, b in zip(xs, body_in[num_consts + num_carry:]):
        if x.shape[:1] != (length,) or not _same_type(ShapedArray(x.shape[1:], x.dtype), b):
            raise TypeError(f"scan: xs operand {x.str_short()} does not match length {length} "
                            f"and the body's slice type {b.str_short()}")
    out = []
    for a, b in zip(carry, jaxpr.out_avals[:num_carry]):
        if not _same_type(a, b):
            raise TypeError(f"scan: carry type {a.str_short()} does not match the body "
                            f"output {b.str_short()}")
        out.append(ShapedArray(a.shape, a.dtype, a.weak_type and b.weak_type))
    for y in jaxpr.out_avals[num_carry:]:
        out.append(ShapedArray((length,) + y.shape, y.dtype, y.weak_type))
    return out


def _invariant_vars(jaxpr: Jaxpr, n_invariant_inputs: int) -> set:
    """Ids of the variables that depend only on constants and the first inputs."""
    inv = {v.id for v in jaxpr.constvars}
    inv |= {v.id for v in jaxpr.invars[:n_invariant_inputs]}
    for eqn in jaxpr.eqns:
        if all(type(v) is Literal or v.id in inv for v in eqn.invars):
            inv.update(v.id for v in eqn.outvars)
    return inv


def _scan_jvp_programs(jaxpr: ClosedJaxpr, nc: int, nk: int, nz: tuple):
    """Primal body (also returning per-iteration residuals), hoisting program
    (loop-invariant residuals, from the consts) and tangent body. Memoized."""
    key = ("scan_jvp", nc, nk, nz)
    hit = jaxpr.cache.get(key)
    if hit is not None:
        return hit
    from ..jit import linearize_jaxpr

    pclosed, tj, out_nz, n_out = linearize_jaxpr(jaxpr, nz)
    pj = pclosed.jaxpr
    res_vars = pj.outvars[n_out:]
    inv = _invariant_vars(pj, nc)
    in_pos = {v.id: k for k, v in enumerate(pj.invars)}
    kinds = []  # per residual: ("hoist", j) | ("xs", operand index) | ("stack", j)
    hoist_vars, stack_vars = [], []
    for v in res_vars:
        if type(v) is Literal or v.id in inv:
            kinds.append(("hoist", len(hoist_vars)))
            hoist_vars.append(v)
        elif v.id in in_pos and in_pos[v.id] >= nc + nk:
            kinds.append(("xs", in_pos[v.id]))
        else:
            kinds.append(("stack", len(stack_vars)))
            stack_vars.append(v)
    primal_body = ClosedJaxpr(
        dce_jaxpr(Jaxpr(pj.constvars, pj.invars, pj.outvars[:n_out] + stack_vars, pj.eqns)),
        pclosed.consts)
    hoist = ClosedJaxpr(
        dce_jaxpr(Jaxpr(pj.constvars, pj.invars[:nc], hoist_vars,
                        [e for e in pj.eqns if all(v.id in inv for v in e.outvars)])),
        pclosed.consts)
    const_nz, carry_nz = nz[:nc], nz[nc:nc + nk]
    xs_nz = nz[nc + nk:]
    in_avals = jaxpr.in_avals
    ct_avals = [tangent_aval(a) for a, z in zip(in_avals[:nc], const_nz) if z]
    kt_avals = [tangent_aval(a) for a, z in zip(in_avals[nc:nc + nk], carry_nz) if z]
    xt_avals = [tangent_aval(a) for a, z in zip(in_avals[nc + nk:], xs_nz) if z]
    xres = [k for k in kinds if k[0] != "hoist"]
    hoist_avals = [v.aval for v in hoist_vars]
    xres_avals = [in_avals[k[1]] if k[0] == "xs" else stack_vars[k[1]].aval for k in xres]
    out_avals = jaxpr.out_avals
    ys_nz = tuple(out_nz[nk:])
    nh, nct, nkt, nxr = len(hoist_avals), len(ct_avals), len(kt_avals), len(xres_avals)

    def tangent_body(*args):
        h = args[:nh]
        ct = args[nh:nh + nct]
        kt = args[nh + nct:nh + nct + nkt]
        xr = iter(args[nh + nct + nkt:nh + nct + nkt + nxr])
        xt = args[nh + nct + nkt + nxr:]
        res = [h[k[1]] if k[0] == "hoist" else next(xr) for k in kinds]
        touts = iter(run(tj, *res, *ct, *kt, *xt))
        full = [next(touts) if z else None for z in out_nz]
        carry_t = [zeros_of(tangent_aval(a)) if t is None else t
                   for t, a, z in zip(full[:nk], out_avals[:nk], carry_nz) if z]
        return carry_t + [t for t in full[nk:] if t is not None]

    tangent = trace_flat(tangent_body, hoist_avals + ct_avals + kt_avals + xres_avals + xt_avals,
                         "scan_jvp")
    result = dict(primal=primal_body, hoist=hoist, kinds=kinds, n_stack=len(stack_vars),
                  tangent=tangent, ys_nz=ys_nz, n_out=n_out)
    jaxpr.cache[key] = result
    return result


def _scan_jvp(primals, tangents, jaxpr, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    nz = [type(t) is not Zero for t in tangents]
    const_nz, carry_nz, xs_nz = _scan_split(nz, nc, nk)
    from ..jit import linearize_jaxpr

    for _ in range(nk + 1):
        out_nz = linearize_jaxpr(jaxpr, tuple(const_nz + carry_nz + xs_nz))[2]
        new = [a or b for a, b in zip(carry_nz, out_nz[:nk])]
        if new == carry_nz:
            break
        carry_nz = new
    nz = tuple(const_nz + carry_nz + xs_nz)
    prog = _scan_jvp_programs(jaxpr, nc, nk, nz)
    params = dict(length=length, reverse=reverse, unroll=unroll)
    outs_all = scan_p.bind(*primals, jaxpr=prog["primal"], num_consts=nc, num_carry=nk, **params)
    n_out = prog["n_out"]
    outs, stacked = outs_all[:n_out], outs_all[n_out:]
    if not any(carry_nz) and not any(prog["ys_nz"]):
        return outs, [Zero.like(o) for o in outs]
    consts, init, xs = _scan_split(primals, nc, nk)
    hoisted = run(prog["hoist"], *consts)
    xres = [primals[k[1]] if k[0] == "xs" else stacked[k[1]] for k in prog["kinds"]
            if k[0] != "hoist"]
    ct = [t for t, z in zip(tangents[:nc], const_nz) if z]
    kt = [instantiate(t, tangent_aval(get_aval(p)))
          for p, t, z in zip(init, tangents[nc:nc + nk], carry_nz) if z]
    xt = [t for t, z in zip(tangents[nc + nk:], xs_nz) if z]
    touts = scan_p.bind(*hoisted, *ct, *kt, *xres, *xt, jaxpr=prog["tangent"],
                        num_consts=len(hoisted) + len(ct), num_carry=len(kt), **params)
    t_it = iter(touts)
    t_carry = [next(t_it) if z else Zero.like(o) for o, z in zip(outs[:nk], carry_nz)]
    t_ys = [next(t_it) if z else Zero.like(o) for o, z in zip(outs[nk:], prog["ys_nz"])]
    return outs, t_carry + t_ys


def _scan_transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse, unroll):
    nc, nk = num_consts, num_carry
    consts, init, xs = _scan_split(args, nc, nk)
    c_lin = tuple(is_undefined(a) for a in consts)
    x_lin = tuple(is_undefined(a) for a in xs)
    ct_carry, ct_ys = list(cts[:nk]), list(cts[nk:])
    ys_nz = tuple(type(c) is not Zero for c in ct_ys)
    key = ("scan_transpose", nc, nk, c_lin, x_lin, ys_nz)
    tb = jaxpr.cache.get(key)
    in_avals, out_avals = jaxpr.in_avals, jaxpr.out_avals
    c_avals, k_avals, x_avals = _scan_split(in_avals, nc, nk)
    lc_avals = [tangent_aval(a) for a, lin in zip(c_avals, c_lin) if lin]
    if tb is None:
        rc_avals = [a for a, lin in zip(c_avals, c_lin) if not lin]
        rx_avals = [a for a, lin in zip(x_avals, x_lin) if not lin]
        kt_avals = [tangent_aval(a) for a in k_avals]
        y_avals = [tangent_aval(a) for a in out_avals[nk:]]
        yt_avals = [a for a, z in zip(y_avals, ys_nz) if z]
        n_rc, n_lc = len(rc_avals), len(lc_avals)
        n_yt = len(yt_avals)
        lx_avals = [tangent_aval(a) for a, lin in zip(x_avals, x_lin) if lin]

        def body(*a):
            rc = iter(a[:n_rc])
            acc = a[n_rc:n_rc + n_lc]
            ctk = list(a[n_rc + n_lc:n_rc + n_lc + nk])
            cty = iter(a[n_rc + n_lc + nk:n_rc + n_lc + nk + n_yt])
            rx = iter(a[n_rc + n_lc + nk + n_yt:])
            full = ([UndefinedPrimal(av) if lin else next(rc) for av, lin in zip(c_avals, c_lin)]
                    + [UndefinedPrimal(av) for av in k_avals]
                    + [UndefinedPrimal(av) if lin else next(rx) for av, lin in zip(x_avals, x_lin)])
            cts_out = ctk + [next(cty) if z else Zero(av) for av, z in zip(y_avals, ys_nz)]
            ct_in = backward_pass(jaxpr.jaxpr, jaxpr.consts, full, cts_out)
            ct_c, ct_k, ct_x = ct_in[:n_lc], ct_in[n_lc:n_lc + nk], ct_in[n_lc + nk:]
            lax = _lax()
            new_acc = [s if type(c) is Zero else lax.add_any(s, c) for s, c in zip(acc, ct_c)]
            return (new_acc + [instantiate(c, av) for c, av in zip(ct_k, kt_avals)]
                    + [instantiate(c, av) for c, av in zip(ct_x, lx_avals)])

        tb = trace_flat(body, rc_avals + lc_avals + kt_avals + yt_avals + rx_avals,
                        "scan_transpose")
        jaxpr.cache[key] = tb
    rc = [a for a, lin in zip(consts, c_lin) if not lin]
    rx = [a for a, lin in zip(xs, x_lin) if not lin]
    acc0 = [zeros_of(a) for a in lc_avals]
    ctk = [instantiate(c, tangent_aval(a)) for c, a in zip(ct_carry, k_avals)]
    cty = [c for c in ct_ys if type(c) is not Zero]
    n_lc = len(acc0)
    outs = scan_p.bind(*rc, *acc0, *ctk, *cty, *rx, jaxpr=tb, num_consts=len(rc),
                       num_carry=n_lc + nk, length=length, reverse=not reverse, unroll=unroll)
    acc, ct_init, ct_xs = outs[:n_lc], outs[n_lc:n_lc + nk], iter(outs[n_lc + nk:])
    acc_it = iter(acc)
    return ([next(acc_it) if lin else None for lin in c_lin] + list(ct_init)
            + [next(ct_xs) if lin else None for lin in x_lin])


def _scan_batch(vals, dims, jaxpr, num_consts, num_carry, length, reverse, unroll, axis_size):
    nc, nk = num_consts, num_carry
    consts, init, xs = _scan_split(vals, nc, nk)
    cd, kd, xd = _scan_split(dims, nc, nk)
    consts = [move_batch(x, d, 0) for x, d in zip(consts, cd)]
    xs = [move_batch(x, d, 1) for x, d in zip(xs, xd)]
    cdims = tuple(None if d is None else 0 for d in cd)
    xdims = tuple(None if d is None else 0 for d in xd)
    n_ys = len(jaxpr.out_avals) - nk
    carry_b = [d is not None for d in kd]
    for _ in range(nk + 1):
        kdims = tuple(0 if b else None for b in carry_b)
        _, out_b = batch_closed(jaxpr, cdims + kdims + xdims, axis_size,
                                tuple(carry_b) + (False,) * n_ys)
        new = [a or b for a, b in zip(carry_b, out_b[:nk])]
        if new == carry_b:
            break
        carry_b = new
    kdims = tuple(0 if b else None for b in carry_b)
    bj, out_b = batch_closed(jaxpr, cdims + kdims + xdims, axis_size,
                             tuple(carry_b) + (False,) * n_ys)
    init = [move_batch(x, d, 0) if d is not None else (bcast_batch(x, axis_size) if b else x)
            for x, d, b in zip(init, kd, carry_b)]
    outs = scan_p.bind(*consts, *init, *xs, jaxpr=bj, num_consts=nc, num_carry=nk,
                       length=length, reverse=reverse, unroll=unroll)
    out_dims = [0 if b else None for b in carry_b] + [1 if b else None for b in out_b[nk:]]
    return outs, out_dims


scan_p.impl = _scan_impl
scan_p.abstract_eval = _scan_abstract
scan_p.jvp = _scan_jvp
scan_p.transpose = _scan_transpose
scan_p.batch = _scan_batch
scan_p.batch_needs_size = True


def scan(f, init, xs=None, length=None, reverse: bool = False, unroll=1):
    """Loop ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``, stacking the
    ``y``s (JAX's ``lax.scan``)::

        def scan(f, init, xs, length=None):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, stack(ys)

    ``init``, ``xs`` and the outputs are pytrees; ``xs=None`` with ``length`` loops
    without inputs. ``f`` is traced once, so the program size does not depend on the
    length, and ``grad`` stores only per-iteration residuals.

    >>> import numpy as np; from xform import lax
    >>> carry, ys = lax.scan(lambda c, x: (lax.add(c, x), c), 0.0, np.arange(4.0))
    >>> carry, ys
    (np.float64(6.0), array([0., 0., 1., 3.]))
    """
    where = "scan"
    if not callable(f):
        raise TypeError("scan: f must be a callable")
    x_leaves, x_tree = tree_flatten(xs)
    x_avals = [get_aval(x, where) for x in x_leaves]
    lengths = set()
    for a in x_avals:
        if a.ndim == 0:
            raise ValueError(f"scan: xs leaves must have a leading axis to scan over, got a "
                             f"scalar {a.str_short()}")
        lengths.add(a.shape[0])
    if length is not None:
        length = int(length)
        if lengths and lengths != {length}:
            raise ValueError(f"scan: length={length} does not match the leading axis of xs "
                             f"(sizes {sorted(lengths)})")
    elif len(lengths) > 1:
        raise ValueError(f"scan: xs leaves have different leading axis sizes {sorted(lengths)}; "
                         f"all must share the scanned length. xs: {signature(x_tree, x_avals)}")
    elif not lengths:
        raise ValueError("scan: pass length= when xs is None (or has no leaves)")
    else:
        length = lengths.pop()
    slice_avals = [ShapedArray(a.shape[1:], a.dtype, a.weak_type) for a in x_avals]
    c_leaves, c_tree = tree_flatten(init)
    c_avals = [get_aval(x, where) for x in c_leaves]
    unroll = int(unroll) if not isinstance(unroll, bool) else (length if unroll else 1)
    args_tree = tree_flatten((init, xs))[1]

    def body(carry, x):
        out = f(carry, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"scan: f ({fun_name(f)}) must return a pair (carry, y), got "
                            f"{type(out).__name__}")
        return tuple(out)

    for attempt in range(2):
        closed, consts, out_tree = trace_fun(body, args_tree, c_avals + slice_avals, where)
        carry_out_tree, y_tree = out_tree.children
        n_c = carry_out_tree.num_leaves
        out_c_avals = closed.out_avals[:n_c]
        ok_tree = carry_out_tree == c_tree
        if ok_tree:
            fix = _promotable_carry(c_avals, out_c_avals)
            if fix and attempt == 0:
                c_leaves = [_weak_int_to(x, out_c_avals[i].dtype, "scan")
                            if i in fix else x for i, x in enumerate(c_leaves)]
                c_avals = [get_aval(x) for x in c_leaves]
                continue
        if not ok_tree or any(not _same_type(a, b) for a, b in zip(c_avals, out_c_avals)):
            raise TypeError(
                f"scan: the carry output of f ({fun_name(f)}) must have the same types as "
                f"the carry input (pytree structure, shapes and dtypes), got\n"
                f"  input carry (init): {signature(c_tree, c_avals)}\n"
                f"  output carry:       {signature(carry_out_tree, out_c_avals)}")
        break
    outs = scan_p.bind(*consts, *c_leaves, *x_leaves, jaxpr=closed, num_consts=len(consts),
                       num_carry=len(c_leaves), length=length, reverse=bool(reverse),
                       unroll=max(unroll, 1))
    carry = tree_unflatten(c_tree, outs[:len(c_leaves)])
    ys = tree_unflatten(y_tree, outs[len(c_leaves):])
    return carry, ys


def map(f, xs):
    """``stack([f(x) for x in xs])`` over the leading axis of the pytree ``xs``, as one
    traced loop (a scan).

    >>> import numpy as np; from xform import lax
    >>> lax.map(lambda x: lax.mul(x, x), np.arange(3.0))
    array([0., 1., 4.])
    """
    _, ys = scan(lambda c, x: ((), f(x)), (), xs)
    return ys


# -- Numba lowering (jit) ------------------------------------------------------------------
#
# The three primitives lower to real control flow inside the one generated function
# (``numba_lower`` attributes, see xform/interpreters/numba_lowering/__init__.py): held
# programs are optimized like the top-level program and emitted inline, carries are
# local variables, scan's ys are preallocated and written per iteration, its xs read
# per iteration (``x[i]``). The source never depends on a scan's length except as a
# loop bound, so a length-10,000 scan compiles like a length-10 one.
#
# Scan accumulators. A carry updated only as ``c = c + t`` (typically the gradient of
# a loop-invariant weight in a transposed scan) is updated in place
# (``c[...] += t[...]``, no new array per iteration). When ``t = dot_general(u, v)``
# of per-iteration values, the sum over iterations is itself one contraction: the
# loop only stacks ``u`` and ``v`` (or reads them from xs, which already are stacked)
# and ``c_init + dot_general(U, V)`` runs once after the loop, contracting the
# iteration axis too (a BLAS-3 product instead of ``length`` rank-k updates; only the
# summation order changes).


def _optimized(closed: ClosedJaxpr) -> ClosedJaxpr:
    hit = closed.cache.get("optimized")
    if hit is None:
        from ..interpreters.optimize import optimize_jaxpr

        hit = optimize_jaxpr(closed)
        closed.cache["optimized"] = hit
    return hit


def _cast_scalar(expr: str, aval) -> str:
    from ..interpreters.numba_lowering.codegen import cast

    return cast(expr, aval.dtype) if aval.ndim == 0 else expr


def _assign(em, names, values, avals):
    """Loop-carried names keep one numba type (0-d values are cast to their dtype); one
    tuple assignment, so that a value that is itself a carry is read before it changes."""
    if names:
        rhs = [_cast_scalar(v, a) for v, a in zip(values, avals)]
        em.line(f"{', '.join(names)} = {', '.join(rhs)}")


def _loop_nest_line(em, shape, text):
    """Emit ``text(index)`` inside loops over ``shape`` (``index`` a list of names)."""
    idx = [em.fresh("j") for _ in shape]
    for i, n in zip(idx, shape):
        em.line(f"for {i} in range({int(n)}):")
        em.depth += 1
    em.line(text(idx))
    em.depth -= len(idx)


def _cond_lower(em, eqn, ins):
    branches = [_optimized(b) for b in eqn.params["branches"]]
    index, ops = ins[0], ins[1:]
    avals = [v.aval for v in eqn.outvars]
    outs = [em.fresh("cr") for _ in avals]
    if len(branches) == 1:
        _assign(em, outs, em.emit_jaxpr(branches[0].jaxpr, ops, branches[0].consts), avals)
        return outs
    # the index is already clamped to [0, n) (see cond_p); ``else`` takes the last branch
    k = em.fresh("br")
    em.line(f"{k} = np.int64({index})")
    for b, br in enumerate(branches):
        em.line("else:" if b == len(branches) - 1 else f"{'if' if b == 0 else 'elif'} {k} == {b}:")
        with em.indented():
            res = em.emit_jaxpr(br.jaxpr, ops, br.consts)
            if not outs:
                em.line("pass")
            _assign(em, outs, res, avals)
    return outs


def _while_lower(em, eqn, ins):
    p = eqn.params
    cj, bj = _optimized(p["cond_jaxpr"]), _optimized(p["body_jaxpr"])
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cc, bc, init = _while_split(ins, nc, nb)
    avals = [v.aval for v in eqn.outvars]
    carry = [em.fresh("wc") for _ in init]
    _assign(em, carry, init, avals)
    em.line("while True:")
    with em.indented():
        (pred,) = em.emit_jaxpr(cj.jaxpr, list(cc) + carry, cj.consts)
        em.line(f"if not {pred}:")
        em.line("    break")
        res = em.emit_jaxpr(bj.jaxpr, list(bc) + carry, bj.consts)
        _assign(em, carry, res, avals)
    return carry


# Blocked accumulation: the products flushed every ``block`` iterations have at most
# this many multiply-adds (OpenBLAS runs such products on one thread: no thread
# synchronisation per flush, which is slow when the cores are busy).
_BLOCK_FLOPS = 1 << 18
_BLOCK_MAX = 128


def _scan_accumulators(j: Jaxpr, nc: int, nk: int) -> dict:
    """Carries updated only as ``c_out = add(c_in, t)``: ``{k: ("dot", add_eqn,
    dot_eqn)}`` when ``t`` is a low-rank contraction of per-iteration values used only
    there, else ``{k: ("add", add_eqn, t)}``."""
    uses: dict = {}
    producer: dict = {}
    for e in j.eqns:
        for v in e.invars:
            if type(v) is Var:
                uses[v.id] = uses.get(v.id, 0) + 1
        for v in e.outvars:
            producer[v.id] = e
    for v in j.outvars:
        if type(v) is Var:
            uses[v.id] = uses.get(v.id, 0) + 1
    inv = None
    acc = {}
    for k in range(nk):
        cin, cout = j.invars[nc + k], j.outvars[k]
        if type(cout) is not Var or cin.aval.ndim == 0:
            continue
        e = producer.get(cout.id)
        if e is None or e.primitive.name not in ("add", "add_any") or len(e.invars) != 2:
            continue
        a, b = e.invars
        if type(a) is Var and a.id == cin.id:
            t = b
        elif type(b) is Var and b.id == cin.id:
            t = a
        else:
            continue
        if (type(t) is not Var or t.id == cin.id or not _same_type(t.aval, cin.aval)
                or not _same_type(cout.aval, cin.aval)
                or uses.get(cin.id) != 1 or uses.get(cout.id) != 1):
            continue
        d = producer.get(t.id)
        if (d is not None and d.primitive.name == "dot_general" and uses.get(t.id) == 1
                and cin.aval.dtype.kind in "fc" and not d.params["dimension_numbers"][1][0]
                and all(type(v) is Var and v.aval.dtype == cin.aval.dtype for v in d.invars)
                and sum(v.aval.size for v in d.invars) <= cin.aval.size):
            # a low-rank update (operands smaller than the accumulator) of values that
            # change per iteration (a loop-invariant operand is left to the plain path)
            if inv is None:
                inv = _invariant_vars(j, nc)
            if not any(v.id in inv for v in d.invars):
                acc[k] = ("dot", e, d)
                continue
        acc[k] = ("add", e, t)
    return acc


def _block_layout(d):
    """Layouts of the block buffers of ``sum_i dot_general(u_i, v_i)``: the iteration
    axis first, then the contracting axes, then the free ones (both operands read in
    BLAS order without copies). Returns ``(perm_u, perm_v, dimension_numbers)``."""
    (lc, rc), _ = d.params["dimension_numbers"]
    u, v = d.invars
    perm_u = tuple(lc) + tuple(a for a in range(u.aval.ndim) if a not in lc)
    perm_v = tuple(rc) + tuple(a for a in range(v.aval.ndim) if a not in rc)
    dims = ((tuple(range(len(lc) + 1)), tuple(range(len(rc) + 1))), ((), ()))
    return perm_u, perm_v, dims


def _store_row(em, buf, i, val, aval, perm=None):
    """``buf[i] = transpose(val, perm)`` with a loop nest."""
    if aval.ndim == 0:
        em.line(f"{buf}[{i}] = {val}")
        return
    perm = tuple(range(aval.ndim)) if perm is None else perm
    idx = [em.fresh("j") for _ in perm]
    for a in perm:
        em.line(f"for {idx[a]} in range({aval.shape[a]}):")
        em.depth += 1
    em.line(f"{buf}[{', '.join([i] + [idx[a] for a in perm])}] = {val}[{', '.join(idx)}]")
    em.depth -= len(perm)


def _scan_lower(em, eqn, ins):
    from ..core.ir import Eqn
    from ..interpreters.numba_lowering.codegen import literal_expr

    p = eqn.params
    body = _optimized(p["jaxpr"])
    j = body.jaxpr
    nc, nk, length, reverse = p["num_consts"], p["num_carry"], p["length"], p["reverse"]
    consts, init, xs = _scan_split(ins, nc, nk)
    c_avals, k_avals, x_avals = _scan_split([v.aval for v in eqn.invars], nc, nk)
    # loop-invariant and stacked operands: made C-contiguous once, outside the loop
    consts = [em.contiguous(c, a) if a.ndim else c for c, a in zip(consts, c_avals)]
    xs = [em.contiguous(x, a) if a.ndim > 1 else x for x, a in zip(xs, x_avals)]
    carry_avals = [v.aval for v in eqn.outvars[:nk]]
    y_avals = [v.aval for v in eqn.outvars[nk:]]
    acc = _scan_accumulators(j, nc, nk) if length > 0 else {}

    # The body actually emitted: accumulator updates removed; the in-place terms and
    # the operands of the blocked products are returned as extra outputs.
    drop, add_terms, dots, extra = set(), {}, {}, []
    for k, (kind, e, d) in sorted(acc.items()):
        drop.add(id(e))
        if kind == "add":
            add_terms[k] = len(extra)
            extra.append(d)
        else:
            drop.add(id(d))
            dots[k] = len(extra)
            extra.extend(d.invars)
    plain = [k for k in range(nk) if k not in acc]
    outvars = [j.outvars[k] for k in plain] + list(j.outvars[nk:]) + extra
    bj = Jaxpr(j.constvars, j.invars, outvars, [e for e in j.eqns if id(e) not in drop])

    carry = [None] * nk
    for k in plain:
        carry[k] = em.fresh("sc")
    _assign(em, [carry[k] for k in plain], [init[k] for k in plain],
            [carry_avals[k] for k in plain])
    for k in list(add_terms) + list(dots):  # owned arrays, updated in place
        carry[k] = em.fresh("sc")
        em.line(f"{carry[k]} = {init[k]}.copy()")
        em.mark_contig(carry[k])
    ys = [em.alloc(a.shape, a.dtype, hint="ys") for a in y_avals]
    blocks = {}  # k -> (block, buffer names, perms, flush jaxpr)
    buffers = {}  # (var id, perm, block) -> name: operands shared by several products
    for k in dots:
        d = acc[k][2]
        perm_u, perm_v, dims = _block_layout(d)
        per_row = max(1, d.outvars[0].aval.size * max(1, int(np.prod(
            [d.invars[0].aval.shape[a] for a in d.params["dimension_numbers"][0][0]]))))
        block = int(min(length, _BLOCK_MAX, max(1, _BLOCK_FLOPS // per_row)))
        bufs, bvars = [], []
        for v, perm in zip(d.invars, (perm_u, perm_v)):
            shape = (block,) + tuple(v.aval.shape[a] for a in perm)
            key = (v.id, perm, block)
            if key not in buffers:
                buffers[key] = em.alloc(shape, v.aval.dtype, hint="blk")
            bufs.append(buffers[key])
            bvars.append(Var(ShapedArray(shape, v.aval.dtype)))
        tv = Var(d.outvars[0].aval)
        flush = Jaxpr([], bvars, [tv], [
            Eqn(d.primitive, bvars, [tv], dict(d.params, dimension_numbers=dims))])
        blocks[k] = (block, bufs, (perm_u, perm_v), flush)

    def flush_into(k):
        _, bufs, _, flush = blocks[k]
        (t,) = em.emit_jaxpr(flush, bufs)
        c = carry[k]
        _loop_nest_line(em, carry_avals[k].shape, lambda ix: (
            f"{c}[{', '.join(ix)}] += {t}[{', '.join(ix)}]"))

    it, i = em.fresh("it"), em.fresh("si")
    em.line(f"for {it} in range({length}):")
    with em.indented():
        em.line(f"{i} = {length - 1} - {it}" if reverse else f"{i} = {it}")
        slices = []
        for x, a in zip(xs, x_avals):
            sl = em.fresh("xs")
            em.line(f"{sl} = {x}[{i}]")
            if a.ndim > 1 and em.is_contig(x):
                em.mark_contig(sl)
            slices.append(sl)
        # a blocked accumulator's carry is read by nothing left in the body
        body_in = (list(consts) + [carry[k] if k not in dots else "_unused"
                                   for k in range(nk)] + slices)
        res = em.emit_jaxpr(bj, body_in, body.consts)
        n_plain, n_y = len(plain), len(y_avals)
        res_c, res_y = res[:n_plain], res[n_plain:n_plain + n_y]
        res_extra = res[n_plain + n_y:]
        # stores first: they may read carries that change below
        for buf, val, a in zip(ys, res_y, y_avals):
            _store_row(em, buf, i, val, a.update(shape=a.shape[1:]))
        for k, n in add_terms.items():
            c, t = carry[k], res_extra[n]
            _loop_nest_line(em, carry_avals[k].shape, lambda ix, c=c, t=t: (
                f"{c}[{', '.join(ix)}] += {t}[{', '.join(ix)}]"))
        rows, stored = {}, set()
        for k, n in dots.items():
            block, bufs, perms, _ = blocks[k]
            if block not in rows:
                rows[block] = em.fresh("row")
                em.line(f"{rows[block]} = {it} % {block}")
            row = rows[block]
            for buf, val, perm, v in zip(bufs, res_extra[n:n + 2], perms, acc[k][2].invars):
                if buf not in stored:
                    stored.add(buf)
                    _store_row(em, buf, row, val, v.aval, perm)
            em.line(f"if {row} == {block - 1}:")
            with em.indented():
                flush_into(k)
        _assign(em, [carry[k] for k in plain], res_c, [carry_avals[k] for k in plain])
    # the last, partial block: its unused rows are zeroed (they add nothing)
    zeroed = set()
    for k in dots:
        block, bufs, perms, _ = blocks[k]
        rem = length % block
        em.line(f"if {rem} > 0:")
        with em.indented():
            for buf, perm, v in zip(bufs, perms, acc[k][2].invars):
                if buf in zeroed:
                    continue
                zeroed.add(buf)
                r = em.fresh("row")
                em.line(f"for {r} in range({rem}, {block}):")
                with em.indented():
                    zero = literal_expr(0, v.aval.dtype)
                    row_shape = [v.aval.shape[a] for a in perm]
                    _loop_nest_line(em, row_shape, lambda ix, buf=buf, r=r, zero=zero: (
                        f"{buf}[{', '.join([r] + ix)}] = {zero}"))
            flush_into(k)
    return carry + ys


cond_p.numba_lower = _cond_lower
while_p.numba_lower = _while_lower
scan_p.numba_lower = _scan_lower


# -- fori_loop -------------------------------------------------------------------------


def _fori_body(body_fun, i, x):
    """``body_fun(i, x)``, checked against the carry's type here, so that a mismatch is
    reported in fori_loop's terms (not those of the scan or while_loop it becomes)."""
    new = body_fun(i, x)
    x_leaves, x_tree = tree_flatten(x)
    n_leaves, n_tree = tree_flatten(new)
    x_avals = [get_aval(v, "fori_loop") for v in x_leaves]
    n_avals = [get_aval(v, "fori_loop") for v in n_leaves]
    if x_tree == n_tree:
        fixable = set(_promotable_carry(x_avals, n_avals))  # a weak init takes the type
        if all(_same_type(a, b) or k in fixable
               for k, (a, b) in enumerate(zip(x_avals, n_avals))):
            return new
    raise TypeError(
        f"fori_loop: body_fun ({fun_name(body_fun)}) must return a value of the same type as "
        f"init_val (pytree structure, shapes and dtypes), got\n"
        f"  init_val:        {signature(x_tree, x_avals)}\n"
        f"  body_fun output: {signature(n_tree, n_avals)}\n"
        f"Cast the output (e.g. .astype(init_val.dtype)) or change init_val's dtype.")


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = init_val; for i in range(lower, upper): val = body_fun(i, val)``.

    With static (non-traced) bounds this is a ``scan`` of ``upper - lower`` steps, so it
    is reverse-differentiable; with traced bounds it is a ``while_loop``
    (forward-mode differentiable only).

    >>> from xform import lax
    >>> float(lax.fori_loop(0, 4, lambda i, x: lax.mul(x, 2.0), 1.0))
    16.0
    """
    lax = _lax()
    static = not isinstance(lower, Tracer) and not isinstance(upper, Tracer)
    for b in (lower, upper):
        a = get_aval(b, "fori_loop")
        if a.shape != () or a.dtype.kind not in "iu":
            raise TypeError(f"fori_loop: lower and upper must be integer scalars, got {a.str_short()}")
    dt = result_type(get_aval(lower), get_aval(upper))[0]
    if static:
        lo, hi = int(lower), int(upper)
        n = max(hi - lo, 0)
        info = np.iinfo(dt)
        if n and not (info.min <= lo and hi - 1 <= info.max):
            raise TypeError(
                f"fori_loop: the loop index has dtype {np.dtype(dt)} (from lower={lower!r}, "
                f"upper={upper!r}), which cannot hold every index in [{lo}, {hi}); give the "
                f"bounds a wider integer dtype.")

        def step(carry, _):
            i, x = carry
            return (lax.add(i, np.asarray(1, dt)[()]), _fori_body(body_fun, i, x)), None

        (_, out), _ = scan(step, (np.asarray(lo, dt)[()], init_val), None, length=n,
                           unroll=1 if unroll is None else unroll)
        return out
    lower, upper = [lax.convert_element_type(b, dt) if isinstance(b, Tracer)
                    else np.asarray(b, dt)[()] for b in (lower, upper)]

    def w_cond(c):
        return lax.lt(c[0], c[1])

    def w_body(c):
        i, u, x = c
        return lax.add(i, np.asarray(1, dt)[()]), u, _fori_body(body_fun, i, x)

    return while_loop(w_cond, w_body, (lower, upper, init_val))[2]
