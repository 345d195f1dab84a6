"""``log``, ``erf``, ``tan`` and ``pow`` computed by the C math library, as JAX computes them
on CPU.

XLA's CPU code generation computes these functions by calling the C library (``log``,
``erf`` and ``tan`` in float64; ``tan``/``tanf`` and ``pow``/``powf`` in both float32
and float64), so their last bits are the C library's. ``xform.random`` uses these
primitives where a JAX sampler applies them, so that the same seed gives JAX's bits;
numpy's own ``log``/``tan``/``power`` are vectorized approximations that differ in the
last bit for a few percent of the inputs. (XLA's float32 ``log`` and ``erf`` and its
float64 ``log1p``, ``exp`` and ``erf_inv`` are its own polynomials: ``random_math.py``,
``random_math64.py``.)

XLA's kernels run with denormals-are-zero and flush-to-zero, which reach into the C
functions' arithmetic: measured, ``log`` of a subnormal is ``-inf``, ``erf`` of one is 0,
subnormal ``pow`` results are 0, ``tan`` returns a subnormal argument as it is; so here.
(Not reproduced: a subnormal base of ``pow``, which the C function misreads under
denormals-are-zero.)

The numpy ``impl`` calls the C function once per element (through Python's ``math``
module, which calls it for finite arguments, or ``ctypes``; a few hundred nanoseconds
per element); the Numba lowering (``xform/backend/numba/random.py``) calls it from the
kernel (Numba's ``math.log``/``tan``/``erf`` and ``**`` on floats are calls into the same
library), so eager, jitted and JAX's values agree bit for bit.
"""
from __future__ import annotations

from typing import Any

import ctypes
import ctypes.util
import math

import numpy as np

from .random_math import float_primitive, unary_jvp

__all__ = ["libm_log", "libm_erf", "libm_tan", "libm_pow", "log_c"]

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
_LIBM = None
_FUNCS: dict = {}


def _library():
    """The C math library of this process (the one XLA's and Numba's kernels call)."""
    global _LIBM
    if _LIBM is None:
        for name in ("m", "c", "ucrtbase", "msvcrt"):
            path = ctypes.util.find_library(name)
            if path:
                try:
                    _LIBM = ctypes.CDLL(path)
                    break
                except OSError:
                    continue
        else:
            raise OSError("xform.lax.random_libm: cannot find the C math library (libm).")
    return _LIBM


def _c_function(name: str, nargs: int, dtype: np.dtype):
    """The C function ``name`` (``name + 'f'`` for float32) as a ctypes callable."""
    cname = name + ("f" if dtype == F32 else "")
    fn = _FUNCS.get(cname)
    if fn is None:
        ctype = ctypes.c_float if dtype == F32 else ctypes.c_double
        fn = getattr(_library(), cname)
        fn.restype = ctype
        fn.argtypes = [ctype] * nargs
        _FUNCS[cname] = fn
    return fn


def _flush(x):
    """Subnormal values as (signed) zeros."""
    x = np.asarray(x)
    tiny = np.finfo(x.dtype).tiny
    return np.where(np.abs(x) < tiny, np.copysign(x.dtype.type(0), x), x)


def _per_element(fn, dtype, *arrays):
    """``fn`` (a Python callable of floats) applied to each element of the arrays."""
    if arrays[0].size == 0:
        return np.empty(arrays[0].shape, dtype)
    lists = [a.ravel().tolist() for a in arrays]
    out = np.fromiter(map(fn, *lists), dtype=F64, count=arrays[0].size)
    return out.astype(dtype).reshape(arrays[0].shape)


def _unary_c(name: str, python_fn, x):
    """``name`` of a float32/float64 array by the C library. ``python_fn`` (the ``math``
    module's function, which calls the C one for finite arguments and is faster than
    ctypes) is used for float64 finite values, the ctypes function for the others."""
    x = np.asarray(x)
    dtype = x.dtype
    out = np.empty(x.shape, dtype)
    finite = np.isfinite(x)
    if dtype == F64 and python_fn is not None:
        out[finite] = _per_element(python_fn, dtype, x[finite])
        rest = ~finite
        out[rest] = _per_element(_c_function(name, 1, dtype), dtype, x[rest])
    else:
        out[...] = _per_element(_c_function(name, 1, dtype), dtype, x)
    return out


def log_c(x):
    """The C library's ``log`` of a float64 array (what XLA's float64 ``log`` calls)."""
    x = np.asarray(x, F64)
    with np.errstate(all="ignore"):
        out = np.array(np.log(x))  # 0, negatives, inf, nan: the C function's results
    pos = (x > 0) & np.isfinite(x)
    out[pos] = _per_element(math.log, F64, x[pos])
    return out


def _log_impl(x):
    x = _flush(x)
    if x.dtype == F64:
        return log_c(x)[()]
    return _unary_c("log", None, x)[()]


def _erf_impl(x):
    return _flush(_unary_c("erf", math.erf, _flush(x)))[()]


def _tan_impl(x):
    return _unary_c("tan", math.tan, np.asarray(x))[()]


def _pow_impl(x, y):
    x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    return _flush(_per_element(_c_function("pow", 2, x.dtype), x.dtype, x, y))[()]


# -- primitives -------------------------------------------------------------------------------


libm_log_p = float_primitive("libm_log", _log_impl, 1, (F32, F64))
libm_erf_p = float_primitive("libm_erf", _erf_impl, 1, (F32, F64))
libm_tan_p = float_primitive("libm_tan", _tan_impl, 1, (F32, F64))
libm_pow_p = float_primitive("libm_pow", _pow_impl, 2, (F32, F64))


def _log_deriv(g, ans, x):
    from .elementwise import div

    return div(g, x)


def _erf_deriv(g, ans, x):
    from ..core.trace import get_aval
    from .elementwise import exp, mul, neg, square

    dt = np.dtype(get_aval(ans).dtype)
    return mul(g, mul(dt.type(2 / math.sqrt(math.pi)), exp(neg(square(x)))))


def _tan_deriv(g, ans, x):
    from ..core.trace import get_aval
    from .elementwise import add, mul, square

    return mul(g, add(np.dtype(get_aval(ans).dtype).type(1), square(ans)))


def _pow_jvp(primals, tangents):
    from ..core.trace import get_aval
    from ..interpreters.jvp import Zero
    from .elementwise import add, eq, log, mul, pow, select, sub
    from .structural import broadcast_to_shape

    x, y = primals
    tx, ty = tangents
    ans = libm_pow_p.bind(x, y)
    dt = np.dtype(get_aval(ans).dtype)
    terms = []
    if type(tx) is not Zero:  # y x**(y - 1)
        terms.append(mul(tx, mul(y, pow(x, sub(y, dt.type(1))))))
    if type(ty) is not Zero:  # log(x) x**y, with log(x) read as 0 at x = 0 (JAX's rule)
        safe = select(eq(x, dt.type(0)), add(mul(x, dt.type(0)), dt.type(1)), x)
        terms.append(mul(ty, mul(log(safe), ans)))
    if not terms:
        return ans, Zero.like(ans)
    total = terms[0] if len(terms) == 1 else add(terms[0], terms[1])
    shape = get_aval(ans).shape
    return ans, total if get_aval(total).shape == shape else broadcast_to_shape(total, shape)


unary_jvp(libm_log_p, _log_deriv)
unary_jvp(libm_erf_p, _erf_deriv)
unary_jvp(libm_tan_p, _tan_deriv)
libm_pow_p.jvp = _pow_jvp


def _bind(prim, *args):
    from ..core.trace import get_aval

    prim.abstract_eval(*(get_aval(x, prim.name) for x in args))  # the dtype check, eagerly too
    return prim.bind(*args)


def libm_log(x: Any) -> Any:
    """Natural logarithm of float32/float64 values by the C library (``log``/``logf``).

    >>> import numpy as np
    >>> from xform.lax.random_libm import libm_log
    >>> libm_log(np.array([1.0, 0.5, 0.0])).tolist()
    [0.0, -0.6931471805599453, -inf]
    """
    return _bind(libm_log_p, x)


def libm_erf(x: Any) -> Any:
    """Error function of float32/float64 values by the C library (``erf``/``erff``).

    >>> import numpy as np
    >>> from xform.lax.random_libm import libm_erf
    >>> libm_erf(np.array([0.0, 1.0, -np.inf])).round(12).tolist()
    [0.0, 0.84270079295, -1.0]
    """
    return _bind(libm_erf_p, x)


def libm_tan(x: Any) -> Any:
    """Tangent of float32/float64 values by the C library (``tan``/``tanf``).

    >>> import numpy as np
    >>> from xform.lax.random_libm import libm_tan
    >>> libm_tan(np.array([0.0, np.pi / 4], np.float32)).tolist()
    [0.0, 1.0]
    """
    return _bind(libm_tan_p, x)


def libm_pow(x: Any, y: Any) -> Any:
    """``x ** y`` of float32/float64 values (broadcasting; one dtype) by the C library
    (``pow``/``powf``).

    >>> import numpy as np
    >>> from xform.lax.random_libm import libm_pow
    >>> libm_pow(np.array([4.0, 2.0]), np.array([0.5, -1.0])).tolist()
    [2.0, 0.5]
    """
    return _bind(libm_pow_p, x, y)
