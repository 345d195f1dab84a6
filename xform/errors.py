"""``xform.errors``: the exceptions JAX code catches (``jax.errors``), as xform raises
them. ``bool(x)``, ``int(x)`` and ``float(x)`` of a traced value raise
``ConcretizationTypeError``, which JAX splits into subclasses: here those names are
``ConcretizationTypeError`` itself, so ``except TracerBoolConversionError`` catches
what JAX's would (and the other concretization errors too)."""
from __future__ import annotations

from .core.check import JaxprTypeError
from .core.trace import (  # noqa: F401  (TracerArrayConversionError: importable)
    ConcretizationTypeError, TracerArrayConversionError, UnexpectedTracerError,
)

# (TracerArrayConversionError is importable too: np.asarray of a traced value raises it)
__all__ = ["ConcretizationTypeError", "TracerBoolConversionError", "TracerIntegerConversionError",
           "UnexpectedTracerError", "JaxprTypeError", "NonConcreteBooleanIndexError"]

TracerBoolConversionError = ConcretizationTypeError
TracerIntegerConversionError = ConcretizationTypeError
# Indexing with a traced boolean mask (a data-dependent shape) raises IndexError.
NonConcreteBooleanIndexError = IndexError
