"""``gaussian_kde`` (jax.scipy.stats.gaussian_kde): a Gaussian kernel density estimate,
a pytree (so it passes through ``jit``/``vmap``/``grad``), with scipy's bandwidth rules
(Scott's, Silverman's, a scalar or a callable) and weighted data."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ... import numpy as xnp
from ... import random
from ...core.pytree import register_pytree_node
from .. import special

__all__ = ["gaussian_kde"]

Array = Any


class gaussian_kde:  # noqa: N801 (scipy's and JAX's name)
    """Gaussian kernel density estimate of ``dataset`` (shape ``(d, n)``, or ``(n,)``
    for one dimension), optionally ``weights``-ed.

    >>> import numpy as np; from xform.scipy.stats import gaussian_kde
    >>> kde = gaussian_kde(np.array([0.0, 1.0, 3.0]))
    >>> kde.evaluate(np.array([0.0, 1.0]))
    array([0.19165564, 0.21489537])
    """

    __slots__ = ("neff", "dataset", "weights", "covariance", "inv_cov")

    def __init__(self, dataset: Array, bw_method: None | str | float | Callable = None,
                 weights: Array | None = None):
        dataset = xnp.atleast_2d(xnp.asarray(dataset))
        if dataset.dtype.kind == "c":
            raise NotImplementedError("gaussian_kde does not support complex data.")
        if not dataset.size > 1:
            raise ValueError("gaussian_kde: `dataset` input should have multiple elements.")
        if dataset.dtype.kind != "f":
            dataset = xnp.asarray(dataset, dtype=np.float64)
        d, n = dataset.shape
        if weights is not None:
            weights = xnp.atleast_1d(xnp.asarray(weights, dtype=dataset.dtype))
            if weights.ndim != 1:
                raise ValueError("gaussian_kde: `weights` input should be one-dimensional.")
            if weights.shape[0] != n:
                raise ValueError(f"gaussian_kde: `weights` input should be of length n={n}.")
            weights = weights / xnp.sum(weights)
        else:
            weights = xnp.full(n, 1.0 / n, dtype=dataset.dtype)
        self.dataset, self.weights = dataset, weights
        self.neff = 1 / xnp.sum(weights ** 2)
        bw = "scott" if bw_method is None else bw_method
        if isinstance(bw, str) and bw == "scott":
            factor = self.neff ** (-1.0 / (d + 4))
        elif isinstance(bw, str) and bw == "silverman":
            factor = (self.neff * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        elif callable(bw):
            factor = bw(self)
        elif np.ndim(bw) == 0 and not isinstance(bw, str):
            factor = bw
        else:
            raise ValueError("gaussian_kde: `bw_method` should be 'scott', 'silverman', a "
                             "scalar, or a callable.")
        data_cov = xnp.atleast_2d(xnp.cov(dataset, rowvar=True, bias=False, aweights=weights))
        self.covariance = data_cov * factor ** 2
        self.inv_cov = xnp.linalg.inv(data_cov) / factor ** 2

    @property
    def d(self) -> int:
        return self.dataset.shape[0]

    @property
    def n(self) -> int:
        return self.dataset.shape[1]

    def _points(self, points):
        points = xnp.atleast_2d(xnp.asarray(points))
        if points.dtype.kind == "c":
            raise NotImplementedError("gaussian_kde does not support complex coordinates.")
        d, m = points.shape
        if d != self.d:
            if d == 1 and m == self.d:
                return xnp.reshape(points, (self.d, 1))
            raise ValueError(f"gaussian_kde: points have dimension {d}, dataset has dimension "
                             f"{self.d}.")
        return points

    def _log_kernel_sums(self, points):
        """log sum_i w_i N(points_j; x_i, covariance) for each point j."""
        white = xnp.linalg.cholesky(self.inv_cov)
        x = self.dataset.T @ white
        y = points.T @ white
        log_norm = xnp.sum(xnp.log(xnp.diagonal(white))) - 0.5 * self.d * math.log(2 * math.pi)
        sq = xnp.sum((y[:, None, :] - x[None, :, :]) ** 2, axis=-1)
        return special.logsumexp(log_norm - 0.5 * sq, b=self.weights[None, :], axis=1)

    def evaluate(self, points: Array) -> Array:
        """The density at ``points`` (``(d, m)``, or ``(m,)`` in one dimension)."""
        return xnp.exp(self._log_kernel_sums(self._points(points)))

    __call__ = evaluate

    def pdf(self, x: Array) -> Array:
        """The density at ``x`` (``evaluate``)."""
        return self.evaluate(x)

    def logpdf(self, x: Array) -> Array:
        """The log density at ``x``, without underflow far from the data.

        >>> import numpy as np; from xform.scipy.stats import gaussian_kde
        >>> gaussian_kde(np.array([0.0, 1.0, 3.0])).logpdf(np.array([50.0]))
        array([-736.79866432])
        """
        return self._log_kernel_sums(self._points(x))

    def integrate_gaussian(self, mean: Array, cov: Array) -> Array:
        """The integral of the density times the Gaussian ``N(mean, cov)``."""
        mean = xnp.atleast_1d(xnp.squeeze(xnp.asarray(mean)))
        cov = xnp.atleast_2d(xnp.asarray(cov))
        if mean.shape != (self.d,) or cov.shape != (self.d, self.d):
            raise ValueError(f"gaussian_kde.integrate_gaussian: mean and cov must have "
                             f"dimension {self.d}.")
        return self._convolve(self.covariance + cov, self.dataset, self.weights, mean)

    def integrate_kde(self, other: "gaussian_kde") -> Array:
        """The integral of the product of two density estimates."""
        if other.d != self.d:
            raise ValueError("gaussian_kde.integrate_kde: the KDEs have different dimensions.")
        total = self.covariance + other.covariance
        return sum(w * self._convolve(total, other.dataset, other.weights, self.dataset[:, i])
                   for i, w in enumerate(self.weights))

    @staticmethod
    def _convolve(cov, target, weights, mean):
        chol = xnp.linalg.cholesky(cov)
        d = cov.shape[0]
        norm = 1.0 / (math.sqrt(2 * math.pi) ** d * xnp.prod(xnp.diagonal(chol)))
        diff = target - mean[:, None]
        alpha = xnp.linalg.solve(cov, diff)
        return norm * xnp.sum(xnp.exp(-0.5 * xnp.sum(diff * alpha, axis=0)) * weights)

    def integrate_box_1d(self, low: Array, high: Array) -> Array:
        """The probability of ``[low, high]`` (one-dimensional data).

        >>> import numpy as np; from xform.scipy.stats import gaussian_kde
        >>> float(gaussian_kde(np.array([0.0, 1.0, 3.0])).integrate_box_1d(-100.0, 100.0))
        1.0
        """
        if self.d != 1:
            raise ValueError("gaussian_kde.integrate_box_1d only handles 1-d densities.")
        if np.ndim(low) != 0 or np.ndim(high) != 0:
            raise ValueError("gaussian_kde.integrate_box_1d: the limits must be scalars.")
        sigma = xnp.sqrt(self.covariance[0, 0])
        lo = (low - self.dataset[0]) / sigma
        hi = (high - self.dataset[0]) / sigma
        return xnp.sum(self.weights * (special.ndtr(hi) - special.ndtr(lo)))

    def integrate_box(self, low_bounds, high_bounds, maxpts=None):
        """Not supported (as in JAX): use ``integrate_box_1d``."""
        raise NotImplementedError("gaussian_kde: only 1-d box integrals are supported; use "
                                  "integrate_box_1d.")

    def resample(self, key: Any, shape: tuple = ()) -> Array:
        """Samples of the estimate (shape ``(d,) + shape``): a data point drawn by weight
        plus Gaussian noise of the kernel's covariance.

        >>> import numpy as np, xform; from xform.scipy.stats import gaussian_kde
        >>> gaussian_kde(np.array([0.0, 1.0, 3.0])).resample(xform.random.key(0), (4,)).shape
        (1, 4)
        """
        ind_key, eps_key = random.split(key)
        ind = random.choice(ind_key, self.n, shape=tuple(shape), p=self.weights)
        eps = random.multivariate_normal(eps_key, xnp.zeros(self.d, self.covariance.dtype),
                                         self.covariance, shape=tuple(shape),
                                         dtype=self.dataset.dtype)
        return self.dataset[:, ind] + xnp.moveaxis(eps, -1, 0)

    def set_bandwidth(self, bw_method=None):
        """Not supported (as in JAX): make a new estimate with the bandwidth."""
        raise NotImplementedError("gaussian_kde: changing the bandwidth is not supported; "
                                  "make a new gaussian_kde.")


def _flatten(k: gaussian_kde):
    return (k.neff, k.dataset, k.weights, k.covariance, k.inv_cov), None


def _unflatten(aux, children):
    k = gaussian_kde.__new__(gaussian_kde)
    k.neff, k.dataset, k.weights, k.covariance, k.inv_cov = children
    return k


register_pytree_node(gaussian_kde, _flatten, _unflatten)
