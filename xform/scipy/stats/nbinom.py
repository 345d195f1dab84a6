"""The negative binomial distribution (jax.scipy.stats.nbinom): the number of failures
before the ``n``-th success, success probability ``p``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf"]

Array = Any


def logpmf(k: Array, n: Array, p: Array, loc: Array = 0):
    """Log probability of ``k`` failures before ``n`` successes; -inf below ``loc``.

    >>> import numpy as np; from xform.scipy.stats import nbinom
    >>> nbinom.logpmf(np.array([0, 3]), 2, 0.5)
    array([-1.38629436, -2.07944154])
    """
    k, n, p, loc = promote("nbinom.logpmf", k, n, p, loc)
    y = k - loc
    below = (y < 0) | (y != xnp.floor(y))  # scipy: -inf off the integers
    ys = xnp.where(below, 0.0, y)
    comb = special.gammaln(ys + n) - special.gammaln(n) - special.gammaln(ys + 1)
    out = comb + special.xlogy(n, p) + special.xlog1py(ys, -p)
    return xnp.where(below, -np.inf, out)


def pmf(k: Array, n: Array, p: Array, loc: Array = 0):
    """Probability of ``k`` failures before ``n`` successes.

    >>> import numpy as np; from xform.scipy.stats import nbinom
    >>> nbinom.pmf(np.array([0]), 2, 0.5)
    array([0.25])
    """
    return xnp.exp(logpmf(k, n, p, loc))
