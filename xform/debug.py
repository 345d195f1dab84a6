"""``xform.debug``: print and inspect values from inside ``jit``, ``vmap`` and ``grad``
(JAX's ``jax.debug.print`` and ``jax.debug.callback``).

Both stage a ``debug_callback`` equation (``xform/lax/callbacks.py``), which has a side
effect: it is never removed as dead code, and compiled kernels call back into Python
where it stands. Under ``grad``/``jvp`` the callback sees primal values; under ``vmap``
it is called once per batch element.
"""
from __future__ import annotations

import builtins
import numbers
from typing import Any, Callable

import numpy as np

from ._util import fun_name
from .core.pytree import tree_flatten, tree_unflatten
from .core.trace import Tracer
from .lax.callbacks import debug_callback_flat

__all__ = ["callback", "print"]


def _is_array(x) -> bool:
    return isinstance(x, (Tracer, np.ndarray, np.generic)) or (
        isinstance(x, numbers.Number) and not isinstance(x, bool))


def _staged(fn: Callable, args, kwargs, name: str) -> None:
    """Bind ``debug_callback`` on the array leaves of (args, kwargs); other leaves
    (strings, bools, other Python objects) are passed to ``fn`` as they are."""
    leaves, tree = tree_flatten((args, kwargs))
    is_arr = [_is_array(x) for x in leaves]
    arrays = [x for x, a in zip(leaves, is_arr) if a]
    static = [None if a else x for x, a in zip(leaves, is_arr)]  # no tracers kept

    def flat(*xs):
        it = iter(xs)
        full = [next(it) if a else x for x, a in zip(static, is_arr)]
        a, k = tree_unflatten(tree, full)
        fn(*a, **k)

    flat.__name__ = name
    debug_callback_flat(flat, arrays)


def callback(callback: Callable[..., Any], *args, ordered: bool = False,
             partitioned: bool = False, **kwargs) -> None:
    """Call ``callback(*args, **kwargs)`` for its side effect, with numpy arrays in place
    of traced values, also from inside ``jit`` (the kernel calls back), ``vmap`` (once per
    element) and ``grad`` (on primal values). Calls happen in program order
    (``ordered`` is accepted for JAX compatibility).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> seen = []
    >>> def f(x):
    ...     xform.debug.callback(lambda v: seen.append(float(v.sum())), x)
    ...     return x * 2.0
    >>> xform.jit(f)(np.ones(3))
    array([2., 2., 2.])
    >>> seen
    [3.0]
    """
    if not callable(callback):
        raise TypeError(f"debug.callback: callback must be callable, got "
                        f"{type(callback).__name__}.")
    _staged(callback, args, kwargs, fun_name(callback))


def print(fmt: str, *args, ordered: bool = False, **kwargs) -> None:  # noqa: A001
    """Print ``fmt.format(*args, **kwargs)`` with the values of traced arguments, also
    from inside ``jit``, ``vmap`` (one line per element) and ``grad`` (primal values).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> def f(x):
    ...     y = xnp.sin(x)
    ...     xform.debug.print("y = {}", y)
    ...     return y
    >>> xform.grad(f)(0.0)
    y = 0.0
    np.float64(1.0)
    """
    if not isinstance(fmt, str):
        raise TypeError(f"debug.print: the format must be a string, got {type(fmt).__name__}.")

    def _print(*a, **k):
        builtins.print(fmt.format(*a, **k))

    _staged(_print, args, kwargs, "debug_print")
