"""The right-skewed Gumbel distribution (jax.scipy.stats.gumbel_r), CDF
``exp(-exp(-z))``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from ._util import log1mexp, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]

Array = Any


def _z(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale, scale > 0


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density ``-log scale - z - exp(-z)`` (NaN for ``scale <= 0``).

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.logpdf(np.array([0.0, 1.0]))
    array([-1.        , -1.36787944])
    """
    z, scale, ok = _z("gumbel_r.logpdf", x, loc, scale)
    return xnp.where(ok, -xnp.log(scale) - z - xnp.exp(-z), np.nan)


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of the Gumbel distribution.

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.pdf(np.array([0.0]))
    array([0.36787944])
    """
    return xnp.exp(logpdf(x, loc, scale))


def logcdf(x: Array, loc: Array = 0, scale: Array = 1):
    """log CDF ``-exp(-z)``.

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.logcdf(np.array([0.0]))
    array([-1.])
    """
    z, _, ok = _z("gumbel_r.logcdf", x, loc, scale)
    return xnp.where(ok, -xnp.exp(-z), np.nan)


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF ``exp(-exp(-z))``.

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.cdf(np.array([0.0]))
    array([0.36787944])
    """
    return xnp.exp(logcdf(x, loc, scale))


def logsf(x: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function, ``log(1 - exp(-exp(-z)))`` (accurately in both
    tails).

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.logsf(np.array([40.0]))
    array([-40.])
    """
    z, _, ok = _z("gumbel_r.logsf", x, loc, scale)
    return xnp.where(ok, log1mexp(xnp.exp(-z)), np.nan)


def sf(x: Array, loc: Array = 0, scale: Array = 1):
    """Survival function, accurate in the upper tail.

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.sf(np.array([40.0]))
    array([4.24835426e-18])
    """
    return xnp.exp(logsf(x, loc, scale))


def ppf(p: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function ``loc - scale log(-log p)`` (NaN outside (0, 1)).

    >>> import numpy as np; from xform.scipy.stats import gumbel_r
    >>> gumbel_r.ppf(np.array([0.36787944117144233]))
    array([0.])
    """
    p, loc, scale = promote("gumbel_r.ppf", p, loc, scale)
    ok = (p > 0) & (p < 1)
    ps = xnp.where(ok, p, 0.5)
    return xnp.where(ok, loc - scale * xnp.log(-xnp.log(ps)), np.nan)
