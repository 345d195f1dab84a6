"""Generic convolution kernels, compiled once per dtype and cached on disk (xform's jit
cache, ``cache.cached_njit``/``cached_cfunc``).

Why not generated per program: a convolution is a large loop nest plus BLAS calls.
Emitting it into every jit kernel (or calling an ``njit`` function from it, whose LLVM
module numba links in and compiles again) costs seconds per kernel and per image
size. Instead the kernels here are C-callable functions (``numba.cfunc``, disk cached)
that take every size, stride and parameter at run time; a generated kernel calls them
through a function pointer (``conv_call``) passed to it as a constant (an argument,
not part of the source: the kernel stays cacheable), so its own
compile time does not depend on the convolution at all.

Calling convention: ``fn(dyn, static)`` with two int64 blocks. ``dyn`` (built by
``conv_call`` from the arrays): the data pointers of lhs, rhs and out, then 5 byte
strides for each (in the arrays' own axis order). ``static`` (``static_block``): for
each operand its 5 canonical dims (lhs ``N C S0 S1 S2``, rhs ``O I K0 K1 K2``, out
``N O Q0 Q1 Q2``; spatial dims padded with 1 to three) and for each canonical dim the
array axis holding it (-1 for a padded unit dim); window strides, low paddings, lhs and
rhs dilations (3 each); feature and batch group counts; the tile size in bytes and the
largest contraction chunk.

Algorithm: im2col + GEMM by tiles. The output rows ``(n, q)`` (batch, output
position) are cut into tiles; for each tile the input patches are gathered into a
contiguous ``(rows, taps * Ig)`` matrix ``A`` (zeros where the window reads padding)
and multiplied with the packed kernel ``(taps * Ig, Ot)`` by BLAS gemm, accumulating
over contraction tiles when ``taps * Ig`` is large (the kernel gradient of a
convolution is a convolution with a huge "kernel"). ``lhs_dilation`` (the input
gradient of a strided convolution) is split by phase: output positions ``q`` with the
same ``q * stride mod dilation`` read the input through the same subset of kernel taps,
so no product with an inserted zero is computed. A convolution with few outputs and a
long contraction (the kernel gradient: outputs = kernel taps, contraction = output
positions) gathers the contraction as rows instead (``_conv_by_taps``) and accumulates
``B^T @ R``. Tiles are sized to stay in the L2 cache; each gemm runs on one BLAS thread
(``_blas_single``), the tiles on ``XFORM_CONV_THREADS`` numba threads (default: all).
Integer convolutions use the same gathers with an exact integer product loop.
"""
from __future__ import annotations

import functools
import os
import threading

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ..platform import preload_cython_blas
from .cache import cached_cfunc, cached_njit
from .runtime import blas_enter, blas_exit, region_threads
from . import threads as _threads

preload_cython_blas()

_opts = dict(nogil=True, error_model="numpy")

# -- calling a kernel through its address ---------------------------------------------------

DYN_LEN = 18


@intrinsic
def conv_call(typingctx, addr, lhs, rhs, out, static):
    """``fn(dyn, static.data)`` for the C function at ``addr`` (an int64), with ``dyn``
    the data pointers and byte strides of the three arrays (see the module docstring).
    The arrays stay referenced by the caller for the whole call."""
    for a in (lhs, rhs, out, static):
        if not isinstance(a, types.Array):
            return None
    sig = types.void(addr, lhs, rhs, out, static)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        block = cgutils.alloca_once(builder, i64, size=DYN_LEN)
        for k in range(DYN_LEN):
            builder.store(i64(0), builder.gep(block, [i64(k)]))
        for j, (ty, val) in enumerate(zip(signature.args[1:4], args[1:4])):
            ary = context.make_array(ty)(context, builder, val)
            builder.store(builder.ptrtoint(ary.data, i64), builder.gep(block, [i64(j)]))
            strides = cgutils.unpack_tuple(builder, ary.strides, ty.ndim)
            for d, s in enumerate(strides[:5]):
                builder.store(s, builder.gep(block, [i64(3 + 5 * j + d)]))
        st = context.make_array(signature.args[4])(context, builder, args[4])
        st_ptr = builder.bitcast(st.data, i64.as_pointer())
        fnty = ir.FunctionType(ir.VoidType(), [i64.as_pointer(), i64.as_pointer()])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        builder.call(fn, [block, st_ptr])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _voidptr(typingctx, addr):
    sig = types.voidptr(addr)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], ir.IntType(8).as_pointer())

    return sig, codegen


@cached_njit(**_opts)
def _blas_single(state_addr, get, set_, enter):
    """While any convolution runs, BLAS runs single-threaded (process-wide: OpenBLAS's
    pthreads build has no per-call or per-thread count). The tiles' gemms are small
    enough that BLAS's threads cost more than they give, and with tiles on numba's
    threads a multi-threaded gemm in each worker would oversubscribe the cores. This is
    the policy of all kernels' BLAS calls (``runtime.blas_enter``, ``threads.py``): a
    call of no declared work runs on one thread, and the count shared with the other
    BLAS calls of kernels is restored when the last one finishes. (``state_addr``,
    ``get`` and ``set_`` are that shared state's, kept in the static block's layout.)"""
    if enter:
        blas_enter(0)
    else:
        blas_exit()


# -- BLAS gemm with leading dimensions (numba's own entry point to scipy's BLAS) --------------

def _gemm_sig(dt):
    p = types.CPointer(dt)
    return types.intc(types.char, types.char, types.char, types.intp, types.intp, types.intp,
                      p, p, types.intp, p, types.intp, p, p, types.intp)


_XXGEMM = {dt: types.ExternalFunction("numba_xxgemm", _gemm_sig(dt))
           for dt in (types.float32, types.float64, types.complex64, types.complex128)}
_KIND = {types.float32: ord("s"), types.float64: ord("d"), types.complex64: ord("c"),
         types.complex128: ord("z")}


def _blas_gemm_rows(fn, kind, transpose_a: bool):
    """The BLAS implementation of ``gemm_rows`` (c = a @ b + beta c) or, with
    ``transpose_a``, of ``gemm_rows_tn`` (c = a.T @ b + beta c): row-major C = op(A) B is
    column-major C^T = B^T op(A)^T, so B goes first and A is read transposed or not."""
    ta = ord("t") if transpose_a else ord("n")

    def blas(a, b, c, beta):
        m = a.shape[1] if transpose_a else a.shape[0]
        k = a.shape[0] if transpose_a else a.shape[1]
        n = b.shape[1]
        if m == 0 or n == 0:
            return
        isz = a.itemsize
        one = np.ones(1, a.dtype)
        bb = np.full(1, beta, a.dtype)
        fn(kind, ord("n"), ta, n, m, k, one.ctypes, b.ctypes, b.strides[0] // isz,
           a.ctypes, a.strides[0] // isz, bb.ctypes, c.ctypes, c.strides[0] // isz)

    return blas


def gemm_rows(a, b, c, beta):  # pragma: no cover - only called from compiled code
    """c = a @ b + beta * c for row-major 2-d operands whose rows are contiguous."""
    raise NotImplementedError


@overload(gemm_rows)
def _gemm_rows_ol(a, b, c, beta):
    dt = a.dtype
    if dt in _XXGEMM:
        return _blas_gemm_rows(_XXGEMM[dt], _KIND[dt], transpose_a=False)

    def exact(a, b, c, beta):  # integers: exact products, wrapping like numpy
        m, k = a.shape
        n = b.shape[1]
        for i in range(m):
            if beta == 0:
                for j in range(n):
                    c[i, j] = 0
            for p in range(k):
                av = a[i, p]
                if av != 0:
                    for j in range(n):
                        c[i, j] += av * b[p, j]

    return exact


def gemm_rows_tn(a, b, c, beta):  # pragma: no cover - only called from compiled code
    """c = a.T @ b + beta * c for row-major 2-d operands whose rows are contiguous."""
    raise NotImplementedError


@overload(gemm_rows_tn)
def _gemm_rows_tn_ol(a, b, c, beta):
    dt = a.dtype
    if dt in _XXGEMM:
        return _blas_gemm_rows(_XXGEMM[dt], _KIND[dt], transpose_a=True)

    def exact(a, b, c, beta):  # integers: exact products, wrapping like numpy
        k, m = a.shape
        n = b.shape[1]
        if beta == 0:
            for i in range(m):
                for j in range(n):
                    c[i, j] = 0
        for p in range(k):
            for i in range(m):
                av = a[p, i]
                if av != 0:
                    for j in range(n):
                        c[i, j] += av * b[p, j]

    return exact


def gemm_into(a, b, c, off, ldc, beta):  # pragma: no cover - only called from compiled code
    """c[off + i * ldc + j] = (a @ b)[i, j] + beta * c[...] (c flat: a strided block of rows)."""
    raise NotImplementedError


@overload(gemm_into)
def _gemm_into_ol(a, b, c, off, ldc, beta):
    dt = a.dtype
    if dt in _XXGEMM:
        fn, kind = _XXGEMM[dt], _KIND[dt]

        def blas(a, b, c, off, ldc, beta):
            m, k = a.shape
            n = b.shape[1]
            if m == 0 or n == 0:
                return
            isz = a.itemsize
            one = np.ones(1, a.dtype)
            bb = np.full(1, beta, a.dtype)
            fn(kind, ord("n"), ord("n"), n, m, k, one.ctypes, b.ctypes, b.strides[0] // isz,
               a.ctypes, a.strides[0] // isz, bb.ctypes, c[off:].ctypes, ldc)

        return blas

    def exact(a, b, c, off, ldc, beta):
        m, k = a.shape
        n = b.shape[1]
        for i in range(m):
            row = off + i * ldc
            if beta == 0:
                for j in range(n):
                    c[row + j] = 0
            for p in range(k):
                av = a[i, p]
                if av != 0:
                    for j in range(n):
                        c[row + j] += av * b[p, j]

    return exact


def gemm_into_t(a, b, c, off, ldc, beta):  # pragma: no cover - only called from compiled code
    """c[off + j * ldc + i] = (a @ b)[i, j] + beta * c[...]: the product written transposed
    (feature-major output: rows of the result are runs of output positions)."""
    raise NotImplementedError


@overload(gemm_into_t)
def _gemm_into_t_ol(a, b, c, off, ldc, beta):
    dt = a.dtype
    if dt in _XXGEMM:
        fn, kind = _XXGEMM[dt], _KIND[dt]

        def blas(a, b, c, off, ldc, beta):
            m, k = a.shape
            n = b.shape[1]
            if m == 0 or n == 0:
                return
            isz = a.itemsize
            one = np.ones(1, a.dtype)
            bb = np.full(1, beta, a.dtype)
            # column-major C (m x n, ld = ldc) = A B, both stored row-major (read transposed)
            fn(kind, ord("t"), ord("t"), m, n, k, one.ctypes, a.ctypes, a.strides[0] // isz,
               b.ctypes, b.strides[0] // isz, bb.ctypes, c[off:].ctypes, ldc)

        return blas

    def exact(a, b, c, off, ldc, beta):
        m, k = a.shape
        n = b.shape[1]
        for j in range(n):
            for i in range(m):
                acc = c[off + j * ldc + i] * beta
                for p in range(k):
                    acc += a[i, p] * b[p, j]
                c[off + j * ldc + i] = acc

    return exact


# -- the convolution --------------------------------------------------------------------------


@cached_njit(**_opts)
def _span(dims, strides):
    """(offset of the first element from the lowest address, number of elements spanned)."""
    lo = 0
    hi = 0
    for d in range(5):
        if dims[d] == 0:
            return 0, 0
        e = (dims[d] - 1) * strides[d]
        if e < 0:
            lo += e
        else:
            hi += e
    return -lo, hi - lo + 1


@cached_njit(**_opts)
def _canon_strides(dyn, static, which, itemsize):
    """Element strides of operand ``which`` in canonical order (0 for padded unit dims)."""
    out = np.zeros(5, np.int64)
    for d in range(5):
        ax = static[5 + 10 * which + d]
        if ax >= 0:
            out[d] = dyn[3 + 5 * which + ax] // itemsize
    return out


_BLK = 16


@cached_njit(**_opts)
def _copy2d(src, s0, s_r, s_c, dst, d0, d_r, d_c, R, C):
    """dst[d0 + r * d_r + c * d_c] = src[s0 + r * s_r + c * s_c] for an R x C matrix, in
    16 x 16 blocks: a transposing copy with large strides otherwise misses the cache on
    every element."""
    for rb in range(0, R, _BLK):
        re = min(rb + _BLK, R)
        for cb in range(0, C, _BLK):
            ce = min(cb + _BLK, C)
            for r in range(rb, re):
                so = s0 + r * s_r
                do = d0 + r * d_r
                for c in range(cb, ce):
                    dst[do + c * d_c] = src[so + c * s_c]


@cached_njit(**_opts)
def _dim_last(x, x0, xd, xs, lead):
    """A contiguous copy of lhs with canonical dim ``lead`` (0: batch, 1: features) last
    and the other of the two first, and its element strides in canonical order."""
    other = 1 - lead
    N, C, A, B, D = xd[other], xd[lead], xd[2], xd[3], xd[4]
    out = np.empty(N * A * B * D * C, x.dtype)
    for n in range(N):
        for a in range(A):
            for b in range(B):
                _copy2d(x, x0 + n * xs[other] + a * xs[2] + b * xs[3], xs[lead], xs[4],
                        out, (((n * A + a) * B + b) * D) * C, 1, C, C, D)
    st = np.empty(5, np.int64)
    st[other], st[lead], st[2], st[3], st[4] = A * B * D * C, 1, B * D * C, D * C, C
    return out, st


@cached_njit(**_opts)
def _phase_lists(Q, K, ws, pl, ld, rd, S, cls):
    """Output positions q of phase ``cls`` (q * ws = cls mod ld) and the kernel taps t
    that read real (undilated) input for them: (qs, nq, ts, nt)."""
    qs = np.empty(max(Q, 1), np.int64)
    nq = 0
    for q in range(Q):
        if (q * ws) % ld == cls:
            qs[nq] = q
            nq += 1
    ts = np.empty(max(K, 1), np.int64)
    nt = 0
    for t in range(K):
        if (cls + t * rd - pl) % ld == 0:
            ts[nt] = t
            nt += 1
    return qs, nq, ts, nt


@cached_njit(**_opts)
def _conv(x, w, o, dyn, static):
    isz = x.itemsize
    xd = static[0:5]
    wd = static[10:15]
    od = static[20:25]
    xs = _canon_strides(dyn, static, 0, isz)
    wsd = _canon_strides(dyn, static, 1, isz)
    osd = _canon_strides(dyn, static, 2, isz)
    stride = static[30:33]
    pl = static[33:36]
    ld = static[36:39]
    rd = static[39:42]
    G = static[42]
    BG = static[43]
    tile_bytes = static[44]
    k_max = static[45]
    nthreads = static[47]
    par = nthreads > 1
    x0 = _span(xd, xs)[0]
    w0 = _span(wd, wsd)[0]
    o0 = _span(od, osd)[0]
    No, Ot = od[0], od[1]
    Ig = wd[1]
    Og = Ot // (G * BG)
    S = xd[2:5]
    K = wd[2:5]
    Q = od[2:5]
    nq = Q[0] * Q[1] * Q[2]
    nk = K[0] * K[1] * K[2]
    # The kernel gradient of a convolution is a convolution with few outputs per feature
    # (the kernel taps) and a long contraction (the output positions): it is computed
    # with the contraction as the rows of the gathered matrix (_conv_by_taps).
    # Chosen when its gathers read longer runs (the lhs batch; the other one reads runs of
    # input features, the images of the forward pass when this is a kernel gradient) or
    # when it has fewer output rows than contraction rows, and its rows stay short.
    by_taps = (ld[0] == 1 and ld[1] == 1 and ld[2] == 1 and (No > Ig or No * nq < Ig * nk)
               and No * nq <= 8192)
    lead = 0 if by_taps else 1  # the lhs dim the gathers read in runs
    if xs[lead] != 1 and xd[lead] > 1:
        x, xs = _dim_last(x, x0, xd, xs, lead)  # one pass over lhs makes the runs contiguous
        x0 = 0
    groups = G * BG
    for gi in range(groups):
        nb = (gi // G) * No if BG > 1 else 0     # first lhs batch element of the group
        cb = (gi % G) * Ig if G > 1 else 0        # first lhs feature of the group
        ob = gi * Og                             # first output feature of the group
        if by_taps:
            _conv_by_taps(x, w, o, x0, xs, w0, wsd, o0, osd, S, K, Q, Ig, Og, No, nb, cb, ob,
                          stride, pl, rd, tile_bytes, par, nthreads)
            continue
        for c0 in range(ld[0]):
            qs0, nq0, ts0, nt0 = _phase_lists(Q[0], K[0], stride[0], pl[0], ld[0], rd[0], S[0], c0)
            if nq0 == 0:
                continue
            for c1 in range(ld[1]):
                qs1, nq1, ts1, nt1 = _phase_lists(Q[1], K[1], stride[1], pl[1], ld[1], rd[1], S[1], c1)
                if nq1 == 0:
                    continue
                for c2 in range(ld[2]):
                    qs2, nq2, ts2, nt2 = _phase_lists(Q[2], K[2], stride[2], pl[2], ld[2], rd[2],
                                                      S[2], c2)
                    if nq2 == 0:
                        continue
                    _conv_phase(x, w, o, x0, xs, w0, wsd, o0, osd, S, Ig, Og, No, nb, cb, ob,
                                qs0[:nq0], qs1[:nq1], qs2[:nq2], ts0[:nt0], ts1[:nt1], ts2[:nt2],
                                stride, pl, ld, rd, tile_bytes, k_max, par, nthreads,
                                Q[0], Q[1], Q[2], K[2], Ot)


@cached_njit(**_opts)
def _conv_phase(x, w, o, x0, xs, w0, wsd, o0, osd, S, Ig, Og, No, nb, cb, ob,
                qs0, qs1, qs2, ts0, ts1, ts2, stride, pl, ld, rd, tile_bytes, k_max, par, nthreads,
                Q0, Q1, Q2, K2, ldo):
    """One phase of one group: rows (n, q) over the phase's output positions, the
    contraction over its taps and the group's input features."""
    nq0, nq1, nq2 = qs0.shape[0], qs1.shape[0], qs2.shape[0]
    nt0, nt1, nt2 = ts0.shape[0], ts1.shape[0], ts2.shape[0]
    nrows = No * nq0 * nq1 * nq2
    ntaps = nt0 * nt1 * nt2
    dt = x.dtype
    if Og == 0 or nrows == 0:
        return
    if ntaps * Ig == 0:
        _store_zero_rows(o, o0, osd, No, ob, Og, qs0, qs1, qs2)
        return
    # packed kernel: wp[(t, i), o] = w[ob + o, i, t0, t1, t2]
    wp = np.empty((ntaps * Ig, Og), dt)
    wflat = wp.reshape(ntaps * Ig * Og)
    r = 0
    for a in range(nt0):
        for b in range(nt1):
            for c in range(nt2):
                base = w0 + ts0[a] * wsd[2] + ts1[b] * wsd[3] + ts2[c] * wsd[4] + ob * wsd[0]
                _copy2d(w, base, wsd[1], wsd[0], wflat, r * Og, Og, 1, Ig, Og)
                r += Ig
    # input offset of tap t at output position q along each dim (negative: padding)
    p0 = _positions(qs0, ts0, stride[0], pl[0], ld[0], rd[0], S[0], xs[2])
    p1 = _positions(qs1, ts1, stride[1], pl[1], ld[1], rd[1], S[1], xs[3])
    p2 = _positions(qs2, ts2, stride[2], pl[2], ld[2], rd[2], S[2], xs[4])
    # tiles: rows so that a (rows, taps_chunk * Ig) tile of A is about tile_bytes, and
    # rows enough for an efficient gemm; contraction chunks of at most k_max
    taps_chunk = max(1, min(ntaps, k_max // max(Ig, 1)))
    kc = taps_chunk * Ig
    rows = min(nrows, max(256, tile_bytes // max(kc * x.itemsize, 1)))
    if par:  # at least two tiles per thread, for balance
        rows = min(rows, max(64, -(-nrows // (2 * nthreads))))
    nchunks = -(-ntaps // taps_chunk)
    per_n = nq0 * nq1 * nq2
    # output rows (n, q) at a constant stride (all positions, features contiguous): the
    # gemm writes into the output directly
    Ot = ldo  # all output features (the row stride when rows are contiguous)
    direct = osd[1] == 1 and nq0 == Q0 and nq1 == Q1 and nq2 == Q2
    span = Ot
    for d, qd in ((4, Q2), (3, Q1), (2, Q0), (0, No)):
        if qd > 1 and osd[d] != span:
            direct = False
        span *= qd
    # or: the positions of one (image, feature) contiguous (a feature-major layout such
    # as NCHW): the gemm writes the transposed product into the output, tiles by image
    direct_t = not direct and nq0 == Q0 and nq1 == Q1 and nq2 == Q2
    span = 1
    for d, qd in ((4, Q2), (3, Q1), (2, Q0)):
        if qd > 1 and osd[d] != span:
            direct_t = False
        span *= qd
    tiles_per_n = -(-per_n // rows) if direct_t else 0
    # the kernel taps along the last dim read one contiguous run (features contiguous)
    run2 = xs[1] == 1 and ld[2] == 1 and rd[2] * xs[4] == Ig and nt2 == K2
    geom = np.array([r for r in (rows, kc, taps_chunk, ntaps, nrows, Ig, Og, per_n,
                                 nq1, nq2, nt1, nt2, nb, cb, ob, x0, o0, int(direct), Ot,
                                 int(run2), int(direct_t), tiles_per_n)], np.int64)
    ntiles = No * tiles_per_n if direct_t else -(-nrows // rows)
    if par and ntiles > 1:
        _tiles_parallel(x, xs, wp, o, osd, p0, p1, p2, qs0, qs1, qs2, geom, ntiles, nchunks)
    else:
        for tile in range(ntiles):
            _tile(x, xs, wp, o, osd, p0, p1, p2, qs0, qs1, qs2, geom, tile, nchunks)


@cached_njit(nogil=True, error_model="numpy", parallel=True)
def _tiles_parallel(x, xs, wp, o, osd, p0, p1, p2, qs0, qs1, qs2, geom, ntiles, nchunks):
    # each worker's gemm runs on one BLAS thread (see _blas_single)
    for tile in numba.prange(ntiles):
        _tile(x, xs, wp, o, osd, p0, p1, p2, qs0, qs1, qs2, geom, tile, nchunks)


@cached_njit(**_opts)
def _tile(x, xs, wp, o, osd, p0, p1, p2, qs0, qs1, qs2, geom, tile, nchunks):
    """Row tile ``tile``: gather, multiply (over the contraction chunks), scatter."""
    rows, kc, taps_chunk, ntaps, nrows, Ig, Og = (geom[0], geom[1], geom[2], geom[3], geom[4],
                                                  geom[5], geom[6])
    per_n, nq1, nq2, nt1, nt2, nb, cb, x0 = (geom[7], geom[8], geom[9], geom[10], geom[11],
                                             geom[12], geom[13], geom[15])
    direct, Ot, run2, direct_t, tpn = geom[17] != 0, geom[18], geom[19] != 0, geom[20] != 0, geom[21]
    if direct_t:  # tiles within one image
        n = tile // tpn
        j0 = (tile - n * tpn) * rows
        r0 = n * per_n + j0
        m = min(rows, per_n - j0)
        off_t = geom[16] + n * osd[0] + geom[14] * osd[1] + j0
    else:
        r0 = tile * rows
        m = min(rows, nrows - r0)
        off_t = 0
    A = np.empty((m, kc), x.dtype)
    Cb = np.empty((1 if direct or direct_t else m, Og), x.dtype)
    for ch in range(nchunks):
        t0 = ch * taps_chunk
        nt = min(taps_chunk, ntaps - t0)
        _gather(x, x0, xs, A, r0, m, t0, nt, Ig, per_n, nq1, nq2, nt1, nt2, nb, cb, p0, p1, p2,
                run2)
        beta = 0 if ch == 0 else 1
        if direct:
            gemm_into(A[:, :nt * Ig], wp[t0 * Ig:(t0 + nt) * Ig], o, geom[16] + geom[14] + r0 * Ot,
                      Ot, beta)
        elif direct_t:
            gemm_into_t(A[:, :nt * Ig], wp[t0 * Ig:(t0 + nt) * Ig], o, off_t, osd[1], beta)
        else:
            gemm_rows(A[:, :nt * Ig], wp[t0 * Ig:(t0 + nt) * Ig], Cb, beta)
    if not (direct or direct_t):
        _scatter(o, osd, Cb, r0, m, geom, qs0, qs1, qs2)


@cached_njit(nogil=True, error_model="numpy", parallel=True)
def _taps_parallel(x, xs, w, wsd, p0, p1, p2, geom, accs):
    for share in numba.prange(accs.shape[0]):
        _taps_share(x, xs, w, wsd, p0, p1, p2, geom, accs, share)


@cached_njit(**_opts)
def _taps_share(x, xs, w, wsd, p0, p1, p2, geom, accs, share):
    """Contraction share ``share`` of ``_conv_by_taps`` into ``accs[share]``."""
    rows, total, nk, K0, K1, K2, Q0, Q1, Q2, No, nb, cb, ob, x0, w0, Og, nblk, shares = (
        geom[0], geom[1], geom[2], geom[3], geom[4], geom[5], geom[6], geom[7], geom[8], geom[9],
        geom[10], geom[11], geom[12], geom[13], geom[14], geom[15], geom[16], geom[17])
    ncols = Q0 * Q1 * Q2 * No
    Bt = np.empty((rows, ncols), x.dtype)
    R = np.empty((rows, Og), x.dtype)
    acc = accs[share]
    sB = xs[0]
    first = True
    for blk in range((share * nblk) // shares, ((share + 1) * nblk) // shares):
        r0 = blk * rows
        m = min(rows, total - r0)
        i = r0 // nk
        k = r0 - i * nk
        ka = k // (K1 * K2)
        kb = (k // K2) % K1
        kc = k % K2
        for rr in range(m):
            base = x0 + nb * sB + (cb + i) * xs[1]
            col = 0
            for a in range(Q0):
                for b in range(Q1):
                    for c in range(Q2):
                        src = base + p0[ka, a] + p1[kb, b] + p2[kc, c]
                        if src < 0:
                            for n in range(No):
                                Bt[rr, col + n] = 0
                        elif sB == 1:
                            for n in range(No):
                                Bt[rr, col + n] = x[src + n]
                        else:
                            for n in range(No):
                                Bt[rr, col + n] = x[src + n * sB]
                        col += No
            wbase = w0 + ob * wsd[0] + i * wsd[1] + ka * wsd[2] + kb * wsd[3] + kc * wsd[4]
            for oo in range(Og):
                R[rr, oo] = w[wbase + oo * wsd[0]]
            kc += 1
            if kc == K2:
                kc = 0
                kb += 1
                if kb == K1:
                    kb = 0
                    ka += 1
                    if ka == K0:
                        ka = 0
                        i += 1
        gemm_rows_tn(Bt[:m], R[:m], acc, 0 if first else 1)
        first = False


@cached_njit(**_opts)
def _conv_by_taps(x, w, o, x0, xs, w0, wsd, o0, osd, S, K, Q, Ig, Og, No, nb, cb, ob,
                  stride, pl, rd, tile_bytes, par, nthreads):
    """One group without lhs dilation, the contraction as the rows of the gathered
    matrix: ``B[(i, k), (q, b)] = lhs[nb + b, cb + i, q * stride + k * rd - pad]`` (runs
    over the lhs batch b), ``acc[(q, b), o] += B^T @ R`` with ``R[(i, k), o] = w[ob + o,
    i, k]``, by tiles of contraction rows."""
    dt = x.dtype
    nq = Q[0] * Q[1] * Q[2]
    nk = K[0] * K[1] * K[2]
    ncols = nq * No
    if Og == 0 or ncols == 0:
        return
    # offset along each dim of kernel position k at output position q: [k, q]
    p0 = _positions(np.arange(K[0]), np.arange(Q[0]), rd[0], pl[0], 1, stride[0], S[0], xs[2])
    p1 = _positions(np.arange(K[1]), np.arange(Q[1]), rd[1], pl[1], 1, stride[1], S[1], xs[3])
    p2 = _positions(np.arange(K[2]), np.arange(Q[2]), rd[2], pl[2], 1, stride[2], S[2], xs[4])
    total = Ig * nk
    rows = min(total, max(64, tile_bytes // max(ncols * x.itemsize, 1)))
    nblk = -(-total // rows)
    shares = min(nthreads, nblk) if par else 1
    accs = np.zeros((shares, ncols, Og), dt)
    geom = np.array([rows, total, nk, K[0], K[1], K[2], Q[0], Q[1], Q[2], No, nb, cb, ob, x0, w0,
                     Og, nblk, shares], np.int64)
    if shares > 1:
        _taps_parallel(x, xs, w, wsd, p0, p1, p2, geom, accs)
    else:
        _taps_share(x, xs, w, wsd, p0, p1, p2, geom, accs, 0)
    acc = accs[0]
    for j in range(1, shares):
        acc += accs[j]
    # acc[(q, b), o] -> out[b, ob + o, q]
    s1 = osd[1]
    for a in range(Q[0]):
        for b in range(Q[1]):
            for c in range(Q[2]):
                row = ((a * Q[1] + b) * Q[2] + c) * No
                for n in range(No):
                    base = o0 + n * osd[0] + a * osd[2] + b * osd[3] + c * osd[4] + ob * s1
                    for oo in range(Og):
                        o[base + oo * s1] = acc[row + n, oo]


@cached_njit(**_opts)
def _scatter(o, osd, Cb, r0, m, geom, qs0, qs1, qs2):
    """The rows r0 .. r0 + m of the result (rows (n, q) of one group) into ``o``."""
    Og, per_n, nq1, nq2, ob, o0 = geom[6], geom[7], geom[8], geom[9], geom[14], geom[16]
    s1 = osd[1]
    base = np.empty(m, np.int64)
    for rr in range(m):
        row = r0 + rr
        n = row // per_n
        q = row - n * per_n
        a = q // (nq1 * nq2)
        b = (q // nq2) % nq1
        c = q % nq2
        base[rr] = o0 + n * osd[0] + qs0[a] * osd[2] + qs1[b] * osd[3] + qs2[c] * osd[4] + ob * s1
    if s1 == 1:
        for rr in range(m):
            for oo in range(Og):
                o[base[rr] + oo] = Cb[rr, oo]
        return
    for ob_ in range(0, Og, _BLK):  # blocked: one sequential write stream per feature
        oe = min(ob_ + _BLK, Og)
        for rr in range(m):
            for oo in range(ob_, oe):
                o[base[rr] + oo * s1] = Cb[rr, oo]


_INVALID = -(1 << 60)


@cached_njit(**_opts)
def _positions(qs, ts, stride, pl, ld, rd, S, xstride):
    """Element offset (input index * ``xstride``) of tap t at output position q along one
    dim, or a large negative number where the window reads padding or a dilation hole
    (so that the sum over the dims is negative exactly when any dim is outside)."""
    out = np.empty((qs.shape[0], max(ts.shape[0], 1)), np.int64)
    for a in range(qs.shape[0]):
        for b in range(ts.shape[0]):
            p = qs[a] * stride + ts[b] * rd - pl
            out[a, b] = _INVALID
            if p >= 0:
                s = p // ld
                if s * ld == p and s < S:
                    out[a, b] = s * xstride
    return out


@cached_njit(**_opts)
def _gather(x, x0, xs, A, r0, m, t0, nt, Ig, per_n, nq1, nq2, nt1, nt2, nb, cb, p0, p1, p2,
            run2):
    """A[rr, (t - t0) * Ig + i] = x[nb + n, cb + i, position of tap t at row r0 + rr] (0 in
    the padding) for the rows r0 .. r0 + m and the taps t0 .. t0 + nt. Row and tap
    indices are carried as counters (no divisions in the loops). With ``run2`` the taps
    along the last dim are one contiguous run of the input (channels-last, unit step):
    copied at once when all of them are inside."""
    sN, sC = xs[0], xs[1]
    n = r0 // per_n
    q = r0 - n * per_n
    a = q // (nq1 * nq2)
    b = (q // nq2) % nq1
    c = q % nq2
    ta0 = t0 // (nt1 * nt2)
    tb0 = (t0 // nt2) % nt1
    tc0 = t0 % nt2
    for rr in range(m):
        nbase = x0 + (nb + n) * sN + cb * sC
        ta, tb, tc = ta0, tb0, tc0
        col = 0
        t = 0
        while t < nt:
            if run2 and tc == 0 and t + nt2 <= nt:
                src = nbase + p0[a, ta] + p1[b, tb] + p2[c, 0]
                last = nbase + p0[a, ta] + p1[b, tb] + p2[c, nt2 - 1]
                if src >= 0 and last >= 0:
                    for i in range(nt2 * Ig):
                        A[rr, col + i] = x[src + i]
                    col += nt2 * Ig
                    t += nt2
                    tb += 1
                    if tb == nt1:
                        tb = 0
                        ta += 1
                    continue
            t += 1
            src = nbase + p0[a, ta] + p1[b, tb] + p2[c, tc]
            if src < 0:
                for i in range(Ig):
                    A[rr, col + i] = 0
            elif sC == 1:
                for i in range(Ig):
                    A[rr, col + i] = x[src + i]
            else:
                for i in range(Ig):
                    A[rr, col + i] = x[src + i * sC]
            col += Ig
            tc += 1
            if tc == nt2:
                tc = 0
                tb += 1
                if tb == nt1:
                    tb = 0
                    ta += 1
        c += 1
        if c == nq2:
            c = 0
            b += 1
            if b == nq1:
                b = 0
                a += 1
                if a * nq1 * nq2 == per_n:
                    a = 0
                    n += 1


@cached_njit(**_opts)
def _store_zero_rows(o, o0, osd, No, ob, Og, qs0, qs1, qs2):
    for n in range(No):
        for a in range(qs0.shape[0]):
            for b in range(qs1.shape[0]):
                for c in range(qs2.shape[0]):
                    base = o0 + n * osd[0] + qs0[a] * osd[2] + qs1[b] * osd[3] + qs2[c] * osd[4]
                    for oo in range(Og):
                        o[base + (ob + oo) * osd[1]] = 0


@cached_njit(**_opts)
def _flat(addr, dims, strides, dtype_like):
    start, n = _span(dims, strides)
    return numba.carray(_voidptr(addr - start * dtype_like.itemsize), (max(n, 1),),
                        dtype_like.dtype)


def _entry_impl(dyn_p, static_p, like):  # pragma: no cover - compiled into the cfuncs
    dyn = numba.carray(dyn_p, (DYN_LEN,))
    static = numba.carray(static_p, (STATIC_LEN,))
    region_threads()  # the tiles' prange: xform_num_threads / the free cores (threads.py)
    single = static[46] != 0
    if single:
        _blas_single(static[46], static[48], static[49], True)
    isz = like.itemsize
    xs = _canon_strides(dyn, static, 0, isz)
    ws = _canon_strides(dyn, static, 1, isz)
    os_ = _canon_strides(dyn, static, 2, isz)
    x = _flat(dyn[0], static[0:5], xs, like)
    w = _flat(dyn[1], static[10:15], ws, like)
    o = _flat(dyn[2], static[20:25], os_, like)
    _conv(x, w, o, dyn, static)
    if single:
        _blas_single(static[46], static[48], static[49], False)


STATIC_LEN = 50
_entry = cached_njit(**_opts)(_entry_impl)
_CSIG = types.void(types.CPointer(types.int64), types.CPointer(types.int64))
_LIKE = {np.dtype(np.float32): np.zeros(1, np.float32), np.dtype(np.float64): np.zeros(1, np.float64),
         np.dtype(np.int64): np.zeros(1, np.int64)}


# One cfunc per dtype, each a module-level function so that it can be cached on disk
# (complex convolutions are four real ones: see conv.py; other integers go through int64).
def _conv_f32(dyn, static):  # pragma: no cover - compiled
    _entry(dyn, static, _LIKE_F32)


def _conv_f64(dyn, static):  # pragma: no cover - compiled
    _entry(dyn, static, _LIKE_F64)


def _conv_i64(dyn, static):  # pragma: no cover - compiled
    _entry(dyn, static, _LIKE_I64)


_LIKE_F32 = _LIKE[np.dtype(np.float32)]
_LIKE_F64 = _LIKE[np.dtype(np.float64)]
_LIKE_I64 = _LIKE[np.dtype(np.int64)]
_PY = {np.dtype(np.float32): _conv_f32, np.dtype(np.float64): _conv_f64,
       np.dtype(np.int64): _conv_i64}
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def _cfunc(dtype):
    with _LOCK:
        # numba's thread pool registers the symbols parallel code links against: it must
        # run before a kernel with parallel loops is loaded from the disk cache
        from numba.np.ufunc.parallel import _launch_threads

        _launch_threads()
        return cached_cfunc(_CSIG, nopython=True)(_PY[np.dtype(dtype)])


_BLAS_STATE = _threads.STATE  # shared with every BLAS call of kernels (see _blas_single)


def _blas_thread_functions() -> tuple:
    """(get, set) addresses of the thread-count functions of the BLAS library that
    numba's BLAS calls use (scipy's; found by ``threads.py``), or (0, 0) when it has no
    per-call switch (convolutions then run their tiles one after another, each gemm on
    all of BLAS's threads)."""
    _threads.ensure_ready()
    st = _threads.STATE
    if not st[_threads.ENABLED]:
        return 0, 0
    return int(st[_threads.GET]), int(st[_threads.SET])


def conv_address(dtype) -> int:
    """The address of the convolution kernel for ``dtype`` (float32, float64 or int64;
    compiled, or loaded from the disk cache, on first use)."""
    return _cfunc(np.dtype(dtype)).address


def _tile_bytes() -> int:
    return int(os.environ.get("XFORM_CONV_TILE_BYTES", 1 << 20))


def _k_max() -> int:
    return int(os.environ.get("XFORM_CONV_K_MAX", 2048))


def static_block(lhs_dims, lhs_axes, rhs_dims, rhs_axes, out_dims, out_axes, strides, pad_lo,
                 lhs_dil, rhs_dil, feature_groups, batch_groups) -> np.ndarray:
    """The ``static`` int64 block of a convolution (canonical dims and axis maps, padded
    to three spatial dims; see the module docstring)."""
    blk = np.zeros(STATIC_LEN, np.int64)
    for j, (dims, axes) in enumerate(((lhs_dims, lhs_axes), (rhs_dims, rhs_axes),
                                      (out_dims, out_axes))):
        blk[10 * j:10 * j + 5] = dims
        blk[10 * j + 5:10 * j + 10] = axes
    blk[30:33], blk[33:36], blk[36:39], blk[39:42] = strides, pad_lo, lhs_dil, rhs_dil
    blk[42], blk[43] = feature_groups, batch_groups
    blk[44], blk[45] = _tile_bytes(), _k_max()
    from ... import config

    get, set_ = _blas_thread_functions()
    found = get != 0 and set_ != 0
    threads = min(_conv_threads(), numba.get_num_threads()) if config.parallel() and found else 1
    blk[46], blk[47] = (_BLAS_STATE.ctypes.data if found else 0), threads
    blk[48], blk[49] = get, set_
    return blk


def _conv_threads() -> int:
    """``XFORM_CONV_THREADS`` (default: numba's thread count): the threads running a
    convolution's tiles, each gemm on one BLAS thread. On an idle machine all cores are
    fastest (2 cores: 1.7-1.9x one); with another process busy on the cores, numba's
    OpenMP workers spin-wait for the slowest one and 1 can be faster."""
    v = os.environ.get("XFORM_CONV_THREADS", "")
    return max(1, int(v)) if v else numba.get_num_threads()
