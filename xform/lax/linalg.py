"""Linear-algebra primitives (JAX's ``lax.linalg``): cholesky, triangular_solve, lu,
lu_pivots_to_permutation, qr (optionally column-pivoted), geqrf (the Householder form),
eigh, svd, eig. Each works on stacks of matrices (the
last two dimensions; leading dimensions are a batch) and carries its whole rule table:

- ``impl``: numpy's / scipy's LAPACK (``_linalg_impl.py``); failed factorizations give
  NaNs, as in JAX (see there);
- ``abstract_eval``: ranks, squareness and dtypes (float32, float64, complex64,
  complex128; the user-facing functions convert integers to float64 like numpy);
- ``jvp``: the matrix-calculus rules (``_linalg_jvp.py``), written with lax operations,
  so derivatives of any order compose; ``transpose`` for triangular_solve in ``b``;
- ``batch``: the vmapped axis becomes one more leading dimension;
- the Numba lowering (``xform/backend/numba/linalg.py``) calls LAPACK inside the kernel.

Derivative conventions at repeated eigenvalues / singular values and at singular
matrices are in ``docs/autodiff.md`` ("Linear algebra").
"""
from __future__ import annotations

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.jvp import Zero, defjvp
from ..interpreters.transpose import is_undefined
from . import _linalg_impl as impl
from . import _matrix as M
from ._rules import move_bdim_to_front
from .elementwise import convert_element_type, mul
from .structural import broadcast_in_dim, moveaxis, reshape, shape_of

__all__ = ["cholesky", "triangular_solve", "lu", "lu_pivots_to_permutation", "qr", "geqrf",
           "geqrf_pivoted", "eigh", "svd", "eig", "symmetrize",
           "cholesky_p", "triangular_solve_p", "lu_p", "lu_pivots_to_permutation_p", "qr_p",
           "geqrf_p", "eigh_p", "svd_p", "eig_p"]

_LAPACK_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128))


def _check(name: str, x: ShapedArray, arg: str = "x", square: bool = False):
    if x.ndim < 2:
        raise ValueError(f"{name}: {arg} must be a matrix or a stack of matrices (rank >= 2), "
                         f"got {x.str_short()}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}: {arg} must be square in its last two dimensions, got shape "
                         f"{x.shape}")
    if x.dtype not in _LAPACK_DTYPES:
        raise TypeError(f"{name}: {arg} has dtype {x.dtype}; LAPACK computes in float32, "
                        f"float64, complex64 or complex128. The xform.lax.linalg and "
                        f"xform.numpy.linalg functions convert integers to float64; convert "
                        f"other types first (x.astype(np.float32)).")


def promote(x, name: str):
    """numpy.linalg's input conversion: integers and booleans become float64; float16 is
    refused (numpy: "array type float16 is unsupported in linalg")."""
    a = get_aval(x)
    if a.dtype.kind in "biu":
        return convert_element_type(x, np.float64)
    if a.dtype not in _LAPACK_DTYPES:
        raise TypeError(f"{name}: array type {a.dtype} is unsupported in linalg (LAPACK "
                        f"computes in float32, float64, complex64 or complex128); convert it "
                        f"with .astype(np.float32) first.")
    return x


def _checked(prim, fn):
    """The eager impl, after the shape and dtype checks of ``abstract_eval`` (negligible
    next to a LAPACK call; numpy would accept integers or raise its own messages)."""
    from ..core.abstract import concrete_aval

    def impl(*args, **params):
        prim.abstract_eval(*[concrete_aval(a, prim.name) for a in args], **params)
        return fn(*args, **params)

    return impl


def _batch_unary(prim):
    """vmap rule of a one-operand primitive: the vmapped axis becomes a leading batch
    dimension, which every rule handles."""

    def rule(vals, dims, **params):
        (x,), (d,) = vals, dims
        out = prim.bind(move_bdim_to_front(x, d), **params)
        if prim.multiple_results:
            return out, [0] * len(out)
        return out, 0

    return rule


def _real(dt):
    return M.real_dtype(dt)


# -- cholesky ------------------------------------------------------------------------------

cholesky_p = Primitive("cholesky")


def _cholesky_abstract(x, *, symmetrize_input):
    _check("cholesky", x, square=True)
    return ShapedArray(x.shape, x.dtype, False)


cholesky_p.impl = _checked(cholesky_p, impl.cholesky)
cholesky_p.abstract_eval = _cholesky_abstract
cholesky_p.batch = _batch_unary(cholesky_p)


def symmetrize(x):
    """``(x + x^H) / 2``: the Hermitian part of each matrix.

    >>> import numpy as np
    >>> symmetrize(np.array([[1., 2.], [0., 1.]]))
    array([[1., 1.],
           [1., 1.]])
    """
    from .elementwise import add

    return mul(add(x, M.mH(x)), 0.5)


def cholesky(x, *, symmetrize_input: bool = True):
    """Lower Cholesky factor ``L`` of Hermitian positive-definite matrices (``x = L L^H``).

    With ``symmetrize_input`` the factor is that of ``(x + x^H) / 2`` (so derivatives are
    symmetric); without, only the lower triangle of ``x`` is read (both are parameters
    of the primitive). A matrix that is not
    positive definite gives NaNs (as JAX; numpy raises).

    >>> import numpy as np
    >>> cholesky(np.array([[4., 2.], [2., 5.]]))
    array([[2., 0.],
           [1., 2.]])
    """
    x = promote(x, "cholesky")
    # the symmetrization is a parameter of the primitive (not a separate x + x^H): the
    # kernel averages the two triangles while copying the input for LAPACK, in tiles
    return cholesky_p.bind(x, symmetrize_input=bool(symmetrize_input))


# -- triangular_solve ----------------------------------------------------------------------

triangular_solve_p = Primitive("triangular_solve")
_TS_PARAMS = ("left_side", "lower", "transpose_a", "conjugate_a", "unit_diagonal")


def _ts_abstract(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    _check("triangular_solve", a, "a", square=True)
    _check("triangular_solve", b, "b")
    desc = f"triangular_solve: a {a.str_short()}, b {b.str_short()}, left_side={left_side}"
    if a.dtype != b.dtype:
        raise TypeError(f"{desc}: a and b must have the same dtype (xform.numpy and "
                        f"xform.scipy.linalg promote)")
    if a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"{desc}: a and b must have the same leading (batch) dimensions "
                         f"(xform.scipy.linalg.solve_triangular broadcasts them)")
    k = b.shape[-2] if left_side else b.shape[-1]
    if a.shape[-1] != k:
        which = "rows" if left_side else "columns"
        raise ValueError(f"{desc}: a is {a.shape[-1]}x{a.shape[-1]} but b has {k} {which}")
    return ShapedArray(b.shape, b.dtype, False)


def _ts_transpose(ct, a, b, **params):
    if is_undefined(a):
        raise ValueError("triangular_solve: transpose with respect to the matrix a (the solve "
                         "is linear only in b)")
    if type(ct) is Zero:
        return [None, Zero(b.aval)]
    p = dict(params, transpose_a=not params["transpose_a"])
    return [None, triangular_solve_p.bind(a, ct, **p)]


def _ts_batch(vals, dims, **params):
    (a, b), (ad, bd) = vals, dims
    if ad is None:
        # b alone is batched: the vmapped axis joins b's free dimension (one solve with
        # more right-hand sides, no copies of a)
        b = move_bdim_to_front(b, bd)
        s = shape_of(b)
        nb = len(s) - 3  # b's own batch dims
        size, m, n = s[0], s[-2], s[-1]
        if params["left_side"]:
            bb = reshape(moveaxis(b, 0, -1), s[1:-1] + (n * size,))
            x = triangular_solve_p.bind(a, bb, **params)
            return reshape(x, s[1:] + (size,)), nb + 2
        bb = reshape(moveaxis(b, 0, -3), s[1:-2] + (size * m, n))
        x = triangular_solve_p.bind(a, bb, **params)
        return reshape(x, s[1:-2] + (size, m, n)), nb
    a = move_bdim_to_front(a, ad)
    size = shape_of(a)[0]
    if bd is None:
        sb = shape_of(b)
        b = broadcast_in_dim(b, (size,) + sb, tuple(range(1, len(sb) + 1)))
    else:
        b = move_bdim_to_front(b, bd)
    return triangular_solve_p.bind(a, b, **params), 0


def _ts_impl(a, b, **params):
    return impl.triangular_solve(a, b, **params)


triangular_solve_p.impl = _checked(triangular_solve_p, _ts_impl)
triangular_solve_p.abstract_eval = _ts_abstract
triangular_solve_p.transpose = _ts_transpose
triangular_solve_p.batch = _ts_batch


def triangular_solve(a, b, *, left_side: bool = False, lower: bool = False,
                     transpose_a: bool = False, conjugate_a: bool = False,
                     unit_diagonal: bool = False):
    """Solve ``op(a) @ x = b`` (``left_side``) or ``x @ op(a) = b`` for ``x``, with ``a``
    triangular (only its ``lower`` or upper triangle is read; with ``unit_diagonal`` its
    diagonal is taken as ones) and ``op(a) = a``, ``a^T`` (``transpose_a``), ``conj(a)``
    (``conjugate_a``) or ``a^H`` (both). ``a`` and ``b`` share their leading (batch)
    dimensions, as in JAX. A zero on the diagonal gives infinities or NaNs.

    >>> import numpy as np
    >>> a = np.array([[2., 0.], [1., 4.]])
    >>> triangular_solve(a, np.array([[2.], [9.]]), left_side=True, lower=True)
    array([[1.],
           [2.]])
    """
    a, b = promote(a, "triangular_solve"), promote(b, "triangular_solve")
    dt = np.result_type(get_aval(a).dtype, get_aval(b).dtype)
    a, b = M.as_dtype(a, dt), M.as_dtype(b, dt)
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a),
                                   conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


# -- lu ------------------------------------------------------------------------------------

lu_pivots_to_permutation_p = Primitive("lu_pivots_to_permutation")


def _p2p_abstract(pivots, *, permutation_size):
    if pivots.ndim < 1 or pivots.dtype != np.int32:
        raise TypeError(f"lu_pivots_to_permutation: pivots must be an int32 array of rank >= 1, "
                        f"got {pivots.str_short()}")
    if pivots.shape[-1] > permutation_size:
        raise ValueError(f"lu_pivots_to_permutation: {pivots.shape[-1]} pivots for a "
                         f"permutation of size {permutation_size}")
    return ShapedArray(pivots.shape[:-1] + (permutation_size,), np.dtype(np.int32), False)


lu_pivots_to_permutation_p.impl = _checked(lu_pivots_to_permutation_p, impl.pivots_to_permutation)
lu_pivots_to_permutation_p.abstract_eval = _p2p_abstract
defjvp(lu_pivots_to_permutation_p, None)  # integer result: its tangent is always Zero
lu_pivots_to_permutation_p.batch = _batch_unary(lu_pivots_to_permutation_p)


def lu_pivots_to_permutation(pivots, permutation_size: int):
    """The permutation made by LAPACK-style pivots: starting from ``arange(size)``, swap
    entries ``i`` and ``pivots[i]`` for each i in order (0-based int32 pivots).

    >>> import numpy as np
    >>> lu_pivots_to_permutation(np.array([2, 2], np.int32), 3)
    array([2, 0, 1], dtype=int32)
    """
    return lu_pivots_to_permutation_p.bind(pivots, permutation_size=int(permutation_size))


lu_p = Primitive("lu", multiple_results=True)


def _lu_abstract(x):
    _check("lu", x)
    m, n = x.shape[-2:]
    batch = x.shape[:-2]
    i32 = np.dtype(np.int32)
    return [ShapedArray(x.shape, x.dtype, False), ShapedArray(batch + (min(m, n),), i32, False),
            ShapedArray(batch + (m,), i32, False)]


lu_p.impl = _checked(lu_p, impl.lu)
lu_p.abstract_eval = _lu_abstract
lu_p.batch = _batch_unary(lu_p)


def lu(x):
    """LU decomposition with partial pivoting (LAPACK getrf) of ``m x n`` matrices:
    returns ``(lu, pivots, permutation)`` where ``lu`` holds ``L`` (unit diagonal, below)
    and ``U`` (on and above the diagonal), ``pivots`` (int32, ``min(m, n)``) the row swaps
    and ``permutation`` (int32, ``m``) their result: ``x[..., permutation, :] = L @ U``.
    The three are returned in a list (JAX's result structure).

    >>> import numpy as np
    >>> lu_, piv, perm = lu(np.array([[1., 2.], [3., 4.]]))
    >>> perm
    array([1, 0], dtype=int32)
    >>> lu_
    array([[3.        , 4.        ],
           [0.33333333, 0.66666667]])
    """
    return list(lu_p.bind(promote(x, "lu")))


# -- qr ------------------------------------------------------------------------------------

qr_p = Primitive("qr", multiple_results=True)


def _qr_abstract(x, *, full_matrices, pivoting=False):
    _check("qr", x)
    m, n = x.shape[-2:]
    k = m if full_matrices else min(m, n)
    b = x.shape[:-2]
    outs = [ShapedArray(b + (m, k), x.dtype, False), ShapedArray(b + (k, n), x.dtype, False)]
    if pivoting:
        outs.append(ShapedArray(b + (n,), np.dtype(np.int32), False))
    return outs


qr_p.impl = _checked(qr_p, impl.qr)
qr_p.abstract_eval = _qr_abstract
qr_p.batch = _batch_unary(qr_p)


def qr(x, *, pivoting: bool = False, full_matrices: bool = True):
    """QR decomposition ``x = q @ r`` (Householder, LAPACK geqrf/orgqr): ``q`` has
    orthonormal columns, ``r`` is upper triangular. ``full_matrices``: ``q`` is ``m x m``
    and ``r`` ``m x n``; otherwise ``m x k``, ``k x n`` with ``k = min(m, n)``.

    With ``pivoting`` (LAPACK geqp3) the columns are permuted so that ``|diag(r)|`` does
    not increase: returns ``(q, r, p)`` with ``x[..., :, p] = q @ r`` (``p`` int32). The
    derivative treats ``p`` as constant (it is piecewise constant in ``x``).

    >>> import numpy as np
    >>> q, r = qr(np.array([[3., 1.], [4., 2.]]))
    >>> np.allclose(q @ r, [[3., 1.], [4., 2.]])
    True
    >>> q, r, p = qr(np.array([[1., 3.], [0., 4.]]), pivoting=True)
    >>> p
    array([1, 0], dtype=int32)
    """
    return tuple(qr_p.bind(promote(x, "qr"), full_matrices=bool(full_matrices),
                           pivoting=bool(pivoting)))


# -- geqrf: the Householder form (numpy's and scipy's 'raw' QR modes) ----------------------

geqrf_p = Primitive("geqrf", multiple_results=True)


def _geqrf_abstract(x, *, pivoting):
    _check("geqrf", x)
    m, n = x.shape[-2:]
    b = x.shape[:-2]
    outs = [ShapedArray(x.shape, x.dtype, False), ShapedArray(b + (min(m, n),), x.dtype, False)]
    if pivoting:
        outs.append(ShapedArray(b + (n,), np.dtype(np.int32), False))
    return outs


def _geqrf_jvp(primals, tangents, *, pivoting):
    (x,), (g,) = primals, tangents
    outs = geqrf_p.bind(x, pivoting=pivoting)
    if type(g) is not Zero:
        # (the reflectors' derivative has no published closed form in use; JAX defines
        # none either: the factors themselves are differentiable)
        raise NotImplementedError(
            "geqrf: the Householder form of QR (numpy/scipy 'raw' mode) is not "
            "differentiable; differentiate q and r instead (xform.numpy.linalg.qr with mode "
            "'reduced', 'complete' or 'r', xform.scipy.linalg.qr with mode 'full', "
            "'economic' or 'r')")
    return outs, [Zero.like(o) for o in outs]


geqrf_p.impl = _checked(geqrf_p, impl.geqrf)
geqrf_p.abstract_eval = _geqrf_abstract
geqrf_p.jvp = _geqrf_jvp
geqrf_p.batch = _batch_unary(geqrf_p)


def geqrf(a):
    """QR decomposition in LAPACK's Householder form (geqrf; JAX's ``lax.linalg.geqrf``):
    returns ``(a, taus)``, ``r`` in the upper triangle of ``a`` and below it the
    essential parts of the reflectors ``H_i = I - taus[i] v_i v_i^H`` (``v_i[i] = 1``)
    whose product, in order of ``i``, is ``q``. Not differentiable (use ``qr``).

    >>> import numpy as np
    >>> a, taus = geqrf(np.array([[3., 1.], [4., 2.]]))
    >>> a
    array([[-5. , -2.2],
           [ 0.5,  0.4]])
    >>> taus
    array([1.6, 0. ])
    """
    return tuple(geqrf_p.bind(promote(a, "geqrf"), pivoting=False))


def geqrf_pivoted(a):
    """The Householder form of the column-pivoted QR (LAPACK geqp3): ``(a, taus, p)``,
    as ``geqrf`` for the columns ``a[..., :, p]`` (``p`` int32, 0-based). Not
    differentiable.

    >>> import numpy as np
    >>> a, taus, p = geqrf_pivoted(np.array([[1., 3.], [0., 4.]]))
    >>> p
    array([1, 0], dtype=int32)
    """
    return tuple(geqrf_p.bind(promote(a, "geqrf"), pivoting=True))


# -- eigh ----------------------------------------------------------------------------------

eigh_p = Primitive("eigh", multiple_results=True)


def _eigh_abstract(x, *, lower):
    _check("eigh", x, square=True)
    return [ShapedArray(x.shape, x.dtype, False),
            ShapedArray(x.shape[:-1], _real(x.dtype), False)]


eigh_p.impl = _checked(eigh_p, impl.eigh)
eigh_p.abstract_eval = _eigh_abstract
eigh_p.batch = _batch_unary(eigh_p)


def eigh(x, *, lower: bool = True, symmetrize_input: bool = True,
         sort_eigenvalues: bool = True):
    """Eigendecomposition of Hermitian matrices: returns ``(v, w)`` (JAX's order) with
    real eigenvalues ``w`` ascending and orthonormal eigenvectors in the columns of ``v``
    (``x @ v = v * w``). ``symmetrize_input`` uses ``(x + x^H) / 2``; otherwise only the
    ``lower`` (or upper) triangle is read. LAPACK returns the eigenvalues sorted
    whatever ``sort_eigenvalues`` says.

    >>> import numpy as np
    >>> v, w = eigh(np.array([[2., 1.], [1., 2.]]))
    >>> w
    array([1., 3.])
    """
    x = promote(x, "eigh")
    _check("eigh", get_aval(x), square=True)
    if symmetrize_input:
        x = symmetrize(x)
    v, w = eigh_p.bind(x, lower=bool(lower))
    return v, w


# -- svd -----------------------------------------------------------------------------------

svd_p = Primitive("svd", multiple_results=True)


def _svd_abstract(x, *, full_matrices, compute_uv):
    _check("svd", x)
    m, n = x.shape[-2:]
    k = min(m, n)
    b = x.shape[:-2]
    s = ShapedArray(b + (k,), _real(x.dtype), False)
    if not compute_uv:
        return [s]
    mu, nv = (m, n) if full_matrices else (k, k)
    return [s, ShapedArray(b + (m, mu), x.dtype, False), ShapedArray(b + (nv, n), x.dtype, False)]


svd_p.impl = _checked(svd_p, impl.svd)
svd_p.abstract_eval = _svd_abstract
svd_p.batch = _batch_unary(svd_p)


def svd(x, *, full_matrices: bool = True, compute_uv: bool = True):
    """Singular value decomposition ``x = u @ diag(s) @ vh`` (LAPACK gesdd, as numpy):
    returns ``(u, s, vh)`` with ``s`` descending, or only ``s`` without ``compute_uv``.

    >>> import numpy as np
    >>> svd(np.array([[3., 0.], [0., -4.]]), compute_uv=False)
    array([4., 3.])
    """
    x = promote(x, "svd")
    outs = svd_p.bind(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return outs[0]
    s, u, vh = outs
    return u, s, vh


# -- eig -----------------------------------------------------------------------------------

eig_p = Primitive("eig", multiple_results=True)


def _eig_abstract(x, *, compute_left_eigenvectors, compute_right_eigenvectors):
    _check("eig", x, square=True)
    cdt = np.result_type(x.dtype, np.complex64)
    outs = [ShapedArray(x.shape[:-1], cdt, False)]
    outs += [ShapedArray(x.shape, cdt, False)] * (compute_left_eigenvectors
                                                  + compute_right_eigenvectors)
    return outs


eig_p.impl = _checked(eig_p, impl.eig)
eig_p.abstract_eval = _eig_abstract
eig_p.batch = _batch_unary(eig_p)


def eig(x, *, compute_left_eigenvectors: bool = True, compute_right_eigenvectors: bool = True):
    """Eigendecomposition of general square matrices (LAPACK geev): returns
    ``[w, vl, vr]`` (the eigenvectors asked for), complex whatever the input dtype.
    Eigenvectors have unit 2-norm and their largest component real (LAPACK's choice):
    ``x @ vr = vr * w`` and ``vl^H @ x = w[:, None] * vl^H``.

    >>> import numpy as np
    >>> w, vr = eig(np.array([[2., 0.], [0., 3.]]), compute_left_eigenvectors=False)
    >>> w
    array([2.+0.j, 3.+0.j])
    """
    x = promote(x, "eig")
    return list(eig_p.bind(x, compute_left_eigenvectors=bool(compute_left_eigenvectors),
                           compute_right_eigenvectors=bool(compute_right_eigenvectors)))


# -- a solve on an LU factorization (for rules and the numpy layer) -------------------------

def lu_solve(lu_, permutation, b, trans: int = 0):
    """Solve ``a x = b`` (trans 0), ``a^T x = b`` (1) or ``a^H x = b`` (2) for stacks of
    right-hand-side matrices ``b`` (..., n, k), given ``lu(a)``'s factors (same leading
    dimensions as ``b``)."""
    from .indexing import argsort, take_along_axis

    nd = M.ndim(b)
    perm = broadcast_in_dim(permutation, shape_of(permutation) + (1,), tuple(range(nd - 1)))
    kw = dict(left_side=True, transpose_a=False, conjugate_a=False)
    if trans == 0:
        pb = take_along_axis(b, perm, axis=nd - 2)
        y = triangular_solve_p.bind(lu_, pb, lower=True, unit_diagonal=True, **kw)
        return triangular_solve_p.bind(lu_, y, lower=False, unit_diagonal=False, **kw)
    # a = P^T L U: a^T x = U^T L^T P x = b
    kw = dict(left_side=True, transpose_a=True, conjugate_a=trans == 2)
    z = triangular_solve_p.bind(lu_, b, lower=False, unit_diagonal=False, **kw)
    w = triangular_solve_p.bind(lu_, z, lower=True, unit_diagonal=True, **kw)
    inv = argsort(perm, dimension=nd - 2, index_dtype=np.int32)
    return take_along_axis(w, inv, axis=nd - 2)


def solve(a, b):
    """``a^{-1} b`` for stacks of square ``a`` and matrices ``b`` with the same leading
    dimensions (LU with partial pivoting)."""
    lu_, _, perm = lu_p.bind(a)
    return lu_solve(lu_, perm, b)


from . import _linalg_jvp  # noqa: E402,F401  (attaches the JVP rules)
