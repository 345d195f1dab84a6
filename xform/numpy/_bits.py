"""Bit routines: packbits, unpackbits, bitwise_count (numpy's names and results).

They are built from shifts, masks and sums on xform.lax, so they trace, vmap and jit
like any integer operation (integers have no derivatives).
"""
from __future__ import annotations

import numpy as np

from .. import lax
from ._creation import asarray
from ._manipulation import concatenate, moveaxis, ravel, reshape
from ._promote import array_arg, dtype_of, shape
from ._ufuncs import absolute, bitwise_and, not_equal, right_shift

__all__ = ["packbits", "unpackbits", "bitwise_count"]

# SWAR population count masks (Hacker's Delight, 5-2): counts bits in parallel without
# a loop over the bit positions.
_M1, _M2, _M4, _H01 = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
                       0x0101010101010101)


def _check_bitorder(name: str, bitorder: str) -> None:
    if bitorder not in ("big", "little"):
        raise ValueError(f"{name}: bitorder must be 'big' or 'little', got {bitorder!r}.")


def _bit_axis(name: str, a, axis):
    """``a`` raveled (axis None) or with ``axis`` normalized; returns (a, axis)."""
    if axis is None:
        return ravel(a), 0
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}.")
    nd = len(shape(a))
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for an array of "
                                      f"dimension {nd}.")
    return a, int(axis) % nd


def packbits(a, axis: int | None = None, bitorder: str = "big"):
    """Pack the elements of an integer or boolean array (nonzero = 1) into the bits of
    uint8 values along ``axis`` (the flattened array for None), padding with zeros to a
    multiple of 8; ``bitorder`` 'big' puts the first element in the highest bit.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.packbits(np.array([1, 0, 1, 1, 0, 0, 0, 0, 1]))
    array([176, 128], dtype=uint8)
    >>> xnp.packbits(np.array([[True, False, True]]), axis=1, bitorder="little")
    array([[5]], dtype=uint8)
    """
    _check_bitorder("packbits", bitorder)
    a = array_arg(a, "packbits")
    if dtype_of(a).kind not in "biu":
        raise TypeError(f"packbits: expected an integer or boolean array, got dtype "
                        f"{dtype_of(a)}.")
    a, axis = _bit_axis("packbits", a, axis)
    bits = asarray(not_equal(a, 0), dtype=np.uint8)
    bits = moveaxis(bits, axis, -1)
    n = shape(bits)[-1]
    pad = -n % 8
    if pad:
        bits = concatenate([bits, lax.full(shape(bits)[:-1] + (pad,), 0, np.uint8)], axis=-1)
    groups = reshape(bits, shape(bits)[:-1] + ((n + pad) // 8, 8))
    weights = 1 << np.arange(8)[::-1] if bitorder == "big" else 1 << np.arange(8)
    # a weighted sum of 0/1 values in uint64 (no overflow), then narrowed
    packed = lax.reduce_sum(lax.mul(asarray(groups, dtype=np.uint64),
                                    weights.astype(np.uint64)), (len(shape(groups)) - 1,))
    return moveaxis(asarray(packed, dtype=np.uint8), -1, axis)


def unpackbits(a, axis: int | None = None, count: int | None = None, bitorder: str = "big"):
    """Unpack the bits of a uint8 array into 0/1 uint8 values along ``axis`` (the
    flattened array for None); ``count`` keeps that many bits (zero-padded beyond the
    data; negative: drop that many from the end).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unpackbits(np.array([5], dtype=np.uint8))
    array([0, 0, 0, 0, 0, 1, 0, 1], dtype=uint8)
    >>> xnp.unpackbits(np.array([5], dtype=np.uint8), count=3, bitorder="little")
    array([1, 0, 1], dtype=uint8)
    """
    _check_bitorder("unpackbits", bitorder)
    a = array_arg(a, "unpackbits")
    if dtype_of(a) != np.uint8:
        raise TypeError(f"unpackbits: expected an array of dtype uint8, got {dtype_of(a)}.")
    if count is not None and (isinstance(count, bool) or not isinstance(count, (int, np.integer))):
        raise TypeError(f"unpackbits: count must be an int or None, got {count!r}.")
    a, axis = _bit_axis("unpackbits", a, axis)
    a = moveaxis(a, axis, -1)
    shifts = np.arange(8)[::-1] if bitorder == "big" else np.arange(8)
    bits = bitwise_and(right_shift(a[..., None], shifts.astype(np.uint8)), np.uint8(1))
    lead = shape(a)[:-1]
    bits = reshape(bits, lead + (shape(a)[-1] * 8,))
    if count is not None:
        n = shape(bits)[-1]
        keep = count if count >= 0 else max(n + count, 0)
        if keep <= n:
            bits = bits[..., :keep]
        else:
            bits = concatenate([bits, lax.full(lead + (keep - n,), 0, np.uint8)], axis=-1)
    return moveaxis(bits, -1, axis)


def bitwise_count(x, /):
    """The number of 1 bits in the absolute value of each integer (numpy's
    ``bitwise_count``; uint8 results).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.bitwise_count(np.array([0, 7, -1, 255]))
    array([0, 3, 1, 8], dtype=uint8)
    """
    x = array_arg(x, "bitwise_count")
    dt = dtype_of(x)
    if dt.kind == "b":
        return asarray(x, dtype=np.uint8)
    if dt.kind not in "iu":
        raise TypeError(f"bitwise_count: expected an integer or boolean array, got dtype {dt}.")
    v = asarray(absolute(x) if dt.kind == "i" else x, dtype=np.uint64)
    if dt.kind == "i":  # abs(INT_MIN) wraps to itself; as unsigned of the same width it is 2**(n-1)
        v = bitwise_and(v, np.uint64((1 << (8 * dt.itemsize)) - 1))
    u = np.uint64
    v = v - bitwise_and(right_shift(v, u(1)), u(_M1))
    v = bitwise_and(v, u(_M2)) + bitwise_and(right_shift(v, u(2)), u(_M2))
    v = bitwise_and(v + right_shift(v, u(4)), u(_M4))
    return asarray(right_shift(v * u(_H01), u(56)), dtype=np.uint8)
