"""Rewrites of ``dot_general`` equations before code generation.

Reverse-mode programs feed matrix products with transposes and sum products that share
an operand; both cost memory traffic or a whole extra product that BLAS can avoid:

- **transposed operands**: ``dot_general(x, transpose(y, perm))`` reads ``y`` itself,
  with the dimension numbers mapped through ``perm`` (when the free dims keep their
  order, so the result is unchanged). BLAS takes a transposed 2-d operand as a flag, so
  the transpose is never materialized (its other uses, if any, still are).
- **sums of products sharing an operand**: ``add(dot_general(p, x), dot_general(q, x))``
  with the same contraction of ``x`` becomes ``dot_general(p + transpose(q), x)``: one
  product instead of two (e.g. the gradient of ``F @ F.T`` is ``(G + G.T) @ F``). Only
  the summation order changes, as between any two matrix-product implementations.

``rewrite_dots(jaxpr) -> (jaxpr, changed)``; the input program is never mutated.
"""
from __future__ import annotations

from ...core.abstract import ShapedArray
from ...core.ir import Eqn, Jaxpr, Var, use_counts
from ...lax.dot import dot_general_p
from ...lax.elementwise import add_any_p, add_p
from ...lax.structural import transpose_p


def _free(ndim: int, contract, batch) -> list:
    return [d for d in range(ndim) if d not in contract and d not in batch]


def _fold_transpose(dims, side: int, operand: Var, perm) -> tuple | None:
    """The dimension numbers of a product reading ``transpose(operand, perm)`` through
    ``operand`` itself (``side`` 0: lhs, 1: rhs), or None when the result would change
    (the free dims must keep their order)."""
    (lc, rc), (lb, rb) = dims
    contract, batch = (lc, lb) if side == 0 else (rc, rb)
    free = _free(len(perm), contract, batch)
    mapped = [perm[d] for d in free]
    if mapped != sorted(mapped):
        return None
    nc = tuple(perm[d] for d in contract)
    nb = tuple(perm[d] for d in batch)
    if side == 0:
        return ((nc, tuple(rc)), (nb, tuple(rb)))
    return ((tuple(lc), nc), (tuple(lb), nb))


def fold_transposes(jaxpr: Jaxpr) -> tuple[Jaxpr, bool]:
    """``dot_general`` operands that are transposes read the transposed value itself."""
    perm_of: dict = {}
    eqns, changed = [], False
    for e in jaxpr.eqns:
        if e.primitive is transpose_p and type(e.invars[0]) is Var:
            perm_of[e.outvars[0].id] = (e.invars[0], tuple(e.params["permutation"]))
        elif e.primitive is dot_general_p:
            ins = list(e.invars)
            dims = e.params["dimension_numbers"]
            for side in (0, 1):
                v = ins[side]
                if type(v) is not Var or v.id not in perm_of:
                    continue
                src, perm = perm_of[v.id]
                new = _fold_transpose(dims, side, src, perm)
                if new is not None:
                    ins[side], dims = src, new
            if ins != e.invars:
                e = Eqn(e.primitive, ins, e.outvars, dict(e.params, dimension_numbers=dims))
                changed = True
        eqns.append(e)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns), changed


def _merge_perm(d1: Eqn, d2: Eqn, shared: int) -> tuple | None:
    """For two products sharing operand ``shared`` (0: lhs, 1: rhs) at the same
    position: the permutation taking the other operand of ``d2`` to the layout of the
    other operand of ``d1``, or None if the two products do not line up."""
    other = 1 - shared
    (lc1, rc1), (lb1, rb1) = d1.params["dimension_numbers"]
    (lc2, rc2), (lb2, rb2) = d2.params["dimension_numbers"]
    c1, c2 = (lc1, rc1), (lc2, rc2)
    b1, b2 = (lb1, rb1), (lb2, rb2)
    # the shared operand: the same contracting dims (paired with the other operand's
    # by position, matched here as sets) and the same batch dims in the same order
    sc1, sc2 = tuple(c1[shared]), tuple(c2[shared])
    sb1, sb2 = tuple(b1[shared]), tuple(b2[shared])
    if sorted(sc1) != sorted(sc2) or sb1 != sb2:
        return None
    p, q = d1.invars[other], d2.invars[other]
    if q.aval.ndim != p.aval.ndim:
        return None
    n = p.aval.ndim
    perm = [None] * n
    for d_shared, d_p in zip(sc1, c1[other]):
        perm[d_p] = c2[other][sc2.index(d_shared)]
    for d_shared, d_p in zip(sb1, b1[other]):
        perm[d_p] = b2[other][sb2.index(d_shared)]
    fp = _free(n, c1[other], b1[other])
    fq = _free(n, c2[other], b2[other])
    if len(fp) != len(fq):
        return None
    for a, b in zip(fp, fq):
        perm[a] = b
    if sorted(perm) != list(range(n)):
        return None
    if tuple(q.aval.shape[d] for d in perm) != p.aval.shape:
        return None
    return tuple(perm)


def merge_dot_sums(jaxpr: Jaxpr) -> tuple[Jaxpr, bool]:
    """``add(dot_general(p, x), dot_general(q, x))`` -> ``dot_general(p + q', x)``."""
    counts = use_counts(jaxpr)
    dot_of = {e.outvars[0].id: e for e in jaxpr.eqns if e.primitive is dot_general_p}
    replace: dict = {}  # id(add eqn) -> new eqns
    drop: set = set()   # ids of the merged dot eqns
    for e in jaxpr.eqns:
        if e.primitive not in (add_p, add_any_p) or len(e.invars) != 2:
            continue
        a, b = e.invars
        if type(a) is not Var or type(b) is not Var or a.id == b.id:
            continue
        d1, d2 = dot_of.get(a.id), dot_of.get(b.id)
        if d1 is None or d2 is None or id(d1) in drop or id(d2) in drop:
            continue
        if counts.get(a.id) != 1 or counts.get(b.id) != 1:
            continue
        if (d1.params.get("preferred_element_type") != d2.params.get("preferred_element_type")
                or a.aval.shape != b.aval.shape or a.aval.dtype != b.aval.dtype
                or e.outvars[0].aval.shape != a.aval.shape
                or e.outvars[0].aval.dtype != a.aval.dtype):
            continue
        for shared in (1, 0):
            x1, x2 = d1.invars[shared], d2.invars[shared]
            if type(x1) is not Var or type(x2) is not Var or x1.id != x2.id:
                continue
            p, q = d1.invars[1 - shared], d2.invars[1 - shared]
            # one dtype throughout: p + q is formed in it (no narrower operand sums)
            if (type(p) is not Var or type(q) is not Var
                    or not p.aval.dtype == q.aval.dtype == x1.aval.dtype == a.aval.dtype):
                continue
            perm = _merge_perm(d1, d2, shared)
            if perm is None:
                continue
            new = []
            if perm != tuple(range(len(perm))):
                qt = Var(ShapedArray(p.aval.shape, q.aval.dtype))
                new.append(Eqn(transpose_p, [q], [qt], {"permutation": perm}))
                q = qt
            s = Var(ShapedArray(p.aval.shape, p.aval.dtype))
            new.append(Eqn(add_any_p, [p, q], [s], {}))
            ins = [s, x1] if shared == 1 else [x1, s]
            new.append(Eqn(dot_general_p, ins, e.outvars, d1.params))
            replace[id(e)] = new
            drop.update((id(d1), id(d2)))
            break
    if not replace:
        return jaxpr, False
    eqns = []
    for e in jaxpr.eqns:
        if id(e) in drop:
            continue
        eqns.extend(replace.get(id(e), [e]))
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns), True


def rewrite_dots(jaxpr: Jaxpr) -> tuple[Jaxpr, bool]:
    """Both rewrites (see the module docstring); returns ``(jaxpr, changed)``.

    >>> import numpy as np, xform
    >>> from xform.interpreters.transforms import dce_jaxpr
    >>> closed = xform.make_jaxpr(lambda g, f: g @ f + g.T @ f)(np.ones((3, 3)), np.ones((3, 5)))
    >>> j, changed = rewrite_dots(closed.jaxpr)
    >>> [e.primitive.name for e in dce_jaxpr(j).eqns]
    ['transpose', 'add_any', 'dot_general']
    """
    jaxpr, c1 = fold_transposes(jaxpr)
    jaxpr, c2 = merge_dot_sums(jaxpr)
    return jaxpr, c1 or c2
