"""JAX's configuration context managers, as ``xform.debug_nans(True)`` & co.

Each sets an option of ``xform.config`` for the duration of a ``with`` block (or of a
decorated function) and restores it after; options xform does not have take the only
value that holds here and reject the others with an error saying why.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from . import config

__all__ = ["debug_nans", "debug_infs", "log_compiles", "enable_checks", "check_tracer_leaks",
           "checking_leaks", "numpy_rank_promotion", "numpy_dtype_promotion",
           "default_matmul_precision", "transfer_guard", "transfer_guard_host_to_device",
           "transfer_guard_device_to_host", "transfer_guard_device_to_device", "enable_x64"]


@contextlib.contextmanager
def _option(name: str, value: bool) -> Iterator[None]:
    prev = getattr(config, name)
    config.update(name, bool(value))
    try:
        yield
    finally:
        config.update(name, prev)


def debug_nans(new_val: bool = True) -> contextlib.AbstractContextManager:
    """``with xform.debug_nans(True):`` — the first operation producing a NaN raises
    ``FloatingPointError`` naming it (``config.update("jax_debug_nans", ...)`` for the
    block).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> with xform.debug_nans(True):
    ...     try:
    ...         xnp.log(np.array([-1.0]))
    ...     except FloatingPointError:
    ...         print("caught")
    caught
    """
    return _option("debug_nans", new_val)


def debug_infs(new_val: bool = True) -> contextlib.AbstractContextManager:
    """``with xform.debug_infs(True):`` — the same for infinities.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> with xform.debug_infs(True):
    ...     try:
    ...         xnp.log(np.array([0.0]))
    ...     except FloatingPointError:
    ...         print("caught")
    caught
    """
    return _option("debug_infs", new_val)


def log_compiles(new_val: bool = True) -> contextlib.AbstractContextManager:
    """``with xform.log_compiles(True):`` — log every jit compilation (logger 'xform').

    >>> import xform
    >>> with xform.log_compiles(False):
    ...     pass
    """
    return _option("log_compiles", new_val)


def enable_checks(new_val: bool = True) -> contextlib.AbstractContextManager:
    """``with xform.enable_checks(True):`` — verify every traced program and the result
    of every compiler pass (``xform.core.check_jaxpr``; xform's ``check_jaxprs``).

    >>> import xform
    >>> with xform.enable_checks(True):
    ...     float(xform.jit(lambda x: x * 2)(1.0))
    2.0
    """
    return _option("check_jaxprs", new_val)


@contextlib.contextmanager
def _accepted(name: str, value: Any, allowed: tuple, why: str) -> Iterator[None]:
    if value not in allowed:
        raise NotImplementedError(f"xform.{name}({value!r}): {why}")
    yield


def check_tracer_leaks(new_val: bool = True) -> contextlib.AbstractContextManager:
    """Accepted for JAX compatibility: xform always reports a leaked (escaped) tracer,
    with the transformation it came from, when it is used.

    >>> import xform
    >>> with xform.check_tracer_leaks(True):
    ...     pass
    """
    return _accepted("check_tracer_leaks", bool(new_val), (True, False), "")


def checking_leaks() -> contextlib.AbstractContextManager:
    """``check_tracer_leaks(True)`` (JAX's spelling).

    >>> import xform
    >>> with xform.checking_leaks():
    ...     pass
    """
    return check_tracer_leaks(True)


def numpy_rank_promotion(new_val: str) -> contextlib.AbstractContextManager:
    """Only ``'allow'`` (numpy's broadcasting, always on in xform); JAX's 'warn' and
    'raise' are not supported.

    >>> import xform
    >>> with xform.numpy_rank_promotion("allow"):
    ...     pass
    """
    return _accepted("numpy_rank_promotion", new_val, ("allow",),
                     "xform always broadcasts as numpy does; only 'allow' is supported.")


def numpy_dtype_promotion(new_val: str) -> contextlib.AbstractContextManager:
    """Only ``'standard'`` (xform promotes as numpy, NEP 50); JAX's 'strict' is not
    supported.

    >>> import xform
    >>> with xform.numpy_dtype_promotion("standard"):
    ...     pass
    """
    return _accepted("numpy_dtype_promotion", new_val, ("standard",),
                     "xform promotes dtypes as numpy does (NEP 50); only 'standard' is "
                     "supported.")


_PRECISIONS = (None, "default", "high", "highest", "bfloat16", "tensorfloat32", "float32",
               "bfloat16_3x", "fastest", "ANY_F8_ANY_F8_F32")


def default_matmul_precision(new_val: str | None) -> contextlib.AbstractContextManager:
    """Accepted for JAX compatibility: on the CPU, matrix products compute in the
    operands' own precision (float32 or float64) whatever is asked (JAX's options
    choose reduced-precision accelerator passes).

    >>> import xform
    >>> with xform.default_matmul_precision("highest"):
    ...     pass
    """
    return _accepted("default_matmul_precision", new_val, _PRECISIONS,
                     f"unknown precision; expected one of {_PRECISIONS}.")


_GUARD_LEVELS = ("allow", "log", "disallow", "log_explicit", "disallow_explicit")


def transfer_guard(new_val: str) -> contextlib.AbstractContextManager:
    """Accepted for JAX compatibility: xform's arrays live in host memory, so there are
    no device transfers to guard.

    >>> import xform
    >>> with xform.transfer_guard("disallow"):
    ...     pass
    """
    return _accepted("transfer_guard", new_val, _GUARD_LEVELS,
                     f"expected one of {_GUARD_LEVELS}.")


transfer_guard_host_to_device = transfer_guard
transfer_guard_device_to_host = transfer_guard
transfer_guard_device_to_device = transfer_guard


def enable_x64(new_val: bool = True) -> contextlib.AbstractContextManager:
    """64-bit types are always on (numpy's dtypes): ``True`` is accepted, ``False`` is an
    error (``jax.enable_x64`` as a context manager).

    >>> import xform
    >>> with xform.enable_x64(True):
    ...     pass
    """
    from .experimental import enable_x64 as _enable

    return _enable(new_val)
