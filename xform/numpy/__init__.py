"""xform.numpy: numpy's API on xform.lax (being built: see issue 2)."""
from ..lax import cos, exp, sin  # noqa: F401
