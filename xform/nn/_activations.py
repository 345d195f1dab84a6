"""Elementwise activation functions (JAX's ``jax.nn`` names and signatures).

Derivatives at kinks (documented in docs/autodiff.md): ``relu'(0) = 0``,
``relu6'(0) = relu6'(6) = 0``, ``leaky_relu'(0) = 1``, ``hard_tanh'(+-1) = 1``,
``elu``/``celu``/``selu`` are differentiable at 0 for the default alpha (elu's left
derivative ``alpha`` is taken at 0).
"""
from __future__ import annotations

import math

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..lax.custom_derivatives import custom_jvp


def _float(x, name):
    """``x`` as an inexact xform array (integers promote to float64, as numpy)."""
    x = xnp.asarray(x)
    if x.dtype.kind not in "fc":
        x = xnp.asarray(x, dtype=np.float64)
    return x


def _zeros_like(g):
    return xnp.zeros_like(g)


@custom_jvp
def _relu(x):
    return xnp.maximum(x, xnp.zeros((), x.dtype))


_relu.defjvps(lambda g, ans, x: xnp.where(x > 0, g, _zeros_like(g)))


def relu(x):
    """Rectified linear unit ``max(x, 0)``; the derivative at 0 is 0.

    >>> import numpy as np, xform
    >>> xform.nn.relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return _relu(xnp.asarray(x))


@custom_jvp
def _relu6(x):
    return xnp.minimum(xnp.maximum(x, xnp.zeros((), x.dtype)), xnp.full((), 6, x.dtype))


_relu6.defjvps(lambda g, ans, x: xnp.where((x > 0) & (x < 6), g, _zeros_like(g)))


def relu6(x):
    """``min(max(x, 0), 6)``; the derivative is 0 at 0 and at 6.

    >>> import numpy as np, xform
    >>> xform.nn.relu6(np.array([-1.0, 3.0, 9.0]))
    array([0., 3., 6.])
    """
    return _relu6(xnp.asarray(x))


@custom_jvp
def _sigmoid(x):
    return lax.logistic(x)


# sigmoid(x) sigmoid(-x), not s (1 - s): that cancels to 0 for large x
_sigmoid.defjvps(lambda g, ans, x: g * (ans * lax.logistic(-x)))


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for large ``|x|``; its derivative
    ``sigmoid(x) sigmoid(-x)`` keeps full relative accuracy in both tails.

    >>> import numpy as np, xform
    >>> xform.nn.sigmoid(np.array([0.0, 800.0, -800.0]))
    array([0.5, 1. , 0. ])
    """
    return _sigmoid(_float(x, "sigmoid"))


def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|`` (its derivative is ``sigmoid``).

    >>> import numpy as np, xform
    >>> xform.nn.softplus(np.array([-800.0, 0.0, 800.0])).round(6).tolist()
    [0.0, 0.693147, 800.0]
    """
    x = _float(x, "softplus")
    return xnp.logaddexp(x, xnp.zeros((), x.dtype))


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``.

    >>> import numpy as np, xform
    >>> xform.nn.log_sigmoid(np.array([-800.0, 0.0])).round(6).tolist()
    [-800.0, -0.693147]
    """
    return -softplus(-_float(x, "log_sigmoid"))


def silu(x):
    """SiLU (swish) ``x * sigmoid(x)``.

    >>> import numpy as np, xform
    >>> xform.nn.silu(np.array([0.0, 1.0]))
    array([0.        , 0.73105858])
    """
    x = _float(x, "silu")
    return x * sigmoid(x)


swish = silu


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha (exp(x) - 1)`` otherwise.

    >>> import numpy as np, xform
    >>> xform.nn.elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """
    x = _float(x, "elu")
    pos = x > 0
    # the exp branch sees 0 where x > 0: no overflow (and no NaN gradient) for large x
    return xnp.where(pos, x, alpha * xnp.expm1(xnp.where(pos, xnp.zeros((), x.dtype), x)))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU ``max(x, 0) + alpha expm1(min(x, 0) / alpha)``.

    >>> import numpy as np, xform
    >>> xform.nn.celu(np.array([-1.0, 2.0]), alpha=2.0)
    array([-0.78693868,  2.        ])
    """
    x = _float(x, "celu")
    zero = xnp.zeros((), x.dtype)
    return xnp.maximum(x, zero) + alpha * xnp.expm1(xnp.minimum(x, zero) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled ELU ``scale * elu(x, alpha)`` with the self-normalizing constants
    (``alpha = 1.67326...``, ``scale = 1.05070...``).

    >>> import numpy as np, xform
    >>> xform.nn.selu(np.array([1.0]))
    array([1.05070099])
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def leaky_relu(x, negative_slope=1e-2):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (derivative 1 at 0).

    >>> import numpy as np, xform
    >>> xform.nn.leaky_relu(np.array([-2.0, 3.0]))
    array([-0.02,  3.  ])
    """
    x = _float(x, "leaky_relu")
    return xnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x):
    """``-1`` below -1, ``1`` above 1, ``x`` between (derivative 1 at +-1).

    >>> import numpy as np, xform
    >>> xform.nn.hard_tanh(np.array([-3.0, 0.5, 3.0]))
    array([-1. ,  0.5,  1. ])
    """
    x = _float(x, "hard_tanh")
    one = xnp.ones((), x.dtype)
    return xnp.where(x > 1, one, xnp.where(x < -1, -one, x))


# -- gelu ---------------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)
# erfc(z) by its continued fraction exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/...)))
# for z >= 2 (60 terms, evaluated from the bottom: relative error < 1e-15 there);
# 1 - erf(z) below, where it loses at most ~2e-14 relatively. xform has no erfc yet.
_CF_TERMS = 60
_CF_FROM = 2.0


def _ndtr(x):
    """The standard normal CDF, with full relative accuracy in the left tail."""
    dt = x.dtype
    z = -x * dt.type(_SQRT_HALF)  # Phi(x) = erfc(z) / 2
    tail = z >= _CF_FROM
    zt = xnp.where(tail, z, xnp.full((), 3.0, dt))  # a stand-in in the tail's domain
    t = zt
    for k in range(_CF_TERMS, 0, -1):
        t = zt + dt.type(k / 2) / t
    erfc_tail = xnp.exp(-zt * zt) * dt.type(1 / math.sqrt(math.pi)) / t
    near = 1 - lax.erf(xnp.where(tail, xnp.zeros((), dt), z))
    return dt.type(0.5) * xnp.where(tail, erfc_tail, near)


@custom_jvp
def _gelu_exact(x):
    return x * _ndtr(x)


_gelu_exact.defjvps(lambda g, ans, x: g * (_ndtr(x) + x * xnp.exp(-x * x / 2)
                                           * x.dtype.type(_INV_SQRT_2PI)))


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit ``x Phi(x)`` (``Phi`` the standard normal CDF); with
    ``approximate=True`` (JAX's default) the tanh approximation
    ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. The exact form keeps full
    relative accuracy for very negative ``x``.

    >>> import numpy as np, xform
    >>> xform.nn.gelu(np.array([-1.0, 1.0]), approximate=False)
    array([-0.15865525,  0.84134475])
    """
    x = _float(x, "gelu")
    if approximate:
        c = x.dtype.type(math.sqrt(2 / math.pi))
        cdf = 0.5 * (1.0 + xnp.tanh(c * (x + 0.044715 * (x ** 3))))
        return x * cdf
    return _gelu_exact(x)


def glu(x, axis: int = -1):
    """Gated linear unit: ``x`` split in two halves along ``axis``, ``a * sigmoid(b)``.

    >>> import numpy as np, xform
    >>> xform.nn.glu(np.array([1.0, 2.0, 0.0, 0.0]))
    array([0.5, 1. ])
    """
    x = _float(x, "glu")
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"xform.nn.glu: the size of axis {axis} must be even, got shape "
                         f"{x.shape}")
    a, b = xnp.split(x, 2, axis=axis)
    return a * sigmoid(b)
