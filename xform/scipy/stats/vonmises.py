"""The von Mises distribution on the circle (jax.scipy.stats.vonmises)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import lax
from ... import numpy as xnp
from ._util import promote

__all__ = ["logpdf", "pdf"]

Array = Any


def logpdf(x: Array, kappa: Array):
    """Log density ``kappa (cos x - 1) - log(2 pi i0e(kappa))`` (NaN for ``kappa <= 0``);
    the scaled Bessel function keeps large ``kappa`` finite.

    >>> import numpy as np; from xform.scipy.stats import vonmises
    >>> vonmises.logpdf(np.array([0.0, np.pi]), 2.0)
    array([-0.66187061, -4.66187061])
    """
    x, kappa = promote("vonmises.logpdf", x, kappa)
    ok = kappa > 0
    ks = xnp.where(ok, kappa, 1.0)
    out = ks * (xnp.cos(x) - 1) - xnp.log(2 * math.pi * lax.bessel_i0e(ks))
    return xnp.where(ok, out, np.nan)


def pdf(x: Array, kappa: Array):
    """Density of the von Mises distribution.

    >>> import numpy as np; from xform.scipy.stats import vonmises
    >>> vonmises.pdf(np.array([0.0]), 2.0)
    array([0.51588541])
    """
    return xnp.exp(logpdf(x, kappa))
