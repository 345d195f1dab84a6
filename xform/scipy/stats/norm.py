"""The normal distribution (jax.scipy.stats.norm)."""
from __future__ import annotations

import math
from typing import Any

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]

Array = Any
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density of N(loc, scale^2) at x.

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.logpdf(np.array([0.0, 1.0]))
    array([-0.91893853, -1.41893853])
    """
    x, loc, scale = promote("norm.logpdf", x, loc, scale)
    z = (x - loc) / scale
    return -0.5 * z * z - xnp.log(scale) - _HALF_LOG_2PI


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of N(loc, scale^2) at x.

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.pdf(np.array([0.0]))
    array([0.39894228])
    """
    return xnp.exp(logpdf(x, loc, scale))


def _z(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF of N(loc, scale^2).

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.cdf(np.array([0.0, 1.96]))
    array([0.5      , 0.9750021])
    """
    return special.ndtr(_z("norm.cdf", x, loc, scale))


def logcdf(x: Array, loc: Array = 0, scale: Array = 1):
    """log CDF of N(loc, scale^2), accurate in both tails.

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.logcdf(np.array([0.0, -40.0]))
    array([-6.93147181e-01, -8.04608442e+02])
    """
    return special.log_ndtr(_z("norm.logcdf", x, loc, scale))


def sf(x: Array, loc: Array = 0, scale: Array = 1):
    """Survival function 1 - cdf, accurate in the upper tail.

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.sf(np.array([0.0, 10.0]))
    array([5.00000000e-01, 7.61985302e-24])
    """
    return special.ndtr(-_z("norm.sf", x, loc, scale))


def logsf(x: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function.

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.logsf(np.array([0.0]))
    array([-0.69314718])
    """
    return special.log_ndtr(-_z("norm.logsf", x, loc, scale))


def ppf(q: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function (inverse CDF).

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.ppf(np.array([0.5, 0.975]))
    array([0.        , 1.95996398])
    """
    q, loc, scale = promote("norm.ppf", q, loc, scale)
    return loc + scale * special.ndtri(q)


def isf(q: Array, loc: Array = 0, scale: Array = 1):
    """Inverse survival function (ppf of 1 - q, without rounding 1 - q).

    >>> import numpy as np; from xform.scipy.stats import norm
    >>> norm.isf(np.array([0.025]))
    array([1.95996398])
    """
    q, loc, scale = promote("norm.isf", q, loc, scale)
    return loc - scale * special.ndtri(q)
