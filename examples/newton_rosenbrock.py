"""Second-order optimization: Newton's method with exact Hessians, and Newton-CG with
Hessian-vector products (forward-over-reverse), on the Rosenbrock function.

    python examples/newton_rosenbrock.py
"""
from __future__ import annotations

import numpy as np

import xform
import xform.numpy as xnp


def rosenbrock(x):
    return xnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


value_and_grad = xform.jit(xform.value_and_grad(rosenbrock))
hessian = xform.jit(xform.hessian(rosenbrock))
hvp = xform.jit(lambda x, v: xform.hvp(rosenbrock, (x,), (v,)))


def newton(x, steps=100, tol=1e-10):
    """Modified Newton: the exact Hessian, shifted to be positive definite where it is
    not, with a backtracking line search."""
    for k in range(steps):
        f, g = value_and_grad(x)
        if np.linalg.norm(g) < tol:
            return x, k
        h = hessian(x)
        shift = max(0.0, 1e-3 - np.linalg.eigvalsh(h).min())
        p = -np.linalg.solve(h + shift * np.eye(len(x)), g)
        t = 1.0
        while rosenbrock(x + t * p) > f + 1e-4 * t * (g @ p) and t > 1e-10:
            t *= 0.5
        x = x + t * p
    return x, steps


def conjugate_gradient(apply_a, b, iters=50, tol=1e-12):
    """Solve A p = b with A given only as a product (truncated at negative curvature)."""
    p = np.zeros_like(b)
    r = b.copy()
    d = r.copy()
    for _ in range(iters):
        ad = apply_a(d)
        curv = d @ ad
        if curv <= 0:
            return p if p.any() else b
        alpha = (r @ r) / curv
        p = p + alpha * d
        r_new = r - alpha * ad
        if np.linalg.norm(r_new) < tol:
            break
        d = r_new + (r_new @ r_new) / (r @ r) * d
        r = r_new
    return p


def newton_cg(x, steps=100, tol=1e-10):
    """Newton-CG: the Hessian is never formed, only Hessian-vector products."""
    for k in range(steps):
        f, g = value_and_grad(x)
        if np.linalg.norm(g) < tol:
            return x, k
        p = -conjugate_gradient(lambda v: hvp(x, v), g)
        t = 1.0
        while rosenbrock(x + t * p) > f + 1e-4 * t * (g @ p) and t > 1e-10:
            t *= 0.5
        x = x + t * p
    return x, steps


def main(n: int = 10) -> None:
    x0 = np.linspace(-1.0, 0.5, n)  # converges to the global minimum x = 1
    x, k = newton(x0.copy())
    print(f"Newton:    {k:3d} steps, f = {float(rosenbrock(x)):.3e}, |x - 1| = {np.abs(x - 1).max():.2e}")
    x, k = newton_cg(x0.copy())
    print(f"Newton-CG: {k:3d} steps, f = {float(rosenbrock(x)):.3e}, |x - 1| = {np.abs(x - 1).max():.2e}")


if __name__ == "__main__":
    main()
