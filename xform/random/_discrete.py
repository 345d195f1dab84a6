"""Discrete samplers: bernoulli, categorical, randint, permutation, choice (JAX's
algorithms, value for value)."""
from __future__ import annotations

import math
import operator

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..core.axes import normalize_axis
from ..core.trace import Tracer, get_aval
from ..lax import random_bits as rb
from ._common import as_dtype, check_shape, get_dtype, shape_of, uniform as _uniform
from ._continuous import _check_mode, gumbel_from_key
from ._keys import canonical_shape, check_key, split


# -- bernoulli ----------------------------------------------------------------------------------


def bernoulli(key, p=0.5, shape=None, mode: str = "low"):
    """Boolean values that are True with probability ``p`` (broadcast to ``shape``; by
    default the result has ``p``'s shape): ``uniform < p`` in ``p``'s float dtype (a
    Python float is float64; pass ``numpy.float32(p)`` for JAX's default-config bits).
    ``mode='high'`` uses two uniforms per value, for tiny ``p``.

    >>> import numpy as np, xform
    >>> xform.random.bernoulli(xform.random.PRNGKey(0), np.float32(0.5), (4,))
    array([False, False,  True,  True])
    """
    data, _ = check_key("bernoulli", key)
    if mode not in ("low", "high"):
        raise ValueError(f"xform.random.bernoulli: mode must be 'low' or 'high', got {mode!r}")
    dtype = get_dtype(p)
    if dtype.kind != "f":
        raise TypeError(f"xform.random.bernoulli: the probability p must have a float dtype, "
                        f"got {dtype}.")
    if shape is None:
        shape = shape_of(p)
    else:
        shape = canonical_shape("bernoulli", shape)
        check_shape("bernoulli", shape, shape_of(p))
    p = as_dtype(p, dtype)
    if mode == "high":
        both = _uniform(data, (2,) + tuple(shape), dtype)
        u1 = lax.index_in_dim(both, 0, 0, keepdims=False)
        u2 = lax.mul(lax.index_in_dim(both, 1, 0, keepdims=False),
                     dtype.type(2.0 ** -np.finfo(dtype).nmant))
        return lax.lt(u2, lax.sub(p, u1))
    return lax.lt(_uniform(data, tuple(shape), dtype), p)


# -- categorical ----------------------------------------------------------------------------


def _top_k_indices(x, k: int):
    """Indices of the ``k`` largest values along the last axis, largest first (ties: the
    smaller index first, as XLA's TopK)."""
    order = lax.argsort(lax.neg(x), dimension=-1)
    n = shape_of(x)[-1]
    return lax.slice_in_dim(order, 0, k, axis=-1) if k < n else order


def categorical(key, logits, axis: int = -1, shape=None, replace: bool = True,
                mode: str | None = None):
    """Category indices drawn with probabilities ``softmax(logits, axis)`` (the Gumbel-max
    trick: ``argmax(logits + gumbel)``; without replacement the Gumbel-top-k trick). The
    result has ``shape`` (default: ``logits``' shape without ``axis``).

    >>> import numpy as np, xform
    >>> logits = np.array([0.0, -np.inf, 2.0], np.float32)  # category 1 is impossible
    >>> s = xform.random.categorical(xform.random.PRNGKey(0), logits, shape=(1000,))
    >>> sorted(set(s.tolist()))
    [0, 2]
    """
    data, _ = check_key("categorical", key)
    logits = xnp.asarray(logits)
    dtype = get_dtype(logits)
    if dtype.kind != "f":
        raise TypeError(f"xform.random.categorical: logits must have a float dtype, got "
                        f"{dtype}; convert them (e.g. logits.astype(numpy.float32)).")
    lshape = shape_of(logits)
    if not lshape:
        raise ValueError("xform.random.categorical: logits must have at least one axis.")
    axis = normalize_axis(axis, len(lshape), "xform.random.categorical")
    batch_shape = lshape[:axis] + lshape[axis + 1:]
    if shape is None:
        shape = batch_shape
    else:
        shape = canonical_shape("categorical", shape)
        check_shape("categorical", shape, batch_shape)
    prefix = tuple(shape[:len(shape) - len(batch_shape)])
    mode = _check_mode("categorical", mode)
    if replace:
        gshape = list(shape[len(prefix):])
        gshape.insert(axis, lshape[axis])
        g = gumbel_from_key(data, prefix + tuple(gshape), dtype, mode)
        return xnp.argmax(lax.add(g, lax.reshape(logits, (1,) * len(prefix) + lshape)),
                          axis=len(prefix) + axis)
    k = math.prod(prefix)
    if k > lshape[axis]:
        raise ValueError(f"xform.random.categorical: the number of samples without "
                         f"replacement ({k}) cannot exceed the number of categories "
                         f"({lshape[axis]}).")
    perturbed = lax.add(logits, gumbel_from_key(data, lshape, dtype, mode))
    idx = _top_k_indices(xnp.moveaxis(perturbed, axis, -1), k)  # batch_shape + (k,)
    idx = xnp.moveaxis(idx, -1, 0)
    return lax.reshape(idx, tuple(shape))


# -- randint ----------------------------------------------------------------------------------


def _int_dtype(dtype) -> np.dtype:
    dt = np.dtype(np.int64 if dtype is None else dtype)
    if dt.kind not in "iu":
        raise TypeError(f"xform.random.randint: dtype must be an integer dtype, got {dt}")
    return dt


def _clip_convert(val, dtype: np.dtype):
    """Convert integer ``val`` to integer ``dtype``, clipping to its range instead of
    wrapping (JAX's ``_convert_and_clip_integer``)."""
    vdt = get_aval(val).dtype
    lo = max(int(np.iinfo(dtype).min), int(np.iinfo(vdt).min))
    hi = min(int(np.iinfo(dtype).max), int(np.iinfo(vdt).max))
    clipped = lax.clamp(vdt.type(lo), val, vdt.type(hi))
    return lax.convert_element_type(clipped, dtype)


def _as_int_array(x):
    x = x if isinstance(x, Tracer) else np.asarray(x)
    dt = get_aval(x).dtype
    if dt.kind not in "iu":
        x = lax.convert_element_type(x, np.int64)  # JAX: astype(int)
    return x


def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in ``[minval, maxval)`` of ``shape`` and an integer ``dtype``
    (default int64: JAX's default with 64-bit types; pass ``numpy.int32`` for JAX's
    default-config values). JAX's algorithm: two random words per value reduced modulo
    the span (negligible bias for small spans); ``maxval <= minval`` gives ``minval``.

    >>> import numpy as np, xform
    >>> xform.random.randint(xform.random.PRNGKey(0), (5,), 0, 10, np.int32)
    array([9, 0, 2, 3, 1], dtype=int32)
    """
    data, _ = check_key("randint", key)
    dtype = _int_dtype(dtype)
    shape = canonical_shape("randint", shape)
    check_shape("randint", shape, shape_of(minval), shape_of(maxval))
    out_dtype = dtype
    minval, maxval = _as_int_array(minval), _as_int_array(maxval)
    if dtype.itemsize < 4:  # sampled in 32 bits to avoid bias (JAX)
        info = np.iinfo(dtype)
        i32 = np.dtype(np.int32)
        minval = lax.clamp(np.int32(info.min), lax.convert_element_type(minval, i32),
                           np.int32(info.max))
        maxval = lax.clamp(np.int32(info.min), lax.convert_element_type(maxval, i32),
                           np.int32(min(int(info.max) + 1, 2 ** 31 - 1)))
        dtype = i32
    with np.errstate(over="ignore"):  # unsigned products below wrap on purpose
        out = _randint(data, minval, maxval, shape, dtype)
    return lax.convert_element_type(out, out_dtype)


def _randint(data, minval, maxval, shape, dtype):
    nbits = dtype.itemsize * 8
    udt = np.dtype(f"uint{nbits}")
    mdt = get_aval(maxval).dtype
    top = np.asarray(np.iinfo(dtype).max, dtype)
    # maxval beyond the dtype's range (randint(key, s, 0, 256, uint8)): one more value
    out_of_range = lax.gt(maxval, _clip_convert(top, mdt))
    minval = _clip_convert(minval, dtype)
    maxval = _clip_convert(maxval, dtype)
    k1, k2 = split(data)
    higher = rb.threefry_random_bits(k1, nbits, shape)
    lower = rb.threefry_random_bits(k2, nbits, shape)
    span = lax.convert_element_type(lax.sub(maxval, minval), udt)
    span = lax.select(lax.le(maxval, minval), udt.type(1), span)  # empty range: minval
    span = lax.select(lax.bitwise_and(out_of_range, lax.gt(maxval, minval)),
                      lax.add(span, udt.type(1)), span)
    # (a * b) % n = ((a % n) * (b % n)) % n with a = 2**nbits: avoids overflow
    mult = lax.rem(udt.type(2 ** (nbits // 2)), span)
    mult = lax.rem(lax.mul(mult, mult), span)
    offset = lax.add(lax.mul(lax.rem(higher, span), mult), lax.rem(lower, span))
    offset = lax.rem(offset, span)
    return lax.add(minval, lax.convert_element_type(offset, dtype))


# -- permutation, choice ----------------------------------------------------------------------


def _shuffle(data, x, axis: int):
    """Sort by fresh 32-bit random keys, repeated until key collisions are unlikely
    (JAX's rounds: ceil(3 ln(size) / ln(2**32 - 1)))."""
    size = math.prod(shape_of(x))
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        keys = split(data)
        data = lax.index_in_dim(keys, 0, 0, keepdims=False)
        sub = lax.index_in_dim(keys, 1, 0, keepdims=False)
        sort_keys = rb.threefry_random_bits(sub, 32, shape_of(x))
        _, x = lax.sort_key_val(sort_keys, x, axis)
    return x


def permutation(key, x, axis: int = 0, independent: bool = False):
    """A random permutation of ``arange(x)`` (an int ``x``) or of ``x``'s slices along
    ``axis``; ``independent=True`` shuffles every 1-d slice along ``axis`` on its own.

    >>> import xform
    >>> sorted(xform.random.permutation(xform.random.PRNGKey(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    data, _ = check_key("permutation", key)
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return _shuffle(data, xnp.arange(operator.index(x)), 0)
    x = xnp.asarray(x)
    xs = shape_of(x)
    if not xs:
        if get_dtype(x).kind not in "iu":
            raise TypeError("xform.random.permutation: x must be an integer or at least 1-d")
        if isinstance(x, Tracer):
            raise TypeError("xform.random.permutation: an int x must be concrete (it is the "
                            "result's length); got a traced value.")
        return _shuffle(data, xnp.arange(int(x)), 0)
    axis = normalize_axis(axis, len(xs), "xform.random.permutation")
    if independent or len(xs) == 1:
        return _shuffle(data, x, axis)
    ind = _shuffle(data, xnp.arange(xs[axis]), 0)
    return xnp.take(x, ind, axis=axis)


def _searchsorted_left(sorted_1d, values):
    """numpy's searchsorted(side='left') of a 1-d sorted array: the count of entries
    below each value."""
    below = lax.lt(lax.expand_dims(sorted_1d, tuple(range(len(shape_of(values))))),
                   lax.expand_dims(values, (len(shape_of(values)),)))
    return xnp.sum(below, axis=-1)


def choice(key, a, shape=(), replace: bool = True, p=None, axis: int = 0,
           mode: str | None = None):
    """Random elements of ``a`` (an array, sampled along ``axis``; or an int, meaning
    ``arange(a)``): with replacement by ``randint``, without by ``permutation``; with
    probabilities ``p`` by inverting the cumulative sum (with replacement) or the
    Gumbel-top-k trick (without). ``shape`` replaces the sampled axis in the result.

    >>> import numpy as np, xform
    >>> xform.random.choice(xform.random.PRNGKey(0), np.array([10, 20, 30]), (4,)).shape
    (4,)
    """
    data, _ = check_key("choice", key)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"xform.random.choice: shape must be a sequence, got {shape!r}")
    shape = canonical_shape("choice", shape)
    arr = xnp.asarray(a)
    ashape = shape_of(arr)
    if not ashape:
        if isinstance(arr, Tracer):
            raise TypeError("xform.random.choice: an int a must be concrete (the population "
                            "size); got a traced value.")
        n_inputs = int(operator.index(np.asarray(a)[()]))
    else:
        axis = normalize_axis(axis, len(ashape), "xform.random.choice")
        n_inputs = ashape[axis]
    n_draws = math.prod(shape)
    out_shape = shape if not ashape else ashape[:axis] + shape + ashape[axis + 1:]
    if n_draws == 0:
        return xnp.zeros(out_shape, dtype=get_dtype(arr))
    if n_inputs <= 0:
        raise ValueError("xform.random.choice: a must be greater than 0 unless no samples "
                         "are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"xform.random.choice: cannot take a larger sample (size {n_draws}) "
                         f"than the population (size {n_inputs}) when replace=False")
    if p is None:
        if replace:
            ind = randint(data, shape, 0, n_inputs)
            result = ind if not ashape else xnp.take(arr, ind, axis=axis)
        else:
            perm = permutation(data, n_inputs if not ashape else arr, axis)
            result = lax.slice_in_dim(perm, 0, n_draws, axis=0 if not ashape else axis)
    else:
        p_arr = xnp.asarray(p)
        if get_dtype(p_arr).kind != "f":
            p_arr = lax.convert_element_type(p_arr, np.float64)
        if shape_of(p_arr) != (n_inputs,):
            raise ValueError(f"xform.random.choice: p must be None or a 1-d vector with the "
                             f"size of a.shape[axis] ({n_inputs}); p has shape "
                             f"{shape_of(p_arr)}.")
        pdt = get_dtype(p_arr)
        if replace:
            p_cuml = xnp.cumsum(p_arr)
            total = lax.index_in_dim(p_cuml, n_inputs - 1, 0, keepdims=False)
            r = lax.mul(total, lax.sub(pdt.type(1), _uniform(data, shape, pdt)))
            ind = lax.convert_element_type(_searchsorted_left(p_cuml, r), np.int64)
        else:
            g = lax.add(gumbel_from_key(data, (n_inputs,), pdt, _check_mode("choice", mode)),
                        xnp.log(p_arr))
            ind = _top_k_indices(g, n_draws)
        result = ind if not ashape else xnp.take(arr, ind, axis=axis)
    return lax.reshape(result, out_shape)

