"""Matrix products too small for BLAS, by loops (generated kernels call ``dot_small``).

A BLAS call costs a few hundred nanoseconds before any arithmetic (argument checks,
buffer set-up, the thread-count protocol of ``runtime.blas_enter``), as much as a whole
32 x 32 matrix-vector product. Loop bodies of ODE solvers and RNNs are made of such
products (matrix-vector, vector-matrix, outer products), so they run here, in loops
compiled with reassociation allowed (the summations vectorize; only the summation
order differs from BLAS's, as between any two BLAS builds). The loop order is chosen
from the operands' layouts (C: rows contiguous, F: a transposed C array) so that the
innermost loop reads contiguous memory. Vectors are passed as 1-d arrays (a reshape
costs a helper call, which counts at every iteration of a loop body).
"""
from __future__ import annotations

import numpy as np
from numba.extending import overload

from .cache import cached_njit

_FAST = {"reassoc", "contract", "nsz", "arcp"}


def _dot_small_impl(a, b, out):  # pragma: no cover - only called from compiled code
    raise NotImplementedError


def _zero(out):
    """The zero of the result dtype (a constant of the compiled code): accumulations
    start from it, a form LLVM's vectorizer handles best."""
    return np.dtype(str(out.dtype)).type(0)


def _matvec(a, out):
    """out = a @ b for a 2-d ``a`` and 1-d ``b``."""
    zero = _zero(out)
    if a.layout == "F":
        def cols(a, b, out):  # a = at.T: out = sum_k at[k, :] * b[k]
            at = a.T
            m, kk = a.shape
            b0 = b[0]
            for i in range(m):
                out[i] = at[0, i] * b0
            for k in range(1, kk):
                bk = b[k]
                for i in range(m):
                    out[i] += at[k, i] * bk

        return cols

    def rows(a, b, out):  # a dot product per row of a
        m, kk = a.shape
        for i in range(m):
            acc = zero
            for k in range(kk):
                acc += a[i, k] * b[k]
            out[i] = acc

    return rows


def _vecmat(b, out):
    """out = a @ b for a 1-d ``a`` and 2-d ``b``."""
    zero = _zero(out)
    if b.layout == "F":
        def dots(a, b, out):  # b = bt.T: out[j] = dot(a, bt[j, :])
            bt = b.T
            kk, n = b.shape
            for j in range(n):
                acc = zero
                for k in range(kk):
                    acc += a[k] * bt[j, k]
                out[j] = acc

        return dots

    def rows(a, b, out):  # out = sum_k a[k] * b[k, :]
        kk, n = b.shape
        a0 = a[0]
        for j in range(n):
            out[j] = a0 * b[0, j]
        for k in range(1, kk):
            ak = a[k]
            for j in range(n):
                out[j] += ak * b[k, j]

    return rows


def _outer(a, b, out):
    for i in range(a.shape[0]):
        ai = a[i]
        for j in range(b.shape[0]):
            out[i, j] = ai * b[j]


def _matmat(a, b, out):
    """out = a @ b for 2-d ``a`` and ``b``."""
    zero = _zero(out)
    if b.layout == "F" and a.layout != "F":
        def dots(a, b, out):  # b = bt.T: out[i, j] = dot(a[i, :], bt[j, :])
            bt = b.T
            m, kk = a.shape
            n = b.shape[1]
            for i in range(m):
                for j in range(n):
                    acc = zero
                    for k in range(kk):
                        acc += a[i, k] * bt[j, k]
                    out[i, j] = acc

        return dots

    def rows(a, b, out):  # out[i, :] = sum_k a[i, k] * b[k, :]
        m, kk = a.shape
        n = b.shape[1]
        if n == 1:  # a column: a dot product per row of a
            for i in range(m):
                acc = zero
                for k in range(kk):
                    acc += a[i, k] * b[k, 0]
                out[i, 0] = acc
            return
        for i in range(m):
            a0 = a[i, 0]
            for j in range(n):
                out[i, j] = a0 * b[0, j]
            for k in range(1, kk):
                aik = a[i, k]
                for j in range(n):
                    out[i, j] += aik * b[k, j]

    return rows


# inlined into ``dot_small``, so compiled with its fastmath flags
@overload(_dot_small_impl, inline="always")
def _dot_small_ol(a, b, out):
    kind = (a.ndim, b.ndim, out.ndim)
    if kind == (2, 1, 1):
        return _matvec(a, out)
    if kind == (1, 2, 1):
        return _vecmat(b, out)
    if kind == (1, 1, 2):
        return _outer
    if kind == (2, 2, 2):
        return _matmat(a, b, out)
    return None


@cached_njit(nogil=True, error_model="numpy", fastmath=_FAST)
def dot_small(a, b, out):
    """``out[...] = a @ b`` by loops (see the module docstring), for float arrays:
    matrix-vector (``a`` 2-d, ``b`` and ``out`` 1-d), vector-matrix (``a`` 1-d, ``b``
    2-d, ``out`` 1-d), outer (``a``, ``b`` 1-d, ``out`` 2-d) and matrix-matrix
    products (all 2-d); contracted lengths >= 1, ``out`` C-contiguous."""
    _dot_small_impl(a, b, out)


def small_dot_ok(m: int, n: int, k: int) -> bool:
    """Whether a product of these sizes runs faster here than through BLAS: vector-like
    products (a size-1 dimension) up to 8,192 multiply-adds, any shape up to 512
    (measured on an AVX-512 machine, single-threaded BLAS: a 32 x 32 matrix-vector
    product takes ~0.1 us here against ~0.3 us through BLAS, 64 x 64 ~0.35 against
    ~0.5 us; from 128 x 128, and for 16 x 16 x 16 matrix products, BLAS is faster).

    >>> small_dot_ok(32, 1, 32), small_dot_ok(8, 8, 8), small_dot_ok(128, 128, 128)
    (True, True, False)
    """
    work = m * n * k
    return k >= 1 and (work <= 512 or (min(m, n, k) == 1 and work <= 8192))


__all__ = ["dot_small", "small_dot_ok"]
