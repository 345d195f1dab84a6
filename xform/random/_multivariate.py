"""Samplers of vectors and matrices: multivariate_normal, orthogonal (JAX's algorithms;
the factorizations are xform.numpy.linalg's, so values agree with JAX to rounding)."""
from __future__ import annotations

import operator

import numpy as np

from .. import numpy as xnp
from ._common import check_shape, float_dtype, get_dtype, shape_of
from ._continuous import normal
from ._keys import canonical_shape, check_key


def _inexact(x):
    x = xnp.asarray(x)
    return x if get_dtype(x).kind in "fc" else xnp.asarray(x, dtype=np.float64)


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method: str = "cholesky"):
    """Normal vectors with mean ``mean`` (shape ``(..., n)``) and covariance ``cov``
    (``(..., n, n)``): ``mean + factor @ z`` for standard normal ``z``, with ``factor`` the
    Cholesky factor (``method='cholesky'``) or, for singular covariances, from an
    eigendecomposition (``'eigh'``) or SVD (``'svd'``). The result has shape
    ``shape + (n,)`` (default: the broadcast of the batch shapes). Differentiable in
    ``mean`` and ``cov``.

    >>> import numpy as np, xform
    >>> x = xform.random.multivariate_normal(xform.random.PRNGKey(0), np.zeros(2),
    ...                                      np.array([[2.0, 0.5], [0.5, 1.0]]), (3,))
    >>> x.shape
    (3, 2)
    """
    data, _ = check_key("multivariate_normal", key)
    if method not in ("svd", "eigh", "cholesky"):
        raise ValueError(f"xform.random.multivariate_normal: method must be one of 'svd', "
                         f"'eigh', 'cholesky', got {method!r}")
    mean, cov = _inexact(mean), _inexact(cov)
    dt = np.result_type(get_dtype(mean), get_dtype(cov))
    dtype = dt if dtype is None else float_dtype("multivariate_normal", dtype)
    mshape, cshape = shape_of(mean), shape_of(cov)
    if len(mshape) < 1:
        raise ValueError(f"xform.random.multivariate_normal: mean must have ndim >= 1, got "
                         f"shape {mshape}")
    if len(cshape) < 2:
        raise ValueError(f"xform.random.multivariate_normal: cov must have ndim >= 2, got "
                         f"shape {cshape}")
    n = mshape[-1]
    if cshape[-2:] != (n, n):
        raise ValueError(f"xform.random.multivariate_normal: cov must have shape (..., {n}, "
                         f"{n}) to match mean's last axis, got {cshape}")
    if shape is None:
        shape = tuple(np.broadcast_shapes(mshape[:-1], cshape[:-2]))
    else:
        shape = canonical_shape("multivariate_normal", shape)
        check_shape("multivariate_normal", shape, mshape[:-1], cshape[:-2])
    if method == "svd":
        u, s, _ = xnp.linalg.svd(cov)
        factor = u * xnp.sqrt(s[..., None, :])
    elif method == "eigh":
        w, v = xnp.linalg.eigh(cov)
        factor = v * xnp.sqrt(w[..., None, :])
    else:
        factor = xnp.linalg.cholesky(cov)
    z = normal(data, tuple(shape) + (n,), dtype)
    return xnp.add(mean, xnp.einsum("...ij,...j->...i", factor, z))


def orthogonal(key, n: int, shape=(), dtype=None, m: int | None = None):
    """Random matrices of shape ``(*shape, n, m)`` (``m`` defaults to ``n``) distributed
    uniformly (Haar) on the orthogonal group, or semi-orthogonal (orthonormal rows if
    ``n < m``, columns if ``n > m``): the Q factor of a Gaussian matrix with the signs of
    R's diagonal divided out (Mezzadri, "How to generate random matrices from the
    classical compact groups", Notices AMS 2007).

    >>> import numpy as np, xform
    >>> q = xform.random.orthogonal(xform.random.PRNGKey(0), 3)
    >>> bool(np.allclose(q @ q.T, np.eye(3)))
    True
    """
    data, _ = check_key("orthogonal", key)
    dtype = float_dtype("orthogonal", dtype, complex_ok=True)
    shape = canonical_shape("orthogonal", shape)
    n = operator.index(n)
    m = n if m is None else operator.index(m)
    if n < 0 or m < 0:
        raise ValueError(f"xform.random.orthogonal: n and m must be non-negative, got {n}, {m}")
    z = normal(data, tuple(shape) + (max(n, m), min(n, m)), dtype)
    q, r = xnp.linalg.qr(z)
    d = xnp.diagonal(r, axis1=-2, axis2=-1)
    x = q * xnp.expand_dims(xnp.sign(d), -2)
    return xnp.swapaxes(x, -1, -2) if n < m else x

