"""Linear algebra under jit: each LAPACK-backed kernel against numpy's (or scipy's) own
call on the same matrix, and a Gaussian-process marginal likelihood with its gradient
(n = 1000) against JAX (x64, CPU) when JAX is installed. All in one run, so the ratios
share the machine's state (run on an otherwise idle machine: contention moves them).

    python benchmarks/bench_linalg.py [--quick]
"""
from __future__ import annotations

import os
import sys

import numpy as np
import scipy.linalg as sl

sys.path.insert(0, os.path.dirname(__file__))
from _harness import QUICK, REPEAT, median_time, print_table  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402
import xform.scipy.linalg as xsl  # noqa: E402

SIZES = (200, 1000)
RNG = np.random.default_rng(0)


def _matrices(n):
    a = RNG.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)
    spd = a @ a.T + np.eye(n)
    low = np.tril(a)
    b = RNG.standard_normal(n)
    rhs = RNG.standard_normal((n, n))
    return a, spd, low, b, rhs


KERNELS = {
    # name: (xform function (jitted below), reference call, which inputs)
    "cholesky": (lambda spd: xnp.linalg.cholesky(spd), np.linalg.cholesky, ("spd",)),
    "solve (vector b)": (lambda a, b: xnp.linalg.solve(a, b), np.linalg.solve, ("a", "b")),
    "eigh": (lambda spd: xnp.linalg.eigh(spd), np.linalg.eigh, ("spd",)),
    "svd (reduced)": (lambda a: xnp.linalg.svd(a, full_matrices=False),
                      lambda a: np.linalg.svd(a, full_matrices=False), ("a",)),
    "qr (reduced)": (lambda a: xnp.linalg.qr(a), np.linalg.qr, ("a",)),
    "triangular_solve (n x n b; scipy)": (
        lambda low, rhs: xsl.solve_triangular(low, rhs, lower=True),
        lambda low, rhs: sl.solve_triangular(low, rhs, lower=True, check_finite=False),
        ("low", "rhs")),
}


def kernel_rows():
    rows = []
    for n in SIZES:
        a, spd, low, b, rhs = _matrices(n)
        inputs = dict(a=a, spd=spd, low=low, b=b, rhs=rhs)
        for name, (fx, fref, names) in KERNELS.items():
            args = [inputs[k] for k in names]
            jf = xform.jit(fx)
            min_time = 0.05 if n < 1000 else 0.2
            t_x = median_time(lambda: jf(*args), repeat=REPEAT, min_time=min_time)
            t_np = median_time(lambda: fref(*args), repeat=REPEAT, min_time=min_time)
            rows.append((f"{name}, n={n}", {"xform": t_x, "numpy/scipy": t_np}))
    return rows


def gp_nll(params, x, y, np_=xnp, sl_=xsl):
    """Negative log marginal likelihood of an RBF-kernel GP via Cholesky."""
    log_ls, log_var, log_noise = params[0], params[1], params[2]
    d2 = (x[:, None] - x[None, :]) ** 2
    k = (np_.exp(log_var) * np_.exp(-0.5 * d2 / np_.exp(2 * log_ls))
         + np_.exp(log_noise) * np_.eye(x.shape[0]))
    c = sl_.cho_factor(k, lower=True)
    alpha = sl_.cho_solve(c, y)
    return (0.5 * y @ alpha + np_.sum(np_.log(np_.diagonal(c[0])))
            + 0.5 * x.shape[0] * np.log(2 * np.pi))


def gp_rows(n=1000):
    x = np.sort(RNG.uniform(0, 10, n))
    y = np.sin(x) + 0.1 * RNG.standard_normal(n)
    p = np.array([0.0, 0.0, -2.0])
    fx = xform.jit(xform.value_and_grad(gp_nll))
    times = {"xform": median_time(lambda: fx(p, x, y), repeat=REPEAT, min_time=0.2)}
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp
        import jax.scipy.linalg as jsl

        fj = jax.jit(jax.value_and_grad(lambda q, x, y: gp_nll(q, x, y, jnp, jsl)))
        xj, yj, pj = jnp.asarray(x), jnp.asarray(y), jnp.asarray(p)
        vj = fj(pj, xj, yj)
        vx = fx(p, x, y)
        assert np.allclose(vj[0], vx[0]) and np.allclose(vj[1], vx[1], rtol=1e-6), (vj, vx)

        def run_jax():
            v, g = fj(pj, xj, yj)
            g.block_until_ready()

        times["jax"] = median_time(run_jax, repeat=REPEAT, min_time=0.2)
    except ImportError:
        pass
    return [(f"GP marginal likelihood + gradient, n={n}", times)]


def main():
    print(f"xform {xform.__version__ if hasattr(xform, '__version__') else ''} linear algebra "
          f"({'quick' if QUICK else 'full'} run, {os.cpu_count()} CPUs)")
    print_table("jitted LAPACK kernels vs numpy's / scipy's call on the same matrix",
                kernel_rows(), ref="xform")
    print_table("Gaussian process: value_and_grad of the negative log marginal likelihood",
                gp_rows(), ref="xform")


if __name__ == "__main__":
    main()
