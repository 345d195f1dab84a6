"""Small helpers shared by the public API modules."""
from __future__ import annotations

import os
import sys
import warnings
from typing import Callable

import numpy as np

from .core.array import Array, as_plain
from .core.pytree import tree_flatten, tree_unflatten
from .core.trace import Tracer, get_aval


def flatten_fun(f: Callable, in_tree):
    """Wrap ``f`` (pytrees -> pytree) as flat -> flat; the output tree lands in ``store``."""
    store: dict = {}

    def flat(*leaves):
        out = f(*tree_unflatten(in_tree, leaves))
        out_leaves, out_tree = tree_flatten(out)
        store["tree"] = out_tree
        return out_leaves

    return flat, store


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = RuntimeWarning) -> None:
    """Warn, attributing the warning to the first caller outside xform (and threading)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE_DIR)
                                 or frame.f_code.co_filename == warnings.__file__):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level + 1)


def check_leaves(leaves, where: str) -> None:
    for x in leaves:
        get_aval(x, where)


def plain_leaves(leaves: list) -> list:
    """Arguments entering a transformation: ``xform.Array``s as plain numpy arrays (no
    copy), so that the eager computations inside run at numpy's plain-array speed."""
    return [as_plain(x) for x in leaves]


def to_output(x):
    """Results outside transformations are ``xform.Array``s (numpy arrays with JAX's
    ``.at``; see docs/arrays.md), numpy scalars for 0-d."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, np.ndarray):
        # 0-d results are numpy scalars, whichever path computed them (jit's kernels
        # return scalars; eager rules such as numpy.where give 0-d arrays)
        if x.ndim == 0:
            return x[()]
        return x.view(Array) if type(x) is np.ndarray else x
    if isinstance(x, np.generic):
        return x
    if isinstance(x, (bool, int, float, complex)):
        return np.asarray(x)[()]
    return x


def normalize_argnums(argnums, nargs: int, where: str) -> tuple[tuple[int, ...], bool]:
    """Returns (argnums as a tuple of non-negative ints, whether a single int was given)."""
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    if single:
        nums = (int(argnums),)
    elif isinstance(argnums, (tuple, list)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in argnums):
        nums = tuple(int(a) for a in argnums)
    else:
        raise TypeError(
            f"{where}: argnums must be an int or a tuple of ints (positions of the arguments "
            f"to differentiate), got {argnums!r} of type {type(argnums).__name__}.")
    if not nums:
        raise ValueError(f"{where}: argnums is empty; name at least one argument to "
                         f"differentiate.")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{where}: argnums={argnums!r} is out of range for a function called with "
                f"{nargs} positional argument{'s' if nargs != 1 else ''}."
            )
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise ValueError(f"{where}: argnums={argnums!r} names an argument twice; list each "
                         f"argument to differentiate once.")
    return tuple(out), single


def fun_name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)
