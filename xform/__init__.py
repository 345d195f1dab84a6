"""xform: composable function transformations (grad, jvp, vjp, vmap, jit) for numeric
Python written against ``xform.numpy``, compiled with Numba."""
from .backend import platform as _platform  # noqa: F401  (process-wide settings, first)
from . import lax, tree_util  # noqa: F401
from .ad import (  # noqa: F401
    check_grads,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from .core.array import Array  # noqa: F401
from .core.dtypes import float0  # noqa: F401
from .core.trace import ConcretizationTypeError, UnexpectedTracerError  # noqa: F401
from .jit import jit, make_jaxpr, wait_for_compilations  # noqa: F401
from .vmap import vmap  # noqa: F401
from .lax.checkpoint import checkpoint, remat  # noqa: F401
from .lax.custom_derivatives import custom_jvp, custom_vjp  # noqa: F401
from . import custom_derivatives  # noqa: F401,E402
from .lax import stop_gradient  # noqa: F401
from . import numpy  # noqa: F401,E402
from . import optimize  # noqa: F401,E402
from . import random  # noqa: F401,E402
from . import nn  # noqa: F401,E402
from . import config, debug, tree  # noqa: F401,E402
from .api_util import (  # noqa: F401,E402
    ShapeDtypeStruct,
    block_until_ready,
    closure_convert,
    custom_gradient,
    disable_jit,
    eval_shape,
    linear_transpose,
    named_call,
    typeof,
)
from .callbacks import pure_callback  # noqa: F401,E402

__version__ = "0.1.0"
