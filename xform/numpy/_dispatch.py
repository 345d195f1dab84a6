"""numpy's override protocols on tracers: ``numpy.sin(tracer)``, ``numpy.sum(tracer)``,
``numpy_array @ tracer`` ... run the xform.numpy function of the same name, so existing
numpy code can be transformed unchanged. A numpy function without an xform version
raises a TypeError naming it.
"""
from __future__ import annotations

import numpy as np

_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
           "logical_and": "all", "logical_or": "any", "fmax": "nanmax", "fmin": "nanmin"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}
_IGNORED_KW = {"casting": ("same_kind",), "order": ("K",), "subok": (True,)}


def _ns(module: str):
    from . import linalg
    import xform.numpy as xnp

    if module == "numpy":
        return xnp
    if module == "numpy.linalg":
        return linalg
    if module == "numpy.fft":
        from . import fft
        return fft
    return None


def _missing(qualname: str) -> TypeError:
    return TypeError(
        f"{qualname} has no xform implementation yet; it was called on a traced value "
        f"(inside grad/vmap/jit). Use an xform.numpy function instead, or compute it "
        f"outside the transformation.")


def _clean_kwargs(qualname, kwargs):
    kw = {}
    for k, v in kwargs.items():
        if k in _IGNORED_KW and v in _IGNORED_KW[k]:
            continue
        if k in ("casting", "order", "subok", "signature", "axes"):
            raise TypeError(f"{qualname}: argument {k}={v!r} is not supported by xform")
        kw[k] = v
    return kw


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tracer.__array_ufunc__``: numpy ufuncs on tracers dispatch to xform.numpy."""
    import xform.numpy as xnp

    name = ufunc.__name__
    qual = f"numpy.{name}" + ("" if method == "__call__" else f".{method}")
    if kwargs.get("out") is not None:
        raise TypeError(f"{qual}: out= is not supported on traced values (xform arrays are "
                        f"immutable); use the returned value.")
    kwargs.pop("out", None)
    kwargs = _clean_kwargs(qual, kwargs)
    if method == "__call__":
        fn = getattr(xnp, name, None)
        if fn is None or not callable(fn):
            raise _missing(qual)
        return fn(*inputs, **kwargs)
    fn = getattr(xnp, name, None)
    if isinstance(fn, xnp.ufunc) and method in ("reduce", "accumulate", "outer", "reduceat"):
        return getattr(fn, method)(*inputs, **kwargs)
    if method in ("reduce", "accumulate"):
        target = (_REDUCE if method == "reduce" else _ACCUMULATE).get(name)
        if target is None:
            raise _missing(qual)
        (a,) = inputs
        kwargs.setdefault("axis", 0)
        return getattr(xnp, target)(a, **kwargs)
    if method == "outer":
        if fn is None:
            raise _missing(qual)
        a, b = inputs
        a = xnp.asarray(a)
        b = xnp.asarray(b)
        a = xnp.reshape(a, tuple(xnp.shape(a)) + (1,) * xnp.ndim(b))
        return fn(a, b, **kwargs)
    if method == "at":
        raise TypeError(f"{qual}: numpy's in-place ufunc.at cannot update a traced array (xform "
                        f"arrays are immutable); use xform.numpy.{name}.at(a, indices, ..., "
                        f"inplace=False) and the returned array.")
    raise _missing(qual)


def array_function(self, func, types, args, kwargs):
    """``Tracer.__array_function__``: numpy functions on tracers dispatch to xform.numpy."""
    module = getattr(func, "__module__", None) or "numpy"
    name = func.__name__
    qual = f"{module}.{name}"
    ns = _ns(module)
    fn = getattr(ns, name, None) if ns is not None else None
    if fn is None or fn is func or not callable(fn) or isinstance(fn, type):
        raise _missing(qual)
    return fn(*args, **kwargs)


def _result_type(*arrays_and_dtypes):
    """numpy.result_type, also for traced arrays (their dtypes are used).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.result_type(np.ones(2, np.float32), np.int64)
    dtype('float64')
    """
    from ..core.trace import Tracer

    return np.result_type(*[a.dtype if isinstance(a, Tracer) else a for a in arrays_and_dtypes])


def _can_cast(from_, to, casting="safe"):
    """numpy.can_cast, also for traced arrays (their dtype is used).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.can_cast(np.int32, np.float64)
    True
    """
    from ..core.trace import Tracer

    if isinstance(from_, Tracer):
        from_ = from_.dtype
    return bool(np.can_cast(from_, to, casting))
