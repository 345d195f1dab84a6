"""Elementwise functions (numpy's ufuncs) on xform.lax.

Each function resolves dtypes exactly like the numpy ufunc of the same name (NEP 50:
Python scalars are weak), broadcasts like numpy (errors name the function and the
shapes), converts its operands and binds lax primitives. Composite definitions
(floor_divide, remainder, logaddexp, ...) follow numpy's C algorithms so that eager
values equal numpy's.
"""
from __future__ import annotations

import builtins
import operator
from typing import Any, Callable, Protocol

import numpy as np

from .. import lax
from ._promote import out as _out
from ._promote import _resolve_cached, _resolve_key
from ..core.trace import Tracer
from ._promote import (
    arg,
    cast,
    check_broadcast,
    concrete_or_none,
    is_py_scalar,
    is_tracer,
    resolve,
    shape,
)

__all__: list[str] = []


def _check_kw(name, out_, where):
    if out_ is not None:
        raise TypeError(
            f"{name}: out= is not supported; xform arrays are immutable, use the returned "
            f"value instead.")
    if where is not True:
        raise TypeError(f"{name}: where= is not supported; use xform.numpy.where(cond, x, y).")


def _finish(r, dt_out, weak, operator=False):
    """The result as numpy gives it. A traced result is weakly typed only when all inputs
    were weak *and* it comes from a Python operator (``s * 2.0`` on Python scalars stays
    a Python float); numpy's functions return numpy scalars, which are strong
    (``xnp.sin(s)``), as in eager code."""
    t = type(r)
    if t is np.ndarray or isinstance(r, np.generic):
        if r.dtype != dt_out:
            r = lax.convert_element_type(r, dt_out)
        return r[()] if type(r) is np.ndarray and r.ndim == 0 else r
    from ._promote import aval

    a = aval(r)
    keep_weak = weak and operator
    if a.dtype != dt_out or a.weak_type != keep_weak:
        r = lax.convert_element_type(r, dt_out, weak_type=keep_weak)
    return _out(r)


def _fast_key(x):
    """dtype key for numpy's type resolution of plain numpy/Python inputs, or None."""
    t = type(x)
    if t is np.ndarray:
        dt = x.dtype
        return dt if dt.kind in "biufc" else None
    if t is float or t is complex:
        return t
    if t is int:
        return t if -(2**63) <= x < 2**63 else None
    if t is bool:
        return _BOOL
    return None


_BOOL = np.dtype(bool)


def _fast_cast(x, dt):
    t = type(x)
    if t is np.ndarray:
        return x if x.dtype == dt else lax.convert_element_type(x, dt)
    return cast(x, dt, False)


def _example_doc(name, summary, example):
    """Docstring with a runnable example whose output is numpy's own result."""
    val = eval(f"np.{name}({example})", {"np": np})  # noqa: S307 - fixed literal examples
    rep = repr(val).replace("\n", "\n    ")
    return (f"{summary}\n\n    Like ``numpy.{name}``; works on traced values.\n\n"
            f"    >>> import numpy as np, xform.numpy as xnp\n"
            f"    >>> xnp.{name}({example})\n    {rep}\n    ")


def _register(make, name, ufunc, impl, summary, example):
    """Define the public function ``name`` and, as its ``_operator`` attribute, the
    variant that Python operators on tracers use (it keeps weak types, see _finish)."""
    f = make(name, ufunc, impl, False)
    f._operator = make(name, ufunc, impl, True)
    f.__doc__ = _example_doc(name, summary, example)
    f._ufunc = ufunc
    globals()[name] = f
    __all__.append(name)
    return f


def _unary(name, ufunc, impl, summary, example="np.array([0.5, 1.0])"):
    return _register(_make_unary, name, ufunc, impl, summary, example)


def _make_unary(name, ufunc, impl, operator):
    def f(x, /, out=None, *, where=True, dtype=None):
        if type(x) is np.ndarray and dtype is None and out is None and where is True \
                and x.dtype.kind in "biufc":  # common eager case, fewer checks
            dt_in, dt_out = _resolve_cached(ufunc, (x.dtype,))
            return _finish(impl(_fast_cast(x, dt_in)), dt_out, False)
        if isinstance(x, Tracer) and dtype is None and out is None and where is True:
            # traced operand: resolve() and cast() without the argument normalization
            a = x.aval
            dt_in, dt_out = _resolve_cached(ufunc, (_resolve_key(a),))
            weak = a.weak_type
            return _finish(impl(x if a.dtype == dt_in else cast(x, dt_in, weak)), dt_out, weak,
                           operator)
        _check_kw(name, out, where)
        x = arg(x, name)
        (dt_in,), dt_out, weak = resolve(ufunc, [x], dtype, name)
        x = cast(x, dt_in, weak)
        return _finish(impl(x), dt_out, weak, operator)

    f.__name__ = f.__qualname__ = name
    return f


def _binary(name, ufunc, impl, summary, example="np.array([1.0, 2.0]), np.array([3.0, 4.0])"):
    return _register(_make_binary, name, ufunc, impl, summary, example)


def _make_binary(name, ufunc, impl, operator):
    def f(x1, x2, /, out=None, *, where=True, dtype=None):
        if dtype is None and out is None and where is True:
            k1, k2 = _fast_key(x1), _fast_key(x2)
            if k1 is not None and k2 is not None and (
                    isinstance(k1, np.dtype) or isinstance(k2, np.dtype)) and (
                    name not in _COMPARISONS or (k1 is not int and k2 is not int)):
                if type(x1) is np.ndarray and type(x2) is np.ndarray and x1.shape != x2.shape:
                    check_broadcast(name, x1, x2)
                d1, d2, dt_out = _resolve_cached(ufunc, (k1, k2))
                return _finish(impl(_fast_cast(x1, d1), _fast_cast(x2, d2)), dt_out, False)
            if isinstance(x1, Tracer) and isinstance(x2, Tracer):
                # two traced operands of one shape: resolve() and cast() only
                a1, a2 = x1.aval, x2.aval
                if a1.shape == a2.shape:
                    d1, d2, dt_out = _resolve_cached(ufunc, (_resolve_key(a1), _resolve_key(a2)))
                    weak = a1.weak_type and a2.weak_type
                    return _finish(impl(cast(x1, d1, weak), cast(x2, d2, weak)), dt_out, weak,
                                   operator)
        _check_kw(name, out, where)
        x1 = arg(x1, name)
        x2 = arg(x2, name)
        check_broadcast(name, x1, x2)
        if name in _COMPARISONS and dtype is None:
            x1, x2 = _wide_int_compare(x1, x2)
        elif type(x1) is int or type(x2) is int:
            x1, x2 = _uint64_range_int(x1, x2, name)
        (d1, d2), dt_out, weak = resolve(ufunc, [x1, x2], dtype, name)
        return _finish(impl(cast(x1, d1, weak), cast(x2, d2, weak)), dt_out, weak, operator)

    f.__name__ = f.__qualname__ = name
    return f


_COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}


def _wide_int_compare(x1, x2):
    """numpy compares integer arrays with out-of-range Python ints exactly (uint8 == -1 is
    False): the int becomes a strong int64/uint64 scalar instead of overflowing."""
    from ._promote import aval

    for a, b in ((x1, x2), (x2, x1)):
        if type(a) is int and not is_py_scalar(b):
            dt = aval(b).dtype
            if dt.kind in "iu" and not (np.iinfo(dt).min <= a <= np.iinfo(dt).max
                                        and a < 2**63):
                # the int as a strong int64/uint64 scalar: comparisons of signed with
                # unsigned operands are exact (see _exact_compare)
                a2 = np.uint64(a) if a >= 0 else np.int64(a)
                return (a2, b) if a is x1 else (b, a2)
    return x1, x2


def _uint64_range_int(x1, x2, name):
    """A Python int in [2**63, 2**64) fits only uint64 (a weak int is int64 otherwise):
    with a uint64 operand it becomes a uint64 scalar, as numpy computes; with any other
    it is out of bounds, as numpy says."""
    from ._promote import aval

    for a, b in ((x1, x2), (x2, x1)):
        if type(a) is int and a >= 2**63:
            dt = None if is_py_scalar(b) else aval(b).dtype
            if dt != np.uint64:
                raise OverflowError(f"{name}: Python integer {a} out of bounds for "
                                    f"{dt if dt is not None else 'int64'}.")
            a2 = np.uint64(a)
            return (a2, b) if a is x1 else (b, a2)
    return x1, x2


def _alias(new, old):
    f = globals()[old]
    globals()[new] = f
    __all__.append(new)


def _kind(x):
    if type(x) is np.ndarray or isinstance(x, np.generic):
        return x.dtype.kind
    if is_tracer(x):
        return x.aval.dtype.kind
    from ._promote import aval

    return aval(x).dtype.kind


def _full_like(x, value, dtype):
    from ._promote import aval

    return lax.full(aval(x).shape, value, dtype)


def _where(c, a, b, dtype=None):
    """select with broadcasting of all three operands (dtypes already equal; scalars
    are converted to the dtype of the array operand, or ``dtype``)."""
    from ._promote import aval

    shp = check_broadcast("where", c, a, b)
    if dtype is None:
        cands = [v for v in (a, b) if not is_py_scalar(v)]
        dtype = aval(cands[0] if cands else a).dtype
    args = []
    for v, d in ((c, np.dtype(bool)), (a, dtype), (b, dtype)):
        if is_py_scalar(v) or isinstance(v, np.generic):
            v = np.asarray(v, dtype=d)
        if shape(v) != shp:
            v = lax.broadcast_to_shape(v, shp)
        args.append(v)
    return lax.select(*args)


# -- unary math -----------------------------------------------------------------------

_unary("sin", np.sin, lambda x: lax.sin(x), "Trigonometric sine, elementwise.")
_unary("cos", np.cos, lambda x: lax.cos(x), "Cosine, elementwise.")
_unary("tan", np.tan, lambda x: lax.tan(x), "Tangent, elementwise.")
_unary("arcsin", np.arcsin, lambda x: lax.asin(x), "Inverse sine, elementwise.")
_unary("arccos", np.arccos, lambda x: lax.acos(x), "Inverse cosine, elementwise.")
_unary("arctan", np.arctan, lambda x: lax.atan(x), "Inverse tangent, elementwise.")
_unary("sinh", np.sinh, lambda x: lax.sinh(x), "Hyperbolic sine, elementwise.")
_unary("cosh", np.cosh, lambda x: lax.cosh(x), "Hyperbolic cosine, elementwise.")
_unary("tanh", np.tanh, lambda x: lax.tanh(x), "Hyperbolic tangent, elementwise.")
_unary("arcsinh", np.arcsinh, lambda x: lax.asinh(x), "Inverse hyperbolic sine.")
_unary("arccosh", np.arccosh, lambda x: lax.acosh(x), "Inverse hyperbolic cosine.",
       "np.array([1.0, 2.0])")
_unary("arctanh", np.arctanh, lambda x: lax.atanh(x), "Inverse hyperbolic tangent.",
       "np.array([0.0, 0.5])")
_unary("exp", np.exp, lambda x: lax.exp(x), "Exponential e**x, elementwise.")
_unary("exp2", np.exp2, lambda x: lax.pow(2.0, x), "2**x, elementwise.",
       "np.array([1.0, 3.0])")
_unary("expm1", np.expm1, lambda x: lax.expm1(x), "exp(x) - 1, accurate near 0.")
_unary("log", np.log, lambda x: lax.log(x), "Natural logarithm, elementwise.")
_unary("log2", np.log2, lambda x: lax.div(lax.log(x), float(np.log(2.0))), "Base-2 logarithm.",
       "np.array([1.0, 8.0])")
_unary("log10", np.log10, lambda x: lax.div(lax.log(x), float(np.log(10.0))), "Base-10 logarithm.",
       "np.array([1.0, 100.0])")
_unary("log1p", np.log1p, lambda x: lax.log1p(x), "log(1 + x), accurate near 0.")
_unary("sqrt", np.sqrt, lambda x: lax.sqrt(x), "Square root, elementwise.",
       "np.array([4.0, 9.0])")
_unary("cbrt", np.cbrt, lambda x: lax.cbrt(x), "Cube root, elementwise.",
       "np.array([8.0, -27.0])")
_unary("square", np.square, lambda x: lax.square(x), "x * x, elementwise.",
       "np.array([2, -3])")


def _reciprocal(x):
    return lax.div(1, x)


_unary("reciprocal", np.reciprocal, _reciprocal, "1 / x, elementwise (integer division for ints).",
       "np.array([2.0, 4.0])")


def _abs(x):
    if _kind(x) in "bu":
        return x
    return lax.abs(x)


_unary("absolute", np.absolute, _abs, "Absolute value, elementwise.", "np.array([-1.5, 2.0])")
_alias("abs", "absolute")
_unary("fabs", np.fabs, _abs, "Absolute value of floats, elementwise.", "np.array([-1.5, 2.0])")
def _sign(x):
    if _kind(x) != "c":
        return lax.sign(x)
    # numpy 2: z / |z| (0 at 0); with an infinite part, the unit number in its direction
    # (nan if both parts are infinite); nan if a part is nan
    re, im = lax.real(x), lax.imag(x)
    mag = lax.abs(x)
    zero = np.zeros((), re.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = lax.complex(lax.div(re, mag), lax.div(im, mag))
    inf_re, inf_im = lax.eq(lax.abs(re), np.inf), lax.eq(lax.abs(im), np.inf)
    toward_inf = _where(inf_re, lax.complex(lax.sign(re), _full_like(re, zero, re.dtype)),
                        lax.complex(_full_like(im, zero, im.dtype), lax.sign(im)))
    toward_inf = _where(lax.bitwise_and(inf_re, inf_im), complex(np.nan, np.nan), toward_inf)
    out = _where(lax.bitwise_or(inf_re, inf_im), toward_inf, unit)
    return _where(lax.eq(mag, zero), 0, out)


_unary("sign", np.sign, _sign, "Sign (-1, 0, 1; nan for nan; z / |z| for complex z).",
       "np.array([-2.0, 0.0, 3.0])")


def _int_identity(fn):
    def impl(x):
        if _kind(x) in "biu":
            return x
        return fn(x)

    return impl


def _trunc(x):
    return _where(lax.lt(x, 0), lax.ceil(x), lax.floor(x))


def _rint(x):
    """Round half to even (numpy's rint; ``lax.round`` rounds halves to even)."""
    if _kind(x) == "c":
        raise TypeError("rint: complex inputs are not supported")
    return lax.round(x)


_unary("floor", np.floor, _int_identity(lambda x: lax.floor(x)), "Floor, elementwise.",
       "np.array([-1.5, 1.5])")
_unary("ceil", np.ceil, _int_identity(lambda x: lax.ceil(x)), "Ceiling, elementwise.",
       "np.array([-1.5, 1.5])")
_unary("trunc", np.trunc, _int_identity(_trunc), "Round toward zero, elementwise.",
       "np.array([-1.5, 1.5])")
_alias("fix", "trunc")
_unary("rint", np.rint, _int_identity(_rint), "Round to the nearest integer (half to even).",
       "np.array([0.5, 1.5, 2.7])")
_unary("negative", np.negative, lambda x: lax.neg(x), "-x, elementwise.", "np.array([1, -2])")
_unary("positive", np.positive, lambda x: x, "+x (a copy), elementwise.", "np.array([1, -2])")
_unary("conjugate", np.conjugate,
       lambda x: lax.conj(x) if _kind(x) == "c" else x, "Complex conjugate (identity for reals).",
       "np.array([1.0, 2.0])")
_alias("conj", "conjugate")
_unary("deg2rad", np.deg2rad, lambda x: lax.mul(x, np.pi / 180.0), "Degrees to radians.",
       "np.array([180.0])")
_alias("radians", "deg2rad")
_unary("rad2deg", np.rad2deg, lambda x: lax.mul(x, 180.0 / np.pi), "Radians to degrees.",
       "np.array([np.pi])")
_alias("degrees", "rad2deg")


def _isnan(x):
    if _kind(x) in "biu":
        return _full_like(x, False, bool)
    return lax.ne(x, x)


def _isfinite(x):
    if _kind(x) in "biu":
        return _full_like(x, True, bool)
    if _kind(x) == "c":
        return lax.bitwise_and(lax.is_finite(lax.real(x)), lax.is_finite(lax.imag(x)))
    return lax.is_finite(x)


def _isinf(x):
    if _kind(x) in "biu":
        return _full_like(x, False, bool)
    if _kind(x) == "c":  # (|z| would overflow for huge finite parts)
        return lax.bitwise_or(_isinf(lax.real(x)), _isinf(lax.imag(x)))
    return lax.eq(lax.abs(x), np.inf)


_unary("isnan", np.isnan, _isnan, "True where x is nan.", "np.array([1.0, np.nan])")
_unary("isfinite", np.isfinite, _isfinite, "True where x is finite.",
       "np.array([1.0, np.inf, np.nan])")
_unary("isinf", np.isinf, _isinf, "True where x is +-inf.", "np.array([1.0, -np.inf, np.nan])")
def _signbit(x):
    if _kind(x) in "bu":
        return _full_like(x, False, bool)
    if _kind(x) in "i":
        return lax.lt(x, 0)
    zero = lax.eq(x, 0)
    with np.errstate(divide="ignore"):
        inv = lax.div(1.0, _where(zero, x, 1.0))  # 1 / -0.0 = -inf
    return _where(zero, lax.lt(inv, 0), lax.lt(x, 0))


_unary("signbit", np.signbit, _signbit, "True where the sign bit is set (x < 0, or x = -0.0).",
       "np.array([-1.0, -0.0, 2.0])")


def _logical_not(x):
    if _kind(x) == "b":
        return lax.bitwise_not(x)
    return lax.eq(x, 0)


_unary("logical_not", np.logical_not, _logical_not, "Logical NOT, elementwise.",
       "np.array([True, False])")
_unary("invert", np.invert, lambda x: lax.bitwise_not(x), "Bitwise NOT (~x); logical NOT for bool.",
       "np.array([0, 5])")
_alias("bitwise_not", "invert")
_alias("bitwise_invert", "invert")

# -- binary arithmetic ------------------------------------------------------------------


def _add(x, y):
    if _kind(x) == "b":
        return lax.bitwise_or(x, y)
    return lax.add(x, y)


def _mul(x, y):
    if _kind(x) == "b":
        return lax.bitwise_and(x, y)
    return lax.mul(x, y)


_binary("add", np.add, _add, "x1 + x2, elementwise (numpy broadcasting and promotion).")
_binary("subtract", np.subtract, lambda x, y: lax.sub(x, y), "x1 - x2, elementwise.")
_binary("multiply", np.multiply, _mul, "x1 * x2, elementwise.")
_binary("true_divide", np.true_divide, lambda x, y: lax.div(x, y),
        "x1 / x2, elementwise; integers divide to float64.", "np.array([1, 3]), 2")
_alias("divide", "true_divide")


def _floor_divide(a, b):
    k = _kind(a)
    if k == "b":
        raise TypeError("floor_divide: not supported for booleans")
    if k in "iu":
        q = lax.div(a, b)  # truncating
        if k == "u":
            return _where(lax.eq(b, 0), lax.mul(b, 0), q)
        r = lax.rem(a, b)
        adj = lax.bitwise_and(lax.ne(r, 0), lax.ne(lax.lt(r, 0), lax.lt(b, 0)))
        q = _where(adj, lax.sub(q, 1), q)
        return _where(lax.eq(b, 0), lax.mul(b, 0), q)
    # numpy's npy_divmod (floats)
    mod = lax.rem(a, b)
    div = lax.div(lax.sub(a, mod), b)
    adj = lax.bitwise_and(lax.ne(mod, 0), lax.ne(lax.lt(b, 0), lax.lt(mod, 0)))
    div = _where(adj, lax.sub(div, 1), div)
    fl = lax.floor(div)
    fl = _where(lax.gt(lax.sub(div, fl), 0.5), lax.add(fl, 1), fl)
    q = lax.div(a, b)
    fl = _where(lax.eq(div, 0), lax.mul(q, 0), fl)
    return _where(lax.eq(b, 0), q, fl)


def _remainder(a, b):
    k = _kind(a)
    if k == "b":
        raise TypeError("remainder: not supported for booleans")
    mod = lax.rem(a, b)
    if k == "u":
        return _where(lax.eq(b, 0), lax.mul(b, 0), mod)
    adj = lax.bitwise_and(lax.ne(mod, 0), lax.ne(lax.lt(b, 0), lax.lt(mod, 0)))
    r = _where(adj, lax.add(mod, b), mod)
    if k in "iu":
        return _where(lax.eq(b, 0), lax.mul(b, 0), r)
    # zero results take the sign of the divisor; nan for b == 0 comes from fmod
    from ._promote import aval

    zero = _where(lax.lt(b, 0), -0.0, 0.0, aval(mod).dtype)
    # zero - (r - r) is ``zero`` with its sign, and keeps r's derivative (1 on both sides
    # of a multiple of b: a constant there would make it 0)
    zero = lax.sub(zero, lax.sub(lax.stop_gradient(r), r))
    return _where(lax.bitwise_and(lax.eq(r, 0), lax.ne(b, 0)), zero, r)


def _fmod(a, b):
    k = _kind(a)
    if k == "b":
        raise TypeError("fmod: not supported for booleans")
    r = lax.rem(a, b)
    if k in "iu":
        return _where(lax.eq(b, 0), lax.mul(b, 0), r)
    return r


_binary("floor_divide", np.floor_divide, _floor_divide, "x1 // x2 (rounds toward -inf).",
        "np.array([7, -7]), 2")
_binary("remainder", np.remainder, _remainder, "x1 % x2 with the sign of the divisor.",
        "np.array([7, -7]), 3")
_alias("mod", "remainder")
_binary("fmod", np.fmod, _fmod, "C-style remainder (sign of the dividend).",
        "np.array([7, -7]), 3")


def _pow_impl(x, y):
    if _kind(x) in "iu":
        return _int_pow(x, y)
    return lax.pow(x, y)


def _int_pow(x, y):
    """Integer power by repeated squaring over the bits of the exponent (negative
    exponents, which numpy rejects, give x ** 0 = 1 when traced)."""
    from ._promote import aval

    c = concrete_or_none(y)
    nbits = aval(y).dtype.itemsize * 8 if c is None else int(
        np.max(np.abs(np.asarray(c)), initial=0)).bit_length()
    shp = check_broadcast("power", x, y)
    result = lax.full(shp, 1, aval(x).dtype)
    base = x
    e = y
    for k in range(nbits):
        odd = lax.gt(lax.rem(e, 2), 0)
        result = _where(odd, lax.mul(result, base), result)
        if k + 1 < nbits:
            base = lax.mul(base, base)
            e = lax.div(e, 2)
    return result


def power(x1, x2, /, out=None, *, where=True, dtype=None):
    """x1 ** x2, elementwise. A concrete integer exponent uses ``lax.integer_pow`` (exact
    derivatives at x1 = 0).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.power(np.array([2.0, 3.0]), 2)
    array([4., 9.])
    """
    return _power(x1, x2, out, where, dtype, False)


def _power_operator(x1, x2):
    if type(x2) is int and x2 == 2 and isinstance(x1, Tracer) and x1.aval.dtype == np.bool_:
        # numpy's ``array ** 2`` is square (an operator fast path): int8 for booleans,
        # where np.power gives int64
        return square._operator(x1)  # noqa: F821 (defined by _unary below)
    return _power(x1, x2, None, True, None, True)


setattr(power, "_operator", _power_operator)  # noqa: B010  (the operator form, see _ufunc)


def _power(x1, x2, out, where, dtype, operator):
    if type(x2) is int and isinstance(x1, Tracer) and dtype is None and out is None \
            and where is True and -64 <= x2 <= 64:
        # traced base, small Python int exponent: resolve() and cast() only
        a = x1.aval
        d1, d2, dt_out = _resolve_cached(np.power, (_resolve_key(a), int))
        weak = a.weak_type
        if np.dtype(d1).kind in "fc" or x2 >= 0:
            return _finish(lax.integer_pow(cast(x1, d1, weak), x2), dt_out, weak, operator)
    _check_kw("power", out, where)
    x1 = arg(x1, "power")
    x2 = arg(x2, "power")
    shp = check_broadcast("power", x1, x2)
    (d1, d2), dt_out, weak = resolve(np.power, [x1, x2], dtype, "power")
    x1c = cast(x1, d1, weak)
    x2c = cast(x2, d2, weak)
    n = x2 if type(x2) is int else None
    if n is None and isinstance(x2, np.integer) or (
            isinstance(x2, np.ndarray) and x2.ndim == 0 and x2.dtype.kind in "iu"):
        n = int(x2)
    if n is not None and (np.dtype(d1).kind in "fc" or n >= 0) and builtins.abs(n) <= 64:
        return _finish(lax.integer_pow(x1c, n), dt_out, weak, operator)
    if np.dtype(d1).kind == "f" and np.ndim(x2) == 0 and not is_tracer(x2) and \
            float(np.asarray(x2)) == 0.5:
        # numpy's float power with a scalar exponent 0.5 is sqrt: -0.0 stays -0.0 and
        # -inf gives nan (pow gives 0.0 and inf); an array of 0.5s still uses pow
        return _finish(lax.sqrt(x1c), dt_out, weak, operator)
    if np.dtype(d1).kind in "iu" and not is_tracer(x2):
        v = concrete_or_none(x2)
        if v is not None and np.any(np.asarray(v) < 0) and 0 not in shp:
            raise ValueError("Integers to negative integer powers are not allowed.")
    return _finish(_pow_impl(x1c, x2c), dt_out, weak, operator)


setattr(power, "_ufunc", np.power)  # noqa: B010
__all__.append("power")
pow = power  # noqa: A001 - numpy 2 alias
__all__.append("pow")

_binary("float_power", np.float_power, _pow_impl, "x1 ** x2 computed in float64 (or complex128).",
        "np.array([2, 3]), 2")


def _max(x, y):
    return lax.max(x, y)


def _min(x, y):
    return lax.min(x, y)


_binary("maximum", np.maximum, _max, "Elementwise maximum (nan propagates).")
_binary("minimum", np.minimum, _min, "Elementwise minimum (nan propagates).")


# fmax/fmin ignore a NaN operand. Of equal operands (-0.0 and 0.0) they give the second,
# as np.maximum/np.minimum always do (numpy's own fmax gives the first for arrays shorter
# than its vector width and the second otherwise).


def _fmax(x, y):
    if _kind(x) not in "fc":
        return lax.max(x, y)
    return _where(lax.bitwise_or(lax.gt(x, y), lax.ne(y, y)), x, y)


def _fmin(x, y):
    if _kind(x) not in "fc":
        return lax.min(x, y)
    return _where(lax.bitwise_or(lax.lt(x, y), lax.ne(y, y)), x, y)


_binary("fmax", np.fmax, _fmax, "Elementwise maximum ignoring nan.",
        "np.array([1.0, np.nan]), np.array([0.0, 2.0])")
_binary("fmin", np.fmin, _fmin, "Elementwise minimum ignoring nan.",
        "np.array([1.0, np.nan]), np.array([0.0, 2.0])")
_binary("arctan2", np.arctan2, lambda y, x: lax.atan2(y, x), "Quadrant-aware arctan(x1 / x2).",
        "np.array([1.0, -1.0]), np.array([1.0, 1.0])")
_alias("atan2", "arctan2")
for _n, _o in (("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"), ("asinh", "arcsinh"),
               ("acosh", "arccosh"), ("atanh", "arctanh")):
    _alias(_n, _o)


def _hypot(x, y):
    from ..lax.elementwise import hypot  # a primitive (no overflow in the squares), not in JAX's lax

    return hypot(x, y)


_binary("hypot", np.hypot, _hypot, "sqrt(x1**2 + x2**2), elementwise.",
        "np.array([3.0]), np.array([4.0])")


def _logaddexp_value(x, y, base2):
    m = lax.max(x, y)
    with np.errstate(invalid="ignore"):  # equal infinities: d is 0 there
        d = _where(lax.eq(x, y), 0.0, lax.abs(lax.sub(x, y)))
    if base2:
        return lax.add(m, lax.mul(lax.log1p(lax.pow(2.0, lax.neg(d))), float(1.0 / np.log(2.0))))
    return lax.add(m, lax.log1p(lax.exp(lax.neg(d))))


def _logaddexp_jvp(base2, primals, tangents):
    """d/dx = exp(x - out) = logistic(x - y) (its own derivatives are right at ties,
    where the max/abs form of the value has kinks); 1/2 each where x - y is nan (equal
    infinities)."""
    x, y = primals
    tx, ty = tangents
    with np.errstate(invalid="ignore"):  # inf - inf: handled below
        diff = lax.sub(x, y)
        if base2:
            diff = lax.mul(diff, float(np.log(2.0)))
        # equal infinities (x == y, but x - y is nan): half each; a nan operand: nan
        s = _where(lax.bitwise_and(lax.ne(diff, diff), lax.eq(x, y)), 0.5, lax.logistic(diff))
    one = np.ones((), s.dtype)
    return (_logaddexp_value(x, y, base2),
            lax.add(lax.mul(tx, s), lax.mul(ty, lax.sub(one, s))))


def _make_logaddexp(base2):
    from ..lax.custom_derivatives import custom_jvp

    f = custom_jvp(lambda x, y: _logaddexp_value(x, y, base2))
    f.defjvp(lambda primals, tangents: _logaddexp_jvp(base2, primals, tangents))
    return f


_logaddexp = _make_logaddexp(False)
_logaddexp2 = _make_logaddexp(True)


_binary("logaddexp", np.logaddexp, _logaddexp, "log(exp(x1) + exp(x2)) without overflow.")
_binary("logaddexp2", np.logaddexp2, _logaddexp2, "log2(2**x1 + 2**x2) without overflow.")


def _heaviside(x, h):
    r = _where(lax.lt(x, 0), 0.0, _where(lax.gt(x, 0), 1.0, h))
    return _where(lax.ne(x, x), x, r)


_binary("heaviside", np.heaviside, _heaviside, "Step function: 0 for x1 < 0, x2 at 0, 1 for x1 > 0.",
        "np.array([-1.0, 0.0, 2.0]), 0.5")

# -- comparisons and logic ----------------------------------------------------------------

# name: (lax op, the op with operands swapped, the result where the signed one is < 0)
_COMPARE_OPS = {"eq": (lax.eq, "eq", False), "ne": (lax.ne, "ne", True),
                "lt": (lax.lt, "gt", True), "le": (lax.le, "ge", True),
                "gt": (lax.gt, "lt", False), "ge": (lax.ge, "le", False)}


def _exact_compare(name):
    """A lax comparison that also takes a signed integer and a uint64 operand, which
    numpy 2 compares exactly (its loops for int64 with uint64; no common dtype holds
    both): a negative signed value decides alone, others compare as uint64."""
    op = _COMPARE_OPS[name][0]

    def impl(x, y):
        dx, dy = getattr(x, "dtype", None), getattr(y, "dtype", None)
        if dx is None or dy is None or dx == dy or dx.kind not in "iu" or dy.kind not in "iu":
            return op(x, y)
        signed, unsigned, opname = (x, y, name) if dx.kind == "i" else (y, x, _COMPARE_OPS[name][1])
        sop, _, when_negative = _COMPARE_OPS[opname]
        negative = lax.lt(signed, np.zeros((), signed.dtype))
        as_unsigned = lax.convert_element_type(signed, unsigned.dtype)
        if when_negative:
            return lax.bitwise_or(negative, sop(as_unsigned, unsigned))
        return lax.bitwise_and(lax.bitwise_not(negative), sop(as_unsigned, unsigned))

    return impl


_binary("equal", np.equal, _exact_compare("eq"), "x1 == x2, elementwise.")
_binary("not_equal", np.not_equal, _exact_compare("ne"), "x1 != x2, elementwise.")
_binary("less", np.less, _exact_compare("lt"), "x1 < x2, elementwise.")
_binary("less_equal", np.less_equal, _exact_compare("le"), "x1 <= x2, elementwise.")
_binary("greater", np.greater, _exact_compare("gt"), "x1 > x2, elementwise.")
_binary("greater_equal", np.greater_equal, _exact_compare("ge"), "x1 >= x2, elementwise.")


def _to_bool(x):
    if _kind(x) == "b":
        return x
    return lax.ne(x, 0)


_binary("logical_and", np.logical_and,
        lambda x, y: lax.bitwise_and(_to_bool(x), _to_bool(y)), "Logical AND, elementwise.",
        "np.array([True, False]), True")
_binary("logical_or", np.logical_or,
        lambda x, y: lax.bitwise_or(_to_bool(x), _to_bool(y)), "Logical OR, elementwise.",
        "np.array([True, False]), False")
_binary("logical_xor", np.logical_xor,
        lambda x, y: lax.bitwise_xor(_to_bool(x), _to_bool(y)), "Logical XOR, elementwise.",
        "np.array([True, False]), True")
_binary("bitwise_and", np.bitwise_and, lambda x, y: lax.bitwise_and(x, y), "x1 & x2, elementwise.",
        "np.array([12, 10]), 6")
_binary("bitwise_or", np.bitwise_or, lambda x, y: lax.bitwise_or(x, y), "x1 | x2, elementwise.",
        "np.array([12, 10]), 6")
_binary("bitwise_xor", np.bitwise_xor, lambda x, y: lax.bitwise_xor(x, y), "x1 ^ x2, elementwise.",
        "np.array([12, 10]), 6")


_binary("left_shift", np.left_shift, lambda x, y: lax.shift_left(x, y),
        "x1 << x2, elementwise.", "np.array([1, 3]), 2")
_binary("right_shift", np.right_shift, lambda x, y: lax.shift_right(x, y),
        "x1 >> x2, elementwise (arithmetic for signed integers).", "np.array([-8, 8]), 1")
_alias("bitwise_left_shift", "left_shift")
_alias("bitwise_right_shift", "right_shift")


def divmod(x1, x2, /):  # noqa: A001
    """(x1 // x2, x1 % x2), elementwise.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.divmod(np.array([7, -7]), 3)
    (array([ 2, -3]), array([1, 2]))
    """
    return globals()["floor_divide"](x1, x2), globals()["remainder"](x1, x2)


setattr(divmod, "_operator", lambda x1, x2: (  # noqa: B010
    globals()["floor_divide"]._operator(x1, x2), globals()["remainder"]._operator(x1, x2)))
__all__.append("divmod")


# -- non-ufunc elementwise helpers ------------------------------------------------------


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """Elements of ``x`` where ``condition`` is true, else of ``y`` (broadcast together).

    ``where(condition)`` with one argument is ``nonzero(condition)``: its result shape
    depends on the data, so traced conditions need JAX's ``size=`` (and ``fill_value=``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
    array([1., 6.])
    """
    if x is None and y is None:
        from ._sorting import nonzero

        return nonzero(condition, size=size, fill_value=fill_value)
    if size is not None or fill_value is not None:
        raise ValueError("where: size and fill_value apply to the one-argument form "
                         "where(condition) only, not to where(condition, x, y)")
    if x is None or y is None:
        raise ValueError("where: either both or neither of x and y should be given")
    condition = arg(condition, "where")
    x = arg(x, "where")
    y = arg(y, "where")
    check_broadcast("where", condition, x, y)
    from ._promote import promote

    (x, y), dt, weak = promote("where", x, y)
    c = _to_bool(cast(condition, np.dtype(bool)) if is_py_scalar(condition) else condition)
    from ._promote import out_array

    return out_array(_where(c, x, y, dt))


__all__.append("where")


def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,  # noqa: A002
         max=np._NoValue, **kwargs):  # noqa: A002
    """Clip values to [a_min, a_max] (either may be None): minimum(maximum(a, a_min), a_max).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.clip(np.array([-2, 0, 5]), -1, 3)
    array([-1,  0,  3])
    """
    _check_kw("clip", out, True)
    if min is not np._NoValue:
        a_min = min
    if max is not np._NoValue:
        a_max = max
    a_min = None if a_min is np._NoValue else a_min
    a_max = None if a_max is np._NoValue else a_max
    a = arg(a, "clip")
    if a_min is None and a_max is None:
        return globals()["positive"](a) if _kind(a) != "b" else _out(a)
    from ._promote import promote

    parts = [a] + [arg(v, "clip") for v in (a_min, a_max) if v is not None]
    check_broadcast("clip", *parts)
    conv, dt, weak = promote("clip", *parts)
    r = conv[0]
    i = 1
    if a_min is not None:
        r = lax.max(r, conv[i])
        i += 1
    if a_max is not None:
        r = lax.min(r, conv[i])
    return _finish(r, dt, weak)


__all__.append("clip")


def around(a, decimals=0, out=None):
    """Round to ``decimals`` decimals, half to even (numpy's round).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.round(np.array([0.5, 1.5, 2.567]), 1)
    array([0.5, 1.5, 2.6])
    """
    _check_kw("round", out, True)
    a = arg(a, "round")
    decimals = operator.index(decimals)
    k = _kind(a)
    if k in "biu":
        if decimals >= 0:
            return _out(a if not is_py_scalar(a) else np.asarray(a)[()])
        f = 10 ** (-decimals)
        from ._promote import aval as _aval

        dt = _aval(a).dtype
        fl = _rint(lax.div(lax.convert_element_type(a, np.float64), float(f)))
        return _out(lax.convert_element_type(lax.mul(fl, float(f)), dt))
    if is_py_scalar(a):
        a = np.asarray(a)
    if decimals == 0:
        return _out(_rint(a))
    if decimals > 0:
        f = 10.0 ** decimals
        return _out(lax.div(_rint(lax.mul(a, f)), f))
    f = 10.0 ** (-decimals)
    return _out(lax.mul(_rint(lax.div(a, f)), f))


round = around  # noqa: A001
round_ = around
__all__ += ["around", "round"]

class _Ufunc(Protocol):
    """A function with numpy's ufunc signature and its operator form (``x + y``)."""

    _operator: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


# The ufuncs made above in loops (written into the module's namespace), declared for
# type checkers; annotations alone do not change them.
abs: _Ufunc
absolute: _Ufunc
acos: _Ufunc
acosh: _Ufunc
add: _Ufunc
arccos: _Ufunc
arccosh: _Ufunc
arcsin: _Ufunc
arcsinh: _Ufunc
arctan: _Ufunc
arctan2: _Ufunc
arctanh: _Ufunc
asin: _Ufunc
asinh: _Ufunc
atan: _Ufunc
atan2: _Ufunc
atanh: _Ufunc
bitwise_and: _Ufunc
bitwise_invert: _Ufunc
bitwise_left_shift: _Ufunc
bitwise_not: _Ufunc
bitwise_or: _Ufunc
bitwise_right_shift: _Ufunc
bitwise_xor: _Ufunc
cbrt: _Ufunc
ceil: _Ufunc
conj: _Ufunc
conjugate: _Ufunc
cos: _Ufunc
cosh: _Ufunc
deg2rad: _Ufunc
degrees: _Ufunc
divide: _Ufunc
equal: _Ufunc
exp: _Ufunc
exp2: _Ufunc
expm1: _Ufunc
fabs: _Ufunc
fix: _Ufunc
float_power: _Ufunc
floor: _Ufunc
floor_divide: _Ufunc
fmax: _Ufunc
fmin: _Ufunc
fmod: _Ufunc
greater: _Ufunc
greater_equal: _Ufunc
heaviside: _Ufunc
hypot: _Ufunc
invert: _Ufunc
isfinite: _Ufunc
isinf: _Ufunc
isnan: _Ufunc
left_shift: _Ufunc
less: _Ufunc
less_equal: _Ufunc
log: _Ufunc
log10: _Ufunc
log1p: _Ufunc
log2: _Ufunc
logaddexp: _Ufunc
logaddexp2: _Ufunc
logical_and: _Ufunc
logical_not: _Ufunc
logical_or: _Ufunc
logical_xor: _Ufunc
maximum: _Ufunc
minimum: _Ufunc
mod: _Ufunc
multiply: _Ufunc
negative: _Ufunc
not_equal: _Ufunc
positive: _Ufunc
rad2deg: _Ufunc
radians: _Ufunc
reciprocal: _Ufunc
remainder: _Ufunc
right_shift: _Ufunc
rint: _Ufunc
sign: _Ufunc
signbit: _Ufunc
sin: _Ufunc
sinh: _Ufunc
sqrt: _Ufunc
square: _Ufunc
subtract: _Ufunc
tan: _Ufunc
tanh: _Ufunc
true_divide: _Ufunc
trunc: _Ufunc
