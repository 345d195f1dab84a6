"""Shared argument handling of the distributions in xform.scipy.stats."""
from __future__ import annotations

import math

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


def log1mexp(t):
    """log(1 - exp(-t)) for t >= 0, accurate for small and large t (expm1 below log 2,
    log1p above: Maechler 2012)."""
    small = t < math.log(2.0)
    ts = xnp.where(small, t, 1.0)
    tl = xnp.where(small, 1.0, t)
    with np.errstate(divide="ignore"):
        return xnp.where(small, xnp.log(-xnp.expm1(-ts)), xnp.log1p(-xnp.exp(-tl)))


def log_of(p, complement):
    """log(p) given p and its complement 1 - p computed separately: ``log1p(-complement)``
    where p is near 1 (where log(p) would lose the complement's digits)."""
    big = p > 0.5
    with np.errstate(divide="ignore"):
        return xnp.where(big, xnp.log1p(-xnp.where(big, complement, 0.0)), xnp.log(p))
