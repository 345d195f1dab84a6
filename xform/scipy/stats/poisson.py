"""The Poisson distribution (jax.scipy.stats.poisson)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import lax
from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf", "cdf"]

Array = Any


def logpmf(k: Array, mu: Array, loc: Array = 0):
    """Log probability of k events for Poisson(mu); -inf at negative or non-integer k.

    >>> import numpy as np; from xform.scipy.stats import poisson
    >>> poisson.logpmf(np.array([0, 2]), 2.0)
    array([-2.        , -1.30685282])
    """
    k, mu, loc = promote("poisson.logpmf", k, mu, loc)
    x = k - loc
    out = special.xlogy(x, mu) - special.gammaln(x + 1) - mu
    return xnp.where((x < 0) | (x != xnp.floor(x)), -np.inf, out)


def pmf(k: Array, mu: Array, loc: Array = 0):
    """Probability of k events for Poisson(mu).

    >>> import numpy as np; from xform.scipy.stats import poisson
    >>> poisson.pmf(np.array([0]), 1.0)
    array([0.36787944])
    """
    return xnp.exp(logpmf(k, mu, loc))


def cdf(k: Array, mu: Array, loc: Array = 0):
    """P(K <= k) for Poisson(mu): the regularized upper incomplete gamma
    Q(floor(k - loc) + 1, mu); 0 below loc. Differentiable in mu.

    >>> import numpy as np; from xform.scipy.stats import poisson
    >>> poisson.cdf(np.array([-1, 0, 2]), 2.0)
    array([0.        , 0.13533528, 0.67667642])
    """
    k, mu, loc = promote("poisson.cdf", k, mu, loc)
    x = lax.stop_gradient(xnp.floor(k - loc))
    below = x < 0
    out = special.gammaincc(xnp.where(below, 1.0, x + 1), mu)
    return xnp.where(below, 0.0, out)
