"""The ``fft`` primitive (JAX's ``lax.fft``): complex FFT, inverse FFT, real FFT and
inverse real FFT over the trailing ``len(fft_lengths)`` axes.

Values come from ``numpy.fft`` (pocketfft): a well-kept implementation; jit runs the
same function from the kernel (``backend/numba/fft.py``). All four transforms are
linear, so the JVP applies the transform to the tangent. Transposes (JAX's formulas):
the DFT matrix is symmetric, so FFT and IFFT are their own transposes; the transpose of
RFFT zero-pads the cotangent to the full length, applies FFT and keeps the real part
(the transpose of a real-to-complex embedding); the transpose of IRFFT is RFFT with the
Hermitian-fold weights (1 for the DC and Nyquist bins, 2 for the others), scaled by 1/N
and conjugated (xform's complex convention, as JAX's).
"""
from __future__ import annotations

import enum
import math

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.jvp import deflinear
from ..interpreters.transpose import is_undefined
from .structural import moveaxis, shape_of

__all__ = ["fft", "FftType"]


class FftType(enum.IntEnum):
    """The transform: FFT and IFFT (complex to complex), RFFT (real to complex, the
    non-negative frequencies) and IRFFT (complex Hermitian half-spectrum to real)."""

    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3


_COMPLEX_OF: dict[np.dtype, np.dtype] = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}
_REAL_OF: dict[np.dtype, np.dtype] = {v: k for k, v in _COMPLEX_OF.items()}

fft_p = Primitive("fft")


def _axes(ndim: int, k: int) -> tuple:
    return tuple(range(ndim - k, ndim))


def _out_dtype(dt: np.dtype, fft_type: FftType) -> np.dtype:
    if fft_type == FftType.RFFT:
        return _COMPLEX_OF[dt]
    if fft_type == FftType.IRFFT:
        return _REAL_OF[dt]
    return dt


def _fft_impl(x, *, fft_type, fft_lengths):
    x = np.asarray(x)
    # numpy.fft pads or crops to ``s``: check the shape contract first (cheap)
    _fft_abstract(ShapedArray(x.shape, x.dtype), fft_type=fft_type, fft_lengths=fft_lengths)
    dt = _out_dtype(x.dtype, fft_type)
    axes = _axes(x.ndim, len(fft_lengths))
    if fft_type == FftType.FFT:
        r = np.fft.fftn(x, s=fft_lengths, axes=axes)
    elif fft_type == FftType.IFFT:
        r = np.fft.ifftn(x, s=fft_lengths, axes=axes)
    elif fft_type == FftType.RFFT:
        r = np.fft.rfftn(x, s=fft_lengths, axes=axes)
    else:
        r = np.fft.irfftn(x, s=fft_lengths, axes=axes)
    return np.asarray(r, dtype=dt)


def _fft_abstract(x, *, fft_type, fft_lengths):
    k = len(fft_lengths)
    dt = np.dtype(x.dtype)
    if not 1 <= k <= 3:
        raise ValueError(f"fft: fft_lengths must have 1 to 3 entries, got {fft_lengths}.")
    if x.ndim < k:
        raise ValueError(f"fft: operand of shape {x.shape} has fewer than {k} dimensions.")
    tail = tuple(x.shape[x.ndim - k:])
    if fft_type in (FftType.FFT, FftType.IFFT):
        if dt.kind != "c":
            raise TypeError(f"fft: {fft_type.name} needs a complex64/complex128 operand, got "
                            f"{dt}.")
        if tail != tuple(fft_lengths):
            raise ValueError(f"fft: the trailing dimensions {tail} must equal fft_lengths "
                             f"{fft_lengths}.")
        out = x.shape
    elif fft_type == FftType.RFFT:
        if dt not in _COMPLEX_OF:
            raise TypeError(f"fft: RFFT needs a float32/float64 operand, got {dt}.")
        if tail != tuple(fft_lengths):
            raise ValueError(f"fft: the trailing dimensions {tail} must equal fft_lengths "
                             f"{fft_lengths}.")
        out = x.shape[:-1] + (fft_lengths[-1] // 2 + 1,)
    else:
        if dt.kind != "c":
            raise TypeError(f"fft: IRFFT needs a complex64/complex128 operand, got {dt}.")
        want = tuple(fft_lengths[:-1]) + (fft_lengths[-1] // 2 + 1,)
        if tail != want:
            raise ValueError(f"fft: IRFFT of lengths {fft_lengths} needs trailing dimensions "
                             f"{want}, got {tail}.")
        out = x.shape[:-1] + (fft_lengths[-1],)
    return ShapedArray(tuple(out), _out_dtype(dt, fft_type))


def _rfft_transpose(ct, fft_lengths):
    from .elementwise import real
    from .structural import pad
    n = fft_lengths[-1]
    cshape = shape_of(ct)
    cfg = [(0, 0, 0)] * (len(cshape) - 1) + [(0, n - cshape[-1], 0)]
    full = pad(ct, np.zeros((), get_aval(ct).dtype), cfg)
    return real(fft(full, FftType.FFT, fft_lengths))


def _irfft_transpose(ct, fft_lengths):
    from .elementwise import conj, mul
    x = fft(ct, FftType.RFFT, fft_lengths)
    m = shape_of(x)[-1]
    odd = fft_lengths[-1] % 2
    w = np.concatenate([np.ones(1), np.full(m - 2 + odd, 2.0), np.ones(1 - odd)])
    w = (w / math.prod(fft_lengths)).astype(get_aval(x).dtype)
    return conj(mul(x, w))


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    assert is_undefined(x)
    from ..interpreters.jvp import Zero
    if type(ct) is Zero:
        return [Zero(x.aval)]
    if fft_type == FftType.RFFT:
        out = _rfft_transpose(ct, fft_lengths)
    elif fft_type == FftType.IRFFT:
        out = _irfft_transpose(ct, fft_lengths)
    else:
        out = fft(ct, fft_type, fft_lengths)
    return [out]


def _fft_batch(vals, dims, *, fft_type, fft_lengths):
    (x,), (d,) = vals, dims
    if d is None:
        return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths), None
    nd = len(shape_of(x))
    if d >= nd - len(fft_lengths):  # keep the transformed axes last
        x = moveaxis(x, d, 0)
        d = 0
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths), d


fft_p.impl = _fft_impl
fft_p.abstract_eval = _fft_abstract
deflinear(fft_p, _fft_transpose)
fft_p.batch = _fft_batch


def fft(x, fft_type, fft_lengths):
    """The FFT of type ``fft_type`` (``FftType`` or its name, e.g. ``"RFFT"``) over the
    trailing ``len(fft_lengths)`` axes (JAX's ``lax.fft``). Unnormalized forward
    transforms; IFFT/IRFFT include the ``1/N`` factor.

    >>> import numpy as np, xform.lax as lax
    >>> lax.fft(np.array([1.0, 2.0, 3.0, 4.0]), "RFFT", (4,))
    array([10.+0.j, -2.+2.j, -2.+0.j])
    """
    if isinstance(fft_type, str):
        try:
            fft_type = FftType[fft_type.upper()]
        except KeyError:
            raise ValueError(f"fft: fft_type must be one of FFT, IFFT, RFFT, IRFFT, got "
                             f"{fft_type!r}.") from None
    fft_type = FftType(fft_type)
    fft_lengths = tuple(int(n) for n in np.atleast_1d(fft_lengths))
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths)
