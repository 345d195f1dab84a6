"""The Laplace distribution (jax.scipy.stats.laplace)."""
from __future__ import annotations

from typing import Any


from ... import numpy as xnp
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf"]

Array = Any


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density -|x - loc| / scale - log(2 scale).

    >>> import numpy as np; from xform.scipy.stats import laplace
    >>> laplace.logpdf(np.array([0.0, 1.0]))
    array([-0.69314718, -1.69314718])
    """
    x, loc, scale = promote("laplace.logpdf", x, loc, scale)
    return -xnp.abs(x - loc) / scale - xnp.log(2 * scale)


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of the Laplace distribution.

    >>> import numpy as np; from xform.scipy.stats import laplace
    >>> laplace.pdf(np.array([0.0]))
    array([0.5])
    """
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF of the Laplace distribution.

    >>> import numpy as np; from xform.scipy.stats import laplace
    >>> laplace.cdf(np.array([0.0, -1.0]))
    array([0.5       , 0.18393972])
    """
    x, loc, scale = promote("laplace.cdf", x, loc, scale)
    y = (x - loc) / scale
    # each branch sees only its own sign of y, so neither overflows (nor its gradient)
    lo = 0.5 * xnp.exp(xnp.minimum(y, 0.0))
    hi = 1 - 0.5 * xnp.exp(-xnp.maximum(y, 0.0))
    return xnp.where(y < 0, lo, hi)
