"""Eager implementations of the ``xform.lax.linalg`` primitives on numpy arrays, through
numpy's and scipy's LAPACK bindings (stacked matrices: leading dimensions are a batch).

Failures follow JAX, not numpy: a factorization that LAPACK reports as failed (a
matrix that is not positive definite for Cholesky, an iteration that did not converge)
gives NaNs in that matrix's results instead of raising, so that eager, ``vmap``-ed and
``jit``-ted programs agree (a compiled kernel cannot raise per batch element).
Singular matrices are not failures of LU or triangular solves: as LAPACK, they give
infinities or NaNs from the division by a zero pivot.
"""
from __future__ import annotations

import numpy as np

_LinAlgError = np.linalg.LinAlgError


def _flat(x, inner: int):
    """``x`` as a C-contiguous ``(batch, *inner dims)`` array and the batch shape."""
    batch = x.shape[: x.ndim - inner]
    return np.ascontiguousarray(x).reshape((-1,) + x.shape[x.ndim - inner:]), batch


def _per_matrix(fn, x, outs_like):
    """Run ``fn`` on each matrix of the stack ``x``; a LinAlgError gives NaN results.

    ``outs_like`` are ``(shape_of_one_result, dtype)`` pairs; returns stacked results.
    """
    flat, batch = _flat(x, 2)
    outs = [np.empty((flat.shape[0],) + s, d) for s, d in outs_like]
    for i in range(flat.shape[0]):
        try:
            res = fn(flat[i])
        except _LinAlgError:
            res = [np.full(s, np.nan, d) for s, d in outs_like]
        for o, r in zip(outs, res):
            o[i] = r
    return [o.reshape(batch + o.shape[1:]) for o in outs]


def cholesky(x, *, symmetrize_input):
    x = np.asarray(x)
    if symmetrize_input:
        x = (x + np.conj(np.swapaxes(x, -1, -2))) / 2
    try:  # numpy reads the lower triangle, as the primitive does
        return np.linalg.cholesky(x)
    except _LinAlgError:
        n = x.shape[-1]
        return _per_matrix(lambda m: [np.linalg.cholesky(m)], x, [((n, n), x.dtype)])[0]


def triangular_solve(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    """BLAS trsm per matrix. A C-contiguous matrix is the column-major transpose, so
    ``op(a) x = b`` is solved as ``x^T op(a)^T = b^T`` on the free transposed views: the
    side and the triangle flip, the transpose code stays (see the Numba lowering)."""
    from scipy.linalg import blas

    a, b = np.asarray(a), np.asarray(b)
    out = np.empty(b.shape, b.dtype)
    if b.size == 0:
        return out
    if conjugate_a and not transpose_a:
        a, conjugate_a = np.conj(a), False
    trans = (2 if conjugate_a else 1) if transpose_a else 0
    trsm = blas.get_blas_funcs("trsm", dtype=a.dtype)
    fa, _ = _flat(a, 2)
    fb, _ = _flat(b, 2)
    fo = out.reshape(fb.shape)
    one = np.ones((), a.dtype)[()]
    side = 1 if left_side else 0
    for i in range(fb.shape[0]):
        xc = trsm(one, fa[i].T, fb[i].T, side=side, lower=0 if lower else 1, trans_a=trans,
                  diag=1 if unit_diagonal else 0)
        fo[i] = xc.T
    return out


def pivots_to_permutation(pivots, permutation_size: int):
    """Apply the row swaps ``i <-> pivots[i]`` (in order) to ``arange(size)``."""
    pivots = np.asarray(pivots)
    flat, batch = _flat(pivots, 1)
    perm = np.empty((flat.shape[0], permutation_size), np.int32)
    perm[:] = np.arange(permutation_size, dtype=np.int32)
    rows = np.arange(flat.shape[0])
    for i in range(flat.shape[1]):
        p = flat[:, i]
        pi = perm[:, i].copy()
        perm[:, i] = perm[rows, p]
        perm[rows, p] = pi
    return perm.reshape(batch + (permutation_size,))


def lu(x):
    """LAPACK getrf per matrix: packed ``lu``, 0-based int32 ``pivots`` (row i was
    swapped with row pivots[i]) and the ``permutation`` they make (``x[perm] = l @ u``)."""
    from scipy.linalg import lapack

    x = np.asarray(x)
    m, n = x.shape[-2:]
    k = min(m, n)
    flat, batch = _flat(x, 2)
    lu_ = np.empty(flat.shape, x.dtype)
    piv = np.empty((flat.shape[0], k), np.int32)
    if flat.size:
        getrf = lapack.get_lapack_funcs("getrf", dtype=x.dtype)
        for i in range(flat.shape[0]):
            f, p, _info = getrf(flat[i])  # info > 0: singular; the factors are still exact
            lu_[i], piv[i] = f, p[:k]
    else:
        piv[:] = np.arange(k, dtype=np.int32)
    lu_ = lu_.reshape(x.shape)
    piv = piv.reshape(batch + (k,))
    return [lu_, piv, pivots_to_permutation(piv, m)]


def qr(x, *, full_matrices, pivoting=False):
    x = np.asarray(x)
    if not pivoting:
        q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
        return [q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)]
    import scipy.linalg

    m, n = x.shape[-2:]
    kq = m if full_matrices else min(m, n)
    flat, batch = _flat(x, 2)
    q = np.zeros((flat.shape[0], m, kq), x.dtype)
    r = np.zeros((flat.shape[0], kq, n), x.dtype)
    p = np.empty((flat.shape[0], n), np.int32)
    for i in range(flat.shape[0]):
        if flat[i].size == 0:  # (scipy's LAPACK wrappers refuse empty matrices)
            q[i] = np.eye(m, kq, dtype=x.dtype)
            p[i] = np.arange(n)
            continue
        q[i], r[i], p[i] = scipy.linalg.qr(flat[i], mode="full" if full_matrices else "economic",
                                           pivoting=True, check_finite=False)
    return [q.reshape(batch + q.shape[1:]), r.reshape(batch + r.shape[1:]),
            p.reshape(batch + (n,))]


def geqrf(x, *, pivoting):
    """LAPACK geqrf (geqp3 with ``pivoting``) per matrix: the Householder form in
    ``x``'s own indexing (r on and above the diagonal, the reflectors below), the
    scalars tau, and with pivoting the 0-based column permutation."""
    from scipy.linalg import lapack

    x = np.asarray(x)
    m, n = x.shape[-2:]
    k = min(m, n)
    flat, batch = _flat(x, 2)
    a = np.empty(flat.shape, x.dtype)
    tau = np.zeros((flat.shape[0], k), x.dtype)
    p = np.empty((flat.shape[0], n), np.int32)
    p[:] = np.arange(n, dtype=np.int32)
    fn = lapack.get_lapack_funcs("geqp3" if pivoting else "geqrf", dtype=x.dtype)
    for i in range(flat.shape[0]):
        if flat[i].size == 0:
            a[i] = flat[i]
            continue
        if pivoting:
            a[i], jpvt, tau[i], _work, _info = fn(flat[i])
            p[i] = jpvt - 1  # LAPACK's are 1-based
        else:
            a[i], tau[i], _work, _info = fn(flat[i])
    outs = [a.reshape(x.shape), tau.reshape(batch + (k,))]
    return outs + [p.reshape(batch + (n,))] if pivoting else outs


def _real(dt):
    return np.dtype(np.finfo(dt).dtype)


def eigh(x, *, lower):
    """Eigenvectors and ascending eigenvalues (JAX's order: ``[v, w]``)."""
    x = np.asarray(x)
    uplo = "L" if lower else "U"
    try:
        w, v = np.linalg.eigh(x, UPLO=uplo)
    except _LinAlgError:
        n = x.shape[-1]
        w, v = _per_matrix(lambda m: np.linalg.eigh(m, UPLO=uplo), x,
                           [((n,), _real(x.dtype)), ((n, n), x.dtype)])
    return [v, w]


def svd(x, *, full_matrices, compute_uv):
    """numpy's gesdd: ``[s]`` or ``[s, u, vh]``."""
    x = np.asarray(x)
    m, n = x.shape[-2:]
    k = min(m, n)
    try:
        if not compute_uv:
            return [np.linalg.svd(x, compute_uv=False)]
        u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
        return [s, u, vh]
    except _LinAlgError:
        rd = _real(x.dtype)
        if not compute_uv:
            return _per_matrix(lambda a: [np.linalg.svd(a, compute_uv=False)], x, [((k,), rd)])
        mu, nv = (m, n) if full_matrices else (k, k)

        def one(a):
            u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
            return [s, u, vh]

        return _per_matrix(one, x, [((k,), rd), ((m, mu), x.dtype), ((nv, n), x.dtype)])


def _complex(dt):
    return np.result_type(dt, np.complex64)


def eig(x, *, compute_left_eigenvectors, compute_right_eigenvectors):
    """geev: complex eigenvalues (always complex, as JAX; numpy returns real arrays when
    every eigenvalue is real), then the left and right eigenvectors asked for (unit
    2-norm, largest component real: LAPACK's normalization)."""
    x = np.asarray(x)
    n = x.shape[-1]
    cdt = _complex(x.dtype)
    if not compute_left_eigenvectors:
        try:
            if compute_right_eigenvectors:
                w, v = np.linalg.eig(x)
                return [w.astype(cdt, copy=False), v.astype(cdt, copy=False)]
            return [np.linalg.eigvals(x).astype(cdt, copy=False)]
        except _LinAlgError:
            pass
    import scipy.linalg

    def one(a):
        res = scipy.linalg.eig(a, left=compute_left_eigenvectors,
                               right=compute_right_eigenvectors, check_finite=False)
        if not isinstance(res, tuple):
            res = (res,)
        return [r.astype(cdt, copy=False) for r in res]

    outs = [((n,), cdt)] + [((n, n), cdt)] * (compute_left_eigenvectors + compute_right_eigenvectors)
    return _per_matrix(one, x, outs)
