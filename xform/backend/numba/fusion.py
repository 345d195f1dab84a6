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

Vector math (exp, log, tanh, logistic, sin, cos: ``vector_calls.py``): compiled once per
machine as routines over buffers, never inlined (inlined at every use they dominated
compile time). A group whose innermost loop computes one cuts that loop into chunks of
``CHUNK`` points and the chunk's loop into *segments*: each segment's loop stores the
arguments of its calls in scratch buffers, the routines map the buffers (the vectorized
loops live there), and later segments read the results. A segment ends at the first
statement that reads a result of one of its calls, so calls whose arguments are ready
together share one loop. Values of the
outer loops call the scalar routines. On AVX-512 targets, loop nests of at least
``config.fastmath_min_size()`` elements mark their function ``prefer-vector-width=512``
(``runtime.prefer_wide_vectors``; LLVM's default for these CPUs is 256-bit vectors).
"""
from __future__ import annotations

import heapq
import re
import functools

import numpy as np

from ...core.ir import Literal, Var
from ... import config
from . import traits
from ...lax import elementwise
from ...lax import reductions
from ...lax import structural
from ...core.ir import use_counts
from .traits import CHEAP, FUSED_STRUCTURAL, REDUCERS, SHIFTED, UNIT_RESHAPES
from .codegen import INDENT, cast, index_text, literal_expr, np_type, shape_text


# Elementwise groups with at least this many elements run in a parallel (prange)
# helper function, when the machine has more than one core.
# The size thresholds and switches are ``xform.config``'s.
# dtypes whose arithmetic numba computes in the operands' type (see traits.TYPE_CLOSED)
TYPE_CLOSED_DTYPES = frozenset(np.dtype(t) for t in (np.float64, np.float32, np.complex128,
                                                       np.complex64))


def _vector_math() -> dict:
    return traits.VECTOR_MATH if config.vector_math() else {}


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
        em.comment(_eqn_text(em.mod, self.eqn))
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
    uses = use_counts(jaxpr)
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


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _param_text(val) -> str:
    if hasattr(val, "jaxpr") or hasattr(val, "eqns"):
        return "{...}"
    if isinstance(val, np.dtype):
        return val.name
    if callable(val) and not isinstance(val, type):
        return getattr(val, "__qualname__", type(val).__name__)
    return _ADDRESS.sub("", repr(val))


def _eqn_text(mod, eqn) -> str:
    """The equation as a comment of the generated source, with the module's own
    variable labels: the source (and so its cache key) does not depend on what the
    process traced before, nor on object addresses."""
    args = " ".join(
        repr(v.val.item() if isinstance(v.val, np.generic) else v.val) if type(v) is Literal
        else mod.label(v) for v in eqn.invars)
    outs = " ".join(f"{mod.label(v)}:{v.aval.str_short()}" for v in eqn.outvars)
    params = [f"{k}={_param_text(val)}" for k, val in sorted(eqn.params.items())]
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


def accumulate(prim, acc, v, dt, reassoc=False) -> list[str]:
    """Statements updating accumulator expression ``acc`` of reduction ``prim`` with
    value ``v``; ``reassoc``: a float sum or product through ``runtime.acc_add/acc_mul``,
    which LLVM may reorder to vectorize the loop."""
    if reassoc and dt.kind == "f" and prim in _SUM_PROD:
        fn = "acc_add" if prim is structural.reduce_sum_p else "acc_mul"
        return [f"{acc} = {fn}({acc}, {v})"]
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
    params = eqn.params
    if prim is elementwise.integer_pow_p and int(params["y"]) < 0 and dt.kind == "f":
        # numba's negative integer power raises ZeroDivisionError at 0 (whatever the
        # error model); a float division gives numpy's inf
        return cast(f"({literal_expr(1, dt)} / ({ins[0]} ** {-int(params['y'])}))", dt)
    if prim is elementwise.integer_pow_p and 0 <= int(params["y"]) <= 4 and dt.kind != "c":
        y = int(params["y"])
        if y == 0:
            return literal_expr(1, dt)
        prod = "(" + " * ".join([ins[0]] * y) + ")"
        return prod if dt in TYPE_CLOSED_DTYPES else cast(prod, dt)
    if prim is elementwise.sign_p and dt.kind == "u":  # numba's np.sign treats uint as signed
        return cast(f"({ins[0]} != 0)", dt)
    if getattr(prim.numba_scalar, "needs_dtype", False):
        params = dict(params, dtype=eqn.invars[0].aval.dtype)
    expr = prim.numba_scalar(*ins, **params)
    for helper in getattr(prim.numba_scalar, "runtime_helpers", ()):
        if f"{helper}(" in expr:
            em.use_runtime(helper)
    if (dt in TYPE_CLOSED_DTYPES and dt.kind in traits.TYPE_CLOSED.get(prim, "")
            and all(x.aval.dtype == dt for x in eqn.invars)):
        return expr
    if prim in traits.BOOL_VALUED and dt == np.bool_:
        return expr
    if prim in traits.TYPED_AS_VALUES and all(x.aval.dtype == dt for x in eqn.invars[1:]):
        return expr
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
    """'parallel' (prange helper) or None (inline)."""
    r = len(g.shape)
    if r == 0:
        return None
    size = int(np.prod(g.shape, dtype=np.int64))
    red = g.red_axes or ()
    suffix = tuple(red) == tuple(range(r - len(red), r))
    if (config.parallel() and size >= config.parallel_min_size() and (not red or (suffix and len(red) < r))
            and g.shape[0] > 1):
        return "parallel"
    return None


def _reassoc_sums(g: Group) -> bool:
    """Whether the group's running float sums and products may be reordered (so that LLVM
    vectorizes them): for big groups, as numpy's pairwise summation reorders too. A
    reassociable addition (``runtime.acc_add``) instead of a helper function compiled
    with fast-math flags: a helper cost 0.1-0.4 s of compile time (its own pipeline, and
    its LLVM code optimized again in the kernel), and its flags reached the loop's other
    arithmetic (contraction into fma)."""
    return bool(g.shape) and int(np.prod(g.shape, dtype=np.int64)) >= config.fastmath_min_size()


def emit_group(em, g: Group, env):
    if not g.used_outside and not g.red_outs:
        return  # every value is recomputed where it is used (or unused)
    mode = _outline_mode(g)
    if mode is None:
        return _emit_group(em, g, env)
    sub = em.sub(depth=1)
    rec = _EnvRecorder(env)
    _emit_group(sub, g, rec, prange=True)
    outs = list(rec.out.values())
    fname = em.fresh("_loop")
    src = ["@numba.njit(cache=_XFORM_CACHE, parallel=True, error_model='numpy', nogil=True)",
           f"def {fname}({', '.join(rec.used)}):",
           # the thread count of xform's policy (threads.py), per call
           f"    {em.use_runtime('region_threads')}()"]
    src += sub.lines
    src.append(f"    return ({', '.join(outs)},)")
    em.mod.helpers.append("\n".join(src))
    em.mod.parallel = True
    for ln in sub.lines:
        if ln.strip().startswith("#"):
            em.line(ln.strip())
    em.line(f"{', '.join(outs)}, = {fname}({', '.join(rec.used)})")
    for k, v in rec.out.items():
        env[k] = v


# Vector math in fused loops (``vector_calls.py``): the innermost loop of a group is cut
# into chunks of at most CHUNK points; a sin/exp/... of a value computed in that loop
# ends a *segment*: its arguments for the chunk go to a scratch buffer, the compiled
# routine maps the buffer, and the next segment's loop reads the results. Innermost
# dims shorter than CHUNK_MIN, and values computed in outer loops, call the scalar
# routine instead. Parallel nests of one dimension run prange over SUPER_CHUNK points.
#
# Each segment costs ~40 ms of compile time (numba and LLVM per loop; an inlined copy
# of a vector-math function cost ~70 ms). A kernel gets SEGMENT_BUDGET segments; beyond
# that its groups call the scalar routines in one loop (compile time stays linear in the
# program, ~2 ms per operation, but those loops run ~5-10x slower: see performance.md).
CHUNK = 512
CHUNK_MIN = 8
SUPER_CHUNK = 8 * CHUNK
SEGMENT_BUDGET = 24


class _Chunks:
    """The innermost-loop segmentation of one group (see CHUNK)."""

    def __init__(self, em, n: int):
        self.em = em
        self.n = n
        self.width = min(CHUNK, n)
        self.seg = 0                  # the segment being generated
        self.c = em.fresh("c")        # first point of the chunk
        self.ce = em.fresh("ce")      # end of the chunk
        self.calls: dict = {}         # segment -> routine calls after its loop
        self.scratch: dict = {}       # dtype -> (array name, [row names])

    def buffer(self, dtype) -> str:
        dt = np.dtype(dtype)
        if dt not in self.scratch:
            self.scratch[dt] = (self.em.fresh("sc"), [])
        name = self.em.fresh("bf")
        self.scratch[dt][1].append(name)
        return name

    def alloc_lines(self) -> list:
        lines = []
        for dt, (arr, rows) in self.scratch.items():
            lines.append(f"{arr} = {self.em.use_runtime('alloc_empty')}(({len(rows)}, {self.width}), "
                         f"{np_type(dt)})")
            lines += [f"{row} = {arr}[{k}]" for k, row in enumerate(rows)]
        return lines


class _Gen:
    """Scalar statements computing member values of a group at one iteration point
    (``idx``: index expressions of the iteration space).

    With ``chunks``, statements of the innermost loop belong to segments (see CHUNK):
    a value is used in its own segment directly, re-read from its array (a read) or
    passed through a scratch buffer (a computed value) in a later one.
    """

    def __init__(self, em, env, idx, recompute, chunks=None):
        self.em, self.env, self.idx = em, env, idx
        self.recompute = recompute  # var id -> (producer group, cone eqns)
        self.chunks = chunks
        self.r = len(idx)
        self.values: dict = {}      # var id -> (expr, depth)
        self.reads: dict = {}       # (var id, index, segment) -> (name, depth)
        self.stmts: list = []       # (depth, segment, [lines])
        # chunked innermost values, by name: defining segment, re-read source, buffer
        self.home: dict = {}
        self.read_src: dict = {}
        self.backing: dict = {}
        self.home_dtype: dict = {}  # name -> dtype (values that may need a buffer)
        self.avail: dict = {}       # routine result -> first segment that can load it
        self.local: dict = {}       # (name, segment) -> name in that segment

    # -- segments ---------------------------------------------------------------------
    def _inner(self, depth) -> bool:
        return self.chunks is not None and depth == self.r

    def seg(self, depth) -> int:
        return self.chunks.seg if self._inner(depth) else 0

    def put(self, depth, lines, name=None, seg=None):
        s = self.seg(depth) if seg is None else seg
        self.stmts.append((depth, s, lines))
        if name is not None and self._inner(depth):
            self.home[name] = s

    def at(self, expr, depth, seg=None):
        """``expr`` (a value of the group) as usable in segment ``seg`` (default: the
        current one, which a routine's result not yet computed in it ends)."""
        if not self._inner(depth):
            return expr
        ch = self.chunks
        if seg is None:
            ch.seg = max(ch.seg, self.avail.get(expr, 0))
        seg = ch.seg if seg is None else seg
        if self.home.get(expr) == seg:
            return expr
        hit = self.local.get((expr, seg))
        if hit is not None:
            return hit
        src = self.read_src.get(expr)
        if src is not None:  # a read: read again
            arr, vid, ix = src
            name, _ = self.read(arr, vid, ix, depth, seg)
        else:
            buf, conv = self.backing.get(expr, (None, None))
            if buf is None:  # a value of an earlier segment: through a buffer
                dt = self.home_dtype[expr]
                buf, conv = ch.buffer(dt), None
                self.backing[expr] = (buf, None)
                self.put(depth, [f"{buf}[{self.idx[-1]} - {ch.c}] = {expr}"],
                         seg=self.home[expr])
            name = self.em.fresh("t")
            load = f"{buf}[{self.idx[-1]} - {ch.c}]"
            self.put(depth, [f"{name} = {cast(load, conv) if conv is not None else load}"],
                     seg=seg)
        self.local[(expr, seg)] = name
        return name

    def define(self, name, depth, dtype, lines):
        self.put(depth, lines, name)
        if self._inner(depth):
            self.home_dtype[name] = dtype

    # -- values -----------------------------------------------------------------------
    def read(self, name, vid, ix, depth, seg=None):
        s = self.seg(depth) if seg is None else seg
        key = (vid, tuple(ix), s)
        hit = self.reads.get(key)
        if hit is None:
            t = self.em.fresh("r")
            self.put(depth, [f"{t} = {name}[{index_text(ix)}]"], t, seg=s)
            if self._inner(depth):
                self.read_src[t] = (name, vid, tuple(ix))
            hit = self.reads[key] = (t, depth)
        return hit

    def ready(self, invars) -> None:
        """Enter the segment where every routine result among ``invars`` can be read (a
        routine's result is readable from the segment after its call), before any of
        them is resolved: operands of one statement are read in one segment."""
        if self.chunks is None:
            return
        for x in invars:
            if type(x) is not Literal and x.id in self.values:
                self.chunks.seg = max(self.chunks.seg, self.avail.get(self.values[x.id][0], 0))

    def operand(self, x, out_shape):
        if type(x) is Literal:
            return literal_expr(x.val, x.aval.dtype), 0
        if x.id in self.values:
            expr, depth = self.values[x.id]
            return self.at(expr, depth), depth
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
        for e in cone:
            sub.eqn(e)
        lines += [ln for _, _, ls in sub.stmts for ln in ls]
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
            lines = [f"{t} = {expr}"]
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
        self.define(t, depth, out.aval.dtype, lines)
        self.values[out.id] = (t, depth)

    def vector_math(self, eqn, vm, arg, depth):
        """A vector-math function of ``arg``: a chunked routine call for innermost
        values, else a call of the scalar routine."""
        from .vector_calls import routine_name

        out = eqn.outvars[0]
        dt = out.aval.dtype
        t = self.em.fresh("t")
        if not self._inner(depth) or depth == 0:
            fn = self.em.use_vector_call(routine_name(vm, False, config.fast_trig()))
            call = f"{fn}({arg})"
            self.define(t, depth, dt, [f"{t} = {call if dt == np.float64 else cast(call, dt)}"])
            self.values[out.id] = (t, depth)
            return
        ch = self.chunks
        fn = self.em.use_vector_call(routine_name(vm, True, config.fast_trig()))
        yb = ch.buffer(np.float64)
        xb = self._direct_row(arg) if eqn.invars[0].aval.dtype == np.float64 else None
        if xb is None:  # the arguments go through a buffer
            xb = ch.buffer(np.float64)
            self.put(depth, [f"{xb}[{self.idx[-1]} - {ch.c}] = {arg}"])
        ch.calls.setdefault(ch.seg, []).append(f"{fn}({xb}, {yb}, {ch.ce} - {ch.c})")
        # the result lives in yb from the next segment on: each later segment that uses it
        # loads it (`at`). The segment ends only at the first use of a result, so calls
        # whose arguments are ready together (tanh(x), sin(x), exp(-x*x) of one x) run
        # after one loop: fewer loops to compile and fewer passes over the chunk.
        self.avail[t] = ch.seg + 1
        self.backing[t] = (yb, None if dt == np.float64 else dt)
        self.values[out.id] = (t, depth)

    def _direct_row(self, arg):
        """When ``arg`` (a float64 value) is read from a C-contiguous array of the kernel
        at the iteration point itself, the chunk of the array's row (a view): the routine reads
        it directly, with no copy loop."""
        src = self.read_src.get(arg)
        if src is None:
            return None
        arr, vid, ix = src
        if list(ix) != list(self.idx) or not self.em.is_contig(arr):
            return None
        ch = self.chunks
        outer = "".join(f"{i}, " for i in self.idx[:-1])
        return f"{arr}[{outer}{ch.c}:{ch.ce}]"

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
            self.define(t, k + 1, out.aval.dtype, [f"{t} = {cast(idx[k], out.aval.dtype)}"])
            values[out.id] = (t, k + 1)
            return
        self.ready(eqn.invars)
        ops = [self.operand(x, oshape) for x in eqn.invars]
        depth = max((d for _, d in ops), default=0)
        vm = _vector_math().get(prim)
        if vm is not None and out.aval.dtype.kind == "f" and len(ops) == 1 and not eqn.params:
            self.vector_math(eqn, vm, ops[0][0], depth)
            return
        t = em.fresh("t")
        self.define(t, depth, out.aval.dtype, [f"{t} = {_scalar_expr(em, eqn, [e for e, _ in ops])}"])
        values[out.id] = (t, depth)


def _chunking(em, g: Group):
    """The group's innermost-loop segmentation, or None (no vector math in its
    innermost loop, or an innermost dimension too short to pay)."""
    if not g.shape or g.shape[-1] < CHUNK_MIN:
        return None
    vm = _vector_math()
    calls = sum(e.primitive in vm for e in g.eqns)
    if not calls:
        return None
    left = SEGMENT_BUDGET if em.mod.segment_budget is None else em.mod.segment_budget
    if calls > left:
        return None
    em.mod.segment_budget = left - calls
    return _Chunks(em, g.shape[-1])


def _emit_group(em, g: Group, env, prange=False):
    shape = g.shape
    r = len(shape)
    idx = [em.fresh("i") for _ in range(r)]
    chunks = _chunking(em, g)
    gen = _Gen(em, env, idx, g.recompute, chunks)
    values = gen.values
    reductions = []                 # (eqn, (expr, depth), segment)

    for eqn in g.eqns:
        em.comment(_eqn_text(em.mod, eqn))
    for vid, (_, cone) in g.recompute.items():
        em.comment(f"{em.mod.label_of(vid)} recomputed at shifted points ({len(cone)} equations)")

    for eqn, kind in zip(g.eqns, g.kinds):
        if kind == "reduce":
            gen.ready(eqn.invars)
            v, d = gen.operand(eqn.invars[0], eqn.invars[0].aval.shape)
            reductions.append((eqn, (v, d), gen.seg(d)))
        else:
            gen.eqn(eqn)
    # the last segment: at least the one where the last routine's result can be read
    last = max([chunks.seg, *gen.avail.values()]) if chunks is not None else 0

    # outputs of the group: stored in the segment that computes them
    stores = []                     # (segment, line)
    for eqn, kind in zip(g.eqns, g.kinds):
        o = eqn.outvars[0]
        if kind == "reduce" or o.id not in g.used_outside:
            continue
        expr, depth = values[o.id]
        if o.aval.ndim == 0:
            if expr.isidentifier():
                env[o.id] = expr
            else:
                t = em.fresh("s")
                em.line(f"{t} = {expr}")
                env[o.id] = t
            continue
        seg = last
        if gen._inner(depth):  # where it is computed (or a routine's result is loaded)
            seg = gen.home.get(expr, gen.avail.get(expr, last))
        expr = gen.at(expr, depth, seg)
        arr = em.alloc(o.aval.shape, o.aval.dtype)
        env[o.id] = arr
        ix, _ = _canon_index(o.aval.shape, idx)
        stores.append((seg, f"{arr}[{index_text(ix)}] = {expr}"))

    # reductions
    red_axes = g.red_axes or ()
    nred = len(red_axes)
    suffix = nred > 0 and tuple(red_axes) == tuple(range(r - nred, r))
    init_level = r - nred if suffix else None
    reassoc = suffix and _reassoc_sums(g)
    acc_inits, acc_final, acc_updates = [], [], []   # acc_updates: (segment, line)
    for eqn, (v, _), seg in reductions:
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
            acc_updates.extend((seg, ln) for ln in accumulate(rprim, acc, v, adt, reassoc))
            if reassoc and adt.kind == "f" and rprim in _SUM_PROD:
                em.use_runtime("acc_add" if rprim is structural.reduce_sum_p else "acc_mul")
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
            acc_updates.extend((seg, ln) for ln in accumulate(rprim, tgt, v, adt))
            if adt != dt:
                res = em.fresh("o")
                acc_final.append(f"{res} = {arr}.astype({np_type(dt)})")
                em.mark_contig(res)
                env[o.id] = res
            else:
                env[o.id] = arr

    by_depth: dict = {}
    for d, s, lines in gen.stmts:
        by_depth.setdefault((d, s), []).extend(lines)
    if r > 0 and int(np.prod(shape, dtype=np.int64)) >= config.fastmath_min_size() and _wide_vectors():
        em.mod.runtime_imports.add("prefer_wide_vectors")
        by_depth.setdefault((1, 0), []).insert(0, "prefer_wide_vectors()")

    def innermost_lines(seg):
        lines = list(by_depth.get((r, seg), ()))
        lines += [ln for s, ln in stores if s == seg]
        lines += [ln for s, ln in acc_updates if s == seg]
        if chunks is None:
            return lines
        # a read whose only use was a routine reading the array's row directly is dead
        text = "\n".join(lines)
        return [ln for ln in lines
                if not (ln.split(" = ", 1)[0] in gen.read_src
                        and len(re.findall(rf"\b{ln.split(' = ', 1)[0]}\b", text)) == 1)]

    def innermost(seg):
        for ln in innermost_lines(seg):
            em.line(ln)

    def chunked_loop(lo, hi):
        """The innermost loop of a chunked group, over [lo, hi) (names or numbers)."""
        ch = chunks
        if isinstance(lo, int) and hi - lo <= ch.width:  # one chunk: no loop over chunks
            em.line(f"{ch.c} = {lo}")
            em.line(f"{ch.ce} = {hi}")
            segments()
            return
        em.line(f"for {ch.c} in range({lo}, {hi}, {ch.width}):")
        with em.indented():
            # runtime.nmin: builtins.min compiles an implementation once per process
            em.line(f"{ch.ce} = {em.use_runtime('nmin')}({ch.c} + {ch.width}, {hi})")
            segments()

    def segments():
        ch = chunks
        for seg in range(last + 1):
            lines = innermost_lines(seg)
            if lines:
                em.line(f"for {idx[r - 1]} in range({ch.c}, {ch.ce}):")
                with em.indented():
                    for ln in lines:
                        em.line(ln)
            for call in ch.calls.get(seg, ()):
                em.line(call)

    def level(k):
        if k < r:
            for ln in by_depth.get((k, 0), ()):
                em.line(ln)
        if k == init_level:
            for ln in acc_inits:
                em.line(ln)
        if k == r:
            innermost(0)
        elif k == r - 1 and chunks is not None:
            if prange and k == 0:  # parallel over super-chunks, scratch per super-chunk
                p, lo, hi = em.fresh("p"), em.fresh("lo"), em.fresh("hi")
                em.line(f"for {p} in numba.prange({-(-shape[0] // SUPER_CHUNK)}):")
                with em.indented():
                    em.line(f"{lo} = {p} * {SUPER_CHUNK}")
                    em.line(f"{hi} = {em.use_runtime('nmin')}({lo} + {SUPER_CHUNK}, {shape[0]})")
                    for ln in chunks.alloc_lines():
                        em.line(ln)
                    chunked_loop(lo, hi)
            else:
                chunked_loop(0, shape[k])
        else:
            rng = "numba.prange" if prange and k == 0 else "range"
            em.line(f"for {idx[k]} in {rng}({shape[k]}):")
            with em.indented():
                if prange and k == 0 and chunks is not None:
                    for ln in chunks.alloc_lines():  # scratch per parallel iteration
                        em.line(ln)
                level(k + 1)
        if k == init_level or (k == 0 and not suffix):
            for ln in acc_final:
                em.line(ln)

    if chunks is not None and not prange:
        for ln in chunks.alloc_lines():
            em.line(ln)
    level(0)


__all__ = ["plan", "Group", "Single", "fusible_kind", "shape_text", "np_type"]
