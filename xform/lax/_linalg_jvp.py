"""JVP rules of the linear-algebra primitives, from the matrix-calculus literature.

Every rule is written with lax operations (and the linalg primitives themselves), so
its own derivative comes from those operations' rules: derivatives of every order.
Conventions where the derivative does not exist (repeated eigenvalues, zero singular
values, singular matrices) are documented in ``docs/autodiff.md`` ("Linear algebra"):

- eigh / eig / svd: pairs of eigenvalues (singular values) closer than
  ``n * eps * max|w|`` are treated as equal; their coupling term, ``1 / (w_j - w_i)``,
  is zero. That is exact for symmetric functions of the eigenvalues and for projectors
  onto whole repeated eigenspaces, not for functions that tell the repeated
  eigenvalues' vectors apart (no derivative exists there);
- svd: singular values at most ``max(m, n) * eps * max(s)`` count as zero, and the
  parts of the derivative of ``u`` and ``v`` that divide by them are zero;
- eigenvector gauges: eigh's ``v`` and svd's ``u``, ``v`` move orthogonally to
  themselves (``Re(v_j^H dv_j) = 0``; for complex values also ``Im = 0``, putting the
  phase of the diagonal term of the svd into ``u``); eig's eigenvectors follow LAPACK's
  normalization (unit norm, largest component real), so they are the derivatives of
  the values ``eig`` returns.
"""
from __future__ import annotations

import numpy as np

from ..interpreters.jvp import Zero, defjvp
from . import _matrix as M
from .elementwise import abs as _abs
from .elementwise import add, complex as _complex, conj, div, imag, le, mul, neg, real, select, sub
from .indexing import take_along_axis
from .linalg import (cholesky_p, eig_p, eigh_p, lu_p, lu_solve, qr_p, svd_p, triangular_solve_p)
from .reductions import argmax, reduce_max
from .structural import broadcast_in_dim, reduce_sum, slice_in_dim

_TS = dict(transpose_a=False, conjugate_a=False, unit_diagonal=False)


def _cols(x, start, stop):
    return slice_in_dim(x, start, stop, axis=M.ndim(x) - 1)


def _rows(x, start, stop):
    return slice_in_dim(x, start, stop, axis=M.ndim(x) - 2)


def _batch(x):
    return M.shape(x)[:-2]


def _scalar(x, value):
    return np.asarray(value, M.dtype(x))[()]


# -- cholesky: dL = L Phi(L^-1 dA L^-H), Phi = lower triangle with half the diagonal ----------

def _cholesky_jvp(primals, tangents, *, symmetrize_input):
    (x,), (g,) = primals, tangents
    L = cholesky_p.bind(x, symmetrize_input=symmetrize_input)
    if symmetrize_input:  # the factor of (x + x^H) / 2
        g = mul(add(g, M.mH(g)), 0.5)
    else:  # the primitive reads the lower triangle only
        g = M.from_triangle(g, lower=True)
    t = triangular_solve_p.bind(L, g, left_side=True, lower=True, **_TS)
    X = triangular_solve_p.bind(L, t, left_side=False, lower=True, transpose_a=True,
                                conjugate_a=M.is_complex(L), unit_diagonal=False)
    phi = add(M.tril(X, -1), mul(M.keep_diag(X), 0.5))
    return L, M.mm(L, phi)


cholesky_p.jvp = _cholesky_jvp


# -- triangular_solve: linear in b; in a, d(op(a)^-1) = -op(a)^-1 op(da) op(a)^-1 ----------

def _ts_jvp_a(g, ans, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    k = 1 if unit_diagonal else 0
    g = M.tril(g, -k) if lower else M.triu(g, k)  # the entries the solve reads
    if conjugate_a and M.is_complex(g):
        g = conj(g)
    if transpose_a:
        g = M.mT(g)
    rhs = M.mm(g, ans) if left_side else M.mm(ans, g)
    return neg(triangular_solve_p.bind(a, rhs, left_side=left_side, lower=lower,
                                       transpose_a=transpose_a, conjugate_a=conjugate_a,
                                       unit_diagonal=unit_diagonal))


defjvp(triangular_solve_p, _ts_jvp_a,
       lambda g, ans, a, b, **params: triangular_solve_p.bind(a, g, **params))


# -- lu: with P A = L U, L^-1 P dA U^-1 = L^-1 dL + dU U^-1 (strictly lower + upper) --------

def _lu_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    lu_, piv, perm = outs = lu_p.bind(x)
    m, n = M.shape(x)[-2:]
    k = min(m, n)
    nd, dt, batch = M.ndim(x), M.dtype(x), _batch(x)
    rows = broadcast_in_dim(perm, M.shape(perm) + (1,), tuple(range(nd - 1)))
    gp = take_along_axis(g, rows, axis=nd - 2)
    # square unit-lower L (m x m) and upper U (n x n), completed by the identity
    low = M.tril(_cols(lu_, 0, k), -1)
    if m > k:
        low = M.concat([low, M.zeros(batch + (m, m - k), dt)], -1)
    L = add(low, M.eye(m, dt))
    U = M.triu(_rows(lu_, 0, k))
    if n > k:
        rest = broadcast_in_dim(_rows(M.eye(n, dt), k, n), batch + (n - k, n), (nd - 2, nd - 1))
        U = M.concat([U, rest], -2)
    la = triangular_solve_p.bind(L, gp, left_side=True, lower=True, transpose_a=False,
                                 conjugate_a=False, unit_diagonal=True)
    lau = triangular_solve_p.bind(U, la, left_side=False, lower=False, **_TS)
    dlu = add(M.mm(L, M.tril(lau, -1)), M.mm(M.triu(lau), U))
    return outs, [dlu, Zero.like(piv), Zero.like(perm)]


lu_p.jvp = _lu_jvp


# -- qr (Walter & Lehmann; Townsend's note): tall or square, then the wide and complete cases

def _qr_tall(q, r, g):
    """dq, dr of a tall or square reduced QR (q m x n, r n x n)."""
    dx_rinv = triangular_solve_p.bind(r, g, left_side=False, lower=False, **_TS)
    qt = M.mm(M.mH(q), dx_rinv)
    low = M.tril(qt, -1)
    omega = sub(low, M.mH(low))  # skew-Hermitian
    if M.is_complex(qt):  # the imaginary diagonal keeps r's diagonal real
        omega = add(omega, M.keep_diag(sub(qt, M.as_dtype(real(qt), M.dtype(qt)))))
    dq = add(M.mm(q, sub(omega, qt)), dx_rinv)
    dr = M.mm(sub(qt, omega), r)
    return dq, dr


def complete_basis_tangent(q, dq, q_perp):
    """The tangent of the columns completing ``q`` to a unitary matrix when ``q`` moves by
    ``dq``: the completion turns only as much as orthogonality to ``q`` needs
    (``dq_perp = -q dq^H q_perp``; no rotation inside the completion)."""
    return neg(M.mm(q, M.mm(M.mH(dq), q_perp)))


def _permute_columns(x, p):
    nd = M.ndim(x)
    idx = broadcast_in_dim(p, M.shape(x)[:-2] + (1, M.shape(x)[-1]),
                           tuple(range(nd - 2)) + (nd - 1,))
    return take_along_axis(x, idx, axis=nd - 1)


def _qr_jvp(primals, tangents, *, full_matrices, pivoting=False):
    (x,), (g,) = primals, tangents
    outs = qr_p.bind(x, full_matrices=full_matrices, pivoting=pivoting)
    q, r = outs[:2]
    extra = []
    if pivoting:  # x[:, p] = q r with p locally constant: the rules below on x[:, p]
        x, g = _permute_columns(x, outs[2]), _permute_columns(g, outs[2])
        extra = [Zero.like(outs[2])]
    m, n = M.shape(x)[-2:]
    if m >= n:
        q1, r1 = _cols(q, 0, n), _rows(r, 0, n)
        dq, dr = _qr_tall(q1, r1, g)
        if full_matrices and m > n:
            dq = M.concat([dq, complete_basis_tangent(q1, dq, _cols(q, n, m))], -1)
            dr = M.concat([dr, M.zeros(_batch(x) + (m - n, n), M.dtype(x))], -2)
        return outs, [dq, dr] + extra
    # wide: x = [x1 x2] with x1 square, r = [r1 q^H x2]
    dq, dr1 = _qr_tall(q, _cols(r, 0, m), _cols(g, 0, m))
    dr2 = add(M.mm(M.mH(dq), _cols(x, m, n)), M.mm(M.mH(q), _cols(g, m, n)))
    return outs, [dq, M.concat([dr1, dr2], -1)] + extra


qr_p.jvp = _qr_jvp


# -- coupling of eigenvalue pairs -----------------------------------------------------------

def _inverse_gaps(w, diff=None, size=None):
    """``F[..., i, j] = 1 / diff_ij`` (default ``w_j - w_i``) where ``|w_j - w_i|`` exceeds
    ``size * eps * max|w|``, else 0 (the diagonal, and degenerate pairs)."""
    gap = sub(M.row(w), M.col(w))
    if diff is None:
        diff = gap
    n = M.shape(w)[-1]
    rdt = M.real_dtype(M.dtype(w))
    eps = float(np.finfo(rdt).eps) * (size or n)
    nd = M.ndim(w)
    top = reduce_max(_abs(w), (nd - 1,))
    tol = broadcast_in_dim(mul(top, eps), M.shape(top) + (1, 1), tuple(range(nd - 1)))
    close = le(_abs(gap), tol)
    safe = select(close, _scalar(diff, 1), diff)
    return select(close, _scalar(diff, 0), div(_scalar(diff, 1), safe))


# -- eigh: dw = diag(V^H dA V), dV = V (F o V^H dA V) ----------------------------------------

def _eigh_jvp(primals, tangents, *, lower):
    (x,), (g,) = primals, tangents
    v, w = eigh_p.bind(x, lower=lower)
    g = M.from_triangle(g, lower)
    vgv = M.mm(M.mH(v), M.mm(g, v))
    dw = M.diag_part(vgv)
    if M.is_complex(dw):
        dw = real(dw)
    F = M.as_dtype(_inverse_gaps(w), M.dtype(v))
    return [v, w], [M.mm(v, mul(F, vgv)), dw]


eigh_p.jvp = _eigh_jvp


# -- svd (Townsend, "Differentiating the singular value decomposition") ----------------------

def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    (x,), (g,) = primals, tangents
    m, n = M.shape(x)[-2:]
    k = min(m, n)
    dt = M.dtype(x)
    full = compute_uv and full_matrices and m != n
    s, U, Vh = svd_p.bind(x, full_matrices=full, compute_uv=True)
    outs = [s, U, Vh] if compute_uv else [s]
    u, vh = (_cols(U, 0, k), _rows(Vh, 0, k)) if full else (U, Vh)
    v = M.mH(vh)
    gv = M.mm(g, v)
    P = M.mm(M.mH(u), gv)  # U^H dA V
    ds = M.diag_part(P)
    if M.is_complex(ds):
        ds = real(ds)
    if not compute_uv:
        return outs, [ds]
    srow = M.row(s)
    F = M.as_dtype(_inverse_gaps(s, mul(sub(srow, M.col(s)), add(srow, M.col(s))), max(m, n)),
                   dt)
    nd = M.ndim(s)
    top = reduce_max(s, (nd - 1,))
    tiny = le(s, broadcast_in_dim(mul(top, float(np.finfo(M.real_dtype(dt)).eps) * max(m, n)),
                                  M.shape(s), tuple(range(nd - 1))))
    sinv = select(tiny, _scalar(s, 0), div(_scalar(s, 1), select(tiny, _scalar(s, 1), s)))
    sinv_row = M.as_dtype(M.row(sinv), dt)
    s_row, s_col = M.as_dtype(srow, dt), M.as_dtype(M.col(s), dt)
    PS, SP = mul(P, s_row), mul(s_col, P)
    du_in = mul(F, add(PS, M.mH(PS)))
    if M.is_complex(P):  # the phase of each singular pair goes to u
        du_in = add(du_in, mul(M.keep_diag(mul(sub(P, M.mH(P)), 0.5)), sinv_row))
    du = M.mm(u, du_in)
    dv = M.mm(v, mul(F, add(SP, M.mH(SP))))
    if m > k:  # the part of dA V outside u's span
        du = add(du, mul(sub(gv, M.mm(u, P)), sinv_row))
    if n > k:
        du_h = M.mm(M.mH(g), u)
        dv = add(dv, mul(sub(du_h, M.mm(v, M.mH(P))), sinv_row))
    if full:
        if m > k:
            du = M.concat([du, complete_basis_tangent(u, du, _cols(U, k, m))], -1)
        if n > k:
            dv = M.concat([dv, complete_basis_tangent(v, dv, M.mH(_rows(Vh, k, n)))], -1)
    return outs, [ds, du, M.mH(dv)]


svd_p.jvp = _svd_jvp


# -- eig: dw = diag(V^-1 dA V); eigenvectors in LAPACK's gauge --------------------------------

def _lapack_gauge(v, dv):
    """Project a tangent of eigenvectors onto LAPACK's normalization: unit norm
    (``Re(v_j^H dv_j) = 0``) and the largest component of each ``v_j`` stays real."""
    nd = M.ndim(v)
    c = reduce_sum(mul(conj(v), dv), (nd - 2,))
    dv = sub(dv, mul(v, M.as_dtype(M.row(real(c)), M.dtype(v))))
    p = argmax(_abs(v), nd - 2, index_dtype=np.int64)
    pidx = broadcast_in_dim(p, M.shape(p)[:-1] + (1, M.shape(p)[-1]),
                            tuple(range(nd - 2)) + (nd - 1,))
    vp, dvp = take_along_axis(v, pidx, nd - 2), take_along_axis(dv, pidx, nd - 2)
    alpha = neg(div(imag(dvp), real(vp)))
    return add(dv, mul(v, _complex(M.zeros(M.shape(alpha), M.dtype(alpha)), alpha)))


def _eig_jvp(primals, tangents, *, compute_left_eigenvectors, compute_right_eigenvectors):
    (x,), (g,) = primals, tangents
    left, right = compute_left_eigenvectors, compute_right_eigenvectors
    full = eig_p.bind(x, compute_left_eigenvectors=left, compute_right_eigenvectors=True)
    w, vr = full[0], full[-1]
    outs = full if right else full[:-1]
    cdt = M.dtype(w)
    lu_v, _, perm = lu_p.bind(vr)
    vgv = lu_solve(lu_v, perm, M.mm(M.as_dtype(g, cdt), vr))  # V^-1 dA V
    tans = [M.diag_part(vgv)]
    if not (left or right):
        return outs, tans
    dv = M.mm(vr, mul(_inverse_gaps(w), vgv))
    if left:
        # left eigenvectors are the columns of W = V^-H, rescaled: dW = -W dV^H W
        n, nd = M.shape(x)[-1], M.ndim(x)
        eye = broadcast_in_dim(M.eye(n, cdt), M.shape(vr), (nd - 2, nd - 1))
        W = M.mH(lu_solve(lu_v, perm, eye))
        dW = neg(M.mm(W, M.mm(M.mH(dv), W)))
        vl = full[1]
        scale = div(M.diag_part(M.mm(M.mH(W), vl)), M.diag_part(M.mm(M.mH(W), W)))
        tans.append(_lapack_gauge(vl, mul(dW, M.row(scale))))
    if right:
        tans.append(_lapack_gauge(vr, dv))
    return outs, tans


eig_p.jvp = _eig_jvp
