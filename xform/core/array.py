"""``xform.Array``: the concrete arrays xform returns (see ``docs/arrays.md``).

A thin ``numpy.ndarray`` subclass, so results stay numpy arrays for every numpy
function, and gain what JAX code expects of its arrays:

- ``x.at[idx].set(y)`` / ``.add`` / ``.multiply`` / ... (functional updates; installed by
  ``xform.numpy``, which implements them);
- ``x[i]`` with a traced integer index (inside ``fori_loop``, ``vmap``, eager ``grad``)
  works as on traced arrays, instead of numpy's conversion error;
- ``x.block_until_ready()`` (xform computes synchronously);
- reductions taking a list of axes (``x.sum(axis=[0, 1])``), as JAX's do.

It prints like a numpy array. Values computed from it by numpy keep the subclass (numpy's
rule for subclasses); xform's own inputs accept it anywhere an ndarray is accepted.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import abstract as _abstract
from .trace import Tracer


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _has_tracer(idx) -> bool:
    if isinstance(idx, Tracer):
        return True
    return type(idx) is tuple and any(isinstance(i, Tracer) for i in idx)


class _ArrayMeta(type):
    """``isinstance(x, xform.Array)`` also holds for traced arrays inside transformations,
    as ``isinstance(tracer, jax.Array)`` does in JAX (library code checks it)."""

    def __instancecheck__(cls, obj) -> bool:
        return type.__instancecheck__(cls, obj) or (cls is Array and isinstance(obj, Tracer))


class Array(np.ndarray, metaclass=_ArrayMeta):
    """A numpy array returned by xform (``xform.numpy`` functions, transformations);
    traced arrays count as instances too (``isinstance``), as in JAX.

    >>> import xform, xform.numpy as xnp
    >>> x = xnp.zeros(3)
    >>> isinstance(x, xform.Array), x.at[0].set(1.0)
    (True, array([1., 0., 0.]))
    """

    __slots__ = ()

    # installed by xform.numpy (the layer that implements indexing): ``x.at`` and
    # ``x[traced_index]``
    _at_helper: Any = None
    _traced_getitem: Any = None

    @property
    def at(self):
        return type(self)._at_helper(self)

    def __getitem__(self, idx):
        if _has_tracer(idx):
            return type(self)._traced_getitem(self.view(np.ndarray), idx)
        return np.ndarray.__getitem__(self, idx)

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def block_until_ready(self) -> "Array":
        return self

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # 0-d results of reductions and ufuncs are numpy scalars, as for plain arrays
        # (numpy >= 2 says when; without this a subclass gets 0-d arrays)
        if return_scalar:
            return obj[()]
        return np.ndarray.__array_wrap__(self, obj, context, return_scalar)

    # JAX's reductions take lists of axes; numpy's ndarray methods only tuples
    def sum(self, axis=None, *args, **kwargs):
        return np.ndarray.sum(self, _axis(axis), *args, **kwargs)

    def mean(self, axis=None, *args, **kwargs):
        return np.ndarray.mean(self, _axis(axis), *args, **kwargs)

    def prod(self, axis=None, *args, **kwargs):
        return np.ndarray.prod(self, _axis(axis), *args, **kwargs)

    def max(self, axis=None, *args, **kwargs):
        return np.ndarray.max(self, _axis(axis), *args, **kwargs)

    def min(self, axis=None, *args, **kwargs):
        return np.ndarray.min(self, _axis(axis), *args, **kwargs)

    def all(self, axis=None, *args, **kwargs):
        return np.ndarray.all(self, _axis(axis), *args, **kwargs)

    def any(self, axis=None, *args, **kwargs):
        return np.ndarray.any(self, _axis(axis), *args, **kwargs)

    def std(self, axis=None, *args, **kwargs):
        return np.ndarray.std(self, _axis(axis), *args, **kwargs)

    def var(self, axis=None, *args, **kwargs):
        return np.ndarray.var(self, _axis(axis), *args, **kwargs)


_abstract._XFORM_ARRAY = Array


def as_array(x):
    """``x`` as an ``Array`` if it is a plain numpy array (no copy), else ``x``."""
    return x.view(Array) if type(x) is np.ndarray else x


def as_plain(x):
    """``x`` as a plain ``numpy.ndarray`` if it is an ``Array`` (no copy), else ``x``:
    xform's internals compute on plain arrays (numpy's subclass handling costs ~0.6 us
    per operation)."""
    return x.view(np.ndarray) if type(x) is Array else x
