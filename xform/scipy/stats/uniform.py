"""The uniform distribution on [loc, loc + scale] (jax.scipy.stats.uniform)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf", "ppf"]

Array = Any


def logpdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Log density -log(scale) on [loc, loc + scale], -inf elsewhere.

    >>> import numpy as np; from xform.scipy.stats import uniform
    >>> uniform.logpdf(np.array([0.5, 2.0]), 0.0, 2.0)
    array([-0.69314718, -0.69314718])
    """
    x, loc, scale = promote("uniform.logpdf", x, loc, scale)
    inside = (x >= loc) & (x <= loc + scale)
    return xnp.where(inside, -xnp.log(scale), -np.inf)


def pdf(x: Array, loc: Array = 0, scale: Array = 1):
    """Density of the uniform distribution.

    >>> import numpy as np; from xform.scipy.stats import uniform
    >>> uniform.pdf(np.array([0.5, 1.5]))
    array([1., 0.])
    """
    return xnp.exp(logpdf(x, loc, scale))


def cdf(x: Array, loc: Array = 0, scale: Array = 1):
    """CDF clip((x - loc) / scale, 0, 1).

    >>> import numpy as np; from xform.scipy.stats import uniform
    >>> uniform.cdf(np.array([-1.0, 0.25, 3.0]))
    array([0.  , 0.25, 1.  ])
    """
    x, loc, scale = promote("uniform.cdf", x, loc, scale)
    return xnp.clip((x - loc) / scale, 0.0, 1.0)


def ppf(q: Array, loc: Array = 0, scale: Array = 1):
    """Quantile function loc + q scale (nan outside [0, 1]).

    >>> import numpy as np; from xform.scipy.stats import uniform
    >>> uniform.ppf(np.array([0.5, 2.0]), 1.0, 2.0)
    array([ 2., nan])
    """
    q, loc, scale = promote("uniform.ppf", q, loc, scale)
    return xnp.where((q < 0) | (q > 1), np.nan, loc + q * scale)
