"""Reductions (sum, mean, var, std, max, min, prod, argmax, argmin, all, any, trace) and
cumulative ops, with numpy's dtype rules (sum of bool/small ints -> int64, mean of ints
-> float64, float16 accumulated in float32) and numpy's order of operations; and diff,
which numpy's documentation lists with them ("Sums, products, differences")."""
from __future__ import annotations

import builtins

import numpy as np

from .. import lax
from ._promote import (
    arg,
    astype,
    aval,
    normalize_axes,
    normalize_axis,
    out,
    out_array,
)
from ._promote import array_arg as _a

__all__ = ["sum", "mean", "var", "std", "max", "amax", "min", "amin", "prod", "argmax",
           "argmin", "all", "any", "cumsum", "cumprod", "cumulative_sum", "cumulative_prod",
           "count_nonzero", "average", "ptp", "nansum", "nanmean", "nanmax", "nanmin", "trace",
           "diff"]


def _check(name, out_):
    if out_ is not None:
        raise TypeError(f"{name}: out= is not supported; xform arrays are immutable, use the "
                        f"returned value instead.")


def _mask(name, where, shape):
    """The ``where=`` mask of a reduction as a boolean array of the operand's shape, or
    None when every element takes part."""
    if where is None or where is True:
        return None
    from ._manipulation import broadcast_to

    m = _a(where, name)
    if aval(m).dtype != np.bool_:
        raise TypeError(f"{name}: where= must be a boolean array, got dtype {aval(m).dtype}.")
    try:
        np.broadcast_shapes(aval(m).shape, tuple(shape))
    except ValueError:
        raise ValueError(f"{name}: where= of shape {aval(m).shape} does not broadcast to the "
                         f"operand's shape {tuple(shape)}.") from None
    return broadcast_to(m, tuple(shape))


def _masked(a, mask, fill):
    """``a`` with the elements outside ``mask`` replaced by ``fill`` (the reduction's
    identity), so that they do not count."""
    if mask is None:
        return a
    from ._ufuncs import _where

    return _where(mask, a, np.asarray(fill, aval(a).dtype)[()])


def _sum_dtype(dt: np.dtype) -> np.dtype:
    """numpy's default accumulator of sum/prod/cumsum: small ints and bool -> int64."""
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8):
        return np.dtype(np.int64)
    if dt.kind == "u" and dt.itemsize < 8:
        return np.dtype(np.uint64)
    return dt


def _as_array(a, name):
    a = arg(a, name)
    if type(a) in (bool, int, float, complex):
        a = np.asarray(a)
    return a


def _keepdims(r, axes, keepdims):
    if keepdims and axes:
        r = lax.expand_dims(r, tuple(axes))
    return r


def _count(shape, axes) -> int:
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Sum of elements over ``axis`` (None, int or tuple); ints/bool accumulate in int64.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.sum(np.array([[1, 2], [3, 4]], dtype=np.int32), axis=0)
    array([4, 6])
    >>> xnp.sum(np.array([1.0, 2.0, 3.0]), where=np.array([True, False, True]))
    np.float64(4.0)
    """
    _check("sum", out)
    a = _as_array(a, "sum")
    av = aval(a)
    axes = normalize_axes(axis, av.ndim, "sum")
    dt = _sum_dtype(av.dtype) if dtype is None else np.dtype(dtype)
    r = lax.reduce_sum(_masked(astype(a, dt), _mask("sum", where, av.shape), 0), axes)
    if initial is not None:
        r = lax.add(r, np.asarray(initial, dt)[()])
    return _out(_keepdims(r, axes, keepdims))


def _out(x):
    return out(x)


def _mean_dtype(dt: np.dtype, dtype):
    """(accumulation dtype, result dtype) of numpy's mean/var."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        return dtype, dtype
    if dt.kind in "biu":
        return np.dtype(np.float64), np.dtype(np.float64)
    if dt == np.float16:
        return np.dtype(np.float32), dt
    return dt, dt


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over ``axis``; integer inputs give float64.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.mean(np.array([1, 2, 4]))
    np.float64(2.3333333333333335)
    >>> xnp.mean(np.array([[1.0, 5.0], [3.0, 9.0]]), axis=1, where=np.array([True, False]))
    array([1., 3.])
    """
    _check("mean", out)
    a = _as_array(a, "mean")
    av = aval(a)
    axes = normalize_axes(axis, av.ndim, "mean")
    acc, res = _mean_dtype(av.dtype, dtype)
    mask = _mask("mean", where, av.shape)
    s = lax.reduce_sum(_masked(astype(a, acc), mask, 0), axes)
    r = lax.div(s, _count_of(mask, av.shape, axes, acc))
    return _out(_keepdims(astype(r, res), axes, keepdims))


def _count_of(mask, shape, axes, dt):
    """The number of elements each reduction over ``axes`` takes (per output element when
    a ``where=`` mask selects them), in dtype ``dt``."""
    if mask is None:
        return _scalar(_count(shape, axes), dt)
    return lax.reduce_sum(astype(mask, dt), axes)


def _scalar(v, dt):
    with np.errstate(all="ignore"):
        return np.asarray(v).astype(dt)[()]


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom (numpy's algorithm:
    mean, squared deviations, sum / max(n - ddof, 0)).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.var(np.array([1.0, 2.0, 3.0, 4.0]), ddof=1)
    np.float64(1.6666666666666667)
    """
    a, ddof = _var_args("var", a, out, where, mean, ddof, correction)
    return _out(_var(a, axis, dtype, ddof, keepdims, "var", where))


def _var_args(name, a, out, where, mean, ddof, correction):
    """The argument checks ``var`` and ``std`` share; returns (array, ddof)."""
    _check(name, out)
    if mean is not None:
        raise TypeError(f"{name}: mean= is not supported")
    if correction is not None:
        ddof = correction
    return _as_array(a, name), ddof


def _var(a, axis, dtype, ddof, keepdims, name, where=None):
    av = aval(a)
    axes = normalize_axes(axis, av.ndim, name)
    acc, res = _mean_dtype(av.dtype, dtype)
    mask = _mask(name, where, av.shape)
    x = astype(a, acc)
    n = _count_of(mask, av.shape, axes, acc)
    m = lax.div(lax.reduce_sum(_masked(x, mask, 0), axes), n)
    m = lax.expand_dims(m, axes) if axes else m
    d = _masked(lax.sub(x, _bcast_back(m, av.shape, axes)), mask, 0)
    if acc.kind == "c":
        if not hasattr(lax, "real"):
            raise TypeError(f"{name}: complex inputs are not supported yet (xform.lax has no "
                            f"real/conj primitives)")
        sq = lax.real(lax.mul(d, lax.conj(d)))
    else:
        sq = lax.mul(d, d)
    s = lax.reduce_sum(sq, axes)
    sdt = aval(s).dtype
    if mask is None:
        denom = _scalar(builtins_max(_count(av.shape, axes) - ddof, 0), sdt)
    else:
        denom = lax.max(lax.sub(astype(n, sdt), _scalar(ddof, sdt)), _scalar(0, sdt))
    r = lax.div(s, denom)
    if res.kind == "c":
        res = np.dtype(np.finfo(res).dtype)
    return _keepdims(astype(r, res), axes, keepdims)


def builtins_max(a, b):
    return a if a >= b else b


def _bcast_back(m, shape, axes):
    """m has size-1 dims at ``axes``; broadcast to ``shape``."""
    ms = aval(m).shape
    if tuple(ms) == tuple(shape):
        return m
    return lax.broadcast_in_dim(lax.squeeze(m, axes) if axes else m, tuple(shape),
                                tuple(i for i in range(len(shape)) if i not in axes))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Standard deviation: sqrt(var(a, axis, ddof=ddof)).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.std(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    a, ddof = _var_args("std", a, out, where, mean, ddof, correction)
    v = _var(a, axis, dtype, ddof, keepdims, "std", where)
    res = aval(v).dtype
    if res == np.float16:
        v = astype(v, np.float32)
    return _out(astype(lax.sqrt(v), res))


def _minmax(name, lax_fn, ufunc):
    def f(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=None):
        _check(name, out)
        a = _as_array(a, name)
        av = aval(a)
        axes = normalize_axes(axis, av.ndim, name)
        if initial is np._NoValue:
            initial = None
        mask = _mask(name, where, av.shape)
        if mask is not None:
            if initial is None:
                raise ValueError(f"{name}: reduction operation {ufunc.__name__!r} does not have "
                                 f"an identity, so to use a where mask one has to specify "
                                 f"'initial'.")
            a = _masked(a, mask, initial)
        if initial is None and builtins.any(av.shape[ax] == 0 for ax in axes):
            raise ValueError(
                f"zero-size array to reduction operation {ufunc.__name__} which has no "
                f"identity ({name} of an array of shape {av.shape})")
        r = lax_fn(a, axes) if axes else a
        if initial is not None:
            r = (lax.max if ufunc is np.maximum else lax.min)(r, np.asarray(initial, av.dtype)[()])
        return _out(_keepdims(r, axes, keepdims))

    f.__name__ = f.__qualname__ = name
    return f


def _reduce_max(x, axes):
    return lax.reduce_max(x, axes)


def _reduce_min(x, axes):
    return lax.reduce_min(x, axes)


max = _minmax("max", _reduce_max, np.maximum)  # noqa: A001
max.__doc__ = """Maximum over ``axis`` (nan propagates); errors on empty reductions.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.max(np.array([[1, 5], [3, 2]]), axis=1)
    array([5, 3])
    """
min = _minmax("min", _reduce_min, np.minimum)  # noqa: A001
min.__doc__ = """Minimum over ``axis`` (nan propagates); errors on empty reductions.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.min(np.array([[1, 5], [3, 2]]), axis=1)
    array([1, 2])
    """
amax = max
amin = min


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product of elements over ``axis``; ints/bool accumulate in int64.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.prod(np.array([[1, 2], [3, 4]]), axis=1)
    array([ 2, 12])
    """
    _check("prod", out)
    a = _as_array(a, "prod")
    av = aval(a)
    axes = normalize_axes(axis, av.ndim, "prod")
    dt = _sum_dtype(av.dtype) if dtype is None else np.dtype(dtype)
    a = _masked(astype(a, dt), _mask("prod", where, av.shape), 1)
    r = lax.reduce_prod(a, axes) if axes else a
    if initial is not None:
        r = lax.mul(r, np.asarray(initial, dt)[()])
    return _out(_keepdims(r, axes, keepdims))


def _argminmax(name, lax_fn):
    def f(a, axis=None, out=None, *, keepdims=False):
        _check(name, out)
        a = _as_array(a, name)
        av = aval(a)
        if axis is None:
            if av.size == 0:
                raise ValueError(f"attempt to get {name} of an empty sequence")
            flat = lax.reshape(a, (av.size,))
            r = lax_fn(flat, 0, np.dtype(np.int64))
            if keepdims:
                r = lax.reshape(r, (1,) * av.ndim)
            return _out(r)
        ax = normalize_axis(axis, av.ndim, name)
        if av.shape[ax] == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        r = lax_fn(a, ax, np.dtype(np.int64))
        if keepdims:
            r = lax.expand_dims(r, (ax,))
        return _out(r)

    f.__name__ = f.__qualname__ = name
    return f


argmax = _argminmax("argmax", lambda x, ax, dt: lax.argmax(x, ax, dt))
argmax.__doc__ = """Index of the maximum along ``axis`` (flattened if None), int64.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argmax(np.array([[1, 5], [7, 2]]), axis=1)
    array([1, 0])
    """
argmin = _argminmax("argmin", lambda x, ax, dt: lax.argmin(x, ax, dt))
argmin.__doc__ = """Index of the minimum along ``axis`` (flattened if None), int64.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argmin(np.array([3, 1, 2]))
    np.int64(1)
    """


def _to_bool(a):
    from ._ufuncs import _to_bool as tb

    return tb(a)


def _allany(name, reducer):
    def f(a, axis=None, out=None, keepdims=False, *, where=None):
        _check(name, out)
        a = _as_array(a, name)
        av = aval(a)
        axes = normalize_axes(axis, av.ndim, name)
        b = _masked(_to_bool(a), _mask(name, where, av.shape), name == "all")
        r = reducer(b, axes) if axes else b
        return _out(_keepdims(r, axes, keepdims))

    f.__name__ = f.__qualname__ = name
    return f


def _all_reduce(b, axes):
    if aval(b).size == 0:
        shape = tuple(s for i, s in enumerate(aval(b).shape) if i not in axes)
        return lax.full(shape, True, np.dtype(bool))
    return lax.reduce_and(b, axes)


def _any_reduce(b, axes):
    if aval(b).size == 0:
        shape = tuple(s for i, s in enumerate(aval(b).shape) if i not in axes)
        return lax.full(shape, False, np.dtype(bool))
    return lax.reduce_or(b, axes)


all = _allany("all", _all_reduce)  # noqa: A001
all.__doc__ = """True if all elements along ``axis`` are nonzero.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.all(np.array([[1, 0], [2, 3]]), axis=1)
    array([False,  True])
    """
any = _allany("any", _any_reduce)  # noqa: A001
any.__doc__ = """True if any element along ``axis`` is nonzero.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.any(np.array([[1, 0], [0, 0]]), axis=1)
    array([ True, False])
    """


def _cum(name, lax_fn):
    def f(a, axis=None, dtype=None, out=None):
        _check(name, out)
        a = _as_array(a, name)
        av = aval(a)
        if axis is None:
            a = lax.reshape(a, (av.size,))
            ax = 0
        else:
            ax = normalize_axis(axis, av.ndim, name)
        dt = _sum_dtype(av.dtype) if dtype is None else np.dtype(dtype)
        a = astype(a, dt)
        if aval(a).shape[ax] == 0:
            return _out(a)
        return _out(lax_fn(a, ax))

    f.__name__ = f.__qualname__ = name
    return f


cumsum = _cum("cumsum", lambda x, ax: lax.cumsum(x, ax))
cumsum.__doc__ = """Cumulative sum along ``axis`` (flattened if None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.cumsum(np.array([[1, 2], [3, 4]]), axis=1)
    array([[1, 3],
           [3, 7]])
    """
cumprod = _cum("cumprod", lambda x, ax: lax.cumprod(x, ax))
cumprod.__doc__ = """Cumulative product along ``axis`` (flattened if None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.cumprod(np.array([1, 2, 3, 4]))
    array([ 1,  2,  6, 24])
    """


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """Array-API cumulative sum (``axis`` required for n-d inputs).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.cumulative_sum(np.array([1, 2, 3]), include_initial=True)
    array([0, 1, 3, 6])
    """
    return _cumulative_api("cumulative_sum", cumsum, 0, x, axis, dtype, out, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """Array-API cumulative product.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.cumulative_prod(np.array([1, 2, 3]))
    array([1, 2, 6])
    """
    return _cumulative_api("cumulative_prod", cumprod, 1, x, axis, dtype, out, include_initial)


def _cumulative_api(name, fn, ident, x, axis, dtype, out_, include_initial):
    x = _as_array(x, name)
    nd = aval(x).ndim
    if axis is None:
        if nd > 1:
            raise ValueError(f"{name}: axis must be given for arrays with more than one dimension")
        axis = 0
    if nd == 0:
        x = lax.reshape(x, (1,))
    r = fn(x, axis=axis, dtype=dtype, out=out_)
    if include_initial:
        ax = normalize_axis(axis, aval(r).ndim, name)
        cfg = [(0, 0, 0)] * aval(r).ndim
        cfg[ax] = (1, 0, 0)
        r = lax.pad(r, _scalar(ident, aval(r).dtype), tuple(cfg))
    return _out(r)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.trace(np.arange(9).reshape(3, 3))
    np.int64(12)
    """
    from ._indexing_routines import diagonal

    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """n-th discrete difference along ``axis`` (not_equal for booleans).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diff(np.array([1, 4, 9, 16]), n=2)
    array([2, 2])
    """
    from ._manipulation import concatenate
    from ._ufuncs import not_equal, subtract

    a = _a(a, "diff")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if n == 0:
        return out_array(a)
    nd = aval(a).ndim
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = normalize_axis(axis, nd, "diff")
    parts = []
    for v in (prepend, append):
        if v is np._NoValue:
            parts.append(None)
            continue
        v = _a(v, "diff")
        if aval(v).ndim == 0:
            shp = list(aval(a).shape)
            shp[ax] = 1
            v = lax.broadcast_to_shape(v, tuple(shp))
        parts.append(v)
    if parts[0] is not None or parts[1] is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=ax)
    op = not_equal if aval(a).dtype.kind == "b" else subtract
    for _ in range(n):
        m = aval(a).shape[ax]
        if m == 0:
            break
        a = op(lax.slice_in_dim(a, 1, m, 1, ax), lax.slice_in_dim(a, 0, m - 1, 1, ax))
    return out_array(a)


def count_nonzero(a, axis=None, *, keepdims=False):
    """Number of nonzero elements along ``axis``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.count_nonzero(np.array([[0, 1], [2, 0]]))
    np.int64(2)
    """
    a = _as_array(a, "count_nonzero")
    return sum(astype(_to_bool(a), np.int64), axis=axis, keepdims=keepdims)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted average along ``axis`` (``weights`` broadcast like numpy's 1-d rule).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.average(np.array([1.0, 2.0, 4.0]), weights=np.array([1.0, 1.0, 2.0]))
    np.float64(2.75)
    """
    from ._ufuncs import multiply, true_divide

    a = _as_array(a, "average")
    if weights is None:
        r = mean(a, axis=axis, keepdims=keepdims)
        if returned:
            n = aval(a).size if axis is None else _count(
                aval(a).shape, normalize_axes(axis, aval(a).ndim, "average"))
            return r, _out(astype(np.asarray(n), aval(r).dtype if hasattr(r, "dtype") else float))
        return r
    w = _as_array(weights, "average")
    av, wv = aval(a), aval(w)
    if wv.shape != av.shape:
        if axis is None or wv.ndim != 1:
            raise TypeError("average: axis must be specified when shapes of a and weights differ "
                            "(and weights must then be 1-d)")
        ax = normalize_axis(axis, av.ndim, "average")
        if wv.shape[0] != av.shape[ax]:
            raise ValueError("average: length of weights differs from the length of the axis")
        w = lax.broadcast_in_dim(w, av.shape, (ax,))
    # numpy's result dtype: integer/bool data average in (at least) float64
    rdt = (np.result_type(av.dtype, wv.dtype, np.float64) if av.dtype.kind in "biu"
           else np.result_type(av.dtype, wv.dtype))
    a, w = astype(a, rdt), astype(w, rdt)
    scl = sum(w, axis=axis, keepdims=keepdims)
    r = true_divide(sum(multiply(a, w), axis=axis, keepdims=keepdims), scl)
    if returned:
        if aval(scl).shape != aval(r).shape:
            scl = lax.broadcast_to_shape(scl, aval(r).shape)
        return r, scl
    return r


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (max - min) along ``axis``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.ptp(np.array([[4, 9], [2, 3]]), axis=1)
    array([5, 1])
    """
    from ._ufuncs import subtract

    return subtract(max(a, axis=axis, out=out, keepdims=keepdims),
                    min(a, axis=axis, keepdims=keepdims))


def _nan_to(a, value):
    from ._ufuncs import _where, isnan

    a = _as_array(a, "nan-reduction")
    if aval(a).dtype.kind not in "fc":
        return a
    return _where(isnan(a), value, a)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Sum treating nan as zero.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nansum(np.array([1.0, np.nan, 2.0]))
    np.float64(3.0)
    """
    return sum(_nan_to(a, 0.0), axis, dtype, out, keepdims, initial, where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Mean ignoring nans.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nanmean(np.array([1.0, np.nan, 2.0]))
    np.float64(1.5)
    """
    from ._ufuncs import isnan, logical_not, true_divide

    a = _as_array(a, "nanmean")
    if aval(a).dtype.kind not in "fc":
        return mean(a, axis, dtype, out, keepdims, where=where)
    cnt = sum(logical_not(isnan(a)), axis=axis, keepdims=keepdims, where=where)
    tot = nansum(a, axis, dtype, out, keepdims, where=where)
    return true_divide(tot, astype(cnt, aval(tot).dtype))


def nanmax(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=None):
    """Maximum ignoring nans.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nanmax(np.array([1.0, np.nan, 2.0]))
    np.float64(2.0)
    """
    return _nan_extreme(max, -np.inf, "nanmax", a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=None):
    """Minimum ignoring nans.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nanmin(np.array([1.0, np.nan, 2.0]))
    np.float64(1.0)
    """
    return _nan_extreme(min, np.inf, "nanmin", a, axis, out, keepdims, initial, where)


def _nan_extreme(reduce, fill, name, a, axis, out, keepdims, initial, where):
    """nanmax/nanmin: nans replaced by ``fill`` (so they never win), and nan again for
    slices that had nothing but nans (numpy's result, without its warning)."""
    from ._ufuncs import _where, isnan

    a = _as_array(a, name)
    if aval(a).dtype.kind not in "fc":
        return reduce(a, axis, out, keepdims, initial, where)
    nan = isnan(a)
    r = reduce(_where(nan, fill, a), axis, out, keepdims, initial, where)
    if initial is not np._NoValue:  # an all-nan slice gives ``initial``, as in numpy
        return r
    return _out(_where(all(nan, axis=axis, keepdims=keepdims), np.nan, r))
