"""xform.scipy: JAX's ``jax.scipy`` namespace (scipy's names, on ``xform.numpy``)."""
from . import sparse  # noqa: F401
from . import linalg  # noqa: F401
from . import optimize  # noqa: F401
from . import special  # noqa: F401
from . import stats  # noqa: F401
from . import signal  # noqa: F401
from . import integrate  # noqa: F401
