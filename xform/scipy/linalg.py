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

import operator

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
          debug: bool = False, check_finite: bool = True, assume_a: str = "gen",
          transposed: bool = False):
    """Solve ``a x = b`` (or ``a^T x = b`` with ``transposed``) for square ``a``, by what
    ``assume_a`` says of it: 'gen' (general: LU with partial pivoting; also for 'sym'
    and 'her', reading the whole matrix, as JAX; scipy reads one triangle), 'pos'
    (Hermitian positive definite: Cholesky), 'lower triangular', 'upper triangular',
    'diagonal'. JAX's positional order (``debug`` before ``check_finite``; both ignored).

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.solve(np.array([[4., 2.], [2., 5.]]), np.array([8., 9.]), assume_a="pos")
    array([1.375, 1.25 ])
    """
    kind = _ASSUME.get(assume_a)
    if kind is None:
        raise ValueError(f"solve: assume_a must be one of {sorted(_ASSUME)}, got {assume_a!r}")
    a = _mat(a, "solve", square=True)
    if transposed:
        a = M.mT(a)
        kind = {"lower": "upper", "upper": "lower"}.get(kind, kind)
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


def inv(a, overwrite_a: bool = False, check_finite: bool = True, *, assume_a: str | None = None,
        lower: bool = False):
    """Inverse of square matrices; ``assume_a`` (scipy's; default general) as in
    ``solve``: 'pos' inverts through the Cholesky factor, the triangular kinds by
    triangular solves, 'diagonal' by reciprocals.

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.inv(np.array([[2., 0.], [0., 4.]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    if assume_a is None or _ASSUME.get(assume_a) == "gen":
        return nla.inv(a)
    a = _mat(a, "inv", square=True)
    eye = xnp.broadcast_to(M.eye(M.shape(a)[-1], M.dtype(a)), M.shape(a))
    return solve(a, eye, lower=lower, assume_a=assume_a)


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
    """QR decomposition, as ``scipy.linalg.qr``: ``(Q, R)`` for modes 'full' (``Q``
    m x m, ``R`` m x n) and 'economic' (``Q`` m x k, ``R`` k x n), ``(R,)`` (m x n) for
    'r', and ``((qr, tau), R)`` for 'raw' (LAPACK's Householder form: ``R`` k x n in
    the upper triangle of ``qr``, the reflectors below it, and their scalars ``tau``).
    With ``pivoting`` (LAPACK geqp3) the columns are permuted so that ``|diag(R)|`` does
    not increase and the int32 permutation ``P`` is appended (``a[:, P] = Q @ R``).
    Every mode but 'raw' is differentiable (the derivative holds ``P`` constant).

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> q, r = xsl.qr(np.array([[3., 1.], [4., 2.], [0., 1.]]), mode="economic")
    >>> q.shape, r.shape
    ((3, 2), (2, 2))
    >>> r, p = xsl.qr(np.array([[1., 3.], [0., 4.]]), mode="r", pivoting=True)
    >>> r, p
    (array([[-5. , -0.6],
           [ 0. , -0.8]]), array([1, 0], dtype=int32))
    """
    if mode not in ("full", "economic", "r", "raw"):
        raise ValueError(f"qr: mode must be 'full', 'economic', 'r' or 'raw', got {mode!r}")
    a = _mat(a, "qr")
    if mode == "raw":
        h, tau, *p = lla.geqrf_pivoted(a) if pivoting else lla.geqrf(a)
        k = min(M.shape(a)[-2:])
        return ((h, tau), M.triu(h[..., :k, :])) + tuple(p)
    q, r, *p = lla.qr(a, full_matrices=mode != "economic", pivoting=bool(pivoting))
    return ((r,) if mode == "r" else (q, r)) + tuple(p)


_EIGH_DRIVERS = ("ev", "evd", "evr", "evx", "gv", "gvd", "gvx")


def _eigh_index_range(lo, hi, n):
    try:
        lo, hi = (operator.index(i) for i in (lo, hi))
    except TypeError:
        raise TypeError(f"eigh: subset_by_index must be a pair of integers, got "
                        f"{(lo, hi)!r}") from None
    if not 0 <= lo <= hi < n:
        raise ValueError(f"eigh: subset_by_index {[lo, hi]} must satisfy 0 <= lo <= hi <= "
                         f"{n - 1} (inclusive indices of the ascending eigenvalues of a "
                         f"{n}x{n} matrix)")
    return lo, hi


def _eigh_value_range(w, lo, hi):
    """The (inclusive) index range of the eigenvalues in ``(lo, hi]``: its size depends
    on the values, so they must be concrete (not traced by jit or vmap)."""
    from ..core.trace import ConcretizationTypeError, Tracer

    def ints(x):
        if isinstance(x, Tracer):
            x = x._concrete("eigh's subset_by_value")
        return [int(c) for c in np.ravel(np.asarray(x))]

    try:
        starts = ints(xnp.sum(lax.le(w, lo), axis=-1))
        ends = ints(xnp.sum(lax.le(w, hi), axis=-1))
    except ConcretizationTypeError:
        raise ValueError(
            "eigh: subset_by_value selects a number of eigenvalues that depends on their "
            "values, which are traced here (jit/vmap); use subset_by_index (a fixed number), "
            "or compute all eigenvalues and mask them with xnp.where") from None
    if len(set(starts)) > 1 or len(set(ends)) > 1:
        raise ValueError(f"eigh: subset_by_value selects different eigenvalues in the matrices "
                         f"of the stack (index ranges {list(zip(starts, ends))}); call it per "
                         f"matrix")
    return starts[0], ends[0] - 1


def eigh(a, b=None, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals=None, type: int = 1,  # noqa: A002
         check_finite: bool = True, *, subset_by_index=None, subset_by_value=None,
         driver=None):
    """Eigenvalues (ascending) and eigenvectors of Hermitian ``a`` (``scipy.linalg.eigh``,
    JAX's positional order), or of a generalized problem with Hermitian positive-definite
    ``b``: ``type=1`` ``a v = w b v``, ``type=2`` ``a b v = w v``, ``type=3``
    ``b a v = w v``. The generalized problem is reduced with the Cholesky factor
    ``b = L L^H`` to the standard one of ``L^-1 a L^-H`` (type 1) or ``L^H a L`` (types 2,
    3), so it is differentiable in ``a`` and ``b``; ``v`` is normalized as LAPACK's
    sygvd: ``v^H b v = I`` (types 1, 2), ``v^H b^-1 v = I`` (type 3).

    ``subset_by_index=(lo, hi)`` keeps the eigenvalues lo..hi (inclusive; ``eigvals`` is
    its old name); ``subset_by_value=(lo, hi)`` those in ``(lo, hi]``, which needs
    concrete values (not under jit: the result's size would depend on them). All
    eigenvalues are computed either way. Returns ``(w, v)``, or ``w`` with
    ``eigvals_only``. ``turbo``, ``driver``, ``overwrite_*`` and ``check_finite`` are
    accepted and ignored (LAPACK syevd/heevd computes every case).

    >>> import numpy as np, xform.scipy.linalg as xsl
    >>> xsl.eigh(np.array([[2., 1.], [1., 2.]]), eigvals_only=True)
    array([1., 3.])
    >>> xsl.eigh(np.array([[2., 0.], [0., 6.]]), np.diag([1., 2.]), eigvals_only=True)
    array([2., 3.])
    """
    if type not in (1, 2, 3):
        raise ValueError(f"eigh: type must be 1 (a v = w b v), 2 (a b v = w v) or 3 "
                         f"(b a v = w v), got {type!r}")
    if driver is not None and driver not in _EIGH_DRIVERS:
        raise ValueError(f"eigh: driver must be one of {_EIGH_DRIVERS} or None, got {driver!r}")
    if eigvals is not None:
        if subset_by_index is not None:
            raise ValueError("eigh: give subset_by_index or its old name eigvals, not both")
        subset_by_index = eigvals
    if subset_by_index is not None and subset_by_value is not None:
        raise ValueError("eigh: either subset_by_index or subset_by_value can be given, not "
                         "both")
    if b is None and type != 1:
        raise ValueError(f"eigh: type={type} is a generalized problem: it needs b")
    a = _mat(a, "eigh", square=True)
    n = M.shape(a)[-1]
    if b is None:
        v, w = lla.eigh(a, lower=lower)
    else:
        bm = _mat(b, "eigh", square=True)
        if M.shape(bm)[-1] != n:
            raise ValueError(f"eigh: a is {n}x{n} but b is {M.shape(bm)[-1]}x"
                             f"{M.shape(bm)[-1]}; they must have the same size")
        a, bm = nla._common("eigh", a, bm)
        batch = nla._batch_shape("eigh", M.shape(a)[:-2], M.shape(bm)[:-2])
        a, bm = nla._bcast(a, batch), nla._bcast(bm, batch)
        L = lla.cholesky(bm)
        tri = dict(lower=True, transpose_a=True, conjugate_a=True)
        if type == 1:  # C = L^-1 a L^-H, v = L^-H y
            t = lla.triangular_solve(L, a, left_side=True, lower=True)
            c = lla.triangular_solve(L, t, left_side=False, **tri)
        else:  # C = L^H a L; v = L^-H y (type 2) or L y (type 3)
            c = M.mm(M.mH(L), M.mm(a, L))
        y, w = lla.eigh(c, lower=lower)
        v = M.mm(L, y) if type == 3 else lla.triangular_solve(L, y, left_side=True, **tri)
    if subset_by_index is not None:
        lo, hi = _eigh_index_range(*subset_by_index, n)
    elif subset_by_value is not None:
        lo_v, hi_v = subset_by_value
        if not -np.inf <= lo_v < hi_v <= np.inf:
            raise ValueError(f"eigh: subset_by_value {(lo_v, hi_v)} must be an interval (lo, hi] "
                             f"with -inf <= lo < hi <= inf")
        lo, hi = _eigh_value_range(w, lo_v, hi_v)
    else:
        lo, hi = 0, n - 1
    if (lo, hi) != (0, n - 1):
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
