"""``xform.experimental.ode``: JAX's ``jax.experimental.ode.odeint`` (adaptive
Dormand-Prince, gradients by the adjoint method), the same function as
``xform.scipy.integrate.odeint``."""
from ..scipy.integrate import odeint

__all__ = ["odeint"]
