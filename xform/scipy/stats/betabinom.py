"""The beta-binomial distribution (jax.scipy.stats.betabinom)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf"]

Array = Any


def logpmf(k: Array, n: Array, a: Array, b: Array, loc: Array = 0):
    """Log probability of ``k`` successes in ``n`` trials whose probability is
    Beta(a, b); -inf outside ``0 <= k - loc <= n``, NaN for invalid parameters.

    >>> import numpy as np; from xform.scipy.stats import betabinom
    >>> betabinom.logpmf(np.array([0, 2]), 4, 2.0, 3.0)
    array([-1.54044504, -1.35812348])
    """
    k, n, a, b, loc = promote("betabinom.logpmf", k, n, a, b, loc)
    y = k - loc
    inside = (y >= 0) & (y <= n) & (y == xnp.floor(y))  # scipy: -inf off the integers
    ys = xnp.where(inside, y, 0.0)
    comb = -(xnp.log1p(n) + special.betaln(n - ys + 1, ys + 1))
    out = comb + special.betaln(ys + a, n - ys + b) - special.betaln(a, b)
    out = xnp.where(inside, out, -np.inf)
    return xnp.where((n < 0) | (a <= 0) | (b <= 0), np.nan, out)


def pmf(k: Array, n: Array, a: Array, b: Array, loc: Array = 0):
    """Probability of ``k`` successes for the beta-binomial distribution.

    >>> import numpy as np; from xform.scipy.stats import betabinom
    >>> betabinom.pmf(np.array([2]), 4, 2.0, 3.0)
    array([0.25714286])
    """
    return xnp.exp(logpmf(k, n, a, b, loc))
