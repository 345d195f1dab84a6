"""xform.scipy.linalg: scipy.linalg's names with ``jax.scipy.linalg``'s signatures and
semantics, on the LAPACK primitives of ``xform.lax.linalg``.

As in JAX: ``overwrite_*`` and ``check_finite`` arguments are accepted and ignored
(arrays are immutable; nothing is checked, so NaNs propagate), stacked matrices
broadcast over leading dimensions, and failures give NaNs or infinities instead of
raising (``docs/autodiff.md`` has the derivative conventions). A right-hand side ``b``
with one dimension fewer than ``a`` is a (stack of) vector(s); otherwise a stack of
matrices.
"""
from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..lax import _matrix as M
from ..lax import linalg as lla
from ..numpy import _linalg as nla

__all__ = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "lu", "lu_factor",
           "lu_solve", "solve", "qr", "eigh", "svd", "inv", "det", "expm", "block_diag"]


def _mat(a, name, square=False):
    return nla._matrix(a, name, square=square)


def _rhs(a, b, name):
    """``b`` converted and given a trailing unit dimension if it is a vector stack;
    returns (a, b_as_matrices, was_vector) with a common dtype."""
    b = lla.promote(xnp.asarray(b), name)
    a, b = nla._common(name, a, b)
    vec = M.ndim(b) == M.ndim(a) - 1
    if vec:
        b = lax.expand_dims(b, (M.ndim(b),))
    if M.ndim(b) < 2 or M.shape(b)[-2] != M.shape(a)[-1]:
        raise ValueError(f"{name}: a of shape {M.shape(a)} and b of shape "
                         f"{M.shape(b)[:-1] if vec else M.shape(b)} are incompatible (b needs "
                         f"{M.shape(a)[-1]} rows)")
    return a, b, vec


def _unvec(x, vec):
    return lax.squeeze(x, (M.ndim(x) - 1,)) if vec else x


def _batched(solve_same_batch, a, b):
    """Apply ``solve_same_batch(a, b)`` after broadcasting the leading dimensions; one
    2-d ``a`` solves every right-hand side of a batch at once (b's batch joins its
    columns)."""
    sa, sb = M.shape(a), M.shape(b)
    if len(sa) == 2 and len(sb) > 2:
        n, k = sb[-2], sb[-1]
        bb = xnp.reshape(xnp.moveaxis(b, -2, 0), (n, -1))
        x = solve_same_batch(a, bb)
        return xnp.moveaxis(xnp.reshape(x, (n,) + sb[:-2] + (k,)), 0, -2)
    batch = nla._batch_shape("solve", sa[:-2], sb[:-2])
    return solve_same_batch(nla._bcast(a, batch), nla._bcast(b, batch))


# -- Cholesky ------------------------------------------------------------------------------

def cholesky(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """Cholesky factor of Hermitian positive-definite matrices: upper ``U`` with
    ``a = U^H U`` (scipy's default) or lower ``L`` with ``a = L L^H``. The factor is that
    of ``(a + a^H) / 2``; a matrix that is not positive definite gives NaNs.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.cholesky(np.array([[4., 2.], [2., 5.]]))
    array([[2., 1.],
           [0., 2.]])
    """
    L = lla.cholesky(_mat(a, "cholesky", square=True))
    return L if lower else M.mH(L)


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """``(c, lower)`` for ``cho_solve``: the Cholesky factor (the other triangle is zero,
    as JAX; scipy leaves arbitrary values there).

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> c, low = xsl.cho_factor(np.array([[4., 2.], [2., 5.]]), lower=True)
    >>> c, low
    (array([[2., 0.],
           [1., 2.]]), True)
    """
    return cholesky(a, lower=lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
    """Solve ``a x = b`` given ``cho_factor(a)``: two triangular solves.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> a = np.array([[4., 2.], [2., 5.]])
    >>> xsl.cho_solve(xsl.cho_factor(a), np.array([8., 9.]))
    array([1.375, 1.25 ])
    """
    c, lower = c_and_lower
    c = _mat(c, "cho_solve", square=True)
    c, b, vec = _rhs(c, b, "cho_solve")
    lower = bool(lower)

    def run(c, b):
        # lower: L L^H x = b; upper: U^H U x = b
        kw = dict(left_side=True, lower=lower, unit_diagonal=False)
        y = lla.triangular_solve(c, b, transpose_a=lower is False,
                                 conjugate_a=lower is False, **kw)
        return lla.triangular_solve(c, y, transpose_a=lower, conjugate_a=lower, **kw)

    return _unvec(_batched(run, c, b), vec)


# -- triangular solves ---------------------------------------------------------------------

_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}


def _trans(trans, name):
    try:
        return _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"{name}: trans must be 0/'N', 1/'T' or 2/'C', got {trans!r}") from None


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, debug=None, check_finite: bool = True):
    """Solve ``op(a) x = b`` with triangular ``a`` (its ``lower`` or upper triangle is
    read), ``op`` the identity (trans 0/'N'), the transpose (1/'T') or the conjugate
    transpose (2/'C'). A zero on the diagonal gives infinities or NaNs.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.solve_triangular(np.array([[2., 0.], [1., 4.]]), np.array([2., 9.]), lower=True)
    array([1., 2.])
    """
    t = _trans(trans, "solve_triangular")
    a = _mat(a, "solve_triangular", square=True)
    a, b, vec = _rhs(a, b, "solve_triangular")

    def run(a, b):
        return lla.triangular_solve(a, b, left_side=True, lower=bool(lower),
                                    transpose_a=t > 0, conjugate_a=t == 2,
                                    unit_diagonal=bool(unit_diagonal))

    return _unvec(_batched(run, a, b), vec)


# -- LU ------------------------------------------------------------------------------------

def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
    """``(lu, piv)``: the packed LU factors and 0-based int32 pivot indices (row i was
    swapped with row piv[i]), for ``lu_solve``.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> lu_, piv = xsl.lu_factor(np.array([[1., 2.], [3., 4.]]))
    >>> piv
    array([1, 1], dtype=int32)
    """
    lu_, piv, _ = lla.lu(_mat(a, "lu_factor"))
    return lu_, piv


def lu_solve(lu_and_piv, b, trans=0, overwrite_b: bool = False, check_finite: bool = True):
    """Solve ``op(a) x = b`` from ``lu_factor(a)``, ``op`` as in ``solve_triangular``.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> a = np.array([[1., 2.], [3., 4.]])
    >>> xsl.lu_solve(xsl.lu_factor(a), np.array([5., 11.]))
    array([1., 2.])
    """
    lu_, piv = lu_and_piv
    t = _trans(trans, "lu_solve")
    lu_ = _mat(lu_, "lu_solve", square=True)
    lu_, b, vec = _rhs(lu_, b, "lu_solve")
    n = M.shape(lu_)[-1]
    perm = lla.lu_pivots_to_permutation(xnp.asarray(piv, np.int32), n)

    def run(lu_, b):
        p = perm
        if M.shape(p)[:-1] != M.shape(lu_)[:-2]:
            p = xnp.broadcast_to(p, M.shape(lu_)[:-2] + (n,))
        return lla.lu_solve(lu_, p, b, trans=t)

    if M.ndim(lu_) == 2 and M.ndim(b) > 2:
        return _unvec(_batched(run, lu_, b), vec)
    batch = nla._batch_shape("lu_solve", M.shape(lu_)[:-2], M.shape(b)[:-2])
    return _unvec(run(nla._bcast(lu_, batch), nla._bcast(b, batch)), vec)


def lu(a, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True,
       p_indices: bool = False):
    """LU decomposition with partial pivoting of ``m x n`` matrices: ``(p, l, u)`` with
    ``a = p @ l @ u`` (``p`` a permutation matrix, or with ``p_indices`` the row indices:
    ``a = l[p] @ u``), or ``(p @ l, u)`` with ``permute_l``.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> p, l, u = xsl.lu(np.array([[1., 2.], [3., 4.]]))
    >>> p
    array([[0., 1.],
           [1., 0.]])
    """
    a = _mat(a, "lu")
    lu_, _, perm = lla.lu(a)
    m, n = M.shape(a)[-2:]
    k = min(m, n)
    dt = M.dtype(a)
    l_ = lax.add(M.tril(lu_[..., :, :k], -1), M.eye(m, dt, k))
    u = M.triu(lu_[..., :k, :])
    # perm: a[perm] = l @ u, so a = P^T l u with P^T[i, j] = (perm[j] == i)
    inv_perm = xnp.argsort(perm, axis=-1).astype(np.int32)
    if permute_l:
        return xnp.take_along_axis(l_, inv_perm[..., :, None], axis=-2), u
    if p_indices:
        return inv_perm, l_, u
    iota = lax.broadcasted_iota(np.int32, M.shape(perm) + (m,), M.ndim(perm))
    p = lax.convert_element_type(lax.eq(lax.expand_dims(perm, (M.ndim(perm),)), iota), dt)
    return M.mT(p), l_, u


# -- general solve -------------------------------------------------------------------------

_ASSUME = {"gen": "gen", "general": "gen", "sym": "gen", "symmetric": "gen", "her": "gen",
           "hermitian": "gen", "pos": "pos", "positive definite": "pos",
           "lower triangular": "lower", "upper triangular": "upper", "diagonal": "diagonal"}


def solve(a, b, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, assume_a: str = "gen"):
    """Solve ``a x = b`` for square ``a``, by what ``assume_a`` says of it: 'gen'
    (general: LU with partial pivoting; also for 'sym' and 'her', reading the whole matrix,
    as JAX; scipy reads one triangle), 'pos' (Hermitian
    positive definite: Cholesky), 'lower triangular', 'upper triangular', 'diagonal'.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.solve(np.array([[4., 2.], [2., 5.]]), np.array([8., 9.]), assume_a="pos")
    array([1.375, 1.25 ])
    """
    kind = _ASSUME.get(assume_a)
    if kind is None:
        raise ValueError(f"solve: assume_a must be one of {sorted(_ASSUME)}, got {assume_a!r}")
    a = _mat(a, "solve", square=True)
    if kind == "pos":
        return cho_solve(cho_factor(a, lower=lower), b)
    if kind in ("lower", "upper"):
        return solve_triangular(a, b, lower=kind == "lower")
    if kind == "diagonal":
        a, b2, vec = _rhs(a, b, "solve")
        x = lax.div(b2, M.col(M.diag_part(a)))
        return _unvec(x, vec)
    a, b2, vec = _rhs(a, b, "solve")
    return _unvec(_batched(nla._lu_solve_same_batch, a, b2), vec)


def inv(a, overwrite_a: bool = False, check_finite: bool = True):
    """Inverse of square matrices.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.inv(np.array([[2., 0.], [0., 4.]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return nla.inv(a)


def det(a, overwrite_a: bool = False, check_finite: bool = True):
    """Determinant (its derivative, the adjugate, is finite at singular matrices).

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> float(xsl.det(np.array([[2., 0.], [0., 4.]])))
    8.0
    """
    return nla.det(a)


# -- decompositions ------------------------------------------------------------------------

def qr(a, overwrite_a: bool = False, lwork=None, mode: str = "full", pivoting: bool = False,
       check_finite: bool = True):
    """QR decomposition: ``(q, r)`` for modes 'full' (``q`` m x m, ``r`` m x n) and
    'economic' (``q`` m x k, ``r`` k x n), ``(r,)`` (m x n) for 'r'. (Column pivoting
    and the 'raw' mode are not provided.)

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> q, r = xsl.qr(np.array([[3., 1.], [4., 2.], [0., 1.]]), mode="economic")
    >>> q.shape, r.shape
    ((3, 2), (2, 2))
    """
    if pivoting:
        raise NotImplementedError("qr: column pivoting (LAPACK geqp3) is not provided; use "
                                  "pivoting=False")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"qr: mode must be 'full', 'economic' or 'r', got {mode!r} (the "
                         f"'raw' Householder form is not provided)")
    q, r = lla.qr(_mat(a, "qr"), full_matrices=mode != "economic")
    return (r,) if mode == "r" else (q, r)


def eigh(a, b=None, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, type: int = 1, check_finite: bool = True,  # noqa: A002
         subset_by_index=None, subset_by_value=None, driver=None):
    """Eigenvalues (ascending) and eigenvectors of Hermitian ``a``, or of the generalized
    problem ``a v = w b v`` with Hermitian positive-definite ``b`` (``type=1``; reduced
    with the Cholesky factor of ``b``: ``v`` is ``b``-orthonormal). ``subset_by_index``
    ``(lo, hi)`` keeps eigenvalues lo..hi (inclusive). Returns ``(w, v)`` or ``w``.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.eigh(np.array([[2., 1.], [1., 2.]]), eigvals_only=True)
    array([1., 3.])
    """
    if type != 1:
        raise NotImplementedError(f"eigh: generalized problem type {type} is not provided "
                                  f"(type=1: a v = w b v)")
    if subset_by_value is not None:
        raise NotImplementedError("eigh: subset_by_value makes the result's size depend on "
                                  "the values; use subset_by_index")
    a = _mat(a, "eigh", square=True)
    if b is None:
        v, w = lla.eigh(a, lower=lower)
    else:
        bm = _mat(b, "eigh", square=True)
        a, bm = nla._common("eigh", a, bm)
        L = lla.cholesky(bm)
        # C = L^-1 a L^-H has the eigenvalues; v = L^-H y
        t = lla.triangular_solve(L, a, left_side=True, lower=True)
        c = lla.triangular_solve(L, t, left_side=False, lower=True, transpose_a=True,
                                 conjugate_a=True)
        y, w = lla.eigh(c, lower=lower)
        v = lla.triangular_solve(L, y, left_side=True, lower=True, transpose_a=True,
                                 conjugate_a=True)
    if subset_by_index is not None:
        lo, hi = (int(i) for i in subset_by_index)
        w, v = w[..., lo:hi + 1], v[..., lo:hi + 1]
    return w if eigvals_only else (w, v)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd"):
    """Singular value decomposition: ``(U, s, Vh)`` or ``s`` (descending). LAPACK's gesdd
    computes it whatever ``lapack_driver`` says.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.svd(np.array([[0., 2.], [1., 0.]]), compute_uv=False)
    array([2., 1.])
    """
    res = lla.svd(_mat(a, "svd"), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(res) if compute_uv else res


# -- matrix exponential --------------------------------------------------------------------

# Higham, "The scaling and squaring method for the matrix exponential revisited" (2005):
# Pade coefficients b_j of degree m and the 1-norm bounds theta_m up to which the degree-m
# approximant is accurate to the unit roundoff (double; single precision stops at 7).
_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.),
}
_THETA64 = ((3, 1.495585217958292e-002), (5, 2.539398330063230e-001),
            (7, 9.504178996162932e-001), (9, 2.097847961257068e+000),
            (13, 5.371920351148152e+000))
_THETA32 = ((3, 4.258730016922831e-001), (5, 1.880152677804762e+000),
            (7, 3.925724783138660e+000))


def _pade(A, m):
    """(U, V): the odd and even parts of the degree-m Pade numerator, r_m = (V+U)/(V-U)."""
    b = _PADE[m]
    eye = M.eye(M.shape(A)[-1], M.dtype(A))
    A2 = M.mm(A, A)
    if m == 13:
        A4 = M.mm(A2, A2)
        A6 = M.mm(A4, A2)
        odd_hi = lax.add(lax.add(lax.mul(A6, b[13]), lax.mul(A4, b[11])), lax.mul(A2, b[9]))
        odd = lax.add(lax.add(lax.add(M.mm(A6, odd_hi), lax.mul(A6, b[7])),
                              lax.add(lax.mul(A4, b[5]), lax.mul(A2, b[3]))), lax.mul(eye, b[1]))
        even_hi = lax.add(lax.add(lax.mul(A6, b[12]), lax.mul(A4, b[10])), lax.mul(A2, b[8]))
        even = lax.add(lax.add(lax.add(M.mm(A6, even_hi), lax.mul(A6, b[6])),
                               lax.add(lax.mul(A4, b[4]), lax.mul(A2, b[2]))), lax.mul(eye, b[0]))
        return M.mm(A, odd), even
    powers = [eye, A2]
    for _ in range(2, m // 2 + 1):
        powers.append(M.mm(powers[-1], A2))
    odd, even = lax.mul(eye, b[1]), lax.mul(eye, b[0])
    for j in range(1, m // 2 + 1):
        odd = lax.add(odd, lax.mul(powers[j], b[2 * j + 1]))
        even = lax.add(even, lax.mul(powers[j], b[2 * j]))
    return M.mm(A, odd), even


def _expm_one(A, max_squarings):
    thetas = _THETA64 if M.real_dtype(M.dtype(A)) == np.float64 else _THETA32
    rdt = M.real_dtype(M.dtype(A))
    norm1 = xnp.max(xnp.sum(xnp.abs(A), axis=-2), axis=-1)
    top_m, top_theta = thetas[-1]
    # scaling for the top degree: ||A / 2^s||_1 <= theta
    s = xnp.maximum(0.0, xnp.ceil(xnp.log2(lax.div(norm1, rdt.type(top_theta)))))
    s = xnp.where(xnp.isfinite(s), s, 0.0)
    idx = xnp.sum(lax.gt(norm1, xnp.asarray([t for _, t in thetas[:-1]], rdt)))
    squarings = xnp.where(idx == len(thetas) - 1, s, 0.0)

    def branch(m, scaled):
        def f(A, squarings):
            if scaled:
                A = lax.div(A, M.as_dtype(lax.pow(rdt.type(2.0), squarings), M.dtype(A)))
            return _pade(A, m)
        return f

    branches = [branch(m, i == len(thetas) - 1) for i, (m, _) in enumerate(thetas)]
    U, V = lax.switch(idx, branches, A, squarings)
    R = nla.solve(lax.sub(V, U), lax.add(V, U))

    def square(R, i):
        R = lax.cond(lax.lt(i, squarings), lambda r: M.mm(r, r), lambda r: r, R)
        return R, None

    R, _ = lax.scan(square, R, xnp.arange(max_squarings, dtype=rdt))
    too_many = lax.gt(squarings, rdt.type(max_squarings))
    return xnp.where(too_many, xnp.full_like(R, np.nan), R)


def expm(A, *, upper_triangular: bool = False, max_squarings: int = 16):
    """Matrix exponential by scaling and squaring with Pade approximants (Higham 2005:
    degree 3 to 13 chosen from the 1-norm; float32 uses up to degree 7), written with
    lax operations, so it is differentiable to any order (the derivative follows the
    computation, i.e. it is the derivative of the approximant). More than
    ``max_squarings`` halvings needed (a 1-norm above about ``5.4 * 2**16`` in float64)
    gives NaNs, as JAX. ``upper_triangular`` is accepted for JAX compatibility.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> np.round(xsl.expm(np.array([[0., 1.], [-1., 0.]])), 6)
    array([[ 0.540302,  0.841471],
           [-0.841471,  0.540302]])
    """
    from ..vmap import vmap

    A = _mat(A, "expm", square=True)
    shape = M.shape(A)
    if len(shape) == 2:
        return _expm_one(A, int(max_squarings))
    flat = xnp.reshape(A, (-1,) + shape[-2:])
    out = vmap(lambda x: _expm_one(x, int(max_squarings)))(flat)
    return xnp.reshape(out, shape)


def block_diag(*arrs):
    """Block-diagonal matrix from 2-d blocks (0-d and 1-d arrays count as 1 x n rows),
    in the promoted dtype.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.block_diag(np.ones((1, 2)), 2 * np.ones((2, 1)))
    array([[1., 1., 0.],
           [0., 0., 2.],
           [0., 0., 2.]])
    """
    if not arrs:
        return xnp.zeros((1, 0))
    blocks = [xnp.atleast_2d(xnp.asarray(a)) for a in arrs]
    for i, b in enumerate(blocks):
        if M.ndim(b) != 2:
            raise ValueError(f"block_diag: argument {i} has {M.ndim(b)} dimensions; blocks must "
                             f"have at most 2")
    dt = np.result_type(*[M.dtype(b) for b in blocks])
    ncols = sum(M.shape(b)[1] for b in blocks)
    rows, col = [], 0
    for b in blocks:
        r, c = M.shape(b)
        rows.append(xnp.pad(xnp.asarray(b, dt), ((0, 0), (col, ncols - col - c))))
        col += c
    return xnp.concatenate(rows, axis=0)
