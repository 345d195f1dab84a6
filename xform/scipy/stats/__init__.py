"""xform.scipy.stats: JAX's ``jax.scipy.stats`` (one module per distribution, with
``logpdf``/``pdf``/``cdf``/... taking ``(x, <shape params>, loc, scale)``), and
``gaussian_kde``, ``mode``, ``rankdata``, ``sem``."""
from . import (  # noqa: F401
    bernoulli, beta, betabinom, binom, cauchy, chi2, dirichlet, expon, gamma, gennorm, geom,
    gumbel_l, gumbel_r, laplace, logistic, multinomial, multivariate_normal, nbinom, norm,
    pareto, poisson, t, truncnorm, uniform, vonmises, wrapcauchy,
)
from ._core import ModeResult, mode, rankdata, sem  # noqa: F401
from ._kde import gaussian_kde  # noqa: F401
