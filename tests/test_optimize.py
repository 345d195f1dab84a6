"""xform.optimize and xform.scipy.optimize (issue 13): every method reaches scipy's
solution (scipy.optimize.minimize / least_squares driven by exact derivatives written
out in numpy) in a comparable number of iterations; solutions are differentiable with
respect to their inputs (implicit function theorem) against closed forms and finite
differences; bad input is a clear error.

Every method runs compiled, as users call it (``minimize`` jits and caches one program
per function, method and options), on one family of objectives whose data are
arguments,

    f(x; c, a, b, X, y) = sum_i c_i rosen_i(x) + x.a x / 2 - b.x + mean(log(1 + e^(-y X x)))

so that one compiled program per method (same shapes) solves four problems: the 2-D
Rosenbrock function (the other coordinates a separable quadratic), the 8-D Rosenbrock
function, an ill-conditioned quadratic (condition number 1e6) and L2-regularised
logistic regression. Larger problems (Rosenbrock in 60 dimensions, a Gaussian process)
and the transformations of a solution (jacrev, vmap, pytrees) run under
``xform.disable_jit()`` (the same traced algorithm, evaluated op by op), which keeps
the number of Numba compilations low."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so

import xform
import xform.numpy as xnp
from xform.optimize import OptimizeResult, least_squares, minimize
from xform.optimize import _common
from xform.scipy import optimize as jso

METHODS = ["newton-cg", "trust-ncg", "trust-exact", "bfgs", "lbfgs"]
SCIPY_NAME = {"newton-cg": "Newton-CG", "trust-ncg": "trust-ncg", "trust-exact": "trust-exact",
              "bfgs": "BFGS", "lbfgs": "L-BFGS-B"}


def scipy_minimize(method, f, x0, jac, hessp=None, hess=None, tol=1e-10, args=()):
    kw = {"jac": jac}
    if method in ("newton-cg", "trust-ncg"):
        kw["hessp"] = hessp
    if method == "trust-exact":
        kw["hess"] = hess
    return so.minimize(f, x0, args, method=SCIPY_NAME[method], tol=tol, **kw)


def assert_iterations_in_scipys_range(r, rs):
    assert int(r.nit) <= 1.5 * rs.nit + 10, (int(r.nit), rs.nit)


def rosen(x):
    return xnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


# -- the family of test problems, in xform and in numpy ------------------------------------------

N = 8
_rng = np.random.default_rng(0)


def family(x, c, a, b, X, y):
    r = 100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2
    # (log1p(exp(-z)): the margins here are moderate; fewer operations than logaddexp to
    # compile in every method's program)
    return c @ r + 0.5 * x @ (a @ x) - b @ x + xnp.mean(xnp.log1p(xnp.exp(-y * (X @ x))))


def family_np(x, c, a, b, X, y):
    r = 100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2
    return c @ r + 0.5 * x @ a @ x - b @ x + np.mean(np.logaddexp(0.0, -y * (X @ x)))


def family_grad(x, c, a, b, X, y):
    g = a @ x - b - X.T @ (y / (1 + np.exp(y * (X @ x)))) / len(y)
    d = x[1:] - x[:-1] ** 2
    g[1:] += 200 * c * d
    g[:-1] += c * (-400 * x[:-1] * d - 2 * (1 - x[:-1]))
    return g


def family_hess(x, c, a, b, X, y):
    s = 1 / (1 + np.exp(-X @ x))
    h = a + X.T @ (X * (s * (1 - s))[:, None]) / len(y)
    i = np.arange(N - 1)
    h[i + 1, i + 1] += 200 * c
    h[i, i] += c * (-400 * (x[1:] - x[:-1] ** 2) + 800 * x[:-1] ** 2 + 2)
    h[i, i + 1] -= 400 * c * x[:-1]
    h[i + 1, i] -= 400 * c * x[:-1]
    return h


def family_hessp(x, v, *args):
    return family_hess(x, *args) @ v


_Q, _ = np.linalg.qr(_rng.normal(size=(N, N)))
QA = _Q @ np.diag(np.logspace(0, 6, N)) @ _Q.T   # condition number 1e6
QB = _rng.normal(size=N)
LX = _rng.normal(size=(200, N))
LY = np.where(LX @ _rng.normal(size=N) + 0.5 * _rng.normal(size=200) > 0, 1.0, -1.0)
LAM = 0.1
_NO_C, _NO_X, _NO_Y = np.zeros(N - 1), np.zeros((200, N)), np.ones(200)
PROBLEMS = {
    "rosenbrock_2d": (np.eye(1, N - 1)[0], np.diag([0.0, 0.0] + [1.0] * (N - 2)), np.zeros(N),
                      _NO_X, _NO_Y),
    "rosenbrock_8d": (np.ones(N - 1), np.zeros((N, N)), np.zeros(N), _NO_X, _NO_Y),
    "ill_conditioned_quadratic": (_NO_C, QA, QB, _NO_X, _NO_Y),
    "logistic_regression": (_NO_C, LAM * np.eye(N), np.zeros(N), LX, LY),
}
# one tolerance per method, so that one compiled program serves every problem
TOL = {"newton-cg": 1e-8, "trust-ncg": 1e-8, "trust-exact": 1e-8, "bfgs": 1e-8, "lbfgs": 1e-10}


def exact_minimizer(args, start):
    """The minimizer to rounding: scipy's exact trust region from a nearby point."""
    return so.minimize(family_np, start, args, method="trust-exact", jac=family_grad,
                       hess=family_hess, tol=1e-14).x


def _compiled_programs(fun, kind="minimize"):
    return [f for k, f in _common._JIT_CACHE.items() if k[0] == kind and k[1] is fun]


@pytest.mark.parametrize("method", METHODS)
def test_compiled_methods_reach_scipys_solution(method):
    before = len(_compiled_programs(family))
    for name, args in PROBLEMS.items():
        r = minimize(family, np.zeros(N), args, method=method, tol=TOL[method])
        rs = scipy_minimize(method, family_np, np.zeros(N), family_grad, family_hessp,
                            family_hess, tol=TOL[method], args=args)
        assert bool(r.success) and int(r.status) == 0, (name, r.message)
        x_star = exact_minimizer(args, rs.x)
        # L-BFGS stops on the relative decrease of f (ftol, as L-BFGS-B): a few 1e-6 from
        # the minimizer along the flat directions, as scipy's; the others agree closely
        atol = {"lbfgs": 2e-5, "bfgs": 1e-7}.get(method, 1e-8)
        np.testing.assert_allclose(r.x, x_star, atol=atol, err_msg=name)
        np.testing.assert_allclose(r.x, rs.x, atol=atol + np.max(np.abs(rs.x - x_star)),
                                   err_msg=name)
        # (f itself, to the rounding of its terms: x.a x/2 cancels against b.x)
        scale = 1.0 + np.abs(r.x) @ np.abs(args[1]) @ np.abs(r.x) + np.abs(args[2]) @ np.abs(r.x)
        np.testing.assert_allclose(r.fun, family_np(r.x, *args), rtol=0, atol=1e-14 * scale)
        assert float(r.fun) <= rs.fun + 1e-9 * max(1.0, abs(rs.fun)), name
        gscale = 1.0 + np.max(np.abs(args[1]) @ np.abs(r.x)) + np.max(np.abs(args[2]))
        np.testing.assert_allclose(r.jac, family_grad(r.x, *args), rtol=1e-9,
                                   atol=1e-14 * N * gscale)
        assert_iterations_in_scipys_range(r, rs)
        assert int(r.nfev) >= int(r.nit) and int(r.njev) >= 1
        if method in ("newton-cg", "trust-ncg"):
            assert int(r.nhvp) > 0
    # one compiled program (jit, while_loop) solved the four problems
    programs = _compiled_programs(family)
    assert len(programs) == before + 1 and programs[-1]._cache_size() == 1
    # and solves a fifth from another start without recompiling
    r = minimize(family, np.r_[-1.2, 1.0, np.zeros(N - 2)], PROBLEMS["rosenbrock_2d"],
                 method=method, tol=TOL[method])
    np.testing.assert_allclose(r.x, np.r_[1.0, 1.0, np.zeros(N - 2)], atol=2e-5)
    assert programs[-1]._cache_size() == 1


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS"])
def test_jax_scipy_minimize_compiled(method):
    # JAX's API on the compiled program of xform.optimize.minimize with the same options
    # (tol sets gtol; L-BFGS's ftol given as minimize's tol sets it): no new compilation
    ours = "bfgs" if method == "BFGS" else "lbfgs"
    tol = TOL[ours]
    options = None if method == "BFGS" else {"ftol": tol}
    for name in ("rosenbrock_2d", "ill_conditioned_quadratic", "logistic_regression"):
        args = PROBLEMS[name]
        r = jso.minimize(family, np.zeros(N), args, method=method, tol=tol, options=options)
        assert isinstance(r, jso.OptimizeResults)
        rs = scipy_minimize(ours, family_np, np.zeros(N), family_grad, tol=tol, args=args)
        # (L-BFGS may stop on ftol, the relative decrease of f, as L-BFGS-B does: JAX's
        # status 4, which JAX does not count as a success)
        ok = (0,) if method == "BFGS" else (0, 4)
        assert int(r.status) in ok and bool(r.success) == (int(r.status) == 0), (name, r.status)
        x_star = exact_minimizer(args, rs.x)
        np.testing.assert_allclose(r.x, x_star, atol=1e-7 if method == "BFGS" else 2e-5,
                                   err_msg=name)
        gscale = 1.0 + np.max(np.abs(args[1]) @ np.abs(r.x)) + np.max(np.abs(args[2]))
        np.testing.assert_allclose(r.jac, family_grad(r.x, *args), rtol=1e-9,
                                   atol=1e-14 * N * gscale)
        assert_iterations_in_scipys_range(r, rs)
        ref = minimize(family, np.zeros(N), args, method=ours, tol=tol)
        np.testing.assert_array_equal(r.x, ref.x)
        assert int(r.nit) == int(ref.nit) and int(r.nfev) == int(ref.nfev)
        if method == "BFGS":
            assert r.hess_inv.shape == (N, N) and np.all(np.linalg.eigvalsh(r.hess_inv) > 0)
        else:
            assert r.hess_inv is None
    programs = [f for k, f in _common._JIT_CACHE.items()
                if k[0] == "minimize" and k[1] is family and k[2] == ours]
    assert len(programs) == 1 and programs[0]._cache_size() == 1


def test_each_method_is_one_compiled_while_loop():
    for method in METHODS:
        jaxpr = str(xform.make_jaxpr(lambda x: minimize(rosen, x, method=method).x)(np.zeros(3)))
        assert "while" in jaxpr and "custom_jvp_call" in jaxpr, method
    for method in ("gauss-newton", "lm"):
        jaxpr = str(xform.make_jaxpr(
            lambda x: least_squares(lambda p: p ** 2 - 1.0, x, method=method).x)(np.ones(3)))
        assert "while" in jaxpr, method
    source = xform.jit(lambda x: minimize(rosen, x, method="newton-cg").x).lower(np.zeros(2)).source
    assert source.count("def kernel") == 1 and "while True" in source


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


def test_bfgs_ill_conditioned_quadratic_reaches_gtol_1e_8():
    # a 20-D quadratic with condition number 1e6 in a random rotation, gtol 1e-8: near
    # the solution a step decreases f by less than f's rounding noise, where the Wolfe
    # search compares f through its directional derivatives (approximate Wolfe
    # conditions). scipy's BFGS stops on some of these with precision loss (status 2);
    # xform's must converge wherever scipy's does (here: on all of them)
    n, eps = 20, np.finfo(np.float64).eps
    scipy_converged = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        a = q @ np.diag(np.logspace(0, 6, n)) @ q.T
        b = rng.normal(size=n)
        rs = so.minimize(lambda x: 0.5 * x @ a @ x - b @ x, np.zeros(n), jac=lambda x: a @ x - b,
                         method="BFGS", options={"gtol": 1e-8})
        with xform.disable_jit():  # (the compiled program: the family's quadratic above)
            r = minimize(quadratic, np.zeros(n), (a, b), method="bfgs", tol=1e-8)
            rj = jso.minimize(quadratic, np.zeros(n), (a, b), method="BFGS", tol=1e-8)
        assert int(r.status) == 0 and bool(r.success), (seed, r.message)
        assert int(rj.status) == 0 and bool(rj.success), seed
        x = np.asarray(r.x)
        # jac is the gradient at x (to its rounding error), and max|jac| <= gtol
        bound = 64 * eps * (np.abs(a) @ np.abs(x) + np.abs(b))
        assert np.all(np.abs(np.asarray(r.jac) - (a @ x - b)) <= bound), seed
        assert np.max(np.abs(r.jac)) <= 1e-8
        # |x - x*| <= |A^-1| |g|_2 = |g|_2 (the smallest eigenvalue is 1)
        assert np.max(np.abs(x - np.linalg.solve(a, b))) <= np.sqrt(n) * 1e-8 + np.max(bound)
        if rs.status == 0:
            scipy_converged += 1
            assert_iterations_in_scipys_range(r, rs)
    assert scipy_converged >= 2  # (scipy converges on seeds 0, 2 and 3)


# -- differentiating the solution (custom_root), compiled --------------------------------------

def _solution_norm(lam, b, a0, X, y):
    x = minimize(family, np.zeros(N), (_NO_C, a0 + lam * xnp.eye(N), b, X, y),
                 method="newton-cg", tol=TOL["newton-cg"]).x
    return xnp.sum(x ** 2)


# one program: |x*|^2 and its gradient with respect to a hyperparameter and the data
_hyper_grads = xform.jit(xform.value_and_grad(_solution_norm, argnums=(0, 1)))

RA = _rng.normal(size=(20, N))
RB = _rng.normal(size=20)
RIDGE = (RA.T @ RA, RA.T @ RB)


def test_hyperparameter_gradients_under_jit_match_closed_forms_and_finite_differences():
    lam = 0.7
    # ridge regression: x* = H^-1 A^T b with H = A^T A + lam I, so
    # d|x*|^2/dlam = -2 x.H^-1 x and d|x*|^2/d(A^T b) = 2 H^-1 x
    v, (g_lam, g_b) = _hyper_grads(lam, RIDGE[1], RIDGE[0], _NO_X, _NO_Y)
    h = RIDGE[0] + lam * np.eye(N)
    x = np.linalg.solve(h, RIDGE[1])
    np.testing.assert_allclose(v, x @ x, rtol=1e-12)
    np.testing.assert_allclose(g_lam, -2 * x @ np.linalg.solve(h, x), rtol=1e-7)
    np.testing.assert_allclose(g_b, 2 * np.linalg.solve(h, x), rtol=1e-7)
    # central differences of the compiled solver's own output agree with its derivative
    eps = 1e-4
    fd = (_hyper_grads(lam + eps, RIDGE[1], RIDGE[0], _NO_X, _NO_Y)[0]
          - _hyper_grads(lam - eps, RIDGE[1], RIDGE[0], _NO_X, _NO_Y)[0]) / (2 * eps)
    np.testing.assert_allclose(g_lam, fd, rtol=1e-6)
    # logistic regression (no closed form): against central differences of scipy's
    # solutions, and d|w*|^2/db = 2 H^-1 w* with H the Hessian at w*
    zero_a = np.zeros((N, N))
    v, (g_lam, g_b) = _hyper_grads(LAM, np.zeros(N), zero_a, LX, LY)

    def scipy_solution(lam):
        args = (_NO_C, lam * np.eye(N), np.zeros(N), LX, LY)
        return exact_minimizer(args, np.zeros(N))

    w = scipy_solution(LAM)
    np.testing.assert_allclose(v, w @ w, rtol=1e-9)
    fd = (np.sum(scipy_solution(LAM + eps) ** 2) - np.sum(scipy_solution(LAM - eps) ** 2)) / (2 * eps)
    np.testing.assert_allclose(g_lam, fd, rtol=1e-6)
    hw = family_hess(w, _NO_C, LAM * np.eye(N), np.zeros(N), LX, LY)
    np.testing.assert_allclose(g_b, 2 * np.linalg.solve(hw, w), rtol=1e-7, atol=1e-12)


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


# a second data set and start of the same shapes: the compiled program is reused
EY2 = 1.5 * np.exp(-0.9 * ET) + 2.0 * np.exp(-4.0 * ET) + 0.02 * _rng.normal(size=40)
EP02 = np.array([2.0, 0.5, 1.0, 2.0])


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
def test_sum_of_exponentials_fit(method):
    for y, p0 in ((EY, EP0), (EY2, EP02)):
        r = least_squares(exp_residuals, p0, (ET, y), method=method, ftol=1e-12, xtol=1e-12,
                          gtol=1e-12)

        def res_np(p):
            return p[0] * np.exp(-p[1] * ET) + p[2] * np.exp(-p[3] * ET) - y

        rs = so.least_squares(res_np, p0, jac=exp_jac_np, method="lm", ftol=1e-12,
                              xtol=1e-12, gtol=1e-12)
        assert bool(r.success) and int(r.status) > 0, r.message
        # (the two exponentials may come out in either order: compare as sets of pairs)
        pairs = sorted(np.reshape(r.x, (2, 2)).tolist(), key=lambda q: q[1])
        ref = sorted(np.reshape(rs.x, (2, 2)).tolist(), key=lambda q: q[1])
        np.testing.assert_allclose(pairs, ref, rtol=1e-6)
        np.testing.assert_allclose(r.cost, rs.cost, rtol=1e-10)
        np.testing.assert_allclose(r.fun, res_np(r.x), atol=1e-12)
        np.testing.assert_allclose(r.jac, exp_jac_np(r.x), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.grad, exp_jac_np(r.x).T @ res_np(r.x), atol=1e-9)
        assert int(r.nfev) <= 3 * rs.nfev + 10
    programs = _compiled_programs(exp_residuals, "least_squares")
    assert len([f for f in programs if f._cache_size()]) >= 1
    assert all(f._cache_size() == 1 for f in programs)
    # the same through minimize on the cost, as a cross-check of the minimizers
    with xform.disable_jit():
        rm = minimize(lambda p, t, y: 0.5 * xnp.sum(exp_residuals(p, t, y) ** 2), EP02,
                      (ET, EY2), method="trust-exact", tol=1e-10)
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


# -- differentiating the solution, eagerly: jacrev, jvp, vmap -----------------------------


def ridge(x, a, b, lam):
    return 0.5 * xnp.sum((a @ x - b) ** 2) + 0.5 * lam * xnp.sum(x ** 2)


def ridge_solution(lam):
    return np.linalg.solve(RA.T @ RA + lam * np.eye(N), RA.T @ RB)


@pytest.mark.parametrize("method", ["trust-ncg", "lbfgs"])
def test_hyperparameter_gradients_match_finite_differences(method):
    def sol(lam):
        return minimize(ridge, np.zeros(N), (RA, RB, lam), method=method, tol=1e-12).x

    with xform.disable_jit():
        jac = xform.jacrev(sol)(0.7)
        jvp = xform.jvp(sol, (0.7,), (1.0,))[1]
        # the objective's value at the solution: the envelope theorem, d f*/dlam = |x*|^2/2
        gf = xform.grad(lambda lam: minimize(ridge, np.zeros(N), (RA, RB, lam),
                                             method=method, tol=1e-12).fun)(0.7)
    eps = 1e-5
    fd = (ridge_solution(0.7 + eps) - ridge_solution(0.7 - eps)) / (2 * eps)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gf, 0.5 * np.sum(ridge_solution(0.7) ** 2), rtol=1e-8)


def test_vmap_over_problems():
    lams = np.array([0.1, 1.0, 10.0])
    with xform.disable_jit():
        xs = xform.vmap(lambda lam: minimize(ridge, np.zeros(N), (RA, RB, lam),
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


def quadratic(x, a, b):
    return 0.5 * x @ (a @ x) - b @ x


def test_result_object():
    with xform.disable_jit():
        r = minimize(quadratic, np.zeros(N), (QA, QB), method="newton-cg", maxiter=1)
    assert isinstance(r, OptimizeResult) and r["x"] is r.x
    assert int(r.status) == 1 and not bool(r.success)
    assert r.message == "Maximum number of iterations has been exceeded."
    assert {"x", "fun", "jac", "nit", "nfev", "njev", "nhvp", "success", "status"} <= set(r)
    assert "message" in repr(r)
    leaves, tree = xform.tree_util.tree_flatten(r)
    assert xform.tree_util.tree_unflatten(tree, leaves).message == r.message


def test_jax_scipy_minimize_names_and_errors():
    # (the values: test_jax_scipy_minimize_compiled; JAX's experimental name of L-BFGS and
    # its options here, un-jitted)
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
    with pytest.raises(TypeError, match="option 'gtol' must be a real number, got str"):
        minimize(rosen, np.zeros(2), options={"gtol": "small"})
    with pytest.raises(ValueError, match="option 'maxiter' must be a non-negative int"):
        minimize(rosen, np.zeros(2), maxiter=-1)
    with pytest.raises(ValueError, match="option 'tol' must be non-negative"):
        jso.minimize(rosen, np.zeros(2), method="BFGS", tol=-1.0)
    with pytest.raises(ValueError, match="option 'maxcor' must be a non-negative int, got 2.5"):
        minimize(rosen, np.zeros(2), method="lbfgs", options={"maxcor": 2.5})
    with pytest.raises(TypeError, match="args must be a tuple"):
        minimize(quadratic, np.zeros(N), [QA, QB])
    with pytest.raises(TypeError, match="complex"):
        minimize(rosen, np.zeros(2, complex))
    with pytest.raises(ValueError, match="unknown method"):
        least_squares(exp_residuals, EP0, (ET, EY), method="trf")
    with pytest.raises(TypeError, match="residuals must be real"):
        with xform.disable_jit():
            least_squares(lambda p: p * 1j, EP0)
