"""PRNG keys: typed keys (``key``), raw keys (``PRNGKey``) and the key operations."""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import numpy as xnp
from ..core.pytree import register_pytree_node
from ..core.trace import Tracer, get_aval
from ..lax import random_bits as rb

IMPL_NAME = "threefry2x32"
_U32 = np.dtype(np.uint32)


class KeyDtype:
    """The dtype of typed key arrays (JAX's ``key<fry>``): one threefry2x32 key per
    element, stored as two uint32 words."""

    name = "key<fry>"
    impl = IMPL_NAME

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other) -> bool:
        return isinstance(other, KeyDtype) or other == self.name

    def __hash__(self) -> int:
        return hash(self.name)


KEY_DTYPE = KeyDtype()


class PRNGKeyArray:
    """An array of typed PRNG keys (what ``xform.random.key`` returns; JAX's typed key
    arrays). It holds the raw key data, a ``uint32`` array (numpy or traced) of shape
    ``(*shape, 2)``; ``shape`` excludes the trailing key-data axis. It is a pytree (the
    data is its one leaf), so it passes through ``jit``, ``vmap`` (over leading axes),
    ``grad`` and control flow.

    >>> import xform
    >>> k = xform.random.split(xform.random.key(0), 3)
    >>> k.shape, k[1].shape, k.dtype
    ((3,), (), key<fry>)
    """

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data

    # -- array-like structure ---------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(_shape(self._data)[:-1])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self) -> KeyDtype:
        return KEY_DTYPE

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d key array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d key array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, idx) -> "PRNGKeyArray":
        if not isinstance(idx, tuple):
            idx = (idx,)
        if any(i is Ellipsis for i in idx):
            raise IndexError("key arrays: Ellipsis indexing is not supported; index the "
                             "leading axes explicitly")
        return PRNGKeyArray(self._data[idx])

    def reshape(self, *shape) -> "PRNGKeyArray":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return PRNGKeyArray(xnp.reshape(self._data, tuple(shape) + (2,)))

    def ravel(self) -> "PRNGKeyArray":
        return self.reshape(-1)

    def __eq__(self, other):  # elementwise over the key shape, as JAX's key arrays
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented
        return xnp.all(xnp.equal(self._data, other._data), axis=-1)

    def __ne__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented
        return xnp.logical_not(self.__eq__(other))

    __hash__ = None  # type: ignore[assignment]  # unhashable, like numpy arrays

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a typed PRNG key array cannot be converted to a numpy array; use "
                        "xform.random.key_data(keys) for its uint32 data.")

    def __repr__(self) -> str:
        if isinstance(self._data, Tracer):
            return f"PRNGKeyArray(shape={self.shape}, dtype={KEY_DTYPE}, data={self._data!r})"
        return f"PRNGKeyArray(shape={self.shape}, dtype={KEY_DTYPE}) with data:\n{self._data!r}"


register_pytree_node(PRNGKeyArray, lambda k: ((k._data,), None),
                     lambda _, children: PRNGKeyArray(children[0]))


def _shape(x) -> tuple:
    return tuple(get_aval(x).shape) if isinstance(x, Tracer) else np.shape(x)


def _describe(x) -> str:
    if isinstance(x, (bool, int, float, complex)):
        return f"a Python {type(x).__name__} ({x!r})"
    try:
        return f"an array of {get_aval(x).str_short()}"
    except Exception:
        return f"a {type(x).__name__}"


def check_key(name: str, key: Any, *, allow_batched: bool = False) -> tuple[Any, bool]:
    """``(raw key data, whether the key was typed)``; clear errors for anything that is not
    one key (or, with ``allow_batched``, an array of keys)."""
    if isinstance(key, PRNGKeyArray):
        data, typed = key._data, True
    else:
        typed = False
        if isinstance(key, (bool, int, float, complex)) or not (
                isinstance(key, (Tracer, np.ndarray, np.generic, list, tuple))):
            raise TypeError(
                f"xform.random.{name}: expected a PRNG key (a typed key from "
                f"xform.random.key(seed) or a uint32 array of shape (2,) from "
                f"xform.random.PRNGKey(seed)), got {_describe(key)}.")
        data = key if isinstance(key, Tracer) else np.asarray(key)
        aval = get_aval(data)
        if aval.dtype != _U32 or aval.ndim == 0 or aval.shape[-1] != 2:
            raise TypeError(
                f"xform.random.{name}: a raw PRNG key is a uint32 array of shape (2,) (from "
                f"xform.random.PRNGKey(seed)); got {_describe(data)}.")
    shape = _shape(data)[:-1]
    if shape and not allow_batched:
        raise ValueError(
            f"xform.random.{name} accepts a single key, but was given a key array of shape "
            f"{shape} (key data {_shape(data)}); use xform.vmap over the keys to sample with "
            f"each of them.")
    return data, typed


def wrap_if(typed: bool, data):
    return PRNGKeyArray(data) if typed else data


def _seed_value(name: str, seed):
    if isinstance(seed, PRNGKeyArray):
        raise TypeError(f"xform.random.{name} accepts a scalar seed, but was given a PRNG key.")
    if isinstance(seed, bool) or isinstance(seed, np.bool_):
        raise TypeError(f"xform.random.{name}: the seed must be an integer, got {seed!r}.")
    if isinstance(seed, int):
        if not -(2 ** 63) <= seed < 2 ** 63:
            raise OverflowError(f"xform.random.{name}: seed {seed} does not fit in int64.")
        # Python ints are int64 seeds (JAX with jax_enable_x64; JAX's default config keeps
        # only the low 32 bits, which agrees for seeds in [0, 2**31)).
        return np.asarray(seed, np.int64)
    if not isinstance(seed, Tracer):
        seed = np.asarray(seed)
    aval = get_aval(seed)
    if aval.ndim:
        raise TypeError(f"xform.random.{name} accepts a scalar seed, but was given an array "
                        f"of shape {aval.shape}; use xform.vmap to make a batch of keys.")
    if aval.dtype.kind not in "iu":
        raise TypeError(f"xform.random.{name}: the seed must be an integer, got "
                        f"{aval.str_short()}.")
    return seed


def key(seed, *, impl: str | None = None) -> PRNGKeyArray:
    """A typed PRNG key (a key array of shape ``()``) from an integer seed (JAX's
    ``jax.random.key``). Seeds are 64-bit: ``[seed >> 32, seed & 0xFFFFFFFF]``.

    >>> import xform
    >>> xform.random.key_data(xform.random.key(42))
    array([ 0, 42], dtype=uint32)
    """
    _check_impl(impl)
    return PRNGKeyArray(rb.threefry_seed(_seed_value("key", seed)))


def PRNGKey(seed, *, impl: str | None = None):  # noqa: N802 (JAX's name)
    """A raw PRNG key: a ``uint32`` array of shape ``(2,)`` (JAX's legacy
    ``jax.random.PRNGKey``); ``[seed >> 32, seed & 0xFFFFFFFF]`` for a 64-bit seed.

    >>> import xform
    >>> xform.random.PRNGKey(0)
    array([0, 0], dtype=uint32)
    """
    _check_impl(impl)
    return rb.threefry_seed(_seed_value("PRNGKey", seed))


def _check_impl(impl):
    if impl not in (None, IMPL_NAME):
        raise ValueError(f"xform.random: unknown PRNG implementation {impl!r}; only "
                         f"{IMPL_NAME!r} (JAX's default) is available.")


def split(key, num: int | tuple = 2):
    """``num`` new keys (or an array of keys of shape ``num``) from one key; typed keys
    give typed keys, raw keys raw keys (shape ``(*num, 2)``).

    >>> import xform
    >>> xform.random.split(xform.random.PRNGKey(0))
    array([[1797259609, 2579123966],
           [ 928981903, 3453687069]], dtype=uint32)
    """
    data, typed = check_key("split", key)
    shape = tuple(num) if isinstance(num, (tuple, list)) else (operator.index(num),)
    if any(d < 0 for d in shape):
        raise ValueError(f"xform.random.split: num must be non-negative, got {num}")
    return wrap_if(typed, rb.threefry_split(data, shape))


def fold_in(key, data):
    """A new key from ``key`` and a 32-bit integer ``data`` (e.g. a step number or an
    index), the same for the same inputs.

    >>> import xform
    >>> xform.random.fold_in(xform.random.PRNGKey(0), 3)
    array([2467461003, 3840466878], dtype=uint32)
    """
    raw, typed = check_key("fold_in", key)
    if isinstance(data, Tracer):
        aval = get_aval(data)
        if aval.ndim or aval.dtype.kind not in "iu":
            raise TypeError(f"xform.random.fold_in: data must be an integer scalar, got "
                            f"{aval.str_short()}")
    else:
        if np.ndim(data):
            raise TypeError(f"xform.random.fold_in accepts a scalar, but was given an array of "
                            f"shape {np.shape(data)}; use xform.vmap for batching.")
        arr = np.asarray(data)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"xform.random.fold_in: data must be an integer, got {data!r}")
        data = np.asarray(int(arr) % 2 ** 32, _U32)  # 32 bits, as JAX's uint32 conversion
    return wrap_if(typed, rb.threefry_fold_in(raw, data))


def key_data(keys):
    """The raw ``uint32`` data of keys (shape ``(*keys.shape, 2)``); raw keys are returned
    as they are.

    >>> import xform
    >>> xform.random.key_data(xform.random.split(xform.random.key(0), 2)).shape
    (2, 2)
    """
    data, _ = check_key("key_data", keys, allow_batched=True)
    return data


def wrap_key_data(key_bits_array, *, impl: str | None = None) -> PRNGKeyArray:
    """Typed keys from raw key data (a ``uint32`` array of shape ``(..., 2)``); the inverse
    of ``key_data``.

    >>> import numpy as np, xform
    >>> k = xform.random.wrap_key_data(np.array([0, 42], np.uint32))
    >>> bool(k == xform.random.key(42))
    True
    """
    _check_impl(impl)
    if isinstance(key_bits_array, PRNGKeyArray):
        raise TypeError("xform.random.wrap_key_data: the argument is a typed key already.")
    data, _ = check_key("wrap_key_data", key_bits_array, allow_batched=True)
    return PRNGKeyArray(data)


def key_impl(keys) -> str:
    """The name of the PRNG implementation of ``keys``: ``'threefry2x32'``.

    >>> import xform
    >>> xform.random.key_impl(xform.random.key(0))
    'threefry2x32'
    """
    check_key("key_impl", keys, allow_batched=True)
    return IMPL_NAME


def bits(key, shape=(), dtype=None):
    """Uniform random bits as unsigned integers of ``dtype`` (uint8/16/32/64; default
    uint64, JAX's with 64-bit types).

    >>> import numpy as np, xform
    >>> xform.random.bits(xform.random.PRNGKey(0), (3,), np.uint32)
    array([4070199207, 4202968722, 1427181096], dtype=uint32)
    """
    data, _ = check_key("bits", key)
    dtype = np.dtype(np.uint64 if dtype is None else dtype)
    if dtype.kind != "u":
        raise ValueError(f"xform.random.bits: dtype must be an unsigned integer dtype, "
                         f"got {dtype}")
    return rb.threefry_random_bits(data, dtype.itemsize * 8, canonical_shape("bits", shape))


def canonical_shape(name: str, shape) -> tuple:
    """A shape argument as a tuple of non-negative ints, with a clear error otherwise."""
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        out = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"xform.random.{name}: shape must be a tuple of ints, got "
                        f"{shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"xform.random.{name}: shape must be non-negative, got {out}")
    return out
