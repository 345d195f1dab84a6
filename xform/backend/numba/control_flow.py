"""Numba lowerings of cond, while and scan: real control flow in the generated function."""
from __future__ import annotations

import numpy as np

from ...core.abstract import ShapedArray
from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Var
from ...lax.control_flow.common import _same_type
from ...lax.control_flow.conditionals import cond_p
from ...lax.control_flow.loops import _invariant_vars, _scan_split, _while_split, scan_p, while_p
from ...lax.elementwise import add_any_p, add_p
from ...lax.dot import dot_general_p
from .codegen import cast, literal_expr
from .optimize import optimize_jaxpr
from .rules import rule

# -- Numba lowering (jit) ------------------------------------------------------------------
#
# The three primitives lower to real control flow inside the one generated function
# (``numba_lower`` attributes, see xform/backend/numba/__init__.py): held
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
        hit = optimize_jaxpr(closed)
        closed.cache["optimized"] = hit
    return hit


def _cast_scalar(expr: str, aval) -> str:
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
        if e is None or e.primitive not in (add_p, add_any_p) or len(e.invars) != 2:
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
        if (d is not None and d.primitive is dot_general_p and uses.get(t.id) == 1
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


rule(cond_p)(_cond_lower)
rule(while_p)(_while_lower)
rule(scan_p)(_scan_lower)

