"""xform.numpy.linalg and xform.scipy.linalg: values against numpy / scipy (float64,
float32 with error-bound tolerances, complex), broadcasting of stacked matrices,
derivatives (check_grads to order 2, fwd and rev), the documented conventions at
singular matrices and repeated eigenvalues, vmap, jit against eager, error messages,
and a Gaussian-process marginal likelihood with its gradient (the end-to-end use)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import xform
import xform.numpy as xnp
import xform.scipy.linalg as xsl
from _tolerance import gamma
from test_linalg_primitives import close, general, hermitian_pd, lower_tri

XL = xnp.linalg
RNG = np.random.default_rng(7)


def bound(dt, n, magnitude, cond=4.0, c=8):
    """Forward error of a backward-stable solve/decomposition: cond * gamma(c n) * |x|."""
    return (gamma(c * n, dt) + gamma(c * n, np.float64)) * cond * magnitude


def _mag(x):
    return float(np.max(np.abs(x)))


def _ref64(x):
    x = np.asarray(x)
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


# -- numpy.linalg values ---------------------------------------------------------------

@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128, np.complex64])
def test_numpy_solve_inv_det_slogdet(dt):
    a = general(3, (2,), dt)
    b = RNG.standard_normal((2, 3, 2)).astype(dt)
    for got, ref in [(XL.solve(a, b), np.linalg.solve(_ref64(a), _ref64(b))),
                     (XL.inv(a), np.linalg.inv(_ref64(a))),
                     (XL.det(a), np.linalg.det(_ref64(a))),
                     (XL.slogdet(a).logabsdet, np.linalg.slogdet(_ref64(a)).logabsdet),
                     (XL.slogdet(a).sign, np.linalg.slogdet(_ref64(a)).sign)]:
        assert np.asarray(got).dtype.kind == np.dtype(dt).kind or np.asarray(got).dtype.kind == "f"
        close(got, ref, bound(dt, 3, max(1.0, _mag(ref))))


def test_numpy_solve_broadcasting_rules():
    a = general(3, (2,))
    # numpy 2: a 1-d b is a vector; otherwise stacks of matrices broadcast
    close(XL.solve(a[0], np.arange(3.0)), np.linalg.solve(a[0], np.arange(3.0)), 1e-12)
    b = RNG.standard_normal((4, 1, 3, 2))
    close(XL.solve(a, b), np.linalg.solve(a, b), 1e-12)
    close(XL.solve(a[0], b), np.linalg.solve(a[0], b), 1e-12)  # one factorization for all
    close(XL.inv(np.array([[2, 0], [0, 4]])), [[0.5, 0], [0, 0.25]], 0)


@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128])
def test_numpy_decompositions(dt):
    a = general(3, (2,), dt, m=4)
    s = hermitian_pd(3, (2,), dt)
    close(XL.cholesky(s), np.linalg.cholesky(_ref64(s)), bound(dt, 3, 2.0))
    close(XL.cholesky(s, upper=True), np.linalg.cholesky(_ref64(s), upper=True), bound(dt, 3, 2.0))
    res = XL.eigh(s)
    assert type(res).__name__ == "EighResult"
    close(res.eigenvalues, np.linalg.eigvalsh(_ref64(s)), bound(dt, 3, 4.0))
    close(XL.eigvalsh(s, UPLO="U"), np.linalg.eigvalsh(_ref64(s), UPLO="U"), bound(dt, 3, 4.0))
    u, sv, vh = XL.svd(a, full_matrices=False)
    close(sv, np.linalg.svd(_ref64(a), compute_uv=False), bound(dt, 4, 4.0))
    close((u * sv[..., None, :]) @ vh, a, bound(dt, 4, 4.0))
    close(XL.svdvals(a), sv, bound(dt, 4, 4.0))
    q, r = XL.qr(a)
    close(q @ r, a, bound(dt, 4, 4.0))
    assert XL.qr(a, mode="complete").Q.shape == (2, 4, 4) and XL.qr(a, mode="r").shape == (2, 3, 3)
    w = XL.eigvals(s)
    close(np.sort(w.real), np.linalg.eigvalsh(_ref64(s)), bound(dt, 3, 4.0, cond=10))
    ev = XL.eig(s)
    close(_ref64(s) @ ev.eigenvectors, ev.eigenvectors * ev.eigenvalues[..., None, :],
          bound(dt, 3, 4.0, cond=10))


def test_numpy_hermitian_svd_pinv_lstsq_rank_cond_norm():
    s = hermitian_pd(4) - 2.5 * np.eye(4)  # indefinite: |eigenvalues| are the singular values
    u, sv, vh = XL.svd(s, hermitian=True)
    close(sv, np.linalg.svd(s, hermitian=True, compute_uv=False), 1e-12)
    close((u * sv) @ vh, s, 1e-12)
    a = general(3, m=5)
    close(XL.pinv(a), np.linalg.pinv(a), 1e-12)
    rank2 = a[:, :2] @ RNG.standard_normal((2, 3))
    close(XL.pinv(rank2), np.linalg.pinv(rank2), 1e-10)
    y = RNG.standard_normal(5)
    for got, ref in zip(XL.lstsq(a, y), np.linalg.lstsq(a, y)):
        close(got, ref, 1e-11)
    yy = RNG.standard_normal((5, 2))
    x, res, rank, sv2 = XL.lstsq(rank2, yy)
    assert int(rank) == 2 and res.shape == (2,)  # JAX's residuals (numpy: empty, rank < n)
    close(x, np.linalg.lstsq(rank2, yy)[0], 1e-10)
    close(res, np.sum((rank2 @ x - yy) ** 2, axis=0), 1e-10)
    assert int(XL.matrix_rank(rank2)) == 2 and int(XL.matrix_rank(np.zeros(3))) == 0
    assert int(XL.matrix_rank(rank2, tol=1e30)) == 0
    g = general(4)
    for p in [None, 2, -2, "fro", "nuc", np.inf, -np.inf, 1, -1]:
        close(XL.cond(g, p), np.linalg.cond(g, p), 1e-12 * np.linalg.cond(g, p))
    stack = general(3, (2,), m=4)
    for o in [2, -2, "nuc"]:
        close(XL.norm(stack, o, axis=(1, 2)), np.linalg.norm(stack, o, axis=(1, 2)), 1e-12)
    close(XL.matrix_power(g, -2), np.linalg.matrix_power(g, -2), 1e-12)
    a6 = general(6).reshape(6, 2, 3)
    close(XL.tensorsolve(a6, np.arange(6.0)), np.linalg.tensorsolve(a6, np.arange(6.0)), 1e-12)
    t4 = general(4).reshape(4, 2, 2)
    close(XL.tensorinv(t4, ind=1), np.linalg.tensorinv(t4, ind=1), 1e-12)


def test_numpy_failures_follow_jax():
    assert np.all(np.isnan(XL.cholesky(-np.eye(2))))
    assert not np.all(np.isfinite(XL.solve(np.zeros((2, 2)), np.ones(2))))
    sign, logdet = XL.slogdet(np.zeros((2, 2)))
    assert sign == 0 and logdet == -np.inf
    assert XL.det(np.zeros((2, 2))) == 0


# -- scipy.linalg values ---------------------------------------------------------------

@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128])
def test_scipy_solvers(dt):
    s = hermitian_pd(3, dt=dt)
    a = general(3, dt=dt)
    t = lower_tri(3, dt=dt)
    b = RNG.standard_normal((3, 2)).astype(dt)
    s64, a64, t64, b64 = map(_ref64, (s, a, t, b))
    tol = bound(dt, 3, max(1.0, _mag(np.linalg.solve(a64, b64))))
    for lower in (True, False):
        close(xsl.cholesky(s, lower=lower), sl.cholesky(s64, lower=lower), tol)
        close(xsl.cho_solve(xsl.cho_factor(s, lower=lower), b),
              sl.cho_solve(sl.cho_factor(s64, lower=lower), b64), tol)
    for trans in (0, 1, 2, "N", "T", "C"):
        for tri, lower in ((t, True), (np.conj(t.T).copy(), False)):
            close(xsl.solve_triangular(tri, b, trans=trans, lower=lower),
                  sl.solve_triangular(_ref64(tri), b64, trans=trans, lower=lower), tol)
        close(xsl.lu_solve(xsl.lu_factor(a), b, trans=trans if trans in (0, 1, 2) else 0),
              sl.lu_solve(sl.lu_factor(a64), b64, trans=trans if trans in (0, 1, 2) else 0), tol)
    close(xsl.solve_triangular(t, b[:, 0], lower=True, unit_diagonal=True),
          sl.solve_triangular(t64, b64[:, 0], lower=True, unit_diagonal=True), tol * 10)
    # 'sym' and 'her' use the whole matrix (LU), as JAX; scipy reads one triangle, which
    # agrees for matrices that are what assume_a says (s is Hermitian, not complex symmetric)
    for assume in ("gen", "her", "pos") + (("sym",) if np.dtype(dt).kind == "f" else ()):
        close(xsl.solve(s, b, assume_a=assume), sl.solve(s64, b64, assume_a=assume), tol)
    close(xsl.solve(np.triu(a), b, assume_a="upper triangular"),
          np.linalg.solve(np.triu(a64), b64), tol * 100)
    close(xsl.solve(np.diag(np.diag(s)), b, assume_a="diagonal"),
          b64 / np.diag(s64)[:, None], tol)
    close(xsl.inv(a), sl.inv(a64), tol)
    close(xsl.det(a), sl.det(a64), tol * 4)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_scipy_decompositions(shape):
    m, n = shape
    a = general(n, m=m)
    for got, ref in zip(xsl.lu(a), sl.lu(a)):
        close(got, ref, 1e-12)
    for got, ref in zip(xsl.lu(a, permute_l=True), sl.lu(a, permute_l=True)):
        close(got, ref, 1e-12)
    for got, ref in zip(xsl.lu(a, p_indices=True), sl.lu(a, p_indices=True)):
        close(got, ref, 1e-12)
    for mode in ("full", "economic", "r", "raw"):
        for pivoting in (False, True):
            got, ref = xsl.qr(a, mode=mode, pivoting=pivoting), sl.qr(a, mode=mode, pivoting=pivoting)
            assert len(got) == len(ref)
            got, ref = xform.tree_util.tree_leaves(got), xform.tree_util.tree_leaves(list(ref))
            for g, r in zip(got, ref):  # the same LAPACK routines: the same signs
                assert np.shape(g) == np.shape(r) and np.asarray(g).dtype == r.dtype
                close(g, r, 1e-12)
    for mode in ("reduced", "complete", "r", "raw"):
        got, ref = XL.qr(a, mode=mode), np.linalg.qr(a, mode=mode)
        for g, r in zip(xform.tree_util.tree_leaves(got), xform.tree_util.tree_leaves(list(ref))
                        if mode != "r" else [ref]):
            close(g, r, 1e-12)
    close(xsl.svd(a)[1], sl.svd(a)[1], 1e-12)
    close(xsl.svd(a, compute_uv=False), sl.svd(a, compute_uv=False), 1e-12)


def test_scipy_eigh_generalized_and_subsets():
    a, b = hermitian_pd(4), hermitian_pd(4) + np.eye(4)
    w, v = xsl.eigh(a, b)
    close(w, sl.eigh(a, b, eigvals_only=True), 1e-12)
    close(a @ v, b @ v * w, 1e-11)
    close(v.T @ b @ v, np.eye(4), 1e-12)  # b-orthonormal, as scipy
    close(xsl.eigh(a, subset_by_index=(1, 2), eigvals_only=True),
          sl.eigh(a, subset_by_index=(1, 2), eigvals_only=True), 1e-12)
    close(xsl.eigh(a, lower=False)[0], sl.eigh(a, lower=False)[0], 1e-12)
    # the three generalized problems, with LAPACK sygvd's normalization of v
    c = general(4)
    c = c + c.T  # indefinite
    binv = np.linalg.inv(b)
    for kind, lhs, rhs, gram in [(1, lambda v: c @ v, lambda v, w: b @ v * w, b),
                                 (2, lambda v: c @ b @ v, lambda v, w: v * w, b),
                                 (3, lambda v: b @ c @ v, lambda v, w: v * w, binv)]:
        w, v = xsl.eigh(c, b, type=kind)
        close(w, sl.eigh(c, b, type=kind, eigvals_only=True), 1e-11)
        close(lhs(v), rhs(v, w), 1e-10)
        close(v.T @ gram @ v, np.eye(4), 1e-11)
        close(np.abs(v), np.abs(sl.eigh(c, b, type=kind)[1]), 1e-10)
    # subsets: by index (eigvals is the old name), by value (half-open (lo, hi])
    ws = sl.eigh(c, b, eigvals_only=True)
    close(xsl.eigh(c, b, eigvals=(0, 1))[0], ws[:2], 1e-11)
    mid = (ws[1:] + ws[:-1]) / 2  # bounds away from the eigenvalues
    for lo, hi in [(mid[0], mid[2]), (-np.inf, mid[0]), (mid[2], np.inf), (mid[0], (mid[0] + ws[1]) / 2)]:
        got = xsl.eigh(c, b, subset_by_value=(lo, hi))
        ref = sl.eigh(c, b, subset_by_value=(lo, hi))
        assert got[1].shape == ref[1].shape
        close(got[0], ref[0], 1e-11)
        close(np.abs(got[1]), np.abs(ref[1]), 1e-10)
    # the eigenvalues of the generalized problem are differentiable in a and b (through
    # the Cholesky reduction): d w_i = v_i^T (dA - w_i dB) v_i
    w, v = sl.eigh(c, b)
    da, db = general(4), general(4)
    da, db = da + da.T, db + db.T
    _, dw = xform.jvp(lambda x, y: xsl.eigh(x, y, eigvals_only=True), (c, b), (da, db))
    close(dw, np.einsum("ji,jk,ki->i", v, da, v) - w * np.einsum("ji,jk,ki->i", v, db, v), 1e-10)
    dw3 = xform.jvp(lambda y: xsl.eigh(c, y, type=3, eigvals_only=True), (b,), (db,))[1]
    eps = 1e-6
    fd = (sl.eigh(c, b + eps * db, type=3, eigvals_only=True)
          - sl.eigh(c, b - eps * db, type=3, eigvals_only=True)) / (2 * eps)
    close(dw3, fd, 1e-7)
    g = xform.grad(lambda x: xnp.sum(xsl.eigh(x, b, subset_by_value=(mid[0], np.inf),
                                              eigvals_only=True)))(c)
    close(g, sum(np.outer(v[:, i], v[:, i]) for i in range(1, 4)), 1e-10)


@pytest.mark.parametrize("scale", [1e-3, 0.5, 3.0, 40.0])
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128])
def test_expm_against_scipy(scale, dt):
    a = (general(4, dt=dt) * scale / 4).astype(dt)
    ref = sl.expm(_ref64(a))
    # the Pade approximant and the squarings each lose about n u cond(exp) relative
    close(xsl.expm(a), ref, bound(dt, 4, _mag(ref), cond=max(4.0, 4 * scale), c=40))


def test_expm_batched_and_special_values():
    a = general(3, (2, 2)) * 0.7
    ref = np.stack([[sl.expm(x) for x in row] for row in a])
    close(xsl.expm(a), ref, 1e-12 * _mag(ref))
    close(xsl.expm(np.zeros((3, 3))), np.eye(3), 0)
    assert np.all(np.isnan(xsl.expm(np.array([[1e12, 0.0], [0.0, 0.0]]))))  # > max_squarings


def test_block_diag():
    got = xsl.block_diag(np.ones((2, 2)), np.array([1, 2, 3]), 4.0, np.zeros((0, 2)))
    close(got, sl.block_diag(np.ones((2, 2)), np.array([1, 2, 3]), 4.0, np.zeros((0, 2))), 0)
    assert xsl.block_diag(np.ones((1, 1), np.float32)).dtype == np.float32


# -- derivatives -----------------------------------------------------------------------

A3, S3, T3 = general(3), hermitian_pd(3), lower_tri(3)
B32 = RNG.standard_normal((3, 2))
X52 = general(2, m=5)

GRAD_CASES = {
    "solve": (XL.solve, (A3, B32)),
    "solve_vector": (XL.solve, (A3, B32[:, 0])),
    "inv": (XL.inv, (A3,)),
    "det": (XL.det, (A3,)),
    "slogdet": (lambda a: XL.slogdet(a).logabsdet, (A3,)),
    "cholesky": (XL.cholesky, (S3,)),
    "eigvalsh": (XL.eigvalsh, (S3,)),
    "eigh_projector": (lambda a: (lambda w, v: v @ np.diag([0.0, 1.0, 3.0]) @ v.T)(*XL.eigh(a)),
                       (S3,)),
    "svdvals": (XL.svdvals, (X52,)),
    "norm_2": (lambda a: XL.norm(a, 2), (A3,)),
    "norm_nuc": (lambda a: XL.norm(a, "nuc"), (X52,)),
    "norm_-2": (lambda a: XL.norm(a, -2), (A3,)),
    "cond": (XL.cond, (A3,)),
    "pinv_tall": (XL.pinv, (X52,)),
    "pinv_wide": (XL.pinv, (X52.T.copy(),)),
    "lstsq": (lambda a, y: XL.lstsq(a, y)[0], (X52, B32[:, 0].repeat(2)[:5])),
    "matrix_power_negative": (lambda a: XL.matrix_power(a, -2), (A3,)),
    "eigvals_real_part": (lambda a: XL.eigvals(a).real, (A3,)),
    "tensorinv": (lambda a: XL.tensorinv(a, ind=1), (general(4).reshape(4, 2, 2),)),
    "cho_solve": (lambda s, b: xsl.cho_solve(xsl.cho_factor(s), b), (S3, B32)),
    "cho_solve_lower": (lambda s, b: xsl.cho_solve(xsl.cho_factor(s, lower=True), b), (S3, B32)),
    "solve_triangular": (lambda t, b: xsl.solve_triangular(t, b, lower=True, trans="T"), (T3, B32)),
    "lu_solve": (lambda a, b: xsl.lu_solve(xsl.lu_factor(a), b, trans=1), (A3, B32)),
    "scipy_solve_pos": (lambda s, b: xsl.solve(s, b, assume_a="pos"), (S3, B32)),
    "scipy_lu": (lambda a: xsl.lu(a)[1:], (general(3, m=4),)),
    "expm": (xsl.expm, (0.4 * A3,)),
    "expm_scaled": (xsl.expm, (3.0 * A3,)),
    "generalized_eigh": (lambda a, b: xsl.eigh(a, b, eigvals_only=True), (S3, S3 + np.eye(3))),
    "generalized_eigh_type2": (lambda a, b: xsl.eigh(a, b, type=2, eigvals_only=True),
                               (S3, S3 + np.eye(3))),
    "scipy_qr_pivoted": (lambda a: xsl.qr(a, pivoting=True, mode="economic")[:2], (X52,)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_check_grads_order_2(name):
    f, args = GRAD_CASES[name]
    xform.check_grads(f, args, order=2, modes=("fwd", "rev"))


def _cofactors(a):
    n = a.shape[0]
    c = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            c[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return c


@pytest.mark.parametrize("a", [
    np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),  # rank 2
    np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),  # rank 2, zero pivot inside
    np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]),  # rank 1: gradient 0
])
def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix(a):
    close(xform.grad(XL.det)(a), _cofactors(a), 1e-12)
    close(xform.jit(xform.grad(XL.det))(a), _cofactors(a), 1e-12)


def test_det_hessian_at_invertible_matrix():
    a = general(3)
    h = xform.hessian(XL.det)(a).reshape(9, 9)
    e = RNG.standard_normal((3, 3))
    # d2 det [E, E] = det(A) (tr(A^-1 E)^2 - tr((A^-1 E)^2))
    m = np.linalg.solve(a, e)
    close(e.ravel() @ h @ e.ravel(), np.linalg.det(a) * (np.trace(m) ** 2 - np.trace(m @ m)), 1e-10)


def test_repeated_eigenvalues_follow_the_convention():
    a = np.diag([1.0, 1.0, 2.0])  # a repeated eigenvalue
    # eigenvalue functions: tr(A^3) -> 3 A^2
    close(xform.grad(lambda x: xnp.sum(XL.eigvalsh(x) ** 3))(a), 3 * a @ a, 1e-12)
    # the projector onto the repeated eigenvalue's eigenspace is smooth; its derivative
    # only couples to the other eigenvalues
    def projector(x):
        v = XL.eigh(x).eigenvectors[:, :2]
        return v @ v.T

    xform.check_grads(projector, (a,), order=1, modes=("fwd", "rev"))
    g = xform.grad(lambda x: xnp.sum(XL.eigh(x).eigenvectors))(a)
    assert np.all(np.isfinite(g))  # the coupling of the repeated pair is zero, not inf
    # singular values of an orthogonal matrix are all 1: the nuclear norm is still exact
    q = np.linalg.qr(general(3))[0]
    close(xform.grad(lambda x: XL.norm(x, "nuc"))(q), q, 1e-12)  # d||X||_* = U V^T
    # pinv's closed-form derivative does not see repeated singular values
    xform.check_grads(XL.pinv, (q,), order=1)


def test_documented_conventions_hold():
    """Each row of docs/autodiff.md's table "Conventions where the derivative does not
    exist", checked as stated (the closed forms there, or finite differences)."""
    from xform.lax import linalg as L

    rng = np.random.default_rng(3)
    eps = 1e-6
    # repeated eigenvalues: dw = diag(V^H dA V) and no coupling inside the eigenspace
    q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    a = q @ np.diag([1.0, 1.0, 2.0]) @ q.T
    da = rng.standard_normal((3, 3))
    da = da + da.T
    (v, w), (dv, dw) = xform.jvp(lambda x: L.eigh(x), (a,), (da,))
    vgv = v.T @ da @ v
    close(dw, np.diag(vgv), 1e-13)
    vdv = v.T @ dv
    close(vdv[:2, :2], np.zeros((2, 2)), 1e-13)
    close(vdv[:2, 2], vgv[:2, 2] / (w[2] - w[:2]), 1e-12)
    # ... so a spectral function V g(w) V^T gets the Daleckii-Krein derivative with
    # g'(w) missing from the repeated block: not the true derivative (documented)
    def spectral(x):
        v, w = L.eigh(x)
        return (v * xnp.exp(w)) @ v.T

    t = xform.jvp(spectral, (a,), (da,))[1]
    ew = np.exp(w)
    gap = w[:, None] - w[None, :]
    far = np.abs(gap) > 1e-9
    dk = np.where(far, (ew[:, None] - ew[None, :]) / np.where(far, gap, 1.0), 0.0) + np.diag(ew)
    close(t, v @ (dk * vgv) @ v.T, 1e-12)
    fd = (sl.expm(a + eps * da) - sl.expm(a - eps * da)) / (2 * eps)
    assert np.max(np.abs(t - fd)) > 0.1  # the exact derivative needs expm itself
    # zero singular values: the nonzero ones, their vectors and functions of them are
    # exact; the zero one has a kink (its rule's value is u^T dA v, not the derivative)
    x = rng.standard_normal((4, 2)) @ rng.standard_normal((2, 3))  # rank 2
    dx = rng.standard_normal((4, 3))
    (u, sv, vh), (du, ds, _) = xform.jvp(lambda y: L.svd(y, full_matrices=False), (x,), (dx,))
    sfd = (np.linalg.svd(x + eps * dx, compute_uv=False)
           - np.linalg.svd(x - eps * dx, compute_uv=False)) / (2 * eps)
    close(ds[:2], sfd[:2], 1e-7)
    close(ds[2], u[:, 2] @ dx @ vh[2], 1e-12)

    def u_aligned(y):
        uy = np.linalg.svd(y, full_matrices=False)[0][:, :2]
        return uy * np.sign(np.sum(uy * u[:, :2], axis=0))

    close(du[:, :2], (u_aligned(x + eps * dx) - u_aligned(x - eps * dx)) / (2 * eps), 1e-7)
    # eigenvector gauges (complex): eigh v^H dv = 0; svd v^H dv = 0 and the phase of each
    # pair in u (u^H du's diagonal is i Im(P_jj) / s_j, P = u^H dA v); eig keeps LAPACK's
    # normalization (unit norm, largest component real)
    c = general(3, dt=np.complex128)
    dc = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    h, dh = c + np.conj(c.T), dc + np.conj(dc.T)
    (v, _), (dv, _) = xform.jvp(lambda y: L.eigh(y), (h,), (dh,))
    close(np.diag(np.conj(v.T) @ dv), np.zeros(3), 1e-13)
    (u, sv, vh), (du, _, dvh) = xform.jvp(lambda y: L.svd(y), (c,), (dc,))
    close(np.diag(vh @ np.conj(dvh.T)), np.zeros(3), 1e-13)
    p_diag = np.diag(np.conj(u.T) @ dc @ np.conj(vh.T))
    close(np.diag(np.conj(u.T) @ du), 1j * p_diag.imag / sv, 1e-13)
    (_, vr), (_, dvr) = xform.jvp(lambda y: L.eig(y, compute_left_eigenvectors=False), (c,), (dc,))
    close(np.sum(np.conj(vr) * dvr, axis=0).real, np.zeros(3), 1e-13)
    top = np.argmax(np.abs(vr), axis=0)
    close(dvr[top, range(3)].imag, np.zeros(3), 1e-13)
    # full_matrices: the completing columns turn by -q dq^H q_perp only
    x, dx = general(2, m=4), RNG.standard_normal((4, 2))
    (qf, _), (dqf, _) = xform.jvp(lambda y: L.qr(y), (x,), (dx,))
    close(dqf[:, 2:], -qf[:, :2] @ dqf[:, :2].T @ qf[:, 2:], 1e-13)
    # column pivoting: the derivative of the QR of x[:, p] with p held constant
    (q, r, p), (dq, dr, _) = xform.jvp(lambda y: L.qr(y, pivoting=True), (x,), (dx,))
    ref = xform.jvp(lambda y: L.qr(y[:, p]), (x,), (dx,))[1]
    close(dq, ref[0], 1e-13)
    close(dr, ref[1], 1e-13)
    # singular matrices: solve / inv / slogdet derivatives are infinite or NaN, as the values
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    with np.errstate(all="ignore"):
        for f in (lambda m: xnp.sum(XL.solve(m, np.ones(2))), lambda m: xnp.sum(XL.inv(m)),
                  lambda m: XL.slogdet(m).logabsdet):
            assert not np.all(np.isfinite(xform.grad(f)(sing)))


# -- vmap, jit -------------------------------------------------------------------------

def test_vmap_against_loop():
    a, b = general(3, (4,)), RNG.standard_normal((4, 3))
    for f, args in [(XL.solve, (a, b)), (XL.det, (a,)), (XL.inv, (a,)),
                    (lambda x: XL.slogdet(x).logabsdet, (a,)),
                    (lambda x, y: xsl.cho_solve(xsl.cho_factor(x @ x.T), y), (a, b)),
                    (lambda x: xsl.expm(0.3 * x), (a,))]:
        ref = np.stack([f(*z) for z in zip(*args)])
        close(xform.vmap(f)(*args), ref, 1e-10 * max(1.0, _mag(ref)))
    close(xform.vmap(xform.grad(XL.det))(a), np.stack([xform.grad(XL.det)(x) for x in a]), 1e-11)


def test_stacked_leading_dimensions_match_a_loop():
    """numpy's stacked-matrix convention (any number of leading dimensions) for each
    function of the issue's list, against the reference applied matrix by matrix."""
    batch = (2, 2)
    a, s = general(3, batch), hermitian_pd(3, batch)
    w = general(3, batch, m=4)
    b = RNG.standard_normal(batch + (3, 2))
    t = np.tril(a)
    cases = [
        (XL.cond, np.linalg.cond, (a,)), (XL.pinv, np.linalg.pinv, (w,)),
        (XL.matrix_rank, np.linalg.matrix_rank, (w,)),
        (lambda x: XL.norm(x, -2, axis=(-2, -1)), lambda x: np.linalg.norm(x, -2), (w,)),
        (lambda x: XL.norm(x, "nuc", axis=(-2, -1)), lambda x: np.linalg.norm(x, "nuc"), (w,)),
        (lambda x: XL.slogdet(x, method="qr").logabsdet, lambda x: np.linalg.slogdet(x)[1], (a,)),
        (lambda x: np.sort(XL.eigvals(x).real, axis=-1), lambda x: np.sort(np.linalg.eigvals(x).real),
         (s,)),
        (lambda x: XL.qr(x, mode="r"), lambda x: np.linalg.qr(x, mode="r"), (w,)),
        (xsl.cholesky, sl.cholesky, (s,)),
        (lambda x, y: xsl.cho_solve(xsl.cho_factor(x), y),
         lambda x, y: sl.cho_solve(sl.cho_factor(x), y), (s, b)),
        (lambda x, y: xsl.solve_triangular(x, y, lower=True),
         lambda x, y: sl.solve_triangular(x, y, lower=True), (t, b)),
        (lambda x: xsl.lu(x)[2], lambda x: sl.lu(x)[2], (a,)),
        (lambda x, y: xsl.lu_solve(xsl.lu_factor(x), y),
         lambda x, y: sl.lu_solve(sl.lu_factor(x), y), (a, b)),
        (lambda x, y: xsl.solve(x, y, assume_a="pos"), lambda x, y: sl.solve(x, y, assume_a="pos"),
         (s, b)),
        (lambda x: xsl.qr(x, mode="r", pivoting=True)[0],
         lambda x: sl.qr(x, mode="r", pivoting=True)[0], (w,)),
        (lambda x, y: xsl.eigh(x, y + np.eye(3), type=2, eigvals_only=True),
         lambda x, y: sl.eigh(x, y + np.eye(3), type=2, eigvals_only=True), (s, s)),
        (lambda x: xsl.svd(x, compute_uv=False), lambda x: sl.svd(x, compute_uv=False), (w,)),
        (xsl.inv, sl.inv, (a,)), (xsl.det, sl.det, (a,)), (xsl.expm, sl.expm, (0.3 * a,)),
    ]
    for f, ref, args in cases:
        got = np.asarray(f(*args))
        want = np.stack([ref(*[x[i, j] for x in args]) for i in range(2) for j in range(2)])
        close(got.reshape(want.shape), want, 1e-10 * max(1.0, _mag(want)))
        assert got.shape[:2] == batch


def _functions(a, s, b):
    return [XL.solve(a, b), XL.inv(a), XL.det(a), XL.slogdet(a), XL.pinv(a), XL.cond(a),
            XL.norm(a, 2), xsl.cho_solve(xsl.cho_factor(s), b), xsl.lu(a),
            xsl.solve_triangular(s, b, lower=True), xsl.expm(0.2 * a),
            xsl.block_diag(a, s), XL.eigvalsh(s), XL.eigvals(s).real, XL.lstsq(a, b)[0]]


_JIT_FUNCTIONS = xform.jit(_functions)


def test_jit_matches_eager():
    args = (general(3), hermitian_pd(3), RNG.standard_normal((3, 2)))
    got, ref = _JIT_FUNCTIONS(*args), _functions(*args)
    flat_got, _ = xform.tree_util.tree_flatten(got)
    flat_ref, _ = xform.tree_util.tree_flatten(ref)
    for g, r in zip(flat_got, flat_ref):
        close(g, r, 1e-11 * max(1.0, _mag(r)))


# -- the API: JAX's signatures, scipy's and numpy's options --------------------------------

NP_NAMES = ["solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
            "qr", "lstsq", "pinv", "matrix_rank", "cond", "norm", "eig", "eigvals", "tensorsolve",
            "tensorinv"]
SL_NAMES = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "lu", "lu_factor",
            "lu_solve", "solve", "qr", "eigh", "svd", "inv", "det", "expm", "block_diag"]


def _params(f):
    import inspect

    return list(inspect.signature(f).parameters.values())


@pytest.mark.parametrize("module,name", [("numpy", n) for n in NP_NAMES]
                         + [("scipy", n) for n in SL_NAMES])
def test_signatures_extend_jax_and_accept_the_references_options(module, name):
    jax_mod = {"numpy": "jax.numpy.linalg", "scipy": "jax.scipy.linalg"}[module]
    jmod = pytest.importorskip(jax_mod)
    ours = {"numpy": XL, "scipy": xsl}[module]
    ref = {"numpy": np.linalg, "scipy": sl}[module]
    mine = _params(getattr(ours, name))
    names = [p.name for p in mine]
    # JAX's parameters, in JAX's positional order (extra ones only after them)
    positional = [p.name for p in mine if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY)]
    theirs = _params(getattr(jmod, name))
    jpos = [p.name for p in theirs if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY)]
    assert positional[:len(jpos)] == jpos, (positional, jpos)
    assert {p.name for p in theirs} <= set(names)
    # and numpy's / scipy's options by name (the array arguments' names aside)
    extra = {p.name for p in _params(getattr(ref, name))[1:]} - set(names)
    assert not extra, f"{name} does not accept {sorted(extra)}"


def test_options_added_for_jax_and_scipy():
    a, s, b = general(3), hermitian_pd(3), RNG.standard_normal(3)
    for m in (a, -a):
        got, ref = XL.slogdet(m, method="qr"), np.linalg.slogdet(m)
        close(got.sign, ref.sign, 1e-12)
        close(got.logabsdet, ref.logabsdet, 1e-12)
    with np.errstate(divide="ignore"):
        got = XL.slogdet(np.zeros((3, 3)), method="qr")
    assert got.sign == 0 and got.logabsdet == -np.inf
    c = general(3, dt=np.complex128)
    got, ref = XL.slogdet(c, method="qr"), np.linalg.slogdet(c)
    close(got.sign, ref.sign, 1e-12)
    close(got.logabsdet, ref.logabsdet, 1e-12)
    xform.check_grads(lambda x: XL.slogdet(x, method="qr").logabsdet, (a,), order=2)
    close(xform.jit(lambda x: XL.slogdet(x, method="qr").logabsdet)(a),
          np.linalg.slogdet(a).logabsdet, 1e-12)
    close(XL.svd(a, subset_by_index=(0, 3)).S, np.linalg.svd(a).S, 1e-12)
    close(XL.matrix_rank(M=a), 3, 0)
    for kind, m in [("gen", a), ("pos", s), ("lower triangular", np.tril(a)),
                    ("diagonal", np.diag(np.diag(a)))]:
        close(xsl.solve(m, b, assume_a=kind, transposed=True),
              sl.solve(m, b, assume_a=kind, transposed=True), 1e-11)
        close(xsl.inv(m, assume_a=kind), sl.inv(m, assume_a=kind), 1e-11)
    close(xsl.solve(a, b, False, False, False, False, True, "gen"), np.linalg.solve(a, b), 1e-12)
    with pytest.raises(ValueError, match="slogdet: method must be 'lu'"):
        XL.slogdet(a, method="cholesky")
    with pytest.raises(NotImplementedError, match=r"svd: subset_by_index=\(0, 2\)"):
        XL.svd(a, subset_by_index=(0, 2))


# -- errors ----------------------------------------------------------------------------

def test_errors():
    with pytest.raises(np.linalg.LinAlgError, match=r"solve: last 2 dimensions .* square.*\(2, 3\)"):
        XL.solve(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"solve: a is 2x2 but b has 3 entries"):
        XL.solve(np.eye(2), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match=r"inv: 1-dimensional array given"):
        XL.inv(np.ones(3))
    with pytest.raises(ValueError, match=r"qr: mode must be"):
        XL.qr(np.eye(2), mode="economic")
    with pytest.raises(ValueError, match=r"qr: mode must be 'full', 'economic', 'r' or 'raw'"):
        xsl.qr(np.eye(2), mode="reduced")
    with pytest.raises(NotImplementedError, match=r"geqrf: .* not differentiable"):
        xform.grad(lambda a: xnp.sum(XL.qr(a, mode="raw")[0]))(np.eye(2))
    with pytest.raises(ValueError, match=r"eigh: type must be 1"):
        xsl.eigh(np.eye(2), np.eye(2), type=4)
    with pytest.raises(ValueError, match=r"eigh: type=2 is a generalized problem: it needs b"):
        xsl.eigh(np.eye(2), type=2)
    with pytest.raises(ValueError, match=r"either subset_by_index or subset_by_value"):
        xsl.eigh(np.eye(2), subset_by_index=(0, 1), subset_by_value=(0, 1))
    with pytest.raises(ValueError, match=r"subset_by_index \[1, 2\] must satisfy 0 <= lo"):
        xsl.eigh(np.eye(2), subset_by_index=(1, 2))
    with pytest.raises(ValueError, match=r"subset_by_value \(1.0, 1.0\) must be an interval"):
        xsl.eigh(np.eye(2), subset_by_value=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"a is 2x2 but b is 3x3"):
        xsl.eigh(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match=r"driver must be one of"):
        xsl.eigh(np.eye(2), driver="fast")
    with pytest.raises(ValueError, match=r"subset_by_value selects .* traced here"):
        xform.jit(lambda a: xsl.eigh(a, subset_by_value=(0.0, 2.0)))(np.eye(2))
    with pytest.raises(ValueError, match=r"eigh: UPLO must be"):
        XL.eigh(np.eye(2), UPLO="X")
    with pytest.raises(ValueError, match=r"solve: assume_a must be one of"):
        xsl.solve(np.eye(2), np.ones(2), assume_a="banana")
    with pytest.raises(ValueError, match=r"solve_triangular: trans must be"):
        xsl.solve_triangular(np.eye(2), np.ones(2), trans=3)
    with pytest.raises(ValueError, match=r"cho_solve: a of shape \(2, 2\) and b of shape \(3,\)"):
        xsl.cho_solve((np.eye(2), True), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match=r"tensorinv"):
        XL.tensorinv(np.ones((2, 3)), ind=1)
    with pytest.raises(TypeError, match=r"unsupported in linalg"):
        XL.det(np.eye(2, dtype=np.float16))


# -- end to end: a Gaussian process ----------------------------------------------------

def gp_nll(params, x, y):
    """Negative log marginal likelihood of an RBF-kernel GP (Cholesky, cho_solve)."""
    log_ls, log_var, log_noise = params[0], params[1], params[2]
    d2 = (x[:, None] - x[None, :]) ** 2
    k = xnp.exp(log_var) * xnp.exp(-0.5 * d2 / xnp.exp(2 * log_ls)) + xnp.exp(log_noise) * xnp.eye(x.shape[0])
    c = xsl.cho_factor(k, lower=True)
    alpha = xsl.cho_solve(c, y)
    return 0.5 * y @ alpha + xnp.sum(xnp.log(xnp.diagonal(c[0]))) + 0.5 * x.shape[0] * np.log(2 * np.pi)


def test_gaussian_process_likelihood_and_gradient():
    x = np.linspace(0, 3, 12)
    y = np.sin(2 * x) + 0.1 * RNG.standard_normal(12)
    p = np.array([-0.3, 0.2, -2.0])
    d2 = (x[:, None] - x[None, :]) ** 2
    k = np.exp(p[1]) * np.exp(-0.5 * d2 / np.exp(2 * p[0])) + np.exp(p[2]) * np.eye(12)
    ref = 0.5 * y @ np.linalg.solve(k, y) + 0.5 * np.linalg.slogdet(k)[1] + 6 * np.log(2 * np.pi)
    close(gp_nll(p, x, y), ref, 1e-10)
    xform.check_grads(lambda q: gp_nll(q, x, y), (p,), order=2, modes=("fwd", "rev"))
    g = xform.jit(xform.value_and_grad(gp_nll))(p, x, y)
    close(g[0], ref, 1e-10)
    close(g[1], xform.grad(gp_nll)(p, x, y), 1e-10)
