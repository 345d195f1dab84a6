"""Student's t distribution (jax.scipy.stats.t)."""
from __future__ import annotations

import math
from typing import Any

from ... import numpy as xnp
from .. import special
from ._util import log_of, promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf"]

Array = Any


def logpdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """Log density of Student's t with ``df`` degrees of freedom.

    >>> import numpy as np; from xform.scipy.stats import t
    >>> t.logpdf(np.array([0.0, 1.0]), 3.0)
    array([-1.00088885, -1.57625299])
    """
    x, df, loc, scale = promote("t.logpdf", x, df, loc, scale)
    z = (x - loc) / scale
    half = 0.5 * (df + 1)
    norm = (special.gammaln(half) - special.gammaln(0.5 * df)
            - 0.5 * (xnp.log(df) + math.log(math.pi)) - xnp.log(scale))
    return norm - half * xnp.log1p(z * z / df)


def pdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """Density of Student's t.

    >>> import numpy as np; from xform.scipy.stats import t
    >>> t.pdf(np.array([0.0]), 1.0)
    array([0.31830989])
    """
    return xnp.exp(logpdf(x, df, loc, scale))


def _cdf_std(z, df):
    # I_{df/(df+z^2)}(df/2, 1/2) / 2 is the tail mass; for z^2 < df the complementary
    # form with z^2/(df+z^2) keeps relative precision near the centre. Its derivative at
    # z = 0 is 0 * inf, so there z is replaced by 1 and the term z pdf(0) (value 0,
    # derivative the density) supplies the derivative.
    zero = z == 0
    zs = xnp.where(zero, 1.0, z)
    z2 = zs * zs
    small = z2 < df
    tail = 0.5 * special.betainc(0.5 * df, 0.5, xnp.where(small, 0.5, df / (df + z2)))
    centre = 0.5 * special.betainc(0.5, 0.5 * df, xnp.where(small, z2 / (df + z2), 0.5))
    far = xnp.where(zs < 0, tail, 1 - tail)
    near = 0.5 + xnp.sign(zs) * centre
    at_zero = 0.5 + z * pdf(xnp.zeros_like(z), df)
    return xnp.where(zero, at_zero, xnp.where(small, near, far))


def cdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """CDF of Student's t (through the regularized incomplete beta function).
    Differentiable in x, loc and scale (the derivative in df raises NotImplementedError).

    >>> import numpy as np; from xform.scipy.stats import t
    >>> t.cdf(np.array([0.0, 2.0]), 3.0)
    array([0.5       , 0.93033702])
    """
    x, df, loc, scale = promote("t.cdf", x, df, loc, scale)
    return _cdf_std((x - loc) / scale, df)


def logcdf(x: Array, df: Array, loc: Array = 0, scale: Array = 1):
    """log CDF of Student's t (autograd's ``t.logcdf``).

    >>> import numpy as np; from xform.scipy.stats import t
    >>> t.logcdf(np.array([0.0]), 3.0)
    array([-0.69314718])
    """
    x, df, loc, scale = promote("t.logcdf", x, df, loc, scale)
    z = (x - loc) / scale
    return log_of(_cdf_std(z, df), _cdf_std(-z, df))
