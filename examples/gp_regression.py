"""Gaussian-process regression: fit the kernel's hyperparameters by minimizing the
negative log marginal likelihood, its gradient by autodiff through a Cholesky
factorization, then predict with the posterior mean and variance.

    python examples/gp_regression.py

The hyperparameters (length scale, signal and noise variances) are optimized in log
space with BFGS (``xform.optimize.minimize``; three parameters: a dense quasi-Newton
matrix is cheap): the whole optimization is one compiled loop, and every objective
evaluation differentiates ``cholesky`` and ``cho_solve``.
"""
from __future__ import annotations

import numpy as np

import xform.numpy as xnp
from xform.optimize import minimize
from xform.scipy.linalg import cho_solve


def rbf(xa, xb, length, signal):
    d2 = (xa[:, None] - xb[None, :]) ** 2
    return signal * xnp.exp(-0.5 * d2 / length ** 2)


def neg_log_marginal_likelihood(log_params, x, y):
    """-log p(y | x, theta) for a zero-mean GP with an RBF kernel and Gaussian noise."""
    length, signal, noise = xnp.exp(log_params[0]), xnp.exp(log_params[1]), xnp.exp(log_params[2])
    k = rbf(x, x, length, signal) + noise * xnp.eye(x.shape[0])
    chol = xnp.linalg.cholesky(k)
    alpha = cho_solve((chol, True), y)
    return (0.5 * xnp.dot(y, alpha) + xnp.sum(xnp.log(xnp.diagonal(chol)))
            + 0.5 * x.shape[0] * np.log(2 * np.pi))


def posterior(log_params, x, y, x_new):
    """Posterior mean and variance of f at ``x_new``."""
    length, signal, noise = np.exp(log_params)
    k = rbf(x, x, length, signal) + noise * np.eye(len(x))
    chol = np.linalg.cholesky(k)
    k_star = np.asarray(rbf(x_new, x, length, signal))
    mean = k_star @ cho_solve((chol, True), y)
    v = np.linalg.solve(chol, k_star.T)
    var = signal - np.sum(v * v, axis=0)
    return mean, var


def truth(x):
    return np.sin(2.0 * x) + 0.5 * np.cos(5.0 * x)


def main(n: int = 40, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3.0, 3.0, n))
    y = truth(x) + 0.1 * rng.normal(size=n)
    theta0 = np.zeros(3)  # length 1, signal 1, noise 1
    result = minimize(neg_log_marginal_likelihood, theta0, (x, y), method="bfgs", tol=1e-7)
    x_test = np.linspace(-2.5, 2.5, 50)
    mean, var = posterior(np.asarray(result.x), x, y, x_test)
    rmse = float(np.sqrt(np.mean((mean - truth(x_test)) ** 2)))
    out = {"result": result, "log_params": np.asarray(result.x),
           "nll0": float(neg_log_marginal_likelihood(theta0, x, y)), "nll": float(result.fun),
           "test_rmse": rmse, "mean": mean, "var": var, "x": x, "y": y}
    length, signal, noise = np.exp(out["log_params"])
    print(f"BFGS: {int(result.nit)} iterations, {result.message}")
    print(f"  -log p(y): {out['nll0']:.3f} -> {out['nll']:.3f}")
    print(f"  length {length:.3f}, signal variance {signal:.3f}, noise sd {np.sqrt(noise):.3f}")
    print(f"  test RMSE of the posterior mean: {rmse:.3f}")
    return out


if __name__ == "__main__":
    main()
