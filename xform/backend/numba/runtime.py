"""Small numba helpers imported by every generated kernel module."""
from __future__ import annotations

import math

import numba
import numpy as np
from numba.core import cgutils, types
from llvmlite import ir
from numba.extending import intrinsic, overload
from numba.np.ufunc.parallel import _launch_threads

from ..platform import preload_cython_blas
from . import threads as _threads
from .cache import cached_njit
from .dot_runtime import dot_small  # noqa: F401  (kernels import it from runtime)
from .special_runtime import (  # noqa: F401  (kernels import these from runtime)
    betainc_scalar, digamma_scalar, erf_inv_scalar, igamma_scalar, igammac_scalar, log_ndtr_scalar,
    ndtri_scalar, polygamma_scalar,
)

preload_cython_blas()
_threads.ensure_ready()  # before any kernel that calls BLAS is loaded: see blas_enter


@intrinsic
def to_scalar(typingctx, x):
    """A 0-d input as a scalar: numpy 0-d arrays are indexed, scalars pass through. (An
    intrinsic: as an overload, numba compiled it once per process and signature.)"""
    if isinstance(x, types.Array):
        if x.ndim != 0:
            return None

        def load(context, builder, sig, args):
            ary = context.make_array(x)(context, builder, args[0])
            return context.unpack_value(builder, x.dtype, ary.data)  # bools are bytes in arrays

        return x.dtype(x), load
    if not isinstance(x, (types.Number, types.Boolean)):
        return None

    def same(context, builder, sig, args):
        return args[0]

    return x(x), same


@intrinsic
def as_c(typingctx, x):
    """x itself if its numba type is C-contiguous, else a C-contiguous copy. (An intrinsic:
    as an overload, numba compiled it once per process and signature, ~0.03 s each.)"""
    if not isinstance(x, types.Array):
        return None
    retty = x if x.layout == "C" else x.copy(layout="C", readonly=False)  # a copy is writable

    def codegen(context, builder, sig, args):
        from numba.core.imputils import impl_ret_borrowed

        if x.layout == "C":
            return impl_ret_borrowed(context, builder, retty, args[0])
        return context.compile_internal(builder, lambda a: a.copy(), sig, args)

    return retty(x), codegen


@intrinsic
def prefer_wide_vectors(typingctx):
    """Mark the enclosing LLVM function ``"prefer-vector-width"="512"``: on AVX-512
    targets the loop vectorizer then uses 512-bit vectors (LLVM's default for these
    CPUs is 256). Called at the top of a big loop body (in a prange body it marks the
    parallel worker function). Numerically neutral: strict float semantics are kept."""

    def codegen(context, builder, sig, args):
        # llvmlite only knows a fixed set of attribute names; string attributes are
        # written verbatim into the function header
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


# Allocation by intrinsics: numba's np.empty/np.full are overloads whose implementation
# is compiled once per process and signature (ndim, dtype; 0.03-0.2 s each, not disk
# cacheable); an intrinsic emits the allocation's IR directly at the call site (numba's own
# ``_empty_nd_impl``, what its np.empty calls in the end), with no compile of its own.
def _alloc_type(shape, dtype):
    if not (isinstance(shape, types.BaseTuple)
            and all(isinstance(t, types.Integer) for t in shape)
            and isinstance(dtype, (types.NumberClass, types.DType))):
        return None
    return types.Array(dtype.dtype, len(shape), "C")


def _alloc(context, builder, arrtype, shape_val, ndim):
    from numba.np.arrayobj import _empty_nd_impl

    dims = [builder.sext(d, ir.IntType(64)) if d.type.width < 64 else d
            for d in cgutils.unpack_tuple(builder, shape_val, ndim)]
    return _empty_nd_impl(context, builder, arrtype, dims)


@intrinsic
def alloc_empty(typingctx, shape, dtype):
    """``np.empty(shape, dtype)`` (C order) without numba's per-process compile."""
    arrtype = _alloc_type(shape, dtype)
    if arrtype is None:
        return None

    def codegen(context, builder, sig, args):
        return _alloc(context, builder, arrtype, args[0], len(shape))._getvalue()

    return arrtype(shape, dtype), codegen


@intrinsic
def alloc_full(typingctx, shape, value, dtype):
    """``np.full(shape, value, dtype)`` (C order) without numba's per-process compile."""
    arrtype = _alloc_type(shape, dtype)
    if arrtype is None or not isinstance(value, (types.Number, types.Boolean)):
        return None

    def codegen(context, builder, sig, args):
        ary = _alloc(context, builder, arrtype, args[0], len(shape))
        v = context.get_value_as_data(builder, arrtype.dtype,  # bools are bytes in arrays
                                      context.cast(builder, args[1], value, arrtype.dtype))
        with cgutils.for_range(builder, ary.nitems) as loop:
            builder.store(v, builder.gep(ary.data, [loop.index]))
        return ary._getvalue()

    return arrtype(shape, value, dtype), codegen


@intrinsic
def fill_array(typingctx, arr, value):
    """``arr[...] = value`` for a C-contiguous array (of any rank, 0-d included)."""
    if not (isinstance(arr, types.Array) and arr.layout == "C"
            and isinstance(value, (types.Number, types.Boolean))):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(arr)(context, builder, args[0])
        v = context.get_value_as_data(builder, arr.dtype,
                                      context.cast(builder, args[1], value, arr.dtype))
        with cgutils.for_range(builder, ary.nitems) as loop:
            builder.store(v, builder.gep(ary.data, [loop.index]))
        return context.get_dummy_value()

    return types.none(arr, value), codegen


@intrinsic
def reshape_c(typingctx, arr, shape):
    """``arr.reshape(shape)``. Of a C-contiguous array (by its numba type): a view with the
    new shape, built here; numba's own reshape compiles a helper once per process
    (~0.15 s) that a C-contiguous array does not need. Other layouts: numba's reshape."""
    if not (isinstance(arr, types.Array) and isinstance(shape, types.BaseTuple)
            and all(isinstance(t, types.Integer) for t in shape)):
        return None
    retty = arr.copy(ndim=len(shape), layout="C")

    def codegen(context, builder, sig, args):
        from numba.core.imputils import impl_ret_borrowed
        from numba.np.arrayobj import populate_array

        if arr.layout != "C":
            return context.compile_internal(builder, lambda a, s: a.reshape(s), sig, args)

        src = context.make_array(arr)(context, builder, args[0])
        dims = [builder.sext(d, ir.IntType(64)) if d.type.width < 64 else d
                for d in cgutils.unpack_tuple(builder, args[1], len(shape))]
        strides, step = [], src.itemsize
        for d in reversed(dims):
            strides.append(step)
            step = builder.mul(step, d)
        dst = context.make_array(retty)(context, builder)
        populate_array(dst, data=src.data, shape=dims, strides=strides[::-1], itemsize=src.itemsize,
                       meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, retty, dst._getvalue())

    return retty(arr, shape), codegen


# Fast-math flags of a running sum or product: reassociation lets LLVM vectorize the
# reduction loop (several partial sums, as numpy's pairwise summation also reorders), and
# signed zeros are not kept (the accumulator starts at +0.0). Only the accumulation gets
# them: the loop's other arithmetic stays exact, with no contraction into fma.
_ACC_FLAGS = ("reassoc", "nsz")


def _acc_op(name):
    @intrinsic
    def acc_op(typingctx, acc, v):
        if not (isinstance(acc, types.Float) and isinstance(v, (types.Float, types.Integer))):
            return None

        def codegen(context, builder, sig, args):
            return getattr(builder, name)(args[0], args[1], flags=_ACC_FLAGS)

        return acc(acc, acc), codegen  # v is converted to the accumulator's type

    return acc_op


acc_add = _acc_op("fadd")
acc_add.__doc__ = "acc + v, reassociable (a running sum of a fused reduction over floats)."
acc_mul = _acc_op("fmul")
acc_mul.__doc__ = "acc * v, reassociable (a running product of a fused reduction over floats)."


@numba.njit(inline="always", error_model="numpy")
def round_precision(x, exponent_bits, mantissa_bits):
    """``x`` rounded to nearest (ties to even) in a float format with the given exponent
    and mantissa bits (float16: 5, 10), as a float64: lax.reduce_precision."""
    v = np.float64(x)  # exact; the scalings and rint below are exact in float64 as well
    if v != v or v == 0.0 or abs(v) == math.inf:
        return v
    emax = (1 << (exponent_bits - 1)) - 1
    e = max(math.frexp(v)[1] - 1, 1 - emax)
    q = math.ldexp(np.rint(math.ldexp(v, mantissa_bits - e)), e - mantissa_bits)
    if abs(q) > (2.0 - 2.0 ** -mantissa_bits) * 2.0 ** emax:
        return math.copysign(math.inf, v)
    return q


# Selects and numpy's maximum/minimum as intrinsics: one LLVM ``select`` each. As Python
# (a conditional expression, or a function numba inlines) each costs new basic blocks
# to type and lower: ~10-30 ms of compile time per use, superlinear in their number
# (a line search with ~45 of them spent most of its compile time there).
def _unified(typingctx, *tys):
    if not all(isinstance(t, (types.Number, types.Boolean)) for t in tys):
        return None
    return typingctx.unify_types(*tys)


@intrinsic
def select(typingctx, pred, on_true, on_false):
    """``on_true if pred else on_false`` as one LLVM select (both operands evaluated)."""
    res = _unified(typingctx, on_true, on_false)
    if res is None or not isinstance(pred, (types.Boolean, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        p = context.cast(builder, args[0], pred, types.boolean)
        t = context.cast(builder, args[1], on_true, res)
        f = context.cast(builder, args[2], on_false, res)
        return builder.select(p, t, f)

    return res(pred, on_true, on_false), codegen


def _pick(op):
    @intrinsic
    def pick(typingctx, x, y):
        res = _unified(typingctx, x, y)
        if not isinstance(res, (types.Float, types.Integer, types.Boolean)):
            return None

        def codegen(context, builder, sig, args):
            a = context.cast(builder, args[0], x, res)
            b = context.cast(builder, args[1], y, res)
            if isinstance(res, types.Float):
                # a wins when it compares so, or is NaN (NaN propagates); of equal operands
                # (-0.0 and 0.0) the second, as numpy
                wins = builder.or_(builder.fcmp_ordered(op, a, b), builder.fcmp_unordered("uno", a, a))
            elif isinstance(res, types.Integer) and res.signed:
                wins = builder.icmp_signed(op, a, b)
            else:
                wins = builder.icmp_unsigned(op, a, b)
            return builder.select(wins, a, b)

        return res(x, y), codegen

    return pick


nmax = _pick(">")
nmax.__doc__ = """numpy's maximum of two real numbers: for floats NaN propagates, and of equal
operands (-0.0 and 0.0) the second (numba's np.maximum returns the first)."""
nmin = _pick("<")
nmin.__doc__ = "numpy's minimum of two real numbers (see ``nmax``)."


@numba.njit(inline="always", error_model="numpy")
def cdiv(a, b):
    """a / b for complex numbers by numpy's algorithm (Smith's, scaled by the larger
    part of b), so division by zero gives numpy's inf/nan instead of an exception."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    abr, abi = abs(br), abs(bi)
    if abr >= abi:
        if abr == 0 and abi == 0:
            return complex(ar / abr, ai / abr)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)


@numba.njit(inline="always", error_model="numpy")
def crecip(a):
    """1 / a for a complex number by numpy's reciprocal algorithm (nan at 0, as numpy)."""
    ar, ai = a.real, a.imag
    if abs(ai) <= abs(ar):
        r = ai / ar
        d = ar + ai * r
        return complex(1.0 / d, -r / d)
    r = ar / ai
    d = ar * r + ai
    return complex(r / d, -1.0 / d)


@numba.njit(error_model="numpy")
def cpow(a, b):
    """a ** b for complex numbers by numpy's algorithm (npy_cpow): exact special cases
    for b == 0 and a == 0, repeated squaring for integer exponents |n| < 100 (exact
    where exp/log would round), the general formula otherwise."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    if br == 0.0 and bi == 0.0:
        return complex(1.0, 0.0)
    if ar == 0.0 and ai == 0.0:
        if br > 0.0:
            return complex(0.0, 0.0)
        return complex(np.nan, np.nan)
    if bi == 0.0 and br == np.floor(br) and -100.0 < br < 100.0:
        n = int(br)
        if n == 1:
            return complex(ar, ai)
        if n == 2:
            return a * a
        if n == 3:
            return a * (a * a)
        m = -n if n < 0 else n
        aa = complex(1.0, 0.0)
        p = complex(ar, ai)
        mask = 1
        while True:
            if m & mask:
                aa = aa * p
            mask <<= 1
            if m < mask:
                break
            p = p * p
        if n < 0:
            return cdiv(complex(1.0, 0.0), aa)
        return aa
    return a ** b


from .complex_math import ccos, ccosh, cexp, csin, csinh, ctan, ctanh  # noqa: E402

__all__ = ["to_scalar", "as_c", "numba", "prefer_wide_vectors", "alloc_empty", "alloc_full", "fill_array",
           "reshape_c", "acc_add", "acc_mul", "select", "nmax", "nmin", "cdiv", "crecip", "cpow",
           "round_precision", "cexp", "csinh", "ccosh", "ctanh", "csin", "ccos", "ctan"]


# -- heavy generic kernels: compiled once per dtype and cached on disk (xform's cache under
# XFORM_CACHE_DIR, never Numba's cache=True: see cache.cached_njit), so a generated kernel
# only links them instead of compiling numpy's implementations again.

_opts = dict(nogil=True, error_model="numpy")


def _lt(a, b):  # pragma: no cover - only called from compiled code
    """numpy's sort order: NaNs last; complex numbers lexicographically (real, then
    imaginary part), those with a NaN part last."""
    raise NotImplementedError


@overload(_lt)
def _lt_ol(a, b):
    if isinstance(a, types.Complex):
        def complex_lt(a, b):  # numpy's npysort CDOUBLE_LT
            ar, ai, br, bi = a.real, a.imag, b.real, b.imag
            if ar < br:
                return ai == ai or bi != bi
            if ar > br:
                return bi != bi and ai == ai
            if ar == br or (ar != ar and br != br):
                return ai < bi or (bi != bi and ai == ai)
            return br != br

        return complex_lt
    return lambda a, b: a < b or (b != b and a == a)


@cached_njit(**_opts)
def argsort_stable(a):
    """Stable argsort of a 1-d array (NaNs last), as int64 indices (merge sort)."""
    n = a.shape[0]
    idx = np.empty(n, np.int64)
    for i in range(n):
        idx[i] = i
    run = 16
    for lo in range(0, n, run):  # insertion sort of short runs
        hi = min(lo + run, n)
        for i in range(lo + 1, hi):
            j = i
            t = idx[i]
            v = a[t]
            while j > lo and _lt(v, a[idx[j - 1]]):
                idx[j] = idx[j - 1]
                j -= 1
            idx[j] = t
    tmp = np.empty(n, np.int64)
    width = run
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _lt(a[idx[j]], a[idx[i]]):
                    tmp[k] = idx[j]
                    j += 1
                else:
                    tmp[k] = idx[i]
                    i += 1
                k += 1
            while i < mid:
                tmp[k] = idx[i]
                i += 1
                k += 1
            while j < hi:
                tmp[k] = idx[j]
                j += 1
                k += 1
        idx, tmp = tmp, idx
        width *= 2
    return idx


# -- BLAS thread counts around each BLAS call (the policy: threads.py) ----------------------


@intrinsic
def _blas_state(typingctx):
    """Pointer to ``threads.STATE``: the external global ``threads.SYMBOL``, resolved by
    name when the machine code is linked or loaded from the disk cache."""

    def codegen(context, builder, sig, args):
        mod = builder.module
        gv = mod.globals.get(_threads.SYMBOL)
        if gv is None:
            gv = ir.GlobalVariable(mod, ir.IntType(64), name=_threads.SYMBOL)
            gv.linkage = "external"
        return builder.bitcast(gv, ir.IntType(64).as_pointer())

    return types.CPointer(types.int64)(), codegen


@intrinsic
def _cas(typingctx, ptr, expected, new):
    """Atomic compare-and-swap of ``*ptr`` (int64); returns the old value."""
    sig = types.int64(ptr, expected, new)

    def codegen(context, builder, signature, args):
        res = builder.cmpxchg(args[0], args[1], args[2], "seq_cst", "seq_cst")
        return builder.extract_value(res, 0)

    return sig, codegen


@intrinsic
def _call_get(typingctx, addr):
    """``int f(void)`` at ``addr``."""

    def codegen(context, builder, signature, args):
        fn = builder.inttoptr(args[0], ir.FunctionType(ir.IntType(32), []).as_pointer())
        return builder.sext(builder.call(fn, []), ir.IntType(64))

    return types.int64(addr), codegen


@intrinsic
def _call_set(typingctx, addr, v):
    """``void f(int)`` at ``addr``."""

    def codegen(context, builder, signature, args):
        fn = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), [ir.IntType(32)]).as_pointer())
        builder.call(fn, [builder.trunc(args[1], ir.IntType(32))])
        return context.get_dummy_value()

    return types.void(addr, v), codegen


_STATE_LEN, _ACTIVE, _SAVED, _CURRENT = (_threads.STATE_LEN, _threads.ACTIVE, _threads.SAVED,
                                         _threads.CURRENT)
_WANT, _CAP, _MIN_WORK, _GET, _SET = (_threads.WANT, _threads.CAP, _threads.MIN_WORK, _threads.GET,
                                      _threads.SET)
_ENABLED, _CALLS, _NUMBA_WANT, _POOL = (_threads.ENABLED, _threads.CALLS, _threads.NUMBA_WANT,
                                        _threads.POOL)


def _launch_threads_on_reload():
    """Reload hook of cached code calling ``_set_num_threads`` (pickled by reference)."""
    _launch_threads()


@intrinsic
def _set_num_threads(typingctx, n):
    """``numba.set_num_threads(n)`` through the threading layer's symbol, which numba
    registers as ``set_num_threads`` when it launches its threads. numba's own overload
    calls it through a ctypes pointer, which makes every caller uncacheable on disk (the
    convolution kernels and parallel loops were recompiled in every process)."""
    if not isinstance(n, types.Integer):
        return None
    sig = types.void(n)
    # the symbol exists once numba's threading layer is launched: before this function
    # is linked when compiled afresh (here) and when loaded from the disk cache (numba
    # runs a library's reload hooks before linking it)
    _launch_threads()

    def codegen(context, builder, signature, args):
        context.active_code_library._reload_init.add(_launch_threads_on_reload)
        i32 = ir.IntType(32)
        fn = builder.module.globals.get("set_num_threads")
        if fn is None:
            fn = ir.Function(builder.module, ir.FunctionType(ir.VoidType(), [i32]),
                             "set_num_threads")
        builder.call(fn, [builder.trunc(args[0], i32) if args[0].type.width > 32 else args[0]])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(error_model="numpy", nogil=True)
def region_threads():
    """Set the calling thread's Numba thread count for the parallel region that follows:
    ``xform_num_threads``, else Numba's pool size capped by the cores other processes
    leave free (``threads.Governor``). Numba keeps one count per thread, so applying it
    at each region is what makes the setting hold in every thread; called first in
    every parallel (``prange``) helper."""
    st = numba.carray(_blas_state(), (_STATE_LEN,), np.int64)
    pool = st[_POOL]
    if pool <= 0:  # threads.ensure_ready has not run: leave Numba's own count
        return
    n = st[_NUMBA_WANT]
    if n <= 0:  # the policy: all of the pool that other processes leave free
        n = pool
        if st[_CAP] > 0 and n > st[_CAP]:
            n = st[_CAP]
    st[_CALLS] += 1
    _set_num_threads(n)


@numba.njit(error_model="numpy", nogil=True)
def blas_enter(work):
    """Before a BLAS call of ``work`` multiply-adds: set the library's thread count as
    ``threads.py`` describes (one thread for small calls and for calls made while
    another kernel is inside BLAS; else the setting, or the library's own count capped
    by the free cores). Pair
    with ``blas_exit``. OpenBLAS's pthreads build has one process-wide count, hence the
    spin lock and the reference count: the library's own count is restored when the
    last caller leaves."""
    st = numba.carray(_blas_state(), (_STATE_LEN,), np.int64)
    if st[_ENABLED] == 0:  # the library and its get/set functions are not known
        return
    p = _blas_state()
    while _cas(p, 0, 1) != 0:  # the lock is STATE[0]
        pass
    active = st[_ACTIVE]
    st[_ACTIVE] = active + 1
    st[_CALLS] += 1
    if active == 0:  # the library's own count (user, env, threadpoolctl): restored after
        st[_SAVED] = _call_get(st[_GET])
        st[_CURRENT] = st[_SAVED]
    want = st[_WANT]
    if want <= 0:  # the policy: the library's own count, capped by the free cores
        want = st[_SAVED]
        if st[_CAP] > 0 and want > st[_CAP]:
            want = st[_CAP]
    if active > 0 or work < st[_MIN_WORK]:
        want = 1
    if want != st[_CURRENT]:
        _call_set(st[_SET], want)
        st[_CURRENT] = want
    _cas(p, 1, 0)


@numba.njit(error_model="numpy", nogil=True)
def blas_exit():
    """After the BLAS call ``blas_enter`` prepared: the last one out restores the
    library's own count."""
    st = numba.carray(_blas_state(), (_STATE_LEN,), np.int64)
    if st[_ENABLED] == 0:
        return
    p = _blas_state()
    while _cas(p, 0, 1) != 0:
        pass
    st[_ACTIVE] -= 1
    if st[_ACTIVE] == 0 and st[_CURRENT] != st[_SAVED]:
        _call_set(st[_SET], st[_SAVED])
        st[_CURRENT] = st[_SAVED]
    _cas(p, 1, 0)


@cached_njit(**_opts)
def dot_batched(a, b):
    """Batched matrix product of (B, M, K) and (B, K, N) C-contiguous float arrays."""
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), a.dtype)
    blas_enter(a.shape[1] * a.shape[2] * b.shape[2])
    for i in range(a.shape[0]):
        out[i] = np.dot(a[i], b[i])
    blas_exit()
    return out
