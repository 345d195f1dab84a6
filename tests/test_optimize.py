"""xform.optimize and xform.scipy.optimize (issue 13): every method reaches scipy's
solution (scipy.optimize.minimize / least_squares driven by exact derivatives written
out in numpy) in a comparable number of iterations; solutions are differentiable with
respect to their inputs (implicit function theorem) against closed forms and finite
differences; bad input is a clear error.

Each method runs compiled on the 2-D Rosenbrock function (one shared program per
method); the other problems run under ``xform.disable_jit()`` (the same traced
algorithm, evaluated op by op), which keeps the number of Numba compilations low."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so

import xform
import xform.numpy as xnp
from xform.optimize import OptimizeResult, least_squares, minimize
from xform.scipy import optimize as jso

METHODS = ["newton-cg", "trust-ncg", "trust-exact", "bfgs", "lbfgs"]
SCIPY_NAME = {"newton-cg": "Newton-CG", "trust-ncg": "trust-ncg", "trust-exact": "trust-exact",
              "bfgs": "BFGS", "lbfgs": "L-BFGS-B"}


def scipy_minimize(method, f, x0, jac, hessp=None, hess=None, tol=1e-10):
    kw = {"jac": jac}
    if method in ("newton-cg", "trust-ncg"):
        kw["hessp"] = hessp
    if method == "trust-exact":
        kw["hess"] = hess
    return so.minimize(f, x0, method=SCIPY_NAME[method], tol=tol, **kw)


def assert_iterations_in_scipys_range(r, rs):
    assert int(r.nit) <= 1.5 * rs.nit + 10, (int(r.nit), rs.nit)


# -- Rosenbrock ---------------------------------------------------------------------------------


def rosen(x):
    return xnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("method", METHODS)
def test_rosenbrock_2d_compiled(method):
    r = minimize(rosen, np.zeros(2), method=method, tol=1e-10)
    rs = scipy_minimize(method, so.rosen, np.zeros(2), so.rosen_der, so.rosen_hess_prod,
                        so.rosen_hess)
    assert bool(r.success) and r.status == 0, r.message
    np.testing.assert_allclose(r.x, np.ones(2), atol=1e-7)
    np.testing.assert_allclose(r.x, rs.x, atol=1e-6)
    assert float(r.fun) < 1e-14
    np.testing.assert_allclose(r.jac, so.rosen_der(r.x), atol=1e-9)
    np.testing.assert_allclose(r.fun, so.rosen(r.x), atol=1e-20)
    assert_iterations_in_scipys_range(r, rs)
    assert int(r.nfev) >= int(r.nit) and int(r.njev) >= 1
    if method in ("newton-cg", "trust-ncg"):
        assert int(r.nhvp) > 0
    # the compiled program is cached per (function, method, options): no recompilation
    r2 = minimize(rosen, np.array([-1.2, 1.0]), method=method, tol=1e-10)
    np.testing.assert_allclose(r2.x, np.ones(2), atol=1e-6)


@pytest.mark.parametrize("method", ["newton-cg", "trust-ncg", "lbfgs"])
def test_rosenbrock_60d(method):
    n = 60
    with xform.disable_jit():
        r = minimize(rosen, np.zeros(n), method=method, tol=1e-8)
    rs = scipy_minimize(method, so.rosen, np.zeros(n), so.rosen_der, so.rosen_hess_prod,
                        tol=1e-8)
    assert bool(r.success), r.message
    np.testing.assert_allclose(r.x, rs.x, atol=2e-4)
    np.testing.assert_allclose(r.x, np.ones(n), atol=2e-4)
    assert_iterations_in_scipys_range(r, rs)


def test_each_method_is_one_compiled_while_loop():
    jaxpr = str(xform.make_jaxpr(lambda x: minimize(rosen, x, method="trust-ncg").x)(np.zeros(3)))
    assert "while" in jaxpr and "custom_jvp_call" in jaxpr
    source = xform.jit(lambda x: minimize(rosen, x, method="newton-cg").x).lower(np.zeros(2)).source
    assert source.count("def kernel") == 1 and "while True" in source


# -- L2-regularised logistic regression -------------------------------------------------------

_rng = np.random.default_rng(0)
LX = _rng.normal(size=(200, 8))
LY = np.where(LX @ _rng.normal(size=8) + 0.5 * _rng.normal(size=200) > 0, 1.0, -1.0)
LAM = 0.1


def logistic_loss(w, x, y, lam):
    return xnp.mean(xnp.logaddexp(0.0, -y * (x @ w))) + 0.5 * lam * xnp.sum(w * w)


def logistic_np(w):
    z = LY * (LX @ w)
    return np.mean(np.logaddexp(0.0, -z)) + 0.5 * LAM * w @ w


def logistic_grad_np(w):
    z = LY * (LX @ w)
    return -(LX.T @ (LY / (1 + np.exp(z)))) / len(LY) + LAM * w


def logistic_hessp_np(w, v):
    s = 1 / (1 + np.exp(-LX @ w))
    return LX.T @ (s * (1 - s) * (LX @ v)) / len(LY) + LAM * v


@pytest.mark.parametrize("method", ["newton-cg", "trust-ncg", "lbfgs"])
def test_logistic_regression(method):
    w0 = np.zeros(8)
    if method == "newton-cg":  # compiled (as the example and the benchmark run it)
        r = minimize(logistic_loss, w0, (LX, LY, LAM), method=method, tol=1e-10)
    else:
        with xform.disable_jit():
            r = minimize(logistic_loss, w0, (LX, LY, LAM), method=method, tol=1e-10)
    rs = scipy_minimize(method, logistic_np, w0, logistic_grad_np, logistic_hessp_np)
    assert bool(r.success), r.message
    # (L-BFGS stops on the relative decrease of f, as L-BFGS-B: both are a few 1e-7
    # from the minimizer; the Newton methods' solutions agree to rounding)
    close = dict(rtol=0, atol=2e-6) if method == "lbfgs" else dict(rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(r.x, rs.x, **close)
    np.testing.assert_allclose(r.fun, rs.fun, rtol=1e-12)
    np.testing.assert_allclose(r.jac, logistic_grad_np(r.x), atol=1e-12)
    assert_iterations_in_scipys_range(r, rs)


# -- an ill-conditioned quadratic --------------------------------------------------------------

_Q, _ = np.linalg.qr(_rng.normal(size=(12, 12)))
QA = _Q @ np.diag(np.logspace(0, 6, 12)) @ _Q.T   # condition number 1e6
QB = _rng.normal(size=12)


def quadratic(x, a, b):
    return 0.5 * x @ (a @ x) - b @ x


@pytest.mark.parametrize("method", ["newton-cg", "trust-ncg", "trust-exact", "bfgs"])
def test_ill_conditioned_quadratic(method):
    with xform.disable_jit():
        r = minimize(quadratic, np.zeros(12), (QA, QB), method=method, tol=1e-7)
    rs = scipy_minimize(method, lambda x: 0.5 * x @ QA @ x - QB @ x, np.zeros(12),
                        lambda x: QA @ x - QB, lambda x, v: QA @ v, lambda x: QA, tol=1e-7)
    want = np.linalg.solve(QA, QB)
    assert bool(r.success), r.message
    np.testing.assert_allclose(r.x, want, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r.fun, rs.fun, rtol=1e-10)
    assert_iterations_in_scipys_range(r, rs)


# -- a Gaussian-process marginal likelihood ---------------------------------------------------

GX = np.linspace(0.0, 5.0, 25)
GY = np.sin(1.3 * GX) + 0.1 * _rng.normal(size=25)


def gp_nll(log_params, x, y):
    ell, sf2, sn2 = xnp.exp(log_params[0]), xnp.exp(log_params[1]), xnp.exp(log_params[2])
    k = sf2 * xnp.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ell ** 2) + sn2 * xnp.eye(x.size)
    chol = xnp.linalg.cholesky(k)
    alpha = xform.scipy.linalg.cho_solve((chol, True), y)
    return 0.5 * y @ alpha + xnp.sum(xnp.log(xnp.diagonal(chol))) + 0.5 * x.size * np.log(
        2 * np.pi)


def gp_nll_np(p):
    ell, sf2, sn2 = np.exp(p)
    d2 = (GX[:, None] - GX[None, :]) ** 2
    kf = sf2 * np.exp(-0.5 * d2 / ell ** 2)
    k = kf + sn2 * np.eye(GX.size)
    kinv = np.linalg.inv(k)
    alpha = kinv @ GY
    nll = 0.5 * GY @ alpha + 0.5 * np.linalg.slogdet(k)[1] + 0.5 * GX.size * np.log(2 * np.pi)
    w = kinv - np.outer(alpha, alpha)  # d nll / d k = w / 2
    dk = [kf * d2 / ell ** 2, kf, sn2 * np.eye(GX.size)]  # dK / d log(param)
    return nll, np.array([0.5 * np.sum(w * d) for d in dk])


@pytest.mark.parametrize("method", ["bfgs", "lbfgs"])
def test_gaussian_process_marginal_likelihood(method):
    p0 = np.zeros(3)
    with xform.disable_jit():
        r = minimize(gp_nll, p0, (GX, GY), method=method, tol=1e-8)
    rs = so.minimize(gp_nll_np, p0, jac=True, method="BFGS", tol=1e-8)
    assert bool(r.success), r.message
    np.testing.assert_allclose(r.x, rs.x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r.fun, rs.fun, rtol=1e-10)
    np.testing.assert_allclose(r.jac, gp_nll_np(r.x)[1], atol=1e-6)
    assert_iterations_in_scipys_range(r, rs)


# -- least squares ------------------------------------------------------------------------------

ET = np.linspace(0.0, 4.0, 40)
EY = 3.0 * np.exp(-1.7 * ET) + 0.8 * np.exp(-0.3 * ET) + 0.01 * _rng.normal(size=40)
EP0 = np.array([1.0, 1.0, 1.0, 0.1])


def exp_residuals(p, t, y):
    return p[0] * xnp.exp(-p[1] * t) + p[2] * xnp.exp(-p[3] * t) - y


def exp_res_np(p):
    return p[0] * np.exp(-p[1] * ET) + p[2] * np.exp(-p[3] * ET) - EY


def exp_jac_np(p):
    e1, e3 = np.exp(-p[1] * ET), np.exp(-p[3] * ET)
    return np.stack([e1, -p[0] * ET * e1, e3, -p[2] * ET * e3], axis=1)


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
def test_sum_of_exponentials_fit(method):
    r = least_squares(exp_residuals, EP0, (ET, EY), method=method, ftol=1e-12, xtol=1e-12,
                      gtol=1e-12)
    rs = so.least_squares(exp_res_np, EP0, jac=exp_jac_np, method="lm", ftol=1e-12,
                          xtol=1e-12, gtol=1e-12)
    assert bool(r.success) and int(r.status) > 0, r.message
    np.testing.assert_allclose(r.x, rs.x, rtol=1e-6)
    np.testing.assert_allclose(r.cost, rs.cost, rtol=1e-10)
    np.testing.assert_allclose(r.fun, exp_res_np(r.x), atol=1e-12)
    np.testing.assert_allclose(r.jac, exp_jac_np(r.x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.grad, exp_jac_np(r.x).T @ exp_res_np(r.x), atol=1e-9)
    assert int(r.nfev) <= 3 * rs.nfev + 10
    # the same through scipy's minimize on the cost, as a cross-check of the minimizers
    with xform.disable_jit():
        rm = minimize(lambda p, t, y: 0.5 * xnp.sum(exp_residuals(p, t, y) ** 2), EP0,
                      (ET, EY), method="trust-exact", tol=1e-10)
    np.testing.assert_allclose(rm.x, r.x, rtol=1e-5)


def test_least_squares_pytrees_and_jac_modes():
    x0 = {"a": np.array([1.0, 1.0]), "b": np.array([1.0, 0.1])}

    def res(p, t, y):
        return {"fit": p["a"][0] * xnp.exp(-p["a"][1] * t) + p["b"][0] * xnp.exp(-p["b"][1] * t) - y,
                "prior": 1e-3 * (p["a"] - 1.0)}

    with xform.disable_jit():
        r1 = least_squares(res, x0, (ET, EY), method="lm", options={"jac": "fwd"})
        r2 = least_squares(res, x0, (ET, EY), method="lm", options={"jac": "rev"})
    assert set(r1.x) == {"a", "b"} and r1.fun.shape == (42,) and r1.jac.shape == (42, 4)
    np.testing.assert_allclose(r1.x["a"], r2.x["a"], rtol=1e-8)
    np.testing.assert_allclose(r1.jac, r2.jac, rtol=1e-10, atol=1e-14)


# -- differentiating the solution (custom_root) -----------------------------------------------

RA = _rng.normal(size=(20, 5))
RB = _rng.normal(size=20)


def ridge(x, a, b, lam):
    return 0.5 * xnp.sum((a @ x - b) ** 2) + 0.5 * lam * xnp.sum(x ** 2)


def ridge_solution(lam):
    return np.linalg.solve(RA.T @ RA + lam * np.eye(5), RA.T @ RB)


_ridge_grads = xform.jit(xform.grad(
    lambda lam, b: xnp.sum(minimize(ridge, np.zeros(5), (RA, b, lam), method="newton-cg",
                                    tol=1e-11).x ** 2), argnums=(0, 1)))


def test_hyperparameter_gradients_match_the_closed_form():
    lam = 0.7
    g_lam, g_b = _ridge_grads(lam, RB)
    x = ridge_solution(lam)
    h = RA.T @ RA + lam * np.eye(5)
    # x* = H^-1 A^T b: d|x*|^2/dlam = -2 x.H^-1 x ; d|x*|^2/db = 2 A H^-1 x
    np.testing.assert_allclose(g_lam, -2 * x @ np.linalg.solve(h, x), rtol=1e-7)
    np.testing.assert_allclose(g_b, 2 * RA @ np.linalg.solve(h, x), rtol=1e-7)


@pytest.mark.parametrize("method", ["trust-ncg", "lbfgs"])
def test_hyperparameter_gradients_match_finite_differences(method):
    def sol(lam):
        return minimize(ridge, np.zeros(5), (RA, RB, lam), method=method, tol=1e-12).x

    with xform.disable_jit():
        jac = xform.jacrev(sol)(0.7)
        jvp = xform.jvp(sol, (0.7,), (1.0,))[1]
        # the objective's value at the solution: the envelope theorem, d f*/dlam = |x*|^2/2
        gf = xform.grad(lambda lam: minimize(ridge, np.zeros(5), (RA, RB, lam),
                                             method=method, tol=1e-12).fun)(0.7)
    eps = 1e-5
    fd = (ridge_solution(0.7 + eps) - ridge_solution(0.7 - eps)) / (2 * eps)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gf, 0.5 * np.sum(ridge_solution(0.7) ** 2), rtol=1e-8)


def test_vmap_over_problems():
    lams = np.array([0.1, 1.0, 10.0])
    with xform.disable_jit():
        xs = xform.vmap(lambda lam: minimize(ridge, np.zeros(5), (RA, RB, lam),
                                             method="trust-ncg", tol=1e-10).x)(lams)
    np.testing.assert_allclose(xs, [ridge_solution(lam) for lam in lams], rtol=1e-8)


def test_least_squares_solution_gradient():
    # a single exponential fitted to the data: dp*/dy = (J^T J + sum_i r_i hess r_i)^-1 J^T
    def fit(y):
        return least_squares(lambda p, t, y: p[0] * xnp.exp(-p[1] * t) - y,
                             np.array([1.0, 1.0]), (ET, y), method="lm", ftol=1e-14,
                             xtol=1e-14, gtol=1e-14).x

    with xform.disable_jit():
        p = fit(EY)
        jac = xform.jacrev(fit)(EY)
    a, b = p
    e1 = np.exp(-b * ET)
    r = a * e1 - EY
    J = np.stack([e1, -a * ET * e1], axis=1)
    cross = np.sum(r * -ET * e1)
    h = J.T @ J + np.array([[0.0, cross], [cross, np.sum(r * a * ET ** 2 * e1)]])
    np.testing.assert_allclose(jac, np.linalg.solve(h, J.T), rtol=1e-6, atol=1e-10)


# -- pytrees, results, JAX's API ----------------------------------------------------------------


def test_pytree_parameters():
    def f(p, c):
        return xnp.sum((p["w"] - c) ** 2) + (p["b"] + 1.0) ** 2 + 0.1 * xnp.sum(p["w"]) * p["b"]

    x0 = {"w": np.zeros((2, 2)), "b": np.float64(0.0)}
    with xform.disable_jit():
        r = minimize(f, x0, (np.arange(4.0).reshape(2, 2),), method="bfgs", tol=1e-10)
    rs = so.minimize(lambda v: np.sum((v[:4] - np.arange(4.0)) ** 2) + (v[4] + 1) ** 2
                     + 0.1 * np.sum(v[:4]) * v[4], np.zeros(5), method="BFGS", tol=1e-10)
    assert r.x["w"].shape == (2, 2) and np.shape(r.x["b"]) == () and r.jac["w"].shape == (2, 2)
    np.testing.assert_allclose(np.append(np.ravel(r.x["w"]), r.x["b"]), rs.x, atol=1e-7)


def test_result_object():
    with xform.disable_jit():
        r = minimize(quadratic, np.zeros(12), (QA, QB), method="newton-cg", maxiter=2)
    assert isinstance(r, OptimizeResult) and r["x"] is r.x
    assert int(r.status) == 1 and not bool(r.success)
    assert r.message == "Maximum number of iterations has been exceeded."
    assert {"x", "fun", "jac", "nit", "nfev", "njev", "nhvp", "success", "status"} <= set(r)
    assert "message" in repr(r)
    leaves, tree = xform.tree_util.tree_flatten(r)
    assert xform.tree_util.tree_unflatten(tree, leaves).message == r.message


def test_jax_scipy_minimize():
    # (un-jitted: the same BFGS program runs compiled in test_rosenbrock_2d_compiled and in
    # the module's docstring example)
    with xform.disable_jit():
        r = jso.minimize(rosen, np.zeros(2), method="BFGS", options={"gtol": 1e-10})
    assert isinstance(r, jso.OptimizeResults)
    rs = so.minimize(so.rosen, np.zeros(2), jac=so.rosen_der, method="BFGS", tol=1e-10)
    assert bool(r.success) and int(r.status) == 0
    np.testing.assert_allclose(r.x, rs.x, atol=1e-7)
    assert r.hess_inv.shape == (2, 2) and np.all(np.linalg.eigvalsh(r.hess_inv) > 0)
    assert_iterations_in_scipys_range(r, rs)
    with xform.disable_jit():
        r = jso.minimize(rosen, np.zeros(2), method="l-bfgs-experimental-do-not-rely-on-this",
                         options={"gtol": 1e-9, "maxcor": 5, "ftol": 0.0})
    assert r.hess_inv is None and bool(r.success)
    np.testing.assert_allclose(r.x, np.ones(2), atol=1e-6)
    with pytest.raises(ValueError, match="1-D"):
        jso.minimize(rosen, np.zeros((2, 2)), method="BFGS")
    with pytest.raises(TypeError, match="unknown option"):
        jso.minimize(rosen, np.zeros(2), method="BFGS", options={"maxcor": 3})
    with pytest.raises(ValueError, match="not recognized"):
        jso.minimize(rosen, np.zeros(2), method="Nelder-Mead")


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="fun must return a scalar.*shape \\(3,\\)"):
        minimize(lambda x: x ** 2, np.zeros(3), method="bfgs")
    with pytest.raises(TypeError, match="fun must return a scalar, got a .* of 2 values"):
        with xform.disable_jit():
            minimize(lambda p: (xnp.sum(p["w"]), p["b"]), {"w": np.zeros(2), "b": 0.0})
    with pytest.raises(ValueError, match="non-finite"):
        minimize(rosen, np.array([0.0, np.nan]), method="bfgs")
    with pytest.raises(ValueError, match="non-finite"):
        least_squares(exp_residuals, np.array([1.0, np.inf, 1.0, 1.0]), (ET, EY))
    with pytest.raises(ValueError, match="unknown method 'newton'.*'newton-cg'"):
        minimize(rosen, np.zeros(2), method="newton")
    with pytest.raises(TypeError, match="unknown option \\['max_iter'\\].*'maxiter'"):
        minimize(rosen, np.zeros(2), method="trust-ncg", options={"max_iter": 3})
    with pytest.raises(TypeError, match="args must be a tuple"):
        minimize(quadratic, np.zeros(12), [QA, QB])
    with pytest.raises(TypeError, match="complex"):
        minimize(rosen, np.zeros(2, complex))
    with pytest.raises(ValueError, match="unknown method"):
        least_squares(exp_residuals, EP0, (ET, EY), method="trf")
    with pytest.raises(TypeError, match="residuals must be real"):
        with xform.disable_jit():
            least_squares(lambda p: p * 1j, EP0)
