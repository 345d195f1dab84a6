"""Elementwise primitives: each defined once with all of its rules.

Every entry states the numpy impl, the shape/dtype rule (via
``elementwise_primitive``: numpy broadcasting, one shared operand dtype, an allowed set
of dtype kinds), the JVP rule (written with lax ops so it differentiates again to any
order; ``Zero`` tangents stay symbolic, integer/boolean results have Zero tangents),
the transpose rule for linear ops, the batching rule (the broadcasting rule of
``elementwise_primitive`` unless stated) and ``numba_scalar``.

``numba_scalar(*operand_exprs, **params) -> str`` maps the operands' scalar
expressions (strings) to a Numba-compilable scalar expression for the jit code
generator (``out[i] = <expr>``; the names ``np`` and ``math`` are available). Operand
expressions may be repeated in the result, so they must be side-effect free. The
generated value may be of a wider type than the result dtype (Numba computes small
integers in int64 and ``1.0 / float32`` in float64); storing it into the output array
gives numpy's result. A few rules depend on the operand dtype (integer vs floating
division); they accept an optional keyword ``dtype`` (the operands' common dtype) and
have the attribute ``needs_dtype = True``. Without ``dtype`` they emit an expression that
picks the integer or floating formula at run time (real dtypes only; exact for floats,
and for integer quotients below 2**53). A rule may also call helpers of
``xform/backend/numba/runtime.py`` (numpy's complex division, reciprocal
and power: Numba's raise ZeroDivisionError or round through exp/log); it lists their
names in the attribute ``runtime_helpers`` and the code generator imports those used.

Non-differentiable points (documented at each rule): abs'(0) = 1 (JAX's rule),
sign' = floor' = ceil' = round' = 0, sqrt'(0) = inf, max/min give half of the
tangent to each operand at ties, d pow(x, y)/dx = 0 where y == 0 and
d pow(x, y)/dy = 0 where x == 0.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.dtypes import check_dtype
from ..core.pytree import tree_map
from ..core.trace import Tracer, get_aval
from ..interpreters.jvp import Zero, add_tangents, defjvp
from ..interpreters.transpose import UndefinedPrimal, is_undefined
from ._rules import broadcast_shapes, elementwise_primitive, scalar_rule_traits, unbroadcast

__all__ = [
    # arithmetic
    "neg", "add", "sub", "mul", "div", "rem", "pow", "integer_pow", "square", "reciprocal",
    "max", "min", "clamp", "add_any",
    # transcendental
    "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sqrt", "rsqrt", "cbrt", "logistic",
    "erf", "erf_inv",
    # piecewise
    "abs", "sign", "floor", "ceil", "round", "is_finite",
    # comparisons and bitwise
    "eq", "ne", "lt", "le", "gt", "ge",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "shift_left", "shift_right",
    # complex numbers
    "real", "imag", "conj", "complex",
    # selection, conversion, autodiff control
    "select", "convert_element_type", "reduce_precision", "stop_gradient",
]

_PY_SCALARS = (bool, int, float, complex)
_PY_KIND = {bool: "b", int: "i", float: "f", complex: "c"}
_PY_RANK = {bool: 0, int: 1, float: 2, complex: 3}
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}

# dtype kind sets
_ANY = "biufc"
_NUM = "iufc"  # arithmetic: no bool (use bitwise_or / bitwise_and on booleans)
_REAL = "iuf"
_ORDERED = "biuf"
_INEXACT = "fc"
_FLOAT = "f"
_INTEGRAL = "biu"



# -- operand handling --------------------------------------------------------------


# Operations defined further down that rules above them use (declared for type checkers).
bitwise_and: Callable[..., Any]
gt: Callable[..., Any]
lt: Callable[..., Any]
rsqrt: Callable[..., Any]

def _scalar_to(x, like, op: str):
    """Convert a Python (or numpy) scalar ``x`` to the dtype of the array ``like``.

    A Python float stays a Python float when the target is float64 (it stays weakly
    typed and prints as an inline literal). Converting to a lower kind (a float to an
    integer dtype, ...) is an error rather than a silent truncation.
    """
    tx = type(x)
    if tx not in _PY_SCALARS and not isinstance(x, np.generic):
        return x
    if type(like) in _PY_SCALARS:
        return x
    dt = getattr(like, "dtype", None)
    if dt is None:
        dt = get_aval(like).dtype
    if tx is float and dt == np.float64:
        return x
    if tx not in _PY_SCALARS and x.dtype == dt:
        return x  # a numpy scalar of the target dtype already
    if tx in _PY_SCALARS and _PY_RANK[tx] > _KIND_RANK.get(dt.kind, 3):
        raise TypeError(
            f"{op}: cannot combine a Python {tx.__name__} ({x!r}) with an operand of dtype "
            f"{dt}; convert the operands to one dtype first (xform.numpy promotes).")
    if dt.kind == "u" and tx is int and x < 0:
        raise TypeError(f"{op}: negative Python int {x} cannot be converted to dtype {dt}")
    return np.asarray(x, dtype=dt)[()]


def _promote_py(args):
    """All-Python-scalar operands: promote to the highest Python type among them."""
    top = None
    for a in args:
        if top is None or _PY_RANK[type(a)] > _PY_RANK[top]:
            top = type(a)
    return [top(a) for a in args]


def _nary_args(op: str, *args):
    """lax's scalar rule: Python/numpy scalars adopt the dtype of an array operand."""
    like = None
    for a in args:
        if type(a) not in _PY_SCALARS and not isinstance(a, np.generic):
            like = a
            break
    if like is None:
        if all(type(a) in _PY_SCALARS for a in args):
            return _promote_py(args)
        like = next(a for a in args if isinstance(a, np.generic))
    return [_scalar_to(a, like, op) for a in args]


def _binary_args(x, y, op: str = "xform.lax"):
    tx, ty = type(x), type(y)
    if tx is ty and tx is np.ndarray:  # the common case
        return x, y
    if tx in _PY_SCALARS and ty in _PY_SCALARS:
        return _promote_py((x, y)) if tx is not ty else (x, y)
    return _scalar_to(x, y, op), _scalar_to(y, x, op)


def _c(like, val):
    """The constant ``val`` as a scalar of ``like``'s dtype (for use in rules)."""
    dt = like.aval.dtype if isinstance(like, Tracer) else get_aval(like).dtype
    tv = type(val)
    if tv is int or (tv is float and val != 0 and val == val):
        key = (val, tv, dt)  # numpy scalars are immutable: share them (not +-0.0, nan)
        c = _CONSTS.get(key)
        if c is None:
            c = np.asarray(val, dtype=dt)[()]
            if len(_CONSTS) > 1024:
                _CONSTS.clear()
            _CONSTS[key] = c
        return c
    return np.asarray(val, dtype=dt)[()]


_CONSTS: dict = {}


def _shape(x):
    return get_aval(x).shape


def _bcast_to(t, shape):
    from .structural import broadcast_to_shape

    if _shape(t) == tuple(shape):
        return t
    return broadcast_to_shape(t, shape)


def _bcast_tangent(t, ans):
    """A tangent of an operand broadcast to the result shape (Zero stays Zero)."""
    if type(t) is Zero:
        return t
    ta = t.aval if isinstance(t, Tracer) else get_aval(t)
    aa = ans.aval if isinstance(ans, Tracer) else get_aval(ans)
    if ta is aa or ta.shape == aa.shape:
        return t
    from .structural import broadcast_to_shape

    return broadcast_to_shape(t, aa.shape)


def _ct_for(ct, x):
    """Cotangent for operand ``x`` of a broadcasting op (Zero stays Zero)."""
    if type(ct) is Zero:
        return Zero(x.aval)
    return unbroadcast(ct, x.aval)


# -- defining primitives -------------------------------------------------------------


def _checked_impl(prim, fn, kinds):
    """Wrap a numpy impl so that eager evaluation rejects what staging rejects (wrong
    dtype kinds, mixed dtypes, unbroadcastable shapes) with the same clear errors."""

    def impl(*args, **params):
        n = len(args)
        if n == 2:  # fast path: two numpy operands of one allowed dtype
            x, y = args
            tx = type(x)
            if tx is type(y) and (tx is np.float64 or tx is np.ndarray):
                d = x.dtype
                if (d is y.dtype or d == y.dtype) and (kinds is None or d.kind in kinds):
                    try:
                        return fn(x, y, **params)
                    except ValueError:
                        pass
        elif n == 1:  # fast path: one numpy operand of an allowed dtype
            x = args[0]
            tx = type(x)
            if (tx is np.float64 or tx is np.ndarray) and (kinds is None or x.dtype.kind in kinds):
                try:
                    return fn(x, **params)
                except ValueError:
                    pass
        d0 = None
        ok = True
        for a in args:
            d = getattr(a, "dtype", None)
            if d is None:
                k = _PY_KIND.get(type(a))
                if k is None or (kinds is not None and k not in kinds):
                    ok = False
                    break
                continue
            if (kinds is not None and d.kind not in kinds) or (d0 is not None and d != d0):
                ok = False
                break
            d0 = d
        if ok:
            try:
                return fn(*args, **params)
            except ValueError:
                pass
        prim.abstract_eval(*[get_aval(a, prim.name) for a in args], **params)
        return fn(*args, **params)

    impl.__name__ = f"{prim.name}_impl"
    return impl


def _prim(name, fn, nargs, kinds, out_dtype=None, numba=None):
    prim = elementwise_primitive(name, fn, nargs, out_dtype=out_dtype, allowed_kinds=kinds)
    prim.impl = _checked_impl(prim, fn, kinds)
    prim.numba_scalar = numba
    return prim


def _defjvp(prim, *rules):
    """``defjvp`` whose contributions are broadcast to the result shape (an operand's
    tangent may have a smaller, broadcastable shape)."""
    if len(rules) == 1:
        rule0 = rules[0]

        def jvp1(primals, tangents, **params):
            # One operand: its tangent already has the result's shape.
            ans = prim.bind(*primals, **params)
            g = tangents[0]
            if type(g) is Zero:
                return ans, Zero.like(ans)
            c = rule0(g, ans, *primals, **params) if params else rule0(g, ans, primals[0])
            if c is None or type(c) is Zero:
                return ans, Zero.like(ans)
            return ans, c

        prim.jvp = jvp1
        return jvp1

    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        out = None
        for rule, g in zip(rules, tangents):
            if rule is None or type(g) is Zero:
                continue
            c = rule(g, ans, *primals, **params)
            if c is None or type(c) is Zero:
                continue
            c = _bcast_tangent(c, ans)
            out = c if out is None else add_tangents(out, c)
        return ans, (Zero.like(ans) if out is None else out)

    prim.jvp = jvp
    return jvp


def _zero_jvp(prim):
    """JVP of a piecewise-constant op (or one with a boolean/integer result): Zero."""

    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        return ans, Zero.like(ans)

    prim.jvp = jvp
    return jvp


def _complex_by(helper, real_rule):
    """A numba rule calling the runtime helper ``helper`` for complex operands (numpy's
    C99 special values and overflow handling; Numba's versions differ) and
    ``real_rule`` otherwise."""

    def rule(x, dtype=None):
        if dtype is not None and np.dtype(dtype).kind == "c":
            return f"{helper}({x})"
        return real_rule(x)

    scalar_rule_traits(rule, needs_dtype=True, runtime_helpers=(helper,))
    return rule


def _unop(name, fn, kinds, numba, doc_example, summary) -> tuple[Primitive, Callable[..., Any]]:
    prim = _prim(name, fn, 1, kinds, numba=numba)

    def f(x):
        return prim.bind(x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{summary}\n\n    >>> import numpy as np; from xform import lax\n{doc_example}"
    return prim, f


def _real_dtype(dt):
    return np.dtype(np.float32) if dt == np.complex64 else (
        np.dtype(np.float64) if dt.kind == "c" else dt)


def _real_result(rule):
    """Wrap a shape rule: a complex operand gives a result of the matching real dtype."""

    def abstract_eval(*avals, **params):
        out = rule(*avals, **params)
        return out.update(dtype=_real_dtype(out.dtype))

    return abstract_eval


# -- arithmetic ------------------------------------------------------------------


add_p = _prim("add", np.add, 2, _NUM, numba=lambda x, y: f"({x} + {y})")


def add(x, y):
    """Elementwise x + y (numpy broadcasting; operands share a dtype, Python scalars
    take the other operand's dtype).

    >>> import numpy as np; from xform import lax
    >>> lax.add(np.array([1.0, 2.0]), 2.0)
    array([3., 4.])
    """
    return add_p.bind(*_binary_args(x, y, "add"))


def _add_jvp(primals, tangents):
    x, y = primals
    ans = add(x, y)
    tx, ty = tangents
    return ans, add_tangents(_bcast_tangent(tx, ans), _bcast_tangent(ty, ans))


def _add_transpose(ct, x, y):
    return [_ct_for(ct, x) if type(x) is UndefinedPrimal else None,
            _ct_for(ct, y) if type(y) is UndefinedPrimal else None]


add_p.jvp = _add_jvp
add_p.transpose = _add_transpose

# add_any sums tangents/cotangents of the same shape; kept separate from add so that
# linear bookkeeping never depends on broadcasting (and never on dtype-kind checks).
add_any_p = elementwise_primitive("add_any", np.add, 2)
add_any_p.numba_scalar = add_p.numba_scalar


def add_any(x, y):
    """Sum of two tangents or cotangents (the linear ``+`` of autodiff).

    >>> import numpy as np; from xform import lax
    >>> lax.add_any(np.array([1.0]), np.array([2.0]))
    array([3.])
    """
    return add_any_p.bind(x, y)


def _add_any_jvp(primals, tangents):
    ans = add_any(*primals)
    # operands may broadcast (a batched cotangent plus an unbatched one): each tangent
    # takes the result's shape, as in add's rule
    return ans, add_tangents(_bcast_tangent(tangents[0], ans), _bcast_tangent(tangents[1], ans))


add_any_p.jvp = _add_any_jvp
add_any_p.transpose = _add_transpose

sub_p = _prim("sub", np.subtract, 2, _NUM, numba=lambda x, y: f"({x} - {y})")


def sub(x, y):
    """Elementwise x - y.

    >>> import numpy as np; from xform import lax
    >>> lax.sub(np.array([1.0, 2.0]), 0.5)
    array([0.5, 1.5])
    """
    return sub_p.bind(*_binary_args(x, y, "sub"))


def _sub_jvp(primals, tangents):
    x, y = primals
    ans = sub(x, y)
    tx, ty = tangents
    ty = ty if type(ty) is Zero else neg(ty)
    return ans, add_tangents(_bcast_tangent(tx, ans), _bcast_tangent(ty, ans))


sub_p.jvp = _sub_jvp
sub_p.transpose = lambda ct, x, y: [
    _ct_for(ct, x) if is_undefined(x) else None,
    _ct_for(ct if type(ct) is Zero else neg(ct), y) if is_undefined(y) else None,
]

neg_p = _prim("neg", np.negative, 1, _NUM, numba=lambda x: f"(-{x})")


def neg(x):
    """Elementwise -x.

    >>> import numpy as np; from xform import lax
    >>> lax.neg(np.array([1.0, -2.0]))
    array([-1.,  2.])
    """
    return neg_p.bind(x)


defjvp(neg_p, lambda g, ans, x: neg(g))
neg_p.transpose = lambda ct, x: [ct if type(ct) is Zero else neg(ct)]

mul_p = _prim("mul", np.multiply, 2, _NUM, numba=lambda x, y: f"({x} * {y})")


def mul(x, y):
    """Elementwise x * y.

    >>> import numpy as np; from xform import lax
    >>> lax.mul(np.array([1.0, 2.0]), 3.0)
    array([3., 6.])
    """
    # Fast paths (same results as below): traced operands, or a traced operand and a
    # numpy scalar of its dtype (the residuals of autodiff).
    if isinstance(x, Tracer):
        if isinstance(y, Tracer):
            return mul_p.bind(x, y)
        if isinstance(y, np.generic):
            dt = y.dtype
            if dt is x.aval.dtype or dt == x.aval.dtype:
                if dt.kind in "iuf" and y == 1:
                    return x
                return mul_p.bind(x, y)
    elif isinstance(y, Tracer) and isinstance(x, np.generic):
        dt = x.dtype
        if dt is y.aval.dtype or dt == y.aval.dtype:
            if dt.kind in "iuf" and x == 1:
                return y
            return mul_p.bind(x, y)
    elif type(x) is type(y):
        if type(x) is np.ndarray:
            return mul_p.bind(x, y)
        if type(x) is np.float64:
            return x if y == 1 else (y if x == 1 else mul_p.bind(x, y))
    x, y = _binary_args(x, y, "mul")
    # x * 1 == x exactly (NaN, inf, -0.0 included): autodiff multiplies by the unit
    # cotangent constantly, so skipping it keeps eager and traced programs small.
    if _is_unit_scalar(y) and type(x) not in _PY_SCALARS:
        return x
    if _is_unit_scalar(x) and type(y) not in _PY_SCALARS:
        return y
    return mul_p.bind(x, y)


def _is_unit_scalar(v) -> bool:
    t = type(v)
    return (t is float or t is int or (isinstance(v, np.generic) and v.dtype.kind in "iuf")) \
        and v == 1


_defjvp(mul_p, lambda g, ans, x, y: mul(g, y), lambda g, ans, x, y: mul(x, g))


def _mul_jvp(primals, tangents):
    # The rule ``_defjvp`` builds from the two lambdas above, unrolled (it is the most
    # frequent JVP of autodiff).
    x, y = primals
    tx, ty = tangents
    ans = mul_p.bind(x, y)
    out = None
    if type(tx) is not Zero:
        out = _bcast_tangent(mul(tx, y), ans)
    if type(ty) is not Zero:
        c = _bcast_tangent(mul(x, ty), ans)
        out = c if out is None else add_tangents(out, c)
    return ans, (Zero.like(ans) if out is None else out)


mul_p.jvp = _mul_jvp


def _mul_transpose(ct, x, y):
    ux = type(x) is UndefinedPrimal
    if ux and type(y) is UndefinedPrimal:
        raise ValueError("mul: transpose of a product of two linear values (not linear)")
    if ux:
        return [Zero(x.aval) if type(ct) is Zero else unbroadcast(mul(ct, y), x.aval), None]
    return [None, Zero(y.aval) if type(ct) is Zero else unbroadcast(mul(x, ct), y.aval)]


mul_p.transpose = _mul_transpose


# div: true division for floats; for integers the quotient is truncated toward zero
# (C / JAX), and division by zero gives 0 like numpy (no error).


def _int_kind(x, y) -> bool:
    d = getattr(x, "dtype", None)
    if d is None:
        d = getattr(y, "dtype", None)
    if d is None:
        return type(x) in (int, bool) and type(y) in (int, bool)
    return d.kind in "iub"


def _div_impl(x, y):
    if not _int_kind(x, y):
        return np.true_divide(x, y)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        q = np.floor_divide(x, y)
        r = np.remainder(x, y)
        if getattr(q, "dtype", np.dtype(np.int64)).kind == "i":
            fix = (r != 0) & ((np.asarray(x) < 0) != (np.asarray(y) < 0))
            q = q + fix.astype(q.dtype) if isinstance(q, np.ndarray) else q + q.dtype.type(fix)
    return q


# Inline lambdas (supported by Numba) evaluate each operand expression once.
_INT_DIV = ("(lambda _x, _y: np.floor_divide(_x, _y) + 1 if (_x % _y != 0 and ((_x < 0) != (_y < 0)))"
            " else np.floor_divide(_x, _y))")
_INT_REM = "(lambda _x, _y: (lambda _m: _m - _y if (_m != 0 and ((_m < 0) != (_x < 0))) else _m)(_x % _y))"
# Numba has no compile-time dtype test usable in an expression; np.reciprocal of an
# integer 2 is 0 (integer reciprocal) and of a float 2 is 0.5.
_IS_INT = "np.reciprocal(_x - _x + 2) == 0"


# Numba's integer floor_divide gives 0 for INT_MIN // -1 (overflow); numpy wraps to
# INT_MIN, which is what -x gives once the result is cast back to the dtype.
_SIGNED_INT_DIV = f"(lambda _x, _y: -_x if _y == -1 else {_INT_DIV}(_x, _y))"


def _div_numba(x, y, dtype=None):
    if dtype is not None:
        if np.dtype(dtype).kind == "c":
            return f"cdiv({x}, {y})"
        if np.dtype(dtype).kind == "i":
            return f"{_SIGNED_INT_DIV}({x}, {y})"
        if np.dtype(dtype).kind in "ub":
            # truncation is floor division here; no sign fix-up, whose int64 literal
            # would turn uint64 arithmetic into float64
            return f"np.floor_divide({x}, {y})"
        return f"({x} / {y})"
    return f"(lambda _x, _y: {_INT_DIV}(_x, _y) if {_IS_INT} else _x / _y)({x}, {y})"


def _rem_numba(x, y, dtype=None):
    # numba's integer np.fmod is wrong for negative operands: build it from %.
    if dtype is not None:
        if np.dtype(dtype).kind in "iub":
            return f"{_INT_REM}({x}, {y})"
        return f"np.fmod({x}, {y})"
    return f"(lambda _x, _y: {_INT_REM}(_x, _y) if {_IS_INT} else np.fmod(_x, _y))({x}, {y})"


scalar_rule_traits(_div_numba, needs_dtype=True, runtime_helpers=("cdiv",))
scalar_rule_traits(_rem_numba, needs_dtype=True)

div_p = _prim("div", _div_impl, 2, _NUM, numba=_div_numba)


def div(x, y):
    """Elementwise x / y: true division for floats, truncation toward zero for integers
    (integer division by zero gives 0, like numpy).

    >>> import numpy as np; from xform import lax
    >>> lax.div(np.array([7, -7]), 2)
    array([ 3, -3])
    >>> lax.div(np.array([1.0, 3.0]), 2.0)
    array([0.5, 1.5])
    """
    return div_p.bind(*_binary_args(x, y, "div"))


# d(x/y) = g/y - g * (x/y)/y
_defjvp(div_p, lambda g, ans, x, y: div(g, y), lambda g, ans, x, y: mul(neg(g), div(ans, y)))


def _div_transpose(ct, x, y):
    if is_undefined(y):
        raise ValueError("div: transpose with respect to the divisor (not linear)")
    return [Zero(x.aval) if type(ct) is Zero else unbroadcast(div(ct, y), x.aval), None]


div_p.transpose = _div_transpose


def _rem_impl(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.fmod(x, y)


rem_p = _prim("rem", _rem_impl, 2, _REAL, numba=_rem_numba)


def rem(x, y):
    """Elementwise remainder of truncated division (C ``fmod``: the sign of ``x``), like
    ``lax.rem``; integer remainder by zero gives 0 (numpy).

    >>> import numpy as np; from xform import lax
    >>> lax.rem(np.array([7.0, -7.0]), 3.0)
    array([ 1., -1.])
    """
    return rem_p.bind(*_binary_args(x, y, "rem"))


def _trunc(v):
    return mul(sign(v), floor(abs(v)))


# rem(x, y) = x - y * trunc(x / y); trunc is piecewise constant.
_defjvp(rem_p, lambda g, ans, x, y: g, lambda g, ans, x, y: mul(neg(g), _trunc(div(x, y))))


def _pow_impl(x, y):
    return np.power(x, y)


def _pow_numba(x, y, dtype=None):
    if dtype is not None and np.dtype(dtype).kind == "c":
        return f"cpow({x}, {y})"
    return f"np.power({x}, {y})"


scalar_rule_traits(_pow_numba, needs_dtype=True, runtime_helpers=("cpow",))

pow_p = _prim("pow", _pow_impl, 2, _INEXACT, numba=_pow_numba)


def pow(x, y):
    """Elementwise x ** y for floating (or complex) operands.

    >>> import numpy as np; from xform import lax
    >>> lax.pow(np.array([4.0, 9.0]), 0.5)
    array([2., 3.])
    """
    return pow_p.bind(*_binary_args(x, y, "pow"))


def _pow_jvp_x(g, ans, x, y):
    # d/dx = y * x**(y-1), defined as 0 where x == y == 0 (avoids 0 * inf = nan); so
    # pow(0, y) has derivative 0 for y > 1, 1 for y == 1 and inf for 0 < y < 1. Only
    # that point is replaced: elsewhere the formula's own derivative in y is kept
    # (d/dy of y * x**(y-1) at y == 0 is 1/x, which a constant would drop).
    d = mul(y, pow(x, sub(y, _c(y, 1))))
    return mul(g, select(bitwise_and(eq(y, _c(y, 0)), eq(x, _c(x, 0))), _c(d, 0), d))


def _pow_jvp_y(g, ans, x, y):
    # d/dy = log(x) * x**y, defined as 0 where x == 0 (log(0) * 0 would be nan).
    safe_x = select(eq(x, _c(x, 0)), _c(x, 1), x)
    return mul(g, mul(log(safe_x), ans))


_defjvp(pow_p, _pow_jvp_x, _pow_jvp_y)

def _integer_pow_numba(x, y, dtype=None):
    if dtype is not None and np.dtype(dtype).kind == "c":
        return f"cpow({x}, complex({int(y)}.0, 0.0))"
    return f"({x} ** ({int(y)}))"


scalar_rule_traits(_integer_pow_numba, needs_dtype=True, runtime_helpers=("cpow",))

integer_pow_p = _prim("integer_pow", lambda x, y: np.power(x, y), 1, _NUM,
                      numba=_integer_pow_numba)
_integer_pow_shape = integer_pow_p.abstract_eval


def _integer_pow_abstract(x, y):
    if x.dtype.kind in "iu" and y < 0:
        raise TypeError(
            f"integer_pow: integer operand {x.str_short()} cannot be raised to the negative "
            f"power {y}; convert it to a floating dtype first.")
    return _integer_pow_shape(x, y=y)


integer_pow_p.abstract_eval = _integer_pow_abstract


def integer_pow(x, y: int):
    """Elementwise x ** y for a static Python int exponent ``y``.

    >>> import numpy as np; from xform import lax
    >>> lax.integer_pow(np.array([2.0, 3.0]), 3)
    array([ 8., 27.])
    """
    if isinstance(y, bool) or not isinstance(y, (int, np.integer)):
        raise TypeError(f"integer_pow: the exponent must be a Python int, got {y!r}")
    return integer_pow_p.bind(x, y=int(y))


def _integer_pow_jvp_rule(g, ans, x, y):
    if y == 0:  # constant 1
        return None
    if y == 1:
        return g
    # x ** 1 is x exactly: no integer_pow for the common square
    return mul(g, mul(_c(x, y), x if y == 2 else integer_pow(x, y - 1)))


_defjvp(integer_pow_p, _integer_pow_jvp_rule)

square_p, square = _unop(
    "square", np.square, _NUM, lambda x: f"({x} * {x})",
    "    >>> lax.square(np.array([-2.0, 3.0]))\n    array([4., 9.])\n", "Elementwise x * x.")
_defjvp(square_p, lambda g, ans, x: mul(g, mul(_c(x, 2), x)))

def _reciprocal_numba(x, dtype=None):
    if dtype is not None and np.dtype(dtype).kind == "c":
        return f"crecip({x})"
    return f"np.reciprocal({x})"


scalar_rule_traits(_reciprocal_numba, needs_dtype=True, runtime_helpers=("crecip",))

reciprocal_p, reciprocal = _unop(
    "reciprocal", np.reciprocal, _INEXACT, _reciprocal_numba,
    "    >>> lax.reciprocal(np.array([2.0, 4.0]))\n    array([0.5 , 0.25])\n",
    "Elementwise 1 / x (floating operands).")
_defjvp(reciprocal_p, lambda g, ans, x: mul(g, neg(square(ans))))

# max / min propagate NaN (np.maximum / np.minimum). At ties each operand receives
# half of the tangent (JAX's convention), so d max(x, x)/dx = 1.
# Under jit, floats use runtime.nmax/nmin: numba's np.maximum returns the first of equal
# operands, numpy the second (max(-0.0, 0.0) is 0.0, max(0.0, -0.0) is -0.0).


def _max_numba(x, y, dtype=None):
    return f"nmax({x}, {y})" if np.dtype(dtype).kind == "f" else f"np.maximum({x}, {y})"


def _min_numba(x, y, dtype=None):
    return f"nmin({x}, {y})" if np.dtype(dtype).kind == "f" else f"np.minimum({x}, {y})"


scalar_rule_traits(_max_numba, needs_dtype=True, runtime_helpers=("nmax",))
scalar_rule_traits(_min_numba, needs_dtype=True, runtime_helpers=("nmin",))

max_p = _prim("max", np.maximum, 2, _ORDERED, numba=_max_numba)
min_p = _prim("min", np.minimum, 2, _ORDERED, numba=_min_numba)


def max(x, y):
    """Elementwise maximum (NaN propagates).

    >>> import numpy as np; from xform import lax
    >>> lax.max(np.array([1.0, 5.0]), 3.0)
    array([3., 5.])
    """
    return max_p.bind(*_binary_args(x, y, "max"))


def min(x, y):
    """Elementwise minimum (NaN propagates).

    >>> import numpy as np; from xform import lax
    >>> lax.min(np.array([1.0, 5.0]), 3.0)
    array([1., 3.])
    """
    return min_p.bind(*_binary_args(x, y, "min"))


def _balanced_eq(x, ans, y):
    """1 where x alone is the result, 1/2 where x and y tie, 0 elsewhere."""
    one, half, zero = _c(ans, 1), _c(ans, 0.5), _c(ans, 0)
    return select(eq(x, ans), select(eq(y, ans), half, one), zero)


_defjvp(max_p, lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
        lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x)))
_defjvp(min_p, lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
        lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x)))


def _clamp_impl(lo, x, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _clamp_numba(lo, x, hi, dtype=None):
    if np.dtype(dtype).kind == "f":
        return f"nmin(nmax({x}, {lo}), {hi})"
    return f"np.minimum(np.maximum({x}, {lo}), {hi})"


scalar_rule_traits(_clamp_numba, needs_dtype=True, runtime_helpers=("nmax", "nmin"))

clamp_p = _prim("clamp", _clamp_impl, 3, _REAL, numba=_clamp_numba)


def clamp(min, x, max):
    """Elementwise ``minimum(maximum(x, min), max)`` (``lax.clamp(min, x, max)``).

    >>> import numpy as np; from xform import lax
    >>> lax.clamp(0.0, np.array([-1.0, 0.5, 2.0]), 1.0)
    array([0. , 0.5, 1. ])
    """
    return clamp_p.bind(*_nary_args("clamp", min, x, max))


# result = min(max(x, lo), hi): x's tangent passes where lo < x < hi, lo's where
# x < lo < hi, hi's where hi < max(x, lo) (so hi wins when the bounds cross, like
# numpy.clip). At ties with a bound nobody gets the tangent (JAX's convention).
_defjvp(
    clamp_p,
    lambda g, ans, lo, x, hi: select(bitwise_and(gt(lo, x), lt(lo, hi)), g, _c(ans, 0)),
    lambda g, ans, lo, x, hi: select(bitwise_and(gt(x, lo), lt(x, hi)), g, _c(ans, 0)),
    lambda g, ans, lo, x, hi: select(lt(hi, max(x, lo)), g, _c(ans, 0)),
)


# -- transcendental ----------------------------------------------------------------

exp_p, exp = _unop("exp", np.exp, _INEXACT,
                   _complex_by("cexp", lambda x: f"np.exp({x})"),
                   "    >>> lax.exp(np.array([0.0, 1.0]))\n    array([1.        , 2.71828183])\n",
                   "Elementwise e**x.")
_defjvp(exp_p, lambda g, ans, x: mul(g, ans))

log_p, log = _unop("log", np.log, _INEXACT, lambda x: f"np.log({x})",
                   "    >>> lax.log(np.array([1.0, np.e]))\n    array([0., 1.])\n",
                   "Elementwise natural logarithm.")
_defjvp(log_p, lambda g, ans, x: div(g, x))

log1p_p, log1p = _unop("log1p", np.log1p, _INEXACT, lambda x: f"np.log1p({x})",
                       "    >>> lax.log1p(np.array([0.0, 1e-20]))\n    array([0.e+00, 1.e-20])\n",
                       "Elementwise log(1 + x), accurate near 0.")
_defjvp(log1p_p, lambda g, ans, x: div(g, add(x, _c(x, 1))))

expm1_p, expm1 = _unop("expm1", np.expm1, _INEXACT, lambda x: f"np.expm1({x})",
                       "    >>> lax.expm1(np.array([0.0, 1e-20]))\n    array([0.e+00, 1.e-20])\n",
                       "Elementwise exp(x) - 1, accurate near 0.")
_defjvp(expm1_p, lambda g, ans, x: mul(g, exp(x)))  # not ans + 1: it cancels for x << 0

sin_p, sin = _unop("sin", np.sin, _INEXACT,
                   _complex_by("csin", lambda x: f"np.sin({x})"),
                   "    >>> lax.sin(np.array([0.0, np.pi / 2]))\n    array([0., 1.])\n",
                   "Elementwise sine.")
cos_p, cos = _unop("cos", np.cos, _INEXACT,
                   _complex_by("ccos", lambda x: f"np.cos({x})"),
                   "    >>> lax.cos(np.array([0.0, np.pi]))\n    array([ 1., -1.])\n",
                   "Elementwise cosine.")
_defjvp(sin_p, lambda g, ans, x: mul(g, cos(x)))
_defjvp(cos_p, lambda g, ans, x: mul(g, neg(sin(x))))

tan_p, tan = _unop("tan", np.tan, _INEXACT,
                   _complex_by("ctan", lambda x: f"np.tan({x})"),
                   "    >>> lax.tan(np.array([0.0, np.pi / 4]))\n    array([0., 1.])\n",
                   "Elementwise tangent.")
_defjvp(tan_p, lambda g, ans, x: mul(g, add(_c(ans, 1), square(ans))))

asin_p, asin = _unop("asin", np.arcsin, _INEXACT, lambda x: f"np.arcsin({x})",
                     "    >>> lax.asin(np.array([0.0, 1.0]))\n    array([0.        , 1.57079633])\n",
                     "Elementwise inverse sine.")
_defjvp(asin_p, lambda g, ans, x: mul(g, rsqrt(sub(_c(x, 1), square(x)))))

acos_p, acos = _unop("acos", np.arccos, _INEXACT, lambda x: f"np.arccos({x})",
                     "    >>> lax.acos(np.array([1.0, 0.0]))\n    array([0.        , 1.57079633])\n",
                     "Elementwise inverse cosine.")
_defjvp(acos_p, lambda g, ans, x: mul(g, neg(rsqrt(sub(_c(x, 1), square(x))))))

atan_p, atan = _unop("atan", np.arctan, _INEXACT, lambda x: f"np.arctan({x})",
                     "    >>> lax.atan(np.array([0.0, 1.0]))\n    array([0.        , 0.78539816])\n",
                     "Elementwise inverse tangent.")
_defjvp(atan_p, lambda g, ans, x: div(g, add(_c(x, 1), square(x))))

atan2_p = _prim("atan2", np.arctan2, 2, _FLOAT, numba=lambda x, y: f"np.arctan2({x}, {y})")


def atan2(x, y):
    """Elementwise arctangent of x / y using the signs of both to pick the quadrant.

    >>> import numpy as np; from xform import lax
    >>> lax.atan2(np.array([1.0, 1.0]), np.array([1.0, -1.0]))
    array([0.78539816, 2.35619449])
    """
    return atan2_p.bind(*_binary_args(x, y, "atan2"))


def _over_hypot_squared(v, x, y):
    """v / (x^2 + y^2), computed as (v / h) / h with h = hypot(x, y): the squares
    overflow from |x| ~ 1e154 and underflow below 1e-154, where the quotient does not."""
    h = hypot(x, y)
    return div(div(v, h), h)


# d atan2(x, y) = (y dx - x dy) / (x^2 + y^2)
_defjvp(atan2_p, lambda g, ans, x, y: mul(g, _over_hypot_squared(y, x, y)),
        lambda g, ans, x, y: mul(g, _over_hypot_squared(neg(x), x, y)))

# hypot is a primitive (not sqrt(x*x + y*y), which overflows from |x| ~ 1e154 and
# underflows below 1e-154): numpy's np.hypot eagerly, libm's hypot (math.hypot) under jit,
# the same function numpy calls, so the two agree bit for bit.
hypot_p = _prim("hypot", np.hypot, 2, _FLOAT, numba=lambda x, y: f"math.hypot({x}, {y})")


def hypot(x, y):
    """Elementwise sqrt(x**2 + y**2) without overflow or underflow in the squares (float
    operands; ``xform.numpy.hypot`` promotes others).

    >>> import numpy as np; from xform.lax.elementwise import hypot
    >>> hypot(np.array([3.0, 3e200]), np.array([4.0, 4e200]))
    array([5.e+000, 5.e+200])
    """
    return hypot_p.bind(*_binary_args(x, y, "hypot"))


def _hypot_partial(x, ans):
    """d hypot(x, y)/dx = x / hypot(x, y), in [-1, 1] (no overflow). Where the result is
    infinite: the limit, sign(x) for an infinite x and 0 for a finite one (JAX: nan); at
    (0, 0), where hypot has no derivative: 0, its smallest subgradient (JAX: 1/2)."""
    zero, one, inf = _c(x, 0.0), _c(x, 1.0), _c(x, np.inf)
    ans_inf = eq(ans, inf)
    r = div(x, select(bitwise_or(eq(ans, zero), ans_inf), one, ans))  # (no 0/0, inf/inf)
    return select(eq(abs(x), inf), sign(x), select(ans_inf, zero, r))


_defjvp(hypot_p, lambda g, ans, x, y: mul(g, _hypot_partial(x, ans)),
        lambda g, ans, x, y: mul(g, _hypot_partial(y, ans)))

sinh_p, sinh = _unop("sinh", np.sinh, _INEXACT,
                   _complex_by("csinh", lambda x: f"np.sinh({x})"),
                     "    >>> lax.sinh(np.array([0.0, 1.0]))\n    array([0.        , 1.17520119])\n",
                     "Elementwise hyperbolic sine.")
cosh_p, cosh = _unop("cosh", np.cosh, _INEXACT,
                   _complex_by("ccosh", lambda x: f"np.cosh({x})"),
                     "    >>> lax.cosh(np.array([0.0, 1.0]))\n    array([1.        , 1.54308063])\n",
                     "Elementwise hyperbolic cosine.")
_defjvp(sinh_p, lambda g, ans, x: mul(g, cosh(x)))
_defjvp(cosh_p, lambda g, ans, x: mul(g, sinh(x)))

tanh_p, tanh = _unop("tanh", np.tanh, _INEXACT,
                   _complex_by("ctanh", lambda x: f"np.tanh({x})"),
                     "    >>> lax.tanh(np.array([0.0, 1.0]))\n    array([0.        , 0.76159416])\n",
                     "Elementwise hyperbolic tangent.")
_defjvp(tanh_p, lambda g, ans, x: mul(g, sub(_c(ans, 1), square(ans))))

asinh_p, asinh = _unop("asinh", np.arcsinh, _INEXACT, lambda x: f"np.arcsinh({x})",
                       "    >>> lax.asinh(np.array([0.0, 1.0]))\n    array([0.        , 0.88137359])\n",
                       "Elementwise inverse hyperbolic sine.")


def _asinh_jvp(g, ans, x):
    # real x: 1 / hypot(x, 1), as x^2 + 1 overflows from |x| ~ 1e154 (the derivative, 1/|x|
    # there, is not 0); complex x: the principal branch of (x^2 + 1)^(-1/2)
    if get_aval(x).dtype.kind == "f":
        return div(g, hypot(x, _c(x, 1)))
    return mul(g, rsqrt(add(square(x), _c(x, 1))))


_defjvp(asinh_p, _asinh_jvp)

acosh_p, acosh = _unop("acosh", np.arccosh, _INEXACT, lambda x: f"np.arccosh({x})",
                       "    >>> lax.acosh(np.array([1.0, 3.0]))\n    array([0.        , 1.76274717])\n",
                       "Elementwise inverse hyperbolic cosine.")


def _acosh_jvp(g, ans, x):
    # (x - 1)(x + 1) rather than x^2 - 1: accurate near x = 1; for real x the two factors
    # apart, as their product overflows from x ~ 1e154 (the derivative, 1/x there, is not 0)
    xm, xp = sub(x, _c(x, 1)), add(x, _c(x, 1))
    if get_aval(x).dtype.kind == "f":
        return mul(g, mul(rsqrt(xm), rsqrt(xp)))
    return mul(g, rsqrt(mul(xm, xp)))


_defjvp(acosh_p, _acosh_jvp)

atanh_p, atanh = _unop("atanh", np.arctanh, _INEXACT, lambda x: f"np.arctanh({x})",
                       "    >>> lax.atanh(np.array([0.0, 0.5]))\n    array([0.        , 0.54930614])\n",
                       "Elementwise inverse hyperbolic tangent.")
_defjvp(atanh_p, lambda g, ans, x: div(g, mul(sub(_c(x, 1), x), add(_c(x, 1), x))))

sqrt_p, sqrt = _unop("sqrt", np.sqrt, _INEXACT, lambda x: f"np.sqrt({x})",
                     "    >>> lax.sqrt(np.array([4.0, 9.0]))\n    array([2., 3.])\n",
                     "Elementwise square root.")
# sqrt'(x) = 1 / (2 sqrt(x)); at 0 this is inf (numpy's 0.5 / sqrt(0)).
_defjvp(sqrt_p, lambda g, ans, x: div(g, mul(_c(ans, 2), ans)))


def _rsqrt_impl(x):
    return np.reciprocal(np.sqrt(x))


rsqrt_p, rsqrt = _unop("rsqrt", _rsqrt_impl, _INEXACT, lambda x: f"np.reciprocal(np.sqrt({x}))",
                       "    >>> lax.rsqrt(np.array([4.0, 16.0]))\n    array([0.5 , 0.25])\n",
                       "Elementwise 1 / sqrt(x).")
# d x^(-1/2) = -1/2 x^(-3/2) = -1/2 rsqrt(x) / x
_defjvp(rsqrt_p, lambda g, ans, x: mul(g, mul(_c(x, -0.5), div(ans, x))))

cbrt_p, cbrt = _unop("cbrt", np.cbrt, _FLOAT, lambda x: f"np.cbrt({x})",
                     "    >>> lax.cbrt(np.array([8.0, -27.0]))\n    array([ 2., -3.])\n",
                     "Elementwise real cube root.")
# cbrt'(x) = 1 / (3 cbrt(x)^2): inf at 0.
_defjvp(cbrt_p, lambda g, ans, x: div(g, mul(_c(ans, 3), square(ans))))


def _logistic_impl(x):
    # Stable in both tails: exp only ever sees -|x|.
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    one = np.ones((), x.dtype)
    out = np.where(x >= 0, one / (one + e), e / (one + e))
    return out[()] if out.ndim == 0 else out


logistic_p, logistic = _unop(
    "logistic", _logistic_impl, _FLOAT,
    lambda x: (f"(lambda _x: 1.0 / (1.0 + np.exp(-_x)) if _x >= 0 else "
               f"(lambda _e: _e / (1.0 + _e))(np.exp(_x)))({x})"),
    "    >>> lax.logistic(np.array([0.0, 1000.0, -1000.0]))\n    array([0.5, 1. , 0. ])\n",
    "Elementwise logistic sigmoid 1 / (1 + exp(-x)), stable for large |x|.")
_defjvp(logistic_p, lambda g, ans, x: mul(g, mul(ans, sub(_c(ans, 1), ans))))

_erf_vec = np.vectorize(math.erf, otypes=[np.float64])


def _erf_impl(x):
    x = np.asarray(x)
    out = _erf_vec(x).astype(x.dtype, copy=False)
    return out[()] if out.ndim == 0 else out


erf_p, erf = _unop("erf", _erf_impl, _FLOAT, lambda x: f"math.erf({x})",
                   "    >>> lax.erf(np.array([0.0, 1.0]))\n    array([0.        , 0.84270079])\n",
                   "Elementwise error function.")
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_defjvp(erf_p, lambda g, ans, x: mul(g, mul(_c(x, _TWO_OVER_SQRT_PI), exp(neg(square(x))))))

# erf_inv: eagerly scipy.special.erfinv (accurate to an ulp or two over [-1, 1]), computed
# in float64 and rounded to the operand's dtype; under jit ``erf_inv_scalar`` of
# backend/numba/special_runtime.py (Giles' double-precision approximation and one Newton
# step on a residual without cancellation: within a few ulps of scipy, also at
# |y| = 1 - 2**-53).


def _erf_inv_impl(y):
    import scipy.special as sps

    y = np.asarray(y)
    with np.errstate(all="ignore"):
        out = np.asarray(sps.erfinv(y.astype(np.float64))).astype(y.dtype, copy=False)
    return out[()] if out.ndim == 0 else out


_erf_inv_numba = scalar_rule_traits(lambda y: f"erf_inv_scalar({y})",
                                    runtime_helpers=("erf_inv_scalar",))


erf_inv_p, erf_inv = _unop(
    "erf_inv", _erf_inv_impl, _FLOAT, _erf_inv_numba,
    "    >>> lax.erf_inv(np.array([0.0, 0.5]))\n    array([0.        , 0.47693628])\n",
    "Elementwise inverse of the error function (on [-1, 1]).")
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_defjvp(erf_inv_p, lambda g, ans, x: mul(g, mul(_c(x, _SQRT_PI_OVER_TWO), exp(square(ans)))))


# -- piecewise -------------------------------------------------------------------

abs_p, abs = _unop("abs", np.abs, _REAL + "c", lambda x: f"np.abs({x})",
                   "    >>> lax.abs(np.array([-1.5, 2.0]))\n    array([1.5, 2. ])\n"
                   "    >>> lax.abs(np.array([3 + 4j]))\n    array([5.])\n",
                   "Elementwise absolute value (the modulus, a real result, for complex).")
abs_p.abstract_eval = _real_result(abs_p.abstract_eval)


def _abs_jvp_rule(g, ans, x):
    if get_aval(x).dtype.kind == "c":
        # d|z| = Re(conj(z) dz) / |z|, with 0 at z = 0
        a = convert_element_type(ans, get_aval(x).dtype)
        safe = select(eq(a, _c(a, 0)), _c(a, 1), a)
        return real(mul(g, div(conj(x), safe)))
    # JAX's rule: the x >= 0 branch at 0 (and -0.0), so abs'(0) = 1; -1 for NaN
    return select(ge(x, _c(x, 0)), g, neg(g))


_defjvp(abs_p, _abs_jvp_rule)

def _sign_numba(x, dtype=None):
    if dtype is not None and np.dtype(dtype).kind == "f":
        return f"(np.sign({x}) + 0.0)"  # numpy's sign(-0.0) is +0.0; Numba's is -0.0
    return f"np.sign({x})"


scalar_rule_traits(_sign_numba, needs_dtype=True)

sign_p, sign = _unop("sign", np.sign, _REAL, _sign_numba,
                     "    >>> lax.sign(np.array([-2.0, 0.0, 3.0]))\n    array([-1.,  0.,  1.])\n",
                     "Elementwise sign: -1, 0 or 1 (NaN for NaN).")
_zero_jvp(sign_p)  # piecewise constant: derivative 0 everywhere (also at 0)

floor_p, floor = _unop("floor", np.floor, _FLOAT, lambda x: f"np.floor({x})",
                       "    >>> lax.floor(np.array([-1.5, 1.5]))\n    array([-2.,  1.])\n",
                       "Elementwise floor (floating operands).")
_zero_jvp(floor_p)  # derivative 0, also at the integers
ceil_p, ceil = _unop("ceil", np.ceil, _FLOAT, lambda x: f"np.ceil({x})",
                     "    >>> lax.ceil(np.array([-1.5, 1.5]))\n    array([-1.,  2.])\n",
                     "Elementwise ceiling (floating operands).")
_zero_jvp(ceil_p)  # derivative 0, also at the integers
round_p, round = _unop("round", np.round, _FLOAT, lambda x: f"np.rint({x})",
                       "    >>> lax.round(np.array([0.5, 1.5, 2.5, -0.5]))\n"
                       "    array([ 0.,  2.,  2., -0.])\n",
                       "Elementwise rounding to the nearest integer, halves to even (numpy's "
                       "rule;\n    note: JAX's lax.round defaults to rounding halves away from zero).")
_zero_jvp(round_p)  # derivative 0, also at the half-integers

is_finite_p = _prim("is_finite", np.isfinite, 1, _FLOAT, out_dtype=np.dtype(bool),
                    numba=lambda x: f"np.isfinite({x})")
_zero_jvp(is_finite_p)


def is_finite(x):
    """Elementwise test for finite values (not inf and not NaN); a boolean result.

    >>> import numpy as np; from xform import lax
    >>> lax.is_finite(np.array([1.0, np.inf, np.nan]))
    array([ True, False, False])
    """
    return is_finite_p.bind(x)


# -- comparisons and bitwise ops -----------------------------------------------------


def _comparison(name, fn, kinds, op) -> tuple[Primitive, Callable[..., Any]]:
    prim = _prim(name, fn, 2, kinds, out_dtype=np.dtype(bool),
                 numba=lambda x, y: f"({x} {op} {y})")
    _zero_jvp(prim)

    def f(x, y):
        return prim.bind(*_binary_args(x, y, name))

    f.__name__ = f.__qualname__ = name
    out = repr(fn(np.array([1.0, 2.0, 3.0]), 2.0))
    f.__doc__ = (f"Elementwise x {op} y; a boolean result.\n\n"
                 f"    >>> import numpy as np; from xform import lax\n"
                 f"    >>> lax.{name}(np.array([1.0, 2.0, 3.0]), 2.0)\n    {out}\n    ")
    return prim, f


eq_p, eq = _comparison("eq", np.equal, _ANY, "==")
ne_p, ne = _comparison("ne", np.not_equal, _ANY, "!=")
lt_p, lt = _comparison("lt", np.less, _ORDERED, "<")
le_p, le = _comparison("le", np.less_equal, _ORDERED, "<=")
gt_p, gt = _comparison("gt", np.greater, _ORDERED, ">")
ge_p, ge = _comparison("ge", np.greater_equal, _ORDERED, ">=")


def _bitwise(name, fn, op) -> tuple[Primitive, Callable[..., Any]]:
    prim = _prim(name, fn, 2, _INTEGRAL, numba=lambda x, y: f"({x} {op} {y})")
    _zero_jvp(prim)

    def f(x, y):
        return prim.bind(*_binary_args(x, y, name))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"Elementwise bitwise x {op} y on integers; logical on booleans.\n\n"
                 f"    >>> import numpy as np; from xform import lax\n"
                 f"    >>> lax.{name}(np.array([True, True, False]), np.array([True, False, False]))\n"
                 f"    {fn(np.array([True, True, False]), np.array([True, False, False]))!r}\n    ")
    return prim, f


and_p, bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "&")
or_p, bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "|")
xor_p, bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "^")
bitwise_and_p, bitwise_or_p, bitwise_xor_p = and_p, or_p, xor_p

def _shift_numba(op, out_of_range):
    def rule(x, y, dtype=None):
        bits = np.dtype(dtype).itemsize * 8 if dtype is not None else 64
        # numpy defines shifts by >= the bit width (or negative counts) instead of
        # leaving them undefined as C and LLVM do. The fallback is written in _x's own
        # type (_x ^ _x is its 0): a literal 0 would unify uint64 with int64 as float64.
        return (f"(lambda _x, _y: (_x {op} _y) if (_y >= 0 and _y < {bits}) "
                f"else {out_of_range})({x}, {y})")

    scalar_rule_traits(rule, needs_dtype=True)
    return rule


def _shift(name, fn, op, out_of_range, doc) -> tuple[Primitive, Callable[..., Any]]:
    prim = _prim(name, fn, 2, "iu", numba=_shift_numba(op, out_of_range))
    _zero_jvp(prim)

    def f(x, y):
        return prim.bind(*_binary_args(x, y, name))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return prim, f


shift_left_p, shift_left = _shift(
    "shift_left", np.left_shift, "<<", "(_x ^ _x)",
    """Elementwise x << y on integers (numpy's left_shift: 0 for shifts >= the bit width).

    >>> import numpy as np; from xform import lax
    >>> lax.shift_left(np.array([1, 3]), np.array([2, 70]))
    array([4, 0])
    """)
shift_right_p, shift_right = _shift(
    "shift_right", np.right_shift, ">>", "(~(_x ^ _x) if _x < 0 else (_x ^ _x))",
    """Elementwise x >> y on integers: arithmetic for signed, logical for unsigned types
    (numpy's right_shift).

    >>> import numpy as np; from xform import lax
    >>> lax.shift_right(np.array([-8, 8]), np.array([1, 70]))
    array([-4,  0])
    """)


not_p, bitwise_not = _unop(
    "bitwise_not", np.invert, _INTEGRAL, lambda x: f"np.invert({x})",
    "    >>> lax.bitwise_not(np.array([True, False]))\n    array([False,  True])\n"
    "    >>> lax.bitwise_not(np.array([0, 5]))\n    array([-1, -6])\n",
    "Elementwise bitwise NOT on integers (~x); logical NOT on booleans.")
bitwise_not_p = not_p
_zero_jvp(not_p)


# -- complex numbers ----------------------------------------------------------------
# Linear maps on complex values are transposed with the bilinear pairing Re(u * v)
# (no conjugation), like mul's transpose and JAX: real^T ct = complex(ct, 0),
# imag^T ct = complex(0, -ct), conj^T ct = conj(ct), complex^T ct = (re ct, -im ct).

real_p, real = _unop("real", np.real, "c", lambda x: f"({x}).real",
                     "    >>> lax.real(np.array([1 + 2j, 3 - 4j]))\n    array([1., 3.])\n",
                     "Elementwise real part of a complex array (a real result).")
real_p.abstract_eval = _real_result(real_p.abstract_eval)
imag_p, imag = _unop("imag", np.imag, "c", lambda x: f"({x}).imag",
                     "    >>> lax.imag(np.array([1 + 2j, 3 - 4j]))\n    array([ 2., -4.])\n",
                     "Elementwise imaginary part of a complex array (a real result).")
imag_p.abstract_eval = _real_result(imag_p.abstract_eval)
conj_p, conj = _unop("conj", np.conj, "c", lambda x: f"np.conj({x})",
                     "    >>> lax.conj(np.array([1 + 2j]))\n    array([1.-2.j])\n",
                     "Elementwise complex conjugate (complex operands).")
_defjvp(real_p, lambda g, ans, x: real(g))
_defjvp(imag_p, lambda g, ans, x: imag(g))
_defjvp(conj_p, lambda g, ans, x: conj(g))
real_p.transpose = lambda ct, x: [
    Zero(x.aval) if type(ct) is Zero else complex(ct, _c(ct, 0))]
imag_p.transpose = lambda ct, x: [
    Zero(x.aval) if type(ct) is Zero else complex(_c(ct, 0), neg(ct))]
conj_p.transpose = lambda ct, x: [Zero(x.aval) if type(ct) is Zero else conj(ct)]


def _complex_impl(x, y):
    x, y = np.asarray(x), np.asarray(y)
    dt = np.result_type(x.dtype, np.complex64)
    out = np.empty(np.broadcast_shapes(x.shape, y.shape), dt)
    out.real, out.imag = x, y  # exact even for infinite parts (unlike x + 1j * y)
    return out[()] if out.ndim == 0 else out


complex_p = _prim("complex", _complex_impl, 2, _FLOAT,
                  numba=lambda x, y: f"complex({x}, {y})")
_complex_shape = complex_p.abstract_eval
complex_p.abstract_eval = lambda x, y: _complex_shape(x, y).update(
    dtype=np.result_type(x.dtype, np.complex64))


def complex(x, y):
    """Elementwise ``x + 1j * y`` from two floating arrays of one dtype (float32 gives
    complex64, float64 complex128).

    >>> import numpy as np; from xform import lax
    >>> lax.complex(np.array([1.0, 2.0]), 3.0)
    array([1.+3.j, 2.+3.j])
    """
    return complex_p.bind(*_binary_args(x, y, "complex"))


def _complex_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    ans = complex(x, y)
    if type(tx) is Zero and type(ty) is Zero:
        return ans, Zero.like(ans)
    zero = _c(x, 0)
    t = complex(zero if type(tx) is Zero else tx, zero if type(ty) is Zero else ty)
    return ans, _bcast_tangent(t, ans)


def _complex_transpose(ct, x, y):
    return [_ct_for(ct if type(ct) is Zero else real(ct), x) if is_undefined(x) else None,
            _ct_for(ct if type(ct) is Zero else neg(imag(ct)), y) if is_undefined(y) else None]


complex_p.jvp = _complex_jvp
complex_p.transpose = _complex_transpose


# -- select ----------------------------------------------------------------------

select_p = _prim("select", np.where, 3, None, numba=lambda p, t, f: f"select({p}, {t}, {f})")
# runtime.select: one LLVM select (a conditional expression costs numba new basic blocks)
scalar_rule_traits(select_p.numba_scalar, runtime_helpers=("select",))


def _select_abstract(pred, on_true, on_false):
    if pred.dtype != np.bool_:
        raise TypeError(f"select: pred must be a boolean array, got {pred.str_short()}")
    if on_true.dtype != on_false.dtype:
        raise TypeError(
            f"select: on_true and on_false must have the same dtype, got "
            f"{on_true.str_short()} and {on_false.str_short()}; convert them first.")
    if pred.shape == on_true.shape == on_false.shape:
        shape = pred.shape
    else:
        shape = broadcast_shapes("select", pred.shape, on_true.shape, on_false.shape)
    return ShapedArray(shape, on_true.dtype, on_true.weak_type and on_false.weak_type)


def _select_impl(pred, on_true, on_false):
    if getattr(pred, "dtype", None) != np.bool_ and type(pred) is not bool or (
            getattr(on_true, "dtype", None) != getattr(on_false, "dtype", None)
            and type(on_true) not in _PY_SCALARS and type(on_false) not in _PY_SCALARS):
        _select_abstract(get_aval(pred, "select"), get_aval(on_true, "select"),
                         get_aval(on_false, "select"))
    try:
        return np.where(pred, on_true, on_false)
    except ValueError:
        _select_abstract(get_aval(pred, "select"), get_aval(on_true, "select"),
                         get_aval(on_false, "select"))
        raise


select_p.abstract_eval = _select_abstract
select_p.impl = _select_impl


def select(pred, on_true, on_false):
    """Elementwise ``on_true if pred else on_false`` (numpy broadcasting of all three;
    ``pred`` is boolean, the branches share a dtype).

    >>> import numpy as np; from xform import lax
    >>> lax.select(np.array([True, False]), np.array([1.0, 2.0]), 0.0)
    array([1., 0.])
    """
    if type(pred) is bool:
        pred = np.bool_(pred)
    on_true, on_false = _binary_args(on_true, on_false, "select")
    return select_p.bind(pred, on_true, on_false)


def _select_jvp(primals, tangents):
    # The predicate has no tangent. A Zero branch tangent is instantiated (as a scalar
    # zero broadcast by select) only when the other branch's tangent is nonzero.
    pred, on_true, on_false = primals
    _, t_true, t_false = tangents
    ans = select(pred, on_true, on_false)
    if type(t_true) is Zero and type(t_false) is Zero:
        return ans, Zero.like(ans)
    zero = _c(ans, 0)
    t_true = zero if type(t_true) is Zero else t_true
    t_false = zero if type(t_false) is Zero else t_false
    return ans, _bcast_to(select(pred, t_true, t_false), _shape(ans))


def _select_transpose(ct, pred, on_true, on_false):
    if is_undefined(pred):
        raise ValueError("select: transpose with respect to the predicate (not linear)")
    if type(ct) is Zero:
        return [None,
                Zero(on_true.aval) if is_undefined(on_true) else None,
                Zero(on_false.aval) if is_undefined(on_false) else None]
    zero = _c(ct, 0)
    ct_true = unbroadcast(select(pred, ct, zero), on_true.aval) if is_undefined(on_true) else None
    ct_false = (unbroadcast(select(pred, zero, ct), on_false.aval)
                if is_undefined(on_false) else None)
    return [None, ct_true, ct_false]


select_p.jvp = _select_jvp
select_p.transpose = _select_transpose
# batching: the broadcasting rule of elementwise_primitive (select broadcasts like
# numpy.where, so aligning ranks behind the batch dimension is all it needs).


# -- dtype conversion ---------------------------------------------------------------

convert_element_type_p = elementwise_primitive("convert_element_type", None, 1)


def _convert_impl(x, new_dtype, weak_type=False):
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype == new_dtype:
        return x  # only the weak flag changes (values are never mutated in place)
    return np.asarray(x).astype(new_dtype)


def _convert_abstract(x, new_dtype, weak_type=False):
    return ShapedArray(x.shape, check_dtype(new_dtype, "convert_element_type"), weak_type)


def _convert_jvp(primals, tangents, new_dtype, weak_type=False):
    # Tangents flow between floating dtypes (and complex -> float takes the real part,
    # like the cast); to or from integers/bools the tangent is Zero.
    (x,), (t,) = primals, tangents
    ans = convert_element_type(x, new_dtype, weak_type)
    if type(t) is Zero or np.dtype(new_dtype).kind not in "fc":
        return ans, Zero.like(ans)
    return ans, convert_element_type(t, new_dtype)


def _convert_transpose(ct, x, new_dtype, weak_type=False):
    if type(ct) is Zero or x.aval.dtype.kind not in "fc":
        return [Zero(x.aval)]
    if x.aval.dtype.kind == "f" and get_aval(ct).dtype.kind == "c":
        ct = real(ct)  # the transpose of the real -> complex embedding (Re pairing)
    return [convert_element_type(ct, x.aval.dtype)]


def _convert_numba(x, new_dtype, weak_type=False, dtype=None):
    dt = np.dtype(new_dtype)
    if dtype is not None and np.dtype(dtype).kind == "c" and dt.kind != "c":
        # numpy drops the imaginary part (Numba refuses the cast)
        return f"(({x}) != 0)" if dt == np.bool_ else f"np.{dt.name}(({x}).real)"
    if dtype is not None and np.dtype(dtype).kind == "f" and dt.kind == "u":
        # negative floats to unsigned: numpy wraps (-5.0 -> 251 for uint8); LLVM's
        # direct conversion is undefined there (saturated, or 0 in vectorized loops),
        # so go through int64, which is defined for them
        if dt.itemsize < 8:
            return f"np.{dt.name}(np.int64({x}))"
        return f"(lambda _v: np.uint64(np.int64(_v)) if _v < 0 else np.uint64(_v))({x})"
    name = "bool_" if dt == np.bool_ else dt.name
    return f"np.{name}({x})"


scalar_rule_traits(_convert_numba, needs_dtype=True)


convert_element_type_p.impl = _convert_impl
convert_element_type_p.abstract_eval = _convert_abstract
convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.numba_scalar = _convert_numba


def convert_element_type(x, new_dtype, weak_type: bool = False):
    """Cast ``x`` to ``new_dtype`` (numpy's astype semantics).

    >>> import numpy as np; from xform import lax
    >>> lax.convert_element_type(np.array([1.7, -1.7]), np.int32)
    array([ 1, -1], dtype=int32)
    """
    new_dtype = check_dtype(np.dtype(new_dtype), "convert_element_type")
    aval = get_aval(x, "convert_element_type")
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type))


# -- reduce_precision ---------------------------------------------------------------


def _precision_params(exponent_bits, mantissa_bits):
    """The format parameters with the same effect on float64 values: more than 12
    exponent bits or 1000 mantissa bits change nothing more (and would overflow)."""
    return min(int(exponent_bits), 12), min(int(mantissa_bits), 1000)


def _reduce_precision_impl(x, exponent_bits, mantissa_bits):
    x = np.asarray(x)
    ebits, mbits = _precision_params(exponent_bits, mantissa_bits)
    v = x.astype(np.float64)  # exact; the scalings below are exact in float64 as well
    emax = (1 << (ebits - 1)) - 1
    with np.errstate(all="ignore"):
        # v = m * 2**e with 0.5 <= |m| < 1, so the leading bit is 2**(e - 1); below the
        # smallest normal exponent (1 - emax) the spacing stays fixed (subnormals).
        e = np.maximum(np.frexp(v)[1] - 1, 1 - emax)
        q = np.ldexp(np.rint(np.ldexp(v, mbits - e)), e - mbits)
        largest = np.ldexp(2.0 - 2.0 ** -mbits, emax)  # inf when emax > 1023
        q = np.where(np.abs(q) > largest, np.copysign(np.inf, v), q)
        return np.where(np.isfinite(v), q, v).astype(x.dtype)[()]


def _reduce_precision_numba(x, exponent_bits, mantissa_bits):
    ebits, mbits = _precision_params(exponent_bits, mantissa_bits)
    return f"round_precision({x}, {ebits}, {mbits})"


scalar_rule_traits(_reduce_precision_numba, runtime_helpers=("round_precision",))

reduce_precision_p = _prim("reduce_precision", _reduce_precision_impl, 1, _FLOAT,
                           numba=_reduce_precision_numba)
# Rounding is treated as the identity's derivative (as JAX does): tangents and
# cotangents are rounded to the same format.
_defjvp(reduce_precision_p, lambda g, ans, x, **p: reduce_precision_p.bind(g, **p))
reduce_precision_p.transpose = lambda ct, x, **p: [
    ct if type(ct) is Zero else reduce_precision_p.bind(ct, **p)]


def reduce_precision(x, exponent_bits: int, mantissa_bits: int):
    """Round ``x`` to the nearest value (ties to even) of a floating format with
    ``exponent_bits`` and ``mantissa_bits``, keeping its dtype: values too large become
    inf, small ones the format's subnormals (float16: 5 and 10, bfloat16: 8 and 7).

    >>> import numpy as np; from xform import lax
    >>> lax.reduce_precision(np.array([0.1, 70000.0]), 5, 10)
    array([0.09997559,        inf])
    """
    for what, v, low in (("exponent_bits", exponent_bits, 1), ("mantissa_bits", mantissa_bits, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise TypeError(f"reduce_precision: {what} must be an int >= {low}, got {v!r}.")
    return reduce_precision_p.bind(x, exponent_bits=int(exponent_bits),
                                   mantissa_bits=int(mantissa_bits))


# -- stop_gradient ------------------------------------------------------------------

stop_gradient_p = elementwise_primitive("stop_gradient", lambda x: x, 1)
stop_gradient_p.numba_scalar = lambda x: f"{x}"
stop_gradient_p.batch = lambda vals, dims: (stop_gradient_p.bind(vals[0]), dims[0])
# The value passes, the tangent is Zero (so no cotangent flows back either).
_zero_jvp(stop_gradient_p)


def stop_gradient(x):
    """The identity on values, with a zero derivative; applies to every leaf of a pytree.

    >>> import numpy as np, xform; from xform import lax
    >>> float(xform.grad(lambda x: lax.mul(x, lax.stop_gradient(x)))(3.0))
    3.0
    """
    return tree_map(stop_gradient_p.bind, x)
