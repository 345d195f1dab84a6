"""``xform.numpy.random``: numpy's own ``numpy.random`` (stateful, legacy and ``Generator``
APIs), so that autograd code ``import autograd.numpy.random as npr`` (autograd's module is
numpy's random, re-exported) runs with ``autograd.numpy`` replaced by ``xform.numpy``.

The values are ordinary numpy arrays: constants to every transformation. Inside ``jit``
they are drawn once, when the function is traced. For random numbers inside transformed
code use ``xform.random`` (JAX's ``jax.random``: explicit keys, same bits as JAX).

>>> import xform.numpy as xnp
>>> rs = xnp.random.RandomState(0)
>>> rs.randn(2).shape
(2,)
"""
from numpy.random import *  # noqa: F401,F403

# The names are numpy's (documented there), so this namespace lists none of its own.
__all__: list = []
