"""What every sampler shares: argument checks, dtypes, and uniform floats from bits."""
from __future__ import annotations

import numpy as np

from .. import lax
from ..core.trace import Tracer, get_aval
from ..lax import random_bits as rb
from ..lax._rules import broadcast_shapes
from ._math import fma

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def float_dtype(name: str, dtype, *, complex_ok: bool = False) -> np.dtype:
    """The sampler's dtype: ``None`` (and ``float``) is float64, numpy's default (JAX's
    default is float32 unless ``jax_enable_x64``: pass the dtype for JAX's bits)."""
    dt = np.dtype(np.float64 if dtype is None else dtype)
    kinds = "fc" if complex_ok else "f"
    if dt.kind not in kinds or dt.itemsize > (16 if dt.kind == "c" else 8):
        what = "a float or complex" if complex_ok else "a float"
        raise ValueError(f"xform.random.{name}: dtype must be {what} dtype "
                         f"(float16/32/64{', complex64/128' if complex_ok else ''}), got {dt}")
    return dt


def shape_of(x) -> tuple:
    if isinstance(x, Tracer):
        return tuple(x.aval.shape)
    return np.shape(x)


def check_shape(name: str, shape: tuple, *param_shapes) -> None:
    """Parameters must broadcast to exactly ``shape`` (JAX's rule)."""
    if param_shapes:
        try:
            full = broadcast_shapes(name, shape, *param_shapes)
        except ValueError:
            full = None
        if full != tuple(shape):
            raise ValueError(
                f"xform.random.{name}: parameter shapes {list(param_shapes)} must broadcast to "
                f"the shape argument {tuple(shape)} (the result's shape), but broadcasting "
                f"gives {full if full is not None else 'an error'}.")


def broadcast_param_shapes(name: str, *params) -> tuple:
    return broadcast_shapes(name, *(shape_of(p) for p in params))


def as_dtype(x, dtype: np.dtype):
    """``x`` (a Python/numpy value or a tracer) converted to ``dtype``."""
    if isinstance(x, Tracer):
        return lax.convert_element_type(x, dtype)
    return np.asarray(x, dtype=dtype)


def is_default(x, value: float) -> bool:
    """Whether ``x`` is the concrete Python default ``value`` (skips no-op arithmetic)."""
    return type(x) in (int, float) and x == value


def uniform_floats(key_data, shape: tuple, dtype: np.dtype):
    """Uniform values ``m 2**-nmant`` in [0, 1) from the top ``nmant`` bits of the random
    bits (``nmant`` = the mantissa bits of ``dtype``): JAX's values, which it makes by
    setting the exponent of ``1 + m 2**-nmant`` and subtracting 1 (both exact)."""
    info = np.finfo(dtype)
    nbits, nmant = info.bits, info.nmant
    bits = rb.threefry_random_bits(key_data, nbits, shape)
    mant = lax.shift_right(bits, np.dtype(f"uint{nbits}").type(nbits - nmant))
    return lax.mul(lax.convert_element_type(mant, dtype), dtype.type(2.0 ** -nmant))


def uniform(key_data, shape: tuple, dtype: np.dtype, minval=0.0, maxval=1.0):
    """Uniform values in [minval, maxval) (parameters broadcast to ``shape``)."""
    floats = uniform_floats(key_data, shape, dtype)
    if is_default(minval, 0.0) and is_default(maxval, 1.0):
        return floats  # floats * 1 + 0, clipped at 0: the same values
    lo = as_dtype(minval, dtype)
    hi = as_dtype(maxval, dtype)
    if isinstance(lo, Tracer) or isinstance(hi, Tracer):
        span = lax.sub(hi, lo)
    else:  # concrete bounds (even under jit): a constant, checked for a power of two
        span = np.subtract(hi, lo, dtype=dtype)
    if dtype in (F32, F64) and not _power_of_two(span):
        v = fma(floats, span, lo, dtype)  # XLA contracts the multiply-add
    else:  # (with a power-of-two span the product is exact: fma and mul + add agree)
        v = lax.add(lax.mul(floats, span), lo)
    return lax.max(lo, v)


def _power_of_two(x) -> bool:
    """Whether ``x`` is concrete and every element a power of two (or zero)."""
    if isinstance(x, Tracer):
        return False
    m, _ = np.frexp(np.asarray(x))
    return bool(np.all((m == 0.5) | (m == 0)))


def get_dtype(x) -> np.dtype:
    if isinstance(x, Tracer):
        return x.aval.dtype
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return np.dtype(np.float64)
    return get_aval(np.asarray(x)).dtype
