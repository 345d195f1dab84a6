"""xform.numpy.fft: numpy.fft's functions on the ``lax.fft`` primitive (differentiable,
batchable, jit-able), with numpy's ``n``/``s`` (crop or zero-pad), ``axis``/``axes`` and
``norm`` ('backward', 'ortho', 'forward') semantics. Real inputs of complex transforms
are promoted (float32 -> complex64, others -> complex128), as numpy 2 / JAX do.
"""
from __future__ import annotations

import math

import numpy as np

from .. import lax
from ._creation import asarray
from ._manipulation import concatenate, moveaxis, roll
from ._promote import array_arg, is_tracer, ndim, shape
from ._ufuncs import conj

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "fftn", "ifftn", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = (None, "backward", "ortho", "forward")


def _dt(x):
    return np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)


def _complex(x):
    dt = _dt(x)
    if dt.kind == "c":
        return x
    return asarray(x, dtype=np.complex64 if dt == np.float32 else np.complex128)


def _real(x):
    dt = _dt(x)
    if dt.kind == "c":
        raise TypeError(f"xform.numpy.fft: a real transform needs a real input, got {dt}.")
    return asarray(x, dtype=np.float32 if dt == np.float32 else np.float64)


def _fit(x, axis: int, n: int):
    """Crop or zero-pad ``x`` along ``axis`` to length ``n`` (numpy's ``n``/``s``)."""
    if n < 1:
        raise ValueError(f"xform.numpy.fft: invalid number of data points ({n}) specified.")
    m = shape(x)[axis]
    if m == n:
        return x
    if m > n:
        idx = [slice(None)] * ndim(x)
        idx[axis] = slice(0, n)
        return x[tuple(idx)]
    pad_shape = list(shape(x))
    pad_shape[axis] = n - m
    return concatenate([x, asarray(np.zeros(pad_shape), dtype=_dt(x))], axis=axis)


def _scale(y, n: int, norm, inverse: bool):
    if norm not in _NORMS:
        raise ValueError(f"xform.numpy.fft: norm must be one of 'backward', 'ortho', 'forward', "
                         f"got {norm!r}.")
    if norm in (None, "backward"):
        return y
    rdt = np.float32 if _dt(y) in (np.float32, np.complex64) else np.float64
    if norm == "ortho":
        f = math.sqrt(n) if inverse else 1 / math.sqrt(n)
    else:  # forward: the 1/n moves to the forward transform
        f = n if inverse else 1 / n
    return y * np.asarray(f, rdt)


def _axes_and_sizes(a, s, axes, where_):
    nd = ndim(a)
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    axes = tuple(int(ax) % nd for ax in axes) if nd else tuple(axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{where_}: repeated axes {axes} are not supported.")
    if s is not None and len(s) != len(axes):
        raise ValueError(f"{where_}: s and axes must have the same length, got {s} and {axes}.")
    return axes, s


def _cn(a, s, axes, norm, inverse: bool, where_):
    a = _complex(array_arg(a, where_))
    axes, s = _axes_and_sizes(a, s, axes, where_)
    if not axes:
        return a
    if s is not None:
        for ax, n in zip(axes, s):
            a = _fit(a, ax, int(n))
    k = len(axes)
    x = moveaxis(a, axes, tuple(range(ndim(a) - k, ndim(a))))
    # lax.fft transforms at most 3 axes at once: chain groups of up to 3
    groups = [list(range(ndim(x) - k, ndim(x)))[i:i + 3] for i in range(0, k, 3)]
    for g in groups[::-1]:
        xg = moveaxis(x, g, tuple(range(ndim(x) - len(g), ndim(x))))
        lens = shape(xg)[ndim(xg) - len(g):]
        xg = lax.fft(xg, "IFFT" if inverse else "FFT", lens)
        x = moveaxis(xg, tuple(range(ndim(x) - len(g), ndim(x))), g)
    n = math.prod(shape(a)[ax] for ax in axes)
    y = moveaxis(x, tuple(range(ndim(a) - k, ndim(a))), axes)
    return _scale(y, n, norm, inverse)


def fft(a, n: int | None = None, axis: int = -1, norm: str | None = None, out=None):
    """One-dimensional discrete Fourier transform along ``axis``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.fft(np.array([1.0, 2.0, 3.0, 4.0]))
    array([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    """
    return _cn(a, None if n is None else (n,), (axis,), norm, False, "fft")


def ifft(a, n: int | None = None, axis: int = -1, norm: str | None = None, out=None):
    """One-dimensional inverse discrete Fourier transform along ``axis``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.ifft(np.array([10.0, -2 + 2j, -2, -2 - 2j]))
    array([1.+0.j, 2.+0.j, 3.+0.j, 4.+0.j])
    """
    return _cn(a, None if n is None else (n,), (axis,), norm, True, "ifft")


def fftn(a, s=None, axes=None, norm: str | None = None, out=None):
    """N-dimensional discrete Fourier transform over ``axes`` (default: all, or the last
    ``len(s)``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.fftn(np.ones((2, 2)))
    array([[4.+0.j, 0.+0.j],
           [0.+0.j, 0.+0.j]])
    """
    return _cn(a, s, axes, norm, False, "fftn")


def ifftn(a, s=None, axes=None, norm: str | None = None, out=None):
    """N-dimensional inverse discrete Fourier transform.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.ifftn(np.array([[4.0, 0], [0, 0]]))
    array([[1.+0.j, 1.+0.j],
           [1.+0.j, 1.+0.j]])
    """
    return _cn(a, s, axes, norm, True, "ifftn")


def fft2(a, s=None, axes=(-2, -1), norm: str | None = None, out=None):
    """Two-dimensional discrete Fourier transform (``fftn`` over ``axes``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.fft2(np.eye(2)).real
    array([[2., 0.],
           [0., 2.]])
    """
    return _cn(a, s, axes, norm, False, "fft2")


def ifft2(a, s=None, axes=(-2, -1), norm: str | None = None, out=None):
    """Two-dimensional inverse discrete Fourier transform.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.ifft2(np.array([[2.0, 0], [0, 2]])).real
    array([[1., 0.],
           [0., 1.]])
    """
    return _cn(a, s, axes, norm, True, "ifft2")


def _rn(a, s, axes, norm, where_):
    a = _real(array_arg(a, where_))
    axes, s = _axes_and_sizes(a, s, axes, where_)
    if not axes:
        raise ValueError(f"{where_}: at least one axis is needed.")
    if s is not None:
        for ax, n in zip(axes, s):
            a = _fit(a, ax, int(n))
    last = axes[-1]
    x = moveaxis(a, last, -1)
    x = lax.fft(x, "RFFT", (shape(x)[-1],))
    y = moveaxis(x, -1, last)
    n = shape(a)[last]
    y = _scale(y, n, norm, False)
    if len(axes) > 1:
        y = _cn(y, None, axes[:-1], norm, False, where_)
    return y


def _irn(a, s, axes, norm, where_):
    a = _complex(array_arg(a, where_))
    axes, s = _axes_and_sizes(a, s, axes, where_)
    if not axes:
        raise ValueError(f"{where_}: at least one axis is needed.")
    last = axes[-1]
    n_last = 2 * (shape(a)[last] - 1) if s is None else int(s[-1])
    if len(axes) > 1:
        a = _cn(a, None if s is None else tuple(s[:-1]), axes[:-1], norm, True, where_)
    a = _fit(a, last, n_last // 2 + 1)
    x = moveaxis(a, last, -1)
    x = lax.fft(x, "IRFFT", (n_last,))
    y = moveaxis(x, -1, last)
    return _scale(y, n_last, norm, True)


def rfft(a, n: int | None = None, axis: int = -1, norm: str | None = None, out=None):
    """Discrete Fourier transform of real input: the ``n // 2 + 1`` non-negative
    frequency terms.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.rfft(np.array([1.0, 2.0, 3.0, 4.0]))
    array([10.+0.j, -2.+2.j, -2.+0.j])
    """
    return _rn(a, None if n is None else (n,), (axis,), norm, "rfft")


def irfft(a, n: int | None = None, axis: int = -1, norm: str | None = None, out=None):
    """Inverse of ``rfft``: ``n`` (default ``2 (m - 1)``) real samples.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.irfft(np.array([10.0, -2 + 2j, -2]))
    array([1., 2., 3., 4.])
    """
    return _irn(a, None if n is None else (n,), (axis,), norm, "irfft")


def rfftn(a, s=None, axes=None, norm: str | None = None, out=None):
    """N-dimensional discrete Fourier transform of real input (half spectrum on the last
    axis).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.rfftn(np.ones((2, 4))).shape
    (2, 3)
    """
    return _rn(a, s, axes, norm, "rfftn")


def irfftn(a, s=None, axes=None, norm: str | None = None, out=None):
    """Inverse of ``rfftn``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.irfftn(np.array([[8.0, 0, 0], [0, 0, 0]]))
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]])
    """
    return _irn(a, s, axes, norm, "irfftn")


def rfft2(a, s=None, axes=(-2, -1), norm: str | None = None, out=None):
    """Two-dimensional ``rfftn``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.rfft2(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    return _rn(a, s, axes, norm, "rfft2")


def irfft2(a, s=None, axes=(-2, -1), norm: str | None = None, out=None):
    """Two-dimensional ``irfftn``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.irfft2(np.array([[4.0, 0], [0, 0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    return _irn(a, s, axes, norm, "irfft2")


_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def hfft(a, n: int | None = None, axis: int = -1, norm: str | None = None, out=None):
    """FFT of a signal with Hermitian symmetry given by its half spectrum (real result).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.hfft(np.array([1.0, 2.0, 3.0]))
    array([ 8., -2.,  0., -2.])
    """
    if norm not in _NORMS:
        raise ValueError(f"hfft: invalid norm {norm!r}.")
    return irfft(conj(_complex(array_arg(a, "hfft"))), n, axis, _SWAP[norm])


def ihfft(a, n: int | None = None, axis: int = -1, norm: str | None = None, out=None):
    """Inverse of ``hfft``: the half spectrum of a real signal's inverse FFT.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.fft.ihfft(np.array([9.0, -3.0, 1.0, -3.0]))
    array([1.-0.j, 2.-0.j, 4.-0.j])
    """
    if norm not in _NORMS:
        raise ValueError(f"ihfft: invalid norm {norm!r}.")
    return conj(rfft(a, n, axis, _SWAP[norm]))


def fftfreq(n: int, d: float = 1.0, *, dtype=None, device=None):
    """Sample frequencies of ``fft`` (cycles per unit of the spacing ``d``).

    >>> import xform.numpy as xnp
    >>> xnp.fft.fftfreq(4)
    array([ 0.  ,  0.25, -0.5 , -0.25])
    """
    r = np.fft.fftfreq(int(n), 1.0) / d if not is_tracer(d) else np.fft.fftfreq(int(n)) / d
    return r if dtype is None else asarray(r, dtype=dtype)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, device=None):
    """Sample frequencies of ``rfft``.

    >>> import xform.numpy as xnp
    >>> xnp.fft.rfftfreq(4)
    array([0.  , 0.25, 0.5 ])
    """
    r = np.fft.rfftfreq(int(n), 1.0) / d
    return r if dtype is None else asarray(r, dtype=dtype)


def _shift(x, axes, sign, where_):
    x = array_arg(x, where_)
    nd = ndim(x)
    if axes is None:
        axes = tuple(range(nd))
    elif isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    shifts = tuple(sign * (shape(x)[ax] // 2) if sign > 0 else -(shape(x)[ax] // 2)
                   for ax in axes)
    return roll(x, shifts, axes) if axes else x


def fftshift(x, axes=None):
    """Move the zero-frequency term to the center.

    >>> import xform.numpy as xnp
    >>> xnp.fft.fftshift(xnp.fft.fftfreq(5))
    array([-0.4, -0.2,  0. ,  0.2,  0.4])
    """
    return _shift(x, axes, 1, "fftshift")


def ifftshift(x, axes=None):
    """Inverse of ``fftshift``.

    >>> import xform.numpy as xnp
    >>> xnp.fft.ifftshift(xnp.fft.fftshift(xnp.fft.fftfreq(5)))
    array([ 0. ,  0.2,  0.4, -0.4, -0.2])
    """
    return _shift(x, axes, -1, "ifftshift")
