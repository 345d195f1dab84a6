"""The generalized normal distribution (jax.scipy.stats.gennorm): density proportional
to ``exp(-|x|^beta)``."""
from __future__ import annotations

from typing import Any

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpdf", "pdf", "cdf"]

Array = Any


def logpdf(x: Array, beta: Array):
    """Log density ``log(beta / 2) - gammaln(1/beta) - |x|^beta``.

    >>> import numpy as np; from xform.scipy.stats import gennorm
    >>> gennorm.logpdf(np.array([0.0, 1.0]), 2.0)
    array([-0.57236494, -1.57236494])
    """
    x, beta = promote("gennorm.logpdf", x, beta)
    return xnp.log(0.5 * beta) - special.gammaln(1 / beta) - xnp.abs(x) ** beta


def pdf(x: Array, beta: Array):
    """Density of the generalized normal distribution.

    >>> import numpy as np; from xform.scipy.stats import gennorm
    >>> gennorm.pdf(np.array([0.0]), 1.0)
    array([0.5])
    """
    return xnp.exp(logpdf(x, beta))


def cdf(x: Array, beta: Array):
    """CDF ``(1 + sign(x) P(1/beta, |x|^beta)) / 2``; differentiable in ``x``.

    >>> import numpy as np; from xform.scipy.stats import gennorm
    >>> gennorm.cdf(np.array([0.0, 1.0]), 1.0)
    array([0.5       , 0.81606028])
    """
    x, beta = promote("gennorm.cdf", x, beta)
    return 0.5 * (1 + xnp.sign(x) * special.gammainc(1 / beta, xnp.abs(x) ** beta))
