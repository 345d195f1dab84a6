"""Levenberg-Marquardt curve fitting: a sum of two exponential decays fitted to noisy
data with ``xform.optimize.least_squares`` (the Jacobian by forward-mode autodiff), and
the sensitivity of the fitted parameters to each data point by differentiating the
solution (implicit function theorem, no differentiation through the iterations).

    python examples/lm_curve_fit.py
"""
from __future__ import annotations

import numpy as np

import xform
import xform.numpy as xnp
from xform.optimize import least_squares


def model(p, t):
    return p[0] * xnp.exp(-p[1] * t) + p[2] * xnp.exp(-p[3] * t)


def residuals(p, t, y):
    return model(p, t) - y


def fit(t, y, p0):
    return least_squares(residuals, p0, (t, y), method="lm", ftol=1e-12, xtol=1e-12,
                         gtol=1e-12)


# d p* / d y: how each fitted parameter moves with each observation
sensitivity = xform.jit(xform.jacrev(lambda y, t, p0: fit(t, y, p0).x))


def main(n: int = 60, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 5.0, n)
    p_true = np.array([3.0, 1.5, 1.0, 0.2])
    y = np.asarray(model(p_true, t)) + 0.01 * rng.normal(size=n)
    p0 = np.array([1.0, 1.0, 1.0, 0.1])
    result = fit(t, y, p0)
    jac = np.asarray(result.jac)
    # standard errors from the Gauss-Newton approximation of the covariance
    sigma2 = 2 * float(result.cost) / (n - 4)
    stderr = np.sqrt(np.diag(sigma2 * np.linalg.inv(jac.T @ jac)))
    sens = np.asarray(sensitivity(y, t, p0))
    print(f"Levenberg-Marquardt: {int(result.nit)} iterations, {int(result.nfev)} residual "
          f"evaluations; {result.message}")
    for name, v, s, tv in zip(["a1", "k1", "a2", "k2"], np.asarray(result.x), stderr, p_true):
        print(f"  {name} = {v:.4f} +- {s:.4f}   (true {tv})")
    print(f"  cost {float(result.cost):.3e}; most influential point for k1: t = "
          f"{t[np.argmax(np.abs(sens[1]))]:.2f}")
    return {"result": result, "x": np.asarray(result.x), "stderr": stderr,
            "sensitivity": sens, "t": t, "y": y, "p0": p0, "p_true": p_true}


if __name__ == "__main__":
    main()
