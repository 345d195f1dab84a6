"""Matrix helpers on stacks of matrices (the last two dimensions), written with lax
operations so the derivative rules that use them differentiate again.

All take and return arrays of rank >= 2 whose leading dimensions are a batch.
"""
from __future__ import annotations

import numpy as np

from ..core.trace import get_aval
from .dot import dot_general
from .elementwise import add, conj, convert_element_type, eq, le, real, select, sub
from .structural import broadcast_in_dim, broadcasted_iota, concatenate, full, reduce_sum, transpose


def ndim(x) -> int:
    return get_aval(x).ndim


def shape(x) -> tuple:
    return tuple(get_aval(x).shape)


def dtype(x) -> np.dtype:
    return get_aval(x).dtype


def is_complex(x) -> bool:
    return dtype(x).kind == "c"


def real_dtype(dt) -> np.dtype:
    dt = np.dtype(dt)
    return np.dtype(np.finfo(dt).dtype) if dt.kind == "c" else dt


def mT(x):
    """Swap the last two axes."""
    nd = ndim(x)
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def mH(x):
    """Conjugate transpose of the last two axes."""
    t = mT(x)
    return conj(t) if is_complex(t) else t


def conj_if_complex(x):
    return conj(x) if is_complex(x) else x


def as_dtype(x, dt):
    return x if dtype(x) == np.dtype(dt) else convert_element_type(x, dt)


def mm(a, b):
    """Matrix product of two stacks with the same leading dimensions."""
    nd = ndim(a)
    if ndim(b) != nd:
        raise ValueError(f"mm: ranks differ ({shape(a)} and {shape(b)})")
    batch = tuple(range(nd - 2))
    return dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _zero(x):
    return np.zeros((), dtype(x))


def _rows_cols(m: int, n: int):
    return broadcasted_iota(np.int64, (m, n), 0), broadcasted_iota(np.int64, (m, n), 1)


def tril(x, k: int = 0):
    """Entries on and below the k-th diagonal (others 0), as ``numpy.tril``."""
    m, n = shape(x)[-2:]
    r, c = _rows_cols(m, n)
    return select(le(sub(c, r), np.int64(k)), x, _zero(x))


def triu(x, k: int = 0):
    """Entries on and above the k-th diagonal (others 0), as ``numpy.triu``."""
    m, n = shape(x)[-2:]
    r, c = _rows_cols(m, n)
    return select(le(np.int64(k), sub(c, r)), x, _zero(x))


def eye_mask(m: int, n: int):
    r, c = _rows_cols(m, n)
    return eq(r, c)


def eye(n: int, dt, m: int | None = None):
    return convert_element_type(eye_mask(n, n if m is None else m), dt)


def diag_part(x):
    """The diagonal of each matrix: (..., n, n) -> (..., n) (a masked sum: never reads the
    off-diagonal values into the result, so infinities there stay out)."""
    m, n = shape(x)[-2:]
    return reduce_sum(select(eye_mask(m, n), x, _zero(x)), (ndim(x) - 1,))


def keep_diag(x):
    m, n = shape(x)[-2:]
    return select(eye_mask(m, n), x, _zero(x))


def diag_embed(d):
    """(..., n) -> (..., n, n) with ``d`` on the diagonal."""
    s = shape(d)
    n = s[-1]
    nd = len(s)
    b = broadcast_in_dim(d, s + (n,), tuple(range(nd)))
    return select(eye_mask(n, n), b, _zero(d))


def from_triangle(x, lower: bool):
    """The Hermitian matrix a routine that reads only one triangle of ``x`` sees: that
    triangle, mirrored (conjugated) into the other, with the real part of the diagonal
    (LAPACK ignores the imaginary part of a Hermitian matrix's diagonal)."""
    part = tril(x, -1) if lower else triu(x, 1)
    d = keep_diag(x)
    if is_complex(x):
        d = as_dtype(real(d), dtype(x))
    return add(add(part, mH(part)), d)


def col(v):
    """(..., n) -> (..., n, 1)."""
    s = shape(v)
    return broadcast_in_dim(v, s + (1,), tuple(range(len(s))))


def row(v):
    """(..., n) -> (..., 1, n)."""
    s = shape(v)
    nd = len(s)
    return broadcast_in_dim(v, s[:-1] + (1, s[-1]), tuple(range(nd - 1)) + (nd,))


def zeros(shp, dt):
    return full(shp, 0, dt)


def concat(parts, axis: int):
    parts = [p for p in parts if 0 not in shape(p)] or parts[:1]
    if len(parts) == 1:
        return parts[0]
    nd = ndim(parts[0])
    return concatenate(parts, axis % nd)
