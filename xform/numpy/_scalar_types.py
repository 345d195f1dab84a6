"""``xform.numpy``'s scalar types (``xnp.float32``, ``xnp.int32``, ...) and ``ndarray``.

The scalar types are subclasses of numpy's, so they are dtypes everywhere numpy takes
one (``dtype=xnp.float32``, ``np.dtype(xnp.float32)``, ``issubdtype``), and calling one
works as in JAX also on traced values (``xnp.float32(x)`` inside ``jit`` converts x),
while on concrete values it returns what numpy's type returns (a numpy scalar, or an
array for array input).

``xnp.ndarray`` is an abstract class: ``isinstance(x, xnp.ndarray)`` holds for numpy
arrays (as in numpy) and for traced arrays (as ``jnp.ndarray`` does in JAX).
"""
from __future__ import annotations

import numpy as np

from ..core.trace import Tracer

__all__: list[str] = []


def _has_tracer(x) -> bool:
    if isinstance(x, Tracer):
        return True
    return isinstance(x, (list, tuple)) and any(_has_tracer(v) for v in x)


def _scalar_type(np_type: type, name: str) -> type:
    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and _has_tracer(args[0]):
            from ._creation import asarray

            return asarray(args[0], dtype=np_type)
        r = np_type(*args, **kwargs)
        if type(r) is np.ndarray:
            from ..core.array import Array

            return r.view(Array)
        return r

    doc = (f"numpy's ``{np_type.__name__}`` as a dtype; called, it converts its argument "
           f"(also a traced one, as JAX's ``jnp.{name}``).\n\n"
           f"    >>> import numpy as np, xform, xform.numpy as xnp\n"
           f"    >>> np.dtype(xnp.{name}) == np.dtype(np.{np_type.__name__})\n    True\n")
    return type(name, (np_type,), {"__new__": __new__, "__doc__": doc,
                                   "__module__": "xform.numpy", "__slots__": ()})


_NAMES = {
    "bool_": np.bool_, "int8": np.int8, "int16": np.int16, "int32": np.int32,
    "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "float16": np.float16, "float32": np.float32, "float64": np.float64,
    "complex64": np.complex64, "complex128": np.complex128,
}


def scalar_types() -> dict:
    """The scalar types by name, with numpy's aliases (``bool``, ``int_``, ``single``,
    ``double``, JAX's ``float_``/``complex_``) mapped to the same classes."""
    types = {name: _scalar_type(t, name) for name, t in _NAMES.items()}
    def same(t):  # e.g. longlong is int64's equal dtype, not the same type
        return next(types[n] for n, u in _NAMES.items() if np.dtype(u) == np.dtype(t))

    aliases = {"bool": np.bool_, "int_": np.int_, "uint": np.uint, "intp": np.intp,
               "uintp": np.uintp, "half": np.half, "single": np.single, "double": np.double,
               "longlong": np.longlong, "csingle": np.csingle, "cdouble": np.cdouble,
               "float_": np.float64, "complex_": np.complex128}
    for name, t in aliases.items():
        types[name] = same(t)
    return types


class _NdarrayMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, (np.ndarray, Tracer))

    def __subclasscheck__(cls, sub) -> bool:
        return isinstance(sub, type) and issubclass(sub, (np.ndarray, Tracer))


class ndarray(metaclass=_NdarrayMeta):
    """The array type for ``isinstance`` checks: true for numpy arrays (xform's results
    are numpy arrays) and for traced arrays inside transformations (as JAX's
    ``jnp.ndarray``). Calling it constructs a numpy ``ndarray``.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> isinstance(np.ones(2), xnp.ndarray)
    True
    >>> seen = []
    >>> _ = xform.jit(lambda x: seen.append(isinstance(x, xnp.ndarray)) or x)(1.0)
    >>> seen
    [True]
    """

    def __new__(cls, *args, **kwargs):
        return np.ndarray(*args, **kwargs)
