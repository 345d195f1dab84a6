"""Lowerings of the linear-algebra primitives (``xform.lax.linalg``): each stack of
matrices is viewed as a C-contiguous ``(batch, m, n)`` array and handed to a helper of
``linalg_runtime.py``, which calls LAPACK inside the compiled kernel (no Python)."""
from __future__ import annotations

import numpy as np

from ...lax import linalg as la
from .rules import rule


def _batch(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _stack(em, name, aval, inner: int = 2) -> str:
    """``name`` as a C-contiguous array with one leading batch dimension."""
    c = em.contiguous(name, aval)
    shape = (_batch(aval.shape[: aval.ndim - inner]),) + tuple(aval.shape[aval.ndim - inner:])
    t = em.fresh("v")
    em.line(f"{t} = {em.reshape(c, shape)}")
    return em.mark_contig(t)


def _unstack(em, name, aval) -> str:
    t = em.fresh("v")
    em.line(f"{t} = {em.reshape(name, aval.shape)}")
    return em.mark_contig(t)


def _call(em, eqn, helper: str, args, n_results: int):
    """``r0, r1, ... = helper(args)``; returns the result names."""
    outs = [em.fresh("r") for _ in range(n_results)]
    target = outs[0] if n_results == 1 else ", ".join(outs)
    em.line(f"{target} = {em.use_linalg(helper)}({', '.join(args)})")
    return outs


def _flag(v) -> str:
    # np.bool_(...) / np.int64(...) are typed bool / int64, not as literals: one compiled
    # helper per dtype serves every flag combination (a literal True would compile and
    # cache a specialization per combination)
    return "np.bool_(True)" if v else "np.bool_(False)"


@rule(la.cholesky_p)
def _cholesky(em, eqn, ins):
    a = eqn.invars[0].aval
    (r,) = _call(em, eqn, "cholesky_lower", [_stack(em, ins[0], a),
                                            _flag(eqn.params["symmetrize_input"])], 1)
    return [_unstack(em, r, eqn.outvars[0].aval)]


@rule(la.triangular_solve_p)
def _triangular_solve(em, eqn, ins):
    p = eqn.params
    a, b = (_stack(em, x, v.aval) for x, v in zip(ins, eqn.invars))
    flags = [_flag(p[k]) for k in ("left_side", "lower", "transpose_a", "conjugate_a",
                                   "unit_diagonal")]
    (r,) = _call(em, eqn, "triangular_solve", [a, b] + flags, 1)
    return [_unstack(em, r, eqn.outvars[0].aval)]


@rule(la.lu_pivots_to_permutation_p)
def _pivots_to_permutation(em, eqn, ins):
    piv = _stack(em, ins[0], eqn.invars[0].aval, inner=1)
    (r,) = _call(em, eqn, "pivots_to_permutation",
                 [piv, f"np.int64({int(eqn.params['permutation_size'])})"], 1)
    return [_unstack(em, r, eqn.outvars[0].aval)]


@rule(la.lu_p)
def _lu(em, eqn, ins):
    outs = _call(em, eqn, "lu", [_stack(em, ins[0], eqn.invars[0].aval)], 3)
    return [_unstack(em, o, v.aval) for o, v in zip(outs, eqn.outvars)]


@rule(la.qr_p)
def _qr(em, eqn, ins):
    p = eqn.params
    outs = _call(em, eqn, "qr", [_stack(em, ins[0], eqn.invars[0].aval),
                                 _flag(p["full_matrices"]), _flag(p["pivoting"])], 3)
    return [_unstack(em, o, v.aval) for o, v in zip(outs, eqn.outvars)]


@rule(la.geqrf_p)
def _geqrf(em, eqn, ins):
    outs = _call(em, eqn, "geqrf", [_stack(em, ins[0], eqn.invars[0].aval),
                                    _flag(eqn.params["pivoting"])], 3)
    return [_unstack(em, o, v.aval) for o, v in zip(outs, eqn.outvars)]


@rule(la.eigh_p)
def _eigh(em, eqn, ins):
    outs = _call(em, eqn, "eigh", [_stack(em, ins[0], eqn.invars[0].aval),
                                   _flag(eqn.params["lower"])], 2)
    return [_unstack(em, o, v.aval) for o, v in zip(outs, eqn.outvars)]


@rule(la.svd_p)
def _svd(em, eqn, ins):
    p = eqn.params
    outs = _call(em, eqn, "svd", [_stack(em, ins[0], eqn.invars[0].aval),
                                  _flag(p["full_matrices"]), _flag(p["compute_uv"])], 3)
    outs = outs if p["compute_uv"] else outs[:1]
    return [_unstack(em, o, v.aval) for o, v in zip(outs, eqn.outvars)]


@rule(la.eig_p)
def _eig(em, eqn, ins):
    p = eqn.params
    left, right = p["compute_left_eigenvectors"], p["compute_right_eigenvectors"]
    w, vl, vr = _call(em, eqn, "eig", [_stack(em, ins[0], eqn.invars[0].aval), _flag(left),
                                       _flag(right)], 3)
    outs = [w] + ([vl] if left else []) + ([vr] if right else [])
    return [_unstack(em, o, v.aval) for o, v in zip(outs, eqn.outvars)]
