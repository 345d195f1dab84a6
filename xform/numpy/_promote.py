"""Argument handling shared by xform.numpy: conversion of inputs, NEP 50 promotion with
weak Python scalars, numpy's ufunc type resolution, and numpy-style outputs.

Conventions:
- Python scalars stay Python scalars as long as possible: they are *weak* and adopt
  the dtype of the strong operand they meet (``f32 + 1.0 -> f32``).
- Lists/tuples become arrays (``asarray``; a list holding tracers is stacked).
- Outside transformations results are numpy arrays, numpy scalars for 0-d.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from .. import lax
from ..core.axes import normalize_axes, normalize_axis  # noqa: F401  (re-exported)
from ..core.abstract import ShapedArray, check_array_type
from ..core.array import Array
from ..core.dtypes import check_dtype
from ..core.trace import Tracer, get_aval

_PY_SCALARS = (bool, int, float, complex)
_WEAK_PYTYPE = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


def is_py_scalar(x) -> bool:
    return type(x) in _PY_SCALARS


def concrete_or_none(x):
    """The concrete numpy value of ``x`` if known (numpy values, concrete tracers)."""
    if isinstance(x, Tracer):
        v = x._concrete_value()
        if v is None:
            return None
        return v._concrete_value() if isinstance(v, Tracer) else v
    return x


def _contains_tracer(seq) -> bool:
    for v in seq:
        if isinstance(v, Tracer):
            return True
        if isinstance(v, (list, tuple)) and _contains_tracer(v):
            return True
    return False


def asarray(a, dtype=None, where: str = "asarray"):
    """``a`` as an xform array: numpy array, or tracer; lists of tracers are stacked."""
    if isinstance(a, Tracer):
        if dtype is not None:
            return lax.convert_element_type(a, check_dtype(dtype, where))
        return a
    if isinstance(a, (list, tuple)) and _contains_tracer(a):
        from ._manipulation import stack

        parts = [asarray(v, where=where) for v in a]
        if dtype is None:
            dt, _ = result_type_of(*parts)
        else:
            dt = np.dtype(dtype)
        return stack([astype(p, dt) for p in parts])
    check_array_type(a, where)  # masked arrays, np.matrix: np.asarray would drop their meaning
    try:
        arr = np.asarray(a, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: cannot convert {type(a).__name__} to an array: {e}") from None
    check_dtype(arr.dtype, where)
    return arr


def arg(a, where: str):
    """Normalize one argument: tracers, numpy arrays and Python scalars pass; numpy
    scalars and lists become arrays; unsupported dtypes raise a clear TypeError."""
    t = type(a)
    if t is np.ndarray:
        if a.dtype.kind not in "biufc":
            check_dtype(a.dtype, where)
        return a
    if t in _PY_SCALARS or isinstance(a, Tracer):
        if t is int and not -(2**63) <= a < 2**64:  # up to 2**64 - 1 for uint64 operands
            raise OverflowError(f"{where}: Python int {a} does not fit in int64 or uint64.")
        return a
    if isinstance(a, np.generic):
        check_dtype(a.dtype, where)
        return a
    if t is Array:  # xform's results: computed on as plain arrays (see core/array.py)
        return arg(a.view(np.ndarray), where)
    return asarray(a, where=where)


def array_arg(a, where: str):
    """``arg`` for routines that need an array: Python and numpy scalars become 0-d
    numpy arrays."""
    a = arg(a, where)
    if is_py_scalar(a) or isinstance(a, np.generic):
        a = np.asarray(a)
    return a


def aval(x, where: str = "xform") -> ShapedArray:
    if type(x) is np.ndarray and x.dtype.kind in "biufc":
        return ShapedArray(x.shape, x.dtype, False)
    if isinstance(x, Tracer):
        return x.aval
    return get_aval(x, where)


def ndim(x) -> int:
    return np.ndim(x) if not isinstance(x, Tracer) else x.aval.ndim


def shape(x) -> tuple:
    if type(x) is np.ndarray:
        return x.shape
    return np.shape(x) if not isinstance(x, Tracer) else x.aval.shape


def dtype_of(x) -> np.dtype:
    return aval(x).dtype


def _weak_key(a: ShapedArray):
    return _WEAK_PYTYPE[a.dtype.kind] if a.weak_type else a.dtype


def result_type_of(*args) -> tuple[np.dtype, bool]:
    """NEP 50 result dtype of arguments and whether it is weak (all args weak)."""
    avals = [aval(a) for a in args]
    keys = tuple(_weak_key(a) for a in avals)
    return _result_type_cached(keys)


@functools.lru_cache(maxsize=4096)
def _result_type_cached(keys):
    strong = [k for k in keys if isinstance(k, np.dtype)]
    weak = [{bool: False, int: 0, float: 0.0, complex: 0j}[k] for k in keys if not isinstance(k, np.dtype)]
    if strong:
        return np.result_type(*strong, *weak), False
    return np.result_type(*weak), True


def cast(x, dtype, weak: bool = False):
    """Convert ``x`` to ``dtype``; a Python scalar stays a Python scalar if the result is
    weak (so weak types propagate), otherwise becomes a numpy scalar."""
    dtype = np.dtype(dtype)
    t = type(x)
    if t in _PY_SCALARS:
        if weak and dtype in _DEFAULT_WEAK:
            return _WEAK_PYTYPE[dtype.kind](x)
        return _scalar_of(x, dtype)
    if isinstance(x, np.generic):
        if x.dtype == dtype:
            return x
        return x.astype(dtype)
    a = aval(x)
    if a.dtype == dtype:
        return x  # weakness of the result is decided by the primitive (all operands weak)
    return lax.convert_element_type(x, dtype, weak_type=weak and a.weak_type)


def _scalar_of(x, dtype):
    if dtype.kind in "iu" and type(x) is float:
        raise TypeError(f"cannot cast Python float {x!r} to integer dtype {dtype}")
    return np.asarray(x, dtype=dtype)[()]


_DEFAULT_WEAK = {np.dtype(bool), np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.complex128)}


def astype(x, dtype):
    """Strong conversion of ``x`` to ``dtype`` (numpy's astype)."""
    dtype = np.dtype(dtype)
    if type(x) in _PY_SCALARS:
        return _astype_scalar(x, dtype)
    if isinstance(x, np.generic):
        return x.astype(dtype)
    a = aval(x)
    if a.dtype == dtype and not a.weak_type:
        return x
    return lax.convert_element_type(x, dtype)


def _astype_scalar(x, dtype):
    return np.asarray(x).astype(dtype)[()]


def promote(name: str, *args):
    """Convert all args to their NEP 50 common dtype. Returns (args, dtype, weak)."""
    dt, weak = result_type_of(*args)
    return [cast(a, dt, weak) for a in args], dt, weak


# -- numpy's ufunc type resolution ----------------------------------------------------


def _resolve_key(a: ShapedArray):
    if a.weak_type:
        return _WEAK_PYTYPE[a.dtype.kind] if a.dtype.kind != "b" else np.dtype(bool)
    return a.dtype


_PYTYPE_DEFAULT = {bool: np.dtype(bool), int: np.dtype(np.int64),
                   float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


@functools.lru_cache(maxsize=8192)
def _resolve_cached(ufunc, keys):
    try:
        dts = ufunc.resolve_dtypes(keys + (None,) * ufunc.nout)
        if any(d.kind == "O" for d in dts) and any(isinstance(k, type) for k in keys):
            # numpy picks its object loop for Python ints only (e.g. int > int, which
            # it computes with Python's unbounded ints); as array values they are int64
            keys = tuple(_PYTYPE_DEFAULT.get(k, k) for k in keys)
            dts = ufunc.resolve_dtypes(keys + (None,) * ufunc.nout)
        return dts
    except TypeError as e:
        names = ", ".join(str(k.__name__ if isinstance(k, type) else k) for k in keys)
        raise TypeError(
            f"{ufunc.__name__}: not supported for input dtypes ({names}): {e}") from None


def resolve(ufunc, args, dtype=None, name: str | None = None):
    """numpy's own loop selection for ``ufunc`` on ``args`` (NEP 50 weak scalars).

    Returns (input dtypes, output dtype(s), weak) where weak means all inputs were weak
    Python scalars (the result stays weak). ``dtype`` forces the computation dtype."""
    avals = [aval(a, name or ufunc.__name__) for a in args]
    if dtype is not None:
        keys = (check_dtype(dtype, name or ufunc.__name__),) * len(avals)
        weak = False
    else:
        keys = tuple(_resolve_key(a) for a in avals)
        weak = all(a.weak_type for a in avals)
    dts = _resolve_cached(ufunc, keys)
    nin = ufunc.nin
    outs = dts[nin:]
    return dts[:nin], (outs[0] if len(outs) == 1 else outs), weak


def check_broadcast(name: str, *args) -> tuple:
    """The broadcast shape of args; a ValueError naming ``name`` and the shapes."""
    shapes = [shape(a) for a in args]
    s0 = shapes[0]
    if all(s == s0 for s in shapes[1:]):
        return tuple(s0)
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{name}: operands could not be broadcast together with shapes "
            f"{' '.join(str(tuple(s)) for s in shapes)}") from None


# -- outputs ----------------------------------------------------------------------------


def out(x):
    """numpy-style result: 0-d arrays become numpy scalars, Python scalars numpy scalars."""
    t = type(x)
    if t is np.ndarray:
        return x[()] if x.ndim == 0 else x
    if t in _PY_SCALARS:
        return np.asarray(x)[()]
    return x


def out_array(x):
    """Like ``out`` but keep 0-d results as 0-d arrays (numpy's array-returning functions)."""
    t = type(x)
    if t in _PY_SCALARS or isinstance(x, np.generic):
        return np.asarray(x)
    return x


# -- axes -------------------------------------------------------------------------------


def shape_arg(shape_, where: str) -> tuple[int, ...]:
    """A shape argument (int or sequence of ints; concrete only)."""
    if isinstance(shape_, Tracer):
        raise TypeError(
            f"{where}: shapes must be concrete; got a traced value {shape_.aval.str_short()} "
            f"(shapes cannot depend on traced data; mark the argument static)")
    if isinstance(shape_, (int, np.integer)):
        return (int(shape_),)
    try:
        return tuple(operator.index(s) for s in shape_)
    except TypeError:
        raise TypeError(f"{where}: shape must be an int or a sequence of ints, got {shape_!r}") from None
