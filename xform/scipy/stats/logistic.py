"""The logistic distribution (jax.scipy.stats.logistic)."""
from __future__ import annotations

from typing import Any

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf", "sf", "ppf", "isf"]

Array = Any


def _z(name, x, loc, scale):
    x, loc, scale = promote(name, x, loc, scale)
    return (x - loc) / scale, scale


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density -|z| - 2 log1p(exp(-|z|)) - log(scale), z = (x - loc) / scale (no
    overflow for large |z|).

    >>> import numpy as np; from xform.scipy.stats import logistic
    >>> logistic.logpdf(np.array([0.0, 1000.0]))
    array([   -1.38629436, -1000.        ])
    """
    z, scale = _z("logistic.logpdf", x, loc, scale)
    a = xnp.abs(z)
    return -a - 2 * xnp.log1p(xnp.exp(-a)) - xnp.log(scale)


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of the logistic distribution.

    >>> import numpy as np; from xform.scipy.stats import logistic
    >>> logistic.pdf(np.array([0.0]))
    array([0.25])
    """
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF expit(z).

    >>> import numpy as np; from xform.scipy.stats import logistic
    >>> logistic.cdf(np.array([0.0]))
    array([0.5])
    """
    z, _ = _z("logistic.cdf", x, loc, scale)
    return special.expit(z)


def sf(x: Array, loc: Array = 0, scale: Array = 1):
    """Survival function expit(-z).

    >>> import numpy as np; from xform.scipy.stats import logistic
    >>> logistic.sf(np.array([40.0]))
    array([4.24835426e-18])
    """
    z, _ = _z("logistic.sf", x, loc, scale)
    return special.expit(-z)


def ppf(q: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function loc + scale logit(q).

    >>> import numpy as np; from xform.scipy.stats import logistic
    >>> logistic.ppf(np.array([0.5, 0.75]))
    array([0.        , 1.09861229])
    """
    q, loc, scale = promote("logistic.ppf", q, loc, scale)
    return loc + scale * special.logit(q)


def isf(q: Array, loc: Array = 0, scale: Array = 1):
    """Inverse survival function loc - scale logit(q).

    >>> import numpy as np; from xform.scipy.stats import logistic
    >>> logistic.isf(np.array([0.25]))
    array([1.09861229])
    """
    q, loc, scale = promote("logistic.isf", q, loc, scale)
    return loc - scale * special.logit(q)
