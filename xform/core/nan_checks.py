"""``debug_nans`` / ``debug_infs`` (``xform.config.update("jax_debug_nans", True)``).

While one of them is on, ``Primitive.bind`` is replaced by ``checked_bind``, which looks
at every concrete (numpy) result and raises ``FloatingPointError`` at the first
operation that produces a NaN (or an infinity), naming the primitive and the user's
file and line. Traced results are not checked (they hold no values); their values are
checked where they are computed: eagerly, by each primitive of ``jvp``/``grad``/``vmap``,
and for ``jit`` by the ``jit`` primitive's impl, which re-runs a program whose compiled
results are bad op by op to find the operation (``xform/jit.py``). While both are off
the original ``bind`` is in place, so the checks cost nothing.
"""
from __future__ import annotations

import numpy as np

from .. import config
from .primitive import Primitive
from .trace import Tracer, _user_frame

_ORIGINAL_BIND = Primitive.bind


def bad_value(x) -> str | None:
    """``"nan"`` or ``"inf"`` if ``x`` is a concrete floating value with one (and the
    matching check is on), else None."""
    if isinstance(x, Tracer) or not isinstance(x, (float, complex, np.ndarray, np.inexact)):
        return None
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        return None
    if config.debug_nans and np.isnan(a).any():
        return "nan"
    if config.debug_infs and np.isinf(a).any():
        return "inf"
    return None


def checked_bind(self, *args, **params):
    out = _ORIGINAL_BIND(self, *args, **params)
    for o in (out if self.multiple_results else (out,)):
        kind = bad_value(o)
        if kind is not None:
            raise FloatingPointError(
                f"invalid value ({kind}) encountered in `{self.name}`, in {_user_frame()} "
                f"(xform.config.debug_{kind}s is on).")
    return out


def _sync(_name: str = "") -> None:
    Primitive.bind = checked_bind if (config.debug_nans or config.debug_infs) else _ORIGINAL_BIND


config._listeners.append(_sync)
