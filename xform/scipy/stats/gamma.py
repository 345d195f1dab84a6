"""The gamma distribution (jax.scipy.stats.gamma)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import log_of, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

Array = Any


def logpdf(x: Array, a: Array, loc: Array = 0, scale: Array = 1):
    """Log density of Gamma(shape a, scale); -inf below loc.

    >>> import numpy as np; from xform.scipy.stats import gamma
    >>> gamma.logpdf(np.array([1.0, -1.0]), 2.0)
    array([ -1., -inf])
    """
    x, a, loc, scale = promote("gamma.logpdf", x, a, loc, scale)
    y = (x - loc) / scale
    outside = y < 0
    y = xnp.where(outside, 1.0, y)  # no log of negatives (nor their warnings) off the support
    out = special.xlogy(a - 1, y) - y - special.gammaln(a) - xnp.log(scale)
    return xnp.where(outside, -np.inf, out)


def pdf(x: Array, a: Array, loc: Array = 0, scale: Array = 1):
    """Density of Gamma(shape a, scale).

    >>> import numpy as np; from xform.scipy.stats import gamma
    >>> gamma.pdf(np.array([1.0]), 1.0)
    array([0.36787944])
    """
    return xnp.exp(logpdf(x, a, loc, scale))


def cdf(x: Array, a: Array, loc: Array = 0, scale: Array = 1):
    """CDF of Gamma(shape a, scale): the regularized incomplete gamma P(a, y), 0 below loc.
    Differentiable in x, loc and scale (the derivative in a raises NotImplementedError).

    >>> import numpy as np; from xform.scipy.stats import gamma
    >>> gamma.cdf(np.array([1.0, -1.0]), 1.0)
    array([0.63212056, 0.        ])
    """
    x, a, loc, scale = promote("gamma.cdf", x, a, loc, scale)
    y = xnp.maximum((x - loc) / scale, 0.0)
    return special.gammainc(a, y)


def sf(x: Array, a: Array, loc: Array = 0, scale: Array = 1):
    """Survival function Q(a, y) of Gamma(shape a, scale), accurate in the upper tail.

    >>> import numpy as np; from xform.scipy.stats import gamma
    >>> gamma.sf(np.array([50.0]), 1.0)
    array([1.92874985e-22])
    """
    x, a, loc, scale = promote("gamma.sf", x, a, loc, scale)
    y = xnp.maximum((x - loc) / scale, 0.0)
    return special.gammaincc(a, y)


def logcdf(x: Array, a: Array, loc: Array = 0, scale: Array = 1):
    """log CDF of Gamma(shape a, scale).

    >>> import numpy as np; from xform.scipy.stats import gamma
    >>> gamma.logcdf(np.array([1.0]), 1.0)
    array([-0.45867515])
    """
    return log_of(cdf(x, a, loc, scale), sf(x, a, loc, scale))


def logsf(x: Array, a: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function of Gamma(shape a, scale).

    >>> import numpy as np; from xform.scipy.stats import gamma
    >>> gamma.logsf(np.array([50.0]), 1.0)
    array([-50.])
    """
    return log_of(sf(x, a, loc, scale), cdf(x, a, loc, scale))
