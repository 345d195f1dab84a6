"""Jaxpr-to-jaxpr optimization passes run before Numba code generation.

``optimize_jaxpr(closed) -> ClosedJaxpr`` runs, to a fixed point (at most a few
rounds):

- **inline**: equations of call-like primitives (nested ``jit`` programs, custom
  derivatives, ``custom_linear_solve``; not ``checkpoint``) are replaced by the
  equations of their program, so the whole computation is compiled, and optimized, as
  one kernel.
- **simplify**: algebraic identities that autodiff leaves behind, keeping IEEE
  semantics: ``x*1 -> x`` (not for complex: ``(inf+0j)*1`` is ``inf+nanj``),
  ``x + (-0.0) -> x`` / ``x - 0.0 -> x`` (exact for every x; not ``x + 0.0``:
  ``-0.0 + 0.0`` is ``+0.0``), ``--x -> x``,
  identity converts/reshapes/transposes/broadcasts, ``x*0 -> 0`` **only** for
  integer and boolean dtypes (for floats ``inf*0`` and ``nan*0`` are NaN), adding a
  broadcast zero, multiplying by a broadcast one.
- **constant folding**: equations whose operands are all literals or small constants
  are evaluated with the primitive's ``impl``; scalar results become literals and
  small array results (<= ``FOLD_MAX_SIZE`` elements) new constants. Large results
  (e.g. a broadcast of a literal to a big shape) are never folded: they fuse into
  loops instead.
- **CSE** (``cse.py``): equations with the same primitive, operands and parameters are
  merged (not those with side effects: ``Primitive.effectful``), after exact
  canonicalization: commutative operands sorted, negations deferred and absorbed
  (``(-a) * (-b) -> a * b``, ``a + (-b) -> a - b``, ...), weak-type-only conversions
  dropped.
- **structural**: ``transpose(dot_general(x, y)) -> dot_general(y, x)`` (batch
  dimensions allowed), nested
  broadcasts composed, broadcasts of scalars feeding elementwise ops replaced by the
  scalar (numpy broadcasting does the rest).
- **DCE**: equations whose results are unused are removed (unless they have side effects).

Then **loop-invariant code motion** (``licm.py``): the invariant equations of ``while``
and ``scan`` bodies (optimized first, recursively) move out of the loops, and the
rounds run again (the hoisted work may merge with work outside the loop).

The input program is never mutated (other interpreters share it).
"""
from __future__ import annotations

import numpy as np

from ...core.abstract import ShapedArray
from ...core.check import check_after
from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, sub_jaxprs, use_counts
from ...interpreters.transforms import dce_closed
from ...lax._rules import broadcast_shapes
from ...lax.checkpoint import checkpoint_p
from ...lax.elementwise import (
    add_any_p,
    add_p,
    convert_element_type_p,
    integer_pow_p,
    mul_p,
    neg_p,
    stop_gradient_p,
    sub_p,
)
from ...lax.dot import dot_general_p
from ...lax.structural import broadcast_in_dim_p, expand_dims_p, reshape_p, squeeze_p, transpose_p
from .cse import cse
from .licm import hoist_loop_invariants
from .dot_rewrites import rewrite_dots
from .traits import INLINED, NO_FOLD

# Identities when the operand already has the result's type (and, for transpose and
# broadcast_in_dim, the identity permutation / dimensions).
_MAYBE_NOOP = frozenset({convert_element_type_p, reshape_p, broadcast_in_dim_p, transpose_p,
                         squeeze_p, expand_dims_p, stop_gradient_p})

FOLD_MAX_SIZE = 16

# Call-like primitives whose programs are inlined (the lowering emits them inline anyway;
# inlined first, they are optimized with their surroundings: CSE, DCE, hoisting out of
# loops). Not ``checkpoint``: its program recomputes values on purpose (rematerialization),
# which CSE with the values it recomputes would undo.
_INLINE = {p: param for p, param in INLINED.items() if p is not checkpoint_p}

# Switches for measurements (benchmarks/bench_smaller_programs.py compares programs with
# and without them): canonical forms in CSE (cse.py) and loop-invariant code motion.
CANONICAL_CSE = True
HOIST_LOOP_INVARIANTS = True


# -- helpers ---------------------------------------------------------------------------


def _is_const_val(x, value) -> bool:
    """Whether literal ``x`` equals ``value`` exactly (0.0 matches -0.0 too)."""
    if type(x) is not Literal:
        return False
    try:
        v = np.asarray(x.val)
        return v.shape == () and v.dtype.kind in "biufc" and bool(v == value)
    except Exception:
        return False


def _is_additive_identity(x, negative: bool) -> bool:
    """Whether literal ``x`` is a zero that ``x + z`` (``negative``: z must be ``-0.0``)
    or ``x - z`` (z must be ``+0.0``) leaves every value unchanged. In IEEE arithmetic
    ``-0.0 + 0.0`` is ``+0.0``, so ``x + 0.0 -> x`` would turn that sum into ``-0.0``;
    ``x + (-0.0)`` and ``x - 0.0`` are exact for every x. Complex: both parts so.
    Integers and booleans have one zero."""
    if not _is_const_val(x, 0):
        return False
    v = np.asarray(x.val)
    if v.dtype.kind == "f":
        return bool(np.signbit(v)) == negative
    if v.dtype.kind == "c":
        return bool(np.signbit(v.real)) == negative and bool(np.signbit(v.imag)) == negative
    return True


def _subst(env, v):
    if type(v) is Literal:
        return v
    return env.get(v.id, v)


def _copy_jaxpr(j: Jaxpr, eqns=None, outvars=None, constvars=None) -> Jaxpr:
    return Jaxpr(j.constvars if constvars is None else constvars, j.invars,
                 j.outvars if outvars is None else outvars, j.eqns if eqns is None else eqns)


# -- passes ----------------------------------------------------------------------------


def _inlined_program(e):
    """The program an equation of a call-like primitive runs on its operands, or None."""
    param = _INLINE.get(e.primitive)
    return None if param is None else e.params[param]


def inline_calls(jaxpr: Jaxpr, consts: list) -> tuple[Jaxpr, list, bool]:
    """Replace call-like equations (nested ``jit``, custom derivatives, linear solves:
    ``_INLINE``) by the equations of the programs they run."""
    if not any(e.primitive in _INLINE for e in jaxpr.eqns):
        return jaxpr, consts, False
    constvars, consts = list(jaxpr.constvars), list(consts)
    eqns: list[Eqn] = []
    env: dict = {}

    def inline(eqns_out, j: Jaxpr, j_consts, args, outvars):
        rename: dict = {}
        for v, c in zip(j.constvars, j_consts):
            nv = Var(v.aval)
            constvars.append(nv)
            consts.append(c)
            rename[v.id] = nv
        for v, a in zip(j.invars, args):
            rename[v.id] = a
        for e in j.eqns:
            ins = [_subst(rename, x) for x in e.invars]
            inner = _inlined_program(e)
            if inner is not None:
                outs = [Var(o.aval) for o in e.outvars]
                inline(eqns_out, inner.jaxpr, inner.consts, ins, outs)
                for o, n in zip(e.outvars, outs):
                    rename[o.id] = n
                continue
            outs = [Var(o.aval) for o in e.outvars]
            for o, n in zip(e.outvars, outs):
                rename[o.id] = n
            eqns_out.append(Eqn(e.primitive, ins, outs, e.params))
        for o, res in zip(outvars, j.outvars):
            env[o.id] = _subst(rename, res)

    for e in jaxpr.eqns:
        ins = [_subst(env, x) for x in e.invars]
        inner = _inlined_program(e)
        if inner is not None:
            inline(eqns, inner.jaxpr, inner.consts, ins, e.outvars)
        else:
            eqns.append(Eqn(e.primitive, ins, e.outvars, e.params))
    outvars = [_subst(env, v) for v in jaxpr.outvars]
    # `env` may map to vars defined later in the chain; resolve transitively.
    eqns = [Eqn(e.primitive, [_resolve(env, x) for x in e.invars], e.outvars, e.params)
            for e in eqns]
    outvars = [_resolve(env, v) for v in outvars]
    return Jaxpr(constvars, jaxpr.invars, outvars, eqns), consts, True


def _resolve(env, v):
    while type(v) is not Literal and v.id in env:
        v = env[v.id]
    return v


def _const_value(x, constmap):
    """Concrete value of an operand if known (literal or small constant), else None."""
    if type(x) is Literal:
        return x.val
    return constmap.get(x.id)


def fold_constants(jaxpr: Jaxpr, consts: list) -> tuple[Jaxpr, list, bool]:
    constmap = {}
    for v, c in zip(jaxpr.constvars, consts):
        if np.size(c) <= FOLD_MAX_SIZE:
            constmap[v.id] = c
    constvars, consts = list(jaxpr.constvars), list(consts)
    env: dict = {}
    eqns = []
    changed = False
    for e in jaxpr.eqns:
        ins = [_subst(env, x) for x in e.invars]
        p = e.primitive
        foldable = (
            p.impl is not None and not p.multiple_results and p not in NO_FOLD
            and all(o.aval.size <= FOLD_MAX_SIZE for o in e.outvars)
            and next(sub_jaxprs(e), None) is None
        )
        vals = [_const_value(x, constmap) for x in ins] if foldable else None
        if foldable and all(v is not None for v in vals):
            try:
                import warnings

                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = p.impl(*vals, **e.params)
                out_aval = e.outvars[0].aval
                arr = np.asarray(out)
                if arr.shape != out_aval.shape or arr.dtype != out_aval.dtype:
                    raise TypeError("folded value does not match its abstract value")
            except Exception:
                eqns.append(Eqn(p, ins, e.outvars, e.params))
                continue
            changed = True
            o = e.outvars[0]
            if arr.ndim == 0:
                env[o.id] = Literal(arr[()], o.aval)
            else:
                nv = Var(o.aval)
                constvars.append(nv)
                consts.append(arr)
                constmap[nv.id] = arr
                env[o.id] = nv
            continue
        eqns.append(Eqn(p, ins, e.outvars, e.params))
    outvars = [_subst(env, v) for v in jaxpr.outvars]
    return Jaxpr(constvars, jaxpr.invars, outvars, eqns), consts, changed


def _same_aval(x, out) -> bool:
    return x.aval.shape == out.aval.shape and x.aval.dtype == out.aval.dtype


def simplify(jaxpr: Jaxpr) -> tuple[Jaxpr, bool]:
    """Algebraic simplification (IEEE-safe; see the module docstring)."""
    env: dict = {}
    filled: dict = {}  # var id -> scalar literal it is a broadcast of
    _neg_of: dict = {}  # var id -> the var it is the negation of
    eqns = []
    changed = False

    def scalar_of(x):
        if type(x) is Literal:
            return x
        return filled.get(x.id)

    for e in jaxpr.eqns:
        ins = [_subst(env, x) for x in e.invars]
        p = e.primitive
        out = e.outvars[0] if e.outvars else None
        repl = None
        if p is mul_p and len(ins) == 2 and out.aval.dtype.kind != "c":
            # (complex: (inf+0j)*(1+0j) is inf+nanj, so x*1 is not x)
            x, y = ins
            sx, sy = scalar_of(x), scalar_of(y)
            if _is_const_val(sy, 1) and _same_aval(x, out):
                repl = x
            elif _is_const_val(sx, 1) and _same_aval(y, out):
                repl = y
        elif (p is add_p or p is add_any_p) and len(ins) == 2:
            x, y = ins
            sx, sy = scalar_of(x), scalar_of(y)
            if _is_additive_identity(sy, negative=True) and _same_aval(x, out):
                repl = x
            elif _is_additive_identity(sx, negative=True) and _same_aval(y, out):
                repl = y
        elif p is sub_p and len(ins) == 2:
            x, y = ins
            if _is_additive_identity(scalar_of(y), negative=False) and _same_aval(x, out):
                repl = x
        elif p is integer_pow_p and int(e.params.get("y", 0)) == 1:
            if _same_aval(ins[0], out):
                repl = ins[0]
        elif p is neg_p:
            (x,) = ins
            if type(x) is Var and x.id in _neg_of:
                src = _neg_of[x.id]
                if _same_aval(src, out):
                    repl = src
        elif p in _MAYBE_NOOP:
            x = ins[0]
            if type(x) is Var and _same_aval(x, out) and x.aval.weak_type == out.aval.weak_type:
                if p is not transpose_p or tuple(e.params.get("permutation", ())) == tuple(
                        range(out.aval.ndim)):
                    if p is not broadcast_in_dim_p or tuple(e.params.get(
                            "broadcast_dimensions", ())) == tuple(range(out.aval.ndim)):
                        repl = x
        if repl is None and p is mul_p and len(ins) == 2 and out.aval.dtype.kind in "biu":
            x, y = ins
            if _is_const_val(scalar_of(x), 0) or _is_const_val(scalar_of(y), 0):
                zero = Literal(np.zeros((), out.aval.dtype)[()], ShapedArray((), out.aval.dtype))
                if out.aval.ndim == 0:
                    repl = zero
                else:
                    filled[out.id] = zero
                    eqns.append(Eqn(broadcast_in_dim_p, [zero], [out],
                                    dict(shape=out.aval.shape, broadcast_dimensions=())))
                    changed = True
                    continue
        if repl is not None:
            env[out.id] = repl
            changed = True
            continue
        if p is broadcast_in_dim_p and type(ins[0]) is Literal:
            filled[out.id] = ins[0]
        if p is neg_p and type(ins[0]) is Var:
            _neg_of[out.id] = ins[0]
        eqns.append(Eqn(e.primitive, ins, e.outvars, e.params))
    outvars = [_subst(env, v) for v in jaxpr.outvars]
    return _copy_jaxpr(jaxpr, eqns=eqns, outvars=outvars), changed


def structural(jaxpr: Jaxpr) -> tuple[Jaxpr, bool]:
    """Rewrites of shape operations (exact, no arithmetic change):

    - ``transpose(dot_general(x, y))`` swapping the free blocks -> ``dot_general(y, x)``
      (reverse-mode programs are full of them);
    - ``broadcast_in_dim(broadcast_in_dim(x))`` -> one ``broadcast_in_dim``;
    - an elementwise operand that is a broadcast of a 0-d value is replaced by that value
      when the other operands already give the result shape (numpy broadcasting).
    """
    counts = use_counts(jaxpr)
    dot_of: dict = {}
    bid_of: dict = {}
    eqns = []
    changed = False
    for e in jaxpr.eqns:
        p = e.primitive
        if p is transpose_p and type(e.invars[0]) is Var and e.invars[0].id in dot_of \
                and counts.get(e.invars[0].id) == 1:
            d = dot_of[e.invars[0].id]
            (lc, rc), (lb, rb) = d.params["dimension_numbers"]
            x, y = d.invars
            nb = len(lb)  # batch dims stay in front; the free blocks swap
            nl = x.aval.ndim - len(lc) - nb
            nr = y.aval.ndim - len(rc) - nb
            perm = (tuple(range(nb)) + tuple(range(nb + nl, nb + nl + nr))
                    + tuple(range(nb, nb + nl)))
            if tuple(e.params["permutation"]) == perm:
                params = dict(d.params, dimension_numbers=((tuple(rc), tuple(lc)),
                                                           (tuple(rb), tuple(lb))))
                eqns.append(Eqn(d.primitive, [y, x], e.outvars, params))
                changed = True
                continue
        if p is broadcast_in_dim_p and type(e.invars[0]) is Var and e.invars[0].id in bid_of:
            src, dims1 = bid_of[e.invars[0].id]
            dims2 = tuple(e.params["broadcast_dimensions"])
            params = dict(e.params, broadcast_dimensions=tuple(dims2[d] for d in dims1))
            e = Eqn(e.primitive, [src], e.outvars, params)
            changed = True
        if getattr(e.primitive, "elementwise", False) and e.outvars[0].aval.ndim > 0 and all(
                type(v) is Literal or v.aval.ndim == 0 or (v.id in bid_of and bid_of[v.id][0].aval.ndim == 0)
                for v in e.invars):
            # an elementwise op of broadcast scalars: compute the scalar, broadcast once
            ins = [v if type(v) is Literal or v.aval.ndim == 0 else bid_of[v.id][0] for v in e.invars]
            o = e.outvars[0]
            so = Var(ShapedArray((), o.aval.dtype, o.aval.weak_type))
            eqns.append(Eqn(e.primitive, ins, [so], e.params))
            e = Eqn(broadcast_in_dim_p, [so], [o], dict(shape=o.aval.shape, broadcast_dimensions=()))
            changed = True
        elif getattr(e.primitive, "elementwise", False) and len(e.invars) > 1:
            out_shape = e.outvars[0].aval.shape
            ins = list(e.invars)
            for i, v in enumerate(ins):
                if type(v) is Var and v.id in bid_of:
                    src, _ = bid_of[v.id]
                    if src.aval.ndim == 0 and src.aval.dtype == v.aval.dtype:
                        others = [w.aval.shape for j, w in enumerate(ins) if j != i]
                        try:
                            ok = broadcast_shapes("x", *others) == out_shape
                        except ValueError:
                            ok = False
                        if ok:
                            ins[i] = src
                            changed = True
            e = Eqn(e.primitive, ins, e.outvars, e.params)
        if p is dot_general_p:
            dot_of[e.outvars[0].id] = e
        if e.primitive is broadcast_in_dim_p:
            bid_of[e.outvars[0].id] = (e.invars[0], tuple(e.params["broadcast_dimensions"]))
        eqns.append(e)
    return _copy_jaxpr(jaxpr, eqns=eqns), changed


def _rounds(jaxpr: Jaxpr, consts: list, max_rounds: int) -> tuple[Jaxpr, list]:
    for _ in range(max_rounds):
        jaxpr, c1 = simplify(jaxpr)
        check_after(ClosedJaxpr(jaxpr, consts), "simplify")
        jaxpr, consts, c2 = fold_constants(jaxpr, consts)
        check_after(ClosedJaxpr(jaxpr, consts), "fold_constants")
        jaxpr, c3 = cse(jaxpr, CANONICAL_CSE)
        jaxpr, consts = dce_closed(jaxpr, consts)
        check_after(ClosedJaxpr(jaxpr, consts), "cse and dce")
        jaxpr, c4 = structural(jaxpr)
        jaxpr, c5 = rewrite_dots(jaxpr)  # transposed operands, sums of products (dot_rewrites.py)
        jaxpr, consts = dce_closed(jaxpr, consts)
        check_after(ClosedJaxpr(jaxpr, consts), "structural rewrites and dce")
        if not (c1 or c2 or c3 or c4 or c5):
            break
    return jaxpr, consts


def optimized(closed: ClosedJaxpr) -> ClosedJaxpr:
    """``optimize_jaxpr(closed)``, memoized on the program (``closed.cache``)."""
    hit = closed.cache.get("optimized")
    if hit is None:
        hit = optimize_jaxpr(closed)
        closed.cache["optimized"] = hit
    return hit


def optimize_jaxpr(closed: ClosedJaxpr, max_rounds: int = 4) -> ClosedJaxpr:
    """Run all passes to a fixed point; returns a new ClosedJaxpr."""
    jaxpr, consts = closed.jaxpr, list(closed.consts)
    jaxpr, consts, _ = inline_calls(jaxpr, consts)
    check_after(ClosedJaxpr(jaxpr, consts), "inlining")
    jaxpr, consts = _rounds(jaxpr, consts, max_rounds)
    hoisted = False
    if HOIST_LOOP_INVARIANTS:
        jaxpr, consts, hoisted = hoist_loop_invariants(jaxpr, consts, optimized)
    if hoisted:
        check_after(ClosedJaxpr(jaxpr, consts), "loop-invariant code motion")
        # the hoisted work may equal work outside the loop (CSE) or fold
        jaxpr, consts = _rounds(jaxpr, consts, max_rounds)
    return ClosedJaxpr(jaxpr, consts)
