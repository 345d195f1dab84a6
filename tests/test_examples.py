"""The examples run and reach their goals (small sizes)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import gp_regression  # noqa: E402
import lm_curve_fit  # noqa: E402
import logistic_newton_cg  # noqa: E402
import mlp_training  # noqa: E402
import newton_rosenbrock  # noqa: E402
import rnn_scan  # noqa: E402


def test_newton_methods_reach_the_minimum():
    x0 = np.linspace(-1.0, 0.5, 6)
    for method in (newton_rosenbrock.newton, newton_rosenbrock.newton_cg):
        x, steps = method(x0.copy())
        np.testing.assert_allclose(x, np.ones(6), atol=1e-8)
        assert steps < 100


def test_mlp_training_learns():
    assert mlp_training.main(steps=150) > 0.95


def test_rnn_scan_example_runs():
    result = rnn_scan.main(steps=50, hidden=4)
    assert result["losses"][-1] < 0.1 * result["losses"][0]
    # the 50 steps are a loop in the kernel (forward and reverse), not unrolled copies
    assert "for " in result["kernel_source"] and result["kernel_lines"] < 400


def test_gp_regression_fits_the_hyperparameters():
    import scipy.optimize as so

    out = gp_regression.main(n=25)
    r = out["result"]
    assert bool(r.success) and out["nll"] < out["nll0"] - 10
    # the optimum matches scipy's minimize on the same objective (numpy, finite-difference
    # free: its gradient is the analytic one, 1/2 tr((K^-1 - a a^T) dK))
    x, y = out["x"], out["y"]

    def nll_and_grad(p):
        ell, sf2, sn2 = np.exp(p)
        d2 = (x[:, None] - x[None, :]) ** 2
        kf = sf2 * np.exp(-0.5 * d2 / ell ** 2)
        k = kf + sn2 * np.eye(len(x))
        kinv = np.linalg.inv(k)
        a = kinv @ y
        nll = 0.5 * y @ a + 0.5 * np.linalg.slogdet(k)[1] + 0.5 * len(x) * np.log(2 * np.pi)
        w = kinv - np.outer(a, a)
        return nll, np.array([0.5 * np.sum(w * d) for d in (kf * d2 / ell ** 2, kf,
                                                             sn2 * np.eye(len(x)))])

    rs = so.minimize(nll_and_grad, np.zeros(3), jac=True, method="BFGS", tol=1e-9)
    np.testing.assert_allclose(out["log_params"], rs.x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["nll"], rs.fun, rtol=1e-9)
    assert out["test_rmse"] < 0.3 and np.all(out["var"] > 0)


def test_lm_curve_fit_matches_scipy():
    import scipy.optimize as so

    out = lm_curve_fit.main(n=40)
    t, y = out["t"], out["y"]

    def res(p):
        return p[0] * np.exp(-p[1] * t) + p[2] * np.exp(-p[3] * t) - y

    rs = so.least_squares(res, out["p0"], method="lm", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    np.testing.assert_allclose(out["x"], rs.x, rtol=1e-6)
    np.testing.assert_allclose(out["result"].cost, rs.cost, rtol=1e-9)
    assert np.all(np.abs(out["x"] - out["p_true"]) <= 5 * out["stderr"])
    # d p*/d y = (J^T J + sum_i r_i hess r_i)^-1 J^T at the solution (closed form)
    a1, k1, a2, k2 = rs.x
    e1, e2 = np.exp(-k1 * t), np.exp(-k2 * t)
    r = res(rs.x)
    jac = np.stack([e1, -a1 * t * e1, e2, -a2 * t * e2], axis=1)
    h = jac.T @ jac
    h[0, 1] = h[1, 0] = h[0, 1] + np.sum(r * -t * e1)
    h[1, 1] += np.sum(r * a1 * t ** 2 * e1)
    h[2, 3] = h[3, 2] = h[2, 3] + np.sum(r * -t * e2)
    h[3, 3] += np.sum(r * a2 * t ** 2 * e2)
    np.testing.assert_allclose(out["sensitivity"], np.linalg.solve(h, jac.T), rtol=1e-6,
                               atol=1e-9)


def test_logistic_newton_cg_matches_scipy():
    import scipy.optimize as so

    out = logistic_newton_cg.main(n=300, d=6)
    x, y, lam = out["x"], out["y"], out["lam"]

    def f(w):
        return np.mean(np.logaddexp(0.0, -y * (x @ w))) + 0.5 * lam * w @ w

    def g(w):
        return -(x.T @ (y / (1 + np.exp(y * (x @ w))))) / len(y) + lam * w

    def hessp(w, v):
        s = 1 / (1 + np.exp(-x @ w))
        return x.T @ (s * (1 - s) * (x @ v)) / len(y) + lam * v

    rs = so.minimize(f, np.zeros(6), jac=g, hessp=hessp, method="Newton-CG", tol=1e-10)
    np.testing.assert_allclose(out["w"], rs.x, rtol=1e-6, atol=1e-9)
    r = out["result"]
    assert bool(r.success) and int(r.nhvp) > 0 and int(r.nit) <= 2 * rs.nit + 5
    assert out["accuracy"] > 0.85
