"""Numba lowerings of cond, while and scan: real control flow in the generated function."""
from __future__ import annotations

import numpy as np

from ...core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from ...interpreters.transforms import dce_jaxpr
from ...lax.control_flow.common import _same_type
from ...lax.control_flow.conditionals import cond_p
from ...lax.control_flow.loops import _invariant_vars, _scan_split, _while_split, scan_p, while_p
from ...lax.elementwise import add_any_p, add_p
from ...lax.dot import dot_general_p
from ...lax.indexing import dynamic_update_slice_p, scatter_add_p
from ...lax.structural import broadcast_in_dim_p
from .codegen import cast, literal_expr
from .loop_buffers import hoist_allocations
from .optimize import optimize_jaxpr
from .rules import rule, scatter_add_into, update_slice_into
from .traits import FRESH_OUTPUT, MAYBE_IDENTITY

# -- Numba lowering (jit) ------------------------------------------------------------------
#
# The three primitives lower to real control flow inside the one generated function
# (``numba_lower`` attributes, see xform/backend/numba/__init__.py): held
# programs are optimized like the top-level program and emitted inline, carries are
# local variables, scan's ys are preallocated and written per iteration, its xs read
# per iteration (``x[i]``). The source never depends on a scan's length except as a
# loop bound, so a length-10,000 scan compiles like a length-10 one.
#
# Scan accumulators. A carry updated only as ``c = c + t_1 + ... + t_n`` (typically the
# gradient of a loop-invariant weight in a transposed scan: one term per use of the
# weight in the step) is updated in place (``c[...] += t[...]``, no new array per
# iteration). When a term is ``dot_general(u, v)`` of per-iteration values, its sum over
# iterations is itself one contraction: the loop only stacks ``u`` and ``v`` (or reads
# them from xs, which already are stacked) and a block of them is contracted at once,
# the iteration axis too (a BLAS-3 product instead of ``length`` rank-k updates; only
# the summation order changes).
#
# Loop bodies: loop-carried arrays are kept C-contiguous, and temporaries reuse one
# buffer across iterations (``loop_buffers.py``).


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


def _contiguous_carries(em, names, avals) -> list:
    """Loop-carried arrays are kept C-contiguous (their values: the initial ones are made
    so once, before the loop; a body result that is a strided view is copied), so that
    the body reads them as such (matrix products, reshapes) without a copy per
    iteration."""
    out = []
    for n, a in zip(names, avals):
        if a.ndim > 0 and not em.is_contig(n):
            n = em.contiguous(n, a)
        out.append(n)
    return out


def _while_lower(em, eqn, ins):
    p = eqn.params
    cj, bj = _optimized(p["cond_jaxpr"]), _optimized(p["body_jaxpr"])
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cc, bc, init = _while_split(ins, nc, nb)
    avals = [v.aval for v in eqn.outvars]
    n = len(init)
    # carries filled slice by slice (dynamic_update_slice of themselves): updated in place
    j = bj.jaxpr
    inplace = _in_place_updates(j, n, nb)
    plain = [k for k in range(n) if k not in inplace]
    extra, updates = [], []
    for k, (_, [(_, e)]) in sorted(inplace.items()):
        updates.append((k, e, len(extra)))
        extra.extend(e.invars[1:])
    body = j
    if inplace:
        drop = {id(e) for _, e, _ in updates}
        body = dce_jaxpr(Jaxpr(j.constvars, j.invars, [j.outvars[k] for k in plain] + extra,
                               [e for e in j.eqns if id(e) not in drop]))
    carry = [em.fresh("wc") for _ in init]
    plain_avals = [avals[k] for k in plain]
    _assign(em, [carry[k] for k in plain],
            _contiguous_carries(em, [init[k] for k in plain], plain_avals), plain_avals)
    for k in inplace:  # owned arrays
        em.line(f"{carry[k]} = {init[k]}.copy()")
    for c, a in zip(carry, avals):
        if a.ndim > 0:
            em.mark_contig(c)
    header = len(em.lines)
    em.line("while True:")
    with em.indented():
        (pred,) = em.emit_jaxpr(cj.jaxpr, list(cc) + carry, cj.consts)
        em.line(f"if not {pred}:")
        em.line("    break")
        res = em.emit_jaxpr(body, list(bc) + carry, bj.consts)
        res_extra = res[len(plain):]
        for k, e, i in updates:
            ops = res_extra[i:i + len(e.invars) - 1]
            update_slice_into(em, carry[k], e, ops[0], ops[1:])
        _assign(em, [carry[k] for k in plain],
                _contiguous_carries(em, res[:len(plain)], plain_avals), plain_avals)
    hoist_allocations(em, header, [carry[k] for k in plain])
    return carry


# Blocked accumulation: the products flushed every ``block`` iterations have at most
# this many multiply-adds (OpenBLAS runs such products on one thread: no thread
# synchronisation per flush, which is slow when the cores are busy).
_BLOCK_FLOPS = 1 << 18
_BLOCK_MAX = 128


def _use_counts(j: Jaxpr) -> tuple[dict, dict]:
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
    return uses, producer


def _is_zeros(v, producer) -> bool:
    """Whether ``v`` is a broadcast zero (what reverse mode adds scattered updates to)."""
    e = producer.get(v.id) if type(v) is Var else None
    if e is None or e.primitive is not broadcast_in_dim_p or type(e.invars[0]) is not Literal:
        return False
    val = np.asarray(e.invars[0].val)
    return val.shape == () and bool(val == 0)


def _aliases(j: Jaxpr, v) -> set:
    """Ids of the variables of ``j`` that may share memory with ``v`` (views of it, or
    results of lowerings that may return an operand: not known to be fresh arrays)."""
    alias = {v.id}
    for e in j.eqns:
        p = e.primitive
        fresh = p in FRESH_OUTPUT or (getattr(p, "elementwise", False) and p not in MAYBE_IDENTITY)
        if not fresh and any(type(x) is Var and x.id in alias for x in e.invars):
            alias.update(o.id for o in e.outvars)
    return alias


def _in_place_updates(j: Jaxpr, nk: int, first_carry: int) -> dict:
    """Carries the body updates by ``c_out = dynamic_update_slice(c_in, u, *starts)`` (a
    buffer filled slice by slice): ``{k: ([eqn], [("set", eqn)])}`` (the form of
    ``_scan_accumulators``). The update is written into the carry in place at the end
    of the iteration, after every other read of it, so ``c_in`` may have other uses, as
    long as neither ``u`` nor another carry's new value may be a view of it."""
    uses, producer = _use_counts(j)
    out = {}
    for k in range(nk):
        cin, cout = j.invars[first_carry + k], j.outvars[k]
        if (type(cout) is not Var or cin.aval.ndim == 0 or uses.get(cout.id) != 1
                or not _same_type(cout.aval, cin.aval)):
            continue  # (the new value read in the body: the update must come first)
        e = producer.get(cout.id)
        if (e is None or e.primitive is not dynamic_update_slice_p
                or type(e.invars[0]) is not Var or e.invars[0].id != cin.id):
            continue
        alias = _aliases(j, cin)
        if type(e.invars[1]) is Var and e.invars[1].id in alias:
            continue
        if any(type(v) is Var and v.id in alias for i, v in enumerate(j.outvars[:nk]) if i != k):
            continue
        out[k] = ([e], [("set", e)])
    return out


def _scan_accumulators(j: Jaxpr, nc: int, nk: int) -> dict:
    """Carries updated in place. Sums ``c_out = c_in + t_1 + ... + t_n`` (any tree of
    ``add`` of the carry's type, ``c_in`` read nowhere else): ``{k: (adds, terms)}``
    with ``adds`` the equations of the sum and ``terms`` a list of ``("dot", dot_eqn)``
    for low-rank contractions of per-iteration values used only there (summed over the
    iterations by blocked products), ``("slice", eqn)`` / ``("scatter", eqn)`` for a
    ``dynamic_update_slice`` / ``scatter_add`` into zeros (what reverse mode makes of
    reading one row per iteration: only that row is added), and ``("add", var)`` for
    the others (added in place). Also the carries of ``_in_place_updates``."""
    uses, producer = _use_counts(j)
    inv = None
    acc = _in_place_updates(j, nk, nc)
    for k in range(nk):
        cin, cout = j.invars[nc + k], j.outvars[k]
        if (k in acc or type(cout) is not Var or cin.aval.ndim == 0 or uses.get(cin.id) != 1
                or uses.get(cout.id) != 1 or not _same_type(cout.aval, cin.aval)):
            continue
        adds, leaves, stack = [], [], [cout]
        while stack:  # the sum's tree: adds of the carry's type, each result used once
            v = stack.pop()
            e = producer.get(v.id) if type(v) is Var else None
            if (e is not None and e.primitive in (add_p, add_any_p) and len(e.invars) == 2
                    and (v is cout or uses.get(v.id) == 1)
                    and all(type(x) is Var and _same_type(x.aval, cin.aval) for x in e.invars)):
                adds.append(e)
                stack.extend(reversed(e.invars))
            else:
                leaves.append(v)
        if not adds or sum(1 for v in leaves if type(v) is Var and v.id == cin.id) != 1:
            continue
        terms = []
        for t in leaves:
            if type(t) is Var and t.id == cin.id:
                continue
            if type(t) is not Var or not _same_type(t.aval, cin.aval):
                break
            d = producer.get(t.id)
            single = d is not None and uses.get(t.id) == 1 and cin.aval.dtype.kind in "fc"
            if (single and d.primitive is dot_general_p
                    and not d.params["dimension_numbers"][1][0]
                    and all(type(v) is Var and v.aval.dtype == cin.aval.dtype for v in d.invars)
                    and sum(v.aval.size for v in d.invars) <= cin.aval.size):
                # a low-rank update (operands smaller than the accumulator) of values that
                # change per iteration (a loop-invariant operand is left to the plain path)
                if inv is None:
                    inv = _invariant_vars(j, nc)
                if not any(v.id in inv for v in d.invars):
                    terms.append(("dot", d))
                    continue
            if single and d.primitive is dynamic_update_slice_p and _is_zeros(d.invars[0], producer):
                terms.append(("slice", d))
                continue
            if single and d.primitive is scatter_add_p and _is_zeros(d.invars[0], producer):
                terms.append(("scatter", d))
                continue
            terms.append(("add", t))
        else:
            acc[k] = (adds, terms)
    return acc


def _block_layout(d):
    """Layouts of the block buffers of ``sum_i dot_general(u_i, v_i)``: the iteration
    axis first, then the contracting axes (paired in order), then the free ones, so
    that a block is a (rows x contracted, free) matrix of each operand and its sum one
    BLAS product ``U^T V`` without copies. Returns ``(perm_u, perm_v)``."""
    (lc, rc), _ = d.params["dimension_numbers"]
    u, v = d.invars
    perm_u = tuple(lc) + tuple(a for a in range(u.aval.ndim) if a not in lc)
    perm_v = tuple(rc) + tuple(a for a in range(v.aval.ndim) if a not in rc)
    return perm_u, perm_v


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

    # The body actually emitted: the in-place carries' updates removed; their terms, the
    # operands of their blocked products and of their slice/scatter updates are returned
    # as extra outputs (work that only fed the removed updates disappears: DCE).
    drop, add_terms, dot_terms, extra = set(), [], [], []
    for k, (adds, terms) in sorted(acc.items()):
        drop.update(id(e) for e in adds)
        for kind, t in terms:
            if kind == "add":
                add_terms.append((k, kind, t, len(extra)))
                extra.append(t)
            elif kind == "dot":
                drop.add(id(t))
                dot_terms.append((k, t, len(extra)))
                extra.extend(t.invars)
            else:  # set / slice / scatter: the operands after the updated array
                drop.add(id(t))
                add_terms.append((k, kind, t, len(extra)))
                extra.extend(t.invars[1:])
    plain = [k for k in range(nk) if k not in acc]
    outvars = [j.outvars[k] for k in plain] + list(j.outvars[nk:]) + extra
    bj = Jaxpr(j.constvars, j.invars, outvars, [e for e in j.eqns if id(e) not in drop])
    if drop:
        bj = dce_jaxpr(bj)

    carry = [None] * nk
    for k in plain:
        carry[k] = em.fresh("sc")
    plain_avals = [carry_avals[k] for k in plain]
    _assign(em, [carry[k] for k in plain],
            _contiguous_carries(em, [init[k] for k in plain], plain_avals), plain_avals)
    for k in plain:
        if carry_avals[k].ndim > 0:
            em.mark_contig(carry[k])
    for k in acc:  # owned arrays, updated in place
        carry[k] = em.fresh("sc")
        em.line(f"{carry[k]} = {init[k]}.copy()")
        em.mark_contig(carry[k])
    ys = [em.alloc(a.shape, a.dtype, hint="ys") for a in y_avals]
    # Blocked products: the rows of ``sum_i dot_general(u_i, v_i)`` are stored per
    # iteration and summed by one BLAS product per block of iterations. Products into the
    # same carry with the same row shapes share their buffers, one slot of rows each, so
    # that one product sums them all (an RK4 step's gradient has four: one flush instead
    # of four, fewer loops to compile, and a longer product).
    # [carry, block, buffer names, flush sizes, members [(dot, n, perms)], row shapes]
    blocks = []
    group_of = {}
    for k, d, n in dot_terms:
        perm_u, perm_v = _block_layout(d)
        per_row = max(1, d.outvars[0].aval.size * max(1, int(np.prod(
            [d.invars[0].aval.shape[a] for a in d.params["dimension_numbers"][0][0]]))))
        block = int(min(length, _BLOCK_MAX, max(1, _BLOCK_FLOPS // per_row)))
        rows_u = tuple(d.invars[0].aval.shape[a] for a in perm_u)
        rows_v = tuple(d.invars[1].aval.shape[a] for a in perm_v)
        key = (k, rows_u, rows_v, len(d.params["dimension_numbers"][0][0]), block)
        if key not in group_of:
            group_of[key] = len(blocks)
            blocks.append([k, block, None, None, [], (rows_u, rows_v)])
        blocks[group_of[key]][4].append((d, n, (perm_u, perm_v)))
    for b in blocks:
        _, block, _, _, members, (rows_u, rows_v) = b
        d = members[0][0]
        rows = len(members) * block
        b[2] = [em.alloc((rows,) + shape, v.aval.dtype, hint="blk")
                for shape, v in zip((rows_u, rows_v), d.invars)]
        # the flush: a sum over the buffers' rows and the contracting dims, one BLAS
        # product (BLAS whatever the block size: the source does not depend on the length)
        kt = rows * int(np.prod(rows_u[:len(d.params["dimension_numbers"][0][0])], dtype=np.int64))
        b[3] = (kt, int(np.prod(rows_u, dtype=np.int64)) * rows // kt,
                int(np.prod(rows_v, dtype=np.int64)) * rows // kt)

    def flush_into(k, bufs, flush):
        kt, fu, fv = flush
        u, v, t = em.fresh("v"), em.fresh("v"), em.fresh("d")
        em.line(f"{u} = {em.reshape(bufs[0], (kt, fu))}")
        em.line(f"{v} = {em.reshape(bufs[1], (kt, fv))}")
        em.line(f"{t} = {em.use_linalg('gemm')}({u}, np.int64(1), {v}, np.int64(0))")
        c = carry[k]
        shape = carry_avals[k].shape
        if tuple(shape) != (fu, fv):
            t2 = em.fresh("v")
            em.line(f"{t2} = {em.reshape(t, shape)}")
            t = t2
        _loop_nest_line(em, shape, lambda ix: (
            f"{c}[{', '.join(ix)}] += {t}[{', '.join(ix)}]"))

    it, i = em.fresh("it"), em.fresh("si")
    header = len(em.lines)
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
        # an accumulator's carry is read by nothing left in the body
        body_in = list(consts) + list(carry) + slices
        res = em.emit_jaxpr(bj, body_in, body.consts)
        n_plain, n_y = len(plain), len(y_avals)
        res_c, res_y = res[:n_plain], res[n_plain:n_plain + n_y]
        res_extra = res[n_plain + n_y:]
        # stores first: they may read carries that change below
        for buf, val, a in zip(ys, res_y, y_avals):
            _store_row(em, buf, i, val, a.update(shape=a.shape[1:]))
        for k, kind, t, n in add_terms:  # in-place updates of the carries
            c = carry[k]
            if kind == "set":
                continue  # below, after every other read of the carry
            if kind == "add":
                _loop_nest_line(em, carry_avals[k].shape, lambda ix, c=c, t=res_extra[n]: (
                    f"{c}[{', '.join(ix)}] += {t}[{', '.join(ix)}]"))
            elif kind == "scatter":
                ops = res_extra[n:n + len(t.invars) - 1]
                scatter_add_into(em, c, t, ops[:-1], ops[-1])
            else:  # slice: a dynamic_update_slice into zeros, added
                ops = res_extra[n:n + len(t.invars) - 1]
                update_slice_into(em, c, t, ops[0], ops[1:], op="+=")
        rows = {}
        for _, block, bufs, _, members, _ in blocks:
            if block not in rows:
                rows[block] = em.fresh("row")
                em.line(f"{rows[block]} = {it} % {block}")
            for slot, (d, n, perms) in enumerate(members):
                row = f"{slot * block} + {rows[block]}" if slot else rows[block]
                for buf, val, perm, v in zip(bufs, res_extra[n:n + 2], perms, d.invars):
                    _store_row(em, buf, row, val, v.aval, perm)
        flushed = {}  # the full blocks: one test per block size
        for k, block, bufs, flush, _, _ in blocks:
            flushed.setdefault(block, []).append((k, bufs, flush))
        for block, items in flushed.items():
            em.line(f"if {rows[block]} == {block - 1}:")
            with em.indented():
                for k, bufs, flush in items:
                    flush_into(k, bufs, flush)
        for k, kind, t, n in add_terms:  # buffers filled slice by slice
            if kind == "set":
                ops = res_extra[n:n + len(t.invars) - 1]
                update_slice_into(em, carry[k], t, ops[0], ops[1:])
        res_c = _contiguous_carries(em, res_c, plain_avals)
        _assign(em, [carry[k] for k in plain], res_c, plain_avals)
    hoist_allocations(em, header, [carry[k] for k in plain])
    # the last, partial block: its unused rows (of every slot) are zeroed (they add
    # nothing); the test is written even when it is false, so that the source does not
    # depend on the length
    for k, block, bufs, flush, members, row_shapes in blocks:
        em.line(f"if {length % block} > 0:")
        with em.indented():
            for buf, row_shape, v in zip(bufs, row_shapes, members[0][0].invars):
                slot, r = em.fresh("slot"), em.fresh("row")
                em.line(f"for {slot} in range({len(members)}):")
                with em.indented():
                    em.line(f"for {r} in range({slot} * {block} + {length % block}, "
                            f"({slot} + 1) * {block}):")
                    with em.indented():
                        zero = literal_expr(0, v.aval.dtype)
                        _loop_nest_line(em, list(row_shape), lambda ix, buf=buf, r=r, zero=zero: (
                            f"{buf}[{', '.join([r] + ix)}] = {zero}"))
            flush_into(k, bufs, flush)
    return carry + ys


rule(cond_p)(_cond_lower)
rule(while_p)(_while_lower)
rule(scan_p)(_scan_lower)

