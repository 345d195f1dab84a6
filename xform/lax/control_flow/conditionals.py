"""cond and switch: the ``cond`` primitive (see ``xform.lax.control_flow``)."""
from __future__ import annotations

import numpy as np

from ..._util import fun_name
from ...core.abstract import ShapedArray
from ...core.check import cond_signature
from ...core.primitive import Primitive
from ...core.pytree import tree_flatten, tree_unflatten
from ...core.trace import Tracer, get_aval
from ...interpreters.jvp import Zero, instantiate
from ...interpreters.transforms import (
    batch_jaxpr,
    linearize_jaxpr,
    move_batch,
    run,
    tangent_aval,
    trace_flat,
    zeros_of,
)
from ...interpreters.transpose import UndefinedPrimal, backward_pass, is_undefined
from .common import (
    _convert_outputs,
    _lax,
    _pad_consts,
    _same_type,
    _unify_consts,
    _weak_fits,
    coerce_outputs,
    signature,
    trace_fun,
)

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
        outs_b = [batch_jaxpr(b, in_dims, axis_size, force)[1] for b in branches]
        force = tuple(any(ob[i] for ob in outs_b) for i in range(n_out))
        bbranches = tuple(batch_jaxpr(b, in_dims, axis_size, force)[0] for b in branches)
        outs = cond_p.bind(index, *ops, branches=bbranches)
        return outs, [0 if f else None for f in force]
    # Batched predicate: every branch runs on every lane, then a per-lane selection.
    index = move_batch(index, idim, 0)
    force = (True,) * n_out
    results = [run(batch_jaxpr(b, in_dims, axis_size, force)[0], *ops) for b in branches]
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
cond_p.check_signature = cond_signature


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


