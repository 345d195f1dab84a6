"""Lowering of the random-number primitives (``xform/lax/random_bits.py`` and
``xform/lax/random_math.py``).

- ``threefry2x32`` has two results, so ``fusion.py`` (one value per loop iteration) does
  not fuse it; its rule emits one loop nest over the broadcast shape that computes both
  words per element with ``threefry2x32_scalar`` (inlined: the unrolled 20 rounds of
  uint32 adds, rotations and xors vectorize).
- ``random_bits`` is one pass: each value is hashed from its loop index (the counter)
  and combined to 8/16/32/64 bits in place, with no counter or word arrays. Big outputs
  run in a ``parallel=True`` helper (``prange``), as fused loop nests do.
- the functions rounded as JAX's: float32 ``log_f32_xla``, ``log1p_f32_xla``,
  ``exp_f32_xla``, ``erf_f32_xla``, ``erf_inv_f32_xla``, ``fma_f32_xla``
  (``xform/lax/random_math.py``), float64 ``fma_f64_xla``, ``log1p_f64_xla``,
  ``exp_f64_xla``, ``erf_inv_f64_xla`` (``random_math64.py``) and the C library's
  ``libm_log``, ``libm_erf``, ``libm_tan``, ``libm_pow`` (``random_libm.py``): a loop
  calling the scalar helper below (the float32 polynomials are branch-free, so their
  loops vectorize; the others call the C library).

Kernels import the helpers from this module (listed in ``cache._HELPER_MODULES`` so
that a changed helper changes every kernel's hash).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ... import config
from ...lax import random_libm as rl
from ...lax import random_math as rm
from ...lax import random_math64 as r64
from ...lax.random_bits import random_bits_p, threefry2x32_p
from .codegen import index_text
from .rules import loop_nest, rule

_IMPORT = "from xform.backend.numba.random import {}"
# Helpers are inlined by LLVM (forceinline), not by Numba's IR inliner (slow to compile),
# as in vector_math.py.
_jit = numba.njit(error_model="numpy", forceinline=True)


def use(em, name: str) -> str:
    """Import the helper ``name`` of this module into the generated module."""
    line = _IMPORT.format(name)
    if line not in em.mod.helpers:
        em.mod.helpers.append(line)
    return name


@_jit
def _rotl(x, r):
    return np.uint32((x << np.uint32(r)) | (x >> np.uint32(32 - r)))


@_jit
def _rounds(x0, x1, r0, r1, r2, r3):
    x0 = np.uint32(x0 + x1)
    x1 = np.uint32(_rotl(x1, r0) ^ x0)
    x0 = np.uint32(x0 + x1)
    x1 = np.uint32(_rotl(x1, r1) ^ x0)
    x0 = np.uint32(x0 + x1)
    x1 = np.uint32(_rotl(x1, r2) ^ x0)
    x0 = np.uint32(x0 + x1)
    x1 = np.uint32(_rotl(x1, r3) ^ x0)
    return x0, x1


@_jit
def threefry2x32_scalar(k1, k2, x1, x2):
    """Threefry-2x32 (20 rounds) of one counter pair: the same arithmetic as the
    primitive's numpy impl (Numba widens uint32 sums, so every result is wrapped)."""
    k1 = np.uint32(k1)
    k2 = np.uint32(k2)
    k3 = np.uint32(k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    x0 = np.uint32(np.uint32(x1) + k1)
    y = np.uint32(np.uint32(x2) + k2)
    x0, y = _rounds(x0, y, 13, 15, 26, 6)
    x0 = np.uint32(x0 + k2)
    y = np.uint32(y + k3 + np.uint32(1))
    x0, y = _rounds(x0, y, 17, 29, 16, 24)
    x0 = np.uint32(x0 + k3)
    y = np.uint32(y + k1 + np.uint32(2))
    x0, y = _rounds(x0, y, 13, 15, 26, 6)
    x0 = np.uint32(x0 + k1)
    y = np.uint32(y + k2 + np.uint32(3))
    x0, y = _rounds(x0, y, 17, 29, 16, 24)
    x0 = np.uint32(x0 + k2)
    y = np.uint32(y + k3 + np.uint32(4))
    x0, y = _rounds(x0, y, 13, 15, 26, 6)
    x0 = np.uint32(x0 + k3)
    y = np.uint32(y + k1 + np.uint32(5))
    return x0, y


def broadcast_read(name: str, aval, out_shape, idx) -> str:
    """The element of operand ``name`` (numpy broadcasting against ``out_shape``) at the
    output position ``idx``: scalars as they are, arrays indexed (0 along size-1 dims)."""
    if aval.ndim == 0:
        return name
    lead = len(out_shape) - aval.ndim
    parts = ["0" if d == 1 and out_shape[lead + k] != 1 else idx[lead + k]
             for k, d in enumerate(aval.shape)]
    return f"{name}[{index_text(parts)}]"


@rule(threefry2x32_p)
def _threefry2x32(em, eqn, ins):
    out = eqn.outvars[0].aval
    fn = use(em, "threefry2x32_scalar")
    if out.ndim == 0:
        y1, y2 = em.fresh("y"), em.fresh("y")
        em.line(f"{y1}, {y2} = {fn}({', '.join(ins)})")
        return [y1, y2]
    o1 = em.alloc(out.shape, out.dtype, hint="y")
    o2 = em.alloc(out.shape, out.dtype, hint="y")
    if out.size == 0:
        return [o1, o2]
    with loop_nest(em, out.shape) as idx:
        args = [broadcast_read(n, v.aval, out.shape, idx) for n, v in zip(ins, eqn.invars)]
        at = index_text(idx)
        em.line(f"{o1}[{at}], {o2}[{at}] = {fn}({', '.join(args)})")
    return [o1, o2]


def _combine_expr(a: str, b: str, bit_width: int) -> str:
    """The scalar expression of ``combine_words`` (lax/random_bits.py)."""
    if bit_width == 64:
        return f"((np.uint64({a}) << np.uint64(32)) | np.uint64({b}))"
    return f"np.uint{bit_width}({a} ^ {b})"  # 8/16 bits: the low bits (truncation)


def _outlined_loops(em, size: int, arrays, emit_body) -> None:
    """Emit loops with ``emit_body(emitter, parallel)``; loops over at least
    ``config.parallel_min_size()`` elements go to a ``parallel=True`` helper taking the
    ``arrays`` (names) it uses, as fused loop nests do. ``parallel`` tells the body to
    use ``numba.prange`` for one loop."""
    if not (config.parallel() and size >= config.parallel_min_size()):
        emit_body(em, False)
        return
    sub = em.sub(depth=1)
    emit_body(sub, True)
    fname = em.fresh("_rng")
    src = ["@numba.njit(cache=_XFORM_CACHE, parallel=True, error_model='numpy', nogil=True)",
           f"def {fname}({', '.join(arrays)}):",
           # the thread count of xform's policy (threads.py), per call, as fused loops do
           f"    {em.use_runtime('region_threads')}()"] + sub.lines + ["    return 0"]
    em.mod.helpers.append("\n".join(src))
    em.mod.parallel = True
    em.line(f"{fname}({', '.join(arrays)})")


@rule(random_bits_p)
def _random_bits(em, eqn, ins):
    keys_aval, out = eqn.invars[0].aval, eqn.outvars[0].aval
    bw = eqn.params["bit_width"]
    n = math.prod(eqn.params["shape"])
    nkeys = math.prod(keys_aval.shape[:-1])
    fn = use(em, "threefry2x32_scalar")
    keys = em.contiguous(ins[0], keys_aval)
    if out.ndim == 0:
        a, b, r = em.fresh("y"), em.fresh("y"), em.fresh("r")
        em.line(f"{a}, {b} = {fn}({keys}[0], {keys}[1], np.uint32(0), np.uint32(0))")
        em.line(f"{r} = {_combine_expr(a, b, bw)}")
        return [r]
    o = em.alloc(out.shape, out.dtype, hint="bits")
    if out.size == 0:
        return [o]
    kv, ov = em.fresh("kv"), em.fresh("ov")
    em.line(f"{kv} = {em.reshape(keys, (nkeys, 2))}")
    em.line(f"{ov} = {em.reshape(o, (nkeys, n))}")
    b, i, k1, k2, y1, y2, row = (em.fresh(h) for h in ("b", "i", "k", "k", "y", "y", "row"))
    if n > 2 ** 32:  # the 64-bit counter i as two words
        hi, lo = f"np.uint32({i} >> 32)", f"np.uint32({i} & 0xFFFFFFFF)"
    else:
        hi, lo = "np.uint32(0)", f"np.uint32({i})"

    def body(e, parallel):
        outer = "numba.prange" if parallel and nkeys > 1 else "range"
        inner = "numba.prange" if parallel and nkeys == 1 else "range"
        e.line(f"for {b} in {outer}({nkeys}):")
        with e.indented():
            e.line(f"{k1} = {kv}[{b}, 0]")
            e.line(f"{k2} = {kv}[{b}, 1]")
            e.line(f"{row} = {ov}[{b}]")
            e.line(f"for {i} in {inner}({n}):")
            with e.indented():
                e.line(f"{y1}, {y2} = {fn}({k1}, {k2}, {hi}, {lo})")
                e.line(f"{row}[{i}] = {_combine_expr(y1, y2, bw)}")

    _outlined_loops(em, out.size, [kv, ov], body)
    return [o]


# -- float32 log, log1p, erf, erf_inv as JAX rounds them (xform/lax/random_math.py) -------
# The same operations as the numpy impls there, per element. Written without branches
# (both sides computed, then selected; the exponent and mantissa by bit operations, not
# frexp) so that the loops calling them vectorize.

_TINY = rm.TINY
_ONE = np.float32(1)
_HALF = np.float32(0.5)
_INF = np.float32(np.inf)
_NAN = np.float32(np.nan)
_ZERO = np.float32(0)


@intrinsic
def _f32_bits(typingctx, x):
    """The bits of a float32 as a uint32 (a bitcast)."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.IntType(32))

    return types.uint32(types.float32), codegen


@intrinsic
def _f32_from_bits(typingctx, b):
    """The float32 with the bits of a uint32 (a bitcast)."""
    if b != types.uint32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.FloatType())

    return types.float32(types.uint32), codegen


@intrinsic
def _f64_from_bits(typingctx, b):
    """The float64 with the bits of a uint64 (a bitcast)."""
    if b != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return types.float64(types.uint64), codegen


@intrinsic
def _fma32(typingctx, a, b, c):
    """The correctly rounded float32 ``a * b + c`` (LLVM's fma: one instruction where the
    processor has it)."""
    if not all(isinstance(t, types.Float) for t in (a, b, c)):
        return None
    sig = types.float32(a, b, c)

    def codegen(context, builder, sig, args):
        f32 = llvm_ir.FloatType()
        ops = [context.cast(builder, v, t, types.float32) for v, t in zip(args, sig.args)]
        fn = cgutils.get_or_insert_function(builder.module,
                                            llvm_ir.FunctionType(f32, [f32] * 3), "llvm.fma.f32")
        return builder.call(fn, ops)

    return sig, codegen


@intrinsic
def _fma64(typingctx, a, b, c):
    """The correctly rounded float64 ``a * b + c`` (LLVM's fma)."""
    if not all(isinstance(t, types.Float) for t in (a, b, c)):
        return None
    sig = types.float64(a, b, c)

    def codegen(context, builder, sig, args):
        f64 = llvm_ir.DoubleType()
        ops = [context.cast(builder, v, t, types.float64) for v, t in zip(args, sig.args)]
        fn = cgutils.get_or_insert_function(builder.module,
                                            llvm_ir.FunctionType(f64, [f64] * 3), "llvm.fma.f64")
        return builder.call(fn, ops)

    return sig, codegen


@_jit
def fma_f32_xla(a, b, c):
    return _fma32(a, b, c)


@_jit
def fma_f64_xla(a, b, c):
    return _fma64(a, b, c)


@_jit
def _flush32(x):
    """Subnormals as signed zeros (XLA's denormals-are-zero / flush-to-zero)."""
    return x * _ZERO if abs(x) < _TINY else x


@_jit
def _log_core32(x):
    """Cephes logf of a positive normal finite float32."""
    bits = _f32_bits(x)
    ef = np.float32(np.int32(bits >> np.uint32(23)) - np.int32(126))
    m = _f32_from_bits(np.uint32((bits & np.uint32(0x007FFFFF)) | np.uint32(0x3F000000)))  # [.5, 1)
    small = m < rm.SQRT_HALF
    ef = ef - (_ONE if small else _ZERO)
    m = (m - _ONE) + (m if small else _ZERO)
    p = rm.LOG_P
    x2 = m * m
    x3 = x2 * m
    y = _fma32(m, p[0], p[1])
    y1 = _fma32(m, p[3], p[4])
    y2 = _fma32(m, p[6], p[7])
    y = _fma32(y, m, p[2])
    y1 = _fma32(y1, m, p[5])
    y2 = _fma32(y2, m, p[8])
    y = _fma32(y, x3, y1)
    y = _fma32(y, x3, y2)
    y = _fma32(y, x3, rm.LOG_Q1 * ef)
    r = _fma32(-_HALF, x2, m)
    r = r + y
    return _fma32(rm.LOG_Q2, ef, r)


@_jit
def log_f32_xla(x):
    x = _flush32(np.float32(x))
    ok = x > _ZERO and x < _INF
    r = _log_core32(x if ok else _ONE)
    r = r if ok else (-_INF if x == _ZERO else (x if x == _INF else _NAN))
    return r if x == x else x


@_jit
def _poly7(c, x):
    """c[0] x**6 + ... + c[6] by fused multiply-adds, from a zero start (XLA's order)."""
    p = _fma32(_ZERO, x, c[0])
    p = _fma32(p, x, c[1])
    p = _fma32(p, x, c[2])
    p = _fma32(p, x, c[3])
    p = _fma32(p, x, c[4])
    p = _fma32(p, x, c[5])
    return _fma32(p, x, c[6])


@_jit
def log1p_f32_xla(x):
    x = _flush32(np.float32(x))
    x2 = x * x
    r = _poly7(rm.LOG1P_NUM, x) / _poly7(rm.LOG1P_DEN, x)
    small = x + _fma32(-_HALF, x2, (x * x2) * r)
    large = log_f32_xla(x + _ONE)
    return _flush32(small if abs(x) < rm.LOG1P_SMALL else large)


@_jit
def erf_f32_xla(x):
    x = _flush32(np.float32(x))
    x2 = x * x
    n = rm.ERF_NUM
    p = _fma32(x2, _fma32(x2, _fma32(x2, _fma32(x2, n[0], n[1]), n[2]), n[3]), n[4])
    d = rm.ERF_DEN
    q = _fma32(x2, d[0], d[1])
    q = _fma32(x2, q, d[2])
    q = _fma32(x2, q, d[3])
    q = _fma32(x2, q, d[4])
    q = _fma32(x2, q, d[5])
    q = _fma32(x2, q, d[6])
    one = np.float32(math.copysign(1.0, x))
    return _flush32(one if abs(x) >= rm.ERF_CLAMP else (x * p) / q)


@_jit
def _poly9(c, t):
    p = _fma32(c[0], t, c[1])
    p = _fma32(p, t, c[2])
    p = _fma32(p, t, c[3])
    p = _fma32(p, t, c[4])
    p = _fma32(p, t, c[5])
    p = _fma32(p, t, c[6])
    p = _fma32(p, t, c[7])
    return _fma32(p, t, c[8])


@_jit
def erf_inv_f32_xla(x):
    x = _flush32(np.float32(x))
    w = -log1p_f32_xla(x * -x)
    central = w < np.float32(5)
    ws = w if central else np.float32(2.5)  # stand-ins keep the unused side finite
    wt = np.float32(9) if central else w
    p_c = _poly9(rm.ERF_INV_CENTRAL, ws - np.float32(2.5))
    p_t = _poly9(rm.ERF_INV_TAIL, np.sqrt(wt) - np.float32(3))
    p = p_c if central else p_t
    return x * _INF if abs(x) == _ONE else _flush32(p * x)


@_jit
def exp_f32_xla(x):
    x = _flush32(np.float32(x))
    xc = x if x > rm.EXP_LO else rm.EXP_LO  # (NaN: a stand-in, restored below)
    xc = xc if xc < rm.EXP_HI else rm.EXP_HI
    n = np.floor(_fma32(xc, rm.EXP_LOG2E, _HALF))
    n = n if n > np.float32(-127) else np.float32(-127)
    n = n if n < np.float32(127) else np.float32(127)
    y = _fma32(-n, rm.LOG_Q2, xc)
    y = _fma32(-n, rm.LOG_Q1, y)
    p = rm.EXP_P
    z = _fma32(y, p[0], p[1])
    z = _fma32(z, y, p[2])
    z = _fma32(z, y, p[3])
    z = _fma32(z, y, p[4])
    z = _fma32(z, y, p[5])
    z = _ONE + _fma32(z, y * y, y)
    bits = np.uint32((np.int64(n) + 127) << 23)  # 2**n (n > -127)
    pow2 = _f32_from_bits(bits) if n > np.float32(-127) else _ZERO
    r = _flush32(z * pow2)
    return r if x == x else x


# -- float64 log1p, exp, erf_inv as JAX rounds them (xform/lax/random_math64.py) -------------

_TINY64 = r64.TINY


@_jit
def _flush64(x):
    return x * 0.0 if abs(x) < _TINY64 else x


def _unrolled_fma_horner(n: int, start_zero: bool):
    """``c[0] t**(n-1) + ... + c[n-1]`` by fused multiply-adds (from a zero start, XLA's
    order for log1p, or from ``c[0]``), unrolled (a loop over the coefficient tuple would
    index it dynamically)."""
    src = ["def horner(c, t):"]
    if start_zero:
        src += ["    p = 0.0"] + [f"    p = _fma64(p, t, c[{k}])" for k in range(n)]
    else:
        src += ["    p = c[0]"] + [f"    p = _fma64(p, t, c[{k}])" for k in range(1, n)]
    src.append("    return p")
    scope: dict = {"_fma64": _fma64}
    exec("\n".join(src), scope)  # noqa: S102 (generated from the fixed lines above)
    return _jit(scope["horner"])


_poly7_64 = _unrolled_fma_horner(len(r64.LOG1P_NUM), True)
_horner23 = _unrolled_fma_horner(len(rm.ERF_INV64_CENTRAL), False)
_horner19 = _unrolled_fma_horner(len(rm.ERF_INV64_MID), False)
_horner17 = _unrolled_fma_horner(len(rm.ERF_INV64_TAIL), False)


@_jit
def log1p_f64_xla(x):
    x = _flush64(np.float64(x))
    x2 = x * x
    r = _poly7_64(r64.LOG1P_NUM, x) / _poly7_64(r64.LOG1P_DEN, x)
    small = x + _fma64(-0.5, x2, (x * x2) * r)
    if abs(x) < r64.LOG1P_SMALL:
        return _flush64(small)
    return _flush64(math.log(x + 1.0))  # the C library's log, as XLA's


@_jit
def _pow2(n):
    """2.0**n for an integer-valued float64 ``n`` in [-1022, 1023] (from its bits)."""
    return _f64_from_bits(np.uint64((np.int64(n) + 1023) << 52))


@_jit
def exp_f64_xla(x):
    x = _flush64(np.float64(x))
    xc = x if x < r64.EXP_HI else r64.EXP_HI
    xc = xc if xc > r64.EXP_LO else r64.EXP_LO  # (NaN: a stand-in, restored below)
    n = np.floor(_fma64(xc, r64.LOG2E, 0.5))
    g = _fma64(-n, r64.LN2_C2, _fma64(-n, r64.LN2_C1, xc))
    g2 = g * g
    p = r64.EXP_P
    q = r64.EXP_Q
    pg = _fma64(_fma64(p[0], g2, p[1]), g2, p[2]) * g
    qg = _fma64(_fma64(_fma64(q[0], g2, q[1]), g2, q[2]), g2, q[3])
    e = _fma64(pg / (qg - pg), 2.0, 1.0)
    half = np.floor(n * 0.5)  # 2**n in two exact steps (n reaches 1024)
    r = _flush64((e * _pow2(half)) * _pow2(n - half))
    r = 0.0 if x < r64.EXP_LO else (np.inf if x > r64.EXP_HI else r)
    return r if x == x else x


@_jit
def erf_inv_f64_xla(x):
    x = _flush64(np.float64(x))
    w = -log1p_f64_xla(x * -x)
    if w < 6.25:
        p = _horner23(rm.ERF_INV64_CENTRAL, w - 3.125)
    elif w < 16.0:
        p = _horner19(rm.ERF_INV64_MID, math.sqrt(w) - 3.25)
    else:
        p = _horner17(rm.ERF_INV64_TAIL, math.sqrt(w) - 5.0)
    return x * np.inf if abs(x) == 1.0 else _flush64(p * x)


# -- the C library's functions (xform/lax/random_libm.py): Numba calls the same ones -------
# (with XLA's denormals-are-zero and flush-to-zero, as random_libm.py)


@_jit
def _flush(x):
    return x * np.float32(0) if abs(x) < np.finfo(type(x)).tiny else x  # (keeps the dtype)


@_jit
def libm_log(x):
    return math.log(_flush(x))


@_jit
def libm_erf(x):
    return _flush(math.erf(_flush(x)))


@_jit
def libm_tan(x):
    return math.tan(x)


@_jit
def libm_pow(x, y):
    return _flush(math.pow(x, y))


_XLA_HELPERS = {rm.log_f32_xla_p: "log_f32_xla", rm.log1p_f32_xla_p: "log1p_f32_xla",
                rm.exp_f32_xla_p: "exp_f32_xla", rm.erf_f32_xla_p: "erf_f32_xla",
                rm.erf_inv_f32_xla_p: "erf_inv_f32_xla", r64.log1p_f64_xla_p: "log1p_f64_xla",
                r64.exp_f64_xla_p: "exp_f64_xla", r64.erf_inv_f64_xla_p: "erf_inv_f64_xla",
                rl.libm_log_p: "libm_log", rl.libm_erf_p: "libm_erf", rl.libm_tan_p: "libm_tan"}
_NARY_HELPERS = {rm.fma_f32_xla_p: "fma_f32_xla", r64.fma_f64_xla_p: "fma_f64_xla",
                 rl.libm_pow_p: "libm_pow"}


@rule(*_NARY_HELPERS)
def _nary_rule(em, eqn, ins):
    """A loop over the broadcast shape calling the helper (operands read with
    broadcasting)."""
    fn = use(em, _NARY_HELPERS[eqn.primitive])
    out = eqn.outvars[0].aval
    if out.ndim == 0:
        r = em.fresh("r")
        em.line(f"{r} = {fn}({', '.join(ins)})")
        return [r]
    o = em.alloc(out.shape, out.dtype)
    if out.size == 0:
        return [o]
    arrays = [n for n, v in zip(ins, eqn.invars) if v.aval.ndim > 0]

    def body(e, parallel):
        idx = [e.fresh("j") for _ in out.shape]
        for k, (j, d) in enumerate(zip(idx, out.shape)):
            rng = "numba.prange" if parallel and k == 0 else "range"  # the outermost loop
            e.line(f"for {j} in {rng}({d}):")
            e.depth += 1
        args = [broadcast_read(n, v.aval, out.shape, idx) for n, v in zip(ins, eqn.invars)]
        e.line(f"{o}[{index_text(idx)}] = {fn}({', '.join(args)})")
        e.depth -= len(idx)

    _outlined_loops(em, out.size, [o] + arrays, body)
    return [o]


@rule(*_XLA_HELPERS)
def _xla_math(em, eqn, ins):
    fn = use(em, _XLA_HELPERS[eqn.primitive])
    xa, out = eqn.invars[0].aval, eqn.outvars[0].aval
    if out.ndim == 0:
        r = em.fresh("r")
        em.line(f"{r} = {fn}({ins[0]})")
        return [r]
    o = em.alloc(out.shape, out.dtype)
    if out.size == 0:
        return [o]
    x = em.contiguous(ins[0], xa)
    xv, ov, i = em.fresh("xv"), em.fresh("ov"), em.fresh("i")
    em.line(f"{xv} = {em.reshape(x, (out.size,))}")
    em.line(f"{ov} = {em.reshape(o, (out.size,))}")

    def body(e, parallel):
        e.line(f"for {i} in {'numba.prange' if parallel else 'range'}({out.size}):")
        e.line(f"    {ov}[{i}] = {fn}({xv}[{i}])")

    _outlined_loops(em, out.size, [xv, ov], body)
    return [o]
