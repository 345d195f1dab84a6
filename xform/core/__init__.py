"""The core: abstract values, dtypes, the IR (jaxprs), primitives, the trace stack and
the eval interpreter at its bottom, the IR verifier, and the hooks lax fills in."""
from .check import JaxprTypeError, check_jaxpr  # noqa: F401
