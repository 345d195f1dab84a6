"""numpy's functional programming routines: vectorize (on xform's batching),
apply_along_axis, apply_over_axes, piecewise, fromfunction.

``vectorize`` and ``apply_along_axis`` batch the function once with the vmap machinery
(``interpreters.batching``) instead of looping in Python, so they trace into one program.
"""
from __future__ import annotations

import functools
import re

import numpy as np

from ..interpreters.batching import batch_flat
from ._manipulation import broadcast_shapes, broadcast_to, moveaxis, reshape
from ._promote import array_arg, is_tracer, ndim, shape

__all__ = ["vectorize", "apply_along_axis", "apply_over_axes", "piecewise", "fromfunction"]


def _vmap_flat(fn, args, size):
    """``fn`` mapped over axis 0 of every array in ``args``; outputs a tuple with the
    batch axis first."""
    if size == 0:
        raise ValueError("vectorize: cannot map a function over an empty axis.")

    def flat(*xs):
        r = fn(*xs)
        return tuple(r) if isinstance(r, tuple) else (r,)

    outs, dims = batch_flat(flat, list(args), [0] * len(args), size, name="vectorize")
    res = []
    for o, d in zip(outs, dims):
        o = array_arg(o, "vectorize")
        if d is None:
            o = broadcast_to(o, (size,) + shape(o))
        elif d != 0:
            o = moveaxis(o, d, 0)
        res.append(o)
    return tuple(res)


_DIM = r"\w+"
_CORE = rf"\((?:{_DIM}(?:,{_DIM})*)?\)"
_SIG = rf"^{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*$"


def _parse_signature(sig: str):
    sig = sig.replace(" ", "")
    if not re.match(_SIG, sig):
        raise ValueError(f"vectorize: invalid signature {sig!r} (numpy's gufunc syntax, e.g. "
                         "'(n),(n)->()').")
    ins, outs = sig.split("->")
    parse = lambda s: [tuple(d for d in g.split(",") if d) for g in re.findall(r"\((.*?)\)", s)]  # noqa: E731
    return parse(ins), parse(outs)


class vectorize:
    """numpy's ``vectorize`` on xform's batching: ``pyfunc`` is written for scalars (or
    for the core dimensions of ``signature``) and mapped over the broadcast loop
    dimensions of its arguments; arguments listed in ``excluded`` pass through.

    >>> import numpy as np, xform.numpy as xnp
    >>> dot = xnp.vectorize(xnp.dot, signature="(n),(n)->()")
    >>> dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """

    def __init__(self, pyfunc, otypes=None, doc=None, excluded=None, cache: bool = False,
                 signature: str | None = None):
        self.pyfunc = pyfunc
        self.otypes = otypes
        self.excluded = set(excluded or ())
        self.signature = signature
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)
        functools.update_wrapper(self, pyfunc, updated=())

    def __call__(self, *args, **kwargs):
        excl_kw = {k: v for k, v in kwargs.items() if k in self.excluded}
        kw = {k: v for k, v in kwargs.items() if k not in self.excluded}
        names = list(kw)
        pos = [i for i in range(len(args)) if i not in self.excluded]
        vals = [array_arg(args[i], "vectorize") for i in pos] + \
            [array_arg(kw[k], "vectorize") for k in names]

        def call(*xs):
            full = list(args)
            for i, x in zip(pos, xs[:len(pos)]):
                full[i] = x
            kws = dict(excl_kw)
            kws.update(zip(names, xs[len(pos):]))
            return self.pyfunc(*full, **kws)

        if self.signature is None:
            cores = [()] * len(vals)
            out_cores = None
        else:
            cores, out_cores = _parse_signature(self.signature)
            if len(cores) != len(vals):
                raise TypeError(f"vectorize: signature {self.signature!r} has {len(cores)} "
                                f"inputs but got {len(vals)} arguments.")
        sizes: dict = {}
        loops = []
        for v, core in zip(vals, cores):
            s = shape(v)
            if len(s) < len(core):
                raise ValueError(f"vectorize: an argument of shape {s} has fewer dimensions "
                                 f"than its core signature {core}.")
            for name, n in zip(core, s[len(s) - len(core):]):
                if sizes.setdefault(name, n) != n:
                    raise ValueError(f"vectorize: inconsistent size for core dimension {name!r}: "
                                     f"{sizes[name]} and {n}.")
            loops.append(s[:len(s) - len(core)])
        loop = broadcast_shapes(*loops)
        size = int(np.prod(loop))
        flat = [reshape(broadcast_to(v, loop + shape(v)[len(ls):]), (size,) + shape(v)[len(ls):])
                for v, ls in zip(vals, loops)]
        if not loop:
            return call(*vals)
        outs = _vmap_flat(call, flat, size)
        outs = tuple(reshape(o, loop + shape(o)[1:]) for o in outs)
        if out_cores is not None and len(out_cores) > 1:
            return outs
        return outs[0] if len(outs) == 1 else outs


def apply_along_axis(func1d, axis: int, arr, *args, **kwargs):
    """``func1d`` applied to the 1-D slices of ``arr`` along ``axis`` (batched once); its
    result's dimensions replace ``axis``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.apply_along_axis(lambda v: v[0] + v[-1], 1, np.array([[1, 2, 3], [4, 5, 6]]))
    array([ 4, 10])
    """
    arr = array_arg(arr, "apply_along_axis")
    nd = ndim(arr)
    axis = axis % nd if nd else axis
    a = moveaxis(arr, axis, -1)
    loop = shape(a)[:-1]
    size = int(np.prod(loop))
    flat = reshape(a, (size, shape(a)[-1]))
    (out,) = _vmap_flat(lambda v: func1d(v, *args, **kwargs), [flat], size)
    out = reshape(out, loop + shape(out)[1:])
    k = ndim(out) - len(loop)
    # the function's dimensions go where ``axis`` was
    src = tuple(range(len(loop), ndim(out)))
    dst = tuple(range(axis, axis + k))
    return moveaxis(out, src, dst) if k else out


def apply_over_axes(func, a, axes):
    """Apply ``func(a, axis)`` repeatedly over ``axes``, keeping dimensions.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.apply_over_axes(xnp.sum, np.arange(6).reshape(2, 3), [0, 1])
    array([[15]])
    """
    from ._manipulation import expand_dims
    val = array_arg(a, "apply_over_axes")
    n = ndim(val)
    for ax in np.atleast_1d(axes):
        ax = int(ax) % n
        res = func(val, ax)
        if ndim(res) == ndim(val):
            val = res
        elif ndim(res) == ndim(val) - 1:
            val = expand_dims(res, ax)
        else:
            raise ValueError("apply_over_axes: func must keep or drop exactly one dimension.")
    return val


def piecewise(x, condlist, funclist, *args, **kw):
    """``funclist[i](x)`` where ``condlist[i]`` holds (later conditions win), the extra
    function (if any) elsewhere, else 0. Every function is evaluated on all of ``x``
    (as JAX), and constants stand for constant functions.

    >>> import numpy as np, xform.numpy as xnp
    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> xnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
    array([2.  , 0.25, 9.  ])
    """
    from ._creation import asarray, zeros
    from ._ufuncs import where
    x = array_arg(x, "piecewise")
    if isinstance(condlist, (list, tuple)) and condlist and np.ndim(condlist[0]) == 0 and \
            not is_tracer(condlist[0]) and ndim(x) != 0:
        condlist = [condlist]
    conds = [array_arg(c, "piecewise") for c in (condlist if isinstance(condlist, (list, tuple))
                                                 else [condlist])]
    n = len(conds)
    if len(funclist) not in (n, n + 1):
        raise ValueError(f"piecewise: got {len(funclist)} functions for {n} conditions; "
                         f"pass {n} or {n + 1}.")
    dt = np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)

    def ev(f):
        r = f(x, *args, **kw) if callable(f) else f
        return broadcast_to(asarray(array_arg(r, "piecewise"), dtype=dt), shape(x))

    if len(funclist) == n + 1:
        from ._reductions import any as _any
        from ._manipulation import stack
        from ._ufuncs import logical_not
        other = logical_not(_any(stack([broadcast_to(c, shape(x)) for c in conds]), axis=0))
        conds = conds + [other]
        funclist = list(funclist[n:]) + list(funclist[:n])
        conds = conds[n:] + conds[:n]
    out = zeros(shape(x), dtype=dt)
    for c, f in zip(conds, funclist):
        out = where(c, ev(f), out)
    return out


def fromfunction(function, shape, *, dtype=float, **kwargs):  # noqa: A002 (numpy's name)
    """``function(*indices)`` with one index array per dimension of ``shape``.

    >>> import xform.numpy as xnp
    >>> xnp.fromfunction(lambda i, j: i + 2 * j, (2, 3), dtype=int)
    array([[0, 2, 4],
           [1, 3, 5]])
    """
    idx = np.indices(tuple(shape), dtype=dtype)
    return function(*idx, **kwargs)
