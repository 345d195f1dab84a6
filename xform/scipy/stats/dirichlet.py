"""The Dirichlet distribution (jax.scipy.stats.dirichlet)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special
from ._util import promote

__all__ = ["logpdf", "pdf"]

Array = Any


def logpdf(x: Array, alpha: Array):
    """Log density of Dirichlet(alpha) at x (components along axis 0, as scipy); -inf
    off the simplex (negative components or a sum differing from 1 by more than 1e-6).

    >>> import numpy as np; from xform.scipy.stats import dirichlet
    >>> float(dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), np.array([1.0, 2.0, 3.0])))
    1.5040773967762737
    """
    x, alpha = promote("dirichlet.logpdf", x, alpha)
    if alpha.ndim != 1 or x.ndim == 0 or x.shape[0] != alpha.shape[0]:
        raise ValueError(f"xform.scipy.stats.dirichlet.logpdf: expected alpha (K,) and x (K, ...); "
                         f"got alpha {alpha.shape}, x {x.shape}.")
    norm = xnp.sum(special.gammaln(alpha)) - special.gammaln(xnp.sum(alpha))
    a = xnp.reshape(alpha, alpha.shape + (1,) * (x.ndim - 1))
    logp = xnp.sum(special.xlogy(a - 1, x), axis=0) - norm
    simplex = xnp.all(x >= 0, axis=0) & (xnp.abs(xnp.sum(x, axis=0) - 1) < 1e-6)
    return xnp.where(simplex, logp, -np.inf)


def pdf(x: Array, alpha: Array):
    """Density of Dirichlet(alpha) at x.

    >>> import numpy as np; from xform.scipy.stats import dirichlet
    >>> float(dirichlet.pdf(np.array([0.5, 0.5]), np.array([1.0, 1.0])))
    1.0
    """
    return xnp.exp(logpdf(x, alpha))
