"""Reductions and cumulative operations, each defined with all of its rules.

reduce_sum (defined in ``structural``; re-exported), reduce_max, reduce_min,
reduce_prod, reduce_and, reduce_or, argmax, argmin, cumsum, cumprod, cummax, cummin,
and ``associative_scan`` (the differentiable prefix scan the cumulative JVPs use).

Axis parameters of the primitives are sorted, non-negative tuples; the user-facing
functions accept ints, negative axes and sequences.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import get_aval
from ..interpreters.jvp import Zero, deflinear, jvp_flat
from .elementwise import _zero_jvp
from .structural import (
    shape_of,
    broadcast_in_dim,
    canonicalize_axes,
    canonicalize_axis,
    checked_impl,
    concatenate,
    expand_dims,
    full,
    pad,
    reduce_sum,
    reduce_sum_p,
    reshape,
    rev,
    slice_in_dim,
    transpose,
)

__all__ = [
    "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or",
    "argmax", "argmin", "cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp",
    "associative_scan",
    "reduce_sum_p", "reduce_max_p", "reduce_min_p", "reduce_prod_p", "reduce_and_p",
    "reduce_or_p", "argmax_p", "argmin_p", "cumsum_p", "cumprod_p", "cummax_p", "cummin_p",
    "cumlogsumexp_p",
]


def _ew():
    from . import elementwise

    return elementwise


def _reduce_shape(name, x, axes):
    for a in axes:
        if not 0 <= a < x.ndim:
            raise ValueError(f"{name}: axis {a} is out of bounds for operand shape {x.shape}")
    return tuple(s for i, s in enumerate(x.shape) if i not in axes)


def _reduce_batch(prim):
    """vmap rule of a reduction over ``axes``: shift the axes past the batch dim."""

    def rule(vals, dims, axes, **params):
        (x,), (d,) = vals, dims
        new_axes = tuple(a + (a >= d) for a in axes)
        out_d = d - sum(1 for a in new_axes if a < d)
        return prim.bind(x, axes=new_axes, **params), out_d

    return rule


def _kept(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


# -- reduce_max / reduce_min --------------------------------------------------------------


def _identity(dtype, which):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return which == "min"
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return info.min if which == "max" else info.max
    if dt.kind == "f":
        return -np.inf if which == "max" else np.inf
    raise TypeError(f"reduce_{which}: dtype {dt} has no ordering")


cumsum: Callable[..., Any]  # defined below with the other cumulative ops

def _chooser(name, np_fn, which):
    p = Primitive(name)

    def impl(x, axes):
        x = np.asarray(x)
        return np.asarray(np_fn(x, axis=axes, initial=_identity(x.dtype, which)))

    def abstract(x, axes):
        if x.dtype.kind == "c":
            raise TypeError(f"{name}: complex operand {x.str_short()} has no ordering")
        return ShapedArray(_reduce_shape(name, x, axes), x.dtype, x.weak_type)

    def jvp(primals, tangents, axes):
        # Ties share the derivative equally (JAX's rule): mask of the maxima / count.
        ew = _ew()
        (x,), (g,) = primals, tangents
        ans = p.bind(x, axes=axes)
        shape = shape_of(x)
        if type(g) is Zero:
            return ans, Zero.like(ans)
        if any(shape[a] == 0 for a in axes):
            return ans, full(shape_of(ans), 0, get_aval(g).dtype)
        loc = ew.eq(x, broadcast_in_dim(ans, shape, _kept(len(shape), axes)))
        loc = ew.convert_element_type(loc, get_aval(g).dtype)
        counts = reduce_sum(loc, axes)
        return ans, ew.div(reduce_sum(ew.mul(g, loc), axes), counts)

    p.impl = checked_impl(p, impl)
    p.abstract_eval = abstract
    p.jvp = jvp
    p.batch = _reduce_batch(p)
    return p


reduce_max_p = _chooser("reduce_max", np.max, "max")
reduce_min_p = _chooser("reduce_min", np.min, "min")


def _bind_reduce(p, x, axes):
    """The reduction ``p`` of x over ``axes`` (canonicalized); x itself for no axes."""
    axes = canonicalize_axes(axes, len(shape_of(x)), p.name)
    return p.bind(x, axes=axes) if axes else x


def reduce_max(x, axes):
    """Maximum over ``axes`` (int or tuple, negative allowed). NaNs propagate; an empty
    reduction gives the identity (-inf, or the dtype's minimum; False for bool), as in
    JAX. The derivative is split equally among tied maxima.

    >>> import numpy as np
    >>> reduce_max(np.array([[1., 5.], [7., 2.]]), 1)
    array([5., 7.])
    """
    return _bind_reduce(reduce_max_p, x, axes)


def reduce_min(x, axes):
    """Minimum over ``axes`` (see ``reduce_max``; the empty identity is +inf / max).

    >>> import numpy as np
    >>> reduce_min(np.array([[1., 5.], [7., 2.]]), -1)
    array([1., 2.])
    """
    return _bind_reduce(reduce_min_p, x, axes)


# -- reduce_prod --------------------------------------------------------------------------

reduce_prod_p = Primitive("reduce_prod")


def _reduce_prod_abstract(x, axes):
    return ShapedArray(_reduce_shape("reduce_prod", x, axes), x.dtype, x.weak_type)


def _reduce_prod_jvp(primals, tangents, axes):
    """d prod = sum_i g_i * prod_{j != i} x_j, with the products of the others computed
    as (exclusive prefix product) * (exclusive suffix product): exact with zeros, and
    built from differentiable ops so it differentiates again."""
    ew = _ew()
    (x,), (g,) = primals, tangents
    ans = reduce_prod(x, axes)
    if type(g) is Zero:
        return ans, Zero.like(ans)
    shape = shape_of(x)
    kept = _kept(len(shape), axes)
    kshape = tuple(shape[i] for i in kept)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    if n == 0:
        return ans, full(kshape, 0, get_aval(g).dtype)
    perm = kept + tuple(axes)
    xr = reshape(transpose(x, perm), kshape + (n,))
    gr = reshape(transpose(g, perm), kshape + (n,))
    last = len(kshape)
    config_l = ((0, 0, 0),) * last + ((1, 0, 0),)
    config_r = ((0, 0, 0),) * last + ((0, 1, 0),)
    one = np.ones((), get_aval(x).dtype)
    left = pad(slice_in_dim(cumprod(xr, last), 0, n - 1, 1, last), one, config_l)
    right = pad(slice_in_dim(cumprod(xr, last, reverse=True), 1, n, 1, last), one, config_r)
    return ans, reduce_sum(ew.mul(gr, ew.mul(left, right)), (last,))


reduce_prod_p.impl = checked_impl(
    reduce_prod_p, lambda x, axes: np.asarray(np.prod(x, axis=axes, dtype=np.asarray(x).dtype)))
reduce_prod_p.abstract_eval = _reduce_prod_abstract
reduce_prod_p.jvp = _reduce_prod_jvp
reduce_prod_p.batch = _reduce_batch(reduce_prod_p)


def reduce_prod(x, axes):
    """Product over ``axes`` (int or tuple, negative allowed); the dtype is kept.
    Its derivative is exact when the input contains zeros.

    >>> import numpy as np
    >>> reduce_prod(np.array([[1., 2.], [3., 4.]]), 0)
    array([3., 8.])
    """
    return _bind_reduce(reduce_prod_p, x, axes)


# -- reduce_and / reduce_or ------------------------------------------------------------------


def _logical_reduction(name, np_fn):
    p = Primitive(name)

    def abstract(x, axes):
        if x.dtype.kind != "b":
            raise TypeError(f"{name}: operand must be boolean, got {x.str_short()}")
        return ShapedArray(_reduce_shape(name, x, axes), x.dtype, x.weak_type)

    def impl(x, axes):
        x = np.asarray(x)
        if x.dtype.kind != "b":
            raise TypeError(name)
        return np.asarray(np_fn(x, axis=axes))

    p.impl = checked_impl(p, impl)
    p.abstract_eval = abstract
    _zero_jvp(p)
    p.batch = _reduce_batch(p)
    return p


reduce_and_p = _logical_reduction("reduce_and", np.all)
reduce_or_p = _logical_reduction("reduce_or", np.any)


def reduce_and(x, axes):
    """Logical AND of a boolean array over ``axes`` (True for an empty reduction).

    >>> import numpy as np
    >>> reduce_and(np.array([[True, False], [True, True]]), 1)
    array([False,  True])
    """
    return _bind_reduce(reduce_and_p, x, axes)


def reduce_or(x, axes):
    """Logical OR of a boolean array over ``axes`` (False for an empty reduction).

    >>> import numpy as np
    >>> reduce_or(np.array([[True, False], [False, False]]), 1)
    array([ True, False])
    """
    return _bind_reduce(reduce_or_p, x, axes)


# -- argmax / argmin ----------------------------------------------------------------------------


def _arg_reduction(name, np_fn):
    p = Primitive(name)

    def abstract(x, axes, index_dtype):
        (axis,) = axes
        shape = _reduce_shape(name, x, axes)
        if x.shape[axis] == 0:
            raise ValueError(f"{name}: axis {axis} of operand shape {x.shape} is empty")
        if np.dtype(index_dtype).kind not in "iu":
            raise TypeError(f"{name}: index_dtype must be an integer dtype, got {index_dtype}")
        if x.dtype.kind == "c":
            raise TypeError(f"{name}: complex operand {x.str_short()} has no ordering")
        return ShapedArray(shape, np.dtype(index_dtype), False)

    def impl(x, axes, index_dtype):
        x = np.asarray(x)
        if x.dtype.kind == "c":
            raise TypeError(name)
        return np.asarray(np_fn(x, axis=axes[0])).astype(index_dtype)

    p.impl = checked_impl(p, impl)
    p.abstract_eval = abstract
    _zero_jvp(p)
    p.batch = _reduce_batch(p)
    return p


argmax_p = _arg_reduction("argmax", np.argmax)
argmin_p = _arg_reduction("argmin", np.argmin)


def argmax(x, axis, index_dtype=np.int64):
    """Index of the maximum along ``axis`` (the first one among ties; the first NaN if
    any, like numpy).

    >>> import numpy as np
    >>> argmax(np.array([[1., 5., 5.], [7., 2., np.nan]]), axis=-1, index_dtype=np.int32)
    array([1, 2], dtype=int32)
    """
    axis = canonicalize_axis(axis, len(shape_of(x)), "argmax")
    return argmax_p.bind(x, axes=(axis,), index_dtype=_index_dtype(index_dtype, "argmax"))


def argmin(x, axis, index_dtype=np.int64):
    """Index of the minimum along ``axis`` (first among ties; first NaN, like numpy).

    >>> import numpy as np
    >>> argmin(np.array([3, 1, 1]), 0)
    array(1)
    """
    axis = canonicalize_axis(axis, len(shape_of(x)), "argmin")
    return argmin_p.bind(x, axes=(axis,), index_dtype=_index_dtype(index_dtype, "argmin"))


def _index_dtype(dt, name):
    dt = np.dtype(dt)
    if dt.kind not in "iu":
        raise TypeError(f"{name}: index_dtype must be an integer dtype, got {dt}")
    return dt


# -- associative_scan (differentiable prefix scan from slices) ---------------------------------


def _interleave(even, odd, axis):
    """result[2k] = even[k], result[2k+1] = odd[k] (len(even) - len(odd) in {0, 1})."""
    ne, no = shape_of(even)[axis], shape_of(odd)[axis]
    if ne > no:
        config = [(0, 0, 0)] * len(shape_of(odd))
        config[axis] = (0, 1, 0)
        odd = pad(odd, np.zeros((), get_aval(odd).dtype), tuple(config))
    both = concatenate([expand_dims(even, (axis + 1,)), expand_dims(odd, (axis + 1,))], axis + 1)
    shape = list(shape_of(even))
    shape[axis] = 2 * ne
    out = reshape(both, tuple(shape))
    return slice_in_dim(out, 0, ne + no, 1, axis) if ne > no else out


def _slices(leaves, start, stop, stride, axis):
    return [slice_in_dim(v, start, stop, stride, axis) for v in leaves]


def _scan(fn, xs, axis):
    """The prefix scan of a list of leaves (``fn`` maps two leaf lists to one)."""
    n = shape_of(xs[0])[axis]
    if n < 2:
        return xs
    reduced = fn(_slices(xs, 0, n - 1, 2, axis), _slices(xs, 1, n, 2, axis))
    odd = _scan(fn, reduced, axis)
    if n % 2 == 0:
        even = fn(_slices(odd, 0, n // 2 - 1, 1, axis), _slices(xs, 2, n, 2, axis))
    else:
        even = fn(odd, _slices(xs, 2, n, 2, axis))
    out = []
    for x, e, o in zip(xs, even, odd):
        e = concatenate([slice_in_dim(x, 0, 1, 1, axis), e], axis)
        out.append(_interleave(e, o, axis))
    return out


def associative_scan(fn, elems, axis=0, reverse=False):
    """Inclusive prefix scan with an associative binary ``fn`` (e.g. ``lax.add``,
    ``lax.mul``, ``lax.max``) in O(log n) vectorized steps, built from slices, pads and
    concatenations so that it differentiates like ``fn``. ``elems`` may be a pytree of
    arrays of one length along ``axis``; ``fn`` then takes and returns such pytrees.

    >>> import numpy as np
    >>> from xform import lax
    >>> associative_scan(lax.mul, np.array([1., 2., 3., 4.]))
    array([ 1.,  2.,  6., 24.])
    >>> # a linear recurrence h[t] = a[t] * h[t-1] + b[t] as pairs (a, b)
    >>> combine = lambda p, q: (q[0] * p[0], q[0] * p[1] + q[1])
    >>> associative_scan(combine, (np.array([1., 2., 3.]), np.array([1., 1., 1.])))[1]
    array([ 1.,  3., 10.])
    """
    from ..core.pytree import tree_flatten, tree_unflatten

    leaves, tree = tree_flatten(elems)
    if not leaves:
        raise ValueError("associative_scan: elems has no arrays.")
    axis = canonicalize_axis(axis, len(shape_of(leaves[0])), "associative_scan")
    n = shape_of(leaves[0])[axis]
    for v in leaves[1:]:
        s = shape_of(v)
        if len(s) <= axis or s[axis] != n:
            raise ValueError(
                f"associative_scan: every array of elems needs length {n} along axis {axis} "
                f"(as the first one), got shape {tuple(s)}.")

    def combine(a, b):
        out_leaves, out_tree = tree_flatten(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))
        if out_tree != tree:
            raise TypeError(f"associative_scan: fn must return the structure of elems "
                            f"({tree}), got {out_tree}.")
        return out_leaves

    if reverse:
        leaves = [rev(v, (axis,)) for v in leaves]
    out = _scan(combine, leaves, axis)
    if reverse:
        out = [rev(v, (axis,)) for v in out]
    return tree_unflatten(tree, out)


# -- cumulative ops ---------------------------------------------------------------------------


def _cumulative(name, np_accumulate):
    p = Primitive(name)

    def impl(x, axis, reverse):
        x = np.asarray(x)
        if reverse:
            return np.flip(np_accumulate(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return np_accumulate(x, axis=axis, dtype=x.dtype)

    def abstract(x, axis, reverse):
        if not 0 <= axis < x.ndim:
            raise ValueError(f"{name}: axis {axis} is out of bounds for operand shape {x.shape}")
        return ShapedArray(x.shape, x.dtype, x.weak_type)

    def batch(vals, dims, axis, reverse):
        (x,), (d,) = vals, dims
        return p.bind(x, axis=axis + (axis >= d), reverse=reverse), d

    p.impl = checked_impl(p, impl)
    p.abstract_eval = abstract
    p.batch = batch
    return p


cumsum_p = _cumulative("cumsum", np.add.accumulate)
cumprod_p = _cumulative("cumprod", np.multiply.accumulate)
cummax_p = _cumulative("cummax", np.maximum.accumulate)
cummin_p = _cumulative("cummin", np.minimum.accumulate)
cumlogsumexp_p = _cumulative("cumlogsumexp", np.logaddexp.accumulate)

deflinear(cumsum_p, lambda ct, x, axis, reverse: [
    Zero(x.aval) if type(ct) is Zero else cumsum(ct, axis, reverse=not reverse)])


def _scan_jvp(combine):
    # JAX's approach: the JVP of the associative-scan formulation (exact with zeros and
    # ties, and differentiable again); the plain primitive stays fast when not differentiated.
    def jvp(primals, tangents, axis, reverse):
        fn = getattr(_ew(), combine)
        outs, touts = jvp_flat(lambda x: [associative_scan(fn, x, axis, reverse)],
                               list(primals), list(tangents), name="cumulative_jvp")
        return outs[0], touts[0]

    return jvp


cumprod_p.jvp = _scan_jvp("mul")
cummax_p.jvp = _scan_jvp("max")
cummin_p.jvp = _scan_jvp("min")


def _logaddexp(a, b):
    # JAX's stable form; the NaN branch (both -inf, or both +inf) gives a + b
    amax, delta = _ew().max(a, b), _ew().sub(a, b)
    safe = _ew().add(amax, _ew().log1p(_ew().exp(_ew().neg(_ew().abs(delta)))))
    return _ew().select(_ew().ne(delta, delta), _ew().add(a, b), safe)


def _cumlogsumexp_abstract(x, axis, reverse):
    if x.dtype.kind != "f":
        raise TypeError(f"cumlogsumexp: operand must be floating, got {x.str_short()}")
    return _cumulative_abstract(x, axis=axis, reverse=reverse)


def _cumlogsumexp_jvp(primals, tangents, axis, reverse):
    _, touts = jvp_flat(lambda x: [associative_scan(_logaddexp, x, axis, reverse)],
                           list(primals), list(tangents), name="cumulative_jvp")
    return cumlogsumexp_p.bind(primals[0], axis=axis, reverse=reverse), touts[0]


_cumulative_abstract = cumlogsumexp_p.abstract_eval
cumlogsumexp_p.abstract_eval = _cumlogsumexp_abstract
cumlogsumexp_p.jvp = _cumlogsumexp_jvp


def _cum_fn(p, name, doc):
    def f(x, axis=0, reverse=False):
        axis = canonicalize_axis(axis, len(shape_of(x)), name)
        return p.bind(x, axis=axis, reverse=bool(reverse))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


cumsum = _cum_fn(cumsum_p, "cumsum", """Cumulative sum along ``axis`` (from the end if
    ``reverse``); the dtype is kept. Linear: its transpose is the reversed cumsum.

    >>> import numpy as np
    >>> cumsum(np.array([1, 2, 3]), reverse=True)
    array([6, 5, 3])
    """)
cumprod = _cum_fn(cumprod_p, "cumprod", """Cumulative product along ``axis``.

    >>> import numpy as np
    >>> cumprod(np.array([1., 2., 3.]))
    array([1., 2., 6.])
    """)
cummax = _cum_fn(cummax_p, "cummax", """Running maximum along ``axis`` (NaN propagates).

    >>> import numpy as np
    >>> cummax(np.array([1, 3, 2]))
    array([1, 3, 3])
    """)
cumlogsumexp = _cum_fn(cumlogsumexp_p, "cumlogsumexp", """Cumulative ``log(sum(exp(x)))`` along
    ``axis`` (numerically stable: ``numpy.logaddexp.accumulate``).

    >>> import numpy as np
    >>> cumlogsumexp(np.log(np.array([1., 2., 3.])))
    array([0.        , 1.09861229, 1.79175947])
    """)
cummin = _cum_fn(cummin_p, "cummin", """Running minimum along ``axis`` (NaN propagates).

    >>> import numpy as np
    >>> cummin(np.array([3, 1, 2]))
    array([3, 1, 1])
    """)
