"""xform.scipy.signal: JAX's ``jax.scipy.signal`` convolutions: ``convolve``,
``correlate``, ``fftconvolve``, ``convolve2d``, ``correlate2d``, and ``detrend``.

Two methods, as scipy's: 'direct' (``lax.conv_general_dilated``: exact sums of products)
and 'fft' (products of ``xform.numpy.fft`` transforms: O(n log n), rounding of the
order of ``eps * sum|terms|``); ``method='auto'`` picks by scipy's operation-count
model (``_fft_is_faster``). Both differentiate (the FFT path through the transforms'
own derivatives), vmap and jit.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import math

from .. import lax
from .. import numpy as xnp
from ..numpy import fft as xfft
from ..numpy._promote import concrete_or_none

__all__ = ["convolve", "correlate", "fftconvolve", "convolve2d", "correlate2d", "detrend"]

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


def _is_int(*xs) -> bool:
    return any(xnp.asarray(x).dtype.kind in "biu" for x in xs)


def _fft_is_faster(s1: tuple, s2: tuple, mode: str) -> bool:
    """scipy's choice (``scipy.signal._signaltools._fftconv_faster``): the FFT method
    when its modelled time, from operation counts with constants fitted by scipy's
    authors, is below the direct method's."""
    full = [a + b - 1 for a, b in zip(s1, s2)]
    if mode == "full":
        out = full
    elif mode == "valid":
        out = [abs(a - b) + 1 for a, b in zip(s1, s2)]
    else:
        out = list(s1)
    p1, p2, pout = math.prod(s1), math.prod(s2), math.prod(out)
    if len(s1) == 1:
        a, b = s1[0], s2[0]
        direct = {"full": a * b,
                  "valid": (b - a + 1) * a if b >= a else (a - b + 1) * b,
                  "same": a * b if a < b else a * b - (b // 2) * ((b + 1) // 2)}[mode]
        offset = -1e-3
        constants = {"valid": (1.89095737e-9, 2.1364985e-10, offset),
                     "full": (1.7649070e-9, 2.1414831e-10, offset),
                     "same": (3.2646654e-9, 2.8478277e-10, offset) if p2 <= p1
                     else (3.21635404e-9, 1.1773253e-8, -1e-5)}
    else:
        direct = p1 * p2 if mode == "same" else min(p1, p2) * pout
        offset = -1e-4
        constants = {"valid": (1.85927e-9, 2.11242e-8, offset),
                     "full": (1.99817e-9, 1.66174e-8, offset),
                     "same": (2.04735e-9, 1.55367e-8, offset)}
    n = math.prod(full)
    fft_ops = 3 * n * math.log(n)
    c_fft, c_direct, c_offset = constants[mode]
    return c_fft * fft_ops < c_direct * direct + c_offset


def _choose_method(method: str, in1, in2, mode: str, int_inputs: bool) -> str:
    if method != "auto":
        return method
    if int_inputs:
        # scipy keeps integer convolutions exact (direct) unless the products are known
        # to fit a float64 mantissa; traced values are not known
        c1, c2 = concrete_or_none(in1), concrete_or_none(in2)
        if c1 is None or c2 is None:
            return "direct"
        bound = float(np.max(np.abs(c1))) * float(np.max(np.abs(c2))) * min(c1.size, c2.size)
        if bound > 2.0 ** 52 - 1:
            return "direct"
    return "fft" if _fft_is_faster(tuple(in1.shape), tuple(in2.shape), mode) else "direct"


def _fft_full(in1, in2, axes):
    """The full linear convolution of ``in1`` and ``in2`` over ``axes`` by FFTs (the
    other axes broadcast), real or complex as the inputs."""
    shape = [in1.shape[a] + in2.shape[a] - 1 for a in axes]
    if in1.dtype.kind == "c" or in2.dtype.kind == "c":
        out = xfft.ifftn(xfft.fftn(in1, s=shape, axes=axes) * xfft.fftn(in2, s=shape, axes=axes),
                         s=shape, axes=axes)
    else:
        out = xfft.irfftn(xfft.rfftn(in1, s=shape, axes=axes) * xfft.rfftn(in2, s=shape, axes=axes),
                          s=shape, axes=axes)
    return xnp.asarray(out, dtype=xnp.result_type(in1, in2))


def _crop(full, s1, s2, mode, axes):
    """The ``mode`` window of a full convolution (scipy's: 'same' is centred on
    ``in1``'s size, starting at ``(s2 - 1) // 2``)."""
    idx = [slice(None)] * full.ndim
    for a in axes:
        n1, n2 = s1[a], s2[a]
        if mode == "full":
            continue
        if mode == "same":
            start, length = (n2 - 1) // 2, n1
        else:
            start, length = n2 - 1, n1 - n2 + 1
        idx[a] = slice(start, start + length)
    return full[tuple(idx)]


def _convolve_nd(name, in1, in2, mode, method="direct"):
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
    if method == "fft":
        axes = tuple(range(in1.ndim))
        return _crop(_fft_full(in1, in2, axes), in1.shape, in2.shape, mode, axes)
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
    "same" (the size of ``in1``, centred as scipy) or "valid". ``method``: 'direct'
    (exact sums of products), 'fft' (FFT products) or 'auto' (scipy's choice by size;
    integer inputs stay direct unless their products provably fit a float64
    mantissa). Integer inputs give float64 results.

    >>> import numpy as np
    >>> from xform.scipy.signal import convolve
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
    array([1. , 2.5, 4. ])
    """
    ints = _is_int(in1, in2)
    in1, in2 = _check("convolve", in1, in2, mode, method)
    return _convolve_nd("convolve", in1, in2, mode, _choose_method(method, in1, in2, mode, ints))


def correlate(in1: Array, in2: Array, mode: str = "full", method: str = "auto", precision=None):
    """N-d cross-correlation of ``in1`` and ``in2`` (scipy.signal.correlate): the
    convolution of ``in1`` with ``in2`` flipped (and conjugated); ``method`` as in
    ``convolve``.

    >>> import numpy as np
    >>> from xform.scipy.signal import correlate
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    ints = _is_int(in1, in2)
    in1, in2 = _check("correlate", in1, in2, mode, method)
    if in1.ndim == 0:
        return in1 * xnp.conj(in2)
    return _convolve_nd("correlate", in1, xnp.flip(xnp.conj(in2)), mode,
                        _choose_method(method, in1, in2, mode, ints))


def fftconvolve(in1: Array, in2: Array, mode: str = "full", axes=None):
    """Convolution by FFTs (scipy.signal.fftconvolve), over all axes or ``axes`` (the
    other axes broadcast against each other, as scipy's).

    >>> import numpy as np
    >>> from xform.scipy.signal import fftconvolve
    >>> fftconvolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])).round(12) + 0.0
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> fftconvolve(np.ones((2, 4)), np.ones((2, 2)), mode="valid", axes=1)
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """
    if mode not in _MODES:
        raise ValueError(f"xform.scipy.signal.fftconvolve: mode must be one of {_MODES}, got "
                         f"{mode!r}.")
    a, b = xnp.asarray(in1), xnp.asarray(in2)
    if a.ndim != b.ndim:
        raise ValueError(f"xform.scipy.signal.fftconvolve: in1 and in2 must have the same number "
                         f"of dimensions; got shapes {a.shape} and {b.shape}.")
    if a.ndim == 0:
        return a * b
    if a.size == 0 or b.size == 0:
        return xnp.zeros((0,) * a.ndim, xnp.result_type(a, b, 1.0))
    dt = xnp.result_type(a, b)
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)
    a, b = xnp.asarray(a, dtype=dt), xnp.asarray(b, dtype=dt)
    axes = tuple(range(a.ndim)) if axes is None else tuple(
        sorted(x % a.ndim for x in ((axes,) if isinstance(axes, int) else axes)))
    for d in range(a.ndim):
        if d not in axes and a.shape[d] != b.shape[d] and 1 not in (a.shape[d], b.shape[d]):
            raise ValueError(f"xform.scipy.signal.fftconvolve: axis {d} is not convolved, so its "
                             f"sizes must match or be 1; got shapes {a.shape} and {b.shape}.")
    if mode == "valid":
        no_swap = all(a.shape[d] >= b.shape[d] for d in axes)
        swap = all(a.shape[d] <= b.shape[d] for d in axes)
        if not (no_swap or swap):
            raise ValueError(f"xform.scipy.signal.fftconvolve: in 'valid' mode one input must be "
                             f"at least as large as the other in every convolved dimension; got "
                             f"shapes {a.shape} and {b.shape}.")
        if swap and not no_swap:
            a, b = b, a
    return _crop(_fft_full(a, b, axes), a.shape, b.shape, mode, axes)


def _check_2d(name, in1, in2, boundary, fillvalue):
    a, b = xnp.asarray(in1), xnp.asarray(in2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"xform.scipy.signal.{name}: expected 2-d inputs, got shapes {a.shape} "
                         f"and {b.shape}.")
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError(f"xform.scipy.signal.{name}: only boundary='fill' with "
                                  f"fillvalue=0 is supported (as in JAX).")
    return a, b


def convolve2d(in1: Array, in2: Array, mode: str = "full", boundary: str = "fill",
               fillvalue: float = 0, precision=None):
    """2-d convolution (scipy.signal.convolve2d with zero fill), computed directly.

    >>> import numpy as np
    >>> from xform.scipy.signal import convolve2d
    >>> convolve2d(np.eye(2), np.ones((2, 2)))
    array([[1., 1., 0.],
           [1., 2., 1.],
           [0., 1., 1.]])
    """
    a, b = _check_2d("convolve2d", in1, in2, boundary, fillvalue)
    return convolve(a, b, mode, method="direct")


def correlate2d(in1: Array, in2: Array, mode: str = "full", boundary: str = "fill",
                fillvalue: float = 0, precision=None):
    """2-d cross-correlation (scipy.signal.correlate2d with zero fill).

    >>> import numpy as np
    >>> from xform.scipy.signal import correlate2d
    >>> correlate2d(np.eye(2), np.array([[1.0, 2.0]]), mode="same")
    array([[1., 0.],
           [2., 1.]])
    """
    a, b = _check_2d("correlate2d", in1, in2, boundary, fillvalue)
    if mode != "same":
        return correlate(a, b, mode, method="direct")
    # scipy's correlate2d centres 'same' at k // 2 of the full result (correlate's at
    # (k - 1) // 2 of the flipped kernel's: they differ for even kernel sizes)
    full = correlate(a, b, "full", method="direct")
    (m0, m1), (k0, k1) = a.shape, b.shape
    return full[k0 // 2:k0 // 2 + m0, k1 // 2:k1 // 2 + m1]


def detrend(data: Array, axis: int = -1, type: str = "linear", bp=0,  # noqa: A002
            overwrite_data=None):
    """``data`` minus its mean (``type='constant'``) or its least-squares line along
    ``axis`` (``'linear'``; with breakpoints ``bp`` a line per segment), as
    scipy.signal.detrend.

    >>> import numpy as np
    >>> from xform.scipy.signal import detrend
    >>> detrend(np.array([1.0, 2.0, 4.0])).round(12)
    array([ 0.16666667, -0.33333333,  0.16666667])
    """
    if type not in ("linear", "l", "constant", "c"):
        raise ValueError(f"xform.scipy.signal.detrend: type must be 'linear' or 'constant', got "
                         f"{type!r}.")
    x = xnp.asarray(data)
    if x.dtype.kind not in "fc":
        x = xnp.asarray(x, dtype=np.float64)
    if type in ("constant", "c"):
        return x - xnp.mean(x, axis=axis, keepdims=True)
    axis = axis % x.ndim
    n = x.shape[axis]
    bps = np.unique(np.r_[0, np.atleast_1d(np.asarray(bp, dtype=np.int64)), n])
    if bps.min() < 0 or bps.max() > n:
        raise ValueError("xform.scipy.signal.detrend: breakpoints must be within the data length.")
    y = xnp.moveaxis(x, axis, 0)
    flat = xnp.reshape(y, (n, -1))
    pieces = []
    for lo, hi in zip(bps[:-1], bps[1:]):
        seg = flat[lo:hi]
        m = hi - lo
        t = np.arange(1, m + 1, dtype=np.float64) / m
        design = np.stack([t, np.ones(m)], axis=1)
        # least squares by the normal equations' pseudo-inverse, a constant matrix
        coef = np.linalg.pinv(design) @ np.eye(m)
        pieces.append(seg - design @ (coef @ seg))
    out = xnp.concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]
    return xnp.moveaxis(xnp.reshape(out, y.shape), 0, axis)
