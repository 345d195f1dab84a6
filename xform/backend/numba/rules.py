"""Lowering rules for equations that are not fused into loop nests.

``RULES[name](em, eqn, ins) -> out_names``; see the package docstring for the
interface. Shapes are static, so rules emit loops with literal bounds and index
arithmetic; views (reshape of contiguous arrays, transpose, slice, rev) cost no copy.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ...lax import indexing
from ...lax import reductions
from ...lax import structural
from ...lax.dot import dot_general_p
from .codegen import cast, index_text, literal_expr, np_type
from .dot_runtime import small_dot_ok
from .traits import INLINED

RULES: dict = {}  # Primitive -> rule(em, eqn, ins) -> output names


def rule(*prims):
    """Register a lowering rule for the primitive objects ``prims``."""

    def deco(fn):
        for p in prims:
            RULES[p] = fn
        return fn

    return deco


class LoweringError(NotImplementedError):
    pass


def lower_eqn(em, eqn, ins):
    fn = RULES.get(eqn.primitive)
    if fn is None:
        raise LoweringError(
            f"jit: primitive `{eqn.primitive.name}` has no Numba lowering rule; add one to "
            f"xform/backend/numba/rules.py (see the package docstring).")
    outs = fn(em, eqn, list(ins))
    if isinstance(outs, str):
        outs = [outs]
    return list(outs)


@contextlib.contextmanager
def loop_nest(em, shape, hint="j"):
    """Open ``for`` loops over ``shape``; yields the index names."""
    idx = [em.fresh(hint) for _ in shape]
    for i, n in zip(idx, shape):
        em.line(f"for {i} in range({int(n)}):")
        em.depth += 1
    try:
        yield idx
    finally:
        em.depth -= len(idx)


def _aval(v):
    return v.aval


def assign_block(em, dst, src, src_shape, offsets, steps=None, op="="):
    """dst[off0 + i0*step0, ...] = src[i0, ...] by a loop nest (numba's slice assignment
    costs much more compile time). ``offsets`` are expressions; ``op="+="`` adds."""
    steps = steps or [1] * len(src_shape)
    with loop_nest(em, src_shape) as idx:
        tgt = [f"{o} + {i}" + (f" * {st}" if st != 1 else "") if str(o) != "0" else (
            f"{i}" + (f" * {st}" if st != 1 else "")) for o, i, st in zip(offsets, idx, steps)]
        em.line(f"{dst}[{index_text(tgt)}] {op} {src}[{index_text(idx)}]")


def _out(eqn, i=0):
    return eqn.outvars[i].aval


def _slices(parts):
    return ", ".join(parts) if len(parts) != 1 else parts[0] + ","


# -- views and shape changes ------------------------------------------------------------


@rule(structural.reshape_p, structural.squeeze_p, structural.expand_dims_p)
def _reshape(em, eqn, ins):
    (x,) = ins[:1]
    xa, oa = _aval(eqn.invars[0]), _out(eqn)
    if xa.ndim == 0:
        if oa.ndim == 0:
            return [x]
        return [em.alloc(oa.shape, oa.dtype, fill=x)]
    if oa.ndim == 0:
        o = em.fresh("s")
        em.line(f"{o} = {x}[{index_text(['0'] * xa.ndim)}]")
        return [o]
    c = em.contiguous(x, xa)
    o = em.fresh("v")
    em.line(f"{o} = {em.reshape(c, oa.shape)}")
    return [em.mark_contig(o)]


@rule(structural.transpose_p)
def _transpose(em, eqn, ins):
    # Normally fused (a permuted read in the consumer's loop nest); this is the fallback.
    perm = tuple(eqn.params["permutation"])
    xa = _aval(eqn.invars[0])
    if perm == (1, 0):
        o = em.fresh("v")
        em.line(f"{o} = {ins[0]}.T")
        return [o]
    return [em.copy_permuted(ins[0], xa.shape, xa.dtype, perm)]


@rule(structural.rev_p)
def _rev(em, eqn, ins):
    dims = set(eqn.params["dimensions"])
    xa = _aval(eqn.invars[0])
    if not dims or xa.ndim == 0:
        return [ins[0]]
    parts = ["::-1" if d in dims else ":" for d in range(xa.ndim)]
    o = em.fresh("v")
    em.line(f"{o} = {ins[0]}[{_slices(parts)}]")
    return [o]


@rule(structural.slice_p)
def _slice(em, eqn, ins):
    p = eqn.params
    strides = p.get("strides") or (1,) * len(p["start_indices"])
    parts = []
    for lo, hi, st in zip(p["start_indices"], p["limit_indices"], strides):
        parts.append(f"{lo}:{hi}" + (f":{st}" if st != 1 else ""))
    o = em.fresh("v")
    em.line(f"{o} = {ins[0]}[{_slices(parts)}]")
    return [o]


@rule(structural.reduce_sum_p, reductions.reduce_max_p, reductions.reduce_min_p, reductions.reduce_prod_p)
def _reduce_trivial(em, eqn, ins):
    # Only reached when only size-1 axes are reduced (others are fused loop nests).
    xa = _aval(eqn.invars[0])
    if any(xa.shape[a] != 1 for a in eqn.params.get("axes", ())):
        raise LoweringError(f"jit: unexpected unfused {eqn.primitive.name}")
    if not eqn.params.get("axes"):
        return [ins[0]]
    return _reshape(em, eqn, ins)


# -- concatenate / pad ---------------------------------------------------------------------


@rule(structural.concatenate_p)
def _concatenate(em, eqn, ins):
    oa = _out(eqn)
    dim = eqn.params["dimension"]
    o = em.alloc(oa.shape, oa.dtype)
    off = 0
    for x, v in zip(ins, eqn.invars):
        n = v.aval.shape[dim]
        if n == 0:
            continue
        offs = [0] * oa.ndim
        offs[dim] = off
        assign_block(em, o, x, v.aval.shape, offs)
        off += n
    return [o]


@rule(structural.pad_p)
def _pad(em, eqn, ins):
    x, pv = ins
    xa, oa = _aval(eqn.invars[0]), _out(eqn)
    cfg = [tuple(c) for c in eqn.params["padding_config"]]
    o = em.alloc(oa.shape, oa.dtype, fill=pv)
    if xa.size == 0 or oa.size == 0:
        return [o]
    if all(lo >= 0 and hi >= 0 for lo, hi, _ in cfg):
        assign_block(em, o, x, xa.shape, [lo for lo, _, _ in cfg], [it + 1 for _, _, it in cfg])
        return [o]
    with loop_nest(em, xa.shape) as idx:
        conds, oidx = [], []
        for i, (lo, _, it), m in zip(idx, cfg, oa.shape):
            e = f"{lo} + {i} * {it + 1}"
            t = em.fresh("p")
            em.line(f"{t} = {e}")
            conds.append(f"0 <= {t} < {m}")
            oidx.append(t)
        em.line(f"if {' and '.join(conds)}:")
        em.line(f"    {o}[{index_text(oidx)}] = {x}[{index_text(idx)}]")
    return [o]


# -- dynamic slicing --------------------------------------------------------------------------


def _clamped_starts(em, starts, in_shape, sizes):
    names = []
    for s, n, k in zip(starts, in_shape, sizes):
        t = em.fresh("st")
        em.line(f"{t} = min(max(np.int64({s}), 0), {n - k})")
        names.append(t)
    return names


@rule(indexing.dynamic_slice_p)
def _dynamic_slice(em, eqn, ins):
    x, starts = ins[0], ins[1:]
    xa = _aval(eqn.invars[0])
    sizes = tuple(eqn.params["slice_sizes"])
    if xa.ndim == 0:
        return [x]
    if em.is_contig(x) and sizes[1:] == tuple(xa.shape[1:]):
        # rows of a C-contiguous array (e.g. ``x[i]`` in a loop): a slice of the leading
        # dim alone, which Numba types as C-contiguous (a view that needs no copy later)
        (st,) = _clamped_starts(em, starts[:1], xa.shape[:1], sizes[:1])
        o = em.fresh("v")
        em.line(f"{o} = {x}[{st}:{st} + {sizes[0]}]")
        return [em.mark_contig(o)]
    st = _clamped_starts(em, starts, xa.shape, sizes)
    parts = [f"{s}:{s} + {k}" for s, k in zip(st, sizes)]
    o = em.fresh("v")
    em.line(f"{o} = {x}[{_slices(parts)}]")
    return [o]


@rule(indexing.dynamic_update_slice_p)
def _dynamic_update_slice(em, eqn, ins):
    x, upd, starts = ins[0], ins[1], ins[2:]
    xa = _aval(eqn.invars[0])
    if xa.ndim == 0:
        return [upd]
    o = em.fresh("o")
    em.line(f"{o} = {x}.copy()")
    em.mark_contig(o)
    update_slice_into(em, o, eqn, upd, starts)
    return [o]


def update_slice_into(em, o, eqn, upd, starts, op="="):
    """The update of ``dynamic_update_slice`` equation ``eqn`` written into array ``o`` in
    place (``op="+="``: added; scan accumulators use both, see control_flow.py)."""
    xa, ua = _aval(eqn.invars[0]), _aval(eqn.invars[1])
    st = _clamped_starts(em, starts, xa.shape, ua.shape)
    assign_block(em, o, upd, ua.shape, st, op=op)


# -- dot_general ---------------------------------------------------------------------------------


def _same_order(perm, shape) -> bool:
    """Whether transposing by ``perm`` keeps the memory order (only moves size-1 dims)."""
    real = [p for p in perm if shape[p] != 1]
    return real == sorted(real)


def _as_bmk(em, x, aval, batch, free, contract, order):
    """Operand as a C-contiguous 3-d (B, free, contract) or (B, contract, free) array."""
    shape = aval.shape
    perm = list(batch) + (list(free) + list(contract) if order == "fk" else list(contract) + list(free))
    B = int(np.prod([shape[d] for d in batch], dtype=np.int64))
    F = int(np.prod([shape[d] for d in free], dtype=np.int64))
    K = int(np.prod([shape[d] for d in contract], dtype=np.int64))
    if not _same_order(perm, shape):
        c = em.copy_permuted(x, shape, aval.dtype, perm)
    else:
        c = em.contiguous(x, aval)
    t = em.fresh("v")
    dims = (B, F, K) if order == "fk" else (B, K, F)
    em.line(f"{t} = {em.reshape(c, dims)}")
    return em.mark_contig(t), B, F, K


# x @ x.T by BLAS syrk from this size of the result on (below, the mirrored triangle and
# the extra call are not worth the halved arithmetic)
_SYRK_MIN = 16


def _view_as(em, c, shape, target) -> str:
    """C-contiguous ``c`` of ``shape`` viewed with shape ``target`` (no reshape call
    when it already has it: each costs a helper call, which counts in loop bodies)."""
    if tuple(shape) == tuple(target):
        return c
    t = em.fresh("v")
    em.line(f"{t} = {em.reshape(c, target)}")
    return em.mark_contig(t)


def _operand_2d(em, x, aval, free, contract, want, view=True):
    """A 2-d operand for a matrix product without copying when a C or F view exists.

    want == 'fk' gives shape (F, K) (lhs), 'kf' gives (K, F) (rhs). Returns
    ``(view, base, transposed)``: ``base`` is C-contiguous 2-d and ``view`` is ``base``
    or, when ``transposed``, ``base.T`` (BLAS reads it with a transpose flag; not
    written, and None, when ``view`` is false: the caller passes the flag itself).
    """
    shape = aval.shape
    F = int(np.prod([shape[d] for d in free], dtype=np.int64))
    K = int(np.prod([shape[d] for d in contract], dtype=np.int64))
    nat = list(free) + list(contract) if want == "fk" else list(contract) + list(free)
    rev_ = list(contract) + list(free) if want == "fk" else list(free) + list(contract)
    target = (F, K) if want == "fk" else (K, F)
    if _same_order(nat, shape):
        c = em.contiguous(x, aval)
        v = _view_as(em, c, shape, target)
        return v, v, False
    if _same_order(rev_, shape):
        c = em.contiguous(x, aval)
        base = _view_as(em, c, shape, target[::-1])
        if not view:
            return None, base, True
        t = em.fresh("v")
        em.line(f"{t} = {base}.T")
        return t, base, True
    c = em.copy_permuted(x, shape, aval.dtype, nat)
    v = _view_as(em, c, [shape[d] for d in nat], target)
    return v, v, False


def _small_operands(em, x, y, la, ra, lc, rc):
    """The operands of ``dot_small`` for matrix-vector, vector-matrix, outer and 2-d
    matrix products, as 1-d or 2-d arrays (transposed views where the contraction
    asks for them), or None for other products."""
    if len(lc) == 1:
        if (la.ndim, ra.ndim) not in ((2, 1), (1, 2), (2, 2)):
            return None
    elif lc or la.ndim != 1 or ra.ndim != 1:
        return None

    def operand(v, aval, contract, natural):
        v = em.contiguous(v, aval)
        if aval.ndim == 1 or contract[0] == natural:
            return v
        t = em.fresh("v")
        em.line(f"{t} = {v}.T")
        return t

    return operand(x, la, lc, 1), operand(y, ra, rc, 0)


def _result(em, r, shape, oa):
    """The product ``r`` (C-contiguous, of ``shape``) as the equation's result."""
    if oa.ndim == 0:
        s = em.fresh("s")
        em.line(f"{s} = {r}[{', '.join('0' * len(shape))}]")
        return [s]
    return [_view_as(em, r, shape, oa.shape)]


@rule(dot_general_p)
def _dot_general(em, eqn, ins):
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lc, rc, lb, rb = map(tuple, (lc, rc, lb, rb))
    la, ra, oa = _aval(eqn.invars[0]), _aval(eqn.invars[1]), _out(eqn)
    x, y = ins
    dt = oa.dtype
    if la.ndim == 0 or ra.ndim == 0:  # scalar operand: a product
        x = em.as_array(x, la) if la.ndim == 0 else x
        y = em.as_array(y, ra) if ra.ndim == 0 else y
    lf = [d for d in range(la.ndim) if d not in lc and d not in lb]
    rf = [d for d in range(ra.ndim) if d not in rc and d not in rb]
    B = int(np.prod([la.shape[d] for d in lb], dtype=np.int64))
    M = int(np.prod([la.shape[d] for d in lf], dtype=np.int64))
    N = int(np.prod([ra.shape[d] for d in rf], dtype=np.int64))
    K = int(np.prod([la.shape[d] for d in lc], dtype=np.int64))
    blas = dt.kind in "fc" and la.dtype == dt and ra.dtype == dt
    if oa.size == 0 or K == 0:
        o = em.alloc(oa.shape, dt, fill=literal_expr(0, dt))
        return [o if oa.ndim else f"{o}[()]"]
    if blas and not lb:
        small = small_dot_ok(M, N, K)  # loops: a BLAS call costs more than the arithmetic
        ops = _small_operands(em, x, y, la, ra, lc, rc) if small else None
        if ops is not None:  # vectors as they are (no reshape)
            r = em.alloc(oa.shape, dt, hint="d")
            em.line(f"{em.use_runtime('dot_small')}({ops[0]}, {ops[1]}, {r})")
            return [r]
        a2, a_base, a_t = _operand_2d(em, x, la, lf, lc, "fk", view=small)
        if small:
            b2, _, _ = _operand_2d(em, y, ra, rf, rc, "kf")
            r = em.alloc((M, N), dt, hint="d")
            em.line(f"{em.use_runtime('dot_small')}({a2}, {b2}, {r})")
            return _result(em, r, (M, N), oa)
        if x == y and lc == rc and M >= _SYRK_MIN:  # x @ x.T: symmetric, half the work
            r = em.fresh("d")
            em.line(f"{r} = {em.use_linalg('syrk')}({a_base}, np.int64({int(not a_t)}))")
            em.mark_contig(r)
            return _result(em, r, (M, M), oa)
        _, b_base, b_t = _operand_2d(em, y, ra, rf, rc, "kf", view=False)
        r = em.fresh("d")
        em.line(f"{r} = {em.use_linalg('gemm')}({a_base}, np.int64({int(a_t)}), {b_base}, "
                f"np.int64({int(b_t)}))")
        em.mark_contig(r)
        return _result(em, r, (M, N), oa)
    a3, _, _, _ = _as_bmk(em, x, la, lb, lf, lc, "fk")
    b3, _, _, _ = _as_bmk(em, y, ra, rb, rf, rc, "kf")
    if blas:
        r = em.fresh("d")
        em.line(f"{r} = {em.use_runtime('dot_batched')}({a3}, {b3})")
        em.mark_contig(r)
    else:
        r = em.alloc((B, M, N), dt, hint="d")  # exact integer / mixed products by loops
        b, i, j, k = (em.fresh(h) for h in "bijk")
        acc = em.fresh("acc")
        em.line(f"for {b} in range({B}):")
        em.line(f"    for {i} in range({M}):")
        em.line(f"        for {j} in range({N}):")
        em.line(f"            {r}[{b}, {i}, {j}] = {literal_expr(0, dt)}")
        em.line(f"        for {k} in range({K}):")
        em.line(f"            {acc} = {cast(f'{a3}[{b}, {i}, {k}]', dt)}")
        em.line(f"            for {j} in range({N}):")
        prod = f"{r}[{b}, {i}, {j}] + {acc} * " + cast(f"{b3}[{b}, {k}, {j}]", dt)
        em.line(f"                {r}[{b}, {i}, {j}] = {cast(prod, dt)}")
    return _result(em, r, (B, M, N), oa)


__all__ = ["RULES", "rule", "lower_eqn", "loop_nest", "LoweringError", "np_type"]


# -- argmax / argmin, cumulative ops, sort --------------------------------------------------------


@rule(reductions.argmax_p, reductions.argmin_p)
def _argminmax(em, eqn, ins):
    (x,) = ins
    xa, oa = _aval(eqn.invars[0]), _out(eqn)
    (axis,) = eqn.params["axes"]
    n = xa.shape[axis]
    outer = [d for d in range(xa.ndim) if d != axis]
    cmp = ">" if eqn.primitive is reductions.argmax_p else "<"
    isf = xa.dtype.kind in "fc"
    o = em.alloc(oa.shape, oa.dtype) if oa.ndim else None
    res = o
    with loop_nest(em, [xa.shape[d] for d in outer]) as idx:
        full = list(idx)
        full.insert(axis, "0")
        best, bi, k, v = em.fresh("best"), em.fresh("bi"), em.fresh("k"), em.fresh("v")
        em.line(f"{best} = {x}[{index_text(full)}]")
        em.line(f"{bi} = 0")
        full[axis] = k
        em.line(f"for {k} in range(1, {n}):")
        with em.indented():
            em.line(f"{v} = {x}[{index_text(full)}]")
            if isf:
                em.line(f"if {v} {cmp} {best} or ({v} != {v} and {best} == {best}):")
            else:
                em.line(f"if {v} {cmp} {best}:")
            em.line(f"    {best} = {v}")
            em.line(f"    {bi} = {k}")
        if oa.ndim:
            em.line(f"{o}[{index_text(idx)}] = {cast(bi, oa.dtype)}")
        else:
            res = em.fresh("s")
            em.line(f"{res} = {cast(bi, oa.dtype)}")
    return [res]


_CUM_OP = {reductions.cumsum_p: structural.reduce_sum_p, reductions.cumprod_p: reductions.reduce_prod_p,
           reductions.cummax_p: reductions.reduce_max_p, reductions.cummin_p: reductions.reduce_min_p}


@rule(reductions.cumsum_p, reductions.cumprod_p, reductions.cummax_p, reductions.cummin_p)
def _cumulative(em, eqn, ins):
    from .fusion import RED_INIT, accumulate

    (x,) = ins
    xa = _aval(eqn.invars[0])
    axis, reverse = eqn.params["axis"], eqn.params.get("reverse", False)
    n = xa.shape[axis]
    dt = xa.dtype
    red = _CUM_OP[eqn.primitive]
    o = em.alloc(xa.shape, dt)
    outer = [d for d in range(xa.ndim) if d != axis]
    with loop_nest(em, [xa.shape[d] for d in outer]) as idx:
        acc, k, v = em.fresh("acc"), em.fresh("k"), em.fresh("v")
        em.line(f"{acc} = {RED_INIT[red](dt)}")
        full = list(idx)
        full.insert(axis, k)
        rng = f"range({n} - 1, -1, -1)" if reverse else f"range({n})"
        em.line(f"for {k} in {rng}:")
        with em.indented():
            em.line(f"{v} = {x}[{index_text(full)}]")
            for ln in accumulate(red, acc, v, dt):
                em.line(ln)
            em.line(f"{o}[{index_text(full)}] = {acc}")
    return [o]


def _lane_matrix(em, x, aval, axis):
    """A C-contiguous (lanes, n) copy/view of x with ``axis`` last, and the permutation."""
    perm = [d for d in range(aval.ndim) if d != axis] + [axis]
    n = aval.shape[axis]
    L = int(np.prod([aval.shape[d] for d in perm[:-1]], dtype=np.int64))
    if not _same_order(perm, aval.shape):
        c = em.copy_permuted(x, aval.shape, aval.dtype, perm)
    else:
        c = em.contiguous(x, aval)
    m = em.fresh("v")
    em.line(f"{m} = {em.reshape(c, (L, n))}")
    return m, perm, L, n


def _from_lanes(em, r, aval_shape, dtype, perm):
    tshape = [aval_shape[d] for d in perm]
    t = em.fresh("v")
    em.line(f"{t} = {em.reshape(r, tshape)}")
    em.mark_contig(t)
    inv = [int(i) for i in np.argsort(perm)]
    if _same_order(inv, tshape):
        t2 = em.fresh("v")
        em.line(f"{t2} = {em.reshape(t, aval_shape)}")
        return em.mark_contig(t2)
    return em.copy_permuted(t, tshape, dtype, inv)


@rule(indexing.sort_p, indexing.argsort_p)
def _sort(em, eqn, ins):
    (x,) = ins
    xa, oa = _aval(eqn.invars[0]), _out(eqn)
    axis = eqn.params["dimension"]
    if xa.ndim == 0:
        return [x]
    m, perm, L, n = _lane_matrix(em, x, xa, axis)
    r = em.alloc((L, n), oa.dtype, hint="srt")
    lane, p = em.fresh("l"), em.fresh("p")
    em.line(f"for {lane} in range({L}):")
    with em.indented():
        em.line(f"{p} = {em.use_runtime('argsort_stable')}({m}[{lane}])")
        q = em.fresh("q")
        em.line(f"for {q} in range({n}):")
        if eqn.primitive is indexing.argsort_p:
            em.line(f"    {r}[{lane}, {q}] = {cast(f'{p}[{q}]', oa.dtype)}")
        else:
            em.line(f"    {r}[{lane}, {q}] = {m}[{lane}, {p}[{q}]]")
    return [_from_lanes(em, r, xa.shape, oa.dtype, perm)]


# -- gather / scatter_add -----------------------------------------------------------------------------


def _index_values(em, eqn, idx_names, idx_avals, B, b_idx, axes, xshape):
    """Emit normalized (wrapped once, clamped) index values at loop indices ``b_idx``."""
    vals = []
    nb = len(B)
    for name, a, ax in zip(idx_names, idx_avals, axes):
        n = xshape[ax]
        t = em.fresh("g")
        if a.ndim == 0:
            src = name
        else:
            lead = nb - a.ndim
            ix = ["0" if d == 1 else b_idx[lead + j] for j, d in enumerate(a.shape)]
            src = f"{name}[{index_text(ix)}]"
        em.line(f"{t} = np.int64({src})")
        em.line(f"if {t} < 0:")
        em.line(f"    {t} += {n}")
        em.line(f"{t} = min(max({t}, 0), {max(n - 1, 0)})")
        vals.append(t)
    return vals


@contextlib.contextmanager
def _gather_loops(em, eqn, idx_names, idx_avals, B, axes, rest, x_shape):
    """Loops over the index batch shape ``B`` and the non-indexed dims ``rest`` of x;
    yields (the loop indices, batch first, and the matching index into x)."""
    with loop_nest(em, B) as bidx:
        vals = _index_values(em, eqn, idx_names, idx_avals, B, bidx, axes, x_shape)
        with loop_nest(em, [x_shape[d] for d in rest]) as ridx:
            full = [None] * len(x_shape)
            for a, v in zip(axes, vals):
                full[a] = v
            for d, r in zip(rest, ridx):
                full[d] = r
            yield list(bidx) + list(ridx), full


@rule(indexing.gather_p)
def _gather(em, eqn, ins):
    x, idx_names = ins[0], ins[1:]
    xa, oa = _aval(eqn.invars[0]), _out(eqn)
    axes = tuple(eqn.params["axes"])
    idx_avals = [v.aval for v in eqn.invars[1:]]
    rest = [d for d in range(xa.ndim) if d not in axes]
    nb = oa.ndim - len(rest)
    B = oa.shape[:nb]
    if oa.ndim == 0:
        vals = _index_values(em, eqn, idx_names, idx_avals, B, [], axes, xa.shape)
        s = em.fresh("s")
        em.line(f"{s} = {x}[{index_text(vals)}]")
        return [s]
    o = em.alloc(oa.shape, oa.dtype)
    if oa.size == 0:
        return [o]
    with _gather_loops(em, eqn, idx_names, idx_avals, B, axes, rest, xa.shape) as (oidx, full):
        em.line(f"{o}[{index_text(oidx)}] = {x}[{index_text(full)}]")
    return [o]


@rule(indexing.scatter_add_p)
def _scatter_add(em, eqn, ins):
    x, idx_names, upd = ins[0], ins[1:-1], ins[-1]
    xa = _aval(eqn.invars[0])
    if xa.ndim == 0:
        return [x]
    o = em.fresh("o")
    em.line(f"{o} = {x}.copy()")
    em.mark_contig(o)
    scatter_add_into(em, o, eqn, idx_names, upd)
    return [o]


def scatter_add_into(em, o, eqn, idx_names, upd):
    """The updates of ``scatter_add`` equation ``eqn`` added into array ``o`` in place."""
    xa, ua = _aval(eqn.invars[0]), _aval(eqn.invars[-1])
    axes = tuple(eqn.params["axes"])
    idx_avals = [v.aval for v in eqn.invars[1:-1]]
    rest = [d for d in range(xa.ndim) if d not in axes]
    nb = ua.ndim - len(rest)
    B = ua.shape[:nb]
    dt = xa.dtype
    if ua.size == 0:
        return
    with _gather_loops(em, eqn, idx_names, idx_avals, B, axes, rest, xa.shape) as (uidx, full):
        tgt = f"{o}[{index_text(full)}]"
        u = f"{upd}[{index_text(uidx)}]" if ua.ndim else upd
        if dt.kind == "b":
            em.line(f"{tgt} = {tgt} | {u}")
        elif dt in (np.float64, np.int64, np.complex128, np.float32, np.complex64):
            em.line(f"{tgt} += {u}")
        else:
            em.line(f"{tgt} = {cast(f'{tgt} + {u}', dt)}")

# Control flow (cond, while, scan) lowers through the `numba_lower` rules kept next to
# those primitives in xform/lax/control_flow.py.


# -- calls ----------------------------------------------------------------------------------


def _inline(em, eqn, ins):
    """Call-like primitives: their held program is emitted inline."""
    closed = eqn.params[INLINED[eqn.primitive]]
    return em.emit_jaxpr(closed.jaxpr, ins, closed.consts)


rule(*INLINED)(_inline)


# == issue 16 (API conformance): io_callback ==================================================
# (kept at the end of the file: the lowering of ``io_callback_p`` from xform/lax/callbacks.py,
# the same object-mode call into Python as pure_callback; its side effect is honoured by
# the passes through ``Primitive.effectful``)

from ...lax.callbacks import io_callback_p  # noqa: E402


@rule(io_callback_p)
def _io_callback(em, eqn, ins):
    from .callbacks import emit_call, register  # callbacks.py imports this module

    out_avals = [v.aval for v in eqn.outvars]
    number = register(eqn.params["callback"], tuple(eqn.params["result_avals"]),
                      tuple(a.dtype for a in out_avals))
    outs = [em.fresh("cb") for _ in out_avals]
    emit_call(em, number, ins, outs, out_avals)
    # the call runs for its effect also when its results are unused, but Numba's object
    # mode rejects declared results nothing reads: read each once
    for o in outs:
        em.line(f"{o} = {o}")
    return outs
