"""The few array operations that the transformations need and ``xform.lax`` defines.

The interpreters (jvp, transpose, batching, the jaxpr transforms) sit below ``lax`` in
the layers, so they cannot import it; ``xform/lax/__init__.py`` installs lax's
implementations here when it is imported (``import xform`` always imports lax).

- ``add_any_p``: the primitive that sums two tangents/cotangents of one type;
- ``full(shape, value, dtype)``: a constant array (materialized zero tangents);
- ``broadcast_in_dim(x, shape, dims)``: add a batch axis by broadcasting;
- ``moveaxis(x, src, dst)``: move a batch axis.
"""
from __future__ import annotations

add_any_p = None
full = None
broadcast_in_dim = None
moveaxis = None

_NAMES = ("add_any_p", "full", "broadcast_in_dim", "moveaxis")


def install(**ops) -> None:
    """Set the hooks (called once by ``xform.lax``)."""
    unknown = set(ops) - set(_NAMES)
    if unknown:
        raise TypeError(f"core.hooks.install: unknown hooks {sorted(unknown)}")
    globals().update(ops)
