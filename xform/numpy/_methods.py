"""Make tracers behave like numpy arrays: operators, properties and methods are attached
to ``xform.core.trace.Tracer`` here (imported by ``xform.numpy``), together with numpy's
``__array_ufunc__`` / ``__array_function__`` protocols (see ``_dispatch.py``)."""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from ..core.trace import Tracer
from . import (
    _creation,
    _dispatch,
    _dot,
    _indexing,
    _indexing_routines,
    _logic,
    _manipulation,
    _reductions,
    _sorting,
    _ufuncs,
)


def _is_operand(x) -> bool:
    return isinstance(x, (Tracer, np.ndarray, np.generic, numbers.Number, list, tuple))


def _binop(fn, reflected=False):
    fn = getattr(fn, "_operator", fn)  # Python operators keep weak types (see _finish)
    if reflected:
        def op(self, other):
            if not _is_operand(other):
                return NotImplemented
            return fn(other, self)
    else:
        def op(self, other):
            if not _is_operand(other):
                return NotImplemented
            return fn(self, other)
    op.__name__ = fn.__name__
    return op


_BINARY = {
    "add": _ufuncs.add, "sub": _ufuncs.subtract, "mul": _ufuncs.multiply,
    "truediv": _ufuncs.true_divide, "floordiv": _ufuncs.floor_divide, "mod": _ufuncs.remainder,
    "pow": _ufuncs.power, "matmul": _dot.matmul, "and": _ufuncs.bitwise_and,
    "or": _ufuncs.bitwise_or, "xor": _ufuncs.bitwise_xor, "divmod": _ufuncs.divmod,
    "lshift": _ufuncs.left_shift, "rshift": _ufuncs.right_shift,
}
_COMPARE = {
    "eq": _ufuncs.equal, "ne": _ufuncs.not_equal, "lt": _ufuncs.less, "le": _ufuncs.less_equal,
    "gt": _ufuncs.greater, "ge": _ufuncs.greater_equal,
}


def _setitem(self, key, value):
    raise TypeError(
        f"traced arrays are immutable: `x[idx] = y` is not supported on a traced "
        f"{self.aval.str_short()}. Use `x = x.at[idx].set(y)` (or .add/.multiply) instead.")


def _reshape(self, *shape, order="C", **kw):
    if "shape" in kw:
        shape = kw.pop("shape")
    elif len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return _manipulation.reshape(self, shape, order=order)


def _transpose(self, *axes):
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
        axes = axes[0]
    return _manipulation.transpose(self, axes if axes else None)


def _item(self, *args):
    val = self._concrete("item()")
    return np.asarray(val).item(*args)


def _tolist(self):
    return np.asarray(self._concrete("tolist()")).tolist()


def _mT(self):
    if self.ndim < 2:
        raise ValueError("matrix transpose with ndim < 2 is undefined")
    return _manipulation.swapaxes(self, -1, -2)


def _T(self):
    return _manipulation.transpose(self)


def _sort(self, axis=-1, kind=None, order=None):
    """Unlike numpy (in-place), returns the sorted array (traced values are immutable)."""
    return _sorting.sort(self, axis, kind, order)


_METHODS: dict[str, Callable[..., Any]] = {
    "reshape": _reshape,
    "transpose": _transpose,
    "sum": _reductions.sum,
    "mean": _reductions.mean,
    "max": _reductions.max,
    "min": _reductions.min,
    "prod": _reductions.prod,
    "std": _reductions.std,
    "var": _reductions.var,
    "argmax": _reductions.argmax,
    "argmin": _reductions.argmin,
    "all": _reductions.all,
    "any": _reductions.any,
    "cumsum": _reductions.cumsum,
    "cumprod": _reductions.cumprod,
    "ptp": _reductions.ptp,
    "astype": lambda self, dtype, copy=True, **kw: _creation.astype(self, dtype),
    "dot": _dot.dot,
    "flatten": lambda self, order="C": _manipulation.ravel(self, order),
    "ravel": lambda self, order="C": _manipulation.ravel(self, order),
    "squeeze": _manipulation.squeeze,
    "swapaxes": _manipulation.swapaxes,
    "clip": _ufuncs.clip,
    "round": _ufuncs.around,
    "conj": _ufuncs.conjugate,
    "conjugate": _ufuncs.conjugate,
    "take": _indexing_routines.take,
    "repeat": _manipulation.repeat,
    "diagonal": _indexing_routines.diagonal,
    "trace": _reductions.trace,
    "sort": _sort,
    "argsort": _sorting.argsort,
    "nonzero": _sorting.nonzero,
    "copy": lambda self, order="C": self,
    "item": _item,
    "tolist": _tolist,
}

_PROPERTIES: dict[str, Callable[..., Any]] = {
    "T": _T,
    "mT": _mT,
    "real": lambda self: _logic.real(self),
    "imag": lambda self: _logic.imag(self),
    "at": lambda self: _indexing._IndexUpdateHelper(self),
    "flat": lambda self: _manipulation.ravel(self),
    "itemsize": lambda self: self.dtype.itemsize,
    "nbytes": lambda self: self.dtype.itemsize * self.size,
}


def attach(cls=Tracer) -> None:
    for name, fn in _BINARY.items():
        setattr(cls, f"__{name}__", _binop(fn))
        setattr(cls, f"__r{name}__", _binop(fn, reflected=True))
    for name, fn in _COMPARE.items():
        setattr(cls, f"__{name}__", _binop(fn))
    cls.__neg__ = lambda self: _ufuncs.negative._operator(self)
    cls.__pos__ = lambda self: _ufuncs.positive._operator(self)
    cls.__abs__ = lambda self: _ufuncs.absolute._operator(self)
    cls.__invert__ = lambda self: _ufuncs.invert._operator(self)
    cls.__round__ = lambda self, ndigits=None: _ufuncs.around(self, ndigits or 0)
    cls.__getitem__ = lambda self, idx: _indexing.getitem(self, idx)
    cls.__setitem__ = _setitem
    cls.__array_ufunc__ = _dispatch.array_ufunc
    cls.__array_function__ = _dispatch.array_function
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)
    for name, fn in _PROPERTIES.items():
        setattr(cls, name, property(fn))


attach()
