"""More of ``jax.nn``: the newer activations (``mish``, ``squareplus``, ``hard_sigmoid``,
``hard_silu``, ``soft_sign``, ``sparse_plus``, ``sparse_sigmoid``, ``log1mexp``,
``identity``, ``tanh``), ``logmeanexp`` and ``dot_product_attention``.

All are written on ``xform.numpy`` (so they differentiate, vmap and jit), with JAX's
definitions; the piecewise ones take JAX's one-sided derivatives at their kinks.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..lax.custom_derivatives import custom_jvp
from ._activations import _float, relu6, softplus
from ._normalization import logsumexp, softmax

__all__ = ["identity", "tanh", "mish", "squareplus", "hard_sigmoid", "hard_silu", "hard_swish",
           "soft_sign", "sparse_plus", "sparse_sigmoid", "log1mexp", "logmeanexp",
           "dot_product_attention"]


def identity(x: Any) -> Any:
    """The identity activation (returns ``x`` as an array).

    >>> import numpy as np, xform
    >>> xform.nn.identity(np.array([-1.0, 2.0]))
    array([-1.,  2.])
    """
    return xnp.asarray(x)


def tanh(x: Any, /) -> Any:
    """Hyperbolic tangent (``jax.nn.tanh``, the same as ``xform.numpy.tanh``).

    >>> import numpy as np, xform
    >>> xform.nn.tanh(np.array([0.0, 1.0]))
    array([0.        , 0.76159416])
    """
    return xnp.tanh(x)


def mish(x: Any) -> Any:
    """Mish ``x tanh(softplus(x))`` (Misra 2019).

    >>> import numpy as np, xform
    >>> xform.nn.mish(np.array([-1.0, 0.0, 1.0]))
    array([-0.30340146,  0.        ,  0.86509839])
    """
    x = _float(x, "mish")
    return x * xnp.tanh(softplus(x))


def squareplus(x: Any, b: Any = 4) -> Any:
    """Squareplus ``(x + sqrt(x^2 + b)) / 2``, a smooth algebraic ReLU (So 2021).

    >>> import numpy as np, xform
    >>> xform.nn.squareplus(np.array([-2.0, 0.0, 2.0]))
    array([0.41421356, 1.        , 2.41421356])
    """
    x = _float(x, "squareplus")
    return (x + xnp.sqrt(xnp.square(x) + xnp.asarray(b, dtype=x.dtype))) / 2


def hard_sigmoid(x: Any) -> Any:
    """Hard sigmoid ``relu6(x + 3) / 6`` (derivatives at the kinks -3 and 3 are 0, as
    relu6's).

    >>> import numpy as np, xform
    >>> xform.nn.hard_sigmoid(np.array([-4.0, 0.0, 1.5, 4.0]))
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    x = _float(x, "hard_sigmoid")
    return relu6(x + 3.0) / 6.0


def hard_silu(x: Any) -> Any:
    """Hard SiLU (hard swish) ``x hard_sigmoid(x)``.

    >>> import numpy as np, xform
    >>> xform.nn.hard_silu(np.array([-4.0, 1.5, 4.0]))
    array([-0.   ,  1.125,  4.   ])
    """
    x = _float(x, "hard_silu")
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def soft_sign(x: Any) -> Any:
    """Softsign ``x / (|x| + 1)``.

    >>> import numpy as np, xform
    >>> xform.nn.soft_sign(np.array([-3.0, 0.0, 1.0]))
    array([-0.75,  0.  ,  0.5 ])
    """
    x = _float(x, "soft_sign")
    return x / (xnp.abs(x) + 1)


def sparse_plus(x: Any) -> Any:
    """Sparse plus: 0 for ``x <= -1``, ``(x + 1)^2 / 4`` between, ``x`` for ``x >= 1``
    (continuously differentiable).

    >>> import numpy as np, xform
    >>> xform.nn.sparse_plus(np.array([-2.0, 0.0, 2.0]))
    array([0.  , 0.25, 2.  ])
    """
    x = _float(x, "sparse_plus")
    zero = xnp.zeros((), x.dtype)
    return xnp.where(x <= -1.0, zero, xnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def sparse_sigmoid(x: Any) -> Any:
    """Sparse sigmoid ``clip((x + 1) / 2, 0, 1)``, the derivative of ``sparse_plus``.

    >>> import numpy as np, xform
    >>> xform.nn.sparse_sigmoid(np.array([-2.0, 0.0, 0.5, 2.0]))
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    x = _float(x, "sparse_sigmoid")
    return 0.5 * xnp.clip(x + 1.0, 0.0, 2.0)


@custom_jvp
def _log1mexp(x):
    # log(1 - exp(-x)) for x > 0, by the two accurate forms (Maechler 2012): expm1 for
    # small x (1 - exp(-x) cancels), log1p for large x (exp(-x) is tiny)
    return xnp.where(x < math.log(2.0), xnp.log(-xnp.expm1(-x)), xnp.log1p(-xnp.exp(-x)))


# d/dx log(1 - e^-x) = e^-x / (1 - e^-x) = 1 / expm1(x), accurate in both regimes
_log1mexp.defjvps(lambda g, ans, x: g / xnp.expm1(x))


def log1mexp(x: Any) -> Any:
    """``log(1 - exp(-x))`` for ``x > 0``, accurate for small and large ``x`` (nan for
    ``x < 0``, -inf at 0).

    >>> import numpy as np, xform
    >>> xform.nn.log1mexp(np.array([1e-10, 1.0, 50.0]))
    array([-2.30258509e+01, -4.58675145e-01, -1.92874985e-22])
    """
    return _log1mexp(_float(x, "log1mexp"))


def logmeanexp(x: Any, axis: Any = None, where: Any = None, keepdims: bool = False) -> Any:
    """``log(mean(exp(x)))`` over ``axis`` without overflow (over the elements ``where``
    selects): ``logsumexp - log(count)``.

    >>> import numpy as np, xform
    >>> float(xform.nn.logmeanexp(np.array([1000.0, 1000.0])))
    1000.0
    """
    x = _float(x, "logmeanexp")
    lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
    ones = xnp.ones(x.shape, dtype=lse.dtype)
    if where is not None:
        ones = xnp.where(xnp.broadcast_to(xnp.asarray(where, dtype=bool), x.shape), ones,
                         xnp.zeros((), lse.dtype))
    count = xnp.sum(ones, axis=tuple(axis) if isinstance(axis, list) else axis,
                    keepdims=keepdims)
    return lse - xnp.log(count)


def _attention_checks(q, k, v):
    if q.ndim not in (3, 4) or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(f"dot_product_attention: query, key and value must all be "
                         f"(batch, seq, heads, head_dim) or (seq, heads, head_dim); got shapes "
                         f"{q.shape}, {k.shape}, {v.shape}.")
    if k.shape != v.shape[:-1] + (k.shape[-1],) or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"dot_product_attention: key {k.shape} and value {v.shape} must "
                         f"agree except in the last axis, and query {q.shape} and key must "
                         f"have the same head_dim.")
    hq, hk = q.shape[-2], k.shape[-2]
    if hq % hk:
        raise ValueError(f"dot_product_attention: the number of query heads ({hq}) must be a "
                         f"multiple of the number of key/value heads ({hk}).")


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          *, scale: float | None = None, is_causal: bool = False,
                          query_seq_lengths: Any = None, key_value_seq_lengths: Any = None,
                          local_window_size: int | tuple[int, int] | None = None,
                          implementation: str | None = None, return_residual: bool = False):
    """Scaled dot-product attention ``softmax(q k^T * scale + bias, masked) v`` (JAX's
    ``jax.nn.dot_product_attention``, its 'xla' implementation).

    Shapes: ``query`` ``(B, T, N, H)``, ``key``/``value`` ``(B, S, K, H)`` (the batch axis
    ``B`` may be absent), with ``N`` a multiple of ``K`` (grouped-query attention);
    the result has the query's shape. ``scale`` defaults to ``1 / sqrt(H)``. ``bias``
    and boolean ``mask`` broadcast to ``(B, N, T, S)``; ``is_causal`` masks future keys;
    ``query_seq_lengths``/``key_value_seq_lengths`` (shape ``(B,)``) mask padding;
    ``local_window_size`` ``(left, right)`` (or one int for both) keeps keys within that
    distance. As in JAX, a row whose keys are all masked out averages all values
    (the softmax of equal logits), and padded query positions give zeros.
    ``return_residual`` also returns the softmax's log-normalizer (``(B, T, N)``, no
    gradient). Unlike JAX's, which computes logits and softmax in float32, everything
    is computed in the inputs' dtype (float64 by default).

    >>> import numpy as np, xform
    >>> q = k = v = np.eye(2).reshape(1, 2, 1, 2)
    >>> xform.nn.dot_product_attention(q, k, v, is_causal=True)[0, :, 0]
    array([[1.        , 0.        ],
           [0.33023845, 0.66976155]])
    """
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation must be None or 'xla' (xform "
                         f"runs on the CPU), got {implementation!r}.")
    q, k, v = (_float(a, "dot_product_attention") for a in (query, key, value))
    dt = xnp.result_type(q, k, v)
    q, k, v = (xnp.asarray(a, dtype=dt) for a in (q, k, v))
    _attention_checks(q, k, v)
    unbatched = q.ndim == 3
    if unbatched:
        q, k, v = q[None], k[None], v[None]
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    G = N // K  # query heads per key/value head
    if scale is None:
        scale = 1.0 / math.sqrt(H)
    qg = xnp.reshape(q, (B, T, K, G, H))
    logits = xnp.einsum("btkgh,bskh->bkgts", qg, k) * xnp.asarray(scale, dtype=dt)
    logits = xnp.reshape(logits, (B, N, T, S))
    if bias is not None:
        b = xnp.asarray(bias, dtype=dt)
        logits = logits + (b[None] if unbatched and b.ndim == 4 and b.shape[0] != B else b)
    allowed = xnp.ones((1, 1, T, S), dtype=bool)
    if mask is not None:
        m = xnp.asarray(mask, dtype=bool)
        allowed = allowed & m
    ti = np.arange(T)[:, None]
    si = np.arange(S)[None, :]
    if is_causal:
        allowed = allowed & (si <= ti)
    if local_window_size is not None:
        left, right = ((local_window_size, local_window_size)
                       if isinstance(local_window_size, int) else local_window_size)
        allowed = allowed & (si >= ti - left) & (si <= ti + right)
    if query_seq_lengths is not None:
        ql = xnp.reshape(xnp.asarray(query_seq_lengths), (B, 1, 1, 1))
        allowed = allowed & (ti < ql)
    if key_value_seq_lengths is not None:
        kl = xnp.reshape(xnp.asarray(key_value_seq_lengths), (B, 1, 1, 1))
        allowed = allowed & (si < kl)
    allowed = xnp.broadcast_to(allowed, logits.shape)
    big_negative = xnp.asarray(np.finfo(dt).min, dtype=dt)
    logits = xnp.where(allowed, logits, big_negative)
    probs = softmax(logits, axis=-1)
    pg = xnp.reshape(probs, (B, K, G, T, S))
    out = xnp.reshape(xnp.einsum("bkgts,bskh->btkgh", pg, v), (B, T, N, H))
    if query_seq_lengths is not None:  # padded query positions give zeros
        out = xnp.where(np.arange(T)[None, :, None, None] < ql[:, :, :, 0, None], out,
                        xnp.zeros((), dt))
    if unbatched:
        out = out[0]
    if not return_residual:
        return out
    lse = lax.stop_gradient(logsumexp(logits, axis=-1))
    res = xnp.transpose(lse, (0, 2, 1))
    return out, (res[0] if unbatched else res)
