"""xform.scipy.stats: JAX's ``jax.scipy.stats`` (one module per distribution, with
``logpdf``/``pdf``/``cdf``/... taking ``(x, <shape params>, loc, scale)``)."""
from . import (  # noqa: F401
    beta, dirichlet, expon, gamma, laplace, logistic, multivariate_normal, norm, poisson, t,
    uniform,
)
