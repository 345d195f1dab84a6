"""The beta distribution (jax.scipy.stats.beta)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import log_of, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

Array = Any


def logpdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Log density of Beta(a, b) (shifted by loc, scaled by scale); -inf outside
    [loc, loc + scale].

    >>> import numpy as np; from xform.scipy.stats import beta
    >>> beta.logpdf(np.array([0.5, 2.0]), 2.0, 3.0)
    array([0.40546511,       -inf])
    """
    x, a, b, loc, scale = promote("beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    outside = (y < 0) | (y > 1)
    y = xnp.where(outside, 0.5, y)  # no log of negatives (nor their warnings) off the support
    out = special.xlogy(a - 1, y) + special.xlog1py(b - 1, -y) - special.betaln(a, b) - xnp.log(scale)
    return xnp.where(outside, -np.inf, out)


def pdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Density of Beta(a, b).

    >>> import numpy as np; from xform.scipy.stats import beta
    >>> beta.pdf(np.array([0.5]), 2.0, 2.0)
    array([1.5])
    """
    return xnp.exp(logpdf(x, a, b, loc, scale))


def cdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """CDF of Beta(a, b): the regularized incomplete beta I_y(a, b), y = (x - loc) / scale
    clipped to [0, 1]. Differentiable in x, loc and scale.

    >>> import numpy as np; from xform.scipy.stats import beta
    >>> beta.cdf(np.array([-1.0, 0.4, 2.0]), 2.0, 3.0)
    array([0.    , 0.5248, 1.    ])
    """
    x, a, b, loc, scale = promote("beta.cdf", x, a, b, loc, scale)
    return special.betainc(a, b, xnp.clip((x - loc) / scale, 0.0, 1.0))


def logcdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """log CDF of Beta(a, b).

    >>> import numpy as np; from xform.scipy.stats import beta
    >>> beta.logcdf(np.array([0.4]), 2.0, 3.0)
    array([-0.64473804])
    """
    return log_of(cdf(x, a, b, loc, scale), sf(x, a, b, loc, scale))


def sf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Survival function of Beta(a, b): ``I_{1-y}(b, a)``, accurate in the upper tail.

    >>> import numpy as np; from xform.scipy.stats import beta
    >>> beta.sf(np.array([0.4, 0.9999]), 2.0, 3.0)
    array([4.7520e-01, 3.9997e-12])
    """
    x, a, b, loc, scale = promote("beta.sf", x, a, b, loc, scale)
    y = xnp.clip((x - loc) / scale, 0.0, 1.0)
    return special.betainc(b, a, 1 - y)


def logsf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function of Beta(a, b).

    >>> import numpy as np; from xform.scipy.stats import beta
    >>> beta.logsf(np.array([0.4]), 2.0, 3.0)
    array([-0.74401951])
    """
    return log_of(sf(x, a, b, loc, scale), cdf(x, a, b, loc, scale))
