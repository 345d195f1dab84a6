"""The binomial distribution (jax.scipy.stats.binom)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf"]

Array = Any


def logpmf(k: Array, n: Array, p: Array, loc: Array = 0):
    """Log probability of ``k`` successes in ``n`` trials of probability ``p``; -inf
    outside ``0 <= k - loc <= n``.

    >>> import numpy as np; from xform.scipy.stats import binom
    >>> binom.logpmf(np.array([0, 2, 5]), 4, 0.5)
    array([-2.77258872, -0.98082925,        -inf])
    """
    k, n, p, loc = promote("binom.logpmf", k, n, p, loc)
    y = k - loc
    inside = (y >= 0) & (y <= n) & (y == xnp.floor(y))  # scipy: -inf off the integers
    ys = xnp.where(inside, y, 0.0)
    comb = special.gammaln(n + 1) - special.gammaln(ys + 1) - special.gammaln(n - ys + 1)
    out = comb + special.xlogy(ys, p) + special.xlog1py(n - ys, -p)
    return xnp.where(inside, out, -np.inf)


def pmf(k: Array, n: Array, p: Array, loc: Array = 0):
    """Probability of ``k`` successes in ``n`` trials of probability ``p``.

    >>> import numpy as np; from xform.scipy.stats import binom
    >>> binom.pmf(np.array([2]), 4, 0.5)
    array([0.375])
    """
    return xnp.exp(logpmf(k, n, p, loc))
