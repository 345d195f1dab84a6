"""Shared argument handling of the distributions in xform.scipy.stats."""
from __future__ import annotations

import numpy as np

from ... import numpy as xnp


def promote(name: str, *args):
    """The arguments as xform arrays of one floating dtype (numpy promotion; integers
    become float64). ``name`` (e.g. "norm.logpdf") names the function in errors."""
    for a in args:
        dt = getattr(a, "dtype", None)
        if dt is not None and np.dtype(dt).kind == "c":
            raise TypeError(f"xform.scipy.stats.{name}: complex input (dtype {dt}) is not "
                            "supported; pass real floating-point values.")
    dt = xnp.result_type(*args)
    if dt.kind != "f":
        dt = np.dtype(np.float64)
    return tuple(xnp.asarray(a, dtype=dt) for a in args)
