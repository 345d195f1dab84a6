"""``xform.dtypes``: JAX's ``jax.dtypes`` helpers. xform's dtypes are numpy's (64-bit
types always on), so canonicalization is the identity and promotion is numpy's."""
from __future__ import annotations

from typing import Any

import numpy as np

from .core.dtypes import float0
from .numpy import finfo, iinfo, issubdtype, result_type

__all__ = ["float0", "canonicalize_dtype", "issubdtype", "result_type", "finfo", "iinfo",
           "scalar_type_of", "itemsize_bits", "TypePromotionError"]


class TypePromotionError(ValueError):
    """JAX's error for disallowed implicit promotions (its ``strict`` mode). xform
    promotes as numpy does and never raises it; it exists for ``except`` clauses."""


def canonicalize_dtype(dtype: Any, allow_extended_dtype: bool = False) -> np.dtype:
    """The dtype xform computes in for ``dtype``: itself (numpy's dtypes, 64-bit
    included; JAX maps float64 to float32 unless x64 is on).

    >>> import numpy as np
    >>> from xform import dtypes
    >>> dtypes.canonicalize_dtype(np.float64), dtypes.canonicalize_dtype("int32")
    (dtype('float64'), dtype('int32'))
    """
    return np.dtype(dtype)


def scalar_type_of(x: Any) -> type:
    """The Python scalar type of a value's kind: ``bool``, ``int``, ``float`` or
    ``complex``.

    >>> import numpy as np
    >>> from xform import dtypes
    >>> dtypes.scalar_type_of(np.float32(1)), dtypes.scalar_type_of(np.arange(2))
    (<class 'float'>, <class 'int'>)
    """
    dt = np.dtype(getattr(x, "dtype", None) or np.result_type(x))
    kinds = {"b": bool, "i": int, "u": int, "f": float, "c": complex}
    if dt.kind not in kinds:
        raise TypeError(f"scalar_type_of: no scalar type for dtype {dt}.")
    return kinds[dt.kind]


def itemsize_bits(dtype: Any) -> int:
    """The size of one element in bits.

    >>> import numpy as np
    >>> from xform import dtypes
    >>> dtypes.itemsize_bits(np.float32), dtypes.itemsize_bits(np.bool_)
    (32, 8)
    """
    dt = np.dtype(dtype)
    return 0 if dt == float0 else 8 * dt.itemsize
