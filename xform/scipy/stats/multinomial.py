"""The multinomial distribution (jax.scipy.stats.multinomial): counts ``x`` (last axis)
of ``n`` trials over outcomes of probabilities ``p``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import numpy as xnp
from .. import special

__all__ = ["logpmf", "pmf"]

Array = Any


def logpmf(x: Array, n: Array, p: Array):
    """Log probability of the counts ``x`` (integers) for ``n`` trials with outcome
    probabilities ``p``; -inf when the counts do not sum to ``n``.

    >>> import numpy as np; from xform.scipy.stats import multinomial
    >>> float(multinomial.logpmf(np.array([1, 2, 1]), 4, np.array([0.2, 0.5, 0.3])))
    -1.714798428091926
    """
    x, n, p = xnp.asarray(x), xnp.asarray(n), xnp.asarray(p)
    if x.dtype.kind not in "iu" or n.dtype.kind not in "iu":
        raise ValueError(f"xform.scipy.stats.multinomial.logpmf: x and n must be integers; got "
                         f"x.dtype={x.dtype}, n.dtype={n.dtype}.")
    dt = p.dtype if p.dtype.kind == "f" else np.dtype(np.float64)
    p = xnp.asarray(p, dtype=dt)
    xf, nf = xnp.asarray(x, dtype=dt), xnp.asarray(n, dtype=dt)
    out = special.gammaln(nf + 1) + xnp.sum(special.xlogy(xf, p) - special.gammaln(xf + 1),
                                            axis=-1)
    return xnp.where(xnp.sum(x, axis=-1) == n, out, -np.inf)


def pmf(x: Array, n: Array, p: Array):
    """Probability of the counts ``x``.

    >>> import numpy as np; from xform.scipy.stats import multinomial
    >>> float(multinomial.pmf(np.array([1, 1]), 2, np.array([0.5, 0.5])))
    0.5
    """
    return xnp.exp(logpmf(x, n, p))
