"""The Bernoulli distribution (jax.scipy.stats.bernoulli)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf", "cdf", "ppf"]

Array = Any


def logpmf(k: Array, p: Array, loc: Array = 0):
    """Log probability of ``k`` (0 or 1, after ``loc``) for Bernoulli(p); -inf
    elsewhere.

    >>> import numpy as np; from xform.scipy.stats import bernoulli
    >>> bernoulli.logpmf(np.array([0, 1, 2]), 0.25)
    array([-0.28768207, -1.38629436,        -inf])
    """
    k, p, loc = promote("bernoulli.logpmf", k, p, loc)
    x = k - loc
    out = special.xlogy(x, p) + special.xlog1py(1 - x, -p)
    return xnp.where((x < 0) | (x > 1), -np.inf, out)


def pmf(k: Array, p: Array, loc: Array = 0):
    """Probability of ``k`` for Bernoulli(p).

    >>> import numpy as np; from xform.scipy.stats import bernoulli
    >>> bernoulli.pmf(np.array([0, 1]), 0.25)
    array([0.75, 0.25])
    """
    return xnp.exp(logpmf(k, p, loc))


def cdf(k: Array, p: Array):
    """P(K <= k) for Bernoulli(p) (NaN for ``p`` outside [0, 1]).

    >>> import numpy as np; from xform.scipy.stats import bernoulli
    >>> bernoulli.cdf(np.array([-1.0, 0.0, 0.5, 1.0]), 0.25)
    array([0.  , 0.75, 0.75, 1.  ])
    """
    k, p = promote("bernoulli.cdf", k, p)
    bad = xnp.isnan(k) | xnp.isnan(p) | (p < 0) | (p > 1)
    out = xnp.where(k < 0, 0.0, xnp.where(k < 1, 1 - p, 1.0))
    return xnp.where(bad, np.nan, out)


def ppf(q: Array, p: Array):
    """Quantile function of Bernoulli(p): 0 for ``q <= 1 - p``, else 1 (NaN outside).

    >>> import numpy as np; from xform.scipy.stats import bernoulli
    >>> bernoulli.ppf(np.array([0.5, 0.9]), 0.25)
    array([0., 1.])
    """
    q, p = promote("bernoulli.ppf", q, p)
    bad = xnp.isnan(q) | xnp.isnan(p) | (p < 0) | (p > 1) | (q < 0) | (q > 1)
    return xnp.where(bad, np.nan, xnp.where(q <= 1 - p, 0.0, 1.0))
