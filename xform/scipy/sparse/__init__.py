"""xform.scipy.sparse: JAX's ``jax.scipy.sparse`` (iterative solvers in ``linalg``)."""
from . import linalg  # noqa: F401
