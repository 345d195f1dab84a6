"""The chi-square distribution (jax.scipy.stats.chi2; autograd's scipy.stats.chi2)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import log_of, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

Array = Any


def logpdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """Log density of chi-square with ``df`` degrees of freedom; -inf below ``loc``.

    >>> import numpy as np; from xform.scipy.stats import chi2
    >>> chi2.logpdf(np.array([1.0, 3.0]), 3.0)
    array([-1.41893853, -1.86963239])
    """
    x, df, loc, scale = promote("chi2.logpdf", x, df, loc, scale)
    y = (x - loc) / scale
    outside = y < 0
    y = xnp.where(outside, 1.0, y)
    half = df / 2
    out = (special.xlogy(half - 1, y) - y / 2 - special.gammaln(half) - half * math.log(2.0)
           - xnp.log(scale))
    return xnp.where(outside, -np.inf, out)


def pdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """Density of chi-square.

    >>> import numpy as np; from xform.scipy.stats import chi2
    >>> chi2.pdf(np.array([2.0]), 2.0)
    array([0.18393972])
    """
    return xnp.exp(logpdf(x, df, loc, scale))


def _y(name, x, df, loc, scale):
    x, df, loc, scale = promote(name, x, df, loc, scale)
    return df, xnp.maximum((x - loc) / scale, 0.0)


def cdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """CDF: the regularized incomplete gamma ``P(df/2, y/2)``; differentiable in ``x``.

    >>> import numpy as np; from xform.scipy.stats import chi2
    >>> chi2.cdf(np.array([1.0, 3.84145882]), 1.0)
    array([0.68268949, 0.95      ])
    """
    df, y = _y("chi2.cdf", x, df, loc, scale)
    return special.gammainc(df / 2, y / 2)


def logcdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """log CDF.

    >>> import numpy as np; from xform.scipy.stats import chi2
    >>> chi2.logcdf(np.array([1.0]), 1.0)
    array([-0.38171515])
    """
    return log_of(cdf(x, df, loc, scale), sf(x, df, loc, scale))


def sf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """Survival function ``Q(df/2, y/2)``, accurate in the upper tail.

    >>> import numpy as np; from xform.scipy.stats import chi2
    >>> chi2.sf(np.array([100.0]), 2.0)
    array([1.92874985e-22])
    """
    df, y = _y("chi2.sf", x, df, loc, scale)
    return special.gammaincc(df / 2, y / 2)


def logsf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function.

    >>> import numpy as np; from xform.scipy.stats import chi2
    >>> chi2.logsf(np.array([100.0]), 2.0)
    array([-50.])
    """
    return log_of(sf(x, df, loc, scale), cdf(x, df, loc, scale))
