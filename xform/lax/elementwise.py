"""Elementwise primitives: each defined once with all of its rules.

Every entry states the numpy impl, the shape/dtype rule (via
``elementwise_primitive``), the JVP rule (written with lax ops so it differentiates
again), the transpose rule for linear ops, and ``numba_scalar``: a function from the
operands' scalar expressions (strings) to the scalar expression the jit code
generator emits in its fused loops.
"""
from __future__ import annotations

import numpy as np

from ..interpreters.jvp import Zero, add_tangents, defjvp
from ..interpreters.transpose import is_undefined
from ._rules import as_dtype_of, elementwise_primitive, unbroadcast


def _binary_args(x, y):
    return as_dtype_of(x, y), as_dtype_of(y, x)


def _ct_for(ct, x):
    """Cotangent for operand ``x`` of a broadcasting op (Zero stays Zero)."""
    if type(ct) is Zero:
        return Zero(x.aval)
    return unbroadcast(ct, x.aval)


# -- arithmetic ------------------------------------------------------------------

add_p = elementwise_primitive("add", np.add, 2)
add_p.numba_scalar = lambda x, y: f"({x} + {y})"


def add(x, y):
    """Elementwise x + y (numpy broadcasting; operands share a dtype).

    >>> import numpy as np; from xform import lax
    >>> lax.add(np.float64(1.0), 2.0)
    np.float64(3.0)
    """
    return add_p.bind(*_binary_args(x, y))


def _add_jvp(primals, tangents):
    x, y = primals
    ans = add(x, y)
    tx, ty = tangents
    return ans, add_tangents(_bcast_tangent(tx, ans), _bcast_tangent(ty, ans))


def _bcast_tangent(t, ans):
    """A tangent of an operand broadcast to the result shape."""
    from .structural import broadcast_to_shape

    if type(t) is Zero:
        return t
    return broadcast_to_shape(t, np.shape(ans) if not hasattr(ans, "aval") else ans.aval.shape)


add_p.jvp = _add_jvp
add_p.transpose = lambda ct, x, y: [
    _ct_for(ct, x) if is_undefined(x) else None,
    _ct_for(ct, y) if is_undefined(y) else None,
]

# add_any sums tangents/cotangents of the same shape; kept separate from add so that
# linear bookkeeping never depends on broadcasting.
add_any_p = elementwise_primitive("add_any", np.add, 2)
add_any_p.numba_scalar = add_p.numba_scalar


def add_any(x, y):
    return add_any_p.bind(x, y)


add_any_p.jvp = lambda primals, tangents: (
    add_any(*primals),
    add_tangents(_bcast_tangent(tangents[0], primals[0]), _bcast_tangent(tangents[1], primals[1])),
)
add_any_p.transpose = add_p.transpose

sub_p = elementwise_primitive("sub", np.subtract, 2)
sub_p.numba_scalar = lambda x, y: f"({x} - {y})"


def sub(x, y):
    """Elementwise x - y."""
    return sub_p.bind(*_binary_args(x, y))


def _sub_jvp(primals, tangents):
    x, y = primals
    ans = sub(x, y)
    tx, ty = tangents
    ty = ty if type(ty) is Zero else neg(ty)
    return ans, add_tangents(_bcast_tangent(tx, ans), _bcast_tangent(ty, ans))


sub_p.jvp = _sub_jvp
sub_p.transpose = lambda ct, x, y: [
    _ct_for(ct, x) if is_undefined(x) else None,
    (_ct_for(ct if type(ct) is Zero else neg(ct), y)) if is_undefined(y) else None,
]

neg_p = elementwise_primitive("neg", np.negative, 1)
neg_p.numba_scalar = lambda x: f"(-{x})"


def neg(x):
    """Elementwise -x."""
    return neg_p.bind(x)


defjvp(neg_p, lambda g, ans, x: neg(g))
neg_p.transpose = lambda ct, x: [ct if type(ct) is Zero else neg(ct)]

mul_p = elementwise_primitive("mul", np.multiply, 2)
mul_p.numba_scalar = lambda x, y: f"({x} * {y})"


def mul(x, y):
    """Elementwise x * y."""
    return mul_p.bind(*_binary_args(x, y))


defjvp(mul_p, lambda g, ans, x, y: mul(g, y), lambda g, ans, x, y: mul(x, g))


def _mul_transpose(ct, x, y):
    if is_undefined(x) and is_undefined(y):
        raise ValueError("mul: transpose of a product of two linear values (not linear)")
    if is_undefined(x):
        return [Zero(x.aval) if type(ct) is Zero else unbroadcast(mul(ct, y), x.aval), None]
    return [None, Zero(y.aval) if type(ct) is Zero else unbroadcast(mul(x, ct), y.aval)]


mul_p.transpose = _mul_transpose

# -- transcendental ----------------------------------------------------------------

sin_p = elementwise_primitive("sin", np.sin, 1, allowed_kinds="fc")
sin_p.numba_scalar = lambda x: f"np.sin({x})"


def sin(x):
    """Elementwise sine."""
    return sin_p.bind(x)


cos_p = elementwise_primitive("cos", np.cos, 1, allowed_kinds="fc")
cos_p.numba_scalar = lambda x: f"np.cos({x})"


def cos(x):
    """Elementwise cosine."""
    return cos_p.bind(x)


defjvp(sin_p, lambda g, ans, x: mul(g, cos(x)))
defjvp(cos_p, lambda g, ans, x: neg(mul(g, sin(x))))

exp_p = elementwise_primitive("exp", np.exp, 1, allowed_kinds="fc")
exp_p.numba_scalar = lambda x: f"np.exp({x})"


def exp(x):
    """Elementwise e**x."""
    return exp_p.bind(x)


defjvp(exp_p, lambda g, ans, x: mul(g, ans))

# -- dtype conversion ---------------------------------------------------------------

convert_element_type_p = elementwise_primitive("convert_element_type", None, 1)


def _convert_impl(x, new_dtype, weak_type=False):
    return np.asarray(x).astype(new_dtype)


def _convert_abstract(x, new_dtype, weak_type=False):
    from ..core.abstract import ShapedArray
    from ..core.dtypes import check_dtype

    return ShapedArray(x.shape, check_dtype(new_dtype, "convert_element_type"), weak_type)


def _convert_jvp(primals, tangents, new_dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    ans = convert_element_type(x, new_dtype, weak_type)
    if type(t) is Zero or np.dtype(new_dtype).kind not in "fc":
        return ans, Zero.like(ans)
    return ans, convert_element_type(t, new_dtype)


def _convert_transpose(ct, x, new_dtype, weak_type=False):
    if type(ct) is Zero or x.aval.dtype.kind not in "fc":
        return [Zero(x.aval)]
    return [convert_element_type(ct, x.aval.dtype)]


convert_element_type_p.impl = _convert_impl
convert_element_type_p.abstract_eval = _convert_abstract
convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.numba_scalar = lambda x, new_dtype, weak_type=False: (
    f"np.{np.dtype(new_dtype).name}({x})")


def convert_element_type(x, new_dtype, weak_type: bool = False):
    """Cast ``x`` to ``new_dtype`` (numpy's astype semantics).

    >>> import numpy as np
    >>> convert_element_type(np.array([1.7]), np.int32)
    array([1], dtype=int32)
    """
    from ..core.trace import get_aval

    new_dtype = np.dtype(new_dtype)
    aval = get_aval(x)
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type))
