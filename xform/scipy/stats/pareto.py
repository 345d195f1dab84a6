"""The Pareto distribution (jax.scipy.stats.pareto): ``b`` the shape, support
``x >= loc + scale``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from ._util import log1mexp, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]

Array = Any


def _z(name, x, b, loc, scale):
    x, b, loc, scale = promote(name, x, b, loc, scale)
    z = (x - loc) / scale
    below = z < 1
    return xnp.where(below, 1.0, z), b, scale, below


def logpdf(x: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Log density ``log b - log scale - (b + 1) log z``; -inf below the support.

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.logpdf(np.array([0.5, 1.0, 2.0]), 3.0)
    array([       -inf,  1.09861229, -1.67397643])
    """
    z, b, scale, below = _z("pareto.logpdf", x, b, loc, scale)
    return xnp.where(below, -np.inf, xnp.log(b / scale) - (b + 1) * xnp.log(z))


def pdf(x: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Density of the Pareto distribution.

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.pdf(np.array([2.0]), 3.0)
    array([0.1875])
    """
    return xnp.exp(logpdf(x, b, loc, scale))


def cdf(x: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """CDF ``1 - z^-b`` (computed as ``-expm1(-b log z)``).

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.cdf(np.array([0.5, 2.0]), 3.0)
    array([0.   , 0.875])
    """
    z, b, _, below = _z("pareto.cdf", x, b, loc, scale)
    return xnp.where(below, 0.0, -xnp.expm1(-b * xnp.log(z)))


def logcdf(x: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """log CDF.

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.logcdf(np.array([2.0]), 3.0)
    array([-0.13353139])
    """
    z, b, _, below = _z("pareto.logcdf", x, b, loc, scale)
    return xnp.where(below, -np.inf, log1mexp(b * xnp.log(z)))


def logsf(x: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function, ``-b log z``.

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.logsf(np.array([2.0]), 3.0)
    array([-2.07944154])
    """
    z, b, _, below = _z("pareto.logsf", x, b, loc, scale)
    return xnp.where(below, 0.0, -b * xnp.log(z))


def sf(x: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Survival function ``z^-b``.

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.sf(np.array([2.0]), 3.0)
    array([0.125])
    """
    return xnp.exp(logsf(x, b, loc, scale))


def ppf(q: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function ``loc + scale (1 - q)^(-1/b)`` (NaN outside [0, 1]).

    >>> import numpy as np; from xform.scipy.stats import pareto
    >>> pareto.ppf(np.array([0.875]), 3.0)
    array([2.])
    """
    q, b, loc, scale = promote("pareto.ppf", q, b, loc, scale)
    out = loc + scale * xnp.exp(-xnp.log1p(-q) / b)
    return xnp.where(xnp.isnan(q) | (q < 0) | (q > 1), np.nan, out)
