"""xform.lax.linalg primitives: values against numpy/scipy (float32/float64, complex),
shape and dtype errors, derivatives (check_grads to order 2 in both modes; complex
tangents against finite differences), vmap against a Python loop, batched leading
dimensions, jit against eager, and the NaN convention for failed factorizations.

Tolerances come from backward-error bounds (Higham, "Accuracy and Stability of Numerical
Algorithms": Cholesky 10.1, LU 9.3, Householder QR 19.3, the symmetric eigenproblem and
the SVD 4.7/20): each computed factorization reproduces its input to within
c * n * u * |A| (c a small constant, u the unit roundoff), and a factor itself is within
the condition number times that of the exact one. The test matrices are built with
condition numbers of at most 4 and well separated eigenvalues / singular values.
"""
from __future__ import annotations

import numpy as np
import pytest

import xform
from xform import lax
from xform.lax import linalg as L
from _tolerance import gamma

FLOATS = [np.float64, np.float32]
ALL = [np.float64, np.float32, np.complex128, np.complex64]
RNG = np.random.default_rng(20240513)


def _is_c(dt):
    return np.dtype(dt).kind == "c"


def _randn(shape, dt, rng=RNG):
    x = rng.standard_normal(shape)
    if _is_c(dt):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def _unitary(n, batch=(), dt=np.float64, rng=RNG):
    q, r = np.linalg.qr(_randn(batch + (n, n), np.complex128 if _is_c(dt) else np.float64, rng))
    return q


def general(n, batch=(), dt=np.float64, m=None, rng=RNG):
    """U diag(s) V^H with singular values spread over [1, 4] (well separated)."""
    m = n if m is None else m
    k = min(m, n)
    u = _unitary(m, batch, dt, rng)[..., :, :k]
    v = _unitary(n, batch, dt, rng)[..., :, :k]
    s = np.linspace(4.0, 1.0, k)
    return ((u * s) @ np.conj(np.swapaxes(v, -1, -2))).astype(dt)


def hermitian_pd(n, batch=(), dt=np.float64, rng=RNG):
    """Q diag(w) Q^H with eigenvalues spread over [1, 4]."""
    q = _unitary(n, batch, dt, rng)
    w = np.linspace(1.0, 4.0, n)
    a = (q * w) @ np.conj(np.swapaxes(q, -1, -2))
    return ((a + np.conj(np.swapaxes(a, -1, -2))) / 2).astype(dt)


def lower_tri(n, batch=(), dt=np.float64, rng=RNG):
    """A well-conditioned lower-triangular matrix (diagonal in [2, 3])."""
    t = np.tril(_randn(batch + (n, n), dt, rng).astype(np.complex128 if _is_c(dt) else float)) * 0.3
    idx = np.arange(n)
    t[..., idx, idx] = 2 + RNG.random(batch + (n,))
    return t.astype(dt)


def bound(dt, n, magnitude, cond=4.0, c=8):
    """c * n * u * cond * magnitude (as gamma(c n)), plus float64's own for a reference."""
    return (gamma(c * n, dt) + gamma(c * n, np.float64)) * cond * magnitude


def close(actual, ref, tol):
    actual, ref = np.asarray(actual), np.asarray(ref)
    assert actual.shape == ref.shape, (actual.shape, ref.shape)
    err = np.max(np.abs(actual.astype(np.complex128) - ref), initial=0.0)
    assert err <= np.max(tol), f"error {err} > tolerance {np.max(tol)}"


def mH(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _norm(x):
    return float(np.max(np.abs(x), initial=0.0))


# -- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dt", ALL)
def test_cholesky_values(dt):
    a = hermitian_pd(4, (2, 3), dt)
    Lf = L.cholesky(a)
    assert Lf.dtype == dt and Lf.shape == a.shape
    ref = np.linalg.cholesky(a.astype(np.complex128 if _is_c(dt) else np.float64))
    close(Lf, ref, bound(dt, 4, _norm(ref)))
    assert np.all(np.triu(Lf, 1) == 0)
    # only the lower triangle is read (symmetrize_input=False), as LAPACK and numpy
    junk = a + np.triu(np.full(a.shape, 7.0, dt), 1)
    close(L.cholesky(junk, symmetrize_input=False), Lf, 0)


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("left_side", [True, False])
@pytest.mark.parametrize("lower", [True, False])
def test_triangular_solve_values(dt, left_side, lower):
    t = lower_tri(3, (2,), dt)
    a = t if lower else mH(t).copy()
    # junk in the unread triangle must not matter
    a_junk = a + (np.triu(np.ones((3, 3)), 1) if lower else np.tril(np.ones((3, 3)), -1)).astype(dt) * 5
    b = _randn((2, 3, 2) if left_side else (2, 2, 3), dt)
    for transpose_a in (False, True):
        for conjugate_a in (False, True):
            for unit in (False, True):
                x = L.triangular_solve(a_junk, b, left_side=left_side, lower=lower,
                                       transpose_a=transpose_a, conjugate_a=conjugate_a,
                                       unit_diagonal=unit)
                op = a.astype(np.complex128)
                if unit:
                    idx = np.arange(3)
                    op = op.copy()
                    op[..., idx, idx] = 1
                if conjugate_a:
                    op = np.conj(op)
                if transpose_a:
                    op = np.swapaxes(op, -1, -2)
                ref = (np.linalg.solve(op, b) if left_side
                       else np.swapaxes(np.linalg.solve(np.swapaxes(op, -1, -2),
                                                        np.swapaxes(b, -1, -2)), -1, -2))
                assert x.dtype == dt
                close(x, ref, bound(dt, 3, _norm(ref)))


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_lu_values(dt, shape):
    import scipy.linalg

    m, n = shape
    a = general(n, (2,), dt, m=m)
    lu_, piv, perm = L.lu(a)
    assert lu_.dtype == dt and piv.dtype == np.int32 and perm.dtype == np.int32
    k = min(m, n)
    for i in range(2):
        ref_lu, ref_piv = scipy.linalg.lu_factor(a[i].astype(np.complex128 if _is_c(dt) else float))
        np.testing.assert_array_equal(piv[i], ref_piv[:k])
        close(lu_[i], ref_lu, bound(dt, max(m, n), _norm(ref_lu), cond=30))
        l_ = np.tril(lu_[i][:, :k], -1) + np.eye(m, k)
        u_ = np.triu(lu_[i][:k])
        close(a[i][perm[i]], l_ @ u_, bound(dt, max(m, n), _norm(a[i])))
        np.testing.assert_array_equal(perm[i], L.lu_pivots_to_permutation(piv[i], m))


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("full", [True, False])
def test_qr_values(dt, shape, full):
    m, n = shape
    a = general(n, (2,), dt, m=m)
    q, r = L.qr(a, full_matrices=full)
    k = m if full else min(m, n)
    assert q.shape == (2, m, k) and r.shape == (2, k, n) and q.dtype == dt
    tol = bound(dt, max(m, n), _norm(a))
    close(q @ r, a, tol)
    close(mH(q) @ q, np.broadcast_to(np.eye(k), (2, k, k)), bound(dt, m, 1.0))
    assert np.all(np.tril(r, -1) == 0)
    ref_q, ref_r = np.linalg.qr(a.astype(np.complex128), mode="complete" if full else "reduced")
    close(np.abs(r), np.abs(ref_r), bound(dt, max(m, n), _norm(a), cond=4))


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_pivoted_qr_and_householder_form_match_lapack(dt, shape):
    import scipy.linalg as sl
    from scipy.linalg import lapack

    m, n = shape
    k = min(m, n)
    a = general(n, (2,), dt, m=m)
    tol = bound(dt, max(m, n), _norm(a))
    for full in (True, False):
        q, r, p = L.qr(a, pivoting=True, full_matrices=full)
        kq = m if full else k
        assert q.shape == (2, m, kq) and r.shape == (2, kq, n) and p.dtype == np.int32
        for i in range(2):
            close(a[i][:, p[i]], q[i] @ r[i], tol)
            ref_q, ref_r, ref_p = sl.qr(a[i], pivoting=True, mode="full" if full else "economic")
            np.testing.assert_array_equal(p[i], ref_p)
            close(r[i], ref_r, tol)  # the same Householder signs as LAPACK's
            close(q[i], ref_q, tol * 4)
        d = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
        assert np.all(d[..., :-1] >= d[..., 1:] * (1 - 1e-5))  # rank-revealing order
    h, tau = L.geqrf(a)
    hp, taup, pp = L.geqrf_pivoted(a)
    for i in range(2):
        ref_h, ref_tau, _, _ = lapack.get_lapack_funcs("geqrf", dtype=dt)(a[i])
        close(h[i], ref_h, tol)
        close(tau[i], ref_tau, bound(dt, max(m, n), 2.0))
        ref_h, ref_p, ref_tau, _, _ = lapack.get_lapack_funcs("geqp3", dtype=dt)(a[i])
        np.testing.assert_array_equal(pp[i], ref_p - 1)
        close(hp[i], ref_h, tol)
        close(taup[i], ref_tau, bound(dt, max(m, n), 2.0))
    assert h.dtype == tau.dtype == dt and tau.shape == (2, k)
    with pytest.raises(NotImplementedError, match="geqrf: the Householder form"):
        xform.grad(lambda x: L.geqrf(x)[0].sum())(a[0].real.astype(np.float64))


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("lower", [True, False])
def test_eigh_values(dt, lower):
    a = hermitian_pd(4, (3,), dt)
    junk = a + (np.triu(np.ones((4, 4)), 1) if lower else np.tril(np.ones((4, 4)), -1)).astype(dt)
    v, w = L.eigh(junk, lower=lower, symmetrize_input=False)
    assert w.dtype == np.finfo(dt).dtype and v.dtype == dt
    close(w, np.linalg.eigvalsh(a.astype(np.complex128)), bound(dt, 4, 4.0))
    assert np.all(np.diff(w, axis=-1) > 0)
    close(a @ v, v * w[..., None, :], bound(dt, 4, 4.0))
    close(mH(v) @ v, np.broadcast_to(np.eye(4), (3, 4, 4)), bound(dt, 4, 1.0))


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_values(dt, shape, full):
    m, n = shape
    a = general(n, (2,), dt, m=m)
    u, s, vh = L.svd(a, full_matrices=full)
    k = min(m, n)
    mu, nv = (m, n) if full else (k, k)
    assert u.shape == (2, m, mu) and s.shape == (2, k) and vh.shape == (2, nv, n)
    tol = bound(dt, max(m, n), 4.0)
    close(s, np.broadcast_to(np.linspace(4.0, 1.0, k), (2, k)), tol)
    close((u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :], a, tol)
    close(mH(u) @ u, np.broadcast_to(np.eye(mu), (2, mu, mu)), bound(dt, m, 1.0))
    close(vh @ mH(vh), np.broadcast_to(np.eye(nv), (2, nv, nv)), bound(dt, n, 1.0))
    close(L.svd(a, compute_uv=False), s, tol)


@pytest.mark.parametrize("dt", ALL)
def test_eig_values(dt):
    import scipy.linalg

    a = general(4, (2,), dt)
    w, vl, vr = L.eig(a)
    cdt = np.result_type(dt, np.complex64)
    assert w.dtype == vl.dtype == vr.dtype == cdt
    tol = bound(dt, 4, 4.0, cond=50)
    close(a @ vr, vr * w[..., None, :], tol)
    close(mH(vl) @ a, w[..., :, None] * mH(vl), tol)
    for i in range(2):
        ref = scipy.linalg.eigvals(a[i].astype(np.complex128))
        dist = np.abs(w[i][:, None] - ref[None, :])  # the same multiset of values
        assert dist.min(axis=1).max() <= tol and dist.min(axis=0).max() <= tol
        # LAPACK's normalization: unit norm, largest component real
        big = np.argmax(np.abs(vr[i]), axis=0)
        assert np.allclose(np.linalg.norm(vr[i], axis=0), 1, atol=tol)
        assert np.allclose(vr[i][big, np.arange(4)].imag, 0, atol=tol)
    (w_only,) = L.eig(a, compute_left_eigenvectors=False, compute_right_eigenvectors=False)
    close(w_only, w, tol)  # LAPACK takes another path without eigenvectors


def test_integer_inputs_are_promoted_like_numpy():
    a = np.array([[4, 2], [2, 5]])
    assert L.cholesky(a).dtype == np.float64
    assert L.svd(a, compute_uv=False).dtype == np.float64
    assert L.triangular_solve(np.tril(a), np.eye(2, dtype=np.float32), left_side=True,
                              lower=True).dtype == np.float64


def test_empty_and_single_matrices():
    assert L.cholesky(np.zeros((0, 3, 3))).shape == (0, 3, 3)
    assert L.cholesky(np.array([[4.0]]))[0, 0] == 2.0
    u, s, vh = L.svd(np.zeros((2, 0, 3)))
    assert u.shape == (2, 0, 0) and s.shape == (2, 0) and vh.shape == (2, 3, 3)


def test_failed_cholesky_is_nan_in_that_matrix_only():
    a = np.stack([hermitian_pd(3), -np.eye(3)])
    Lf = L.cholesky(a)
    assert np.all(np.isfinite(Lf[0])) and np.all(np.isnan(Lf[1]))
    Lj = xform.jit(L.cholesky)(a)
    close(Lj[0], Lf[0], bound(np.float64, 3, 2.0))
    assert np.all(np.isnan(Lj[1]))


# -- errors ------------------------------------------------------------------------------

def test_shape_and_dtype_errors():
    with pytest.raises(ValueError, match=r"cholesky: x must be square.*\(3, 4\)"):
        L.cholesky(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"eigh: x must be a matrix .*rank >= 2"):
        L.eigh(np.ones(3))
    with pytest.raises(TypeError, match=r"svd: array type float16 is unsupported in linalg"):
        L.svd(np.ones((2, 2), np.float16))
    with pytest.raises(TypeError, match=r"cholesky: x has dtype int64"):
        L.cholesky_p.bind(np.eye(2, dtype=np.int64), symmetrize_input=False)
    with pytest.raises(ValueError, match=r"triangular_solve.*a is 3x3 but b has 2 rows"):
        L.triangular_solve(np.eye(3), np.ones((2, 2)), left_side=True)
    with pytest.raises(ValueError, match=r"same leading \(batch\) dimensions"):
        L.triangular_solve(np.ones((2, 3, 3)), np.ones((3, 3, 1)), left_side=True)
    with pytest.raises(TypeError, match=r"same dtype"):
        L.triangular_solve_p.bind(np.eye(2), np.ones((2, 2), np.float32), left_side=True,
                                  lower=True, transpose_a=False, conjugate_a=False,
                                  unit_diagonal=False)
    with pytest.raises(ValueError, match=r"lu_pivots_to_permutation: 3 pivots"):
        L.lu_pivots_to_permutation(np.zeros(3, np.int32), 2)
    with pytest.raises(ValueError, match=r"eig: x must be square"):
        xform.jit(lambda x: L.eig(x))(np.ones((2, 3)))


# -- derivatives -------------------------------------------------------------------------

A3 = general(3)
S3 = hermitian_pd(3)
T3 = lower_tri(3)
B32 = _randn((3, 2), np.float64)


def _sym(f):
    return lambda x: f((x + x.T) / 2)


DERIVATIVE_CASES = {
    "cholesky": (lambda a: L.cholesky(a), (S3,)),
    "cholesky_lower_triangle_read": (lambda a: L.cholesky(a, symmetrize_input=False), (S3,)),
    "triangular_solve_left": (lambda a, b: L.triangular_solve(a, b, left_side=True, lower=True),
                              (T3, B32)),
    "triangular_solve_right_transposed_unit": (
        lambda a, b: L.triangular_solve(a, b, left_side=False, lower=False, transpose_a=True,
                                        unit_diagonal=True), (T3.T.copy(), B32.T.copy())),
    "lu_square": (lambda a: L.lu(a)[0], (A3,)),
    "lu_tall": (lambda a: L.lu(a)[0], (general(3, m=4),)),
    "lu_wide": (lambda a: L.lu(a)[0], (general(4, m=3),)),
    "qr_square": (lambda a: L.qr(a), (A3,)),
    "qr_tall_reduced": (lambda a: L.qr(a, full_matrices=False), (general(2, m=4),)),
    "qr_wide": (lambda a: L.qr(a), (general(4, m=2),)),
    # column pivoting: the rules of the QR of a[:, p], p held constant
    "qr_pivoted_tall_reduced": (lambda a: L.qr(a, pivoting=True, full_matrices=False)[:2],
                                (general(3, m=4),)),
    "qr_pivoted_wide": (lambda a: L.qr(a, pivoting=True)[:2], (general(4, m=3),)),
    # the completion of a full Q is a choice: test a function invariant to it
    "qr_tall_full_projector": (lambda a: (lambda q, r: (q[:, 2:] @ q[:, 2:].T, r))(*L.qr(a)),
                               (general(2, m=4),)),
    "eigh": (lambda a: L.eigh(a), (S3,)),
    "svd_square": (lambda a: L.svd(a), (A3,)),
    "svd_tall_reduced": (lambda a: L.svd(a, full_matrices=False), (general(2, m=4),)),
    "svd_wide_reduced": (lambda a: L.svd(a, full_matrices=False), (general(4, m=2),)),
    "svd_values": (lambda a: L.svd(a, compute_uv=False), (general(2, m=4),)),
    "svd_full_completion_projector": (
        lambda a: (lambda u, s, vh: (u[:, 2:] @ u[:, 2:].T, s, vh))(*L.svd(a)), (general(2, m=4),)),
    "eig_values": (lambda a: L.eig(a, compute_left_eigenvectors=False,
                                   compute_right_eigenvectors=False)[0].real, (A3,)),
}


@pytest.mark.parametrize("name", sorted(DERIVATIVE_CASES))
def test_check_grads_order_2(name):
    f, args = DERIVATIVE_CASES[name]
    xform.check_grads(f, args, order=2, modes=("fwd", "rev"))


def _split(z):
    return np.concatenate([np.real(z).ravel(), np.imag(z).ravel()])


def _complex_check(f, x, rng=RNG, eps=1e-6):
    """jvp against central differences with a complex tangent, and vjp against jvp:
    for the R-linear tangent map J, Re sum(c * J t) == Re sum(vjp(c) * t) (xform's
    cotangents, like JAX's, are linear transposes: no conjugation)."""
    t = _randn(x.shape, x.dtype, rng)
    out, jt = xform.jvp(f, (x,), (t,))
    fd = [(np.asarray(p) - np.asarray(m)) / (2 * eps)
          for p, m in zip(_leaves(f(x + eps * t)), _leaves(f(x - eps * t)))]
    for a, b in zip(_leaves(jt), fd):
        close(a, b, 1e-5 * max(1.0, _norm(b)))
    cts = [_randn(np.shape(o), np.asarray(o).dtype, rng) for o in _leaves(out)]
    _, vjp = xform.vjp(f, x)
    ct_tree = cts[0] if not isinstance(out, (tuple, list)) else type(out)(cts)
    (g,) = vjp(ct_tree)
    lhs = sum(np.real(np.sum(c * np.asarray(j))) for c, j in zip(cts, _leaves(jt)))
    rhs = np.real(np.sum(np.asarray(g) * t))
    assert abs(lhs - rhs) <= 1e-8 * max(1.0, abs(lhs)), (lhs, rhs)


def _leaves(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


C3 = general(3, dt=np.complex128)
SC3 = hermitian_pd(3, dt=np.complex128)

COMPLEX_CASES = {
    "cholesky": (lambda a: L.cholesky(a), SC3),
    "triangular_solve_conj_transposed": (
        lambda a: L.triangular_solve(a, C3, left_side=True, lower=True, transpose_a=True,
                                     conjugate_a=True), lower_tri(3, dt=np.complex128)),
    "triangular_solve_conj": (
        lambda a: L.triangular_solve(a, C3, left_side=False, lower=True, conjugate_a=True),
        lower_tri(3, dt=np.complex128)),
    "lu": (lambda a: L.lu(a)[0], C3),
    "qr": (lambda a: L.qr(a), C3),
    "qr_wide": (lambda a: L.qr(a), general(4, dt=np.complex128, m=2)),
    "qr_pivoted": (lambda a: L.qr(a, pivoting=True)[:2], C3),
    # eigenvector phases are a choice (eigh's / svd's differ from LAPACK's): test
    # phase-invariant functions of them
    "eigh": (lambda a: (lambda v, w: (w, v @ np.diag([1.0, 2.0, 3.0]) @ np.conj(v.T)))(
        *L.eigh(a)), SC3),
    "svd": (lambda a: (lambda u, s, vh: (s, u @ np.diag([1.0, 2.0, 3.0]) @ vh))(*L.svd(a)), C3),
    "svd_tall": (lambda a: (lambda u, s, vh: (s, (u * s) @ vh))(*L.svd(a, full_matrices=False)),
                 general(2, dt=np.complex128, m=4)),
    # eig's eigenvectors follow LAPACK's normalization, so they are compared directly
    "eig": (lambda a: L.eig(a), C3),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_CASES))
def test_complex_derivatives(name):
    f, x = COMPLEX_CASES[name]
    _complex_check(f, x)


def test_eig_eigenvectors_of_real_matrix_with_complex_pairs():
    a = np.array([[0.0, -2.0, 0.3], [1.0, 0.5, 0.2], [0.1, 0.0, 1.5]])
    w = np.linalg.eigvals(a)
    assert np.sum(np.abs(w.imag) > 0.1) == 2
    _complex_check(lambda x: L.eig(x), a)


def test_triangular_solve_transpose_rule_is_linear_transpose():
    # <ct, T(b)> == <T^t(ct), b> for the map b -> op(a)^-1 b
    a, b, ct = lower_tri(3), B32, _randn((3, 2), np.float64)
    for kw in [dict(left_side=True, lower=True), dict(left_side=True, lower=True, transpose_a=True)]:
        _, vjp = xform.vjp(lambda bb: L.triangular_solve(a, bb, **kw), b)
        (g,) = vjp(ct)
        close(np.sum(ct * L.triangular_solve(a, b, **kw)), np.sum(g * b), 1e-12)


def test_hessian_and_jacfwd_through_cholesky():
    # log det via Cholesky: d2/dA2 [2 sum log diag L] applied to E is -tr(A^-1 E A^-1 E)
    def logdet(a):
        return 2 * xform.numpy.sum(xform.numpy.log(xform.numpy.diagonal(L.cholesky(a))))

    e = _randn((3, 3), np.float64)
    e = e + e.T
    ainv = np.linalg.inv(S3)
    hvp = xform.jvp(xform.grad(logdet), (S3,), (e,))[1]
    close(np.sum(hvp * e), -np.trace(ainv @ e @ ainv @ e), 1e-10)
    jac = xform.jacfwd(lambda a: L.cholesky(a))(S3)
    assert jac.shape == (3, 3, 3, 3)
    close(xform.hessian(logdet)(S3).reshape(9, 9) @ e.ravel(), hvp.ravel(), 1e-9)


# -- vmap, batching, jit -----------------------------------------------------------------

def _loop(f, *xs):
    outs = [f(*args) for args in zip(*xs)]
    if isinstance(outs[0], (tuple, list)):
        return [np.stack(o) for o in zip(*outs)]
    return np.stack(outs)


VMAP_CASES = {
    "cholesky": (lambda a: L.cholesky(a), (hermitian_pd(3, (4,)),)),
    "triangular_solve_both": (lambda a, b: L.triangular_solve(a, b, left_side=True, lower=True),
                              (lower_tri(3, (4,)), _randn((4, 3, 2), np.float64))),
    "lu": (lambda a: L.lu(a), (general(3, (4,)),)),
    "qr": (lambda a: L.qr(a), (general(3, (4,)),)),
    "qr_pivoted": (lambda a: L.qr(a, pivoting=True), (general(3, (4,)),)),
    "geqrf_pivoted": (lambda a: L.geqrf_pivoted(a), (general(3, (4,), m=4),)),
    "eigh": (lambda a: L.eigh(a), (hermitian_pd(3, (4,)),)),
    "svd": (lambda a: L.svd(a), (general(3, (4,)),)),
    "eig": (lambda a: L.eig(a), (general(3, (4,)),)),
    "pivots": (lambda p: L.lu_pivots_to_permutation(p, 4), (np.array([[3, 1, 2], [0, 2, 2]], np.int32),)),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_matches_loop(name):
    f, args = VMAP_CASES[name]
    got = xform.vmap(f)(*args)
    ref = _loop(f, *args)
    for g, r in zip(_leaves(got), _leaves(ref)):
        close(g, r, 1e-12 * max(1.0, _norm(r)))


@pytest.mark.parametrize("left_side", [True, False])
def test_vmap_triangular_solve_one_operand_batched(left_side):
    a = lower_tri(3, (4,))
    b = _randn((4, 3, 2) if left_side else (4, 2, 3), np.float64)
    kw = dict(left_side=left_side, lower=True, transpose_a=True)
    f = lambda a, b: L.triangular_solve(a, b, **kw)  # noqa: E731
    close(xform.vmap(f, in_axes=(None, 0))(a[0], b), _loop(lambda bb: f(a[0], bb), b), 1e-12)
    close(xform.vmap(f, in_axes=(0, None))(a, b[0]), _loop(lambda aa: f(aa, b[0]), a), 1e-12)
    # a batch axis that is not the first one
    close(xform.vmap(f, in_axes=(None, 2))(a[0], np.moveaxis(b, 0, 2)),
          _loop(lambda bb: f(a[0], bb), b), 1e-12)


def test_vmap_of_grad():
    f = lambda a: xform.numpy.sum(L.cholesky(a) ** 2)  # noqa: E731
    a = hermitian_pd(3, (3,))
    close(xform.vmap(xform.grad(f))(a), _loop(xform.grad(f), a), 1e-12)


def _everything(a, spd, tri, b):
    lu_, piv, perm = L.lu(a)
    q, r = L.qr(a, full_matrices=False)
    v, w = L.eigh(spd)
    u, s, vh = L.svd(a)
    ev = L.eig(a[..., :3, :])
    return [L.cholesky(spd), L.triangular_solve(tri, b, left_side=True, lower=True,
                                                transpose_a=True, conjugate_a=True),
            L.triangular_solve(tri, b, left_side=False, lower=False)
            if b.shape[-1] == b.shape[-2] else b,
            lu_, piv, perm, L.lu_pivots_to_permutation(piv, a.shape[-2]), q, r, v, w, u, s, vh,
            L.svd(a, compute_uv=False)] + ev + list(L.qr(a, pivoting=True)) + list(
                L.geqrf(a)) + list(L.geqrf_pivoted(a))


_JIT_EVERYTHING = xform.jit(_everything)


# two dtypes cover both precisions and both kinds (every helper compiles once per dtype;
# float64 is compiled by the grad test below)
@pytest.mark.parametrize("dt", [np.float32, np.complex128])
def test_jit_matches_eager(dt):
    batch = (2,)
    args = (general(3, batch, dt, m=4), hermitian_pd(3, batch, dt), lower_tri(3, batch, dt),
            _randn(batch + (3, 3), dt))
    got = _JIT_EVERYTHING(*args)
    ref = _everything(*args)
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert g.dtype == r.dtype and g.shape == r.shape, i
        g, r = np.asarray(g), np.asarray(r)
        if i in (7, 8, 9, 11, 13, 16, 17, 18, 19):  # q, r and eigen/singular vectors: up to a sign
            g, r = np.abs(g), np.abs(r)       # or phase per vector
        tol = 0 if g.dtype.kind == "i" else bound(dt, 4, max(1.0, _norm(r)), cond=20)
        close(g, r, tol)


def test_jit_grad_matches_eager():
    def f(a, spd):
        u, s, vh = L.svd(a, full_matrices=False)
        v, w = L.eigh(spd)
        q, r = L.qr(a, full_matrices=False)
        return (xform.numpy.sum(s ** 3) + xform.numpy.sum(w * xform.numpy.arange(3.0))
                + xform.numpy.sum(L.cholesky(spd)) + xform.numpy.sum(r * r[0, 0])
                + xform.numpy.sum(L.lu(a[:3])[0] ** 2))

    args = (general(3, m=4), hermitian_pd(3))
    g_eager = xform.grad(f, argnums=(0, 1))(*args)
    g_jit = xform.jit(xform.grad(f, argnums=(0, 1)))(*args)
    for a, b in zip(g_jit, g_eager):
        close(a, b, 1e-11 * max(1.0, _norm(b)))


def test_lax_linalg_is_a_submodule_as_in_jax():
    assert lax.linalg is L
    assert not hasattr(lax, "cholesky") and not hasattr(lax, "triangular_solve")
    assert lax.dot_general.__module__ == "xform.lax.dot"
