"""numpy's window functions: bartlett, blackman, hamming, hanning, kaiser. Their length
is static; ``kaiser``'s ``beta`` may be traced (and differentiated)."""
from __future__ import annotations

import numpy as np

from ._creation import arange, ones
from ._math_extra import i0
from ._ufuncs import abs as _abs, cos, sqrt

__all__ = ["bartlett", "blackman", "hamming", "hanning", "kaiser"]


def _n(M, where_):
    if not isinstance(M, (int, np.integer)):
        raise TypeError(f"{where_}: M must be a static integer, got {type(M).__name__}.")
    return int(M)


def _cosine_window(M, coefs, where_):
    M = _n(M, where_)
    if M < 1:
        return np.array([], dtype=np.float64)
    if M == 1:
        return ones(1)
    n = arange(1 - M, M, 2, dtype=np.float64)
    w = coefs[0] + 0 * n
    for k, c in enumerate(coefs[1:], start=1):
        w = w + c * cos(k * np.pi * n / (M - 1))
    return w


def hanning(M: int):
    """Hann window, ``0.5 + 0.5 cos(pi n / (M - 1))`` for ``n`` in ``1-M, 3-M, ..., M-1``.

    >>> import xform.numpy as xnp
    >>> xnp.hanning(4).round(4)
    array([0.  , 0.75, 0.75, 0.  ])
    """
    return _cosine_window(M, (0.5, 0.5), "hanning")


def hamming(M: int):
    """Hamming window, ``0.54 + 0.46 cos(pi n / (M - 1))``.

    >>> import xform.numpy as xnp
    >>> xnp.hamming(3).round(4)
    array([0.08, 1.  , 0.08])
    """
    return _cosine_window(M, (0.54, 0.46), "hamming")


def blackman(M: int):
    """Blackman window, ``0.42 + 0.5 cos(pi n/(M-1)) + 0.08 cos(2 pi n/(M-1))``.

    >>> import xform.numpy as xnp
    >>> xnp.blackman(3).round(4)
    array([-0.,  1., -0.])
    """
    return _cosine_window(M, (0.42, 0.5, 0.08), "blackman")


def bartlett(M: int):
    """Bartlett (triangular) window, ``1 - |n| / (M - 1)``.

    >>> import xform.numpy as xnp
    >>> xnp.bartlett(5)
    array([0. , 0.5, 1. , 0.5, 0. ])
    """
    M = _n(M, "bartlett")
    if M < 1:
        return np.array([], dtype=np.float64)
    if M == 1:
        return ones(1)
    n = arange(1 - M, M, 2, dtype=np.float64)
    return 1.0 - _abs(n) / (M - 1)


def kaiser(M: int, beta):
    """Kaiser window, ``i0(beta sqrt(1 - (n / alpha)^2)) / i0(beta)``,
    ``alpha = (M - 1) / 2``.

    >>> import xform.numpy as xnp
    >>> xnp.kaiser(3, 5.0).round(4)
    array([0.0367, 1.    , 0.0367])
    """
    M = _n(M, "kaiser")
    if M < 1:
        return np.array([], dtype=np.float64)
    if M == 1:
        return ones(1)
    alpha = (M - 1) / 2.0
    n = arange(0, M, dtype=np.float64)
    r = (n - alpha) / alpha
    return i0(beta * sqrt(1.0 - r * r)) / i0(beta + 0 * r)
