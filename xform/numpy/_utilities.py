"""numpy's utility names that JAX's ``jax.numpy`` also has: dtype queries (``isdtype``,
``iterable``), printing (``array_repr``, ``array_str``, the print options) and file and
buffer input/output (``load``, ``save``, ``savez``, ``frombuffer``, ``fromstring``,
``from_dlpack``; ``fromfile``/``fromiter`` raise as in JAX).

Concrete arrays *are* numpy arrays here, so these are numpy's functions with the
results made ``xform.Array`` objects, and errors naming what to do with traced values.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from ..core.trace import Tracer

__all__ = ["finfo", "iinfo", "isdtype", "iterable", "array_repr", "array_str", "get_printoptions",
           "set_printoptions", "printoptions", "load", "save", "savez", "frombuffer",
           "fromstring", "fromfile", "fromiter", "from_dlpack", "einsum_path"]


def _as_dtype(dtype, where: str) -> np.dtype:
    if isinstance(dtype, Tracer) or hasattr(dtype, "aval"):
        raise TypeError(f"{where}: expected a dtype, got a traced array; pass x.dtype.")
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {dtype!r} is not a dtype.") from None


def _dtype_of(x) -> Any:
    """The dtype of an array or traced value; anything else is passed to numpy as is."""
    if isinstance(x, (np.ndarray, np.generic, Tracer)):
        return x.dtype
    return x


def finfo(dtype) -> np.finfo:
    """numpy's ``finfo`` of a floating dtype, or of an array's (also a traced one's) dtype.

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.finfo(xnp.float32).eps), xnp.finfo(np.ones(2)).bits
    (1.1920928955078125e-07, 64)
    """
    return np.finfo(_dtype_of(dtype))


def iinfo(int_type) -> np.iinfo:
    """numpy's ``iinfo`` of an integer dtype, or of an array's (also a traced one's) dtype.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.iinfo(xnp.int32).max, xnp.iinfo(np.arange(3, dtype=np.uint8)).max
    (2147483647, 255)
    """
    return np.iinfo(_dtype_of(int_type))


def isdtype(dtype, kind) -> bool:
    """Whether ``dtype`` is of ``kind`` (the array API's ``isdtype``): a dtype, or one of
    'bool', 'signed integer', 'unsigned integer', 'integral', 'real floating',
    'complex floating', 'numeric', or a tuple of these.

    >>> import xform.numpy as xnp
    >>> xnp.isdtype(xnp.float32, "real floating"), xnp.isdtype(xnp.int8, ("bool", "integral"))
    (True, True)
    >>> xnp.isdtype(xnp.complex64, xnp.complex128)
    False
    """
    dt = _as_dtype(dtype, "isdtype")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    norm = tuple(k if isinstance(k, str) else _as_dtype(k, "isdtype").type for k in kinds)
    return bool(np.isdtype(dt.type, norm))


def iterable(y) -> bool:
    """Whether ``iter(y)`` works (numpy's ``iterable``; 0-d arrays are not iterable).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.iterable([1, 2]), xnp.iterable(3.0), xnp.iterable(np.float64(1.0))
    (True, False, False)
    """
    if isinstance(y, Tracer):
        return y.aval.ndim > 0
    return bool(np.iterable(y))


def _concrete(x, name: str):
    if isinstance(x, Tracer):
        v = x._concrete_value()
        if v is None:
            raise TypeError(f"{name}: the value is traced (inside jit); print it with "
                            f"xform.debug.print instead.")
        return np.asarray(v)
    return np.asarray(x)


def array_repr(arr, max_line_width: int | None = None, precision: int | None = None,
               suppress_small: bool | None = None) -> str:
    """numpy's ``array_repr`` (also of concrete traced values, e.g. under ``grad``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.array_repr(np.array([1.0, 2.5]))
    'array([1. , 2.5])'
    """
    return np.array_repr(_concrete(arr, "array_repr"), max_line_width, precision, suppress_small)


def array_str(a, max_line_width: int | None = None, precision: int | None = None,
              suppress_small: bool | None = None) -> str:
    """numpy's ``array_str``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.array_str(np.array([1.0, 2.5]))
    '[1.  2.5]'
    """
    return np.array_str(_concrete(a, "array_str"), max_line_width, precision, suppress_small)


def get_printoptions() -> Any:
    """numpy's print options (results print as numpy arrays).

    >>> import xform.numpy as xnp
    >>> xnp.get_printoptions()["precision"]
    8
    """
    return np.get_printoptions()


def set_printoptions(*args, **kwargs) -> None:
    """Set numpy's print options, which xform's arrays use.

    >>> import xform.numpy as xnp
    >>> old = xnp.get_printoptions(); xnp.set_printoptions(precision=3)
    >>> xnp.array_str(xnp.array([1 / 3]))
    '[0.333]'
    >>> xnp.set_printoptions(**old)
    """
    np.set_printoptions(*args, **kwargs)


@contextlib.contextmanager
def printoptions(*args, **kwargs) -> Iterator[Any]:
    """Context manager: numpy's print options for the duration.

    >>> import xform.numpy as xnp
    >>> with xnp.printoptions(precision=2):
    ...     print(xnp.array([1 / 3]))
    [0.33]
    """
    with np.printoptions(*args, **kwargs) as opts:
        yield opts


def _as_result(x):
    from ..core.array import Array

    return x.view(Array) if type(x) is np.ndarray else x


def load(file, *args, **kwargs) -> Any:
    """numpy's ``load``: an ``.npy`` file gives an array; ``.npz`` files give numpy's
    lazy ``NpzFile`` mapping (as JAX). Not traceable (it reads a file).

    >>> import io, numpy as np, xform.numpy as xnp
    >>> f = io.BytesIO(); xnp.save(f, np.arange(3)); _ = f.seek(0)
    >>> xnp.load(f)
    array([0, 1, 2])
    """
    return _as_result(np.load(file, *args, **kwargs))


def save(file, arr, allow_pickle: bool = True) -> None:
    """numpy's ``save`` (of a concrete array; a traced one is an error).

    >>> import io, numpy as np, xform.numpy as xnp
    >>> f = io.BytesIO(); xnp.save(f, np.ones(2)); f.tell() > 0
    True
    """
    np.save(file, _concrete(arr, "save"), allow_pickle=allow_pickle)


def savez(file, *args, allow_pickle: bool = True, **kwds) -> None:
    """numpy's ``savez`` (of concrete arrays).

    >>> import io, numpy as np, xform.numpy as xnp
    >>> f = io.BytesIO(); xnp.savez(f, a=np.ones(2)); _ = f.seek(0)
    >>> xnp.load(f)["a"]
    array([1., 1.])
    """
    np.savez(file, *[_concrete(a, "savez") for a in args], allow_pickle=allow_pickle,
             **{k: _concrete(v, "savez") for k, v in kwds.items()})


def frombuffer(buffer, dtype=float, count: int = -1, offset: int = 0):
    """numpy's ``frombuffer``, copied (the result does not alias the buffer).

    >>> import xform.numpy as xnp
    >>> xnp.frombuffer(b"\\x01\\x02", dtype=xnp.uint8)
    array([1, 2], dtype=uint8)
    """
    return _as_result(np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).copy())


def fromstring(string: str, dtype=float, count: int = -1, *, sep: str):
    """numpy's ``fromstring`` of a text string (``sep`` is required, as numpy's binary
    mode is deprecated).

    >>> import xform.numpy as xnp
    >>> xnp.fromstring("1 2 3", sep=" ")
    array([1., 2., 3.])
    """
    return _as_result(np.fromstring(string, dtype=dtype, count=count, sep=sep))


def _impure(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"xform.numpy.{name}() is not implemented because it may be non-pure and thus unsafe "
        f"under jit and other transformations (it consumes a file or iterator). Use "
        f"xform.numpy.asarray(np.{name}(...)) outside the transformed function instead (as "
        f"JAX recommends).")


def fromfile(*args, **kwargs):
    """Raises, as JAX's ``jnp.fromfile``: reading a file is a side effect; call
    ``np.fromfile`` outside transformations.

    >>> import xform.numpy as xnp
    >>> try:
    ...     xnp.fromfile("data.bin")
    ... except NotImplementedError as e:
    ...     print(str(e)[:40])
    xform.numpy.fromfile() is not implemente
    """
    raise _impure("fromfile")


def fromiter(*args, **kwargs):
    """Raises, as JAX's ``jnp.fromiter``: consuming an iterator is a side effect; call
    ``np.fromiter`` outside transformations.

    >>> import xform.numpy as xnp
    >>> try:
    ...     xnp.fromiter(iter([1, 2]), float)
    ... except NotImplementedError as e:
    ...     print(str(e)[:40])
    xform.numpy.fromiter() is not implemente
    """
    raise _impure("fromiter")


def from_dlpack(x, /, *, device=None, copy: bool | None = None):
    """An array from any object implementing the DLPack protocol (numpy's
    ``from_dlpack``; ``device`` must be the CPU).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.from_dlpack(np.arange(3.0))
    array([0., 1., 2.])
    """
    if device is not None and str(getattr(device, "platform", device)).lower() != "cpu":
        raise ValueError(f"from_dlpack: xform runs on the CPU; got device={device!r}.")
    if copy is None:
        return _as_result(np.from_dlpack(x))
    return _as_result(np.from_dlpack(x, copy=copy))


def einsum_path(subscripts: str, /, *operands, optimize: Any = "auto") -> tuple[list, str]:
    """The contraction order ``einsum`` would use (``optimize``: 'auto'/'greedy',
    'optimal', True, False or an explicit path), as ``(path, description)``; the path is
    a list of operand-index tuples, the format ``einsum(optimize=path)`` takes (JAX's
    format: numpy's leading 'einsum_path' entry dropped). Only shapes are used, so traced
    operands are fine.

    >>> import numpy as np, xform.numpy as xnp
    >>> path, info = xnp.einsum_path("ij,jk,kl->il", np.ones((2, 50)), np.ones((50, 3)),
    ...                              np.ones((3, 4)))
    >>> path
    [(0, 1), (0, 1)]
    """
    from ._dot import _einsum_path

    return _einsum_path(subscripts, operands, optimize)
