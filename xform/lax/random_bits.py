"""Counter-based random bits: the Threefry-2x32 hash and JAX's key operations on it.

Primitives:

- ``threefry2x32_p``: the Threefry-2x32 block cipher with 20 rounds (Salmon et al.,
  "Parallel random numbers: as easy as 1, 2, 3", SC 2011), elementwise over four
  broadcasting ``uint32`` operands ``(k1, k2, x1, x2)`` (the key words and the two
  counter words) with two ``uint32`` results.
- ``random_bits_p``: the bits of ``threefry_random_bits`` for a key (or a batch of keys),
  as one primitive so that its lowering is one pass (see below).

The key operations follow JAX with its default configuration
(``jax_threefry_partitionable=True``, the default since JAX 0.5.0), so the same key and
call give the same bits as JAX:

- ``threefry_seed(seed)``: the raw key ``[seed >> 32, seed & 0xFFFFFFFF]`` (a 64-bit
  seed split in two words; narrower integer seeds have a zero high word).
- ``threefry_split(key, shape)``: key ``i`` (row-major) is ``hash(key, (i >> 32, i))``.
- ``threefry_fold_in(key, data)``: ``hash(key, (0, data))`` (which equals the key of
  index ``data`` of a split).
- ``threefry_random_bits(key, bit_width, shape)``: element ``i`` hashes the 64-bit
  counter ``i``; 32-bit values are the xor of the two result words, 64-bit values their
  concatenation (first word high), 8/16-bit values the low bits of the xor.

A raw key is a ``uint32`` array of shape ``(2,)`` (or a traced one); these functions
take one key, ``xform.vmap`` batches them.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.jvp import Zero
from ._rules import broadcast_shapes, move_bdim_to_front

__all__ = ["threefry2x32", "threefry_2x32", "threefry_seed", "threefry_split",
           "threefry_fold_in", "threefry_random_bits", "iota_2x32_shape", "combine_words"]

_U32 = np.dtype(np.uint32)
# Rotation distances of Threefry-2x32 (groups of 4 rounds alternate between the rows;
# the key is injected after each group) and the key-schedule parity constant.
ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
PARITY = 0x1BD11BDA

threefry2x32_p = Primitive("threefry2x32", multiple_results=True)


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _threefry_impl(k1, k2, x1, x2):
    """numpy uint32 arithmetic (wrapping), vectorized over the broadcast operands."""
    args = [np.asarray(a) for a in (k1, k2, x1, x2)]
    if any(a.dtype != _U32 for a in args):  # the clear error of the shape rule
        _threefry_abstract(*(get_aval(a, "threefry2x32") for a in args))
    shape = broadcast_shapes("threefry2x32", *(a.shape for a in args))
    # 1-d views: uint32 scalar arithmetic would warn on the (intended) wrap-around
    k1, k2, x1, x2 = (np.broadcast_to(a, shape).reshape(-1) for a in args)
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(PARITY))
    x = [x1 + ks[0], x2 + ks[1]]
    for i in range(5):
        for r in ROTATIONS[i % 2]:
            x[0] = x[0] + x[1]
            x[1] = _rotl(x[1], r) ^ x[0]
        x[0] = x[0] + ks[(i + 1) % 3]
        x[1] = x[1] + ks[(i + 2) % 3] + np.uint32(i + 1)
    return [x[0].reshape(shape)[()], x[1].reshape(shape)[()]]


def _threefry_abstract(*avals):
    if len(avals) != 4:
        raise TypeError(f"threefry2x32: takes 4 operands (k1, k2, x1, x2), got {len(avals)}")
    bad = [a.str_short() for a in avals if a.dtype != _U32]
    if bad:
        raise TypeError(f"threefry2x32: operands must be uint32, got {', '.join(bad)}; "
                        f"convert with xform.lax.convert_element_type(x, numpy.uint32).")
    shape = broadcast_shapes("threefry2x32", *(a.shape for a in avals))
    out = ShapedArray(shape, _U32)
    return [out, out]


def _threefry_jvp(primals, tangents):
    outs = threefry2x32_p.bind(*primals)
    return outs, [Zero.like(o) for o in outs]  # integer results


def _threefry_batch(vals, dims):
    # numpy broadcasting rule (as for elementwise primitives): batch dims to the front,
    # lower-rank batched operands get size-1 dims so the trailing dims line up
    from .structural import expand_dims

    ranks = [get_aval(v).ndim - (d is not None) for v, d in zip(vals, dims)]
    out_rank = max(ranks)
    args = []
    for v, d, r in zip(vals, dims, ranks):
        if d is not None:
            v = move_bdim_to_front(v, d)
            if r < out_rank:
                v = expand_dims(v, tuple(range(1, 1 + out_rank - r)))
        args.append(v)
    return threefry2x32_p.bind(*args), [0, 0]


threefry2x32_p.impl = _threefry_impl
threefry2x32_p.abstract_eval = _threefry_abstract
threefry2x32_p.jvp = _threefry_jvp
threefry2x32_p.batch = _threefry_batch


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 hash (20 rounds) of the counter words ``(x1, x2)`` under the
    key words ``(k1, k2)``: elementwise over broadcasting ``uint32`` operands, two
    ``uint32`` results.

    >>> import numpy as np
    >>> from xform.lax.random_bits import threefry2x32
    >>> z = np.uint32(0)
    >>> [int(v) for v in threefry2x32(z, z, z, z)]  # Random123's known-answer test
    [1797259609, 2579123966]
    """
    args = [_as_u32(a, "threefry2x32") for a in (k1, k2, x1, x2)]
    return threefry2x32_p.bind(*args)


def _as_u32(x, where):
    aval = get_aval(x, where)
    if aval.dtype != _U32:
        if aval.dtype.kind not in "iu":
            raise TypeError(f"{where}: expected uint32 values, got {aval.str_short()}")
        from .elementwise import convert_element_type

        return convert_element_type(x, _U32)
    return x


# -- key operations (JAX's threefry2x32 PRNG implementation) ------------------------------


def _key_words(key):
    """The two words of a raw key (uint32 of shape (2,)) as 0-d values."""
    from .structural import index_in_dim

    return (index_in_dim(key, 0, 0, keepdims=False), index_in_dim(key, 1, 0, keepdims=False))


def _stack_words(y1, y2):
    """Stack two word arrays along a new last axis: shape (*shape, 2)."""
    from .structural import concatenate, expand_dims

    ndim = get_aval(y1).ndim
    return concatenate([expand_dims(y1, (ndim,)), expand_dims(y2, (ndim,))], ndim)


def iota_2x32_shape(shape, _split_at: int = 2 ** 32):
    """The 64-bit row-major index of every element of ``shape`` as two uint32 arrays
    ``(high word, low word)``; the high word is the 0-d constant 0 when every index fits
    in 32 bits (``_split_at`` lowers that threshold for tests of the 64-bit path).

    >>> from xform.lax.random_bits import iota_2x32_shape
    >>> hi, lo = iota_2x32_shape((2, 3))
    >>> int(hi), lo.tolist()
    (0, [[0, 1, 2], [3, 4, 5]])
    """
    from .elementwise import bitwise_and, convert_element_type, shift_right
    from .structural import iota, reshape

    shape = tuple(int(d) for d in shape)
    n = math.prod(shape)
    if n <= _split_at:
        return np.uint32(0), reshape(iota(_U32, n), shape)
    idx = reshape(iota(np.uint64, n), shape)
    hi = convert_element_type(shift_right(idx, np.uint64(32)), _U32)
    lo = convert_element_type(bitwise_and(idx, np.uint64(0xFFFFFFFF)), _U32)
    return hi, lo


def threefry_2x32(key, count):
    """JAX's ``threefry_2x32(keypair, count)``: the flattened ``count`` (uint32) is
    split in two halves (padded with one 0 when odd) that are hashed as counter word
    pairs; the results are concatenated and cut back to ``count``'s shape.

    >>> import numpy as np
    >>> from xform.lax.random_bits import threefry_2x32
    >>> threefry_2x32(np.zeros(2, np.uint32), np.array([0, 7], np.uint32)).tolist()
    [2716826189, 292468403]
    """
    from .structural import concatenate, reshape, slice as lax_slice

    count = _as_u32(count, "threefry_2x32")
    shape = get_aval(count).shape
    n = math.prod(shape)
    if n == 0:
        return count
    flat = reshape(count, (n,))
    if n % 2:
        flat = concatenate([flat, np.zeros(1, _U32)], 0)
    flat_len = n + n % 2
    half = flat_len // 2
    k1, k2 = _key_words(key)
    y1, y2 = threefry2x32(k1, k2, lax_slice(flat, (0,), (half,)),
                          lax_slice(flat, (half,), (flat_len,)))
    out = concatenate([y1, y2], 0)
    if n % 2:
        out = lax_slice(out, (0,), (n,))
    return reshape(out, shape)


def threefry_seed(seed):
    """The raw key of an integer ``seed`` (a 0-d integer array, possibly traced):
    ``[high word, low word]`` of the seed's two's-complement bits; seeds narrower than
    64 bits (after sign extension of signed ones) have a zero high word, as in JAX.

    >>> import numpy as np
    >>> from xform.lax.random_bits import threefry_seed
    >>> threefry_seed(np.int64(2**40 + 5)).tolist(), threefry_seed(np.int32(-1)).tolist()
    ([256, 5], [0, 4294967295])
    """
    from .elementwise import convert_element_type, shift_right

    aval = get_aval(seed, "threefry_seed")
    if aval.shape:
        raise TypeError(f"PRNG key seed must be a scalar; got an array of shape {aval.shape}.")
    if aval.dtype.kind not in "iu":
        raise TypeError(f"PRNG key seed must be an integer; got {aval.str_short()}.")
    if aval.dtype.itemsize == 8:
        bits = convert_element_type(seed, np.uint64)  # two's complement bits
        hi = convert_element_type(shift_right(bits, np.uint64(32)), _U32)
        lo = convert_element_type(bits, _U32)  # truncation to the low word
    else:
        hi = np.zeros((), _U32)
        lo = convert_element_type(convert_element_type(seed, np.int64), _U32)
    return _stack_words(hi, lo)


def threefry_split(key, shape):
    """``shape`` new raw keys (an array of shape ``(*shape, 2)``) from one raw key.

    >>> import numpy as np
    >>> from xform.lax.random_bits import threefry_split
    >>> threefry_split(np.zeros(2, np.uint32), (2,)).tolist()
    [[1797259609, 2579123966], [928981903, 3453687069]]
    """
    k1, k2 = _key_words(key)
    hi, lo = iota_2x32_shape(tuple(shape))
    y1, y2 = threefry2x32(k1, k2, hi, lo)
    return _stack_words(y1, y2)


def threefry_fold_in(key, data):
    """A new raw key from ``key`` and a 32-bit integer ``data`` (0-d, possibly traced;
    other integer dtypes are wrapped to uint32).

    >>> import numpy as np
    >>> from xform.lax.random_bits import threefry_fold_in
    >>> threefry_fold_in(np.zeros(2, np.uint32), np.uint32(3)).tolist()
    [2467461003, 3840466878]
    """
    k1, k2 = _key_words(key)
    y1, y2 = threefry2x32(k1, k2, np.uint32(0), _as_u32(data, "fold_in"))
    return _stack_words(y1, y2)


# -- random_bits: the bits of keys, one fused pass -------------------------------------------
#
# ``random_bits_p(keys, bit_width=, shape=)``: ``keys`` is uint32 of shape (*batch, 2);
# the result, of shape (*batch, *shape), holds for every key the bits of
# ``threefry_random_bits`` (element i hashes the 64-bit counter i). Expressed with
# ``threefry2x32`` it would be an iota, the hash and a combination (three passes over
# memory and two intermediate arrays); as one primitive its lowering computes each value
# from the loop index in one pass. A leading batch of keys is what vmap produces.

random_bits_p = Primitive("random_bits")


def combine_words(y1, y2, bit_width: int):
    """The value of ``bit_width`` bits made of the two hash words (numpy arrays)."""
    if bit_width == 64:
        return (y1.astype(np.uint64) << np.uint64(32)) | y2.astype(np.uint64)
    bits = y1 ^ y2
    return bits if bit_width == 32 else bits.astype(f"uint{bit_width}")  # the low bits


def _random_bits_impl(keys, *, bit_width, shape):
    keys = np.asarray(keys)
    if keys.dtype != _U32:
        _random_bits_abstract(get_aval(keys, "random_bits"), bit_width=bit_width, shape=shape)
    batch = keys.shape[:-1]
    n = math.prod(shape)
    idx = np.arange(n, dtype=np.uint64)
    hi = (idx >> np.uint64(32)).astype(_U32)
    lo = idx.astype(_U32)
    k1 = keys[..., 0].reshape(batch + (1,))
    k2 = keys[..., 1].reshape(batch + (1,))
    y1, y2 = _threefry_impl(k1, k2, hi, lo)
    out = combine_words(np.asarray(y1), np.asarray(y2), bit_width)
    return out.reshape(batch + tuple(shape))[()]


def _random_bits_abstract(keys, *, bit_width, shape):
    if keys.dtype != _U32 or keys.ndim == 0 or keys.shape[-1] != 2:
        raise TypeError(f"random_bits: keys must be uint32 of shape (..., 2), got "
                        f"{keys.str_short()}")
    if bit_width not in (8, 16, 32, 64):
        raise TypeError(f"random_bits: bit_width must be 8, 16, 32 or 64, got {bit_width}")
    return ShapedArray(keys.shape[:-1] + tuple(shape), np.dtype(f"uint{bit_width}"))


def _random_bits_jvp(primals, tangents, **params):
    out = random_bits_p.bind(*primals, **params)
    return out, Zero.like(out)


def _random_bits_batch(vals, dims, **params):
    (keys,), (d,) = vals, dims
    return random_bits_p.bind(move_bdim_to_front(keys, d), **params), 0


random_bits_p.impl = _random_bits_impl
random_bits_p.abstract_eval = _random_bits_abstract
random_bits_p.jvp = _random_bits_jvp
random_bits_p.batch = _random_bits_batch


def threefry_random_bits(key, bit_width: int, shape):
    """Uniform random unsigned integers of ``bit_width`` (8, 16, 32 or 64) bits and
    ``shape`` from one raw key (uint32 of shape (2,)).

    >>> import numpy as np
    >>> from xform.lax.random_bits import threefry_random_bits
    >>> threefry_random_bits(np.zeros(2, np.uint32), 32, (3,)).tolist()
    [4070199207, 4202968722, 1427181096]
    """
    if bit_width not in (8, 16, 32, 64):
        raise TypeError(f"random bits: bit_width must be 8, 16, 32 or 64, got {bit_width}")
    shape = tuple(int(d) for d in shape)
    if math.prod(shape) > 2 ** 64:
        raise NotImplementedError("random bits: arrays of more than 2**64 elements")
    return random_bits_p.bind(_as_u32(key, "random_bits"), bit_width=bit_width, shape=shape)
