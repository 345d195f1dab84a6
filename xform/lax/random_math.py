"""float32 ``log``, ``log1p``, ``exp``, ``erf`` and ``erf_inv`` rounded exactly as JAX
computes them on CPU.

JAX's samplers turn uniform bits into normal, exponential, Laplace and Gumbel values
with these functions; their last bits depend on the implementation (JAX on CPU uses
XLA's polynomial approximations, with every multiply-add contracted to a fused
multiply-add, and flushes subnormal numbers to zero). ``xform.random`` uses these
primitives for float32 samples so that a JAX user's seeds give the same bits; the
general-purpose ``lax.log``/``log1p``/``exp``/``erf_inv`` are more accurate (correctly
rounded or within an ulp) and are used everywhere else. (float64: ``random_math64.py``;
the functions XLA takes from the C library: ``random_libm.py``.)

The algorithms (XLA's CPU code generation as of jaxlib 0.10):

- ``log``: Cephes' single-precision logf. ``x = m 2**e`` with ``m`` in [0.5, 1); for
  ``m < sqrt(1/2)`` it becomes ``2m`` and ``e - 1``; then with ``t = m - 1``:
  ``log x = t - t**2/2 + t**3 P(t) + e (q1 + q2)`` (a degree-8 polynomial, the ln 2
  split in ``q2 = 0.693359375`` and ``q1 = -2.12194440e-4``). 0 and subnormals give
  -inf, negatives NaN.
- ``log1p``: for ``|x| < sqrt(2) - 1`` Cephes' rational approximation
  ``x - x**2/2 + x**3 P(x)/Q(x)`` (degree 6 / 6), otherwise ``log(1 + x)``.
- ``exp``: Cephes' single-precision expf: ``n = floor(x log2(e) + 1/2)`` (``x`` clamped
  to [-87.8, 88.8], ``n`` to [-127, 127]), ``y = x - n q2 - n q1``, a degree-5
  polynomial: ``1 + y + y**2 P(y)``, times ``2**n`` (0 for ``n = -127``).
- ``erf``: Eigen's rational approximation ``x P(x**2) / Q(x**2)`` (degrees 4 and 6),
  ``+-1`` for ``|x| >= 3.8325...``.
- ``erf_inv``: Giles' single-precision approximation: ``w = -log1p(-x**2)``, then a
  degree-8 polynomial in ``w - 2.5`` (``w < 5``) or ``sqrt(w) - 3`` times ``x``;
  ``+-1`` give ``+-inf``.

Each fused multiply-add is correctly rounded: the Numba lowering
(``xform/backend/numba/random.py``) uses the processor's fma (LLVM's ``llvm.fma``), the
numpy ``impl`` computes it in float64 with a correction for the rare double rounding
(``fma_exact``), so eager, jitted and JAX's values agree bit for bit. The primitive
``fma_f32_xla`` exposes the fused multiply-add itself (JAX's samplers contract
``a * b + c`` into one). Derivatives are those of the exact functions (written with the
general lax operations). ``ERF_INV64_*`` are the coefficients of Giles' double-precision
``erf_inv`` (used by ``random_math64.py`` and the backend's accurate ``erf_inv``).
"""
from __future__ import annotations

from typing import Any

import math

import numpy as np

from ..core.primitive import Primitive
from ._rules import broadcasting_batch_rule, elementwise_abstract_eval

__all__ = ["fma_f32_xla", "log_f32_xla", "log1p_f32_xla", "exp_f32_xla", "erf_f32_xla",
           "erf_inv_f32_xla"]

F32 = np.dtype(np.float32)
TINY = np.float32(np.finfo(np.float32).tiny)  # smallest normal: smaller inputs are 0

SQRT_HALF = np.float32(0.707106781186547524)
LOG_P = tuple(np.float32(c) for c in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
LOG_Q1 = np.float32(-2.12194440e-4)
LOG_Q2 = np.float32(0.693359375)

EXP_LO, EXP_HI = np.float32(-87.8), np.float32(88.8)  # the clamp of the argument
EXP_LOG2E = np.float32(1.44269504088896341)
EXP_P = tuple(np.float32(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
    5.0000001201e-1))

LOG1P_SMALL = np.float32(0.41421356237309504880)  # sqrt(2) - 1
LOG1P_NUM = tuple(np.float32(c) for c in (
    4.5270000862445199635215e-5, 4.9854102823193375972212e-1, 6.5787325942061044846969e0,
    2.9911919328553073277375e1, 6.0949667980987787057556e1, 5.7112963590585538103336e1,
    2.0039553499201281259648e1))
LOG1P_DEN = tuple(np.float32(c) for c in (
    1.0, 1.5062909083469192043167e1, 8.3047565967967209469434e1, 2.2176239823732856465394e2,
    3.0909872225312059774938e2, 2.1642788614495947685003e2, 6.0118660497603843919306e1))

ERF_CLAMP = np.float32(3.832506856900711)  # erf rounds to +-1 from here
ERF_NUM = tuple(np.float32(c) for c in (  # odd numerator, highest degree first
    0.00022905065861350646, 0.0034082910107109506, 0.050955695062380861, 0.18520832239976145,
    1.128379143519084))
ERF_DEN = tuple(np.float32(c) for c in (  # even denominator, highest degree first
    -1.1791602954361697e-7, 0.000023547966471313185, 0.0010179625278914885,
    0.014070470171167667, 0.11098505178285362, 0.49746925110067538, 1.0))

# Giles' double-precision erf_inv, highest degree first (central, middle, tail ranges)
ERF_INV64_CENTRAL = (
    -3.64441206401782e-21, -1.6850591381820166e-19, 1.28584807152564e-18,
    1.1157877678025181e-17, -1.333171662854621e-16, 2.0972767875968562e-17,
    6.637638134358324e-15, -4.054566272975207e-14, -8.151934197605472e-14,
    2.6335093153082323e-12, -1.2975133253453532e-11, -5.415412054294628e-11,
    1.0512122733215323e-09, -4.112633980346984e-09, -2.9070369957882005e-08,
    4.2347877827932404e-07, -1.3654692000834679e-06, -1.3882523362786469e-05,
    0.00018673420803405714, -0.000740702534166267, -0.006033670871430149,
    0.24015818242558962, 1.6536545626831027)
ERF_INV64_MID = (
    2.2137376921775787e-09, 9.075656193888539e-08, -2.7517406297064545e-07,
    1.8239629214389228e-08, 1.5027403968909828e-06, -4.013867526981546e-06,
    2.9234449089955446e-06, 1.2475304481671779e-05, -4.7318229009055734e-05,
    6.828485145957318e-05, 2.4031110387097894e-05, -0.0003550375203628475,
    0.0009532893797373805, -0.0016882755560235047, 0.002491442096107851,
    -0.003751208507569241, 0.005370914553590064, 1.0052589676941592, 3.0838856104922208)
ERF_INV64_TAIL = (
    -2.7109920616438573e-11, -2.555641816996525e-10, 1.5076572693500548e-09,
    -3.789465440126737e-09, 7.61570120807834e-09, -1.496002662714924e-08,
    2.914795345090108e-08, -6.771199775845234e-08, 2.2900482228026655e-07,
    -9.9298272942317e-07, 4.526062597223154e-06, -1.968177810553167e-05,
    7.599527703001776e-05, -0.00021503011930044477, -0.00013871931833623122,
    1.0103004648645344, 4.849906401408584)

ERF_INV_CENTRAL = tuple(np.float32(c) for c in (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941))
ERF_INV_TAIL = tuple(np.float32(c) for c in (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682))


# -- numpy implementations (float32 arrays) ------------------------------------------------


_F64 = np.dtype(np.float64)
_LOW29 = np.uint64((1 << 29) - 1)  # the float64 mantissa bits below float32 precision
_HALF29 = np.uint64(1 << 28)


def fma_exact(a, b, c):
    """The correctly rounded float32 ``a * b + c`` of float32 arrays.

    In float64 the product is exact and the sum ``s`` rounds once; rounding ``s`` to
    float32 is then correct unless ``s`` is exactly halfway between two float32 numbers
    while the exact sum is not (double rounding): the exact error ``e`` of the sum
    (Knuth's TwoSum) says which neighbour is right.
    """
    a, b, c = (np.asarray(v, F32) for v in (a, b, c))
    p = a.astype(_F64) * b.astype(_F64)
    c64 = c.astype(_F64)
    with np.errstate(all="ignore"):
        s = p + c64
        bb = s - p
        e = (p - (s - bb)) + (c64 - bb)
        r = s.astype(F32)
        tie = ((np.asarray(s).view(np.uint64) & _LOW29) == _HALF29) & (e != 0) & np.isfinite(s)
        if np.any(tie):
            r64 = r.astype(_F64)
            up = np.where(r64 > s, r, np.nextafter(r, np.float32(np.inf)))
            down = np.where(r64 < s, r, np.nextafter(r, np.float32(-np.inf)))
            r = np.where(tie, np.where(e > 0, up, down), r)
    return r


_fma = fma_exact


def _flush(x):
    """Subnormal values as (signed) zero: XLA on CPU reads subnormal inputs as zero and
    flushes subnormal results to zero."""
    return np.where(np.abs(x) < TINY, np.copysign(np.float32(0), x), x)


def _log_core(x):
    """Cephes logf for float32 arrays (no special cases for x <= 0, inf, nan)."""
    m, e = np.frexp(np.maximum(x, TINY))
    m = m.astype(F32)
    ef = e.astype(F32)
    small = m < SQRT_HALF
    ef = ef - np.where(small, np.float32(1), np.float32(0))
    m = (m - np.float32(1)) + np.where(small, m, np.float32(0))
    x2 = m * m
    x3 = x2 * m
    p = LOG_P
    y = _fma(m, p[0], p[1])
    y1 = _fma(m, p[3], p[4])
    y2 = _fma(m, p[6], p[7])
    y = _fma(y, m, p[2])
    y1 = _fma(y1, m, p[5])
    y2 = _fma(y2, m, p[8])
    y = _fma(y, x3, y1)
    y = _fma(y, x3, y2)
    y = _fma(y, x3, LOG_Q1 * ef)
    r = _fma(np.float32(-0.5), x2, m)
    r = r + y
    return _fma(LOG_Q2, ef, r)


def _log_impl(x):
    x = _flush(np.asarray(x, F32))
    with np.errstate(all="ignore"):
        r = _log_core(x)
        r = np.where(x == 0, np.float32(-np.inf), r)
        r = np.where(x < 0, np.float32(np.nan), r)
        r = np.where(x == np.inf, x, r)
        r = np.where(np.isnan(x), x, r)
    return r[()]


def _poly(coefs, x):
    p = np.zeros_like(x)
    for c in coefs:
        p = _fma(p, x, c)
    return p


def _log1p_impl(x):
    x = _flush(np.asarray(x, F32))
    with np.errstate(all="ignore"):
        x2 = x * x
        r = _poly(LOG1P_NUM, x) / _poly(LOG1P_DEN, x)
        small = x + _fma(np.float32(-0.5), x2, (x * x2) * r)
        large = _log_impl(x + np.float32(1))
        out = np.where(np.abs(x) < LOG1P_SMALL, small, large)
    return _flush(out)[()]


def _exp_impl(x):
    x = _flush(np.asarray(x, F32))
    with np.errstate(all="ignore"):
        xc = np.minimum(np.maximum(x, EXP_LO), EXP_HI)
        n = np.floor(_fma(xc, EXP_LOG2E, np.float32(0.5)))
        n = np.minimum(np.maximum(n, np.float32(-127)), np.float32(127))
        y = _fma(-n, LOG_Q2, xc)
        y = _fma(-n, LOG_Q1, y)
        z = _fma(y, EXP_P[0], EXP_P[1])
        for c in EXP_P[2:]:
            z = _fma(z, y, c)
        z = np.float32(1) + _fma(z, y * y, y)
        pow2 = np.where(n > -127, np.ldexp(np.float32(1), n.astype(np.int32)), np.float32(0))
        out = np.where(np.isnan(x), x, z * pow2.astype(F32))
    return _flush(out)[()]


def _erf_impl(x):
    x = _flush(np.asarray(x, F32))
    with np.errstate(all="ignore"):
        x2 = x * x
        p = ERF_NUM[0]
        for c in ERF_NUM[1:]:
            p = _fma(x2, p, c)
        q = ERF_DEN[0]
        for c in ERF_DEN[1:]:
            q = _fma(x2, q, c)
        out = np.where(np.abs(x) >= ERF_CLAMP, np.copysign(np.float32(1), x), (x * p) / q)
    return _flush(out)[()]


def _erf_inv_impl(x):
    x = _flush(np.asarray(x, F32))
    with np.errstate(all="ignore"):
        w = -_log1p_impl(x * -x)
        central = w < np.float32(5)
        t = np.where(central, w - np.float32(2.5), np.sqrt(w) - np.float32(3))
        p = np.where(central, ERF_INV_CENTRAL[0], ERF_INV_TAIL[0])
        for a, b in zip(ERF_INV_CENTRAL[1:], ERF_INV_TAIL[1:]):
            p = _fma(p, t, np.where(central, a, b))
        out = np.where(np.abs(x) == np.float32(1), x * np.float32(np.inf), p * x)
    return _flush(out)[()]


# -- primitives ---------------------------------------------------------------------------


def float_primitive(name, impl, nargs=1, dtypes=(F32,)):
    """An elementwise primitive of ``nargs`` operands of one of ``dtypes`` (the XLA and libm
    reproductions of this module, ``random_math64`` and ``random_libm``): ``impl``, the
    shape rule, broadcasting batching; its JVP is set by the caller."""
    prim = Primitive(name)
    shape_rule = elementwise_abstract_eval(name)
    allowed = " or ".join(np.dtype(d).name for d in dtypes)
    # the XLA reproductions of a unary lax function name it
    hint = (f"; use xform.lax.{name.split('_f')[0]} for other dtypes"
            if nargs == 1 and name.endswith("_xla") else "")

    def abstract_eval(*avals):
        if len(avals) != nargs or any(a.dtype not in dtypes for a in avals):
            raise TypeError(f"{name}: takes {nargs} {allowed} operand(s), got "
                            f"{', '.join(a.str_short() for a in avals)}{hint}.")
        return shape_rule(*avals)

    prim.impl = impl
    prim.abstract_eval = abstract_eval
    prim.batch = broadcasting_batch_rule(prim)
    return prim


log_f32_xla_p = float_primitive("log_f32_xla", _log_impl)
log1p_f32_xla_p = float_primitive("log1p_f32_xla", _log1p_impl)
erf_f32_xla_p = float_primitive("erf_f32_xla", _erf_impl)


def _fma_impl(a, b, c):
    return fma_exact(a, b, c)[()]


fma_f32_xla_p = float_primitive("fma_f32_xla", _fma_impl, 3)
erf_inv_f32_xla_p = float_primitive("erf_inv_f32_xla", _erf_inv_impl)
exp_f32_xla_p = float_primitive("exp_f32_xla", _exp_impl)


def unary_jvp(prim, deriv):
    """Give ``prim`` (one operand) the JVP ``deriv(g, ans, x)`` (shared with
    ``random_math64`` and ``random_libm``)."""
    from ..interpreters.jvp import Zero

    def jvp(primals, tangents):
        (x,), (g,) = primals, tangents
        ans = prim.bind(x)
        if type(g) is Zero:
            return ans, Zero.like(ans)
        return ans, deriv(g, ans, x)

    prim.jvp = jvp


def _log_deriv(g, ans, x):
    from .elementwise import div

    return div(g, x)


def _log1p_deriv(g, ans, x):
    from .elementwise import add, div

    return div(g, add(x, np.float32(1)))


def _exp_deriv(g, ans, x):
    from .elementwise import mul

    return mul(g, ans)


def _erf_deriv(g, ans, x):
    from .elementwise import exp, mul, neg, square

    return mul(g, mul(np.float32(2 / math.sqrt(math.pi)), exp(neg(square(x)))))


def _erf_inv_deriv(g, ans, x):
    from .elementwise import exp, mul, square

    return mul(g, mul(np.float32(math.sqrt(math.pi) / 2), exp(square(ans))))


def fma_jvp(prim):
    """The JVP rule of an fma primitive ``prim`` (``a * b + c``; shared with
    ``random_math64``): ``ta * b + a * tb + tc``, broadcast to the result's shape."""
    def jvp(primals, tangents):
        from ..interpreters.jvp import Zero
        from .elementwise import add, mul

        a, b, c = primals
        ta, tb, tc = tangents
        out = prim.bind(a, b, c)
        terms = [t for t in (None if type(ta) is Zero else mul(ta, b),
                             None if type(tb) is Zero else mul(a, tb),
                             None if type(tc) is Zero else tc) if t is not None]
        if not terms:
            return out, Zero.like(out)
        total = terms[0]
        for t in terms[1:]:
            total = add(total, t)
        return out, _broadcast_like(total, out)

    return jvp


def _broadcast_like(t, like):
    from ..core.trace import get_aval
    from .structural import broadcast_to_shape

    shape = get_aval(like).shape
    return t if get_aval(t).shape == shape else broadcast_to_shape(t, shape)


fma_f32_xla_p.jvp = fma_jvp(fma_f32_xla_p)
unary_jvp(log_f32_xla_p, _log_deriv)
unary_jvp(log1p_f32_xla_p, _log1p_deriv)
unary_jvp(exp_f32_xla_p, _exp_deriv)
unary_jvp(erf_f32_xla_p, _erf_deriv)
unary_jvp(erf_inv_f32_xla_p, _erf_inv_deriv)


def _bind(prim, x):
    from ..core.trace import get_aval

    prim.abstract_eval(get_aval(x, prim.name))  # the float32 check, eagerly too
    return prim.bind(x)


def fma_f32_xla(a, b, c):
    """``a * b + c`` of float32 values (broadcasting) rounded once, as JAX computes the
    multiply-adds of its samplers on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math import fma_f32_xla
    >>> a = np.float32(1 + 2 ** -12)
    >>> float(fma_f32_xla(a, a, np.float32(-1))) == 2 ** -11 + 2 ** -24
    True
    """
    from ..core.trace import get_aval

    fma_f32_xla_p.abstract_eval(*(get_aval(v, "fma_f32_xla") for v in (a, b, c)))
    return fma_f32_xla_p.bind(a, b, c)


def log_f32_xla(x):
    """Natural logarithm of float32 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math import log_f32_xla
    >>> log_f32_xla(np.array([1.0, 2.0, 0.0], np.float32)).tolist()
    [0.0, 0.6931471824645996, -inf]
    """
    return _bind(log_f32_xla_p, x)


def log1p_f32_xla(x):
    """``log(1 + x)`` of float32 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math import log1p_f32_xla
    >>> log1p_f32_xla(np.array([0.0, -0.5, -1.0], np.float32)).tolist()
    [0.0, -0.6931471824645996, -inf]
    """
    return _bind(log1p_f32_xla_p, x)


def exp_f32_xla(x: Any) -> Any:
    """``exp`` of float32 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math import exp_f32_xla
    >>> exp_f32_xla(np.array([0.0, 1.0, -100.0], np.float32)).tolist()
    [1.0, 2.7182817459106445, 0.0]
    """
    return _bind(exp_f32_xla_p, x)


def erf_f32_xla(x):
    """Error function of float32 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math import erf_f32_xla
    >>> erf_f32_xla(np.array([0.0, 0.5, -4.0], np.float32)).tolist()
    [0.0, 0.5204998850822449, -1.0]
    """
    return _bind(erf_f32_xla_p, x)


def erf_inv_f32_xla(x):
    """Inverse error function of float32 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math import erf_inv_f32_xla
    >>> erf_inv_f32_xla(np.array([0.0, 0.5, -1.0], np.float32)).tolist()
    [0.0, 0.4769362807273865, -inf]
    """
    return _bind(erf_inv_f32_xla_p, x)
