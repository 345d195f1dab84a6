"""xform: composable function transformations (grad, jvp, vjp, vmap, jit) for numeric
Python written against ``xform.numpy``, compiled with Numba."""
from .backend import platform as _platform  # noqa: F401  (process-wide settings, first)
from . import lax, tree_util  # noqa: F401
from .ad import (  # noqa: F401
    check_grads,
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jacrev as jacobian,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from .core.array import Array  # noqa: F401
from .core.dtypes import float0  # noqa: F401
from .core.trace import ConcretizationTypeError, UnexpectedTracerError  # noqa: F401
from .jit import clear_caches, jit, make_jaxpr, wait_for_compilations  # noqa: F401
from .vmap import pmap, vmap  # noqa: F401
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
    effects_barrier,
    ensure_compile_time_eval,
    eval_shape,
    linear_transpose,
    named_call,
    named_scope,
    typeof,
)
from .callbacks import pure_callback  # noqa: F401,E402
from ._devices import (  # noqa: F401,E402  (one CPU device: see xform/_devices.py)
    Device,
    default_backend,
    default_device,
    device_count,
    device_get,
    device_put,
    devices,
    host_count,
    host_id,
    host_ids,
    local_device_count,
    local_devices,
    process_count,
    process_index,
    process_indices,
)
from ._config_contexts import (  # noqa: F401,E402
    check_tracer_leaks,
    checking_leaks,
    debug_infs,
    debug_nans,
    default_matmul_precision,
    enable_checks,
    enable_x64,
    log_compiles,
    numpy_dtype_promotion,
    numpy_rank_promotion,
    transfer_guard,
    transfer_guard_device_to_device,
    transfer_guard_device_to_host,
    transfer_guard_host_to_device,
)
from . import checkpoint_policies, dtypes, errors, experimental, typing  # noqa: F401,E402
from . import flatten_util, ops  # noqa: F401,E402

__version__ = "0.1.0"
