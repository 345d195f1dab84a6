"""The geometric distribution (jax.scipy.stats.geom): the trial of the first success."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpmf", "pmf"]

Array = Any


def logpmf(k: Array, p: Array, loc: Array = 0):
    """Log probability that the first success is trial ``k`` (from 1); -inf below.

    >>> import numpy as np; from xform.scipy.stats import geom
    >>> geom.logpmf(np.array([0, 1, 3]), 0.5)
    array([       -inf, -0.69314718, -2.07944154])
    """
    k, p, loc = promote("geom.logpmf", k, p, loc)
    x = k - loc
    out = special.xlog1py(x - 1, -p) + xnp.log(p)
    return xnp.where((x <= 0) | (x != xnp.floor(x)), -np.inf, out)  # scipy: integers only


def pmf(k: Array, p: Array, loc: Array = 0):
    """Probability that the first success is trial ``k``.

    >>> import numpy as np; from xform.scipy.stats import geom
    >>> geom.pmf(np.array([1, 2]), 0.5)
    array([0.5 , 0.25])
    """
    return xnp.exp(logpmf(k, p, loc))
