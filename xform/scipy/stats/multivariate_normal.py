"""The multivariate normal distribution (jax.scipy.stats.multivariate_normal)."""
from __future__ import annotations

import math
from typing import Any

from ... import numpy as xnp
from .. import linalg as xsl
from ._util import promote

__all__ = ["logpdf", "pdf", "entropy"]

Array = Any


def logpdf(x: Array, mean: Array, cov: Array, allow_singular: None = None):
    """Log density of N(mean, cov) at the rows ``x[..., :]`` (through a Cholesky
    factor of ``cov``; a covariance that is not positive definite gives nan).

    >>> import numpy as np; from xform.scipy.stats import multivariate_normal as mvn
    >>> mvn.logpdf(np.array([0.0, 0.0]), np.zeros(2), np.eye(2))
    np.float64(-1.8378770664093453)
    """
    if allow_singular is not None:
        raise NotImplementedError("xform.scipy.stats.multivariate_normal.logpdf: allow_singular "
                                  "is not supported (as in JAX); leave it None.")
    x, mean, cov = promote("multivariate_normal.logpdf", x, mean, cov)
    if mean.ndim == 0 or cov.ndim != 2 or cov.shape[0] != cov.shape[1] or \
            cov.shape[0] != mean.shape[-1] or x.shape[-1:] != mean.shape[-1:]:
        raise ValueError(
            f"xform.scipy.stats.multivariate_normal.logpdf: expected x (..., n), mean (..., n) "
            f"and cov (n, n); got x {x.shape}, mean {mean.shape}, cov {cov.shape}.")
    n = cov.shape[0]
    chol = xnp.linalg.cholesky(cov)
    d = x - mean
    batch = d.shape[:-1]
    # one triangular solve for all points: L y = d^T
    y = xsl.solve_triangular(chol, xnp.reshape(d, (-1, n)).T, lower=True)
    maha = xnp.reshape(xnp.sum(y * y, axis=0), batch)
    half_logdet = xnp.sum(xnp.log(xnp.diagonal(chol)))
    return -0.5 * maha - half_logdet - 0.5 * n * math.log(2 * math.pi)


def pdf(x: Array, mean: Array, cov: Array):
    """Density of N(mean, cov) at the rows of ``x``.

    >>> import numpy as np; from xform.scipy.stats import multivariate_normal as mvn
    >>> float(mvn.pdf(np.array([0.0]), np.zeros(1), np.eye(1)))
    0.3989422804014327
    """
    return xnp.exp(logpdf(x, mean, cov))


def entropy(mean: Array, cov: Array):
    """Differential entropy of N(mean, cov), ``(n/2)(1 + log 2 pi) + log det(cov) / 2``
    (autograd's ``multivariate_normal.entropy``; ``mean`` does not change it).

    >>> import numpy as np; from xform.scipy.stats import multivariate_normal as mvn
    >>> float(mvn.entropy(np.zeros(2), np.eye(2)))
    2.8378770664093453
    """
    mean, cov = promote("multivariate_normal.entropy", mean, cov)
    n = cov.shape[-1]
    chol = xnp.linalg.cholesky(cov)
    return 0.5 * n * (1 + math.log(2 * math.pi)) + xnp.sum(xnp.log(xnp.diagonal(chol)))
