"""numpy.linalg's decompositions, solves and determinants on ``xform.lax.linalg``.

Names, signatures and results follow ``jax.numpy.linalg`` (numpy's where they agree):
stacked matrices broadcast over leading dimensions, integers are converted to float64,
and results are named tuples (``EighResult``, ``SVDResult``, ``QRResult``,
``SlogdetResult``, ``EigResult``). Failures follow JAX: a matrix that is not positive
definite gives a NaN Cholesky factor and a singular one infinite or NaN solutions
(numpy raises LinAlgError); ``eig`` always returns complex arrays.

Derivative conventions (``docs/autodiff.md``, "Linear algebra"): ``solve``/``inv`` have
custom rules reusing the LU factors (``dx = A^-1 (db - dA x)``); ``det``'s derivative
is the adjugate, finite at singular matrices; ``pinv``/``lstsq`` use the closed-form
derivative of the pseudo-inverse (valid while the rank does not change), so repeated
singular values are no problem there.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import lax
from ..lax import _matrix as M
from ..lax import linalg as lla
from ..lax.custom_derivatives import custom_jvp
from ._promote import arg as _arg
from ._promote import aval as _aval

__all__ = ["solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
           "qr", "lstsq", "pinv", "matrix_rank", "cond", "eig", "eigvals", "tensorsolve",
           "tensorinv", "EighResult", "SVDResult", "QRResult", "SlogdetResult", "EigResult"]


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


class QRResult(NamedTuple):
    Q: object
    R: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


def _xnp():
    import xform.numpy as xnp

    return xnp


def _matrix(x, name: str, square: bool = False):
    """A stack of matrices, converted like numpy.linalg (integers -> float64), with
    numpy's LinAlgError (a ValueError) for wrong ranks or non-square matrices."""
    x = _arg(x, name)
    if isinstance(x, (bool, int, float, complex, np.generic)):
        x = np.asarray(x)
    a = _aval(x, name)
    if a.ndim < 2:
        raise np.linalg.LinAlgError(
            f"{name}: {a.ndim}-dimensional array given; the array must be at least "
            f"two-dimensional (a matrix or a stack of matrices), got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError(f"{name}: last 2 dimensions of the array must be square, "
                                    f"got shape {a.shape}")
    return lla.promote(x, name)


def _common(name, *xs):
    dt = np.result_type(*[_aval(x).dtype for x in xs])
    return [M.as_dtype(x, dt) for x in xs]


def _bcast(x, batch):
    s = M.shape(x)
    if s[:-2] == tuple(batch):
        return x
    return _xnp().broadcast_to(x, tuple(batch) + s[-2:])


def _batch_shape(name, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: the leading (batch) dimensions {', '.join(map(str, shapes))} "
                         f"do not broadcast") from None


# -- solve / inv: LU, with a derivative that reuses the factors ----------------------------

@custom_jvp
def _lu_solve_same_batch(a, b):
    lu_, _, perm = lla.lu(a)
    return lla.lu_solve(lu_, perm, b)


@_lu_solve_same_batch.defjvp
def _lu_solve_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    lu_, _, perm = lla.lu(a)
    x = lla.lu_solve(lu_, perm, b)
    return x, lla.lu_solve(lu_, perm, lax.sub(db, M.mm(da, x)))


def _solve_matrices(a, b):
    """a (..., n, n), b (..., n, k): broadcast the batch; one matrix ``a`` solves all
    right-hand sides at once."""
    sa, sb = M.shape(a), M.shape(b)
    if len(sa) == 2 and len(sb) > 2:  # fold b's batch into its columns: one factorization
        xnp = _xnp()
        n, k = sb[-2], sb[-1]
        bb = xnp.reshape(xnp.moveaxis(b, -2, 0), (n, -1))
        x = _lu_solve_same_batch(a, bb)
        return xnp.moveaxis(xnp.reshape(x, (n,) + sb[:-2] + (k,)), 0, -2)
    batch = _batch_shape("solve", sa[:-2], sb[:-2])
    return _lu_solve_same_batch(_bcast(a, batch), _bcast(b, batch))


def solve(a, b):
    """Solve ``a @ x = b`` (LU with partial pivoting, as numpy's gesv). ``b`` of shape
    ``(n,)`` is a vector; otherwise ``(..., n, k)`` stacks broadcast against ``a``'s
    (numpy 2's rule). A singular ``a`` gives infinities or NaNs (numpy raises).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.solve(np.array([[2., 1.], [1., 3.]]), np.array([3., 5.]))
    array([0.8, 1.4])
    """
    a = _matrix(a, "solve", square=True)
    b = lla.promote(_arg(b, "solve"), "solve")
    a, b = _common("solve", a, b)
    n = M.shape(a)[-1]
    sb = M.shape(b)
    if len(sb) == 1:
        if sb[0] != n:
            raise ValueError(f"solve: a is {n}x{n} but b has {sb[0]} entries")
        x = _solve_matrices(a, lax.reshape(b, (n, 1)))
        return lax.reshape(x, M.shape(x)[:-1])
    if len(sb) < 1 or sb[-2] != n:
        raise ValueError(f"solve: a is {n}x{n} but b has shape {sb}; b must be (n,) or "
                         f"(..., n, k)")
    return _solve_matrices(a, b)


def _eye_like(a):
    n = M.shape(a)[-1]
    nd = M.ndim(a)
    return lax.broadcast_in_dim(M.eye(n, M.dtype(a)), M.shape(a), (nd - 2, nd - 1))


def inv(a):
    """Inverse of (stacks of) square matrices, as ``solve(a, I)``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.inv(np.array([[2., 0.], [0., 4.]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    a = _matrix(a, "inv", square=True)
    return _lu_solve_same_batch(a, _eye_like(a))


# -- determinants --------------------------------------------------------------------------

def _parity(piv):
    """1 where the permutation made by LU pivots is odd, else 0 (int32)."""
    nd = M.ndim(piv)
    swaps = lax.ne(piv, lax.broadcasted_iota(np.int32, M.shape(piv), nd - 1))
    count = lax.reduce_sum(lax.convert_element_type(swaps, np.int32), (nd - 1,))
    return lax.rem(count, np.int32(2))


def _lu_det_parts(a):
    lu_, piv, _ = lla.lu(a)
    return M.diag_part(lu_), _parity(piv)


def _signed(x, odd):
    return lax.select(lax.eq(odd, np.int32(1)), lax.neg(x), x)


def _adjugate(a):
    """adj(a) (``det(a) a^-1`` where a is invertible), for any rank: from the LU factors
    when no pivot is exactly zero, else from the SVD, adj(U S V^H) =
    det(U) det(V^H) V adj(S) U^H with adj(S) = diag(prod_{j != i} s_j)."""
    nd = M.ndim(a)
    batch_dims = tuple(range(nd - 2))
    xnp = _xnp()

    def from_lu(a):
        return lax.mul(lax.broadcast_in_dim(_det_from(a), M.shape(a), batch_dims), inv(a))

    def from_svd(a):
        u, s, vh = lla.svd(a)
        # prod_{j != i} s_j without dividing by a zero: products of the s before and after i
        ones = xnp.ones(M.shape(s)[:-1] + (1,), M.dtype(s))
        before = xnp.cumprod(xnp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
        after = xnp.flip(xnp.cumprod(xnp.concatenate(
            [ones, xnp.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1)
        cof = M.as_dtype(lax.mul(before, after), M.dtype(a))
        phase = lax.mul(_det_from(u), _det_from(vh))
        core = M.mm(lax.mul(M.mH(vh), M.row(cof)), M.mH(u))
        return lax.mul(lax.broadcast_in_dim(phase, M.shape(a), batch_dims), core)

    d, _ = _lu_det_parts(a)
    singular = xnp.any(lax.eq(d, np.zeros((), M.dtype(d))))
    return lax.cond(singular, from_svd, from_lu, a)


def _det_from(a):
    d, odd = _lu_det_parts(a)
    return _signed(lax.reduce_prod(d, (M.ndim(d) - 1,)), odd)


@custom_jvp
def _det(a):
    return _det_from(a)


@_det.defjvp
def _det_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    y = _det(a)
    adj = _adjugate(a)
    nd = M.ndim(a)
    return y, lax.reduce_sum(lax.mul(M.mT(adj), da), (nd - 2, nd - 1))


def det(a):
    """Determinant of (stacks of) square matrices, from the LU factorization. Its
    derivative is the adjugate (``det(a) inv(a)^T`` for invertible ``a``), exact also at
    singular matrices (rank n-1: a rank-1 matrix; lower rank: 0).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> float(xnp.linalg.det(np.array([[2., 1.], [1., 3.]])))
    5.0
    >>> xform.grad(xnp.linalg.det)(np.array([[1., 2.], [2., 4.]]))
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    return _det(_matrix(a, "det", square=True))


def slogdet(a, *, method: str | None = None):
    """Sign (a unit complex number for complex input; 0 for a singular matrix) and the
    natural log of the absolute value of the determinant: ``SlogdetResult(sign,
    logabsdet)``. ``method`` (JAX's): ``'lu'`` (default; LU with partial pivoting) or
    ``'qr'`` (Householder QR: ``|det| = prod |r_ii|``, each reflector that acts has
    determinant ``-tau / conj(tau)``); the derivative of the 'qr' form is
    ``d logabsdet = Re tr(a^-1 da)``.

    >>> import numpy as np
    >>> import xform.numpy as xnp
    >>> sign, logdet = xnp.linalg.slogdet(np.array([[2., 0.], [0., -3.]]))
    >>> float(sign), round(float(logdet), 6)
    (-1.0, 1.791759)
    >>> float(xnp.linalg.slogdet(np.array([[2., 0.], [0., -3.]]), method="qr").sign)
    -1.0
    """
    if method not in (None, "lu", "qr"):
        raise ValueError(f"slogdet: method must be 'lu' (None) or 'qr', got {method!r}")
    a = _matrix(a, "slogdet", square=True)
    if method == "qr":
        return SlogdetResult(*_slogdet_qr(a))
    return _slogdet_lu(a)


@custom_jvp
def _slogdet_qr(a):
    xnp = _xnp()
    h, tau = lla.geqrf(a)
    d = M.diag_part(h)
    nd = M.ndim(d)
    ad = xnp.abs(d)
    logabs = lax.reduce_sum(xnp.log(ad), (nd - 1,))
    acts = lax.ne(tau, np.zeros((), M.dtype(tau)))
    if M.is_complex(d):
        unit = lax.div(d, M.as_dtype(xnp.where(lax.eq(ad, 0.0), xnp.ones_like(ad), ad), M.dtype(d)))
        safe = xnp.where(acts, tau, xnp.ones_like(tau))
        refl = xnp.where(acts, lax.neg(lax.div(safe, lax.conj(safe))), xnp.ones_like(tau))
    else:
        unit = xnp.sign(d)
        refl = xnp.where(acts, -xnp.ones_like(tau), xnp.ones_like(tau))
    sign = lax.mul(lax.reduce_prod(unit, (nd - 1,)), lax.reduce_prod(refl, (nd - 1,)))
    sign = xnp.where(xnp.any(lax.eq(ad, np.zeros((), M.dtype(ad))), axis=-1),
                     xnp.zeros_like(sign), sign)
    return sign, logabs


@_slogdet_qr.defjvp
def _slogdet_qr_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    sign, logabs = _slogdet_qr(a)
    t = M.diag_part(solve(a, da))
    t = lax.reduce_sum(t, (M.ndim(t) - 1,))
    if M.is_complex(t):
        im = lax.imag(t)
        dsign = lax.mul(lax.complex(_xnp().zeros_like(im), im), sign)
        return (sign, logabs), (dsign, lax.real(t))
    return (sign, logabs), (_xnp().zeros_like(sign), t)


def _slogdet_lu(a):
    xnp = _xnp()
    d, odd = _lu_det_parts(a)
    nd = M.ndim(d)
    ad = xnp.abs(d)
    logabs = lax.reduce_sum(xnp.log(ad), (nd - 1,))
    zero = xnp.any(lax.eq(ad, np.zeros((), M.dtype(ad))), axis=-1)
    if M.is_complex(d):
        unit = lax.div(d, M.as_dtype(lax.select(lax.eq(ad, 0.0), xnp.ones_like(ad), ad), M.dtype(d)))
        sign = lax.reduce_prod(unit, (nd - 1,))
    else:
        sign = lax.reduce_prod(xnp.sign(d), (nd - 1,))
    sign = _signed(sign, odd)
    sign = xnp.where(zero, xnp.zeros_like(sign), sign)
    return SlogdetResult(sign, logabs)


# -- Hermitian decompositions --------------------------------------------------------------

def cholesky(a, *, upper: bool = False, symmetrize_input: bool = True):
    """Cholesky factor of Hermitian positive-definite matrices: lower ``L`` with
    ``a = L @ L^H`` (or upper ``U = L^H`` with ``upper``). As JAX, the factor is that of
    ``(a + a^H) / 2`` (numpy reads only the lower triangle; the same for Hermitian
    input); a matrix that is not positive definite gives NaNs (numpy raises).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.cholesky(np.array([[4., 2.], [2., 5.]]))
    array([[2., 0.],
           [1., 2.]])
    """
    L = lla.cholesky(_matrix(a, "cholesky", square=True), symmetrize_input=symmetrize_input)
    return M.mH(L) if upper else L


def _uplo(UPLO):
    if UPLO is None or UPLO == "L":
        return True
    if UPLO == "U":
        return False
    raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")


def eigh(a, UPLO: str | None = None, symmetrize_input: bool = True):
    """Eigenvalues (ascending) and orthonormal eigenvectors of Hermitian matrices:
    ``EighResult(eigenvalues, eigenvectors)``. With ``symmetrize_input`` (JAX's default)
    the decomposition is that of ``(a + a^H) / 2``; otherwise the ``UPLO`` triangle is
    read, as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.eigh(np.array([[2., 1.], [1., 2.]])).eigenvalues
    array([1., 3.])
    """
    v, w = lla.eigh(_matrix(a, "eigh", square=True), lower=_uplo(UPLO),
                    symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO: str | None = "L", *, symmetrize_input: bool = True):
    """Eigenvalues (ascending) of Hermitian matrices.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.eigvalsh(np.array([[2., 1.], [1., 2.]]))
    array([1., 3.])
    """
    return eigh(a, UPLO, symmetrize_input).eigenvalues


# -- SVD and what is built on it -----------------------------------------------------------

def _svd_hermitian(a, full_matrices, compute_uv):
    """numpy's SVD of Hermitian matrices from eigh: singular values |w| descending."""
    xnp = _xnp()
    w, v = eigh(a)
    aw = xnp.abs(w)
    order = xnp.argsort(lax.neg(aw), axis=-1)
    s = xnp.take_along_axis(aw, order, axis=-1)
    if not compute_uv:
        return s
    sgn = xnp.take_along_axis(xnp.sign(w), order, axis=-1)
    u = xnp.take_along_axis(v, order[..., None, :], axis=-1)
    vh = M.mH(lax.mul(u, M.as_dtype(M.row(sgn), M.dtype(u))))
    return SVDResult(u, s, vh)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False,
        subset_by_index: tuple[int, int] | None = None):
    """Singular value decomposition ``a = U @ diag(S) @ Vh`` (LAPACK gesdd):
    ``SVDResult(U, S, Vh)``, or ``S`` (descending) without ``compute_uv``. ``hermitian``
    uses the eigendecomposition of the (Hermitian) input, as numpy. ``subset_by_index``
    is JAX's (a TPU feature there): as on JAX's CPU, only the whole range
    ``(0, min(m, n))`` is accepted.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.svd(np.array([[0., 2.], [1., 0.]]), compute_uv=False)
    array([2., 1.])
    """
    a = _matrix(a, "svd")
    if subset_by_index is not None:
        k = min(M.shape(a)[-2:])
        if tuple(subset_by_index) != (0, k):
            raise NotImplementedError(
                f"svd: subset_by_index={tuple(subset_by_index)} is not provided (LAPACK gesdd "
                f"computes all singular values, as JAX on CPU); use (0, {k}) or slice the "
                f"result")
    if hermitian:
        return _svd_hermitian(a, full_matrices, compute_uv)
    res = lla.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return SVDResult(*res) if compute_uv else res


def svdvals(x, /):
    """Singular values, descending.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.svdvals(np.array([[3., 0.], [0., 4.]]))
    array([4., 3.])
    """
    return lla.svd(_matrix(x, "svdvals"), compute_uv=False)


def _default_rtol(a):
    m, n = M.shape(a)[-2:]
    return max(m, n) * float(np.finfo(M.real_dtype(M.dtype(a))).eps)


def _cutoff(s, rtol):
    """rtol * max(s) per matrix, shaped like s's batch + (1,)."""
    xnp = _xnp()
    return lax.mul(xnp.asarray(rtol, M.dtype(s))[..., None] if np.ndim(rtol) else rtol,
                   xnp.max(s, axis=-1, keepdims=True))


def _pinv_value(a, rtol):
    xnp = _xnp()
    u, s, vh = lla.svd(a, full_matrices=False)
    keep = lax.gt(s, _cutoff(s, rtol))
    sinv = xnp.where(keep, lax.div(np.ones((), M.dtype(s)), xnp.where(keep, s, 1)), 0)
    return M.mm(lax.mul(M.mH(vh), M.as_dtype(M.row(sinv), M.dtype(a))), M.mH(u))


@custom_jvp
def _pinv(a, rtol):
    return _pinv_value(a, rtol)


@_pinv.defjvp
def _pinv_jvp(primals, tangents):
    """d(A+) = -A+ dA A+ + (I - A+ A) dA^H A+^H A+ + A+ A+^H dA^H (I - A A+) (Golub &
    Pereyra), valid while the rank is constant."""
    (a, rtol), (da, _) = primals, tangents
    p = _pinv(a, rtol)
    m, n = M.shape(a)[-2:]
    nd = M.ndim(a)
    dah = M.mH(da)
    ph = M.mH(p)
    eye_n = lax.broadcast_in_dim(M.eye(n, M.dtype(a)), M.shape(a)[:-2] + (n, n), (nd - 2, nd - 1))
    eye_m = lax.broadcast_in_dim(M.eye(m, M.dtype(a)), M.shape(a)[:-2] + (m, m), (nd - 2, nd - 1))
    t1 = lax.neg(M.mm(p, M.mm(da, p)))
    t2 = M.mm(lax.sub(eye_n, M.mm(p, a)), M.mm(dah, M.mm(ph, p)))
    t3 = M.mm(M.mm(p, ph), M.mm(dah, lax.sub(eye_m, M.mm(a, p))))
    return p, lax.add(lax.add(t1, t2), t3)


def pinv(a, rtol=None, hermitian: bool = False, *, rcond=None):
    """Moore-Penrose pseudo-inverse from the SVD, dropping singular values at or below
    ``rtol * max(s)`` (default ``max(m, n) * eps``; ``rcond`` is numpy's name). JAX's
    signature. The derivative is the closed form for a constant rank.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.pinv(np.array([[1., 0.], [0., 0.]]))
    array([[1., 0.],
           [0., 0.]])
    """
    a = _matrix(a, "pinv")
    if rcond is not None:
        if rtol is not None:
            raise ValueError("pinv: give rtol or rcond, not both")
        rtol = rcond
    if rtol is None:
        rtol = _default_rtol(a)
    rtol = np.asarray(rtol, M.real_dtype(M.dtype(a)))
    del hermitian  # the SVD of a Hermitian matrix is the same result
    return _pinv(a, rtol)


def matrix_rank(M, rtol=None, *, hermitian: bool = False, tol=None):  # noqa: N803
    """Number of singular values above ``tol`` (absolute) or ``rtol * max(s)`` (relative,
    default ``max(m, n) * eps``; JAX's signature: numpy's second positional argument is
    the absolute ``tol``). A vector has rank 1 unless it is all zeros.

    >>> import numpy as np, xform.numpy as xnp
    >>> int(xnp.linalg.matrix_rank(np.array([[1., 2.], [2., 4.]])))
    1
    """
    xnp = _xnp()
    x = _arg(M, "matrix_rank")
    if _aval(x, "matrix_rank").ndim < 2:
        return xnp.asarray(xnp.any(lax.ne(xnp.asarray(x), 0)), np.int64)
    a = _matrix(x, "matrix_rank")
    s = svd(a, compute_uv=False, hermitian=hermitian)
    if tol is not None:
        cut = xnp.asarray(tol, _aval(s).dtype)
        cut = cut[..., None] if np.ndim(tol) else cut
    else:
        cut = _cutoff(s, _default_rtol(a) if rtol is None else rtol)
    return xnp.sum(lax.gt(s, cut), axis=-1)


def lstsq(a, b, rcond=None, *, numpy_resid: bool = False):
    """Least-squares solution of ``a @ x = b`` from the SVD (singular values at or below
    ``rcond * max(s)`` are dropped; default ``max(m, n) * eps``): returns
    ``(x, residuals, rank, s)``. ``residuals`` are the squared 2-norms of ``b - a @ x``
    per column, always (JAX's choice; with ``numpy_resid`` an empty array where numpy
    gives one: rank < n or m <= n, which needs concrete values). The derivative is that
    of ``pinv(a) @ b``.

    >>> import numpy as np, xform.numpy as xnp
    >>> a = np.array([[1., 0.], [1., 1.], [1., 2.]])
    >>> x, res, rank, s = xnp.linalg.lstsq(a, np.array([1., 2., 4.]))
    >>> np.round(x, 6), int(rank)
    (array([0.833333, 1.5     ]), 2)
    """
    xnp = _xnp()
    a = _matrix(a, "lstsq")
    b = lla.promote(_arg(b, "lstsq"), "lstsq")
    a, b = _common("lstsq", a, b)
    if M.ndim(a) != 2:
        raise np.linalg.LinAlgError(f"lstsq: a must be two-dimensional, got shape {M.shape(a)}")
    vec = M.ndim(b) == 1
    if M.ndim(b) not in (1, 2) or M.shape(b)[0] != M.shape(a)[0]:
        raise np.linalg.LinAlgError(f"lstsq: incompatible dimensions a {M.shape(a)}, b "
                                    f"{M.shape(b)}")
    b2 = lax.reshape(b, M.shape(b) + (1,)) if vec else b
    rtol = _default_rtol(a) if rcond is None or rcond < 0 else rcond
    rtol = np.asarray(rtol, M.real_dtype(M.dtype(a)))
    p = _pinv(a, rtol)
    x = M.mm(p, b2)
    s = svdvals(a)
    rank = xnp.sum(lax.gt(s, _cutoff(s, rtol)), axis=-1)
    r = lax.sub(b2, M.mm(a, x))
    resid = xnp.sum(xnp.real(lax.mul(M.conj_if_complex(r), r)), axis=0)
    if numpy_resid:
        m, n = M.shape(a)
        if int(rank) < n or m <= n:
            resid = np.zeros((0,), M.real_dtype(M.dtype(a)))
    if vec:
        x = lax.reshape(x, M.shape(x)[:-1])
    return x, resid, rank, s


def qr(a, mode: str = "reduced"):
    """QR decomposition: ``QRResult(Q, R)`` for modes 'reduced' (``Q`` m x k, ``R``
    k x n; 'full' is its old name) and 'complete' (``Q`` m x m, ``R`` m x n), ``R``
    alone for 'r', and for 'raw' LAPACK's Householder form ``(h, tau)`` with numpy's
    layout (``h`` is ``(..., n, m)``: ``R`` in its lower triangle, transposed, and the
    reflectors above it). Every mode but 'raw' is differentiable.

    >>> import numpy as np, xform.numpy as xnp
    >>> q, r = xnp.linalg.qr(np.array([[3., 1.], [4., 2.]]))
    >>> np.allclose(q @ r, [[3., 1.], [4., 2.]])
    True
    >>> h, tau = xnp.linalg.qr(np.array([[3., 1.], [4., 2.]]), mode="raw")
    >>> h, tau
    (array([[-5. ,  0.5],
           [-2.2,  0.4]]), array([1.6, 0. ]))
    """
    if mode not in ("reduced", "complete", "r", "raw", "full"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete', 'r' or 'raw', got {mode!r}")
    a = _matrix(a, "qr")
    if mode == "raw":
        h, tau = lla.geqrf(a)
        return QRResult(M.mT(h), tau)
    q, r = lla.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


def cond(x, p=None):
    """Condition number in the norm ``p``: None/2 (ratio of extreme singular values), -2,
    'fro', 'nuc', inf, -inf, 1, -1 (``norm(x, p) * norm(inv(x), p)``).

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.linalg.cond(np.array([[2., 0.], [0., 0.5]])))
    4.0
    """
    from .linalg import norm

    x = _matrix(x, "cond")
    if p is None or p == 2 or p == -2:
        s = svdvals(x)
        hi, lo = s[..., 0], s[..., -1]
        return lax.div(lo, hi) if p == -2 else lax.div(hi, lo)
    if M.shape(x)[-1] != M.shape(x)[-2]:
        raise np.linalg.LinAlgError(f"cond: norm {p!r} needs square matrices, got shape "
                                    f"{M.shape(x)}")
    return lax.mul(norm(x, p, axis=(-2, -1)), norm(inv(x), p, axis=(-2, -1)))


# -- general eigenproblem ------------------------------------------------------------------

def eig(a):
    """Eigenvalues and right eigenvectors of general square matrices (LAPACK geev):
    ``EigResult(eigenvalues, eigenvectors)``, complex whatever the input (numpy returns
    real arrays when all eigenvalues are real; JAX always complex). Eigenvectors have
    unit norm and their largest component real. Differentiable where the eigenvalues
    are distinct.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.eig(np.array([[2., 0.], [0., 3.]])).eigenvalues
    array([2.+0.j, 3.+0.j])
    """
    w, v = lla.eig(_matrix(a, "eig", square=True), compute_left_eigenvectors=False)
    return EigResult(w, v)


def eigvals(a):
    """Eigenvalues of general square matrices (complex).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.eigvals(np.array([[0., -1.], [1., 0.]]))
    array([0.+1.j, 0.-1.j])
    """
    (w,) = lla.eig(_matrix(a, "eigvals", square=True), compute_left_eigenvectors=False,
                   compute_right_eigenvectors=False)
    return w


# -- tensor forms --------------------------------------------------------------------------

def tensorinv(a, ind: int = 2):
    """Inverse of a tensor seen as the matrix (prod(shape[:ind]), prod(shape[ind:])); the
    result has shape ``shape[ind:] + shape[:ind]``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    xnp = _xnp()
    a = xnp.asarray(_arg(a, "tensorinv"))
    shp = M.shape(a)
    if ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind}")
    rows, cols = int(np.prod(shp[:ind])), int(np.prod(shp[ind:]))
    if rows != cols:
        raise np.linalg.LinAlgError(f"tensorinv: prod(shape[:ind]) = {rows} and "
                                    f"prod(shape[ind:]) = {cols} must be equal")
    return xnp.reshape(inv(xnp.reshape(a, (rows, cols))), shp[ind:] + shp[:ind])


def tensorsolve(a, b, axes=None):
    """Solve ``tensordot(a, x, axes=x.ndim) = b`` for ``x`` (numpy.linalg.tensorsolve).

    >>> import numpy as np, xform.numpy as xnp
    >>> a = np.eye(6).reshape(6, 2, 3)
    >>> xnp.linalg.tensorsolve(a, np.arange(6.)).shape
    (2, 3)
    """
    xnp = _xnp()
    a = xnp.asarray(_arg(a, "tensorsolve"))
    b = xnp.asarray(_arg(b, "tensorsolve"))
    nd = M.ndim(a)
    if axes is not None:
        allaxes = list(range(nd))
        for k in axes:
            allaxes.remove(k % nd)
            allaxes.insert(nd, k % nd)
        a = xnp.transpose(a, allaxes)
    bshape = M.shape(b)
    oshape = M.shape(a)[M.ndim(b):]
    prod = int(np.prod(oshape))
    if int(np.prod(M.shape(a)[:M.ndim(b)])) != prod or M.shape(a)[:M.ndim(b)] != bshape:
        raise np.linalg.LinAlgError(f"tensorsolve: a of shape {M.shape(a)} and b of shape "
                                    f"{bshape} do not make a square system")
    x = solve(xnp.reshape(a, (prod, prod)), xnp.reshape(b, (prod,)))
    return xnp.reshape(x, oshape)
