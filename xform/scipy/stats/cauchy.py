"""The Cauchy distribution (jax.scipy.stats.cauchy)."""
from __future__ import annotations

import math
from typing import Any

from ... import numpy as xnp
from ._util import log_of, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]

Array = Any


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density of the Cauchy distribution.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.logpdf(np.array([0.0, 1.0]))
    array([-1.14472989, -1.83787707])
    """
    x, loc, scale = promote("cauchy.logpdf", x, loc, scale)
    z = (x - loc) / scale
    return -(xnp.log(math.pi * scale) + xnp.log1p(z * z))


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of the Cauchy distribution.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.pdf(np.array([0.0]))
    array([0.31830989])
    """
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF ``1/2 + arctan(z)/pi``; in the lower tail ``arctan(-1/z)/pi`` (no cancellation).

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.cdf(np.array([0.0, 1.0, -1e10]))
    array([5.00000000e-01, 7.50000000e-01, 3.18309886e-11])
    """
    x, loc, scale = promote("cauchy.cdf", x, loc, scale)
    return _cdf_std((x - loc) / scale)


def _cdf_std(z):
    neg = z < -1
    zs = xnp.where(neg, z, -1.0)
    return xnp.where(neg, xnp.arctan(-1 / zs) / math.pi, 0.5 + xnp.arctan(z) / math.pi)


def logcdf(x: Array, loc: Array = 0, scale: Array = 1):
    """log CDF.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.logcdf(np.array([0.0]))
    array([-0.69314718])
    """
    return log_of(cdf(x, loc, scale), sf(x, loc, scale))


def sf(x: Array, loc: Array = 0, scale: Array = 1):
    """Survival function, accurate in the upper tail.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.sf(np.array([1e10]))
    array([3.18309886e-11])
    """
    x, loc, scale = promote("cauchy.sf", x, loc, scale)
    return _cdf_std(-(x - loc) / scale)


def logsf(x: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.logsf(np.array([0.0]))
    array([-0.69314718])
    """
    return log_of(sf(x, loc, scale), cdf(x, loc, scale))


def ppf(q: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function ``loc + scale tan(pi (q - 1/2))``.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.ppf(np.array([0.5, 0.75]))
    array([0., 1.])
    """
    q, loc, scale = promote("cauchy.ppf", q, loc, scale)
    return loc + scale * _tan_pi_half(q)


def _tan_pi_half(q):
    """tan(pi (q - 1/2)) = -cot(pi q), accurate in both tails (q and 1 - q are exact
    on their halves; q - 1/2 would lose small q's digits)."""
    lower = q < 0.5
    ql = xnp.where(lower, q, 0.25)
    qu = xnp.where(lower, 0.75, q)
    out = xnp.where(lower, -1 / xnp.tan(math.pi * ql), 1 / xnp.tan(math.pi * (1 - qu)))
    return xnp.where(q == 0.5, 0.0, out)


def isf(q: Array, loc: Array = 0, scale: Array = 1):
    """Inverse survival function.

    >>> import numpy as np; from xform.scipy.stats import cauchy
    >>> cauchy.isf(np.array([0.25]))
    array([1.])
    """
    q, loc, scale = promote("cauchy.isf", q, loc, scale)
    return loc - scale * _tan_pi_half(q)
