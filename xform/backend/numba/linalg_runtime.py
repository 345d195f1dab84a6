"""LAPACK inside compiled kernels: batched helpers that generated kernels call.

The routines are scipy's ``cython_lapack`` / ``cython_blas`` functions (the LAPACK
scipy ships), called by symbol from Numba code: each address is registered with LLVM
once per process (``llvmlite.binding.add_symbol``) under an ``xform_`` name and
declared as a ``numba.types.ExternalFunction``. Calls by symbol name (unlike ctypes
function pointers, whose addresses would be baked into the machine code) keep the
helpers (``cache.cached_njit``) and the kernels that use them cacheable on disk: the
symbol is resolved when the cached code is loaded, after this module registered it. Numba's own
``np.linalg`` is not used because it raises on failures (the primitives give NaNs, as
JAX) and has no triangular solve or complete QR.

Row-major trick: a C-contiguous ``m x n`` matrix is, to LAPACK (column-major), its
``n x m`` transpose. Cholesky, triangular solves and the SVD are computed on that
transpose directly (no copy; the formulas are at each helper); LU, QR and the general
eigenproblem transpose-copy their input.

Every helper takes C-contiguous stacks ``(batch, m, n)`` and loops over the batch.
Failed factorizations (LAPACK ``info > 0``) give NaNs in that matrix's results.
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import binding as _llvm
from numba.core import cgutils, types
from numba.extending import get_cython_function_address, intrinsic, overload

from ..platform import preload_cython_blas
from .cache import cached_njit
from .runtime import blas_enter, blas_exit  # the BLAS thread policy around LAPACK calls

preload_cython_blas()


def _lapack_int():
    """The Fortran integer of scipy's bindings (64-bit only in ILP64 builds)."""
    try:
        from scipy.__config__ import CONFIG

        ilp64 = bool(CONFIG["Build Dependencies"]["blas"].get("cython blas ilp64", False))
    except (ImportError, KeyError, TypeError, AttributeError):
        ilp64 = False
    return (types.int64, np.int64) if ilp64 else (types.int32, np.int32)


_FINT, _NPINT = _lapack_int()
_PREFIX = {types.float32: "s", types.float64: "d", types.complex64: "c", types.complex128: "z"}
_REAL = {types.float32: types.float32, types.float64: types.float64,
         types.complex64: types.float32, types.complex128: types.float64}

# argument kinds: c char*, i int*, A dtype*, R real dtype*, I int* (arrays or scalars)
_SIGNATURES = {
    "potrf": "ciAii", "trsm": "cccciiAAiAi", "getrf": "iiAiIi", "geqrf": "iiAiAAii",
    "syrk": "cciiAAiAAi", "gemm": "cciiiAAiAiAAi",  # BLAS, as trsm (the rest: LAPACK)
    "orgqr": "iiiAiAAii", "ungqr": "iiiAiAAii", "geqp3_real": "iiAiIAAii",
    "geqp3_complex": "iiAiIAAiRi",
    "syevd": "cciAiRRiIii", "heevd": "cciAiRAiRiIii",
    "gesdd_real": "ciiAiRAiAiAiIi", "gesdd_complex": "ciiAiRAiAiAiRIi",
    "geev_real": "cciAiRRAiAiAii", "geev_complex": "cciAiAAiAiAiRi",
}
_FUNCTIONS: dict = {}


def _external(routine: str, dtype):
    """The ExternalFunction of ``routine`` (e.g. "potrf") for a numba dtype."""
    key = (routine, dtype)
    fn = _FUNCTIONS.get(key)
    if fn is not None:
        return fn
    kinds = _SIGNATURES[routine]
    name = _PREFIX[dtype] + routine.split("_")[0]
    ptr = {"c": types.CPointer(types.int8), "i": types.CPointer(_FINT),
           "A": types.CPointer(dtype), "R": types.CPointer(_REAL[dtype]),
           "I": types.CPointer(_FINT)}
    module = ("scipy.linalg.cython_blas" if routine in ("trsm", "syrk", "gemm")
              else "scipy.linalg.cython_lapack")
    symbol = "xform_" + name
    _llvm.add_symbol(symbol, get_cython_function_address(module, name))
    fn = _FUNCTIONS[key] = types.ExternalFunction(symbol, types.void(*[ptr[k] for k in kinds]))
    return fn


def _register_all():
    # Symbols must exist before a cached kernel that calls them is loaded.
    for routine in _SIGNATURES:
        cplx = routine in ("ungqr", "heevd") or routine.endswith("_complex")
        real = routine in ("orgqr", "syevd") or routine.endswith("_real")
        for dt in _PREFIX:
            if (cplx and dt in (types.float32, types.float64)) or (
                    real and dt in (types.complex64, types.complex128)):
                continue
            _external(routine, dt)


_register_all()


@intrinsic
def _ref(typingctx, value):
    """A pointer to a stack copy of a scalar (Fortran passes every argument by address)."""

    def codegen(context, builder, sig, args):
        return cgutils.alloca_once_value(builder, args[0])

    return types.CPointer(value)(value), codegen


@numba.njit(inline="always")
def _ch(c):
    return np.int8(ord(c))


@numba.njit(inline="always")
def _fi(n):
    return _NPINT(n)


# -- per-dtype dispatch: functions overloaded on the dtype of their matrix argument ----------


def _matrix_dtype(args):
    """The dtype of the first float/complex array argument (``x.ctypes``)."""
    for a in args:
        if isinstance(a, types.ArrayCTypes) and a.dtype in _PREFIX:
            return a.dtype
    raise TypeError("linalg_runtime: no float or complex array argument")


def _dispatch(routine: str):
    """An njit-callable calling the LAPACK ``routine`` for its arguments' dtype."""

    def fn(*args):  # pragma: no cover - only called from compiled code
        raise NotImplementedError

    @overload(fn)
    def _ol(*args):
        ext = _external(routine, _matrix_dtype(args))

        def impl(*args):
            ext(*args)

        return impl

    return fn


_cplx = frozenset({types.complex64, types.complex128})
_potrf = _dispatch("potrf")
_trsm = _dispatch("trsm")
_syrk = _dispatch("syrk")
_gemm = _dispatch("gemm")
_getrf = _dispatch("getrf")
_geqrf = _dispatch("geqrf")


def _orgqr(m, n, k, a, lda, tau, work, lwork, info):  # pragma: no cover - compiled only
    raise NotImplementedError


@overload(_orgqr)
def _orgqr_ol(m, n, k, a, lda, tau, work, lwork, info):
    ext = _external("ungqr" if a.dtype in _cplx else "orgqr", a.dtype)
    return lambda m, n, k, a, lda, tau, work, lwork, info: ext(m, n, k, a, lda, tau, work,
                                                               lwork, info)


def _qp3(m, n, a, lda, jpvt, tau, work, lwork, rwork, info):  # pragma: no cover
    raise NotImplementedError


@overload(_qp3)
def _qp3_ol(m, n, a, lda, jpvt, tau, work, lwork, rwork, info):
    if a.dtype in _cplx:
        ext = _external("geqp3_complex", a.dtype)

        def impl(m, n, a, lda, jpvt, tau, work, lwork, rwork, info):
            ext(m, n, a, lda, jpvt, tau, work, lwork, rwork, info)
    else:  # the real routine has no real workspace
        ext = _external("geqp3_real", a.dtype)

        def impl(m, n, a, lda, jpvt, tau, work, lwork, rwork, info):
            ext(m, n, a, lda, jpvt, tau, work, lwork, info)
    return impl


def _evd(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info):  # pragma: no cover
    raise NotImplementedError


@overload(_evd)
def _evd_ol(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info):
    if a.dtype in _cplx:
        ext = _external("heevd", a.dtype)

        def impl(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info):
            ext(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info)
    else:  # syevd has no complex workspace: its work array is the real one
        ext = _external("syevd", a.dtype)

        def impl(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info):
            ext(jobz, uplo, n, a, lda, w, rwork, lwork, iwork, liwork, info)
    return impl


def _sdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info):  # pragma: no cover
    raise NotImplementedError


@overload(_sdd)
def _sdd_ol(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info):
    if a.dtype in _cplx:
        ext = _external("gesdd_complex", a.dtype)

        def impl(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info):
            ext(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info)
    else:
        ext = _external("gesdd_real", a.dtype)

        def impl(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info):
            ext(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info)
    return impl


def _ev(jobvl, jobvr, n, a, lda, wr, wi, wc, vl, ldvl, vr, ldvr, work, lwork, rwork,
        info):  # pragma: no cover
    raise NotImplementedError


@overload(_ev)
def _ev_ol(jobvl, jobvr, n, a, lda, wr, wi, wc, vl, ldvl, vr, ldvr, work, lwork, rwork, info):
    if a.dtype in _cplx:
        ext = _external("geev_complex", a.dtype)

        def impl(jobvl, jobvr, n, a, lda, wr, wi, wc, vl, ldvl, vr, ldvr, work, lwork, rwork,
                 info):
            ext(jobvl, jobvr, n, a, lda, wc, vl, ldvl, vr, ldvr, work, lwork, rwork, info)
    else:
        ext = _external("geev_real", a.dtype)

        def impl(jobvl, jobvr, n, a, lda, wr, wi, wc, vl, ldvl, vr, ldvr, work, lwork, rwork,
                 info):
            ext(jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info)
    return impl


_opts = dict(nogil=True, error_model="numpy")


def _is_complex(x):  # pragma: no cover - only called from compiled code
    raise NotImplementedError


@overload(_is_complex, inline="always")
def _is_complex_ol(x):
    c = isinstance(x.dtype, types.Complex)
    return lambda x: c


def _real_dtype(x):  # pragma: no cover - only called from compiled code
    raise NotImplementedError


@overload(_real_dtype, inline="always")
def _real_dtype_ol(x):
    rd = np.dtype(str(_REAL[x.dtype]))
    return lambda x: rd


def _complex_dtype(x):  # pragma: no cover - only called from compiled code
    raise NotImplementedError


@overload(_complex_dtype, inline="always")
def _complex_dtype_ol(x):
    cd = np.result_type(np.dtype(str(x.dtype)), np.complex64)
    return lambda x: cd


@numba.njit(inline="always")
def _ld(n):
    return _fi(max(1, n))


@numba.njit(inline="always")
def _lwork(work):
    """The optimal workspace size a LAPACK query (lwork = -1) wrote in work[0]."""
    return max(1, int(work[0].real))


@cached_njit(**_opts)
def _fill_nan(x):
    for i in range(x.size):
        x.flat[i] = np.nan


# -- Cholesky: LAPACK's upper factor U of the transpose A^T is L^T, i.e. L in row-major -------

_TILE = 64  # tiles for transposing copies: both sides stay in cache


@cached_njit(**_opts)
def _symmetrized_lower(a, out):
    """out[i, j] = (a[i, j] + conj(a[j, i])) / 2 on and below the diagonal, in tiles
    (a row-by-row loop would read a's columns with a stride of n: a cache miss each)."""
    n = a.shape[0]
    for i0 in range(0, n, _TILE):
        for j0 in range(0, i0 + 1, _TILE):
            for i in range(i0, min(i0 + _TILE, n)):
                for j in range(j0, min(j0 + _TILE, i + 1)):
                    out[i, j] = (a[i, j] + np.conj(a[j, i])) * 0.5


@cached_njit(**_opts)
def _transpose_into(src, dst):
    """dst[j, i] = src[i, j] in tiles (dst is a column-major LAPACK buffer)."""
    m, n = src.shape
    for i0 in range(0, m, _TILE):
        for j0 in range(0, n, _TILE):
            for j in range(j0, min(j0 + _TILE, n)):
                for i in range(i0, min(i0 + _TILE, m)):
                    dst[j, i] = src[i, j]


@cached_njit(**_opts)
def cholesky_lower(a, symmetrize_input):
    """Lower Cholesky factors of (B, n, n) Hermitian matrices: of their lower triangles,
    or with ``symmetrize_input`` of (a + a^H) / 2."""
    n = a.shape[1]
    out = np.empty_like(a) if symmetrize_input else a.copy()
    info = np.zeros(1, _NPINT)
    blas_enter(n * n * n)
    for b in range(a.shape[0]):
        m = out[b]
        if symmetrize_input:
            _symmetrized_lower(a[b], m)
        _potrf(_ref(_ch("U")), _ref(_fi(n)), m.ctypes, _ref(_ld(n)), info.ctypes)
        if info[0] != 0:
            _fill_nan(m)
            continue
        for i in range(n):
            for j in range(i + 1, n):
                m[i, j] = 0
    blas_exit()
    return out


# -- symmetric products (dot_general of an operand with itself) -------------------------------

@cached_njit(**_opts)
def syrk(a, rows):
    """``a @ a.T`` of a C-contiguous (m, k) ``a`` (``rows``), else ``a.T @ a`` of a (k, m)
    ``a``, by BLAS syrk: half the multiply-adds of a general product; the triangle syrk
    leaves is mirrored. Column-major, the stored ``a`` is ``a.T``: ``a @ a.T`` is
    ``A_c^T A_c`` (trans T) and ``a.T @ a`` is ``A_c A_c^T`` (trans N); the result is
    symmetric, so its layout does not matter, and syrk's upper triangle is the lower
    one in row-major order."""
    if rows:
        m, k = a.shape
    else:
        k, m = a.shape
    c = np.empty((m, m), a.dtype)
    alpha = np.ones(1, a.dtype)
    beta = np.zeros(1, a.dtype)
    trans = _ch("T") if rows else _ch("N")
    blas_enter((m * m * k) // 2)
    _syrk(_ref(_ch("U")), _ref(trans), _ref(_fi(m)), _ref(_fi(k)), alpha.ctypes, a.ctypes,
          _ref(_ld(k if rows else m)), beta.ctypes, c.ctypes, _ref(_ld(m)))
    blas_exit()
    for i in range(m):
        for j in range(i + 1, m):
            c[i, j] = c[j, i]
    return c


# -- general products ------------------------------------------------------------------------

@cached_njit(**_opts)
def gemm(a, a_t, b, b_t):
    """``op(a) @ op(b)`` of C-contiguous 2-d ``a`` and ``b``, where ``op`` transposes when
    the flag (an int64, not a literal: one compiled signature per dtype) is nonzero, by
    BLAS gemm: the transpose is BLAS's flag, never a copy. Column-major, the stored
    arrays are the transposes, so the product computed is ``C^T = op(b)^T op(a)^T``:
    ``b`` comes first, each with the transpose code its own flag gives. Numba's
    ``np.dot`` compiles once per operand layout (C or F), ~0.4 s each."""
    if not a.flags.c_contiguous:  # (the lowering passes C-contiguous bases)
        a = a.copy()
    if not b.flags.c_contiguous:
        b = b.copy()
    if a_t:
        k, m = a.shape
    else:
        m, k = a.shape
    n = b.shape[0] if b_t else b.shape[1]
    c = np.empty((m, n), a.dtype)
    if m == 0 or n == 0:
        return c
    if k == 0:
        c[:] = 0
        return c
    alpha = np.ones(1, a.dtype)
    beta = np.zeros(1, a.dtype)
    ta = _ch("T") if a_t else _ch("N")
    tb = _ch("T") if b_t else _ch("N")
    blas_enter(m * n * k)
    _gemm(_ref(tb), _ref(ta), _ref(_fi(n)), _ref(_fi(m)), _ref(_fi(k)), alpha.ctypes, b.ctypes,
          _ref(_ld(k if b_t else n)), a.ctypes, _ref(_ld(m if a_t else k)), beta.ctypes,
          c.ctypes, _ref(_ld(n)))
    blas_exit()
    return c


# -- triangular solves ---------------------------------------------------------------------

@cached_njit(**_opts)
def triangular_solve(a, b, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    """``op(a) x = b`` (left) or ``x op(a) = b`` for (B, k, k) ``a`` and (B, m, n) ``b``.
    Column-major, ``x^T op(a)^T = b^T`` with ``a^T`` the stored matrix: the side and the
    triangle flip while the transpose code stays (N: op(a)^T = A_c, T: = A_c^T,
    C: = A_c^H); conjugation without transposition conjugates a copy of ``a``."""
    x = b.copy()
    if conjugate_a and not transpose_a and _is_complex(a):
        a = np.conj(a)
    m, n = b.shape[1], b.shape[2]
    k = a.shape[1]
    if x.size == 0:
        return x
    side = _ch("R") if left_side else _ch("L")
    uplo = _ch("U") if lower else _ch("L")
    trans = (_ch("C") if conjugate_a else _ch("T")) if transpose_a else _ch("N")
    diag = _ch("U") if unit_diagonal else _ch("N")
    alpha = np.ones(1, a.dtype)
    blas_enter(k * m * n)
    for i in range(b.shape[0]):
        _trsm(_ref(side), _ref(uplo), _ref(trans), _ref(diag), _ref(_fi(n)), _ref(_fi(m)),
              alpha.ctypes, a[i].ctypes, _ref(_ld(k)), x[i].ctypes, _ref(_ld(n)))
    blas_exit()
    return x


# -- LU ------------------------------------------------------------------------------------

@cached_njit(**_opts)
def pivots_to_permutation(piv, size):
    """(B, k) 0-based pivots -> (B, size) int32 permutations."""
    out = np.empty((piv.shape[0], size), np.int32)
    for b in range(piv.shape[0]):
        for i in range(size):
            out[b, i] = i
        for i in range(piv.shape[1]):
            p = piv[b, i]
            t = out[b, i]
            out[b, i] = out[b, p]
            out[b, p] = t
    return out


@cached_njit(**_opts)
def lu(a):
    """getrf of (B, m, n) matrices: (packed lu, int32 pivots (B, k), permutation (B, m))."""
    nb, m, n = a.shape
    k = min(m, n)
    out = np.empty_like(a)
    piv = np.empty((nb, k), np.int32)
    buf = np.empty((n, m), a.dtype)  # column-major m x n
    ipiv = np.empty(max(1, k), _NPINT)
    info = np.zeros(1, _NPINT)
    blas_enter(m * n * k)
    for b in range(nb):
        _transpose_into(a[b], buf)
        _getrf(_ref(_fi(m)), _ref(_fi(n)), buf.ctypes, _ref(_ld(m)), ipiv.ctypes, info.ctypes)
        # info > 0 (a zero pivot) is no failure: the factors are exact
        _transpose_into(buf, out[b])
        for i in range(k):
            piv[b, i] = ipiv[i] - 1
    blas_exit()
    return out, piv, pivots_to_permutation(piv, m)


# -- QR ------------------------------------------------------------------------------------

@cached_njit(**_opts)
def _householder_work(buf, tau, jpvt, rwork, info, m, n, pivoting):
    """The workspace size geqrf (geqp3 with ``pivoting``) asks for."""
    work = np.empty(1, buf.dtype)
    if pivoting:
        _qp3(_ref(_fi(m)), _ref(_fi(n)), buf.ctypes, _ref(_ld(m)), jpvt.ctypes, tau.ctypes,
             work.ctypes, _ref(_fi(-1)), rwork.ctypes, info.ctypes)
    else:
        _geqrf(_ref(_fi(m)), _ref(_fi(n)), buf.ctypes, _ref(_ld(m)), tau.ctypes, work.ctypes,
               _ref(_fi(-1)), info.ctypes)
    return _lwork(work)


@cached_njit(**_opts)
def _householder(buf, tau, jpvt, work, rwork, info, m, n, pivoting):
    """geqrf, or geqp3 with all columns free (``jpvt`` zeroed; on return 1-based), on the
    column-major ``m x n`` matrix in ``buf``."""
    if pivoting:
        for j in range(n):
            jpvt[j] = 0
        _qp3(_ref(_fi(m)), _ref(_fi(n)), buf.ctypes, _ref(_ld(m)), jpvt.ctypes, tau.ctypes,
             work.ctypes, _ref(_fi(work.size)), rwork.ctypes, info.ctypes)
    else:
        _geqrf(_ref(_fi(m)), _ref(_fi(n)), buf.ctypes, _ref(_ld(m)), tau.ctypes, work.ctypes,
               _ref(_fi(work.size)), info.ctypes)


@cached_njit(**_opts)
def qr(a, full_matrices, pivoting):
    """Householder QR of (B, m, n) matrices: q (B, m, kq), r (B, kq, n); kq = m if
    ``full_matrices`` else min(m, n); with ``pivoting`` (geqp3) the 0-based column
    permutation p (B, n) with a[:, p] = q r (else the identity)."""
    nb, m, n = a.shape
    k = min(m, n)
    kq = m if full_matrices else k
    q = np.zeros((nb, m, kq), a.dtype)
    r = np.zeros((nb, kq, n), a.dtype)
    p = np.empty((nb, n), np.int32)
    for b in range(nb):
        for j in range(n):
            p[b, j] = j
    if nb == 0 or m == 0:
        return q, r, p
    buf = np.empty((n, m), a.dtype)  # column-major m x n
    qbuf = np.empty((kq, m), a.dtype)  # column-major m x kq
    tau = np.empty(max(1, k), a.dtype)
    jpvt = np.zeros(max(1, n), _NPINT)
    rwork = np.empty(max(1, 2 * n), _real_dtype(a))
    info = np.zeros(1, _NPINT)
    lw = _householder_work(buf, tau, jpvt, rwork, info, m, n, pivoting)
    work = np.empty(1, a.dtype)
    _orgqr(_ref(_fi(m)), _ref(_fi(kq)), _ref(_fi(k)), qbuf.ctypes, _ref(_ld(m)), tau.ctypes,
           work.ctypes, _ref(_fi(-1)), info.ctypes)
    lw = max(lw, _lwork(work))
    work = np.empty(lw, a.dtype)
    for b in range(nb):
        _transpose_into(a[b], buf)
        _householder(buf, tau, jpvt, work, rwork, info, m, n, pivoting)
        if pivoting:
            for j in range(n):
                p[b, j] = jpvt[j] - 1
        for i in range(k):
            for j in range(i, n):
                r[b, i, j] = buf[j, i]
        for j in range(kq):
            if j < n:
                qbuf[j, :] = buf[j, :]
            else:
                qbuf[j, :] = 0
        if k > 0:
            _orgqr(_ref(_fi(m)), _ref(_fi(kq)), _ref(_fi(k)), qbuf.ctypes, _ref(_ld(m)),
                   tau.ctypes, work.ctypes, _ref(_fi(lw)), info.ctypes)
        else:
            for j in range(kq):
                for i in range(m):
                    qbuf[j, i] = 1 if i == j else 0
        _transpose_into(qbuf, q[b])
    return q, r, p


@cached_njit(**_opts)
def geqrf(a, pivoting):
    """The Householder form of (B, m, n) matrices in their own indexing, tau (B, k) and
    the 0-based column permutation (B, n) (geqp3 with ``pivoting``; else the identity)."""
    nb, m, n = a.shape
    k = min(m, n)
    out = np.empty_like(a)
    tau = np.zeros((nb, k), a.dtype)
    p = np.empty((nb, n), np.int32)
    for b in range(nb):
        for j in range(n):
            p[b, j] = j
    if nb == 0 or m == 0 or n == 0:
        out[...] = a
        return out, tau, p
    buf = np.empty((n, m), a.dtype)
    tb = np.empty(max(1, k), a.dtype)
    jpvt = np.zeros(max(1, n), _NPINT)
    rwork = np.empty(max(1, 2 * n), _real_dtype(a))
    info = np.zeros(1, _NPINT)
    work = np.empty(_householder_work(buf, tb, jpvt, rwork, info, m, n, pivoting), a.dtype)
    for b in range(nb):
        _transpose_into(a[b], buf)
        _householder(buf, tb, jpvt, work, rwork, info, m, n, pivoting)
        _transpose_into(buf, out[b])
        tau[b, :] = tb[:k]
        if pivoting:
            for j in range(n):
                p[b, j] = jpvt[j] - 1
    return out, tau, p


# -- Hermitian eigenproblem -----------------------------------------------------------------

@cached_njit(**_opts)
def eigh(a, lower):
    """Eigenvectors (B, n, n) and ascending eigenvalues (B, n) of Hermitian matrices,
    reading the ``lower`` (or upper) triangle. LAPACK sees A^T = conj(A): its upper
    triangle is A's lower one, and its eigenvectors are the conjugates of A's."""
    nb, n = a.shape[0], a.shape[1]
    rd = _real_dtype(a)
    w = np.empty((nb, n), rd)
    v = np.empty_like(a)
    if nb == 0 or n == 0:
        return v, w
    buf = np.empty((n, n), a.dtype)
    info = np.zeros(1, _NPINT)
    uplo = _ch("U") if lower else _ch("L")
    jobz = _ch("V")
    work = np.empty(1, a.dtype)
    rwork = np.empty(1, rd)
    iwork = np.empty(1, _NPINT)
    _evd(_ref(jobz), _ref(uplo), _ref(_fi(n)), buf.ctypes, _ref(_ld(n)), w[0].ctypes,
         work.ctypes, _ref(_fi(-1)), rwork.ctypes, _ref(_fi(-1)), iwork.ctypes, _ref(_fi(-1)),
         info.ctypes)
    # (the real routine reports its workspace in rwork, the complex one in both)
    lw, lrw, liw = _lwork(work), _lwork(rwork), max(1, int(iwork[0]))
    if not _is_complex(a):
        lw = lrw
    work = np.empty(lw, a.dtype)
    rwork = np.empty(lrw, rd)
    iwork = np.empty(liw, _NPINT)
    blas_enter(n * n * n)
    for b in range(nb):
        buf[:, :] = a[b]
        _evd(_ref(jobz), _ref(uplo), _ref(_fi(n)), buf.ctypes, _ref(_ld(n)), w[b].ctypes,
             work.ctypes, _ref(_fi(lw)), rwork.ctypes, _ref(_fi(lrw)), iwork.ctypes,
             _ref(_fi(liw)), info.ctypes)
        if info[0] != 0:
            _fill_nan(v[b])
            _fill_nan(w[b])
            continue
        _transpose_into(buf, v[b])
        if _is_complex(a):
            v[b] = np.conj(v[b])
    blas_exit()
    return v, w


# -- SVD -----------------------------------------------------------------------------------

@cached_njit(**_opts)
def svd(a, full_matrices, compute_uv):
    """gesdd of (B, m, n) matrices: s (B, k) and, with ``compute_uv``, u (B, m, mu) and
    vh (B, nv, n) (else (B, m, 1) and (B, 1, n) placeholders). LAPACK factors the stored
    transpose, A^T = U1 S V1^H, so A = conj(V1) S U1^T: the buffer LAPACK fills with
    V1^H is u in row-major order, and the one it fills with U1 is vh: no transposition."""
    nb, m, n = a.shape
    k = min(m, n)
    rd = _real_dtype(a)
    mu, nv = (m, n) if full_matrices else (k, k)
    if not compute_uv:
        mu, nv = 1, 1
    s = np.empty((nb, k), rd)
    u = np.zeros((nb, m, mu), a.dtype)
    vh = np.zeros((nb, nv, n), a.dtype)
    if nb == 0:
        return s, u, vh
    if k == 0:
        if compute_uv:
            for b in range(nb):
                for i in range(min(m, mu)):
                    u[b, i, i] = 1
                for i in range(min(n, nv)):
                    vh[b, i, i] = 1
        return s, u, vh
    jobz = (_ch("A") if full_matrices else _ch("S")) if compute_uv else _ch("N")
    buf = np.empty((m, n), a.dtype)
    ub = np.empty((nv, n), a.dtype)  # LAPACK's U1 (column-major n x nv)
    vb = np.empty((m, mu), a.dtype)  # LAPACK's V1^H (column-major mu x m)
    ldu, ldvt = _ld(n), _ld(mu)
    info = np.zeros(1, _NPINT)
    iwork = np.empty(8 * k, _NPINT)
    work = np.empty(1, a.dtype)
    mx = max(m, n)
    lrw = 1
    if _is_complex(a):
        lrw = 7 * k if not compute_uv else max(5 * k * k + 5 * k, 2 * mx * k + 2 * k * k + k)
    rwork = np.empty(lrw, rd)
    _sdd(_ref(jobz), _ref(_fi(n)), _ref(_fi(m)), buf.ctypes, _ref(_ld(n)), s[0].ctypes,
         ub.ctypes, _ref(ldu), vb.ctypes, _ref(ldvt), work.ctypes, _ref(_fi(-1)), rwork.ctypes,
         iwork.ctypes, info.ctypes)
    lw = _lwork(work)
    work = np.empty(lw, a.dtype)
    blas_enter(m * n * k)
    for b in range(nb):
        buf[:, :] = a[b]
        _sdd(_ref(jobz), _ref(_fi(n)), _ref(_fi(m)), buf.ctypes, _ref(_ld(n)), s[b].ctypes,
             ub.ctypes, _ref(ldu), vb.ctypes, _ref(ldvt), work.ctypes, _ref(_fi(lw)),
             rwork.ctypes, iwork.ctypes, info.ctypes)
        if info[0] != 0:
            _fill_nan(s[b])
            _fill_nan(u[b])
            _fill_nan(vh[b])
            continue
        if compute_uv:
            u[b] = vb
            vh[b] = ub
    blas_exit()
    return s, u, vh


# -- general eigenproblem ------------------------------------------------------------------

@cached_njit(**_opts)
def _store_vectors(cplx, wi, src, dst):
    """LAPACK's column-major eigenvectors ``src`` -> complex row-major ``dst``. The real
    routine packs a complex pair j, j+1 as the real and imaginary parts of v_j."""
    n = dst.shape[0]
    j = 0
    while j < n:
        if cplx or wi[j] == 0 or j == n - 1:
            for i in range(n):
                dst[i, j] = src[j, i]
            j += 1
        else:
            for i in range(n):
                re, im = src[j, i].real, src[j + 1, i].real
                dst[i, j] = complex(re, im)
                dst[i, j + 1] = complex(re, -im)
            j += 2


@cached_njit(**_opts)
def eig(a, left, right):
    """geev of (B, n, n) matrices: complex eigenvalues (B, n), left and right
    eigenvectors (B, n, n) (unit norm, largest component real); an eigenvector output
    not asked for is a (B, 1, 1) placeholder."""
    nb, n = a.shape[0], a.shape[1]
    cd = _complex_dtype(a)
    w = np.empty((nb, n), cd)
    nl, nr = (n if left else 1), (n if right else 1)
    vl = np.zeros((nb, nl, nl), cd)
    vr = np.zeros((nb, nr, nr), cd)
    if nb == 0 or n == 0:
        return w, vl, vr
    rd = _real_dtype(a)
    buf = np.empty((n, n), a.dtype)
    lb = np.empty((nl, nl), a.dtype)
    rb = np.empty((nr, nr), a.dtype)
    jl = _ch("V") if left else _ch("N")
    jr = _ch("V") if right else _ch("N")
    info = np.zeros(1, _NPINT)
    work = np.empty(1, a.dtype)
    wr = np.empty(n, rd)
    wi = np.zeros(n, rd)
    wc = np.empty(n, a.dtype)
    rwork = np.empty(2 * n, rd)
    _ev(_ref(jl), _ref(jr), _ref(_fi(n)), buf.ctypes, _ref(_ld(n)), wr.ctypes, wi.ctypes,
        wc.ctypes, lb.ctypes, _ref(_ld(nl)), rb.ctypes, _ref(_ld(nr)), work.ctypes,
        _ref(_fi(-1)), rwork.ctypes, info.ctypes)
    lw = _lwork(work)
    work = np.empty(lw, a.dtype)
    cplx = _is_complex(a)
    blas_enter(n * n * n)
    for b in range(nb):
        _transpose_into(a[b], buf)
        _ev(_ref(jl), _ref(jr), _ref(_fi(n)), buf.ctypes, _ref(_ld(n)), wr.ctypes, wi.ctypes,
            wc.ctypes, lb.ctypes, _ref(_ld(nl)), rb.ctypes, _ref(_ld(nr)), work.ctypes,
            _ref(_fi(lw)), rwork.ctypes, info.ctypes)
        if info[0] != 0:
            _fill_nan(w[b])
            _fill_nan(vl[b])
            _fill_nan(vr[b])
            continue
        for i in range(n):
            w[b, i] = wc[i] if cplx else complex(wr[i], wi[i])
        if left:
            _store_vectors(cplx, wi, lb, vl[b])
        if right:
            _store_vectors(cplx, wi, rb, vr[b])
    blas_exit()
    return w, vl, vr


__all__ = ["cholesky_lower", "triangular_solve", "pivots_to_permutation", "lu", "qr", "eigh",
           "svd", "eig"]
