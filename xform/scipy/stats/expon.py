"""The exponential distribution (jax.scipy.stats.expon)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]

Array = Any


def _y(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density of the exponential distribution; -inf below loc.

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.logpdf(np.array([1.0, -1.0]))
    array([ -1., -inf])
    """
    y, scale = _y("expon.logpdf", x, loc, scale)
    return xnp.where(y < 0, -np.inf, -y - xnp.log(scale))


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of the exponential distribution.

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.pdf(np.array([0.0]))
    array([1.])
    """
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF 1 - exp(-y), accurate for small y.

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.cdf(np.array([1e-20, 1.0]))
    array([1.00000000e-20, 6.32120559e-01])
    """
    y, _ = _y("expon.cdf", x, loc, scale)
    return xnp.where(y < 0, 0.0, -xnp.expm1(-xnp.maximum(y, 0.0)))


def logcdf(x: Array, loc: Array = 0, scale: Array = 1):
    """log CDF.

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.logcdf(np.array([1.0]))
    array([-0.45867515])
    """
    y, _ = _y("expon.logcdf", x, loc, scale)
    # log(1 - exp(-y)): log(-expm1(-y)) for small y, log1p(-exp(-y)) for large y (where
    # 1 - exp(-y) ~ 1 would round first); each branch sees safe inputs.
    small = y < np.log(2.0)
    ys = xnp.where(small & (y >= 0), y, 1.0)
    yl = xnp.where(small, 1.0, y)
    out = xnp.where(small, xnp.log(-xnp.expm1(-ys)), xnp.log1p(-xnp.exp(-yl)))
    return xnp.where(y < 0, -np.inf, out)


def sf(x: Array, loc: Array = 0, scale: Array = 1):
    """Survival function exp(-y).

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.sf(np.array([1.0]))
    array([0.36787944])
    """
    y, _ = _y("expon.sf", x, loc, scale)
    return xnp.where(y < 0, 1.0, xnp.exp(-y))


def logsf(x: Array, loc: Array = 0, scale: Array = 1):
    """log survival function -y.

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.logsf(np.array([1000.0]))
    array([-1000.])
    """
    y, _ = _y("expon.logsf", x, loc, scale)
    return xnp.where(y < 0, 0.0, -y)


def ppf(q: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function -log(1 - q) (nan outside [0, 1]).

    >>> import numpy as np; from xform.scipy.stats import expon
    >>> expon.ppf(np.array([0.5]))
    array([0.69314718])
    """
    q, loc, scale = promote("expon.ppf", q, loc, scale)
    return xnp.where((q < 0) | (q > 1), np.nan, loc - scale * xnp.log1p(-q))
