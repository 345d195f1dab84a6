"""Implicit differentiation of solves (issue 13): lax.custom_linear_solve and
lax.custom_root, and the Krylov solvers of xform.scipy.sparse.linalg built on them.

References: numpy/scipy solves for values, the closed form d(A^-1 b) = A^-1 (db - dA x)
(and its adjoint) for derivatives, central finite differences (check_grads)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as ssl

import xform
import xform.numpy as xnp
from xform import lax
from xform.scipy.sparse.linalg import bicgstab, cg, gmres

rng = np.random.default_rng(1234)
N = 5
_M = rng.normal(size=(N, N))
SPD = _M @ _M.T + N * np.eye(N)                 # symmetric positive definite
GEN = rng.normal(size=(N, N)) + 4 * np.eye(N)   # general, well conditioned
B = rng.normal(size=N)


def cg_loop(matvec, b):
    """Plain conjugate gradients (a while_loop: not differentiable by itself in
    reverse mode, which is the point of custom_linear_solve)."""
    def cond(c):
        return (c[3] > 1e-30) & (c[4] < 4 * N)

    def body(c):
        x, r, p, rs, k = c
        ap = matvec(p)
        alpha = rs / xnp.dot(p, ap)
        x, r = x + alpha * p, r - alpha * ap
        rs_new = xnp.dot(r, r)
        return x, r, r + (rs_new / rs) * p, rs_new, k + 1

    return lax.while_loop(cond, body, (xnp.zeros_like(b), b, b, xnp.dot(b, b), 0))[0]


def richardson(matvec, b):
    """A fixed-step iteration for the non-symmetric GEN (spectral radius < 1 for the
    normal equations is not needed: GEN is diagonally dominant enough)."""
    def step(_, x):
        return x + 0.1 * (b - matvec(x))
    return lax.fori_loop(0, 800, step, xnp.zeros_like(b))


def direct(matvec, b):
    """A direct solve of the (dense) operator: its matrix by applying it to the
    identity (the rule of custom_linear_solve never differentiates this)."""
    a = xform.vmap(matvec, out_axes=1)(xnp.eye(b.shape[0]))
    return xnp.linalg.solve(a, b)


def sym_solve(a, b):
    return lax.custom_linear_solve(lambda x: a @ x, b, cg_loop, symmetric=True)


def gen_solve(a, b):
    return lax.custom_linear_solve(lambda x: a @ x, b, direct, transpose_solve=direct)


# -- custom_linear_solve ----------------------------------------------------------------------


def test_custom_linear_solve_values():
    np.testing.assert_allclose(sym_solve(SPD, B), np.linalg.solve(SPD, B), rtol=1e-12)
    np.testing.assert_allclose(gen_solve(GEN, B), np.linalg.solve(GEN, B), rtol=1e-12)


@pytest.mark.parametrize("solve,a", [(sym_solve, SPD), (gen_solve, GEN)])
def test_custom_linear_solve_gradients_match_the_closed_form(solve, a):
    x = np.linalg.solve(a, B)
    w = rng.normal(size=N)
    # reverse mode: d/db <w, A^-1 b> = A^-T w ; d/dA = -(A^-T w) x^T
    ga, gb = xform.grad(lambda a, b: xnp.dot(w, solve(a, b)), argnums=(0, 1))(a, B)
    lam = np.linalg.solve(a.T, w)
    np.testing.assert_allclose(gb, lam, rtol=1e-10)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-10, atol=1e-13)
    # forward mode: dx = A^-1 (db - dA x)
    da, db = rng.normal(size=(N, N)), rng.normal(size=N)
    _, dx = xform.jvp(solve, (a, B), (da, db))
    np.testing.assert_allclose(dx, np.linalg.solve(a, db - da @ x), rtol=1e-10)


@pytest.mark.parametrize("solve,a", [(sym_solve, SPD), (gen_solve, GEN)])
def test_custom_linear_solve_check_grads_to_second_order(solve, a):
    xform.check_grads(solve, (a, B), order=2, modes=("fwd", "rev"))


def test_custom_linear_solve_does_not_differentiate_the_solver():
    # the solver is a while_loop: reverse mode through it would raise
    jaxpr = xform.make_jaxpr(xform.grad(lambda b: xnp.sum(sym_solve(SPD, b))))(B)
    assert "linear_solve" in str(jaxpr)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        xform.grad(lambda b: xnp.sum(cg_loop(lambda x: SPD @ x, b)))(B)


def test_custom_linear_solve_vmap_over_b_and_a():
    bs = rng.normal(size=(3, N))
    out = xform.vmap(sym_solve, in_axes=(None, 0))(SPD, bs)
    np.testing.assert_allclose(out, np.linalg.solve(SPD, bs.T).T, rtol=1e-11)
    As = np.stack([SPD, SPD + np.eye(N), 2 * SPD])
    out = xform.vmap(gen_solve)(As, bs)
    np.testing.assert_allclose(out, [np.linalg.solve(a, b) for a, b in zip(As, bs)], rtol=1e-11)
    # the gradient of a vmapped solve
    g = xform.grad(lambda b: xnp.sum(xform.vmap(sym_solve, in_axes=(None, 0))(SPD, b)))(bs)
    np.testing.assert_allclose(g, np.tile(np.linalg.solve(SPD, np.ones(N)), (3, 1)), rtol=1e-10)


# one compiled program: values and reverse-mode gradients of both kinds of solve
_jit_solves = xform.jit(lambda a, g, b: (
    sym_solve(a, b), gen_solve(g, b),
    xform.grad(lambda a, b: xnp.sum(sym_solve(a, b) ** 2), argnums=(0, 1))(a, b),
    xform.grad(lambda g: xnp.sum(gen_solve(g, b) ** 2))(g)))


def test_custom_linear_solve_under_jit_matches_eager():
    xs, xg, (ga, gb), gg = _jit_solves(SPD, GEN, B)
    np.testing.assert_allclose(xs, np.linalg.solve(SPD, B), rtol=1e-12)
    np.testing.assert_allclose(xg, np.linalg.solve(GEN, B), rtol=1e-12)
    ega, egb = xform.grad(lambda a, b: xnp.sum(sym_solve(a, b) ** 2), argnums=(0, 1))(SPD, B)
    np.testing.assert_allclose(ga, ega, rtol=1e-10)
    np.testing.assert_allclose(gb, egb, rtol=1e-10)
    np.testing.assert_allclose(gg, xform.grad(lambda g: xnp.sum(gen_solve(g, B) ** 2))(GEN),
                               rtol=1e-10)


def test_custom_linear_solve_pytrees_and_aux():
    b = {"u": B[:2], "v": B[2:]}

    def matvec(t):
        y = SPD @ xnp.concatenate([t["u"], t["v"]])
        return {"u": y[:2], "v": y[2:]}

    def solve(mv, t):
        x = direct(lambda v: xnp.concatenate(tree_vals(mv({"u": v[:2], "v": v[2:]}))),
                   xnp.concatenate(tree_vals(t)))
        return {"u": x[:2], "v": x[2:]}, xnp.sum(x)

    def tree_vals(t):
        return [t["u"], t["v"]]

    x, aux = lax.custom_linear_solve(matvec, b, solve, symmetric=True, has_aux=True)
    want = np.linalg.solve(SPD, B)
    np.testing.assert_allclose(np.concatenate([x["u"], x["v"]]), want, rtol=1e-12)
    np.testing.assert_allclose(aux, want.sum(), rtol=1e-12)
    g = xform.grad(lambda u: xnp.sum(lax.custom_linear_solve(
        matvec, {"u": u, "v": b["v"]}, solve, symmetric=True, has_aux=True)[0]["v"]))(b["u"])
    np.testing.assert_allclose(g, np.linalg.solve(SPD, np.r_[0, 0, 1, 1, 1.0])[:2], rtol=1e-10)


def test_custom_linear_solve_errors():
    no_transpose = lambda b: xnp.sum(lax.custom_linear_solve(lambda x: GEN @ x, b, direct))  # noqa: E731
    # forward mode works without a transpose solve; reverse mode needs it
    xform.jvp(no_transpose, (B,), (B,))
    with pytest.raises(TypeError, match="transpose_solve is required"):
        xform.grad(no_transpose)(B)
    with pytest.raises(TypeError, match="matvec must return a value with the structure"):
        lax.custom_linear_solve(lambda x: x[:2], B, direct)
    with pytest.raises(TypeError, match="floating"):
        lax.custom_linear_solve(lambda x: x, np.arange(3), direct)
    with pytest.raises(TypeError, match="must be a callable"):
        lax.custom_linear_solve(SPD, B, direct)


# -- custom_root -------------------------------------------------------------------------------


def newton_solve(f, x0):
    return lax.fori_loop(0, 30, lambda i, x: x - f(x) / xform.grad(f)(x), x0)


def cube_root(a):
    return lax.custom_root(lambda x: x ** 3 - a, 1.0, newton_solve, lambda g, y: y / g(1.0))


def test_custom_root_value_and_derivatives():
    a = 5.0
    np.testing.assert_allclose(cube_root(a), a ** (1 / 3), rtol=1e-14)
    np.testing.assert_allclose(xform.grad(cube_root)(a), a ** (-2 / 3) / 3, rtol=1e-12)
    np.testing.assert_allclose(xform.grad(xform.grad(cube_root))(a), -2 / 9 * a ** (-5 / 3),
                               rtol=1e-10)
    np.testing.assert_allclose(xform.jvp(cube_root, (a,), (2.0,))[1], 2 * a ** (-2 / 3) / 3,
                               rtol=1e-12)
    xform.check_grads(cube_root, (a,), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(xform.vmap(cube_root)(np.array([1.0, 8.0, 27.0])), [1, 2, 3],
                               rtol=1e-14)


_jit_root_grad = xform.jit(xform.value_and_grad(cube_root))


def test_custom_root_under_jit():
    v, g = _jit_root_grad(8.0)
    np.testing.assert_allclose([v, g], [2.0, 1 / 12], rtol=1e-13)
    # the compiled derivative against central differences of the compiled root
    eps = 1e-5
    fd = (_jit_root_grad(8.0 + eps)[0] - _jit_root_grad(8.0 - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-9)


def test_custom_root_vector_system_with_a_linear_tangent_solve():
    # x* solves A x + x**3 / 3 = theta; dx*/dtheta = (A + diag(x*^2))^-1
    a = SPD / 10

    def solution(theta):
        f = lambda x: a @ x + x ** 3 / 3 - theta  # noqa: E731

        def solve(f, x):  # Newton with the dense Jacobian
            jac = xform.jacfwd(f)
            return lax.fori_loop(0, 40, lambda i, x: x - xnp.linalg.solve(jac(x), f(x)), x)

        def tangent_solve(g, y):  # a linear solve, so that reverse mode can transpose it
            return lax.custom_linear_solve(g, y, direct, transpose_solve=direct)

        return lax.custom_root(f, xnp.zeros_like(theta), solve, tangent_solve)

    theta = rng.normal(size=N)
    x = solution(theta)
    np.testing.assert_allclose(a @ x + x ** 3 / 3, theta, atol=1e-12)
    jac = xform.jacrev(solution)(theta)
    np.testing.assert_allclose(jac, np.linalg.inv(a + np.diag(x ** 2)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xform.jacfwd(solution)(theta), jac, rtol=1e-9, atol=1e-12)


def test_custom_root_errors():
    with pytest.raises(TypeError, match="structure and shapes of initial_guess"):
        lax.custom_root(lambda x: x[:1], np.zeros(2), newton_solve, lambda g, y: y)
    with pytest.raises(TypeError, match="has_aux=True, solve must return a pair"):
        lax.custom_root(lambda x: x, 1.0, lambda f, x: x, lambda g, y: y, has_aux=True)


# -- Krylov solvers -----------------------------------------------------------------------------

SCIPY_TOL = dict(rtol=1e-10, atol=0.0)


def test_cg_matches_scipy_and_numpy():
    x, info = cg(SPD, B, tol=1e-10)
    assert info is None
    xs, _ = ssl.cg(SPD, B, **SCIPY_TOL)
    np.testing.assert_allclose(x, xs, rtol=1e-8)
    np.testing.assert_allclose(x, np.linalg.solve(SPD, B), rtol=1e-8)
    # a callable, a starting point, a (Jacobi) preconditioner, an iteration cap
    d = np.diag(SPD)
    x2, _ = cg(lambda v: SPD @ v, B, x0=np.ones(N), M=lambda v: v / d, tol=1e-12)
    np.testing.assert_allclose(x2, np.linalg.solve(SPD, B), rtol=1e-10)
    x1, _ = cg(SPD, B, maxiter=1)
    x1s, _ = ssl.cg(SPD, B, maxiter=1, **SCIPY_TOL)
    np.testing.assert_allclose(x1, x1s, rtol=1e-12)


@pytest.mark.parametrize("method", ["batched", "incremental"])
def test_gmres_matches_numpy(method):
    for restart in (N, 2):
        x, info = gmres(GEN, B, tol=1e-12, restart=restart, solve_method=method)
        assert int(info) == 0
        np.testing.assert_allclose(x, np.linalg.solve(GEN, B), rtol=1e-9)


def test_bicgstab_matches_scipy_and_numpy():
    x, _ = bicgstab(GEN, B, tol=1e-12)
    np.testing.assert_allclose(x, np.linalg.solve(GEN, B), rtol=1e-9)
    xs, _ = ssl.bicgstab(GEN, B, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(x, xs, rtol=1e-8)


@pytest.mark.parametrize("solver,a", [(cg, SPD), (gmres, GEN), (bicgstab, GEN)])
def test_krylov_gradients_match_the_closed_form(solver, a):
    x = np.linalg.solve(a, B)
    w = rng.normal(size=N)

    def f(a, b):
        return xnp.dot(w, solver(lambda v: a @ v, b, tol=1e-13)[0])

    ga, gb = xform.grad(f, argnums=(0, 1))(a, B)
    lam = np.linalg.solve(a.T, w)
    np.testing.assert_allclose(gb, lam, rtol=1e-8)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-8, atol=1e-11)
    db = rng.normal(size=N)
    _, dx = xform.jvp(lambda b: solver(a, b, tol=1e-13)[0], (B,), (db,))
    np.testing.assert_allclose(dx, np.linalg.solve(a, db), rtol=1e-8)


def test_krylov_pytrees():
    b = (B[:3], B[3:])

    def matvec(t):
        y = GEN @ xnp.concatenate(t)
        return (y[:3], y[3:])

    want = np.linalg.solve(GEN, B)
    for solver in (gmres, bicgstab):
        x, _ = solver(matvec, b, tol=1e-12)
        np.testing.assert_allclose(np.concatenate(x), want, rtol=1e-9)


# every Krylov solver and a gradient through each, compiled (three small programs: Numba's
# compile time grows faster than the size of a kernel, so one program for all costs more)
_jit_cg_bicgstab = xform.jit(lambda a, g, b: (
    cg(a, b, tol=1e-12)[0],
    xform.grad(lambda b: xnp.sum(cg(a, b, tol=1e-12)[0] ** 2))(b),
    xform.value_and_grad(lambda b: xnp.sum(bicgstab(g, b, tol=1e-12)[0] ** 2))(b)))
# gmres: the incremental Arnoldi variant's value; the batched one's value and gradient
# (its transpose solve is another batched gmres)
_jit_gmres_incremental = xform.jit(
    lambda g, b: gmres(g, b, tol=1e-12, restart=2, solve_method="incremental")[0])
_jit_gmres_grad = xform.jit(xform.value_and_grad(
    lambda g, b: xnp.sum(gmres(g, b, tol=1e-12, restart=N, solve_method="batched")[0] ** 2)))


def test_krylov_solvers_under_jit_are_loops():
    x = np.linalg.solve(SPD, B)
    xgen = np.linalg.solve(GEN, B)
    lam = np.linalg.solve(GEN.T, xgen)
    xc, gc, (vb, gb) = _jit_cg_bicgstab(SPD, GEN, B)
    np.testing.assert_allclose(xc, x, rtol=1e-9)
    # d|A^-1 b|^2/db = 2 A^-T x ; d|G^-1 b|^2/dG = -2 (G^-T x) x^T
    np.testing.assert_allclose(gc, 2 * np.linalg.solve(SPD, x), rtol=1e-8)
    np.testing.assert_allclose(vb, xgen @ xgen, rtol=1e-9)
    np.testing.assert_allclose(gb, 2 * lam, rtol=1e-8)
    np.testing.assert_allclose(_jit_gmres_incremental(GEN, B), xgen, rtol=1e-9)
    vg, gg = _jit_gmres_grad(GEN, B)
    np.testing.assert_allclose(vg, xgen @ xgen, rtol=1e-9)
    np.testing.assert_allclose(gg, -2 * np.outer(lam, xgen), rtol=1e-8, atol=1e-12)
    for fn, args, loops in [(_jit_cg_bicgstab, (SPD, GEN, B), 3),
                            (_jit_gmres_incremental, (GEN, B), 2), (_jit_gmres_grad, (GEN, B), 2)]:
        source = fn.lower(*args).source
        assert source.count("def kernel") == 1 and source.count("while True") >= loops


def test_krylov_vmap():
    bs = rng.normal(size=(3, N))
    xs = xform.vmap(lambda b: cg(SPD, b, tol=1e-12)[0])(bs)
    np.testing.assert_allclose(xs, np.linalg.solve(SPD, bs.T).T, rtol=1e-9)
    xs = xform.vmap(lambda a: gmres(a, B, tol=1e-12)[0])(np.stack([GEN, GEN.T]))
    np.testing.assert_allclose(xs, [np.linalg.solve(GEN, B), np.linalg.solve(GEN.T, B)],
                               rtol=1e-9)


def test_krylov_errors():
    with pytest.raises(ValueError, match="matching tree structure"):
        cg(SPD, B, x0=(B,))
    with pytest.raises(ValueError, match="matching shapes"):
        cg(SPD, B, x0=B[:2])
    with pytest.raises(ValueError, match="square matrix"):
        cg(np.ones((2, 3)), B)
    with pytest.raises(ValueError, match="solve_method"):
        gmres(GEN, B, solve_method="qr")
    with pytest.raises(TypeError, match="floating"):
        cg(SPD, np.arange(N))
    with pytest.raises(ValueError, match=r"bicgstab: the matrix M is 3x3 but b has 5 entries"):
        bicgstab(GEN, B, M=np.eye(3))
    with pytest.raises(ValueError, match="gmres: restart must be a positive int, got 0"):
        gmres(GEN, B, restart=0)
    with pytest.raises(ValueError, match="cg: maxiter must be a non-negative int or None"):
        cg(SPD, B, maxiter=-2)
