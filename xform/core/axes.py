"""Axis arguments: the one normaliser every layer uses (lax, numpy, vmap)."""
from __future__ import annotations

import operator

import numpy as np


def normalize_axis(axis, ndim: int, where: str, *, what: str = "an array",
                   scalar_ok: bool = False) -> int:
    """``axis`` as an int in ``range(ndim)`` (negative axes count from the end).

    A non-integer is a TypeError; an axis out of bounds is numpy's ``AxisError`` (a
    ValueError and an IndexError), naming ``where`` and ``what`` has ``ndim`` dims.
    ``scalar_ok`` accepts axis 0 or -1 of a 0-d value (as ``expand_dims`` of a scalar).
    """
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{where}: axis must be an integer, got {axis!r}") from None
    if scalar_ok and ndim == 0 and a in (0, -1):
        return 0
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(
            f"{where}: axis {a} is out of bounds for {what} of rank {ndim}")
    return a % ndim


def normalize_axes(axes, ndim: int, where: str) -> tuple[int, ...]:
    """Sorted, distinct, non-negative axes from None (all axes), an int or a sequence."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (tuple, list)):
        out = [normalize_axis(a, ndim, where) for a in axes]
        if len(set(out)) != len(out):
            raise ValueError(f"{where}: duplicate value in 'axis' {tuple(axes)}: an axis is repeated")
        return tuple(sorted(out))
    return (normalize_axis(axes, ndim, where),)
