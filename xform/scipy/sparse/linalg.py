"""Krylov solvers for ``A x = b``: ``cg``, ``gmres``, ``bicgstab`` (JAX's
``jax.scipy.sparse.linalg``).

``A`` is a function computing ``A @ x`` (or a square 2-D array), ``b`` an array or a
pytree of arrays. Each solver is a ``lax.while_loop`` wrapped in
``lax.custom_linear_solve``: derivatives are another solve (the implicit function
theorem), never a differentiation through the iterations, and under ``jit`` the
iteration is one loop of the compiled kernel. Tolerances follow scipy's non-legacy
rule, ``norm(residual) <= max(tol * norm(b), atol)``.
"""
from __future__ import annotations

import functools
import operator
from typing import Any, Callable

import numpy as np

from ... import lax
from ... import numpy as xnp
from ...core.pytree import tree_leaves, tree_map, tree_structure
from ...core.trace import Tracer, get_aval

__all__ = ["cg", "gmres", "bicgstab"]


# -- pytree vector arithmetic ---------------------------------------------------------------


def _vdot_real_part(x, y):
    """The real part of ``vdot(x, y)``: the inner products below are of the form
    ``z^H M z`` with Hermitian ``M``, real by construction."""
    result = xnp.vdot(xnp.real(x), xnp.real(y))
    if xnp.iscomplexobj(x) or xnp.iscomplexobj(y):
        result = result + xnp.vdot(xnp.imag(x), xnp.imag(y))
    return result


def _vdot_real_tree(x, y):
    return sum(tree_leaves(tree_map(_vdot_real_part, x, y)))


def _vdot_tree(x, y):
    return sum(tree_leaves(tree_map(xnp.vdot, x, y)))


def _norm(x):
    xs = tree_leaves(x)
    return xnp.sqrt(sum(_vdot_real_part(a, a) for a in xs))


def _mul(scalar, tree):
    return tree_map(lambda leaf: scalar * leaf, tree)


def _add(a, b):
    return tree_map(operator.add, a, b)


def _sub(a, b):
    return tree_map(operator.sub, a, b)


def _select(pred, a, b):
    return tree_map(lambda x, y: xnp.where(pred, x, y), a, b)


def _identity(x):
    return x


# Dynamic (traced-index) reads and writes of one position along an axis: a dynamic
# slice, much lighter under jit than the gather/scatter of ``x[k]``/``x.at[k].set``.
def _get(x, k, axis=0):
    return lax.dynamic_index_in_dim(x, k, axis % x.ndim, keepdims=False)


def _set(x, k, v, axis=0):
    return lax.dynamic_update_index_in_dim(x, xnp.asarray(v).astype(x.dtype), k, axis % x.ndim)


def _result_dtype(tree):
    return xnp.result_type(*tree_leaves(tree))


def _normalize_matvec(f, name: str, where: str, size: int) -> Callable:
    """``A`` (or ``M``) as a function: callables as they are, square matrices (of the
    size of ``b``) as ``x -> A @ x``."""
    if callable(f):
        return f
    if isinstance(f, (np.ndarray, Tracer)) or hasattr(f, "__matmul__"):
        shape = get_aval(f, where).shape if not hasattr(f, "shape") else f.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"{where}: the linear operator {name} must be a square matrix, but "
                             f"has shape {tuple(shape)}")
        if shape[0] != size:
            raise ValueError(f"{where}: the matrix {name} is {shape[0]}x{shape[1]} but b has "
                             f"{size} entries")
        return functools.partial(xnp.dot, f)
    raise TypeError(f"{where}: the linear operator {name} must be a function or a square "
                    f"2-D array, got {type(f).__name__}")


def _shapes(tree):
    return [tuple(get_aval(x).shape) for x in tree_leaves(tree)]


def _prepare(where, A, b, x0, M):
    if x0 is None:
        x0 = tree_map(xnp.zeros_like, b)
    leaves = tree_leaves(b)
    if not leaves:
        raise ValueError(f"{where}: b must hold at least one array")
    for x in leaves:
        if get_aval(x, where).dtype.kind not in "fc":
            raise TypeError(f"{where}: b must hold floating or complex arrays, got dtype "
                            f"{get_aval(x).dtype}; convert it with .astype(float)")
    if tree_structure(x0) != tree_structure(b):
        raise ValueError(f"{where}: x0 and b must have matching tree structure: "
                         f"{tree_structure(x0)} vs {tree_structure(b)}")
    if _shapes(x0) != _shapes(b):
        raise ValueError(f"{where}: arrays in x0 and b must have matching shapes: "
                         f"{_shapes(x0)} vs {_shapes(b)}")
    size = sum(int(np.prod(get_aval(x).shape)) for x in leaves)
    A = _normalize_matvec(A, "A", where, size)
    M = _identity if M is None else _normalize_matvec(M, "M", where, size)
    return A, b, x0, M, size


def _check_iterations(where: str, **counts) -> None:
    for name, v in counts.items():
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{where}: {name} must be a non-negative int or None, got {v!r}")


# -- conjugate gradients ------------------------------------------------------------------------


def _cg_solve(A, b, x0, *, maxiter, tol, atol, M):
    bs = _vdot_real_tree(b, b)
    atol2 = xnp.maximum(tol ** 2 * bs, atol ** 2)

    def cond_fun(value):
        _, r, gamma, _, k = value
        rs = xnp.real(gamma) if M is _identity else _vdot_real_tree(r, r)
        # k < 0 signals a breakdown (a zero curvature p^T A p) found in body_fun
        return (rs > atol2) & (k < maxiter) & (k >= 0)

    def body_fun(value):
        x, r, gamma, p, k = value
        Ap = A(p)
        pAp = _vdot_real_tree(p, Ap).astype(dtype)
        breakdown = (xnp.real(pAp) <= 0) | (xnp.real(gamma) <= 0)
        safe_pap = xnp.where(breakdown, xnp.ones_like(pAp), pAp)
        alpha = gamma / safe_pap
        x_ = _add(x, _mul(alpha, p))
        r_ = _sub(r, _mul(alpha, Ap))
        z_ = M(r_)
        gamma_ = _vdot_real_tree(r_, z_).astype(dtype)
        beta_ = gamma_ / xnp.where(breakdown, xnp.ones_like(gamma), gamma)
        p_ = _add(z_, _mul(beta_, p))
        return (_select(breakdown, x, x_), _select(breakdown, r, r_),
                xnp.where(breakdown, gamma, gamma_), _select(breakdown, p, p_),
                xnp.where(breakdown, -1, k + 1))

    r0 = _sub(b, A(x0))
    p0 = z0 = M(r0)
    dtype = _result_dtype(p0)
    gamma0 = _vdot_real_tree(r0, z0).astype(dtype)
    x_final, *_ = lax.while_loop(cond_fun, body_fun, (x0, r0, gamma0, p0, 0))
    return x_final


# -- BiCGSTAB ------------------------------------------------------------------------------------


def _bicgstab_solve(A, b, x0, *, maxiter, tol, atol, M):
    bs = _vdot_real_tree(b, b)
    atol2 = xnp.maximum(tol ** 2 * bs, atol ** 2)

    def cond_fun(value):
        _, r, *_, k = value
        # k < 0 signals a breakdown (rho, alpha or omega became 0)
        return (_vdot_real_tree(r, r) > atol2) & (k < maxiter) & (k >= 0)

    def body_fun(value):
        x, r, rhat, alpha, omega, rho, p, q, k = value
        rho_ = _vdot_tree(rhat, r)
        beta = rho_ / rho * alpha / omega
        p_ = _add(r, _mul(beta, _sub(p, _mul(omega, q))))
        phat = M(p_)
        q_ = A(phat)
        alpha_ = rho_ / _vdot_tree(rhat, q_)
        s = _sub(r, _mul(alpha_, q_))
        exit_early = _vdot_real_tree(s, s) < atol2
        shat = M(s)
        t = A(shat)
        omega_ = _vdot_tree(t, s) / _vdot_tree(t, t)
        x_ = _select(exit_early, _add(x, _mul(alpha_, phat)),
                     _add(x, _add(_mul(alpha_, phat), _mul(omega_, shat))))
        r_ = _select(exit_early, s, _sub(s, _mul(omega_, t)))
        k_ = xnp.where((omega_ == 0) | (alpha_ == 0), -11, k + 1)
        k_ = xnp.where(rho_ == 0, -10, k_)
        return x_, r_, rhat, alpha_, omega_, rho_, p_, q_, k_

    r0 = _sub(b, A(x0))
    one = xnp.ones((), _result_dtype(b))
    x_final, *_ = lax.while_loop(cond_fun, body_fun, (x0, r0, r0, one, one, one, r0, r0, 0))
    return x_final


def _isolve(solve_fn, where, A, b, x0, *, tol, atol, maxiter, M, check_symmetric):
    A, b, x0, M, size = _prepare(where, A, b, x0, M)
    _check_iterations(where, maxiter=maxiter)
    if maxiter is None:
        maxiter = 10 * size  # scipy's default
    solve = functools.partial(solve_fn, x0=x0, tol=tol, atol=atol, maxiter=maxiter, M=M)

    def transpose_solve(vecmat, b):
        # The right-hand side is an incoming cotangent, which can be tiny: solve at unit
        # norm so the inner products stay in range (as JAX does).
        nrm = _norm(b)
        inv = 1.0 / xnp.where(nrm > 0, nrm, 1.0)
        scale = xnp.where(xnp.isfinite(inv) & (nrm > 0), inv, 1.0)
        x = solve_fn(vecmat, _mul(scale, b), x0=_mul(scale, x0), tol=tol, atol=atol * scale,
                     maxiter=maxiter, M=M)
        return _mul(1.0 / scale, x)

    # A real positive definite operator is symmetric: no transpose needed.
    symmetric = check_symmetric and all(get_aval(x).dtype.kind != "c" for x in tree_leaves(b))
    return lax.custom_linear_solve(A, b, solve=solve, transpose_solve=transpose_solve,
                                   symmetric=symmetric)


def cg(A: Any, b: Any, x0: Any = None, *, tol: float = 1e-5, atol: float = 0.0,
       maxiter: int | None = None, M: Any = None) -> tuple[Any, None]:
    """Conjugate gradients for ``A x = b`` with ``A`` Hermitian positive definite
    (JAX's ``jax.scipy.sparse.linalg.cg``; the iteration of ``scipy.sparse.linalg.cg``).

    ``A`` and the preconditioner ``M`` (approximating ``A^{-1}``) are functions or square
    matrices; ``b`` and ``x0`` arrays or pytrees of arrays. Stops when
    ``norm(r) <= max(tol * norm(b), atol)`` or after ``maxiter`` (default ``10 * size``)
    iterations. Returns ``(x, None)``: JAX's ``info`` placeholder. Differentiable in
    ``b`` and in what ``A`` closes over, by another ``cg`` solve.

    >>> import numpy as np, xform
    >>> from xform.scipy.sparse.linalg import cg
    >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> x, _ = cg(lambda v: a @ v, np.array([1.0, 2.0]), tol=1e-12)
    >>> x.round(6)
    array([0.090909, 0.636364])
    """
    return _isolve(_cg_solve, "cg", A, b, x0, tol=tol, atol=atol, maxiter=maxiter, M=M,
                   check_symmetric=True), None


def bicgstab(A: Any, b: Any, x0: Any = None, *, tol: float = 1e-5, atol: float = 0.0,
             maxiter: int | None = None, M: Any = None) -> tuple[Any, None]:
    """Bi-conjugate gradients stabilized for a general (non-symmetric) ``A x = b``
    (JAX's ``jax.scipy.sparse.linalg.bicgstab``; arguments as for ``cg``). Returns
    ``(x, None)``; derivatives are another ``bicgstab`` solve (with ``A^T`` in reverse
    mode).

    >>> import numpy as np
    >>> from xform.scipy.sparse.linalg import bicgstab
    >>> a = np.array([[3.0, 1.0], [-1.0, 2.0]])
    >>> x, _ = bicgstab(a, np.array([4.0, 1.0]), tol=1e-12)
    >>> x.round(6)
    array([1., 1.])
    """
    return _isolve(_bicgstab_solve, "bicgstab", A, b, x0, tol=tol, atol=atol, maxiter=maxiter,
                   M=M, check_symmetric=False), None


# -- GMRES ---------------------------------------------------------------------------------------


def _safe_normalize(x, thresh=None):
    """``(x / norm(x), norm(x))``, or zeros and 0 when the norm is below ``thresh``
    (default: the dtype's machine epsilon)."""
    norm = _norm(x)
    dtype = _result_dtype(x)
    if thresh is None:
        thresh = float(np.finfo(dtype).eps)
    use = norm > thresh
    safe = xnp.where(use, norm, 1.0).astype(dtype)
    return tree_map(lambda y: xnp.where(use, y / safe, 0.0).astype(y.dtype), x), \
        xnp.where(use, norm, 0.0)


def _project_on_columns(V, v):
    """``V^H v`` (V's leaves hold the Krylov vectors along their last axis)."""
    parts = tree_leaves(tree_map(
        lambda X, y: xnp.tensordot(xnp.conj(X), y, axes=(tuple(range(y.ndim)),) * 2), V, v))
    return functools.reduce(operator.add, parts)


def _classical_gram_schmidt(V, x, xnorm, max_iterations=2):
    """Orthogonalize ``x`` against the columns of ``V``, repeating the classical
    Gram-Schmidt step (at most ``max_iterations`` times, "twice is enough") while the
    remainder is much smaller than ``x``. Returns ``(q, r)``: the remainder and the
    overlaps."""
    V0 = tree_leaves(V)[0]
    r = xnp.zeros(V0.shape[-1], dtype=V0.dtype)
    xnorm_scaled = xnorm / np.sqrt(2.0)

    def body(carry):
        k, q, r, _ = carry
        h = _project_on_columns(V, q)
        q = _sub(q, tree_map(lambda X: xnp.dot(X, h), V))
        r = r + h
        _, qnorm = _safe_normalize(q)
        return k + 1, q, r, qnorm / np.sqrt(2.0)

    def cond(carry):
        k, _, r, qnorm_scaled = carry
        _, rnorm = _safe_normalize(r)
        return (k < max_iterations) & (rnorm < qnorm_scaled)

    carry = body((0, x, r, xnorm_scaled))
    _, q, r, _ = lax.while_loop(cond, body, carry)
    return q, r


def _arnoldi_step(k, A, M, V, H):
    """The k-th Arnoldi step: ``V[:, k+1]`` is ``M A V[:, k]`` orthonormalized against
    the previous Krylov vectors, whose overlaps land in row ``k`` of ``H``."""
    dtype = _result_dtype(V)
    eps = float(np.finfo(dtype).eps)
    v = tree_map(lambda X: _get(X, k, -1), V)
    v = M(A(v))
    _, v_norm_0 = _safe_normalize(v)
    v, h = _classical_gram_schmidt(V, v, v_norm_0)
    unit_v, v_norm_1 = _safe_normalize(v, thresh=eps * v_norm_0)
    V = tree_map(lambda X, y: _set(X, k + 1, y, -1), V, unit_v)
    h = _set(h, k + 1, v_norm_1)
    H = _set(H, k, h)
    return V, H, v_norm_1 == 0.0


def _givens_rotation(a, b):
    b_zero = xnp.abs(b) == 0
    a_lt_b = xnp.abs(a) < xnp.abs(b)
    t = -xnp.where(a_lt_b, a, b) / xnp.where(a_lt_b, xnp.where(b_zero, 1.0, b), xnp.where(
        xnp.abs(a) == 0, 1.0, a))
    r = (1.0 / xnp.sqrt(1.0 + xnp.abs(t) ** 2)).astype(t.dtype)
    cs = xnp.where(b_zero, 1.0, xnp.where(a_lt_b, r * t, r))
    sn = xnp.where(b_zero, 0.0, xnp.where(a_lt_b, r, r * t))
    return cs.astype(t.dtype), sn.astype(t.dtype)


def _rotate(H, i, cs, sn):
    x1, y1 = _get(H, i), _get(H, i + 1)
    H = _set(H, i, xnp.conj(cs) * x1 - xnp.conj(sn) * y1)
    return _set(H, i + 1, sn * x1 + cs * y1)


def _apply_givens_rotations(h_row, givens, k):
    """Apply the previous rotations to ``h_row``, then the new one eliminating its
    (k+1)-th entry."""
    def apply(i, row):
        g = _get(givens, i)
        return _rotate(row, i, g[0], g[1])

    r_row = lax.fori_loop(0, k, apply, h_row)
    cs, sn = _givens_rotation(_get(r_row, k), _get(r_row, k + 1))
    givens = _set(givens, k, xnp.stack([cs, sn]))
    return _rotate(r_row, k, cs, sn), givens


def _gmres_incremental(A, b, x0, unit_residual, residual_norm, ptol, restart, M):
    """One restart cycle, QR-factorizing the Hessenberg matrix by Givens rotations as
    the Krylov space grows (which gives the residual norm for free: early exit)."""
    from ..linalg import solve_triangular

    V = tree_map(lambda x: xnp.pad(x[..., None], ((0, 0),) * x.ndim + ((0, restart),)),
                 unit_residual)
    dtype = _result_dtype(b)
    R = xnp.eye(restart, restart + 1, dtype=dtype)  # eye: not singular on early exit
    givens = xnp.zeros((restart, 2), dtype=dtype)
    beta = _set(xnp.zeros(restart + 1, dtype=dtype), 0, residual_norm)

    def cond(carry):
        k, err, *_ = carry
        return (k < restart) & (err > ptol)

    def step(carry):
        k, _, V, R, beta, givens = carry
        V, H, _ = _arnoldi_step(k, A, M, V, R)
        row, givens = _apply_givens_rotations(_get(H, k), givens, k)
        R = _set(R, k, row)
        g = _get(givens, k)
        beta = _rotate(beta, k, g[0], g[1])
        return k + 1, xnp.abs(_get(beta, k + 1)), V, R, beta, givens

    _, _, V, R, beta, _ = lax.while_loop(cond, step, (0, residual_norm, V, R, beta, givens))
    y = solve_triangular(R[:, :-1].T, beta[:-1])
    x = _add(x0, tree_map(lambda X: xnp.dot(X[..., :-1], y), V))
    unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x))))
    return x, unit_residual, residual_norm


def _gmres_batched(A, b, x0, unit_residual, residual_norm, ptol, restart, M):
    """One restart cycle: build the whole Krylov basis, then solve the small
    least-squares problem with the Hessenberg matrix once."""
    from ..linalg import solve

    V = tree_map(lambda x: xnp.pad(x[..., None], ((0, 0),) * x.ndim + ((0, restart),)),
                 unit_residual)
    dtype = _result_dtype(b)
    H = xnp.eye(restart, restart + 1, dtype=dtype)

    def cond(carry):
        _, _, breakdown, k = carry
        return (k < restart) & ~breakdown

    def step(carry):
        V, H, _, k = carry
        V, H, breakdown = _arnoldi_step(k, A, M, V, H)
        return V, H, breakdown, k + 1

    V, H, _, _ = lax.while_loop(cond, step, (V, H, False, 0))
    beta = _set(xnp.zeros(restart + 1, dtype=dtype), 0, residual_norm)
    # the normal equations of min |H^T y - beta| (H^T has full column rank: a restart-
    # sized positive definite system)
    ht = H.T
    y = solve(xnp.conj(ht).T @ ht, xnp.conj(ht).T @ beta, assume_a="pos")
    x = _add(x0, tree_map(lambda X: xnp.dot(X[..., :-1], y), V))
    unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x))))
    return x, unit_residual, residual_norm


def _gmres_solve(A, b, x0, atol, ptol, restart, maxiter, M, cycle):
    unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x0))))

    def cond(value):
        _, k, _, residual_norm = value
        return (k < maxiter) & (residual_norm > atol)

    def body(value):
        x, k, unit_residual, residual_norm = value
        x, unit_residual, residual_norm = cycle(A, b, x, unit_residual, residual_norm, ptol,
                                                restart, M)
        return x, k + 1, unit_residual, residual_norm

    x, *_ = lax.while_loop(cond, body, (x0, 0, unit_residual, residual_norm))
    return x


def gmres(A: Any, b: Any, x0: Any = None, *, tol: float = 1e-5, atol: float = 0.0,
          restart: int = 20, maxiter: int | None = None, M: Any = None,
          solve_method: str = "batched") -> tuple[Any, Any]:
    """GMRES for a general ``A x = b`` (JAX's ``jax.scipy.sparse.linalg.gmres``).

    Builds a Krylov space of dimension ``restart`` per cycle and projects the solution
    onto it, for at most ``maxiter`` cycles (default ``10 * size``). ``solve_method``:
    ``"incremental"`` QR-factorizes the Hessenberg matrix by Givens rotations as it grows
    (early exit inside a cycle), ``"batched"`` solves the small least-squares problem
    once per cycle. Returns ``(x, info)`` with ``info`` -1 when the result is not finite,
    else 0. Derivatives are another ``gmres`` solve.

    >>> import numpy as np
    >>> from xform.scipy.sparse.linalg import gmres
    >>> a = np.array([[3.0, 1.0], [-1.0, 2.0]])
    >>> x, info = gmres(a, np.array([4.0, 1.0]), tol=1e-12)
    >>> x.round(6), int(info)
    (array([1., 1.]), 0)
    """
    where = "gmres"
    if solve_method == "incremental":
        cycle = _gmres_incremental
    elif solve_method == "batched":
        cycle = _gmres_batched
    else:
        raise ValueError(f"{where}: invalid solve_method {solve_method!r}, must be either "
                         f"'incremental' or 'batched'")
    A, b, x0, M, size = _prepare(where, A, b, x0, M)
    _check_iterations(where, maxiter=maxiter)
    if isinstance(restart, bool) or not isinstance(restart, (int, np.integer)) or restart < 1:
        raise ValueError(f"{where}: restart must be a positive int, got {restart!r}")
    if maxiter is None:
        maxiter = 10 * size  # scipy's default
    restart = min(int(restart), size)
    b_norm = _norm(b)
    atol_ = xnp.maximum(tol * b_norm, atol)
    ptol = _norm(M(b)) * xnp.minimum(1.0, atol_ / xnp.where(b_norm > 0, b_norm, 1.0))

    def solve(A, b):
        return _gmres_solve(A, b, x0, atol_, ptol, restart, maxiter, M, cycle)

    x = lax.custom_linear_solve(A, b, solve=solve, transpose_solve=solve)
    info = xnp.where(xnp.isnan(_norm(x)), -1, 0)
    return x, info
