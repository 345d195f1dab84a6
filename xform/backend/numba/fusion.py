"""Fusion: group elementwise equations (and the reductions they feed) into loop nests.

Planning (``plan``) walks the equations in order. Fusible equations are elementwise
primitives (``prim.elementwise`` with ``numba_scalar``), ``broadcast_in_dim``,
``iota`` and the reductions ``reduce_sum/max/min/prod``. Each one joins an existing
*group* with the same iteration shape when

- it consumes a value computed in that group (producer fusion) or reads the same
  external array (sibling fusion: one pass over the data computes both), and
- joining creates no cycle: no operand is produced by another node that itself
  depends on the group (checked by a DFS over node dependencies), and
- operands produced in the group have the iteration shape (reductions of the group
  are never consumed inside it), and all reductions of a group reduce the same axes.

Every other equation is a node of its own (a kernel emitted by a rule). Nodes are
emitted in a topological order that follows the original order where possible.

Emission (``Group.emit``): one loop nest over the iteration shape, in natural (row
major) order. Each member equation becomes a scalar statement placed at the shallowest
loop level whose indices it depends on: values broadcast along inner axes are computed
in outer loops (hoisting), constants before the loops. Values used outside the group
are stored to fresh C-contiguous arrays; 0-d groups are straight-line scalar code.
Reductions over a suffix of the axes (incl. full reductions) accumulate in a scalar
initialised just outside the reduced loops; others accumulate into the output array
(keeps memory access contiguous, e.g. a sum over axis 0). float32 sums accumulate in
float64. Max/min propagate NaN like numpy.

Shifted reads of computed values (``_choose_recompute``): a pad/slice/rev/concatenate
whose operand is computed by another loop nest normally reads that nest's stored array.
When the operand's computation in its nest is small (<= ``RECOMPUTE_MAX_EQNS``
equations) and cheap (arithmetic, selects, shifted reads of stored arrays), or the
shifted read is its only use, it is instead *recomputed* at the shifted index inside
the consumer's loop (guarded by the pad/concatenate condition, so out-of-range points
read nothing); a nest whose values are all recomputed is not emitted. E.g. the
Rosenbrock hvp becomes one loop with no intermediate arrays.

Fast sin/cos (``trig.py``): an elementwise nest (no reductions) using sin/cos runs in
blocks of ~``TRIG_BLOCK`` elements, first with the fast functions (Cody-Waite reduction,
valid for |x| <= 2**20) while or-ing an out-of-range flag; a flagged block is recomputed
with the exact ``numba_math`` functions. On AVX-512 targets, loop nests of at least
``config.fastmath_min_size()`` elements mark their function ``prefer-vector-width=512``
(``runtime.prefer_wide_vectors``; LLVM's default for these CPUs is 256-bit vectors).
Both reductions deliver the reduced argument to ~2**-100 or better, so results agree
with the exact path (bit-identical on every input tested; same error bounds).
"""
from __future__ import annotations

import heapq
import functools

import numpy as np

from ...core.ir import Literal, Var
from ... import config
from . import traits
from ...lax import elementwise
from ...lax import reductions
from ...lax import structural
from .optimize import _use_counts
from .traits import CHEAP, FUSED_STRUCTURAL, REDUCERS, SHIFTED, UNIT_RESHAPES
from .codegen import INDENT, cast, index_text, literal_expr, np_type, shape_text


# Elementwise groups with at least this many elements run in a parallel (prange)
# helper function, when the machine has more than one core.
REDUCTION_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
# sin/cos loops run in blocks of about TRIG_BLOCK elements, recomputed exactly when an
# argument is out of range. The size thresholds and switches are ``xform.config``'s.
TRIG_BLOCK = 2048


def _vector_math() -> dict:
    return traits.VECTOR_MATH if config.vector_math() else {}


def _fast_trig() -> dict:
    return traits.FAST_TRIG if config.fast_trig() else {}


@functools.lru_cache(maxsize=None)
def _target_has_avx512() -> bool:
    try:
        import numba
        from llvmlite import binding

        feats = numba.config.CPU_FEATURES  # None: the host's; "" (NUMBA_CPU_NAME=generic): none
        if feats is None:
            feats = binding.get_host_cpu_features().flatten()
    except Exception:  # pragma: no cover
        return False
    return "+avx512f" in feats.split(",")


def _wide_vectors() -> bool:
    """Whether loops may use 512-bit vectors (an AVX-512 compile target)."""
    return config.wide_vectors() and _target_has_avx512()


def canon(shape) -> tuple:
    """The iteration space of a shape: its dims without the size-1 ones."""
    return tuple(d for d in shape if d != 1)


def canon_pos(shape) -> list:
    """For each dim of ``shape``: its position in ``canon(shape)``, or None (size 1)."""
    out, k = [], 0
    for d in shape:
        if d == 1:
            out.append(None)
        else:
            out.append(k)
            k += 1
    return out


def fusible_kind(eqn):
    """'ew' (one value per iteration point), 'reduce', or None (a kernel of its own)."""
    p = eqn.primitive
    if p.multiple_results or len(eqn.outvars) != 1:
        return None
    out = eqn.outvars[0].aval
    if p in REDUCERS:
        x = eqn.invars[0]
        if type(x) is not Var:
            return None
        axes = tuple(eqn.params.get("axes", ()))
        if any(x.aval.shape[a] != 1 for a in axes):
            return "reduce"
        return "ew"  # reduces only size-1 axes: a reshape
    if p in UNIT_RESHAPES:
        x = eqn.invars[0]
        if type(x) is Var and canon(x.aval.shape) == canon(out.shape):
            return "ew"
        return None
    if p in FUSED_STRUCTURAL:
        return "ew"
    if p in SHIFTED and all(type(x) is Var for x in eqn.invars[:1]):
        return "ew"  # reads at shifted positions
    if getattr(p, "elementwise", False) and getattr(p, "numba_scalar", None) is not None:
        return "ew"
    return None


def _is_passthrough(eqn) -> bool:
    """Whether the eqn's value equals its operand's at the same iteration point."""
    p = eqn.primitive
    return p in UNIT_RESHAPES or p in REDUCERS


def _member_ok(eqn, x) -> bool:
    """A value computed in the group (same canonical space) can feed ``eqn`` directly."""
    p = eqn.primitive
    if p in SHIFTED:
        return p is structural.pad_p and x is eqn.invars[1]  # only the padding value
    if p is structural.broadcast_in_dim_p:
        bd = [d for d, n in zip(eqn.params["broadcast_dimensions"], x.aval.shape) if n != 1]
        return bd == sorted(bd)
    if p is structural.transpose_p:
        perm = [d for d in eqn.params["permutation"] if x.aval.shape[d] != 1]
        return perm == sorted(perm)
    return True


class Node:
    idx: int
    deps: set

    def emit(self, em, env):  # pragma: no cover - interface
        raise NotImplementedError


class Single(Node):
    """One equation lowered by its rule (see rules.py)."""

    def __init__(self, idx, eqn):
        self.idx = idx
        self.eqn = eqn
        self.deps = set()

    def emit(self, em, env):
        from .codegen import read_operand
        from .rules import lower_eqn

        ins = [read_operand(env, v) for v in self.eqn.invars]
        em.comment(_eqn_text(self.eqn))
        outs = lower_eqn(em, self.eqn, ins)
        for v, n in zip(self.eqn.outvars, outs):
            env[v.id] = n


class Group(Node):
    def __init__(self, idx, shape):
        self.idx = idx
        self.shape = tuple(shape)
        self.eqns = []
        self.kinds = []
        self.red_axes = None
        self.members: set = set()     # var ids of elementwise results (iteration shape)
        self.red_outs: set = set()    # var ids of reduction results
        self.reads: set = set()       # var ids read from outside
        self.deps = set()
        self.used_outside: set = set()  # filled by plan()
        # var id -> eqns (of its producer group) recomputed here at shifted indices
        self.recompute: dict = {}

    def add(self, eqn, kind, producer):
        self.eqns.append(eqn)
        self.kinds.append(kind)
        for x in eqn.invars:
            if type(x) is Var and x.id not in self.members:
                self.reads.add(x.id)
                p = producer.get(x.id)
                if p is not None and p is not self:
                    self.deps.add(p)
        o = eqn.outvars[0]
        if kind == "reduce":
            self.red_axes = _canon_axes(eqn)
            self.red_outs.add(o.id)
        else:
            self.members.add(o.id)
        producer[o.id] = self

    def compatible(self, eqn, kind, shape) -> bool:
        if self.shape != tuple(shape):
            return False
        if kind == "reduce" and self.red_axes is not None and self.red_axes != _canon_axes(eqn):
            return False
        for x in eqn.invars:
            if type(x) is Var:
                if x.id in self.red_outs:
                    return False
                if x.id in self.members:
                    if canon(x.aval.shape) != self.shape or not _member_ok(eqn, x):
                        return False
        return True

    def emit(self, em, env):
        emit_group(em, self, env)


def _canon_axes(eqn) -> tuple:
    shape = eqn.invars[0].aval.shape
    pos = canon_pos(shape)
    return tuple(sorted(pos[a] for a in eqn.params["axes"] if pos[a] is not None))


def _reaches(start: Node, target: Node) -> bool:
    stack, seen = [start], set()
    while stack:
        n = stack.pop()
        if n is target:
            return True
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.extend(n.deps)
    return False


def plan(jaxpr) -> list[Node]:
    """Partition the equations into nodes; returns them in emission order."""
    nodes: list[Node] = []
    producer: dict = {}
    readers: dict = {}
    for eqn in jaxpr.eqns:
        kind = fusible_kind(eqn)
        if kind is None:
            node = Single(len(nodes), eqn)
            for x in eqn.invars:
                if type(x) is Var and x.id in producer:
                    node.deps.add(producer[x.id])
            for o in eqn.outvars:
                producer[o.id] = node
            nodes.append(node)
            continue
        shape = canon(eqn.outvars[0].aval.shape if kind == "ew" else eqn.invars[0].aval.shape)
        cands = []
        for x in eqn.invars:
            if type(x) is Var:
                g = producer.get(x.id)
                if isinstance(g, Group) and g not in cands:
                    cands.append(g)
        for x in eqn.invars:
            if type(x) is Var:
                for g in reversed(readers.get(x.id, ())):
                    if g not in cands:
                        cands.append(g)
        passthrough = kind == "ew" and _is_passthrough(eqn)
        if passthrough:  # a reshape: fused only into the group computing its operand
            x = eqn.invars[0]
            cands = [g for g in cands if x.id in g.members]
            if not cands:
                node = Single(len(nodes), eqn)
                if x.id in producer:
                    node.deps.add(producer[x.id])
                producer[eqn.outvars[0].id] = node
                nodes.append(node)
                continue
        # operands computed by several groups of this shape: merge those groups first
        prods = [producer.get(x.id) for x in eqn.invars if type(x) is Var]
        prods = [g for i, g in enumerate(prods) if isinstance(g, Group) and g.shape == shape
                 and g not in prods[:i]]
        if len(prods) > 1:
            base = prods[0]
            for other in prods[1:]:
                if _try_merge(base, other, nodes, producer, readers):
                    cands = [g for g in cands if g is not other]
        chosen = None
        for g in cands:
            if not g.compatible(eqn, kind, shape):
                continue
            ok = True
            for x in eqn.invars:
                if type(x) is Var:
                    p = producer.get(x.id)
                    if p is not None and p is not g and _reaches(p, g):
                        ok = False
                        break
            if ok:
                chosen = g
                break
        if chosen is None:
            chosen = Group(len(nodes), shape)
            nodes.append(chosen)
        chosen.add(eqn, kind, producer)
        for x in eqn.invars:
            if type(x) is Var and x.id not in chosen.members:
                lst = readers.setdefault(x.id, [])
                if chosen not in lst:
                    lst.append(chosen)
    # which group values are needed outside their group
    outs = {v.id for v in jaxpr.outvars if type(v) is Var}
    _choose_recompute(jaxpr, nodes, producer)
    for n in nodes:
        ins = n.reads if isinstance(n, Group) else {
            x.id for x in n.eqn.invars if type(x) is Var}
        for vid in ins:
            if isinstance(n, Group) and vid in n.recompute:
                continue
            p = producer.get(vid)
            if isinstance(p, Group) and p is not n:
                p.used_outside.add(vid)
        if isinstance(n, Single):
            for v in n.eqn.params.values():
                _mark_closure_uses(v, producer)
    for vid in outs:
        p = producer.get(vid)
        if isinstance(p, Group):
            p.used_outside.add(vid)
    return _toposort(nodes)


# Shifted reads (pad/slice/rev/concatenate) of a value computed by another loop nest
# recompute that value at the shifted index instead of storing and re-reading it, when
# its computation is small and cheap (or the shifted read is its only use).
RECOMPUTE_MAX_EQNS = 48


def _cone(g: Group, vid) -> list | None:
    """The member equations of ``g`` that value ``vid`` depends on (in order)."""
    by_out = {e.outvars[0].id: e for e, k in zip(g.eqns, g.kinds) if k != "reduce"}
    need, stack = set(), [vid]
    while stack:
        v = stack.pop()
        if v in need or v not in by_out:
            continue
        need.add(v)
        stack.extend(x.id for x in by_out[v].invars if type(x) is Var and x.id in g.members)
    return [e for e, k in zip(g.eqns, g.kinds) if k != "reduce" and e.outvars[0].id in need]


def _choose_recompute(jaxpr, nodes, producer) -> None:
    uses = _use_counts(jaxpr)
    for c in nodes:
        if not isinstance(c, Group):
            continue
        shifted, direct = set(), set()
        for e in c.eqns:
            p = e.primitive
            for j, x in enumerate(e.invars):
                if type(x) is not Var:
                    continue
                if p in SHIFTED and (p is structural.concatenate_p or j == 0):
                    shifted.add(x.id)
                else:
                    direct.add(x.id)
        for vid in sorted(shifted - direct - c.members):
            p = producer.get(vid)
            if not isinstance(p, Group) or p is c or vid not in p.members:
                continue
            cone = _cone(p, vid)
            if len(cone) > RECOMPUTE_MAX_EQNS:
                continue
            if uses.get(vid, 0) > 1 and any(e.primitive not in CHEAP for e in cone):
                continue
            c.recompute[vid] = (p, cone)
    for c in nodes:  # no nested recomputation
        if isinstance(c, Group):
            for vid, (p, cone) in list(c.recompute.items()):
                if any(type(x) is Var and x.id in p.recompute for e in cone for x in e.invars):
                    del c.recompute[vid]


def _try_merge(a: Group, b: Group, nodes, producer, readers) -> bool:
    """Merge group ``b`` into ``a`` (same iteration space) if no cycle or invalid use
    results. Returns whether it merged."""
    if a.shape != b.shape or (a.red_axes is not None and b.red_axes is not None
                              and a.red_axes != b.red_axes):
        return False
    for d in b.deps:
        if d is not a and _reaches(d, a):
            return False
    for d in a.deps:
        if d is not b and _reaches(d, b):
            return False
    first, second = (b, a) if b in a.deps else (a, b)
    for g_from, g_to in ((first, second),):
        for e in g_to.eqns:
            for x in e.invars:
                if type(x) is Var and x.id in g_from.red_outs:
                    return False
                if type(x) is Var and x.id in g_from.members and (
                        canon(x.aval.shape) != a.shape or not _member_ok(e, x)):
                    return False
    eqns = first.eqns + second.eqns
    kinds = first.kinds + second.kinds
    a.eqns, a.kinds = eqns, kinds
    a.members |= b.members
    a.red_outs |= b.red_outs
    if a.red_axes is None:
        a.red_axes = b.red_axes
    a.reads = (a.reads | b.reads) - a.members
    a.deps = (a.deps | b.deps) - {a, b}
    a.idx = min(a.idx, b.idx)
    for vid, g in list(producer.items()):
        if g is b:
            producer[vid] = a
    for lst in readers.values():
        if b in lst:
            lst.remove(b)
            if a not in lst:
                lst.append(a)
    nodes.remove(b)
    for n in nodes:
        if b in n.deps:
            n.deps.discard(b)
            if n is not a:
                n.deps.add(a)
    for i, n in enumerate(nodes):
        n.idx = i if not isinstance(n, Group) or n is not a else n.idx
    return True


def _mark_closure_uses(v, producer):
    """Sub-jaxprs never refer to outer variables (they are closed), nothing to do."""
    return None


def _toposort(nodes):
    users: dict = {id(n): [] for n in nodes}
    indeg = {id(n): 0 for n in nodes}
    for n in nodes:
        for d in n.deps:
            users[id(d)].append(n)
            indeg[id(n)] += 1
    heap = [(n.idx, id(n), n) for n in nodes if indeg[id(n)] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, _, n = heapq.heappop(heap)
        order.append(n)
        for u in users[id(n)]:
            indeg[id(u)] -= 1
            if indeg[id(u)] == 0:
                heapq.heappush(heap, (u.idx, id(u), u))
    if len(order) != len(nodes):  # pragma: no cover - would be a fusion bug
        raise RuntimeError("jit: fusion produced a cyclic plan")
    return order


# -- emission ------------------------------------------------------------------------------


def _eqn_text(eqn) -> str:
    from ...core.ir import _Namer

    del _Namer
    outs = " ".join(f"v{v.id}:{v.aval.str_short()}" for v in eqn.outvars)
    args = " ".join(
        repr(v.val.item() if isinstance(v.val, np.generic) else v.val) if type(v) is Literal
        else f"v{v.id}" for v in eqn.invars)
    params = []
    for k, val in sorted(eqn.params.items()):
        if hasattr(val, "jaxpr") or hasattr(val, "eqns"):
            val = "{...}"
        elif isinstance(val, np.dtype):
            val = val.name
        params.append(f"{k}={val}")
    head = eqn.primitive.name + (f"[{' '.join(params)}]" if params else "")
    return f"{outs} = {head} {args}".rstrip()


RED_INIT = {
    structural.reduce_sum_p: lambda dt: literal_expr(0, dt),
    reductions.reduce_prod_p: lambda dt: literal_expr(1, dt),
    reductions.reduce_max_p: lambda dt: literal_expr(
        -np.inf if dt.kind == "f" else (False if dt.kind == "b" else np.iinfo(dt).min), dt),
    reductions.reduce_min_p: lambda dt: literal_expr(
        np.inf if dt.kind == "f" else (True if dt.kind == "b" else np.iinfo(dt).max), dt),
    reductions.reduce_and_p: lambda dt: "True",
    reductions.reduce_or_p: lambda dt: "False",
}
_SUM_PROD = (structural.reduce_sum_p, reductions.reduce_prod_p)


def _acc_dtype(prim, dt):
    if prim in _SUM_PROD and dt == np.float32:
        return np.dtype(np.float64)
    if prim in _SUM_PROD and dt == np.complex64:
        return np.dtype(np.complex128)
    return dt


def accumulate(prim, acc, v, dt) -> list[str]:
    """Statements updating accumulator expression ``acc`` of reduction ``prim`` with
    value ``v``."""
    if dt.kind == "b":
        any_true = (structural.reduce_sum_p, reductions.reduce_max_p, reductions.reduce_or_p)
        op = "|" if prim in any_true else "&"
        return [f"{acc} = {acc} {op} {v}"]
    if prim is structural.reduce_sum_p:
        e = f"{acc} + {v}"
    elif prim is reductions.reduce_prod_p:
        e = f"{acc} * {v}"
    elif prim is reductions.reduce_max_p:
        if dt.kind in "fc":
            return [f"if {v} > {acc} or {v} != {v}:", f"    {acc} = {v}"]
        return [f"if {v} > {acc}:", f"    {acc} = {v}"]
    else:
        if dt.kind in "fc":
            return [f"if {v} < {acc} or {v} != {v}:", f"    {acc} = {v}"]
        return [f"if {v} < {acc}:", f"    {acc} = {v}"]
    if dt in (np.float64, np.int64, np.complex128, np.float32, np.complex64):
        if dt in (np.float32, np.complex64):  # accumulated in 64 bit
            return [f"{acc} = {e}"]
        return [f"{acc} = {e}"]
    return [f"{acc} = {cast(e, dt)}"]


def _bcast_index(x_shape, out_shape, idx):
    """Index of operand x (numpy broadcasting against out_shape) from the loop indices
    of canon(out_shape); returns (index expressions, depth)."""
    pos = canon_pos(out_shape)
    lead = len(out_shape) - len(x_shape)
    res, depth = [], 0
    for j, d in enumerate(x_shape):
        k = pos[lead + j]
        if d == 1 or k is None:
            res.append("0")
        else:
            res.append(idx[k])
            depth = max(depth, k + 1)
    return res, depth


def _mapped_index(x_shape, out_shape, dst_of, idx):
    """Index of x whose dim j is result dim dst_of[j] (broadcast_in_dim, transpose)."""
    pos = canon_pos(out_shape)
    res, depth = [], 0
    for j, d in enumerate(x_shape):
        k = pos[dst_of[j]]
        if d == 1 or k is None:
            res.append("0")
        else:
            res.append(idx[k])
            depth = max(depth, k + 1)
    return res, depth


def _canon_index(shape, idx):
    """Index of an array whose non-unit dims are the iteration space, in order."""
    pos = canon_pos(shape)
    res = ["0" if k is None else idx[k] for k in pos]
    depth = max((k + 1 for k in pos if k is not None), default=0)
    return res, depth


def _scalar_expr(em, eqn, ins):
    prim = eqn.primitive
    dt = eqn.outvars[0].aval.dtype
    vm = _vector_math().get(prim)
    if vm is not None and dt.kind == "f" and len(ins) == 1 and not eqn.params:
        return cast(f"{em.use_helper(vm)}({ins[0]})", dt)
    params = eqn.params
    if prim is elementwise.integer_pow_p and int(params["y"]) < 0 and dt.kind == "f":
        # numba's negative integer power raises ZeroDivisionError at 0 (whatever the
        # error model); a float division gives numpy's inf
        return cast(f"({literal_expr(1, dt)} / ({ins[0]} ** {-int(params['y'])}))", dt)
    if prim is elementwise.integer_pow_p and 0 <= int(params["y"]) <= 4 and dt.kind != "c":
        y = int(params["y"])
        if y == 0:
            return literal_expr(1, dt)
        return cast("(" + " * ".join([ins[0]] * y) + ")", dt)
    if prim is elementwise.sign_p and dt.kind == "u":  # numba's np.sign treats uint as signed
        return cast(f"({ins[0]} != 0)", dt)
    if getattr(prim.numba_scalar, "needs_dtype", False):
        params = dict(params, dtype=eqn.invars[0].aval.dtype)
    expr = prim.numba_scalar(*ins, **params)
    for helper in getattr(prim.numba_scalar, "runtime_helpers", ()):
        if f"{helper}(" in expr:
            em.use_runtime(helper)
    return cast(expr, dt)


def _shifted_parts(eqn, oshape, idx):
    """How slice/rev/pad/concatenate read their operands at the current point.

    Returns ``(parts, depth)``: ``parts`` is a list of ``(condition or None, operand var,
    operand index expressions)``, tried in order; when no condition holds the value is
    the pad value (pad) — the last part of the other primitives has no condition.
    """
    prim = eqn.primitive
    pos = canon_pos(oshape)
    ivar = ["0" if k is None else idx[k] for k in pos]
    depth = max((k + 1 for k in pos if k is not None), default=0)
    p = eqn.params
    x = eqn.invars[0]
    if prim is structural.slice_p:
        strides = p.get("strides") or (1,) * x.aval.ndim
        src = [_affine(lo, i, st) for lo, i, st in zip(p["start_indices"], ivar, strides)]
        return [(None, x, src)], depth
    if prim is structural.rev_p:
        dims = set(p["dimensions"])
        src = [f"{n - 1} - {i}" if d in dims and n > 1 else i
               for d, (n, i) in enumerate(zip(x.aval.shape, ivar))]
        return [(None, x, src)], depth
    if prim is structural.pad_p:
        if x.aval.size == 0:
            return [], depth
        conds, src = [], []
        for (lo, _, it), n, i in zip(p["padding_config"], x.aval.shape, ivar):
            q = f"({i} - {lo})" if lo > 0 else (f"({i} + {-lo})" if lo < 0 else i)
            if it == 0:
                if lo > 0:
                    conds.append(f"{q} >= 0")
                conds.append(f"{q} < {n}")
                src.append(q)
            else:
                conds.append(f"{q} >= 0 and {q} % {it + 1} == 0 and {q} // {it + 1} < {n}")
                src.append(f"{q} // {it + 1}")
        return [(" and ".join(conds) if conds else "True", x, src)], depth
    # concatenate
    dim = p["dimension"]
    parts, off = [], 0
    for x in eqn.invars:
        n = x.aval.shape[dim]
        if n:
            src = list(ivar)
            src[dim] = f"{ivar[dim]} - {off}" if off else ivar[dim]
            parts.append((f"{ivar[dim]} < {off + n}", x, src))
        off += n
    if parts:
        parts[-1] = (None,) + parts[-1][1:]
    return parts, depth


def _affine(lo, i, st):
    e = i if st == 1 else f"{i} * {st}"
    return e if lo == 0 else f"{lo} + {e}"


class _EnvRecorder:
    """Records which outer names a group reads and which it defines (for outlining)."""

    def __init__(self, env):
        self.env = env
        self.used: list = []
        self.out: dict = {}

    def __getitem__(self, k):
        if k in self.out:
            return self.out[k]
        v = self.env[k]
        if v.isidentifier() and v not in self.used:
            self.used.append(v)
        return v

    def __setitem__(self, k, v):
        self.out[k] = v


def _outline_mode(g: Group):
    """'parallel' (prange helper), 'fastmath' (reduction helper) or None (inline)."""
    r = len(g.shape)
    if r == 0:
        return None
    size = int(np.prod(g.shape, dtype=np.int64))
    red = g.red_axes or ()
    suffix = tuple(red) == tuple(range(r - len(red), r))
    if (config.parallel() and size >= config.parallel_min_size() and (not red or (suffix and len(red) < r))
            and g.shape[0] > 1):
        return "parallel"
    if red and suffix and any(e.primitive in _SUM_PROD
                              and e.outvars[0].aval.dtype.kind in "fc"
                              for e in g.eqns) and size >= config.fastmath_min_size():
        return "fastmath"
    return None


def emit_group(em, g: Group, env):
    if not g.used_outside and not g.red_outs:
        return  # every value is recomputed where it is used (or unused)
    mode = _outline_mode(g)
    if mode is None:
        return _emit_group(em, g, env)
    sub = em.sub(depth=1)
    rec = _EnvRecorder(env)
    _emit_group(sub, g, rec, prange=mode == "parallel")
    outs = list(rec.out.values())
    fname = em.fresh("_loop" if mode == "parallel" else "_reduce")
    fm = "{" + ", ".join(repr(f) for f in sorted(REDUCTION_FASTMATH)) + "}"
    opts = "parallel=True" if mode == "parallel" else f"fastmath={fm}"
    src = [f"@numba.njit(cache=_XFORM_CACHE, {opts}, error_model='numpy', nogil=True)",
           f"def {fname}({', '.join(rec.used)}):"]
    src += sub.lines
    src.append(f"    return ({', '.join(outs)},)")
    em.mod.helpers.append("\n".join(src))
    if mode == "parallel":
        em.mod.parallel = True
    for ln in sub.lines:
        if ln.strip().startswith("#"):
            em.line(ln.strip())
    em.line(f"{', '.join(outs)}, = {fname}({', '.join(rec.used)})")
    for k, v in rec.out.items():
        env[k] = v


class _Alt:
    """A statement with a fast variant: ``fast`` lines replace ``exact`` in the first
    pass over a block (sin/cos for moderate arguments, see ``trig.py``)."""

    __slots__ = ("exact", "fast")

    def __init__(self, exact: str, fast: list):
        self.exact, self.fast = exact, fast

    def __radd__(self, prefix: str):  # indentation: INDENT + alt
        return _Alt(prefix + self.exact, [prefix + f for f in self.fast])


class _Gen:
    """Scalar statements computing member values of a group at one iteration point
    (``idx``: index expressions of the iteration space)."""

    def __init__(self, em, env, idx, recompute):
        self.em, self.env, self.idx = em, env, idx
        self.recompute = recompute  # var id -> (producer group, cone eqns)
        self.values: dict = {}      # var id -> (expr, depth)
        self.reads: dict = {}       # (var id, index) -> (name, depth)
        self.stmts: list = []       # (depth, [lines])
        self.bad = None             # name of the fast-trig range flag, once used
        self.has_alt = False
        self.flagged: set = set()   # arguments already checked

    def _flag(self):
        if self.bad is None:
            self.bad = self.em.fresh("big")
        self.has_alt = True
        return self.bad

    def read(self, name, vid, ix, depth):
        key = (vid, tuple(ix))
        hit = self.reads.get(key)
        if hit is None:
            t = self.em.fresh("r")
            self.stmts.append((depth, [f"{t} = {name}[{index_text(ix)}]"]))
            hit = self.reads[key] = (t, depth)
        return hit

    def operand(self, x, out_shape):
        if type(x) is Literal:
            return literal_expr(x.val, x.aval.dtype), 0
        if x.id in self.values:
            return self.values[x.id]
        name = self.env[x.id]
        if x.aval.ndim == 0:
            return name, 0
        ix, depth = _bcast_index(x.aval.shape, out_shape, self.idx)
        return self.read(name, x.id, ix, depth)

    def value_at(self, x, src):
        """``(lines, expr)``: the value of ``x`` at full index ``src``, read from its
        array or recomputed from its producer's equations."""
        if x.id not in self.recompute:
            return [], f"{self.env[x.id]}[{index_text(src)}]"
        _, cone = self.recompute[x.id]
        lines, q = [], []
        for n, e in zip(x.aval.shape, src):
            if n != 1:
                t = self.em.fresh("q")
                lines.append(f"{t} = {e}")
                q.append(t)
        sub = _Gen(self.em, self.env, q, {})
        sub.bad = self.bad
        for e in cone:
            sub.eqn(e)
        if sub.has_alt:
            self.bad, self.has_alt = sub.bad, True
        lines += [ln for _, ls in sub.stmts for ln in ls]
        return lines, sub.values[x.id][0]

    def shifted(self, eqn):
        em = self.em
        out = eqn.outvars[0]
        parts, depth = _shifted_parts(eqn, out.aval.shape, self.idx)
        dflt = None
        if eqn.primitive is structural.pad_p:
            dflt, pdepth = self.operand(eqn.invars[1], ())
            depth = max(depth, pdepth)
        elif not parts:  # every operand is empty along the dimension: so is the result
            dflt = literal_expr(0, out.aval.dtype)
        t = em.fresh("t")
        if not any(x.id in self.recompute for _, x, _ in parts):
            expr = dflt
            for cond, x, src in reversed(parts):
                read = f"{self.env[x.id]}[{index_text(src)}]"
                expr = read if cond is None else f"({read} if {cond} else {expr})"
            self.stmts.append((depth, [f"{t} = {expr}"]))
        else:
            lines = []
            for k, (cond, x, src) in enumerate(parts):
                body, v = self.value_at(x, src)
                body.append(f"{t} = {v}")
                if cond is None and k == 0:
                    lines += body
                    continue
                lines.append("else:" if cond is None else ("if " if k == 0 else "elif ")
                             + cond + ":")
                lines += [INDENT + ln for ln in body]
            if dflt is not None:
                lines += ["else:", f"{INDENT}{t} = {dflt}"]
            self.stmts.append((depth, lines))
        self.values[out.id] = (t, depth)

    def eqn(self, eqn):
        """Generate a member (non-reduction) equation."""
        em, env, idx, values = self.em, self.env, self.idx, self.values
        out = eqn.outvars[0]
        oshape = out.aval.shape
        prim = eqn.primitive
        if _is_passthrough(eqn):  # unit-dim reshapes, reductions of size-1 axes
            x = eqn.invars[0]
            if x.id in values:
                values[out.id] = values[x.id]
            elif x.aval.ndim == 0:
                values[out.id] = (env[x.id], 0)
            else:
                ix, depth = _canon_index(x.aval.shape, idx)
                values[out.id] = self.read(env[x.id], x.id, ix, depth)
            return
        if prim is structural.broadcast_in_dim_p or prim is structural.transpose_p:
            x = eqn.invars[0]
            if type(x) is Literal:
                values[out.id] = (literal_expr(x.val, x.aval.dtype), 0)
            elif x.id in values:  # same iteration point (checked by _member_ok)
                values[out.id] = values[x.id]
            elif x.aval.ndim == 0:
                values[out.id] = (env[x.id], 0)
            else:
                if prim is structural.broadcast_in_dim_p:
                    dst_of = list(eqn.params["broadcast_dimensions"])
                else:
                    perm = list(eqn.params["permutation"])
                    dst_of = [perm.index(d) for d in range(x.aval.ndim)]
                ix, depth = _mapped_index(x.aval.shape, oshape, dst_of, idx)
                values[out.id] = self.read(env[x.id], x.id, ix, depth)
            return
        if prim in SHIFTED:
            self.shifted(eqn)
            return
        if prim is structural.iota_p:
            d = eqn.params["dimension"]
            k = canon_pos(oshape)[d]
            if k is None:
                values[out.id] = (literal_expr(0, out.aval.dtype), 0)
                return
            t = em.fresh("t")
            self.stmts.append((k + 1, [f"{t} = {cast(idx[k], out.aval.dtype)}"]))
            values[out.id] = (t, k + 1)
            return
        ops = [self.operand(x, oshape) for x in eqn.invars]
        depth = max((d for _, d in ops), default=0)
        t = em.fresh("t")
        line = f"{t} = {_scalar_expr(em, eqn, [e for e, _ in ops])}"
        fast_trig = _fast_trig()
        if (prim in fast_trig and prim in _vector_math() and out.aval.dtype.kind == "f"
                and depth > 0 and not eqn.params):
            arg = ops[0][0]
            em.mod.trig_imports.update((fast_trig[prim], "trig_big"))
            flag = self._flag()
            fast = [f"{t} = {cast(f'{fast_trig[prim]}({arg})', out.aval.dtype)}"]
            if arg not in self.flagged:
                self.flagged.add(arg)
                fast.append(f"{flag} = {flag} | trig_big({arg})")
            line = _Alt(line, fast)
        self.stmts.append((depth, [line]))
        values[out.id] = (t, depth)


def _emit_group(em, g: Group, env, prange=False):
    shape = g.shape
    r = len(shape)
    idx = [em.fresh("i") for _ in range(r)]
    gen = _Gen(em, env, idx, g.recompute)
    values, stmts = gen.values, gen.stmts
    reductions = []                 # (eqn, (expr, depth))

    for eqn in g.eqns:
        em.comment(_eqn_text(eqn))
    for vid, (_, cone) in g.recompute.items():
        em.comment(f"v{vid} recomputed at shifted points ({len(cone)} equations)")

    for eqn, kind in zip(g.eqns, g.kinds):
        if kind == "reduce":
            reductions.append((eqn, gen.operand(eqn.invars[0], eqn.invars[0].aval.shape)))
        else:
            gen.eqn(eqn)

    # outputs of the group
    stores = []
    for eqn, kind in zip(g.eqns, g.kinds):
        o = eqn.outvars[0]
        if kind == "reduce" or o.id not in g.used_outside:
            continue
        expr, _ = values[o.id]
        if o.aval.ndim == 0:
            if expr.isidentifier():
                env[o.id] = expr
            else:
                t = em.fresh("s")
                em.line(f"{t} = {expr}")
                env[o.id] = t
            continue
        arr = em.alloc(o.aval.shape, o.aval.dtype)
        env[o.id] = arr
        ix, _ = _canon_index(o.aval.shape, idx)
        stores.append(f"{arr}[{index_text(ix)}] = {expr}")

    # reductions
    red_axes = g.red_axes or ()
    nred = len(red_axes)
    suffix = nred > 0 and tuple(red_axes) == tuple(range(r - nred, r))
    init_level = r - nred if suffix else None
    acc_inits, acc_final, acc_updates = [], [], []
    for eqn, (v, _) in reductions:
        o = eqn.outvars[0]
        x_shape = eqn.invars[0].aval.shape
        axes = set(eqn.params["axes"])
        xpos = canon_pos(x_shape)
        out_ix = ["0" if xpos[a] is None else idx[xpos[a]] for a in range(len(x_shape))
                  if a not in axes]
        dt = o.aval.dtype
        rprim = eqn.primitive
        adt = _acc_dtype(rprim, dt)
        init = RED_INIT[rprim](adt)
        if suffix:
            acc = em.fresh("acc")
            acc_inits.append(f"{acc} = {init}")
            acc_updates.extend(accumulate(rprim, acc, v, adt))
            final = acc if adt == dt else cast(acc, dt)
            if o.aval.ndim:
                arr = em.alloc(o.aval.shape, dt)
                acc_final.append(f"{arr}[{index_text(out_ix)}] = {final}")
                env[o.id] = arr
            elif adt != dt:
                res = em.fresh("s")
                acc_final.append(f"{res} = {final}")
                env[o.id] = res
            else:
                env[o.id] = acc
        else:
            arr = em.alloc(o.aval.shape, adt, fill=init)
            tgt = f"{arr}[{index_text(out_ix)}]"
            acc_updates.extend(accumulate(rprim, tgt, v, adt))
            if adt != dt:
                res = em.fresh("o")
                acc_final.append(f"{res} = {arr}.astype({np_type(dt)})")
                em.mark_contig(res)
                env[o.id] = res
            else:
                env[o.id] = arr

    by_depth: dict = {}
    for d, lines in stmts:
        by_depth.setdefault(d, []).extend(lines)
    # sin/cos present and no reductions: blocks run with the fast sin/cos and are
    # recomputed with the exact ones when an argument is out of their range
    blocked = r > 0 and not reductions and gen.has_alt
    if r > 0 and int(np.prod(shape, dtype=np.int64)) >= config.fastmath_min_size() and _wide_vectors():
        em.mod.runtime_imports.add("prefer_wide_vectors")
        by_depth.setdefault(1, []).insert(0, "prefer_wide_vectors()")

    def put(ln, fast):
        if isinstance(ln, _Alt):
            for x in (ln.fast if fast else [ln.exact]):
                em.line(x)
        else:
            em.line(ln)

    def level(k, fast=False):
        for ln in by_depth.get(k, ()):
            put(ln, fast)
        if k == init_level:
            for ln in acc_inits:
                em.line(ln)
        if k == r:
            for ln in stores:
                em.line(ln)
            for ln in acc_updates:
                em.line(ln)
        elif k == 0 and blocked:
            inner = int(np.prod(shape[1:], dtype=np.int64))
            bs = max(1, TRIG_BLOCK // max(inner, 1))
            nb = -(-shape[0] // bs)
            b = em.fresh("b")
            rng = "numba.prange" if prange else "range"
            em.line(f"for {b} in {rng}({nb}):")
            with em.indented():
                em.line(f"{gen.bad} = 0")
                loop = f"for {idx[0]} in range({b} * {bs}, min({b} * {bs} + {bs}, {shape[0]})):"
                em.line(loop)
                with em.indented():
                    level(1, True)
                em.line(f"if {gen.bad}:")
                with em.indented():
                    em.line(loop)
                    with em.indented():
                        level(1, False)
        else:
            rng = "numba.prange" if prange and k == 0 else "range"
            em.line(f"for {idx[k]} in {rng}({shape[k]}):")
            with em.indented():
                level(k + 1, fast)
        if k == init_level or (k == 0 and not suffix):
            for ln in acc_final:
                em.line(ln)

    level(0)


__all__ = ["plan", "Group", "Single", "fusible_kind", "shape_text", "np_type"]
