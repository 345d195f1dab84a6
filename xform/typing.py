"""``xform.typing``: JAX's ``jax.typing`` annotations: ``ArrayLike`` (what xform's
functions accept as arrays) and ``DTypeLike`` (what they accept as dtypes: names,
numpy dtypes and scalar types; objects with a ``dtype`` attribute are accepted too)."""
from __future__ import annotations

from typing import Union

import numpy as np

from .core.array import Array

__all__ = ["ArrayLike", "DTypeLike"]

ArrayLike = Union[Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]
DTypeLike = Union[str, type, np.dtype]
