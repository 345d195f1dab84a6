"""The Poisson distribution (jax.scipy.stats.poisson)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import lax
from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf", "cdf", "entropy"]

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


def entropy(mu: Array, loc: Array = 0):
    """Entropy of Poisson(mu) (``loc`` does not change it): the sum of
    ``-pmf log pmf`` over the counts holding the mass, for ``mu < 1000``; above, the
    asymptotic series ``log(2 pi e mu)/2 - 1/(12 mu) - 1/(24 mu^2) - 19/(360 mu^3)``
    (its next term is below 1e-13 there).

    >>> import numpy as np; from xform.scipy.stats import poisson
    >>> poisson.entropy(np.array([0.0, 1.0, 500.0]))
    array([0.        , 1.30484224, 4.52607575])
    """
    mu, loc = promote("poisson.entropy", mu, loc)
    shape = xnp.broadcast_shapes(xnp.shape(mu), xnp.shape(loc))
    m = xnp.broadcast_to(mu, shape)
    # counts 0 .. 1399 cover mu + 10 sqrt(mu) + 20 for mu < 1000 (mass beyond: < 1e-20)
    k = xnp.arange(1400, dtype=m.dtype).reshape((1400,) + (1,) * len(shape))
    small = m < 1000
    ms = xnp.where(small, m, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        summed = xnp.sum(special.entr(pmf(k, ms)), axis=0)
    ml = xnp.where(small, 1000.0, m)
    series = (0.5 * xnp.log(2 * np.pi * np.e * ml) - 1 / (12 * ml) - 1 / (24 * ml ** 2)
              - 19 / (360 * ml ** 3))
    return xnp.where(m == 0, 0.0, xnp.where(small, summed, series))
