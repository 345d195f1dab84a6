"""Vectorizable scalar math for Numba-generated loop kernels.

Calling ``math.exp`` / ``np.tanh`` inside a numba loop lowers to a scalar libm
call per element: without SVML the LLVM loop vectorizer cannot widen it, so
the whole loop stays scalar.  The functions here are written only with
arithmetic, integer bit manipulation, table loads and selects (no calls, no
early returns), so once LLVM inlines them into a loop it can vectorize it.

Functions (float64 in, float64 out; float32 and integer arguments are
computed in float64):

* ``vexp``      Cody-Waite reduction ``x = k*ln2 + r`` and a degree-12
                polynomial; ``2**k`` is built from exponent bits in two halves
                so that overflow gives inf and underflow rounds once into the
                denormal range.
* ``vlog``      exponent/mantissa split from the bits (denormals pre-scaled by
                2**54), ``log(m)`` through ``s = (m-1)/(m+1)`` and a polynomial
                in ``s*s``.
* ``vsin``/``vcos``  exact integer Payne-Hanek reduction by pi/2, valid over
                the whole float64 range (no libm fallback, see the note at
                ``_reduce_pio2``), and polynomials on ``[-pi/4, pi/4]``.
* ``vtanh``     odd polynomial for ``|x| < 0.55``, ``1 - 2/(exp(2|x|)+1)``
                otherwise.
* ``vlogistic`` ``1/(1+exp(-x))`` evaluated on ``exp(-|x|)`` so that neither
                sign overflows and tiny results stay accurate.

All functions handle inf, nan, signed zeros and denormals like numpy.  Max
errors measured against long double references: exp 0.97 ulp, log 0.82,
tanh 1.38, logistic 2.24, sin/cos 0.76 (``tests/test_numba_math.py``).
Polynomial coefficients are Chebyshev fits made with ``mpmath.chebyfit`` at
200-bit precision.

Fast-math
---------
Every function is compiled *strict* (``fastmath=False``) with
``forceinline=True``, which makes numba mark it ``alwaysinline`` at the LLVM
level.  LLVM keeps fast-math flags per instruction, so after inlining into a
kernel compiled with ``fastmath=FASTMATH`` the bodies keep strict semantics
and the results are bit-identical to a strict kernel, and the loop still
vectorizes.  Calling them from ``FASTMATH`` kernels is therefore safe.

Do not copy the bodies into fast-math code (e.g. via numba's IR-level
``inline='always'``, which makes the caller's flags apply).  Measured with
the flags applied inside the bodies: any single flag of ``FASTMATH``, and
``contract+nsz+arcp`` or ``reassoc+contract+arcp``, change nothing (the sign of
zero is set with integer ops, so ``nsz`` alone is harmless).  ``reassoc`` and
``nsz`` *together* break exp, tanh and logistic (LLVM folds the rounding trick
``(t + 1.5*2**52) - 1.5*2**52``, errors ~1e15 ulp) and degrade log/sin/cos to
~2.3 ulp (error-free ``(a+b)-a`` terms are folded away).
"""

import numba
import numpy as np
from llvmlite import binding as _llvm_binding
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = [
    "FASTMATH",
    "VECTOR_MATH",
    "vcos",
    "vexp",
    "vlog",
    "vlogistic",
    "vsin",
    "vtanh",
]

#: Fast-math flags for generated kernels.  No 'nnan'/'ninf': inf and nan are
#: real values in user data, and with those flags LLVM may delete the special
#: value selects below (and in user code) outright.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

# Strict, always inlined at the LLVM level (see module docstring).  Setting
# fastmath explicitly matters: an unset flag is inherited from whichever
# fast-math kernel triggers the first compilation.
_jit = numba.njit(fastmath=False, error_model="numpy", forceinline=True)


def _target_has_fma():
    """Whether numba's compile target has FMA (honours NUMBA_CPU_FEATURES)."""
    features = numba.config.CPU_FEATURES
    if features is None:
        features = _llvm_binding.get_host_cpu_features().flatten()
    return "+fma" in features.split(",")


# Exact error-free products need a real FMA; without hardware FMA llvm.fma
# becomes a slow libm call, so fall back to Dekker's splitting there.
_HAS_FMA = _target_has_fma()


# ---------------------------------------------------------------------------
# LLVM intrinsics: bit casts and fused multiply-add.
# ---------------------------------------------------------------------------


@intrinsic
def _bits(typingctx, x):
    """Reinterpret a float64 as int64 (a no-op bitcast, vectorizes)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, i):
    """Reinterpret an int64 as float64."""
    if not isinstance(i, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


def _ternary_float_intrinsic(llvm_name, doc):
    @intrinsic
    def _impl(typingctx, a, b, c):
        if not all(isinstance(t, (types.Float, types.Integer)) for t in (a, b, c)):
            return None

        def codegen(context, builder, sig, args):
            dbl = ir.DoubleType()
            fnty = ir.FunctionType(dbl, [dbl, dbl, dbl])
            fn = cgutils.get_or_insert_function(builder.module, fnty, llvm_name)
            return builder.call(fn, args)

        return types.float64(types.float64, types.float64, types.float64), codegen

    _impl.__doc__ = doc
    return _impl


# Horner steps: fused when the target has FMA, plain mul+add otherwise.  Both
# satisfy the error bounds and both vectorize.
_mla = _ternary_float_intrinsic("llvm.fmuladd.f64", "a*b + c, fused if cheap.")
_fma = _ternary_float_intrinsic("llvm.fma.f64", "a*b + c with one rounding.")


_SIGN = -0x8000000000000000  # int64 sign bit
_ABS = 0x7FFFFFFFFFFFFFFF
_INF = float("inf")
_NAN = float("nan")


@_jit
def _copysign(mag, sgn):
    """copysign through integer ops, which fast-math flags cannot touch."""
    return _from_bits((_bits(mag) & _ABS) | (_bits(sgn) & _SIGN))


@_jit
def _two_prod_err(a, b, p):
    """Return the rounding error ``a*b - p`` of ``p = fl(a*b)`` exactly."""
    if _HAS_FMA:
        return _fma(a, b, -p)
    # Dekker/Veltkamp: split both factors into 26-bit halves.
    t = 134217729.0 * a
    ah = t - (t - a)
    al = a - ah
    t = 134217729.0 * b
    bh = t - (t - b)
    bl = b - bh
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


# ---------------------------------------------------------------------------
# exp
# ---------------------------------------------------------------------------

_LOG2E = float.fromhex("0x1.71547652b82fep+0")
# ln2 split: LN2_HI keeps 32 significant bits, so k*LN2_HI is exact for the
# |k| <= 1077 reachable here.
_LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
_LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
# Adding 1.5*2**52 rounds to an integer and leaves it in the low mantissa bits
# (valid for |k| < 2**51): cheaper and more portable than float->int64.
_SHIFT = float.fromhex("0x1.8p52")
_SHIFT_BITS = 0x4338000000000000

# (exp(r) - 1 - r) / r**2 on |r| <= ln2/2, relative error 2**-57.5.
_E0 = float.fromhex("0x1.0000000000000p-1")
_E1 = float.fromhex("0x1.5555555555557p-3")
_E2 = float.fromhex("0x1.5555555555556p-5")
_E3 = float.fromhex("0x1.11111111100dcp-7")
_E4 = float.fromhex("0x1.6c16c16c162d4p-10")
_E5 = float.fromhex("0x1.a01a01abe7fe1p-13")
_E6 = float.fromhex("0x1.a01a01a6d889cp-16")
_E7 = float.fromhex("0x1.71de0231960ebp-19")
_E8 = float.fromhex("0x1.27e4db646b17ep-22")
_E9 = float.fromhex("0x1.af4de97ca4194p-26")
_E10 = float.fromhex("0x1.1f730349868cep-29")


@_jit
def _exp_core(x):
    """exp(x) for finite x in [-746, 710]; no special-value handling."""
    t = x * _LOG2E + _SHIFT
    k = _bits(t) - _SHIFT_BITS
    kf = t - _SHIFT
    # x - kf*LN2_HI is exact (Sterbenz), so r carries only one rounding.
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    p = _mla(r, _E10, _E9)
    p = _mla(r, p, _E8)
    p = _mla(r, p, _E7)
    p = _mla(r, p, _E6)
    p = _mla(r, p, _E5)
    p = _mla(r, p, _E4)
    p = _mla(r, p, _E3)
    p = _mla(r, p, _E2)
    p = _mla(r, p, _E1)
    p = _mla(r, p, _E0)
    # Adding the leading 1 last keeps the small terms' error below 1/2 ulp.
    er = 1.0 + _mla(r * r, p, r)
    # 2**k in two normal factors: k can be 1024 (-> inf) or as low as -1077;
    # the second multiply is the only rounding into the denormal range.
    k1 = k >> 1
    k2 = k - k1
    return (er * _from_bits((k1 + 1023) << 52)) * _from_bits((k2 + 1023) << 52)


@_jit
def vexp(x):
    """exp(x) for float64 (<1 ulp, exact specials, denormal results)."""
    x = float(x)
    # Clamp (nan -> -746) so the integer part of the reduction stays defined;
    # the true result is restored by the selects below.
    xc = x if x > -746.0 else -746.0
    xc = xc if xc < 710.0 else 710.0
    y = _exp_core(xc)
    y = y if x < 710.0 else _INF
    return y if x == x else x


# ---------------------------------------------------------------------------
# log
# ---------------------------------------------------------------------------

_TINY = float.fromhex("0x1p-1022")
_TWO54 = float.fromhex("0x1p54")
# Bits of ~sqrt(1/2): subtracting it before taking the exponent puts the
# mantissa into [sqrt(1/2), sqrt(2)), centring log(m) on zero.
_LOG_OFF = 0x3FE6A09E667F3BCD

# (log((1+s)/(1-s)) - 2s) / s**3 as a polynomial in z = s*s, z <= 0.0295.
_L0 = float.fromhex("0x1.5555555555558p-1")
_L1 = float.fromhex("0x1.99999999952d7p-2")
_L2 = float.fromhex("0x1.2492492df281ap-2")
_L3 = float.fromhex("0x1.c71c62e3f11e6p-3")
_L4 = float.fromhex("0x1.7462b51cb66b1p-3")
_L5 = float.fromhex("0x1.39fe51a7c18f9p-3")
_L6 = float.fromhex("0x1.2b5900de53b32p-3")


@_jit
def vlog(x):
    """Natural log for float64 (<1 ulp; log(0)=-inf, log(<0)=nan)."""
    x = float(x)
    # Denormals: scale into the normal range, undo via the exponent.
    sub = x < _TINY
    xs = x * _TWO54 if sub else x
    ix = _bits(xs)
    tmp = ix - _LOG_OFF
    kb = tmp >> 52
    m = _from_bits(ix - (kb << 52))
    k = kb - 54 if sub else kb
    dk = float(k)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    p = _mla(z, _L6, _L5)
    p = _mla(z, p, _L4)
    p = _mla(z, p, _L3)
    p = _mla(z, p, _L2)
    p = _mla(z, p, _L1)
    p = _mla(z, p, _L0)
    rr = z * p
    # log(m) = f - f*f/2 + s*(f*f/2 + R): the large terms are combined last
    # and k*LN2_HI is exact, which keeps the total error below 1 ulp.
    hfsq = 0.5 * f * f
    res = dk * _LN2_HI - ((hfsq - (s * (hfsq + rr) + dk * _LN2_LO)) - f)
    res = res if x < _INF else x  # +inf and nan pass through
    res = res if x >= 0.0 else _NAN
    return res if x != 0.0 else -_INF


# ---------------------------------------------------------------------------
# tanh and logistic
# ---------------------------------------------------------------------------

# (tanh(x)/x - 1) / x**2 as a polynomial in g = x*x, |x| <= 0.55.
_T0 = float.fromhex("-0x1.5555555555555p-2")
_T1 = float.fromhex("0x1.1111111111032p-3")
_T2 = float.fromhex("-0x1.ba1ba1b9fec84p-5")
_T3 = float.fromhex("0x1.664f487713373p-6")
_T4 = float.fromhex("-0x1.226e32f00cf0cp-7")
_T5 = float.fromhex("0x1.d6d339333f329p-9")
_T6 = float.fromhex("-0x1.7d97cfd138c28p-10")
_T7 = float.fromhex("0x1.34c5a8a996cd4p-11")
_T8 = float.fromhex("-0x1.ec1091436eb2ap-13")
_T9 = float.fromhex("0x1.64fd88e9900a4p-14")
_T10 = float.fromhex("-0x1.59a834187ce22p-16")


@_jit
def vtanh(x):
    """tanh for float64 (<2 ulp, keeps the sign of zero)."""
    x = float(x)
    a = abs(x)
    g = a * a
    p = _mla(g, _T10, _T9)
    p = _mla(g, p, _T8)
    p = _mla(g, p, _T7)
    p = _mla(g, p, _T6)
    p = _mla(g, p, _T5)
    p = _mla(g, p, _T4)
    p = _mla(g, p, _T3)
    p = _mla(g, p, _T2)
    p = _mla(g, p, _T1)
    p = _mla(g, p, _T0)
    small = _mla(a * g, p, a)
    # Above 0.55, 2/(e+1) <= 0.5, so the subtraction from 1 loses no accuracy;
    # tanh(20) already rounds to 1, clamping keeps exp finite (nan -> 20).
    ac = a if a < 20.0 else 20.0
    big = 1.0 - 2.0 / (_exp_core(2.0 * ac) + 1.0)
    res = small if a < 0.55 else big
    res = _copysign(res, x)
    return res if x == x else x


@_jit
def vlogistic(x):
    """1/(1+exp(-x)) for float64, accurate down to denormal results."""
    x = float(x)
    a = abs(x)
    ac = a if a < 746.0 else 746.0  # also nan -> 746
    e = _exp_core(-ac)  # in [0, 1]: no overflow for either sign
    d = 1.0 + e
    # For x < 0 use e/(1+e) = exp(x)/(1+exp(x)), which keeps relative accuracy
    # where 1/(1+exp(-x)) would overflow or cancel.
    res = 1.0 / d if x >= 0.0 else e / d
    return res if x == x else x


# ---------------------------------------------------------------------------
# sin / cos: Payne-Hanek reduction in 32-bit integer limbs.
# ---------------------------------------------------------------------------
#
# Write |x| = M * 2**E with an integer 53-bit M.  Bits of 2/pi whose weight is
# >= 2**(1-E) contribute multiples of 4 to x*2/pi and can be dropped, so only
# a 192-bit window W of 2/pi, starting at bit E-1, matters:
#     x*2/pi = (M*W mod 2**192) * 2**-190   (mod 4)
# up to a truncation error below 2**-137.  The window depends only on the
# exponent, so a table holds it (three 64-bit words) for every exponent from
# pi/4 upwards.  The product is exact integer arithmetic on 32-bit limbs,
# which vectorizes with 32x32->64 bit multiplies.  The closest a float64 comes
# to a multiple of pi/2 is ~2**-61, far above the 2**-137 error.
#
# Cost note: this reduction is ~3/4 of vsin's time (about 100 vector
# instructions and 3 gathers per 4 lanes); a Cody-Waite reduction valid only
# for |x| < ~1e6 would make vsin ~3x faster.  Every lane pays for the full
# reduction because the vectorizer if-converts a "large |x| only" branch, and a
# math.sin fallback inside such a branch is worse: llvm.sin is speculatable, so
# it gets executed for every lane as scalarized libm calls (measured slower
# than a plain libm loop).  Hence one exact path for all inputs.

_PH_WORDS = 3
_PH_EB0 = 1022  # biased exponent of pi/4; smaller |x| needs no reduction
_PH_ROWS = 2048 - _PH_EB0
_M32 = 0xFFFFFFFF


def _pi_fixed(nbits):
    """floor(pi * 2**nbits) via Machin's formula in exact integer arithmetic."""
    guard = 32
    one = 1 << (nbits + guard)

    def arctan_inv(n):
        # arctan(1/n) = sum (-1)^k / ((2k+1) n^(2k+1)); truncation errors stay
        # far inside the guard bits.
        total = term = one // n
        n2 = n * n
        k = 1
        while term:
            term //= n2
            total += term // (2 * k + 1) if k % 2 == 0 else -(term // (2 * k + 1))
            k += 1
        return total

    pi = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    return pi >> guard


def _build_ph_table():
    """Return the 2/pi windows as int64 words, 3 per exponent (low first)."""
    prec = 1400  # > largest window end (970 + 192) plus ample guard bits
    two_over_pi = (1 << (2 * prec + 1)) // _pi_fixed(prec)  # ~2/pi * 2**prec
    table = np.zeros(_PH_ROWS * _PH_WORDS, dtype=np.uint64)
    for row in range(_PH_ROWS):
        e_unbiased = row + _PH_EB0 - 1075  # exponent E of the integer mantissa
        top = e_unbiased - 1 + 191  # bit of 2/pi that lands on W's lsb
        w = two_over_pi >> (prec - top)
        for j in range(_PH_WORDS):
            table[row * _PH_WORDS + j] = (w >> (64 * j)) & 0xFFFFFFFFFFFFFFFF
    return table.view(np.int64)


_PH_TABLE = _build_ph_table()

_PIO2_HI = float.fromhex("0x1.921fb54442d18p+0")
_PIO2_LO = float.fromhex("0x1.1a62633145c07p-54")
_PIO4 = float.fromhex("0x1.921fb54442d18p-1")
_P2M51 = float.fromhex("0x1p-51")
_P2M94 = float.fromhex("0x1p-94")
_P2M126 = float.fromhex("0x1p-126")


@_jit
def _reduce_pio2(ax):
    """Reduce ax >= 0: return (r_hi, r_lo, q) with ax = q*pi/2 + r (mod 2*pi)
    and |r| <= pi/4, r = r_hi + r_lo an unevaluated double-double."""
    ix = _bits(ax)
    row = (ix >> 52) - _PH_EB0
    row = row if row > 0 else 0  # small |x| (no reduction needed) and garbage
    base = row * _PH_WORDS
    m = (ix & 0xFFFFFFFFFFFFF) | 0x10000000000000
    m0 = m & _M32
    m1 = m >> 32
    u = _PH_TABLE[base]
    w0 = u & _M32
    w1 = (u >> 32) & _M32  # mask: >> is arithmetic on int64
    u = _PH_TABLE[base + 1]
    w2 = u & _M32
    w3 = (u >> 32) & _M32
    u = _PH_TABLE[base + 2]
    w4 = u & _M32
    w5 = (u >> 32) & _M32
    # Schoolbook M*W mod 2**192 in 32-bit columns.  m0*wj may wrap to a
    # negative int64 but its two halves are recovered by masking; each column
    # sum is < 2**54.  Column 0 (< 2**32) can only carry 1 unit of 2**-158 into
    # the result, so it is dropped.  All factors are masked to 32 bits, so LLVM
    # emits vpmuludq rather than the slow 64-bit vpmullq.
    p = m0 * w0
    c = ((p >> 32) & _M32) + m1 * w0
    p = m0 * w1
    c = (p & _M32) + c
    h = (p >> 32) & _M32
    c = (c >> 32) + h + m1 * w1
    p = m0 * w2
    c = (p & _M32) + c
    r2 = c & _M32
    h = (p >> 32) & _M32
    c = (c >> 32) + h + m1 * w2
    p = m0 * w3
    c = (p & _M32) + c
    r3 = c & _M32
    h = (p >> 32) & _M32
    c = (c >> 32) + h + m1 * w3
    p = m0 * w4
    c = (p & _M32) + c
    r4 = c & _M32
    h = (p >> 32) & _M32
    c = (c >> 32) + h + m1 * w4
    c = (m0 * w5 & _M32) + c
    r5 = c & _M32
    # Bits 190-191 are the quadrant; reading the 190 fraction bits as a signed
    # (two's complement) number rounds to the nearest quadrant, so the
    # fraction f lies in [-1/2, 1/2) and q is bumped when bit 189 is set.
    q = (r5 >> 30) + ((r5 >> 29) & 1)
    t5 = (r5 & 0x1FFFFFFF) - (r5 & 0x20000000)
    # Regroup the top 128 bits into three exactly representable pieces
    # (51 + 43 + 32 bits) so that no rounding happens before the sum.
    t1 = float((t5 << 21) + (r4 >> 11)) * _P2M51
    t2 = float(((r4 & 0x7FF) << 32) + r3) * _P2M94
    t3 = float(r2) * _P2M126
    # f = t1 + t2 + t3 as a double-double: two-sum, then fast two-sum, valid
    # because whenever t1 + t2 cancels it is exact and larger than t3.
    s = t1 + t2
    bb = s - t1
    err = (t1 - (s - bb)) + (t2 - bb)
    lo = err + t3
    fh = s + lo
    fl = lo - (fh - s)
    # r = f * pi/2 in double-double.
    ph = fh * _PIO2_HI
    pl = _two_prod_err(fh, _PIO2_HI, ph) + (fh * _PIO2_LO + fl * _PIO2_HI)
    rh = ph + pl
    rl = pl - (rh - ph)
    small = ax <= _PIO4
    rh = ax if small else rh
    rl = 0.0 if small else rl
    q = 0 if small else q
    return rh, rl, q


# (sin(r) - r) / r**3 and (cos(r) - 1 + r**2/2) / r**4 as polynomials in z = r*r
# on |r| <= pi/4 (+0.2%).
_S0 = float.fromhex("-0x1.5555555555555p-3")
_S1 = float.fromhex("0x1.1111111111110p-7")
_S2 = float.fromhex("-0x1.a01a01a019914p-13")
_S3 = float.fromhex("0x1.71de3a545c467p-19")
_S4 = float.fromhex("-0x1.ae64540b4d1f5p-26")
_S5 = float.fromhex("0x1.6121792308a6bp-33")
_S6 = float.fromhex("-0x1.ab145a3afb4cdp-41")
_C0 = float.fromhex("0x1.5555555555555p-5")
_C1 = float.fromhex("-0x1.6c16c16c16959p-10")
_C2 = float.fromhex("0x1.a01a019f4b6aap-16")
_C3 = float.fromhex("-0x1.27e4fa139e45dp-22")
_C4 = float.fromhex("0x1.1eeb64821c697p-29")
_C5 = float.fromhex("-0x1.907a78f9a8549p-37")


@_jit
def _ksin(x, y):
    """sin(x + y) for |x| <= pi/4, |y| <= ulp(x)."""
    z = x * x
    v = z * x
    p = _mla(z, _S6, _S5)
    p = _mla(z, p, _S4)
    p = _mla(z, p, _S3)
    p = _mla(z, p, _S2)
    p = _mla(z, p, _S1)
    # x + v*S0 + v*z*p + y*(1 - z/2), with x added last.
    return x - ((z * (0.5 * y - v * p) - y) - v * _S0)


@_jit
def _kcos(x, y):
    """cos(x + y) for |x| <= pi/4, |y| <= ulp(x)."""
    z = x * x
    p = _mla(z, _C5, _C4)
    p = _mla(z, p, _C3)
    p = _mla(z, p, _C2)
    p = _mla(z, p, _C1)
    p = _mla(z, p, _C0)
    hz = 0.5 * z
    w = 1.0 - hz
    # ((1 - w) - hz) recovers the rounding error of w exactly.
    return w + (((1.0 - w) - hz) + (z * z * p - x * y))


@_jit
def _sincos_reduced(rh, rl, q):
    """sin(rh + rl + q*pi/2) for |rh| <= pi/4, rl the low part of a double-double."""
    s = _ksin(rh, rl)
    c = _kcos(rh, rl)
    res = c if q & 1 else s
    # Quadrants 2 and 3 negate; done on the sign bit.
    return _from_bits(_bits(res) ^ ((q & 2) << 62))


@_jit
def _sincos_quadrant(ax, shift):
    """sin(ax + shift*pi/2) for ax >= 0 (shift 0 -> sin, 1 -> cos)."""
    rh, rl, q = _reduce_pio2(ax)
    return _sincos_reduced(rh, rl, q + shift)


@_jit
def vsin(x):
    """sin for float64 over the whole range (<1.5 ulp, sin(-0.0) = -0.0)."""
    x = float(x)
    ax = abs(x)
    res = _sincos_quadrant(ax, 0)
    res = _from_bits(_bits(res) ^ (_bits(x) & _SIGN))  # sin is odd
    return res if ax < _INF else x - x  # inf -> nan, nan -> nan


@_jit
def vcos(x):
    """cos for float64 over the whole range (<1.5 ulp)."""
    x = float(x)
    ax = abs(x)
    res = _sincos_quadrant(ax, 1)
    return res if ax < _INF else x - x


#: Primitive name -> vectorizable scalar implementation, for code generators.
VECTOR_MATH = {
    "exp": vexp,
    "log": vlog,
    "tanh": vtanh,
    "sin": vsin,
    "cos": vcos,
    "logistic": vlogistic,
}
