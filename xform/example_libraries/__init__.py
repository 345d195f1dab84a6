"""``xform.example_libraries`` (JAX's ``jax.example_libraries``): the small optimizer
library ``optimizers`` and the neural-network layer library ``stax`` that JAX tutorials
and older research code build on, with the same functions, state layout and random-key
use, so such code runs with the import changed."""
from . import optimizers, stax  # noqa: F401
