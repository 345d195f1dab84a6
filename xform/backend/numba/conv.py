"""Lowerings of convolution, windowed reductions (pooling and its derivatives) and
``cumlogsumexp``.

- ``conv_general_dilated`` calls a generic, disk-cached kernel of ``conv_runtime.py``
  through a function pointer: the generated code is a few lines whatever the shapes,
  layouts, dilations and groups, so a program with convolutions compiles as fast as
  one without (see ``conv_runtime.py`` for why and for the algorithm).
- The window primitives are loop nests over the output with the window loops inside;
  the bounds checks for padding are only emitted along dimensions where a window can
  leave the operand, and the innermost output dimension runs over a precomputed valid
  range (vectorizable) for the monoid reductions.
"""
from __future__ import annotations

import numpy as np

from ...lax import reductions as rd
from ...lax import windowed as win
from ...lax.convolution import conv_general_dilated_p
from ...lax.elementwise import ge_p
from .codegen import cast, index_text, literal_expr, np_type, shape_text
from .rules import LoweringError, loop_nest, rule


def _use_conv_runtime(em, name: str) -> str:
    """Import ``name`` from ``conv_runtime`` into the generated module (an import line in
    the module header, once)."""
    line = f"from xform.backend.numba.conv_runtime import {name}"
    if line not in em.mod.helpers:
        em.mod.helpers.append(line)
    return name


# -- convolution ---------------------------------------------------------------------------------


def _canon(shape, spec):
    """Canonical dims (padded to 3 spatial dims) and the array axis of each."""
    nsp = len(spec) - 2
    dims = [int(shape[d]) for d in spec] + [1] * (3 - nsp)
    axes = [int(d) for d in spec] + [-1] * (3 - nsp)
    return dims, axes


def _pad3(v, fill):
    return [int(e) for e in v] + [fill] * (3 - len(v))


@rule(conv_general_dilated_p)
def _conv(em, eqn, ins):
    from . import conv_runtime as cr

    x, w = ins
    xa, wa, oa = eqn.invars[0].aval, eqn.invars[1].aval, eqn.outvars[0].aval
    p = eqn.params
    lspec, rspec, ospec = p["dimension_numbers"]
    nsp = xa.ndim - 2
    if nsp > 3:
        raise LoweringError(f"jit: conv_general_dilated with {nsp} spatial dimensions (at most 3 "
                            f"are compiled); run it outside jit")
    dt = oa.dtype
    if oa.size == 0 or xa.size == 0 or wa.size == 0:
        return [em.alloc(oa.shape, dt, fill=literal_expr(0, dt))]
    if dt.kind not in "iufc":
        raise LoweringError(f"jit: conv_general_dilated of dtype {dt}")
    static = cr.static_block(
        *_canon(xa.shape, lspec), *_canon(wa.shape, rspec), *_canon(oa.shape, ospec),
        _pad3(p["window_strides"], 1), _pad3([lo for lo, _ in p["padding"]], 0),
        _pad3(p["lhs_dilation"], 1), _pad3(p["rhs_dilation"], 1),
        p["feature_group_count"], p["batch_group_count"])
    blk = em.const(static)
    if dt.kind == "c":
        # four real convolutions (the runtime has float kernels only): (a + ib)(c + id)
        real = np.dtype(np.float32) if dt == np.complex64 else np.dtype(np.float64)
        x, w = _as_dtype(em, x, xa, dt), _as_dtype(em, w, wa, dt)
        parts = {}
        for name, a, b in (("rr", "real", "real"), ("ii", "imag", "imag"), ("ri", "real", "imag"),
                           ("ir", "imag", "real")):
            parts[name] = _call(em, cr, f"{x}.{a}", f"{w}.{b}", oa.shape, real, blk)
        out = em.fresh("o")
        em.line(f"{out} = np.empty({shape_text(oa.shape)}, {np_type(dt)})")
        em.line(f"{out}.real[...] = {parts['rr']} - {parts['ii']}")
        em.line(f"{out}.imag[...] = {parts['ri']} + {parts['ir']}")
        return [em.mark_contig(out)]
    # floats by BLAS in their dtype; integers exactly in int64 (products wrap like
    # numpy's, and the cast back keeps the low bits)
    rt = dt if dt.kind == "f" else np.dtype(np.int64)
    out = _call(em, cr, _as_dtype(em, x, xa, rt), _as_dtype(em, w, wa, rt), oa.shape, rt, blk)
    if rt != dt:
        res = em.fresh("o")
        em.line(f"{res} = {out}.astype({np_type(dt)})")
        return [em.mark_contig(res)]
    return [out]


def _call(em, cr, x, w, shape, dtype, blk):
    out = em.alloc(shape, dtype)
    addr = em.const(np.array([cr.conv_address(dtype)], np.int64))
    em.line(f"{_use_conv_runtime(em, 'conv_call')}({addr}[0], {x}, {w}, {out}, {blk})")
    return out


def _as_dtype(em, name, aval, dtype):
    if aval.dtype == dtype:
        return name
    out = em.fresh("c")
    em.line(f"{out} = {name}.astype({np_type(dtype)})")
    return em.mark_contig(out)


# -- windows: shared index arithmetic -------------------------------------------------------------


class _Window:
    """Static facts of one windowed equation: operand shape, window parameters and, per
    dim, whether an in-bounds check is needed."""

    def __init__(self, shape, out_shape, params):
        self.shape = tuple(shape)
        self.out = tuple(out_shape)
        self.wd = tuple(params["window_dimensions"])
        self.ws = tuple(params["window_strides"])
        self.pad = tuple(tuple(pp) for pp in params["padding"])
        self.bd = tuple(params["base_dilation"])
        self.wdl = tuple(params["window_dilation"])
        self.checked = []
        for d in range(len(self.shape)):
            lo, bd, n = self.pad[d][0], self.bd[d], self.shape[d]
            first = -lo
            last = (self.out[d] - 1) * self.ws[d] + (self.wd[d] - 1) * self.wdl[d] - lo
            self.checked.append(bd != 1 or first < 0 or last > (n - 1))

    def position(self, em, d, o, k):
        """Emit the operand index along dim d for output index ``o`` and window offset
        ``k`` (expressions); returns (index expression, condition or None)."""
        lo, ws, wdl, bd = self.pad[d][0], self.ws[d], self.wdl[d], self.bd[d]
        terms = [f"{o} * {ws}" if ws != 1 else str(o)]
        if self.wd[d] > 1:
            terms.append(f"{k} * {wdl}" if wdl != 1 else str(k))
        if lo:
            terms.append(f"{-lo}")
        expr = " + ".join(terms)
        if not self.checked[d]:
            return expr, None
        t = em.fresh("p")
        em.line(f"{t} = {expr}")
        if bd == 1:
            return t, f"0 <= {t} < {self.shape[d]}"
        u = em.fresh("p")
        em.line(f"{u} = {t} // {bd}")
        return u, f"{t} >= 0 and {u} * {bd} == {t} and {u} < {self.shape[d]}"


def _window_positions(em, W, oidx):
    """Open the loops over the window offsets (dims of size > 1); yields per dim the
    operand index and the list of in-bounds conditions."""
    ks = []
    for n in W.wd:
        if n > 1:
            k = em.fresh("k")
            em.line(f"for {k} in range({n}):")
            em.depth += 1
            ks.append(k)
        else:
            ks.append("0")
    idx, conds = [], []
    for d in range(len(W.shape)):
        e, c = W.position(em, d, oidx[d], ks[d])
        idx.append(e)
        if c:
            conds.append(c)
    return idx, conds, sum(1 for n in W.wd if n > 1)


# -- monoid reductions: sum / max / min -------------------------------------------------------------

_MONOID = {win.reduce_window_sum_p: "sum", win.reduce_window_max_p: "max",
           win.reduce_window_min_p: "min"}


def _identity_expr(which, dt):
    if which == "sum":
        return literal_expr(0, dt)
    return literal_expr(win._identity(dt, which), dt)


def _combine(which, acc, v, dt):
    if which == "sum":
        if dt.kind == "b":
            return f"{acc} or {v}"
        return cast(f"{acc} + {v}", dt) if dt.itemsize < 4 or dt.kind in "iu" else f"{acc} + {v}"
    op = ">" if which == "max" else "<"
    if dt.kind == "f":  # NaN propagates
        return f"{v} if ({v} {op} {acc} or {v} != {v}) else {acc}"
    return f"{v} if {v} {op} {acc} else {acc}"


@rule(*_MONOID)
def _reduce_window_monoid(em, eqn, ins):
    (x,) = ins
    xa, oa = eqn.invars[0].aval, eqn.outvars[0].aval
    which = _MONOID[eqn.primitive]
    dt = oa.dtype
    W = _Window(xa.shape, oa.shape, eqn.params)
    init = _identity_expr(which, dt)
    out = em.alloc(oa.shape, dt, fill=init)
    if oa.size == 0 or xa.size == 0 or 0 in W.wd:
        return [out]
    nd = xa.ndim
    last = nd - 1
    # outer output dims, then the window, then the last output dim over its valid range
    with loop_nest(em, oa.shape[:last], hint="o") as oidx:
        ks = []
        opened = 0
        for n in W.wd:
            if n > 1:
                k = em.fresh("k")
                em.line(f"for {k} in range({n}):")
                em.depth += 1
                opened += 1
                ks.append(k)
            else:
                ks.append("0")
        idx, conds = [], []
        for d in range(last):
            e, c = W.position(em, d, oidx[d], ks[d])
            idx.append(e)
            if c:
                conds.append(c)
        if conds:
            em.line(f"if {' and '.join(conds)}:")
            em.depth += 1
        j = em.fresh("j")
        jlo, jhi, jidx, jcond = _last_dim_range(em, W, ks[last], j)
        em.line(f"for {j} in range({jlo}, {jhi}):")
        with em.indented():
            if jcond:
                em.line(f"if {jcond}:")
                em.depth += 1
            v = em.fresh("v")
            em.line(f"{v} = {x}[{index_text(idx + [jidx])}]")
            tgt = f"{out}[{index_text(list(oidx) + [j])}]"
            em.line(f"{tgt} = {_combine(which, tgt, v, dt)}")
            if jcond:
                em.depth -= 1
        if conds:
            em.depth -= 1
        em.depth -= opened
    return [out]


def _last_dim_range(em, W, k, j):
    """For the innermost output dim: the range of output indices j whose operand index is
    inside the operand (no per-element check when there is no base dilation)."""
    d = len(W.shape) - 1
    lo, ws, wdl, bd, n = W.pad[d][0], W.ws[d], W.wdl[d], W.bd[d], W.shape[d]
    off = f"{k} * {wdl} - {lo}" if W.wd[d] > 1 else f"{-lo}"
    idx = f"{j} * {ws} + {off}" if ws != 1 else f"{j} + {off}"
    if not W.checked[d]:
        return 0, W.out[d], idx, None
    if bd == 1:
        # 0 <= j * ws + off < n  <=>  ceil(-off / ws) <= j < ceil((n - off) / ws)
        a, b = em.fresh("jl"), em.fresh("jh")
        em.line(f"{a} = max(0, -((({off})) // {ws}))")
        em.line(f"{b} = min({W.out[d]}, -((({off}) - {n}) // {ws}))")
        return a, b, idx, None
    cond = f"({idx}) >= 0 and ({idx}) % {bd} == 0 and ({idx}) // {bd} < {n}"
    return 0, W.out[d], f"({idx}) // {bd}", cond


# -- select_and_gather_add / select_and_scatter_add ------------------------------------------------


@rule(win.select_and_gather_add_p)
def _select_and_gather_add(em, eqn, ins):
    t, x = ins
    xa, oa = eqn.invars[1].aval, eqn.outvars[0].aval
    dt, xdt = oa.dtype, xa.dtype
    W = _Window(xa.shape, oa.shape, eqn.params)
    out = em.alloc(oa.shape, dt, fill=literal_expr(0, dt))
    if oa.size == 0 or xa.size == 0 or 0 in W.wd:
        return [out]
    which = "max" if eqn.params["select_prim"] is ge_p else "min"
    ident = literal_expr(win._identity(xdt, which), xdt)
    zero = literal_expr(0, dt)
    with loop_nest(em, oa.shape, hint="o") as oidx:
        best, bt, found = em.fresh("best"), em.fresh("bt"), em.fresh("fd")
        em.line(f"{best} = {ident}")
        em.line(f"{bt} = {zero}")
        em.line(f"{found} = False")
        idx, conds, opened = _window_positions(em, W, oidx)
        v, tv = em.fresh("v"), em.fresh("tv")
        if conds:
            em.line(f"if {' and '.join(conds)}:")
            em.line(f"    {v} = {x}[{index_text(idx)}]")
            em.line(f"    {tv} = {t}[{index_text(idx)}]")
            em.line("else:")
            em.line(f"    {v} = {ident}")
            em.line(f"    {tv} = {zero}")
        else:
            em.line(f"{v} = {x}[{index_text(idx)}]")
            em.line(f"{tv} = {t}[{index_text(idx)}]")
        em.line(f"if {_better(which, v, best, found, xdt)}:")
        em.line(f"    {best} = {v}")
        em.line(f"    {bt} = {tv}")
        em.line(f"    {found} = True")
        em.depth -= opened
        em.line(f"{out}[{index_text(oidx)}] = {bt}")
    return [out]


def _better(which, v, best, found, dt):
    op = ">" if which == "max" else "<"
    if dt.kind == "f":
        return f"not {found} or {v} {op} {best} or ({v} != {v} and {best} == {best})"
    return f"not {found} or {v} {op} {best}"


@rule(win.select_and_scatter_add_p)
def _select_and_scatter_add(em, eqn, ins):
    s, x = ins
    sa, xa, oa = eqn.invars[0].aval, eqn.invars[1].aval, eqn.outvars[0].aval
    dt, xdt = oa.dtype, xa.dtype
    W = _Window(xa.shape, sa.shape, eqn.params)
    out = em.alloc(oa.shape, dt, fill=literal_expr(0, dt))
    if sa.size == 0 or xa.size == 0 or 0 in W.wd:
        return [out]
    which = "max" if eqn.params["select_prim"] is ge_p else "min"
    ident = literal_expr(win._identity(xdt, which), xdt)
    nd = xa.ndim
    with loop_nest(em, sa.shape, hint="o") as oidx:
        best, found, ok = em.fresh("best"), em.fresh("fd"), em.fresh("ok")
        pos = [em.fresh("bp") for _ in range(nd)]
        em.line(f"{best} = {ident}")
        em.line(f"{found} = False")
        em.line(f"{ok} = False")
        for q in pos:
            em.line(f"{q} = 0")
        idx, conds, opened = _window_positions(em, W, oidx)
        v, inside = em.fresh("v"), em.fresh("in")
        if conds:
            em.line(f"{inside} = {' and '.join(conds)}")
            em.line(f"if {inside}:")
            em.line(f"    {v} = {x}[{index_text(idx)}]")
            em.line("else:")
            em.line(f"    {v} = {ident}")
        else:
            em.line(f"{inside} = True")
            em.line(f"{v} = {x}[{index_text(idx)}]")
        em.line(f"if {_better(which, v, best, found, xdt)}:")
        with em.indented():
            em.line(f"{best} = {v}")
            em.line(f"{found} = True")
            em.line(f"{ok} = {inside}")
            em.line(f"if {inside}:")
            for q, e in zip(pos, idx):
                em.line(f"    {q} = {e}")
        em.depth -= opened
        em.line(f"if {ok}:")
        tgt = f"{out}[{index_text(pos)}]"
        src = f"{s}[{index_text(oidx)}]"
        add = f"{tgt} + {src}"
        em.line(f"    {tgt} = {cast(add, dt) if dt.kind in 'iu' or dt.itemsize < 4 else add}")
    return [out]


# -- general reduce_window ---------------------------------------------------------------------------


@rule(win.reduce_window_p)
def _reduce_window(em, eqn, ins):
    n = len(ins) // 2
    xs, inits = ins[:n], ins[n:]
    xa = eqn.invars[0].aval
    oavals = [v.aval for v in eqn.outvars]
    W = _Window(xa.shape, oavals[0].shape, eqn.params)
    closed = eqn.params["jaxpr"]
    outs = [em.alloc(a.shape, a.dtype) for a in oavals]
    if oavals[0].size == 0:
        return outs
    with loop_nest(em, oavals[0].shape, hint="o") as oidx:
        accs = [em.fresh("acc") for _ in range(n)]
        for a, i, av in zip(accs, inits, oavals):
            em.line(f"{a} = {cast(i, av.dtype)}")
        if 0 not in W.wd and xa.size:
            idx, conds, opened = _window_positions(em, W, oidx)
            if conds:
                em.line(f"if {' and '.join(conds)}:")
                em.depth += 1
            elems = []
            for x in xs:
                e = em.fresh("e")
                em.line(f"{e} = {x}[{index_text(idx)}]")
                elems.append(e)
            res = em.emit_jaxpr(closed.jaxpr, accs + elems, closed.consts)
            for a, r, av in zip(accs, res, oavals):
                em.line(f"{a} = {cast(r, av.dtype)}")
            if conds:
                em.depth -= 1
            em.depth -= opened
        for o, a in zip(outs, accs):
            em.line(f"{o}[{index_text(oidx)}] = {a}")
    return outs


# -- cumlogsumexp -------------------------------------------------------------------------------------


@rule(rd.cumlogsumexp_p)
def _cumlogsumexp(em, eqn, ins):
    """numpy's logaddexp, accumulated (npy_logaddexp: equal arguments give x + log 2, NaN
    propagates)."""
    (x,) = ins
    xa = eqn.invars[0].aval
    axis, reverse = eqn.params["axis"], eqn.params.get("reverse", False)
    n = xa.shape[axis]
    dt = xa.dtype
    o = em.alloc(xa.shape, dt)
    if xa.size == 0:
        return [o]
    outer = [d for d in range(xa.ndim) if d != axis]
    ln2 = literal_expr(np.log(2.0), dt)
    with loop_nest(em, [xa.shape[d] for d in outer]) as idx:
        acc, k, v, d = em.fresh("acc"), em.fresh("k"), em.fresh("v"), em.fresh("d")
        full = list(idx)
        full.insert(axis, k)
        rng = f"range({n} - 1, -1, -1)" if reverse else f"range({n})"
        em.line(f"{acc} = {literal_expr(-np.inf, dt)}")
        em.line(f"for {k} in {rng}:")
        with em.indented():
            em.line(f"{v} = {x}[{index_text(full)}]")
            em.line(f"if {acc} == {v}:")
            em.line(f"    {acc} = {cast(f'{acc} + {ln2}', dt)}")
            em.line("else:")
            em.line(f"    {d} = {acc} - {v}")
            em.line(f"    if {d} > 0:")
            em.line(f"        {acc} = {cast(f'{acc} + np.log1p(np.exp(-{d}))', dt)}")
            em.line(f"    elif {d} <= 0:")
            em.line(f"        {acc} = {cast(f'{v} + np.log1p(np.exp({d}))', dt)}")
            em.line("    else:")
            em.line(f"        {acc} = {d}")
            em.line(f"{o}[{index_text(full)}] = {acc}")
    return [o]

