"""numpy's statistics and searching routines: quantile/percentile/median (and nan-
versions), the nan-reductions not in ``_reductions``, cov/corrcoef, searchsorted/digitize,
histogram/histogram_bin_edges and bincount.

Order statistics sort along the reduced axes and interpolate between the neighbouring
sorted values (numpy's methods 'linear', 'lower', 'higher', 'nearest', 'midpoint'), so
their derivative is the interpolation weights routed back through the sort's
permutation, as in numpy's piecewise-linear definition.
"""
from __future__ import annotations

import builtins

import numpy as np

from ._creation import asarray
from ._dot import dot
from ._indexing import getitem  # numpy arrays indexed by traced indices
from ._indexing_routines import take_along_axis
from ._manipulation import expand_dims, moveaxis, ravel, reshape, squeeze
from ._promote import array_arg, is_tracer, ndim, normalize_axes, shape
from ._reductions import _nan_to, cumprod, cumsum, mean, sum as _sum
from ._reductions import any as _any
from ._reductions import argmax as _argmax, argmin as _argmin, prod as _prod
from ._sorting import sort
from ._ufuncs import ceil, clip, conj, floor, isnan, logical_not, maximum, sqrt, where

where_ = where  # functions with a ``where=`` parameter use this name
builtins_range = builtins.range  # histogram functions have a ``range=`` parameter

__all__ = ["quantile", "percentile", "median", "nanquantile", "nanpercentile", "nanmedian",
           "nanvar", "nanstd", "nanprod", "nancumsum", "nancumprod", "nanargmax", "nanargmin",
           "cov", "corrcoef", "searchsorted", "digitize", "histogram_bin_edges", "histogram",
           "histogram2d", "histogramdd", "bincount"]

_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _dt(x):
    return np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)


def _float(x, where_):
    x = array_arg(x, where_)
    if _dt(x).kind in "biu":
        return asarray(x, dtype=np.float64)
    return x


def _move_to_last(a, axis, where_):
    """``a`` with the reduced axes flattened into one last axis, and the kept shape."""
    nd = ndim(a)
    if axis is None:
        return reshape(a, (-1,)), None
    axes = normalize_axes(axis, nd, where_) if not isinstance(axis, int) else (axis % nd,)
    rest = [d for d in range(nd) if d not in axes]
    a = moveaxis(a, axes, tuple(range(nd - len(axes), nd))) if axes else a
    kept = tuple(shape(a)[:len(rest)])
    return reshape(a, kept + (-1,)), axes


def _restore_keepdims(r, a_ndim, axes, nq):
    # r: q-shape + kept-shape; insert size-1 dims where the reduced axes were.
    if axes is None:
        axes = tuple(range(a_ndim))
    for ax in sorted(axes):
        r = expand_dims(r, nq + ax)
    return r


def _quantile(a, q, axis, method, keepdims, ignore_nan, where_):
    if method not in _METHODS:
        raise ValueError(f"{where_}: method must be one of {_METHODS}, got {method!r}.")
    a = _float(a, where_)
    q = asarray(array_arg(q, where_), dtype=_dt(a))
    qc = q if is_tracer(q) else np.asarray(q)
    if not is_tracer(qc) and (np.any(qc < 0) or np.any(qc > 1)):
        raise ValueError(f"{where_}: quantiles must be in [0, 1] (percentiles in [0, 100]).")
    a_ndim = ndim(a)
    x, axes = _move_to_last(a, axis, where_)
    n = shape(x)[-1]
    if n == 0:
        raise ValueError(f"{where_}: cannot take a quantile of an empty axis.")
    s = sort(x, axis=-1)  # nans sort last
    if ignore_nan:
        cnt = _sum(logical_not(isnan(x)), axis=-1, keepdims=True)  # kept + (1,)
        last = maximum(cnt - 1, 0).astype(_dt(a))
    else:
        last = np.asarray(n - 1, dtype=_dt(a))
    qn = ndim(q)
    # positions: q-shape + kept + (1,)
    qb = reshape(q, shape(q) + (1,) * (ndim(s)))
    from ._manipulation import broadcast_to
    pos = broadcast_to(qb * last, shape(q) + shape(s)[:-1] + (1,))
    lo = floor(pos)
    hi = ceil(pos)
    if method == "lower":
        pos = lo
    elif method == "higher":
        pos = hi
    elif method == "nearest":
        from ._ufuncs import rint
        pos = rint(pos)  # numpy rounds half to even here too
    lo_i = asarray(clip(floor(pos), 0, n - 1), dtype=np.int64)
    hi_i = asarray(clip(ceil(pos), 0, n - 1), dtype=np.int64)
    sb = s[(None,) * qn] if qn else s
    full = shape(pos)
    sb = broadcast_to(sb, shape(pos)[:-1] + (n,))
    vlo = take_along_axis(sb, broadcast_to(lo_i, full), axis=-1)[..., 0]
    vhi = take_along_axis(sb, broadcast_to(hi_i, full), axis=-1)[..., 0]
    if method == "midpoint":
        w = where(hi_i > lo_i, 0.5, 0.0)[..., 0]
    else:
        w = (pos - floor(pos))[..., 0]
    # The two forms agree away from the ends; this one is exact for w = 0 and w = 1.
    r = where(w >= 0.5, vhi - (vhi - vlo) * (1 - w), vlo + (vhi - vlo) * w)
    if ignore_nan:
        r = where((cnt == 0)[..., 0], np.nan, r)
    else:
        r = where(_any(isnan(x), axis=-1), np.nan, r)
    if keepdims:
        r = _restore_keepdims(r, a_ndim, axes, qn)
    return r


def _check_out(out, where_):
    if out is not None:
        raise NotImplementedError(f"{where_}: out= is not supported (arrays are immutable).")


def quantile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
             keepdims: bool = False, *, weights=None):
    """Quantiles ``q`` (in [0, 1]) of ``a`` over ``axis`` (int, tuple or None), result
    shape ``q.shape + reduced shape`` as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.quantile(np.array([1.0, 2, 3, 4]), np.array([0.0, 0.5, 0.9]))
    array([1. , 2.5, 3.7])
    """
    _check_out(out, "quantile")
    if weights is not None:
        raise NotImplementedError("quantile: weights= is not supported.")
    return _quantile(a, q, axis, method, keepdims, False, "quantile")


def percentile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
               keepdims: bool = False, *, weights=None):
    """Percentiles ``q`` (in [0, 100]) of ``a`` over ``axis``.

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.percentile(np.array([1.0, 2, 3, 4]), 50))
    2.5
    """
    _check_out(out, "percentile")
    if weights is not None:
        raise NotImplementedError("percentile: weights= is not supported.")
    return _quantile(a, asarray(array_arg(q, "percentile"), dtype=np.float64) / 100, axis, method,
                     keepdims, False, "percentile")


def median(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """Median over ``axis`` (nan if the reduced values hold a nan).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.median(np.array([[3.0, 1, 2], [4, 6, 5]]), axis=1)
    array([2., 5.])
    """
    _check_out(out, "median")
    return _quantile(a, 0.5, axis, "linear", keepdims, False, "median")


def nanquantile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False, *, weights=None):
    """``quantile`` ignoring nans (nan where a slice is all nan).

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.nanquantile(np.array([1.0, np.nan, 3.0]), 0.5))
    2.0
    """
    _check_out(out, "nanquantile")
    return _quantile(a, q, axis, method, keepdims, True, "nanquantile")


def nanpercentile(a, q, axis=None, out=None, overwrite_input: bool = False,
                  method: str = "linear", keepdims: bool = False, *, weights=None):
    """``percentile`` ignoring nans.

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.nanpercentile(np.array([1.0, np.nan, 3.0]), 100))
    3.0
    """
    _check_out(out, "nanpercentile")
    return _quantile(a, asarray(array_arg(q, "nanpercentile"), dtype=np.float64) / 100, axis,
                     method, keepdims, True, "nanpercentile")


def nanmedian(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """``median`` ignoring nans.

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.nanmedian(np.array([1.0, np.nan, 4.0, 2.0])))
    2.0
    """
    _check_out(out, "nanmedian")
    return _quantile(a, 0.5, axis, "linear", keepdims, True, "nanmedian")


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False, *, where=None,
           mean=None, correction=None):
    """Variance ignoring nans (``sum((x - nanmean)^2) / (count - ddof)``).

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.nanvar(np.array([1.0, np.nan, 3.0])))
    1.0
    """
    from ._reductions import nanmean
    _check_out(out, "nanvar")
    if correction is not None:
        ddof = correction
    a = _float(a, "nanvar")
    if where is not None or mean is not None:
        raise NotImplementedError("nanvar: where= and mean= are not supported.")
    ok = logical_not(isnan(a))
    m = nanmean(a, axis=axis, keepdims=True)
    d = where_(ok, a - m, 0.0)
    from ._logic import real
    sq = real(d * conj(d)) if _dt(a).kind == "c" else d * d
    cnt = _sum(ok, axis=axis, keepdims=keepdims)
    r = _sum(sq, axis=axis, keepdims=keepdims) / maximum(cnt - ddof, 0)
    return r if dtype is None else asarray(r, dtype=dtype)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False, *, where=None,
           mean=None, correction=None):
    """Standard deviation ignoring nans.

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.nanstd(np.array([1.0, np.nan, 3.0])))
    1.0
    """
    return sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                       correction=correction))


def nanprod(a, axis=None, dtype=None, out=None, keepdims: bool = False, initial=None, where=None):
    """Product treating nan as one.

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.nanprod(np.array([2.0, np.nan, 3.0])))
    6.0
    """
    return _prod(_nan_to(a, 1.0), axis, dtype, out, keepdims, initial, where)


def nancumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum treating nan as zero.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nancumsum(np.array([1.0, np.nan, 2.0]))
    array([1., 1., 3.])
    """
    return cumsum(_nan_to(a, 0.0), axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product treating nan as one.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nancumprod(np.array([2.0, np.nan, 3.0]))
    array([2., 2., 6.])
    """
    return cumprod(_nan_to(a, 1.0), axis, dtype, out)


def _nanarg(a, axis, keepdims, fill, fn, name):
    a = array_arg(a, name)
    if _dt(a).kind not in "fc":
        return fn(a, axis=axis, keepdims=keepdims)
    nan = isnan(a)
    allnan = _sum(logical_not(nan), axis=axis, keepdims=keepdims) == 0
    if not is_tracer(a) and np.any(np.asarray(allnan)):
        raise ValueError(f"{name}: All-NaN slice encountered.")
    return where_(allnan, -1, fn(where_(nan, fill, a), axis=axis, keepdims=keepdims))


def nanargmax(a, axis=None, out=None, *, keepdims: bool = False):
    """Index of the largest non-nan value (an all-nan slice raises eagerly; under
    transformations its index is -1, as JAX returns).

    >>> import numpy as np, xform.numpy as xnp
    >>> int(xnp.nanargmax(np.array([1.0, np.nan, 3.0])))
    2
    """
    _check_out(out, "nanargmax")
    return _nanarg(a, axis, keepdims, -np.inf, _argmax, "nanargmax")


def nanargmin(a, axis=None, out=None, *, keepdims: bool = False):
    """Index of the smallest non-nan value.

    >>> import numpy as np, xform.numpy as xnp
    >>> int(xnp.nanargmin(np.array([1.0, np.nan, -3.0])))
    2
    """
    _check_out(out, "nanargmin")
    return _nanarg(a, axis, keepdims, np.inf, _argmin, "nanargmin")


def cov(m, y=None, rowvar: bool = True, bias: bool = False, ddof=None, fweights=None,
        aweights=None, *, dtype=None):
    """Covariance matrix of the variables in the rows (``rowvar``) of ``m`` (and ``y``),
    with frequency and analytic weights as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.cov(np.array([[0.0, 1, 2], [2, 1, 0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    from ._manipulation import atleast_2d, concatenate
    x = _float(m, "cov")
    if ndim(x) > 2:
        raise ValueError(f"cov: m has more than 2 dimensions (shape {shape(x)}).")
    x = atleast_2d(x)
    if not rowvar and shape(x)[0] != 1:
        x = x.T
    if y is not None:
        yy = atleast_2d(_float(y, "cov"))
        if not rowvar and shape(yy)[0] != 1:
            yy = yy.T
        x = concatenate([x, yy], axis=0)
    if dtype is not None:
        x = asarray(x, dtype=dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    n = shape(x)[1]
    w = None
    if fweights is not None:
        w = asarray(array_arg(fweights, "cov"), dtype=np.float64)
    if aweights is not None:
        aw = asarray(array_arg(aweights, "cov"), dtype=np.float64)
        w = aw if w is None else w * aw
    if w is None:
        avg = mean(x, axis=1)
        wsum = float(n)
        fact = wsum - ddof
    else:
        wsum = _sum(w)
        avg = _sum(x * w, axis=1) / wsum
        if ddof == 0:
            fact = wsum
        elif aweights is None:
            fact = wsum - ddof
        else:
            fact = wsum - ddof * _sum(w * aw) / wsum
    xc = x - avg[:, None]
    xw = xc if w is None else xc * w
    c = dot(xw, conj(xc).T) / fact
    return squeeze(c) if shape(c) == (1, 1) else c


def corrcoef(x, y=None, rowvar: bool = True, *, dtype=None):
    """Pearson correlation coefficients (``cov`` normalized by the standard deviations,
    real parts clipped to [-1, 1] as numpy).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.corrcoef(np.array([[0.0, 1, 2], [2, 1, 0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if ndim(c) == 0:
        return c / c
    from ._indexing_routines import diagonal
    from ._logic import real
    d = sqrt(real(diagonal(c)))
    r = c / d[:, None] / d[None, :]
    if _dt(r).kind == "c":
        from ._logic import imag
        return clip(real(r), -1, 1) + 1j * clip(imag(r), -1, 1)
    return clip(r, -1, 1)


def searchsorted(a, v, side: str = "left", sorter=None, *, method: str = "compare_all"):
    """Indices at which ``v`` would be inserted into sorted 1-D ``a`` to keep it sorted
    (``side='left'``: first such index, ``'right'``: last). Computed by counting
    comparisons (JAX's ``method='compare_all'``), which vectorizes and jits.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.searchsorted(np.array([1, 2, 2, 3]), np.array([2, 0, 5]), side="right")
    array([3, 0, 4])
    """
    a = array_arg(a, "searchsorted")
    if ndim(a) != 1:
        raise ValueError(f"searchsorted: a must be 1-D, got shape {shape(a)}.")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}.")
    if sorter is not None:
        a = getitem(a, array_arg(sorter, "searchsorted"))
    v = array_arg(v, "searchsorted")
    ab = a[(None,) * ndim(v)] if ndim(v) else a
    vb = v[..., None]
    cmp = (ab < vb) if side == "left" else (ab <= vb)
    if _dt(a).kind in "fc":
        # numpy sorts nan last: nan is above every number, and equal to nan.
        vn = isnan(vb)
        cmp = cmp | vn if side == "right" else cmp | (vn & logical_not(isnan(ab)))
    return _sum(asarray(cmp, dtype=np.int64), axis=-1)


def digitize(x, bins, right: bool = False):
    """Index of the bin of each ``x`` (``bins`` increasing or decreasing), as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.digitize(np.array([0.5, 1.0, 2.5]), np.array([1.0, 2.0, 3.0]))
    array([0, 1, 2])
    """
    bins = array_arg(bins, "digitize")
    if ndim(bins) != 1:
        raise ValueError(f"digitize: bins must be 1-D, got shape {shape(bins)}.")
    side = "left" if right else "right"
    bc = None if is_tracer(bins) else np.asarray(bins)
    if bc is not None and bc.size > 1 and bc[0] > bc[-1]:
        n = bc.size
        return n - searchsorted(bins[::-1], x, side=side)
    return searchsorted(bins, x, side=side)


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    """Edges of ``bins`` equal-width bins over ``range`` (default the data's min and
    max), or the given edges.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.histogram_bin_edges(np.array([0.0, 1, 4]), bins=4)
    array([0., 1., 2., 3., 4.])
    """
    from ._creation import linspace
    from ._reductions import max as _max, min as _min
    a = _float(a, "histogram_bin_edges")
    if np.ndim(bins) == 1 or is_tracer(bins):
        return asarray(array_arg(bins, "histogram_bin_edges"), dtype=np.float64)
    if isinstance(bins, str):
        raise NotImplementedError("histogram_bin_edges: string bin rules are not supported; "
                                  "pass a number of bins or the edges.")
    if range is None:
        lo, hi = _min(a), _max(a)
    else:
        lo, hi = range
    lo_c, hi_c = (None, None) if is_tracer(lo) or is_tracer(hi) else (lo, hi)
    if lo_c is not None and lo_c == hi_c:
        lo, hi = lo - 0.5, hi + 0.5
    elif lo_c is None:
        same = lo == hi
        lo, hi = where(same, lo - 0.5, lo), where(same, hi + 0.5, hi)
    return linspace(lo, hi, int(bins) + 1)


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """Counts (or weight sums, or densities) of ``a`` in bins; the last bin is closed.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.histogram(np.array([0.0, 1, 1, 4]), bins=4)
    (array([1, 2, 0, 1]), array([0., 1., 2., 3., 4.]))
    """
    a = ravel(_float(a, "histogram"))
    edges = histogram_bin_edges(a, bins, range)
    nb = shape(edges)[0] - 1
    idx = searchsorted(edges, a, side="right") - 1
    idx = where_(a == edges[-1], nb - 1, idx)  # the last bin includes its right edge
    inside = (idx >= 0) & (idx < nb)
    onehot = (idx[:, None] == np.arange(nb)[None, :]) & inside[:, None]
    if weights is None:
        counts = _sum(onehot, axis=0)
    else:
        w = ravel(array_arg(weights, "histogram"))
        counts = _sum(where_(onehot, w[:, None], 0), axis=0)
    if density:
        db = edges[1:] - edges[:-1]
        counts = counts / db / _sum(counts)
    return counts, edges


def histogramdd(sample, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """Multidimensional histogram of the ``(N, D)`` points ``sample``: counts (or weight
    sums, or densities) and the ``D`` edge arrays; each last bin is closed.

    >>> import numpy as np, xform.numpy as xnp
    >>> h, edges = xnp.histogramdd(np.array([[0.0, 0], [1, 1], [1, 0]]), bins=2)
    >>> h
    array([[1, 0],
           [1, 1]])
    """
    x = _float(sample, "histogramdd")
    if ndim(x) == 1:
        x = x[:, None]
    if ndim(x) != 2:
        raise ValueError(f"histogramdd: sample must be (N, D), got shape {shape(x)}.")
    n_pts, d = shape(x)
    bins_l = list(bins) if isinstance(bins, (list, tuple)) else [bins] * d
    ranges = list(range) if range is not None else [None] * d
    if len(bins_l) != d or len(ranges) != d:
        raise ValueError(f"histogramdd: need {d} bins/ranges (one per dimension).")
    edges, idx, inside, nbs = [], [], None, []
    for k in builtins_range(d):
        e = histogram_bin_edges(x[:, k], bins_l[k], ranges[k])
        nb = shape(e)[0] - 1
        i = searchsorted(e, x[:, k], side="right") - 1
        i = where_(x[:, k] == e[-1], nb - 1, i)
        ok = (i >= 0) & (i < nb)
        inside = ok if inside is None else inside & ok
        edges.append(e)
        idx.append(i)
        nbs.append(nb)
    flat = idx[0]
    for i, nb in zip(idx[1:], nbs[1:]):
        flat = flat * nb + i
    total = int(np.prod(nbs))
    onehot = (flat[:, None] == np.arange(total)[None, :]) & inside[:, None]
    if weights is None:
        h = _sum(onehot, axis=0)
    else:
        w = ravel(array_arg(weights, "histogramdd"))
        h = _sum(where_(onehot, w[:, None], 0), axis=0)
    h = reshape(h, tuple(nbs))
    if density:
        vol = 1.0
        for k, e in enumerate(edges):
            widths = e[1:] - e[:-1]
            vol = vol * reshape(widths, tuple(-1 if j == k else 1 for j in builtins_range(d)))
        h = h / vol / _sum(h)
    return h, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """Two-dimensional histogram of the points ``(x[i], y[i])``: ``(H, xedges, yedges)``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.histogram2d(np.array([0.0, 1, 1]), np.array([0.0, 1, 0]), bins=2)[0]
    array([[1, 0],
           [1, 1]])
    """
    from ._manipulation import stack
    xs = _float(x, "histogram2d")
    ys = _float(y, "histogram2d")
    if isinstance(bins, (list, tuple)) and len(bins) != 2:
        bins = [bins, bins]  # one edge array for both dimensions
    elif not isinstance(bins, (list, tuple)) and np.ndim(bins) == 1:
        bins = [bins, bins]
    h, (ex, ey) = histogramdd(stack([ravel(xs), ravel(ys)], axis=1), bins, range, density,
                              weights)
    return h, ex, ey


def bincount(x, weights=None, minlength: int = 0, *, length: int | None = None):
    """Number of occurrences (or weight sums) of each non-negative integer in ``x``.
    Under transformations the output size must be static: pass ``length`` (values at
    or above it are dropped, as JAX).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.bincount(np.array([0, 1, 1, 3]))
    array([1, 2, 0, 1])
    """
    x = array_arg(x, "bincount")
    if _dt(x).kind not in "biu":
        raise TypeError(f"bincount: x must be integers, got {_dt(x)}.")
    if ndim(x) != 1:
        raise ValueError(f"bincount: x must be 1-D, got shape {shape(x)}.")
    if length is None:
        if is_tracer(x):
            raise TypeError("bincount: under transformations the output size must be static; "
                            "pass length=.")
        xc = np.asarray(x)
        if xc.size and xc.min() < 0:
            raise ValueError("bincount: x must be non-negative.")
        length = max(int(xc.max()) + 1 if xc.size else 0, minlength)
    onehot = x[:, None] == np.arange(length)[None, :]
    if weights is None:
        return _sum(asarray(onehot, dtype=np.int64), axis=0)
    w = array_arg(weights, "bincount")
    return _sum(where_(onehot, w[:, None], 0.0), axis=0)

