"""Loop-invariant code motion: ``hoist_loop_invariants``.

An equation of a ``while`` or ``scan`` body (or of a ``while`` condition) whose operands
are all loop-invariant (the body's constants, its non-carried operands, literals, or
results of such equations) computes the same value at every iteration. It is moved out
of the loop, in front of the loop equation, and its result passed in as one more
non-carried operand (``body_nconsts`` / ``cond_nconsts`` / ``num_consts`` grow). Then
the enclosing program's CSE merges the hoisted work with equal work outside the loop:
``hvp(p)`` inside a conjugate-gradient loop, for one, recomputes the primal and the
gradient at the (fixed) point at every step; hoisted, they run once, as with
``linearize``.

Which equations stay in the loop:

- side effects (``has_effects``: ``debug.print``/``debug.callback``, or a held program
  with one): they must run once per iteration;
- callbacks into Python (``pure_callback``): user code, possibly costly or raising,
  that must not run for a loop that runs zero times;
- nested ``while`` loops: one might not terminate, which would hang a program whose
  outer loop never runs;
- ``broadcast_in_dim`` and ``iota`` whose result would cross into the loop: inside,
  they fuse into the loop nests that read them for free; hoisted, they would become
  arrays read from memory at every iteration (their invariant operands cross instead).

**Zero-trip loops.** A hoisted equation runs once even when a ``while`` loop runs zero
times (as with XLA's loop-invariant code motion). Every other lowering is total (no
kernel raises: indices are clamped, division by zero follows IEEE or numpy's integer
rule), so the only cost is that work, once; a ``scan`` of length 0 is left alone. The
condition of a ``while`` loop runs at least once, so hoisting out of it is always free.

**Matrix products of the scanned slices** (``_hoist_scan_products``): a product in a
``scan`` body that reads only constants and the iteration's slices of ``xs`` (an RNN's
``U @ x_t``) is computed for all iterations before the loop, as one batched product,
and enters the loop as one more ``xs``. Not bit for bit the same sums: BLAS may add a
product's terms in another order.

Loop bodies are optimized first (``optimize``, which hoists out of nested loops), so
invariants climb out of every level of a loop nest. Pass-through carries (a carry the
body returns unchanged) are not turned into invariants.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ...core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from ...interpreters.transforms import batch_jaxpr, has_effects
from ...lax.callbacks import pure_callback_p
from ...lax.control_flow import scan_p, while_p
from ...lax.dot import dot_general_p
from ...lax.structural import broadcast_in_dim_p, iota_p

# Kept in the loop whatever their operands (see the module docstring).
_NEVER = frozenset({pure_callback_p, while_p})
# Kept in the loop when their result would cross into it: fusing them is free.
_RECOMPUTED = frozenset({broadcast_in_dim_p, iota_p})


def _holds(eqn, prims) -> bool:
    """Whether ``eqn`` is, or holds a program with, an equation of ``prims``."""
    if eqn.primitive in prims:
        return True
    for v in eqn.params.values():
        for c in (v if isinstance(v, (tuple, list)) else (v,)):
            j = c.jaxpr if isinstance(c, ClosedJaxpr) else c
            if isinstance(j, Jaxpr) and any(_holds(e, prims) for e in j.eqns):
                return True
    return False


def _hoistable(eqn) -> bool:
    return not has_effects(eqn) and not _holds(eqn, _NEVER)


def split_invariants(closed: ClosedJaxpr, n_invariant: int
                     ) -> tuple[list, list, ClosedJaxpr] | None:
    """Split a loop program whose first ``n_invariant`` inputs do not change between
    iterations.

    Returns None if nothing can be hoisted, else ``(hoisted, crossing, body)``:
    ``hoisted`` the invariant equations in order (reading the program's constvars,
    its first inputs and each other), ``crossing`` the variables they define that the
    rest reads, and ``body`` the remaining program (a ``ClosedJaxpr``), whose inputs are
    ``crossing`` followed by all of the original inputs.
    """
    j = closed.jaxpr
    inv = {v.id for v in j.constvars} | {v.id for v in j.invars[:n_invariant]}
    candidates = []
    for e in j.eqns:
        if e.outvars and all(type(v) is Literal or v.id in inv for v in e.invars) \
                and _hoistable(e):
            inv.update(v.id for v in e.outvars)
            candidates.append(e)
    if not candidates:
        return None
    cand_ids = {id(e) for e in candidates}
    # Backwards: which candidates to hoist, knowing the readers of their results.
    read_in_loop = {v.id for v in j.outvars if type(v) is Var}
    hoist: set = set()
    for e in reversed(j.eqns):
        stays = id(e) not in cand_ids or (
            e.primitive in _RECOMPUTED and any(o.id in read_in_loop for o in e.outvars))
        if stays:
            read_in_loop.update(v.id for v in e.invars if type(v) is Var)
        else:
            hoist.add(id(e))
    hoisted = [e for e in candidates if id(e) in hoist]
    if not hoisted:
        return None
    defined = {o.id for e in hoisted for o in e.outvars}
    crossing = _crossing(j, hoist, defined)
    # the remaining program reads the crossing values through fresh inputs
    fresh = {v.id: Var(v.aval) for v in crossing}

    def sub(v):
        return v if type(v) is Literal else fresh.get(v.id, v)

    eqns = [Eqn(e.primitive, [sub(v) for v in e.invars], e.outvars, e.params)
            for e in j.eqns if id(e) not in hoist]
    body = Jaxpr(j.constvars, [fresh[v.id] for v in crossing] + list(j.invars),
                 [sub(v) for v in j.outvars], eqns)
    return hoisted, crossing, ClosedJaxpr(body, closed.consts)


def _crossing(j: Jaxpr, moved, defined: set) -> list:
    """The variables ``defined`` by the equations that move out (ids in ``moved``) that
    the rest of ``j`` reads (its equations or outputs), in order of first reading."""
    crossing, seen = [], set()
    reads = [v for e in j.eqns if id(e) not in moved for v in e.invars] + list(j.outvars)
    for v in reads:
        if type(v) is Var and v.id in defined and v.id not in seen:
            seen.add(v.id)
            crossing.append(v)
    return crossing


def _prune_inputs(closed: ClosedJaxpr, n_leading: int):
    """Drop the unused ones among the first ``n_leading`` inputs and the unused
    constants; returns ``(closed, kept indices among the first n_leading)``."""
    j = closed.jaxpr
    used = {v.id for e in j.eqns for v in e.invars if type(v) is Var}
    used |= {v.id for v in j.outvars if type(v) is Var}
    keep = [i for i in range(n_leading) if j.invars[i].id in used]
    cv, cs = [], []
    for v, c in zip(j.constvars, closed.consts):
        if v.id in used:
            cv.append(v)
            cs.append(c)
    invars = [j.invars[i] for i in keep] + list(j.invars[n_leading:])
    return ClosedJaxpr(Jaxpr(cv, invars, j.outvars, j.eqns), cs), keep


class _Hoister:
    """Emits hoisted equations into the enclosing program."""

    def __init__(self, constvars: list, consts: list):
        self.constvars, self.consts = constvars, consts
        self.eqns: list = []

    def hoist(self, closed: ClosedJaxpr, n_invariant: int, outer_invariant: list):
        """Hoist out of ``closed`` (first ``n_invariant`` inputs bound to the enclosing
        program's ``outer_invariant`` operands). Returns ``(program, operands)``: the
        loop program to use and its new invariant operands (in the enclosing program),
        or None if nothing moved."""
        split = split_invariants(closed, n_invariant)
        if split is None:
            return None
        hoisted, crossing, body = split
        j = closed.jaxpr
        sub = self._emit(closed, j.invars[:n_invariant], outer_invariant, hoisted)
        operands = [sub(v) for v in crossing] + list(outer_invariant)
        body, keep = _prune_inputs(body, len(operands))
        body.cache["optimized"] = body  # still optimized: equations only moved out
        return body, [operands[i] for i in keep]

    def inline(self, closed: ClosedJaxpr, operands: list) -> list:
        """Emit ``closed``'s equations reading ``operands``; returns its outputs' values
        in the enclosing program."""
        sub = self._emit(closed, closed.jaxpr.invars, operands, closed.jaxpr.eqns)
        return [sub(v) for v in closed.jaxpr.outvars]

    def _emit(self, closed: ClosedJaxpr, invars, operands, eqns):
        """Emit ``eqns`` of ``closed`` (its ``invars`` bound to ``operands``, its
        constants added to the enclosing program's) with fresh result variables; returns
        the map from ``closed``'s variables to the enclosing program's values."""
        rename: dict = {v.id: o for v, o in zip(invars, operands)}
        for v, c in zip(closed.jaxpr.constvars, closed.consts):
            nv = Var(v.aval)
            self.constvars.append(nv)
            self.consts.append(c)
            rename[v.id] = nv

        def sub(v):
            return v if type(v) is Literal else rename.get(v.id, v)

        for e in eqns:
            outs = [Var(o.aval) for o in e.outvars]
            self.eqns.append(Eqn(e.primitive, [sub(v) for v in e.invars], outs, e.params))
            rename.update((o.id, n) for o, n in zip(e.outvars, outs))
        return sub


def hoist_loop_invariants(jaxpr: Jaxpr, consts: list,
                          optimize: Callable[[ClosedJaxpr], ClosedJaxpr]
                          ) -> tuple[Jaxpr, list, bool]:
    """Hoist the invariant equations of the ``while`` and ``scan`` equations of
    ``jaxpr`` (module docstring). ``optimize(closed) -> closed`` optimizes (and caches)
    a held program. Returns the new program, its constants and whether it changed.
    The input program is not mutated."""
    if not any(e.primitive is while_p or e.primitive is scan_p for e in jaxpr.eqns):
        return jaxpr, consts, False
    h = _Hoister(list(jaxpr.constvars), list(consts))
    changed = False
    for e in jaxpr.eqns:
        p = e.primitive
        if p is while_p:
            new = _hoist_while(h, e, optimize)
        elif p is scan_p and e.params["length"] > 0:
            new = _hoist_scan(h, e, optimize)
        else:
            new = None
        if new is None:
            h.eqns.append(e)
        else:
            h.eqns.append(new)
            changed = True
    if not changed:
        return jaxpr, consts, False
    return Jaxpr(h.constvars, jaxpr.invars, jaxpr.outvars, h.eqns), h.consts, True


def _hoist_while(h: _Hoister, e, optimize):
    p = e.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cc, bc, init = e.invars[:nc], e.invars[nc:nc + nb], e.invars[nc + nb:]
    cond, body = optimize(p["cond_jaxpr"]), optimize(p["body_jaxpr"])
    new_c = h.hoist(cond, nc, list(cc))
    new_b = h.hoist(body, nb, list(bc))
    if new_c is None and new_b is None:
        return None
    cond, cc = new_c if new_c is not None else (p["cond_jaxpr"], cc)
    body, bc = new_b if new_b is not None else (p["body_jaxpr"], bc)
    params = dict(p, cond_jaxpr=cond, body_jaxpr=body, cond_nconsts=len(cc),
                  body_nconsts=len(bc))
    return Eqn(while_p, list(cc) + list(bc) + list(init), e.outvars, params)


def _hoist_scan(h: _Hoister, e, optimize):
    p = e.params
    nc = p["num_consts"]
    new = h.hoist(optimize(p["jaxpr"]), nc, list(e.invars[:nc]))
    if new is not None:
        body, consts = new
        p = dict(p, jaxpr=body, num_consts=len(consts))
        e = Eqn(scan_p, list(consts) + list(e.invars[nc:]), e.outvars, p)
    stacked = _hoist_scan_products(h, e)
    return stacked if stacked is not None else (e if new is not None else None)


# -- matrix products of the scanned slices, for all iterations at once ---------------------------

# the most memory the stacked results of hoisted products may take (bytes)
_STACKED_LIMIT = 1 << 28


def _hoist_scan_products(h: _Hoister, e):
    """Move the matrix products of a ``scan`` body that read only its constants and its
    per-iteration slices (``xs``), with the equations they need, out of the loop: they
    run once, batched over the iterations (``vmap`` of those equations: T matrix-vector
    products become one matrix product), and their results enter the loop as more
    ``xs``. An RNN's input projection ``U @ x_t`` is the typical case; XLA does not do
    this, and loops of small products are where a BLAS call per iteration costs most.
    Other xs-only work stays in the loop, where it fuses for free. None if nothing
    moved."""
    p = e.params
    closed = p["jaxpr"]
    j = closed.jaxpr
    nc, nk, length = p["num_consts"], p["num_carry"], p["length"]
    fixed = {v.id for v in j.constvars} | {v.id for v in j.invars[:nc]}
    xs_only = fixed | {v.id for v in j.invars[nc + nk:]}
    producer, candidates = {}, []
    for eqn in j.eqns:
        if eqn.outvars and all(type(v) is Literal or v.id in xs_only for v in eqn.invars) \
                and _hoistable(eqn):
            xs_only.update(v.id for v in eqn.outvars)
            candidates.append(eqn)
            for o in eqn.outvars:
                producer[o.id] = eqn
    products = [q for q in candidates if q.primitive is dot_general_p
                and any(type(v) is Var and v.id not in fixed for v in q.invars)]
    if not products:
        return None
    hoist: dict = {}  # id(eqn) -> eqn: the products and the xs-only work they read

    def need(eqn):
        if id(eqn) in hoist:
            return
        hoist[id(eqn)] = eqn
        for v in eqn.invars:
            if type(v) is Var and v.id in producer:
                need(producer[v.id])

    for q in products:
        need(q)
    hoisted = [q for q in candidates if id(q) in hoist]
    defined = {o.id for q in hoisted for o in q.outvars}
    crossing = _crossing(j, hoist, defined)
    size = sum(int(np.prod(v.aval.shape, dtype=np.int64)) * v.aval.dtype.itemsize
               for v in crossing)
    if not crossing or size * length > _STACKED_LIMIT:
        return None
    # the hoisted equations as a program of (consts, xs), batched over the iterations
    read = {v.id for q in hoisted for v in q.invars if type(v) is Var}
    ins = [v for v in j.invars[:nc] + j.invars[nc + nk:] if v.id in read]
    cvars = [(v, c) for v, c in zip(j.constvars, closed.consts) if v.id in read]
    part = ClosedJaxpr(Jaxpr([v for v, _ in cvars], ins, crossing, hoisted),
                       [c for _, c in cvars])
    dims = tuple(None if v.id in fixed else 0 for v in ins)
    batched, _ = batch_jaxpr(part, dims, length, (True,) * len(crossing))
    outer = {v.id: o for v, o in zip(j.invars, e.invars)}
    stacked = h.inline(batched, [outer[v.id] for v in ins])
    # the loop reads the stacked results' slices through fresh inputs after its xs
    fresh = {v.id: Var(v.aval) for v in crossing}

    def sub(v):
        return v if type(v) is Literal else fresh.get(v.id, v)

    eqns = [Eqn(q.primitive, [sub(v) for v in q.invars], q.outvars, q.params)
            for q in j.eqns if id(q) not in hoist]
    body = ClosedJaxpr(Jaxpr(j.constvars, list(j.invars) + [fresh[v.id] for v in crossing],
                             [sub(v) for v in j.outvars], eqns), closed.consts)
    body.cache["optimized"] = body  # still optimized: equations only moved out
    return Eqn(scan_p, list(e.invars) + stacked, e.outvars, dict(p, jaxpr=body))
