"""Abstract values: what a tracer knows about an array (shape, dtype, weak type)."""
from __future__ import annotations

import numbers

import numpy as np

from .dtypes import check_dtype, float0, python_scalar_dtype

_DTYPE_SHORT = {
    "float64": "f64", "float32": "f32", "float16": "f16",
    "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8",
    "uint64": "u64", "uint32": "u32", "uint16": "u16", "uint8": "u8",
    "bool": "bool", "complex128": "c128", "complex64": "c64",
}


def short_dtype(dtype) -> str:
    dt = np.dtype(dtype)
    if dt == float0:
        return "float0"
    return _DTYPE_SHORT.get(dt.name, dt.name)


class ShapedArray:
    """The abstract value of an array: its shape, dtype and whether it is weakly typed.

    A weakly typed value comes from a Python scalar; under NEP 50 promotion it adopts
    the precision of the strongly typed operand it meets.
    """

    __slots__ = ("shape", "dtype", "weak_type")
    array_abstraction_level = 1

    def __init__(self, shape, dtype, weak_type: bool = False):
        self.shape = shape if type(shape) is tuple else tuple(int(d) for d in shape)
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)
        self.weak_type = weak_type if weak_type is False or weak_type is True else bool(weak_type)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def update(self, shape=None, dtype=None, weak_type=None) -> "ShapedArray":
        return ShapedArray(
            self.shape if shape is None else shape,
            self.dtype if dtype is None else dtype,
            self.weak_type if weak_type is None else weak_type,
        )

    def strip_weak(self) -> "ShapedArray":
        return ShapedArray(self.shape, self.dtype, False)

    def str_short(self) -> str:
        return f"{short_dtype(self.dtype)}[{','.join(map(str, self.shape))}]"

    def __repr__(self) -> str:
        weak = ", weak" if self.weak_type else ""
        return f"ShapedArray({self.str_short()}{weak})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, ShapedArray)
            and self.shape == other.shape
            and self.dtype == other.dtype
            and self.weak_type == other.weak_type
        )

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))


def raise_to_shaped(aval: ShapedArray) -> ShapedArray:
    return aval


_SCALAR_AVALS: dict = {}
# Avals of numpy arrays, shared per (shape, dtype): eager autodiff asks for them on every
# operation, and shared avals make the same-aval fast paths of shape rules hit.
_ARRAY_AVALS: dict = {}
_SUPPORTED = frozenset("biufc")
# ``xform.Array`` (set by core/array.py): a plain array with JAX's methods added, taken
# on the fast paths below like ``numpy.ndarray``.
_XFORM_ARRAY: type | None = None


def concrete_aval(x, where: str = "xform") -> ShapedArray:
    """Abstract value of a concrete (non-tracer) value: numpy array, numpy or Python scalar."""
    t = type(x)
    hit = _SCALAR_AVALS.get(t)  # fast path: Python scalars and numpy scalars
    if hit is not None:
        if t is int and not -(2**63) <= x < 2**63:
            raise OverflowError(f"{where}: Python int {x} does not fit in int64.")
        return hit
    if t is np.ndarray or t is _XFORM_ARRAY:
        dt = x.dtype
        key = (x.shape, dt)
        aval = _ARRAY_AVALS.get(key)
        if aval is None:
            aval = ShapedArray(x.shape, check_dtype(dt, where), False)
            if dt.kind in _SUPPORTED:
                if len(_ARRAY_AVALS) > 4096:
                    _ARRAY_AVALS.clear()
                _ARRAY_AVALS[key] = aval
        return aval
    aval = _concrete_aval_slow(x, where)
    if t in (bool, int, float, complex) or (isinstance(x, np.generic) and x.dtype.kind in "biufc"):
        _SCALAR_AVALS[t] = aval
    return aval


# ndarray subclasses whose values mean what a plain array's do (only the storage differs)
_PLAIN_SUBCLASSES = (np.memmap,)


def check_array_type(x, where: str = "xform") -> None:
    """Reject ndarray subclasses whose operations mean something else than a plain
    array's: taking their data would silently give another answer than numpy (a masked
    array's masked values would be counted; ``np.matrix`` makes ``*`` a matrix product).
    Plain arrays and ``np.memmap`` pass."""
    t = type(x)
    if t is np.ndarray or t is _XFORM_ARRAY or not isinstance(x, np.ndarray) or isinstance(
            x, _PLAIN_SUBCLASSES):
        return
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{where}: got a masked array ({t.__module__}.{t.__qualname__}); xform has no "
            f"masked semantics and would compute with the masked values too. Pass "
            f"x.filled(fill_value) (e.g. 0 for a sum) or np.ma.getdata(x) with the mask "
            f"np.ma.getmaskarray(x) as a separate array (xform.numpy.where).")
    if isinstance(x, np.matrix):
        raise TypeError(
            f"{where}: got a numpy.matrix; its operators differ from an array's (``*`` is a "
            f"matrix product, results stay 2-d), so xform does not take it. Pass "
            f"np.asarray(m) and use ``@`` for matrix products.")
    raise TypeError(
        f"{where}: got an instance of {t.__module__}.{t.__qualname__}, a numpy.ndarray "
        f"subclass; its operations may mean something other than a plain array's (units, "
        f"masks, ...), so xform does not take it. Pass np.asarray(x) if its plain data is "
        f"what you mean.")


def _concrete_aval_slow(x, where: str) -> ShapedArray:
    if isinstance(x, np.ndarray):
        check_array_type(x, where)
        return ShapedArray(x.shape, check_dtype(x.dtype, where), False)
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        if isinstance(x, int) and not isinstance(x, bool) and not -(2**63) <= x < 2**63:
            raise OverflowError(f"{where}: Python int {x} does not fit in int64.")
        return ShapedArray((), python_scalar_dtype(x), True)
    if isinstance(x, np.generic):
        return ShapedArray((), check_dtype(x.dtype, where), False)
    if isinstance(x, numbers.Number):
        return ShapedArray((), check_dtype(np.asarray(x).dtype, where), False)
    if isinstance(x, (list, tuple)):
        raise TypeError(
            f"{where}: got a Python {type(x).__name__} where an array was expected; "
            f"wrap it with numpy.asarray(...) or xform.numpy.asarray(...) first."
        )
    raise TypeError(
        f"{where}: value of type {type(x).__name__} is not a valid xform array "
        f"(expected a numpy array, a numpy scalar or a Python scalar)."
    )
