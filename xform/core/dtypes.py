"""Dtypes, NEP 50 promotion with weak Python scalars, and the tangent dtype of integers."""
from __future__ import annotations

import numpy as np

# The tangent dtype of integer and boolean values: they carry no derivative.
float0 = np.dtype([("float0", np.void, 0)])

_SUPPORTED_KINDS = "biufc"

# A representative Python scalar per dtype kind: numpy treats Python scalars as
# weak in ``np.result_type`` (NEP 50), which is exactly the rule we want.
_WEAK_REPR = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


def check_dtype(dtype, where: str = "xform") -> np.dtype:
    """Return ``dtype`` as a numpy dtype, or raise a clear TypeError for unsupported ones."""
    dt = np.dtype(dtype)
    if dt == float0:
        return dt
    if dt.kind not in _SUPPORTED_KINDS:
        raise TypeError(
            f"{where}: dtype {dt} is not supported; xform works on boolean, integer, "
            f"floating and complex arrays (convert strings/objects to numbers first)."
        )
    return dt


def is_float(dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


def is_inexact(dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


def python_scalar_dtype(x) -> np.dtype:
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return np.dtype(np.float64)
    if isinstance(x, complex):
        return np.dtype(np.complex128)
    raise TypeError(f"not a Python scalar: {x!r}")


def result_type(*avals) -> tuple[np.dtype, bool]:
    """NEP 50 result dtype of abstract values; returns ``(dtype, weak_type)``.

    Weak values (Python scalars) only decide the kind, never the precision, of the
    result when a strong value is present: ``f32 + 1.0 -> f32``, ``i8 + 1 -> i8``.
    """
    strong = [a.dtype for a in avals if not a.weak_type]
    weak = [_WEAK_REPR[a.dtype.kind] for a in avals if a.weak_type]
    if strong:
        return np.result_type(*strong, *weak), False
    return np.result_type(*weak), True


def tangent_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    return dt if dt.kind in "fc" else float0
