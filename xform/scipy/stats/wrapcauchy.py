"""The wrapped Cauchy distribution (jax.scipy.stats.wrapcauchy) on ``[0, 2 pi]``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import numpy as xnp
from ._util import promote

__all__ = ["logpdf", "pdf"]

Array = Any


def logpdf(x: Array, c: Array):
    """Log density ``log((1 - c^2) / (2 pi (1 + c^2 - 2 c cos x)))`` on ``[0, 2 pi]``
    (-inf outside, NaN unless ``0 < c < 1``).

    >>> import numpy as np; from xform.scipy.stats import wrapcauchy
    >>> wrapcauchy.logpdf(np.array([0.0, np.pi, 7.0]), 0.5)
    array([-0.73926478, -2.93648936,        -inf])
    """
    x, c = promote("wrapcauchy.logpdf", x, c)
    ok = (c > 0) & (c < 1)
    inside = (x >= 0) & (x <= 2 * math.pi)
    out = xnp.log1p(-c * c) - math.log(2 * math.pi) - xnp.log(1 + c * c - 2 * c * xnp.cos(x))
    return xnp.where(ok, xnp.where(inside, out, -np.inf), np.nan)


def pdf(x: Array, c: Array):
    """Density of the wrapped Cauchy distribution.

    >>> import numpy as np; from xform.scipy.stats import wrapcauchy
    >>> wrapcauchy.pdf(np.array([0.0]), 0.5)
    array([0.47746483])
    """
    return xnp.exp(logpdf(x, c))
