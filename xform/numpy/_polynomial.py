"""numpy's legacy polynomial functions (coefficients highest power first): polyval,
polyfit, polyder, polyint, polyadd, polysub, polymul, roots, poly, vander.
"""
from __future__ import annotations

import numpy as np

from ._creation import asarray, zeros
from ._manipulation import concatenate, reshape, stack
from ._promote import array_arg, is_tracer, ndim, shape
from ._math_extra import convolve

__all__ = ["polyval", "polyfit", "polyder", "polyint", "polyadd", "polysub", "polymul", "roots",
           "poly", "vander", "polydiv"]


def _1d(p, where_):
    p = array_arg(p, where_)
    if ndim(p) != 1:
        raise ValueError(f"{where_}: coefficients must be 1-D, got shape {shape(p)}.")
    return p


def _dt(x):
    return np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)


def polyval(p, x, *, unroll: int = 16):
    """Value of the polynomial with coefficients ``p`` (highest first) at ``x``
    (Horner's scheme).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polyval(np.array([1.0, 0, -2]), np.array([0.0, 2.0]))
    array([-2.,  2.])
    """
    p = _1d(p, "polyval")
    x = array_arg(x, "polyval")
    y = zeros(shape(x), dtype=np.result_type(_dt(p), _dt(x)))
    for i in range(shape(p)[0]):
        y = y * x + p[i]
    return y


def vander(x, N: int | None = None, increasing: bool = False):
    """Vandermonde matrix: columns are powers of ``x`` (decreasing unless
    ``increasing``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.vander(np.array([1, 2, 3]), 3)
    array([[1, 1, 1],
           [4, 2, 1],
           [9, 3, 1]])
    """
    x = array_arg(x, "vander")
    if ndim(x) != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {shape(x)}.")
    n = shape(x)[0] if N is None else N
    cols = []
    c = asarray(zeros(shape(x), dtype=_dt(x)) + 1, dtype=_dt(x))
    for _ in range(n):
        cols.append(c)
        c = c * x
    if not increasing:
        cols = cols[::-1]
    return stack(cols, axis=1) if cols else zeros((shape(x)[0], 0), dtype=_dt(x))


def polyfit(x, y, deg: int, rcond=None, full: bool = False, w=None, cov: bool = False):
    """Least-squares polynomial fit of degree ``deg`` (coefficients highest first;
    ``y`` may be 2-D, one fit per column). Columns are scaled as numpy does.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polyfit(np.array([0.0, 1, 2, 3]), np.array([1.0, 3, 5, 7]), 1).round(8)
    array([2., 1.])
    """
    from ._linalg import lstsq
    from ._reductions import sum as _sum
    from ._ufuncs import sqrt
    if full or cov:
        raise NotImplementedError("polyfit: full= and cov= are not supported.")
    x = asarray(array_arg(x, "polyfit"), dtype=np.float64) if _dt(array_arg(x, "polyfit")).kind \
        in "biu" else array_arg(x, "polyfit")
    y = array_arg(y, "polyfit")
    lhs = vander(x, deg + 1)
    rhs = y
    if w is not None:
        w = array_arg(w, "polyfit")
        lhs = lhs * w[:, None]
        rhs = rhs * w if ndim(rhs) == 1 else rhs * w[:, None]
    if rcond is None:
        rcond = shape(x)[0] * np.finfo(np.float64).eps
    scale = sqrt(_sum(lhs * lhs, axis=0))
    c = lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return (c.T / scale).T


def polyder(p, m: int = 1):
    """Coefficients of the ``m``-th derivative.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polyder(np.array([1.0, 1, 1, 1]))
    array([3., 2., 1.])
    """
    p = _1d(p, "polyder")
    if m < 0:
        raise ValueError("polyder: the order of derivative must be non-negative.")
    for _ in range(m):
        n = shape(p)[0]
        p = p[:-1] * np.arange(n - 1, 0, -1)
    return p


def polyint(p, m: int = 1, k=None):
    """Coefficients of the ``m``-th antiderivative with integration constants ``k``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polyint(np.array([3.0, 2, 1]))
    array([1., 1., 1., 0.])
    """
    p = _1d(p, "polyint")
    if m < 0:
        raise ValueError("polyint: the order of integral must be non-negative.")
    if k is None:
        ks = [0.0] * m
    else:
        if isinstance(k, (list, tuple)):
            ks = list(k)
        elif is_tracer(k):
            ks = [k] if k.ndim == 0 else [k[i] for i in range(shape(k)[0])]
        else:
            ks = list(np.atleast_1d(k))
        if len(ks) == 1 and m > 1:
            ks = ks * m
        if len(ks) != m:
            raise ValueError(f"polyint: k must have {m} constants (or one), got {len(ks)}.")
    p = asarray(p, dtype=np.result_type(_dt(p), np.float64))
    for i in range(m):
        n = shape(p)[0]
        p = concatenate([p / np.arange(n, 0, -1), reshape(asarray(ks[i], dtype=_dt(p)), (1,))])
    return p


def _pad_left(a, n):
    k = shape(a)[0]
    if k >= n:
        return a
    return concatenate([zeros((n - k,), dtype=_dt(a)), a])


def polyadd(a1, a2):
    """Sum of two polynomials.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polyadd(np.array([1, 2]), np.array([9, 5, 4]))
    array([9, 6, 6])
    """
    a1, a2 = _1d(a1, "polyadd"), _1d(a2, "polyadd")
    n = max(shape(a1)[0], shape(a2)[0])
    return _pad_left(a1, n) + _pad_left(a2, n)


def polysub(a1, a2):
    """Difference of two polynomials.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polysub(np.array([2, 10, -2]), np.array([3, 10, -4]))
    array([-1,  0,  2])
    """
    a1, a2 = _1d(a1, "polysub"), _1d(a2, "polysub")
    n = max(shape(a1)[0], shape(a2)[0])
    return _pad_left(a1, n) - _pad_left(a2, n)


def polymul(a1, a2):
    """Product of two polynomials (the convolution of their coefficients).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polymul(np.array([1.0, 2, 3]), np.array([9.0, 5, 1]))
    array([ 9., 23., 38., 17.,  3.])
    """
    return convolve(_1d(a1, "polymul"), _1d(a2, "polymul"))


def poly(seq_of_zeros):
    """Coefficients of the monic polynomial with the given roots (1-D input).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.poly(np.array([1.0, 2.0]))
    array([ 1., -3.,  2.])
    """
    z = _1d(seq_of_zeros, "poly")
    c = asarray(np.ones(1), dtype=np.result_type(_dt(z), np.float64))
    for i in range(shape(z)[0]):
        c = convolve(c, stack([c[0] * 0 + 1, -z[i]]))
    return c


def roots(p, *, strip_zeros: bool = True):
    """Roots of the polynomial ``p`` (eigenvalues of its companion matrix, as numpy;
    always complex, as JAX).

    >>> import numpy as np, xform.numpy as xnp
    >>> np.sort_complex(np.asarray(xnp.roots(np.array([1.0, -3, 2]))))
    array([1.+0.j, 2.+0.j])
    """
    from ._linalg import eigvals
    p = _1d(p, "roots")
    if is_tracer(p) and strip_zeros:
        raise TypeError("roots: stripping zero coefficients needs concrete values; pass "
                        "strip_zeros=False under transformations.")
    trailing = 0
    if not is_tracer(p):
        pc = np.asarray(p)
        nz = np.flatnonzero(pc)
        if nz.size == 0:
            return np.array([], dtype=np.complex128)
        trailing = pc.size - nz[-1] - 1
        p = p[nz[0]:nz[-1] + 1]
    n = shape(p)[0]
    if n < 2:
        return zeros((trailing,), dtype=np.complex128)
    comp = np.diag(np.ones(n - 2), -1)
    first = -p[1:] / p[0]
    from ._indexing import at
    a = at(asarray(comp, dtype=np.result_type(_dt(p), np.float64)))[0, :].set(first)
    r = eigvals(a)
    if trailing:
        r = concatenate([r, zeros((trailing,), dtype=_dt(r) if not is_tracer(r) else r.aval.dtype)])
    return r


def polydiv(u, v, *, trim_leading_zeros: bool = False):
    """Quotient and remainder of polynomial division (numpy's long division). As JAX,
    the remainder keeps the static length ``len(u)`` unless ``trim_leading_zeros=True``
    (numpy's result, which strips its leading (near-)zeros and needs concrete values).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.polydiv(np.array([3.0, 5, 2]), np.array([2.0, 1]), trim_leading_zeros=True)
    (array([1.5 , 1.75]), array([0.25]))
    """
    u = asarray(_1d(u, "polydiv"), dtype=np.result_type(_dt(_1d(u, "polydiv")), np.float64))
    v = _1d(v, "polydiv")
    m, n = shape(u)[0] - 1, shape(v)[0] - 1
    r = [u[i] for i in range(m + 1)]
    q = []
    scale = 1.0 / v[0]
    for k in range(max(m - n + 1, 0)):
        d = scale * r[k]
        q.append(d)
        for j in range(n + 1):
            r[k + j] = r[k + j] - d * v[j]
    q = stack(q) if q else zeros((1,), dtype=_dt(u))
    r = stack(r)
    if trim_leading_zeros:
        if is_tracer(r):
            raise TypeError("polydiv: trimming the remainder's leading zeros needs concrete "
                            "values; pass trim_leading_zeros=False under transformations.")
        rc = np.asarray(r)
        k = 0
        while k < rc.shape[0] - 1 and np.allclose(rc[k], 0, rtol=1e-14):
            k += 1
        r = r[k:]
    return q, r
