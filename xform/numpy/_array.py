"""``xform.Array``'s numpy-layer parts (see ``docs/arrays.md``): ``x.at[...]`` and
``x[traced_index]`` on concrete arrays, and the public ``xform.numpy`` functions
returning ``Array`` outside transformations.

The functions of ``xform.numpy``'s namespace are wrapped once at import: a result that
is a plain ``numpy.ndarray`` (so computed eagerly) becomes an ``Array`` view (no copy;
numpy scalars stay scalars, traced values pass). xform's modules call each other's
unwrapped functions, so only the user-facing call pays the check (~0.1 us).
"""
from __future__ import annotations

import functools
import types

import numpy as np

from ..core.array import Array, as_array, as_plain
from ._indexing import _IndexUpdateHelper, _IndexUpdateRef, getitem


def _wrap(r):
    t = type(r)
    if t is np.ndarray:
        return r.view(Array)
    if t is tuple or t is list:
        return t(as_array(x) for x in r)
    if isinstance(r, tuple) and hasattr(t, "_fields"):  # namedtuple results (linalg)
        return t(*(as_array(x) for x in r))
    return r


class _ArrayAt(_IndexUpdateHelper):
    """``Array.at``: the updates compute on the plain array and return an ``Array``."""

    __slots__ = ()

    def __init__(self, array):
        super().__init__(as_plain(array))

    def __getitem__(self, idx):
        return _ArrayAtRef(self.array, idx)


class _ArrayAtRef(_IndexUpdateRef):
    __slots__ = ()


def _returning_array(method):
    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        return _wrap(method(self, *args, **kwargs))

    return wrapped


for _name, _fn in list(vars(_IndexUpdateRef).items()):
    if not _name.startswith("_") and callable(_fn):
        setattr(_ArrayAtRef, _name, _returning_array(_fn))


def _traced_getitem(x, idx):
    return getitem(x, idx)


Array._at_helper = _ArrayAt
Array._traced_getitem = staticmethod(_traced_getitem)


def _eager_result(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        r = fn(*args, **kwargs)
        if type(r) is np.ndarray:
            return r.view(Array)
        return _wrap(r)

    return wrapper


def wrap_public(namespace: dict) -> None:
    """Wrap the public functions of a namespace (``xform.numpy``, ``xform.numpy.linalg``)
    so that their eager array results are ``Array``s."""
    for name, fn in list(namespace.items()):
        if (not name.startswith("_") and isinstance(fn, types.FunctionType)
                and fn.__module__.startswith("xform.")):
            namespace[name] = _eager_result(fn)
