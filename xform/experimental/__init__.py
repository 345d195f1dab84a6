"""``xform.experimental``: the names JAX code imports from ``jax.experimental``:
``io_callback``, ``enable_x64``/``disable_x64`` and the ``ode`` module (``odeint``)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from ..callbacks import io_callback
from . import ode  # noqa: F401

__all__ = ["io_callback", "enable_x64", "disable_x64", "ode"]


@contextlib.contextmanager
def enable_x64(new_val: bool = True) -> Iterator[None]:
    """Context manager (JAX's ``jax.experimental.enable_x64``): 64-bit types are always
    on in xform (dtypes follow numpy), so ``True`` changes nothing and ``False`` is an
    error.

    >>> import xform.numpy as xnp
    >>> from xform.experimental import enable_x64
    >>> with enable_x64():
    ...     print(xnp.ones(1).dtype)
    float64
    """
    if not new_val:
        raise ValueError("enable_x64(False): xform always has 64-bit types and follows "
                         "numpy's dtypes; pass float32 arrays to compute in single precision.")
    yield


def disable_x64() -> contextlib.AbstractContextManager:
    """Raises when entered (JAX's ``disable_x64``): xform always has 64-bit types.

    >>> from xform.experimental import disable_x64
    >>> try:
    ...     with disable_x64():
    ...         pass
    ... except ValueError as e:
    ...     print(str(e)[:40])
    enable_x64(False): xform always has 64-b
    """
    return enable_x64(False)
