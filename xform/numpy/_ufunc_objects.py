"""``xform.numpy.ufunc`` and ``frompyfunc`` (JAX's ``jnp.ufunc``): universal functions
with numpy's methods ``reduce``, ``accumulate``, ``outer``, ``at`` and ``reduceat``.

``xform.numpy``'s binary ufuncs (``add``, ``multiply``, ``maximum``, ``equal``, ...) and
``negative`` are instances, so ``xnp.add.outer(a, b)`` and ``xnp.maximum.accumulate(x)``
work as in numpy and JAX. Methods use the fast reductions where one exists (``add.reduce``
is ``sum``, ``maximum.accumulate`` is ``lax.cummax``) and otherwise loop with
``lax.fori_loop``/``lax.scan`` over the function, so any ufunc (also one made by
``frompyfunc``) reduces, traces and differentiates. ``at`` returns a new array
(``inplace=False``, as JAX requires: xform arrays are immutable inside transformations).
"""
from __future__ import annotations

import functools
import operator
from typing import Any, Callable

import numpy as np

from .. import lax
from ..core.abstract import ShapedArray
from ..interpreters.staging import trace_to_jaxpr
from ._creation import asarray
from ._manipulation import broadcast_to, concatenate, moveaxis, reshape
from ._promote import array_arg, dtype_of, is_tracer, normalize_axes, normalize_axis, shape

__all__ = ["ufunc", "frompyfunc"]

_AT_INPLACE = ("xform.numpy.ufunc.at cannot modify arrays in-place, because xform arrays are "
               "immutable inside transformations (as JAX's). Pass inplace=False to instead "
               "return an updated array.")


def _result_dtype(fn: Callable, *dtypes) -> np.dtype:
    """The dtype of ``fn`` applied to 0-d operands of ``dtypes`` (traced, not run)."""
    jaxpr, _ = trace_to_jaxpr(lambda *xs: [fn(*xs)], [ShapedArray((), np.dtype(d)) for d in dtypes],
                              name="ufunc_dtype", dynamic=False)
    return np.dtype(jaxpr.out_avals[0].dtype)


def _eager(fn):
    """Methods return ``xform.Array`` for eager results, as the namespace functions."""
    from ._array import _wrap
    from ..core.array import Array

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        r = fn(*args, **kwargs)
        return r.view(Array) if type(r) is np.ndarray else _wrap(r)

    return wrapper


class ufunc:
    """A universal function: ``func`` applied elementwise with broadcasting, and numpy's
    methods ``reduce``, ``accumulate``, ``outer``, ``at`` and ``reduceat`` (JAX's
    ``jnp.ufunc`` signature). ``call``/``reduce``/... override the generic methods (which
    loop over ``func`` with ``lax.fori_loop``/``lax.scan``); without ``call``, ``func`` is
    applied through ``vectorize``, so it may be written for scalars.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.add.outer(np.arange(3), np.arange(2))
    array([[0, 1],
           [1, 2],
           [2, 3]])
    >>> clipped_add = xnp.ufunc(lambda x, y: xnp.minimum(x + y, 10), nin=2, nout=1)
    >>> clipped_add.accumulate(np.array([4, 5, 6]))
    array([ 4,  9, 10])
    """

    def __init__(self, func: Callable[..., Any], /, nin: int, nout: int, *, name: str | None = None,
                 nargs: int | None = None, identity: Any = None, call: Callable | None = None,
                 reduce: Callable | None = None, accumulate: Callable | None = None,
                 at: Callable | None = None, reduceat: Callable | None = None,
                 reorderable: bool = False):
        if not callable(func):
            raise TypeError(f"ufunc: func must be callable, got {type(func).__name__}.")
        self.__doc__ = func.__doc__
        self.__name__ = self.__qualname__ = name or getattr(func, "__name__", "ufunc")
        self.__wrapped__ = func
        self._func = func
        self.nin, self.nout = operator.index(nin), operator.index(nout)
        self.nargs = operator.index(nargs or nin)
        self.identity = identity
        self._call, self._reduce, self._accumulate = call, reduce, accumulate
        self._at, self._reduceat = at, reduceat
        # several axes at once (numpy: only for ufuncs whose reduction order is free)
        self._reorderable = reorderable

    def __repr__(self) -> str:
        return f"<xnp.ufunc '{self.__name__}'>"

    def __hash__(self) -> int:
        return hash((self._func, self.__name__, self.nin, self.nout, self.nargs))

    def __eq__(self, other) -> bool:
        return isinstance(other, ufunc) and (
            (self._func, self.__name__, self.identity, self.nin, self.nout, self.nargs)
            == (other._func, other.__name__, other.identity, other.nin, other.nout, other.nargs))

    def __call__(self, *args, **kwargs):
        if self._call is not None:
            return self._call(*args, **kwargs)
        for k in ("out", "where"):
            if kwargs.pop(k, None) is not None:
                raise NotImplementedError(f"{self.__name__}: the {k}= argument is not supported.")
        if kwargs:
            raise TypeError(f"{self.__name__}() got unexpected keyword arguments {sorted(kwargs)}.")
        if len(args) != self.nin:
            raise TypeError(f"{self.__name__}() takes {self.nin} arguments, got {len(args)}.")
        from ._functional import vectorize

        return _eager(vectorize(self._func))(*args)

    def _binary_only(self, method: str) -> None:
        if self.nin != 2:
            raise ValueError(f"{self.__name__}.{method} is only supported for binary ufuncs "
                             f"(nin=2), this one has nin={self.nin}.")
        if self.nout != 1:
            raise ValueError(f"{self.__name__}.{method} is only supported for ufuncs with one "
                             f"output, this one has nout={self.nout}.")

    # -- reduce ---------------------------------------------------------------------------

    def reduce(self, a, axis: int | tuple[int, ...] | None = 0, dtype=None, out=None,
               keepdims: bool = False, initial=None, where=None):
        """Reduce ``a`` along ``axis`` by applying the ufunc repeatedly
        (``add.reduce`` is ``sum``): ``initial`` starts the reduction (required for empty
        inputs of a ufunc without identity); ``where`` masks elements out.

        >>> import numpy as np, xform.numpy as xnp
        >>> xnp.subtract.reduce(np.array([10, 1, 2]))
        np.int64(7)
        >>> xnp.logaddexp.reduce(np.log(np.array([1.0, 2.0, 5.0])))
        np.float64(2.0794415416798357)
        """
        self._binary_only("reduce")
        if out is not None:
            raise NotImplementedError(f"{self.__name__}.reduce: out= is not supported; use the "
                                      f"returned value.")
        if where is not None:
            w = array_arg(where, f"{self.__name__}.reduce")
            if dtype_of(w) != np.bool_:
                raise ValueError(f"{self.__name__}.reduce: where must have dtype bool, got "
                                 f"{dtype_of(w)}.")
            if self.identity is None and initial is None:
                raise ValueError(f"reduction operation {self.__name__!r} does not have an "
                                 f"identity, so to use a where mask one has to specify 'initial'.")
        if self._reduce is not None and (where is None or getattr(self._reduce, "_takes_where",
                                                                   False)):
            kw = {"where": where} if where is not None else {}
            return _eager(self._reduce)(a, axis=axis, dtype=dtype, keepdims=keepdims,
                                        initial=initial, **kw)
        return _eager(self._reduce_via_loop)(a, axis, dtype, keepdims, initial, where)

    def _reduce_via_loop(self, a, axis, dtype, keepdims, initial, where):
        name = f"{self.__name__}.reduce"
        a = array_arg(a, name)
        nd = len(shape(a))
        axes = normalize_axes(axis, nd, name)
        if len(axes) > 1 and not self._reorderable:
            raise ValueError(f"reduction operation {self.__name__!r} is not reorderable, so at "
                             f"most one axis may be specified.")
        if dtype is None:
            dtype = _result_dtype(self, dtype_of(a), dtype_of(a))
        dtype = np.dtype(dtype)
        rest = [d for d in range(nd) if d not in axes]
        out_shape = tuple(shape(a)[d] for d in rest)
        n = int(np.prod([shape(a)[d] for d in axes], dtype=np.int64))
        x = reshape(lax.transpose(a, tuple(axes) + tuple(rest)), (n,) + out_shape)
        w = None
        if where is not None:
            w = broadcast_to(array_arg(where, name), shape(a))
            w = reshape(lax.transpose(w, tuple(axes) + tuple(rest)), (n,) + out_shape)
        if initial is None:
            initial = self.identity
        if n == 0 and initial is None:
            raise ValueError(f"zero-size array to reduction operation {self.__name__} which has "
                             f"no identity")
        if initial is None:
            start, init = 1, asarray(x[0], dtype=dtype)
        else:
            start, init = 0, broadcast_to(asarray(initial, dtype=dtype), out_shape)

        from ._indexing import getitem
        from ._ufuncs import where as _where

        def body(i, acc):  # getitem: x may be a numpy array, i is traced
            new = asarray(self(acc, asarray(getitem(x, i), dtype=dtype)), dtype=dtype)
            return new if w is None else _where(getitem(w, i), new, acc)

        r = lax.fori_loop(start, n, body, init) if n > start else init
        if keepdims:
            r = reshape(r, tuple(1 if d in axes else shape(a)[d] for d in range(nd)))
        return r

    # -- accumulate -----------------------------------------------------------------------

    def accumulate(self, a, axis: int = 0, dtype=None, out=None):
        """The running reduction along ``axis`` (``add.accumulate`` is ``cumsum``).

        >>> import numpy as np, xform.numpy as xnp
        >>> xnp.maximum.accumulate(np.array([1, 3, 2, 5, 4]))
        array([1, 3, 3, 5, 5])
        """
        self._binary_only("accumulate")
        if out is not None:
            raise NotImplementedError(f"{self.__name__}.accumulate: out= is not supported; use "
                                      f"the returned value.")
        if axis is None or isinstance(axis, (tuple, list)):
            raise ValueError(f"{self.__name__}.accumulate does not allow multiple axes "
                             f"(axis={axis!r}).")
        if self._accumulate is not None:
            return _eager(self._accumulate)(a, axis=axis, dtype=dtype)
        return _eager(self._accumulate_via_scan)(a, axis, dtype)

    def _accumulate_via_scan(self, a, axis, dtype):
        name = f"{self.__name__}.accumulate"
        a = array_arg(a, name)
        if len(shape(a)) == 0:
            raise ValueError(f"{name}: cannot accumulate a 0-d array.")
        axis = normalize_axis(axis, len(shape(a)), name)
        if dtype is None:
            dtype = _result_dtype(self, dtype_of(a), dtype_of(a))
        x = moveaxis(asarray(a, dtype=dtype), axis, 0)
        if shape(x)[0] <= 1:
            return moveaxis(x, 0, axis)

        def step(carry, xi):
            y = asarray(self(carry, xi), dtype=dtype)
            return y, y

        _, ys = lax.scan(step, x[0], x[1:])
        return moveaxis(concatenate([x[:1], ys], axis=0), 0, axis)

    # -- outer ----------------------------------------------------------------------------

    def outer(self, A, B, /):
        """``ufunc(A[i, ...], B[j, ...])`` for all pairs: the result has shape
        ``A.shape + B.shape``.

        >>> import numpy as np, xform.numpy as xnp
        >>> xnp.multiply.outer(np.array([1, 2]), np.array([1, 10, 100]))
        array([[  1,  10, 100],
               [  2,  20, 200]])
        """
        self._binary_only("outer")
        A = array_arg(A, f"{self.__name__}.outer")
        B = array_arg(B, f"{self.__name__}.outer")
        a = reshape(A, shape(A) + (1,) * len(shape(B)))
        return self(a, B)

    # -- at -------------------------------------------------------------------------------

    def at(self, a, indices, b=None, /, *, inplace: bool = True):
        """``a`` with ``a[indices] = ufunc(a[indices], b)`` applied once per index, repeated
        indices included (numpy's unbuffered ``ufunc.at``); returns a new array
        (``inplace=False``).

        >>> import numpy as np, xform.numpy as xnp
        >>> xnp.add.at(np.zeros(3), np.array([0, 0, 2]), 1.0, inplace=False)
        array([2., 0., 1.])
        >>> xnp.negative.at(np.arange(1.0, 4.0), np.array([1, 1, 2]), inplace=False)
        array([ 1.,  2., -3.])
        """
        if inplace:
            raise NotImplementedError(_AT_INPLACE)
        if (b is None) != (self.nin == 1):
            raise TypeError(f"{self.__name__}.at: a ufunc with nin={self.nin} takes "
                            f"{'no' if self.nin == 1 else 'one'} operand b.")
        if self._at is not None:
            return _eager(self._at)(a, indices, *(() if b is None else (b,)))
        return _eager(self._at_via_scan)(a, indices, *(() if b is None else (b,)))

    def _at_via_scan(self, a, indices, *bs):
        from ._indexing import at as _at_helper
        from ._indexing import getitem

        name = f"{self.__name__}.at"
        a = array_arg(a, name)
        dt = dtype_of(a)
        idx = indices if isinstance(indices, tuple) else (indices,)
        arrays = [array_arg(i, name) for i in idx if not isinstance(i, slice) and i is not None
                  and i is not Ellipsis]
        bshape = np.broadcast_shapes(*[shape(i) for i in arrays]) if arrays else ()
        if not bshape:  # a single (basic or scalar) index: one application
            cur = getitem(a, idx)
            return _at_helper(a)[idx].set(asarray(self(cur, *bs), dtype=dt))
        k = int(np.prod(bshape, dtype=np.int64))
        flat_idx = [reshape(broadcast_to(array_arg(i, name), bshape), (k,))
                    if not (isinstance(i, slice) or i is None or i is Ellipsis) else i for i in idx]
        sub = getitem(a, idx)  # shape bshape + the sliced dims: one update per index
        flat_b = []
        for b in bs:
            b = broadcast_to(asarray(array_arg(b, name), dtype=dt), shape(sub))
            flat_b.append(reshape(b, (k,) + shape(sub)[len(bshape):]))

        def step(i, acc):
            where_ = tuple(getitem(j, i) if not (isinstance(j, slice) or j is None
                                                 or j is Ellipsis) else j for j in flat_idx)
            cur = getitem(acc, where_)
            return _at_helper(acc)[where_].set(
                asarray(self(cur, *[getitem(fb, i) for fb in flat_b]), dtype=dt))

        return lax.fori_loop(0, k, step, a)

    # -- reduceat -------------------------------------------------------------------------

    def reduceat(self, a, indices, axis: int = 0, dtype=None, out=None):
        """Reductions over the slices ``a[indices[i]:indices[i + 1]]`` along ``axis``
        (the last one to the end); where ``indices[i] >= indices[i + 1]`` the result is
        ``a[indices[i]]``, as numpy.

        >>> import numpy as np, xform.numpy as xnp
        >>> xnp.add.reduceat(np.arange(8), np.array([0, 4, 1, 5]))
        array([ 6,  4, 10, 18])
        """
        self._binary_only("reduceat")
        if out is not None:
            raise NotImplementedError(f"{self.__name__}.reduceat: out= is not supported; use "
                                      f"the returned value.")
        if self._reduceat is not None:
            return _eager(self._reduceat)(a, indices, axis=axis, dtype=dtype)
        return _eager(self._reduceat_via_loop)(a, indices, axis, dtype)

    def _reduceat_via_loop(self, a, indices, axis, dtype):
        from ._indexing_routines import take

        name = f"{self.__name__}.reduceat"
        a = array_arg(a, name)
        ind = asarray(array_arg(indices, name), dtype=np.int64)
        if len(shape(a)) == 0:
            raise ValueError(f"{name}: a must have at least one dimension, got a 0-d array.")
        if len(shape(ind)) != 1:
            raise ValueError(f"{name}: indices must be one-dimensional, got shape {shape(ind)}.")
        if axis is None or isinstance(axis, (tuple, list)):
            raise ValueError(f"{name} requires a single integer axis, got {axis!r}.")
        axis = normalize_axis(axis, len(shape(a)), name)
        n = shape(a)[axis]
        ci = None if is_tracer(ind) else np.asarray(ind)
        if ci is not None and ci.size and (ci.min() < 0 or ci.max() >= n):
            raise IndexError(f"{name}: index out of bounds for axis {axis} of size {n}.")
        if dtype is not None:
            a = asarray(a, dtype=dtype)
        x = moveaxis(a, axis, 0)
        res = take(x, ind, axis=0)
        starts = ind
        ends = concatenate([ind[1:], asarray([n], dtype=np.int64)])
        bcast = (-1,) + (1,) * (len(shape(x)) - 1)
        starts, ends = reshape(starts, bcast), reshape(ends, bcast)
        from ._indexing import getitem
        from ._ufuncs import where as _where

        def body(i, acc):
            inside = (i > starts) & (i < ends)
            return _where(inside, asarray(self(acc, getitem(x, i)), dtype=dtype_of(acc)), acc)

        res = lax.fori_loop(0, n, body, res)
        return moveaxis(res, 0, axis)


def frompyfunc(func: Callable[..., Any], /, nin: int, nout: int, *, identity: Any = None) -> ufunc:
    """A ``ufunc`` from a function of scalars (applied elementwise through
    ``vectorize``), with the ufunc methods (JAX's ``jnp.frompyfunc``: results are arrays,
    not numpy object arrays).

    >>> import numpy as np, xform.numpy as xnp
    >>> hyp = xnp.frompyfunc(lambda x, y: xnp.sqrt(x * x + y * y), nin=2, nout=1)
    >>> hyp(np.array([3.0, 5.0]), 4.0)
    array([5.        , 6.40312424])
    >>> hyp.reduce(np.array([3.0, 4.0, 12.0]))
    np.float64(13.0)
    """
    return ufunc(func, nin, nout, identity=identity)


# -- xform.numpy's own functions as ufuncs ----------------------------------------------------

# Reductions whose order is free (numpy reduces them over several axes at once).
_REORDERABLE = {"add", "multiply", "maximum", "minimum", "fmax", "fmin", "logical_and",
                "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
                "logaddexp", "logaddexp2", "gcd", "lcm"}


def _specialized(ns: dict, name: str) -> dict:
    """The fast methods of the built-in ufunc ``name`` (the reductions of
    ``xform.numpy``), as ``ufunc`` keyword arguments."""
    from . import _indexing, _reductions
    from ._ufuncs import negative

    def reduction(fn, with_initial=True):
        def r(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
            kw = {} if dtype is None else {"dtype": dtype}
            if initial is not None:
                if not with_initial:
                    raise NotImplementedError
                kw["initial"] = initial
            if where is not None:
                kw["where"] = where
            return fn(a, axis=axis, keepdims=keepdims, **kw)
        return r

    def cumulative(lax_fn, dtype_rule):
        def acc(a, axis=0, dtype=None):
            a = array_arg(a, f"{name}.accumulate")
            if len(shape(a)) == 0:
                raise ValueError(f"{name}.accumulate: cannot accumulate a 0-d array.")
            ax = normalize_axis(axis, len(shape(a)), f"{name}.accumulate")
            dt = dtype_rule(dtype_of(a)) if dtype is None else np.dtype(dtype)
            a = asarray(a, dtype=dt)
            return a if shape(a)[ax] == 0 else lax_fn(a, ax)
        return acc

    def at_update(method, transform=None):
        def at(a, indices, b):
            b = transform(b) if transform is not None else b
            return getattr(_indexing.at(array_arg(a, f"{name}.at"))[indices], method)(b)
        return at

    def same(dt):
        return dt

    out: dict = {}
    if name == "add":
        out = dict(reduce=reduction(_reductions.sum),
                   accumulate=lambda a, axis=0, dtype=None: _reductions.cumsum(a, axis, dtype),
                   at=at_update("add"))
        out["reduce"]._takes_where = True
    elif name == "multiply":
        out = dict(reduce=reduction(_reductions.prod),
                   accumulate=lambda a, axis=0, dtype=None: _reductions.cumprod(a, axis, dtype),
                   at=at_update("multiply"))
        out["reduce"]._takes_where = True
    elif name == "subtract":
        out = dict(at=at_update("add", lambda b: negative(b)))
    elif name in ("maximum", "minimum"):
        red = _reductions.max if name == "maximum" else _reductions.min

        def mm(a, axis=0, dtype=None, keepdims=False, initial=None, red=red):
            if dtype is not None:
                a = asarray(array_arg(a, f"{name}.reduce"), dtype=dtype)
            return red(a, axis=axis, keepdims=keepdims,
                       **({} if initial is None else {"initial": initial}))

        cum = lax.cummax if name == "maximum" else lax.cummin
        out = dict(reduce=mm, accumulate=cumulative(lambda x, ax: cum(x, ax), same),
                   at=at_update("max" if name == "maximum" else "min"))
    elif name in ("logical_and", "logical_or"):
        red = _reductions.all if name == "logical_and" else _reductions.any

        def la(a, axis=0, dtype=None, keepdims=False, initial=None, red=red):
            r = red(a, axis=axis, keepdims=keepdims)
            if initial is not None:
                r = ns[name](r, initial)
            return r if dtype is None else asarray(r, dtype=dtype)

        out = dict(reduce=la)
    elif name == "logaddexp":
        out = dict(accumulate=cumulative(lambda x, ax: lax.cumlogsumexp(x, ax),
                                         lambda dt: dt if dt.kind in "fc" else np.dtype(float)))
    return out


def install(ns: dict) -> None:
    """Replace ``xform.numpy``'s binary ufunc functions (and ``negative``, as JAX) by
    ``ufunc`` instances calling the same (already wrapped) functions."""
    for name, fn in list(ns.items()):
        npu = getattr(np, name, None)
        if not isinstance(npu, np.ufunc) or npu.signature is not None or isinstance(fn, ufunc):
            continue  # gufuncs (matmul, vecdot) have no elementwise methods
        if not (npu.nin == 2 and npu.nout == 1) and name != "negative":
            continue
        if getattr(fn, "__module__", "").split(".")[0] != "xform":
            continue
        ident = npu.identity
        # a subclass per function whose __call__ *is* the function: calling xnp.add costs
        # what calling the function costs (no extra Python frame on the eager hot path)
        cls = type(name, (ufunc,), {"__call__": staticmethod(fn), "__module__": __name__})
        ns[name] = cls(fn, npu.nin, npu.nout, name=name, identity=ident, call=fn,
                       reorderable=name in _REORDERABLE, **_specialized(ns, name))
