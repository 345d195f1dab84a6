"""The truncated normal distribution (jax.scipy.stats.truncnorm): the normal
distribution restricted to ``a <= (x - loc) / scale <= b``.

The normalizing mass ``Phi(b) - Phi(a)`` is computed in the log domain from the tail
that keeps it accurate (``log_ndtr`` of the lower tail, mirrored for bounds above 0),
so far-tail truncations stay finite.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from . import norm
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

Array = Any


def _log_diff(x, y):
    """log(exp(x) - exp(y)) for x >= y (-inf for x == y, without numpy's warning)."""
    with np.errstate(divide="ignore"):
        return x + xnp.log(-xnp.expm1(xnp.minimum(y - x, 0.0)))


def _log_gauss_mass(a, b):
    """log(Phi(b) - Phi(a)) for a <= b, accurately in every region."""
    a, b = xnp.broadcast_arrays(a, b)
    right = a > 0
    left = b <= 0
    central = ~(left | right)
    a_tail = xnp.where(right, -b, a)  # mirror: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    b_tail = xnp.where(right, -a, b)
    a_t = xnp.where(central, -1.0, a_tail)  # stand-ins keep the unused branch finite
    b_t = xnp.where(central, 0.0, b_tail)
    tail = _log_diff(special.log_ndtr(b_t), special.log_ndtr(a_t))
    a_c = xnp.where(central, a, -1.0)
    b_c = xnp.where(central, b, 1.0)
    mid = xnp.log1p(-special.ndtr(a_c) - special.ndtr(-b_c))
    return xnp.where(central, mid, tail)


def logpdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Log density: the normal's minus the log mass of ``[a, b]``; -inf outside, NaN
    for ``a >= b``.

    >>> import numpy as np; from xform.scipy.stats import truncnorm
    >>> truncnorm.logpdf(np.array([0.0, 0.5, 2.0]), -1.0, 1.0)
    array([-0.53722339, -0.66222339,        -inf])
    """
    x, a, b, loc, scale = promote("truncnorm.logpdf", x, a, b, loc, scale)
    z = (x - loc) / scale
    out = norm.logpdf(x, loc, scale) - _log_gauss_mass(a, b)
    out = xnp.where((z < a) | (z > b), -np.inf, out)
    return xnp.where(a >= b, np.nan, out)


def pdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Density of the truncated normal.

    >>> import numpy as np; from xform.scipy.stats import truncnorm
    >>> truncnorm.pdf(np.array([0.0]), -1.0, 1.0)
    array([0.58436857])
    """
    return xnp.exp(logpdf(x, a, b, loc, scale))


def _logcdf_std(z, a, b):
    z, a, b = xnp.broadcast_arrays(z, a, b)
    zc = xnp.clip(z, a, b)
    lab = _log_gauss_mass(a, b)
    lcdf = _log_gauss_mass(a, zc) - lab
    lsf = _log_gauss_mass(zc, b) - lab
    # near 1 the CDF is better as 1 - sf
    with np.errstate(divide="ignore"):
        out = xnp.where(lcdf > -0.1, xnp.log1p(-xnp.exp(xnp.minimum(lsf, 0.0))), lcdf)
    out = xnp.where(z >= b, 0.0, xnp.where(z <= a, -np.inf, out))
    return xnp.where(a >= b, np.nan, out)


def logcdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """log CDF.

    >>> import numpy as np; from xform.scipy.stats import truncnorm
    >>> truncnorm.logcdf(np.array([-2.0, 0.0, 2.0]), -1.0, 1.0)
    array([       -inf, -0.69314718,  0.        ])
    """
    x, a, b, loc, scale = promote("truncnorm.logcdf", x, a, b, loc, scale)
    return _logcdf_std((x - loc) / scale, a, b)


def cdf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """CDF of the truncated normal.

    >>> import numpy as np; from xform.scipy.stats import truncnorm
    >>> truncnorm.cdf(np.array([0.5]), -1.0, 1.0)
    array([0.78045321])
    """
    return xnp.exp(logcdf(x, a, b, loc, scale))


def logsf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """log of the survival function (the log CDF of the mirrored distribution).

    >>> import numpy as np; from xform.scipy.stats import truncnorm
    >>> truncnorm.logsf(np.array([0.0]), -1.0, 1.0)
    array([-0.69314718])
    """
    x, a, b, loc, scale = promote("truncnorm.logsf", x, a, b, loc, scale)
    return _logcdf_std(-(x - loc) / scale, -b, -a)


def sf(x: Array, a: Array, b: Array, loc: Array = 0, scale: Array = 1):
    """Survival function of the truncated normal.

    >>> import numpy as np; from xform.scipy.stats import truncnorm
    >>> truncnorm.sf(np.array([0.5]), -1.0, 1.0)
    array([0.21954679])
    """
    return xnp.exp(logsf(x, a, b, loc, scale))
