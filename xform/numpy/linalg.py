"""xform.numpy.linalg: numpy.linalg's names (``jax.numpy.linalg``'s signatures and
results): norms and products here; decompositions, solves, determinants, pseudo-inverses
and least squares in ``_linalg.py``, on the LAPACK primitives of ``xform.lax.linalg``.
"""
from __future__ import annotations

import numpy as np

from .. import lax
from ._dot import matmul, outer, tensordot, vecdot  # noqa: F401
from ._linalg import (  # noqa: F401
    EigResult, EighResult, QRResult, SlogdetResult, SVDResult, cholesky, cond, det, eig, eigh,
    eigvals, eigvalsh, inv, lstsq, matrix_rank, pinv, qr, slogdet, solve, svd, svdvals,
    tensorinv, tensorsolve,
)
from ._promote import arg as _arg
from ._promote import astype as _astype
from ._promote import aval as _aval
from ._promote import is_py_scalar as _is_py_scalar
from ._promote import normalize_axis as _normalize_axis
from ._promote import out as _out

__all__ = ["norm", "vector_norm", "matrix_norm", "multi_dot", "matmul", "outer", "tensordot",
           "vecdot", "matrix_transpose", "trace", "diagonal", "matrix_power",
           "solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
           "qr", "lstsq", "pinv", "matrix_rank", "cond", "eig", "eigvals", "tensorsolve",
           "tensorinv", "EighResult", "SVDResult", "QRResult", "SlogdetResult", "EigResult"]


def _a(x):
    x = _arg(x, "norm")
    if _is_py_scalar(x) or isinstance(x, np.generic):
        x = np.asarray(x)
    return x


def _safe_sqrt(s):
    """sqrt whose derivative at 0 is 0 (not inf -> nan): the sum of squares is
    replaced by 1 where it is 0 before the sqrt, and the result by 0 there."""
    from ._ufuncs import _where

    zero = lax.eq(s, 0)
    safe = _where(zero, 1.0, s)
    return _where(zero, 0.0, lax.sqrt(safe))


def _sum(x, axes, keepdims=False):
    from ._reductions import sum as _s

    return _s(x, axis=axes, keepdims=keepdims)


def _abs(x):
    from ._ufuncs import absolute

    return absolute(x)


def _sq(x):
    from ._logic import real
    from ._ufuncs import conjugate, multiply

    if _aval(x).dtype.kind == "c":
        return real(multiply(conjugate(x), x))
    return multiply(x, x)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    """Vector or matrix norm, like ``numpy.linalg.norm``.

    Vectors: ord None/2 (Euclidean), 1, inf, -inf, 0 (count of nonzeros), other p.
    Matrices (``axis`` a pair, or 2-d input with ord set): 'fro' (None), 1, -1, inf, -inf,
    and from the singular values 2 (largest), -2 (smallest) and 'nuc' (their sum).

    Derivatives: the 2-norm and Frobenius norm have gradient 0 at x = 0 (a subgradient;
    JAX gives nan there), and x / norm(x) elsewhere. Other orders follow the derivatives
    of abs / max / power (``abs`` has derivative 1 at 0, JAX's rule).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xnp.linalg.norm(np.array([3.0, 4.0]))
    np.float64(5.0)
    >>> xform.grad(xnp.linalg.norm)(np.zeros(2))
    array([0., 0.])
    """
    from ._reductions import max as _max
    from ._reductions import min as _min
    from ._ufuncs import not_equal, power

    x = _a(x)
    xa = _aval(x)
    if xa.dtype.kind not in "fc":
        x = _astype(x, np.float64)
        xa = _aval(x)
    nd = xa.ndim
    real_dt = np.dtype(np.finfo(xa.dtype).dtype)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            flat = lax.reshape(x, (xa.size,))
            if xa.dtype.kind == "c":
                s = _sum(_sq(flat), 0)
            else:
                from ._dot import dot

                s = dot(flat, flat)
            r = _safe_sqrt(s)
            if keepdims:
                r = lax.reshape(r, (1,) * nd)
            return _out(r)
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (int(axis),)
    if len(axis) == 1:
        ax = _normalize_axis(axis[0], nd, "norm")
        if ord == np.inf:
            return _max(_abs(x), axis=ax, keepdims=keepdims)
        if ord == -np.inf:
            return _min(_abs(x), axis=ax, keepdims=keepdims)
        if ord == 0:
            return _sum(_astype(not_equal(x, 0), real_dt), ax, keepdims)
        if ord == 1:
            return _sum(_abs(x), ax, keepdims)
        if ord is None or ord == 2:
            return _out(_safe_sqrt(_sum(_sq(x), ax, keepdims)))
        if isinstance(ord, str):
            raise ValueError(f"norm: Invalid norm order {ord!r} for vectors; use None, an "
                             f"integer or float p, inf or -inf")
        s = _sum(power(_abs(x), ord), ax, keepdims)
        return power(s, np.reciprocal(np.asarray(ord, dtype=_aval(s).dtype)))
    if len(axis) == 2:
        row, col = (_normalize_axis(a, nd, "norm") for a in axis)
        if row == col:
            raise ValueError("Duplicate axes given.")
        if ord in (2, -2, "nuc"):
            sv = _svdvals(x, (row, col))
            if ord == 2:
                r = _max(sv, axis=-1)
            elif ord == -2:
                r = _min(sv, axis=-1)
            else:
                r = _sum(sv, -1)
        elif ord in (1, -1):
            c = col - 1 if col > row else col
            s = _sum(_abs(x), row)
            r = (_max if ord == 1 else _min)(s, axis=c)
        elif ord in (np.inf, -np.inf):
            rr = row - 1 if row > col else row
            s = _sum(_abs(x), col)
            r = (_max if ord == np.inf else _min)(s, axis=rr)
        elif ord in (None, "fro", "f"):
            r = _safe_sqrt(_sum(_sq(x), (row, col)))
        else:
            raise ValueError(f"norm: Invalid norm order {ord!r} for matrices; use None/'fro', "
                             f"'nuc', 1, -1, 2, -2, inf or -inf")
        if keepdims:
            shp = list(xa.shape)
            shp[row] = 1
            shp[col] = 1
            r = lax.reshape(r, tuple(shp))
        return _out(r)
    raise ValueError(f"norm: Improper number of dimensions to norm: axis={axis!r}; give one "
                     f"axis (a vector norm) or two (a matrix norm)")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """Vector norm over ``axis`` (all axes, flattened, if None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.vector_norm(np.array([[3.0], [4.0]]))
    np.float64(5.0)
    """
    x = _a(x)
    shp = _aval(x).shape
    if axis is None:
        r = norm(lax.reshape(x, (_aval(x).size,)), ord=ord, axis=0)
        if keepdims:
            r = lax.reshape(r, (1,) * len(shp))
        return _out(r)
    if isinstance(axis, tuple) and len(axis) > 1:
        from ._manipulation import moveaxis

        axes = tuple(_normalize_axis(a, len(shp), "vector_norm") for a in axis)
        rest = [d for d in range(len(shp)) if d not in axes]
        y = moveaxis(x, axes, tuple(range(len(shp) - len(axes), len(shp))))
        y = lax.reshape(y, tuple(shp[d] for d in rest) + (int(np.prod([shp[a] for a in axes])),))
        r = norm(y, ord=ord, axis=-1)
        if keepdims:
            r = lax.reshape(r, tuple(1 if d in axes else shp[d] for d in range(len(shp))))
        return _out(r)
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    """Matrix norm over the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.matrix_norm(np.eye(2), ord=1)
    np.float64(1.0)
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def multi_dot(arrays, *, out=None):
    """Product of a chain of matrices (evaluated left to right; 1-d ends allowed).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.multi_dot([np.eye(2), np.eye(2), np.array([1.0, 2.0])])
    array([1., 2.])
    """
    from ._dot import dot

    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays.")
    r = arrays[0]
    for a in arrays[1:]:
        r = dot(r, a)
    return r


def matrix_transpose(x, /):
    """Swap the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.matrix_transpose(np.zeros((2, 3))).shape
    (3, 2)
    """
    from ._manipulation import swapaxes

    return swapaxes(x, -1, -2)


def trace(x, /, *, offset=0, dtype=None):
    """Trace over the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.trace(np.eye(3))
    np.float64(3.0)
    """
    from ._reductions import trace as _trace

    return _trace(x, offset, -2, -1, dtype)


def diagonal(x, /, *, offset=0):
    """Diagonal over the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.diagonal(np.eye(2))
    array([1., 1.])
    """
    from ._indexing_routines import diagonal as _diagonal

    return _diagonal(x, offset, -2, -1)


def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; n = 0 gives the identity, n < 0 uses inv.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.linalg.matrix_power(np.array([[1, 1], [0, 1]]), 3)
    array([[1, 3],
           [0, 1]])
    """
    import operator

    n = operator.index(n)
    a = _a(a)
    m = _aval(a).shape[-1]
    if n == 0:
        from ._manipulation import broadcast_to

        return broadcast_to(np.eye(m, dtype=_aval(a).dtype), _aval(a).shape)
    if n < 0:
        a = inv(a)
        n = -n
    result = None
    z = a
    while n:
        if n & 1:
            result = z if result is None else matmul(result, z)
        n >>= 1
        if n:
            z = matmul(z, z)
    return result


def _svdvals(x, axes):
    from ._manipulation import moveaxis

    return svdvals(moveaxis(x, axes, (-2, -1)))
