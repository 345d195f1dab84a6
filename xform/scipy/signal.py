"""xform.scipy.signal: JAX's ``jax.scipy.signal`` convolve/correlate (N-d, on
``lax.conv_general_dilated``, so they differentiate, vmap and jit like any lax op)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import lax
from .. import numpy as xnp

__all__ = ["convolve", "correlate"]

Array = Any
_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")


def _check(name, in1, in2, mode, method):
    if mode not in _MODES:
        raise ValueError(f"xform.scipy.signal.{name}: mode must be one of {_MODES}, got {mode!r}.")
    if method not in _METHODS:
        raise ValueError(f"xform.scipy.signal.{name}: method must be one of {_METHODS}, got "
                         f"{method!r}.")
    in1, in2 = xnp.asarray(in1), xnp.asarray(in2)
    if in1.ndim != in2.ndim:
        raise ValueError(f"xform.scipy.signal.{name}: in1 and in2 must have the same number of "
                         f"dimensions; got shapes {in1.shape} and {in2.shape}.")
    if in1.size == 0 or in2.size == 0:
        raise ValueError(f"xform.scipy.signal.{name}: empty input (shapes {in1.shape} and "
                         f"{in2.shape}).")
    dt = xnp.result_type(in1, in2)
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)  # integer convolutions are computed (and returned) in float64
    return xnp.asarray(in1, dtype=dt), xnp.asarray(in2, dtype=dt)


def _convolve_nd(name, in1, in2, mode):
    if in1.ndim == 0:
        return in1 * in2
    if mode == "valid":
        no_swap = all(s1 >= s2 for s1, s2 in zip(in1.shape, in2.shape))
        swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
        if not (no_swap or swap):
            raise ValueError(f"xform.scipy.signal.{name}: in 'valid' mode one input must be at least "
                             f"as large as the other in every dimension; got shapes {in1.shape} "
                             f"and {in2.shape}.")
        if swap and not no_swap:  # convolution commutes; the larger one is the input
            in1, in2 = in2, in1
    k = in2.shape
    if mode == "valid":
        padding = [(0, 0)] * len(k)
    elif mode == "full":
        padding = [(s - 1, s - 1) for s in k]
    else:  # the centre of the full result, scipy's offset (k - 1) // 2
        padding = [(s - 1 - (s - 1) // 2, (s - 1) // 2) for s in k]
    # conv_general_dilated correlates: convolving is correlating with the flipped kernel
    flipped = xnp.flip(in2)
    out = lax.conv_general_dilated(in1[None, None], flipped[None, None], (1,) * len(k), padding)
    return out[0, 0]


def convolve(in1: Array, in2: Array, mode: str = "full", method: str = "auto", precision=None):
    """N-d convolution of ``in1`` and ``in2`` (scipy.signal.convolve), ``mode`` "full",
    "same" (the size of ``in1``, centred as scipy) or "valid". ``method`` is accepted for
    compatibility; every method computes the direct sum (exact products, no FFT
    rounding). Integer inputs give float64 results.

    >>> import numpy as np
    >>> from xform.scipy.signal import convolve
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
    array([1. , 2.5, 4. ])
    """
    in1, in2 = _check("convolve", in1, in2, mode, method)
    return _convolve_nd("convolve", in1, in2, mode)


def correlate(in1: Array, in2: Array, mode: str = "full", method: str = "auto", precision=None):
    """N-d cross-correlation of ``in1`` and ``in2`` (scipy.signal.correlate): the
    convolution of ``in1`` with ``in2`` flipped (and conjugated).

    >>> import numpy as np
    >>> from xform.scipy.signal import correlate
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    in1, in2 = _check("correlate", in1, in2, mode, method)
    if in1.ndim == 0:
        return in1 * xnp.conj(in2)
    return _convolve_nd("correlate", in1, xnp.flip(xnp.conj(in2)), mode)
