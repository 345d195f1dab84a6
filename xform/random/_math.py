"""The transcendental functions and fused multiply-adds of the samplers, rounded as JAX
computes them on CPU, by dtype.

JAX's samplers apply XLA's functions: in float32 its own polynomials for ``log``,
``log1p``, ``exp``, ``erf``, ``erf_inv`` (``xform/lax/random_math.py``), in float64 its
polynomials for ``log1p``, ``exp``, ``erf_inv`` (``random_math64.py``), and the C
library's ``log``, ``erf`` (float64), ``tan`` and ``pow`` (both; ``random_libm.py``).
XLA also contracts each multiply feeding an add into a fused multiply-add (float32 and
float64; ``fma``). float16 values go through float32 (XLA computes float16 math in
float32 and rounds the result); float16 multiply-adds round each operation.
"""
from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..core.trace import Tracer
from ..lax import random_libm as rl
from ..lax import random_math as rm
from ..lax import random_math64 as r64

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def as_dtype(x, dtype: np.dtype):
    """``x`` (a Python/numpy value or a tracer) converted to ``dtype``."""
    if isinstance(x, Tracer):
        return lax.convert_element_type(x, dtype) if x.aval.dtype != dtype else x
    return np.asarray(x, dtype=dtype)


def _by_dtype(f32_fn, f64_fn, *args, dtype: np.dtype):
    vals = [as_dtype(a, dtype) for a in args]
    if dtype == F64:
        return f64_fn(*vals)
    if dtype == F32:
        return f32_fn(*vals)
    # float16: computed in float32, the result rounded
    out = f32_fn(*(lax.convert_element_type(a, F32) for a in vals))
    return lax.convert_element_type(out, dtype)


def log(x, dtype):
    return _by_dtype(rm.log_f32_xla, rl.libm_log, x, dtype=dtype)


def log1p(x, dtype):
    return _by_dtype(rm.log1p_f32_xla, r64.log1p_f64_xla, x, dtype=dtype)


def exp(x, dtype):
    return _by_dtype(rm.exp_f32_xla, r64.exp_f64_xla, x, dtype=dtype)


def erf(x, dtype):
    return _by_dtype(rm.erf_f32_xla, rl.libm_erf, x, dtype=dtype)


def erf_inv(x, dtype):
    return _by_dtype(rm.erf_inv_f32_xla, r64.erf_inv_f64_xla, x, dtype=dtype)


def tan(x, dtype):
    return _by_dtype(rl.libm_tan, rl.libm_tan, x, dtype=dtype)


def pow(x, y, dtype):  # noqa: A001 (the function's name)
    return _by_dtype(rl.libm_pow, rl.libm_pow, x, y, dtype=dtype)


def fma(a, b, c, dtype):
    """``a * b + c`` rounded once (float32, float64; XLA contracts the pair), each
    operation rounded in float16."""
    a, b, c = (as_dtype(v, dtype) for v in (a, b, c))
    if dtype == F32:
        return rm.fma_f32_xla(a, b, c)
    if dtype == F64:
        return r64.fma_f64_xla(a, b, c)
    return lax.add(lax.mul(a, b), c)


def shape_of(x) -> tuple:
    return tuple(x.aval.shape) if isinstance(x, Tracer) else np.shape(x)


def div(a, b, dtype):
    """``a / b`` as XLA computes it: a divisor broadcast to the quotient's shape (a scalar
    parameter, a reduction with ``keepdims``) is replaced by a product with its
    reciprocal (XLA's algebraic simplifier rewrites ``a / broadcast(b)`` to
    ``a * broadcast(1 / b)``); same-shape operands are divided."""
    a, b = as_dtype(a, dtype), as_dtype(b, dtype)
    if shape_of(b) == shape_of(a) or len(shape_of(a)) == 0:
        return lax.div(a, b)
    return lax.mul(a, lax.div(dtype.type(1), b))


# XLA's loop for a reduction fused with the computation of its operand adds the elements
# one after the other (measured up to 20 elements; longer rows are summed in another,
# vectorized order, which xform does not reproduce).
SEQUENTIAL_MAX = 20


def sequential_sum(x, dtype, squares_of=None):
    """The sum over the last axis, ``((x0 + x1) + x2) + ...``, as XLA sums a row computed
    in the same fusion; with ``squares_of=z`` the sum of ``z * z`` with each product
    contracted into the addition (``fma(z2, z2, fma(z1, z1, z0 * z0))``). Rows longer
    than ``SEQUENTIAL_MAX``: numpy's order (not XLA's)."""
    src = x if squares_of is None else squares_of
    n = shape_of(src)[-1]
    if n > SEQUENTIAL_MAX or n == 0:
        return xnp.sum(x if squares_of is None else lax.mul(src, src), axis=-1)
    parts = [lax.index_in_dim(src, i, -1, keepdims=False) for i in range(n)]
    if squares_of is None:
        total = parts[0]
        for p in parts[1:]:
            total = lax.add(total, p)
        return total
    total = lax.mul(parts[0], parts[0])
    for p in parts[1:]:
        total = fma(p, p, total, dtype)
    return total
