"""Collectives over a named ``vmap`` axis (JAX's ``lax.psum``, ``pmean``, ``pmax``,
``pmin``, ``all_gather``, ``axis_index``, ``axis_size``), for ``vmap(f, axis_name=...)``
and ``xform.pmap``.

A collective over axis ``name`` combines the values of all elements of the batch that
``vmap`` maps over that axis: ``psum(x, 'i')`` is the same sum in every element. Here
``vmap`` records, while it runs ``f``, which interpreter level carries each named axis
(``axis_env``), and a collective works directly on that level's batched values: it
reduces their batch dimension and returns a value that is the same for every element.
Values under further transformations inside the ``vmap`` are reached through them where
the collective commutes with them: an inner ``vmap`` (any axis) and forward-mode
``jvp`` (``psum``/``pmean``, which are linear). Inside a ``jit``, a ``grad`` or a loop
body *within* the named ``vmap`` the batched value is not visible (those trace the
function abstractly), and the collective raises ``NotImplementedError`` saying where to
move it: collectives on the *results* of ``grad`` (data-parallel gradient averaging)
and ``jit`` around the ``vmap``/``pmap`` are fine.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..core.pytree import tree_map
from ..core.trace import Tracer
from ..interpreters.batching import BatchTracer
from ..interpreters.jvp import JVPTracer, Zero
from . import elementwise as ew
from . import reductions as red
from . import structural as st

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "axis_index", "axis_size",
           "axis_env"]


class _Env(threading.local):
    def __init__(self):
        self.axes: list = []  # [(name, main, size)], innermost last


_ENV = _Env()


class axis_env:
    """Context manager binding ``name`` to the batch interpreter ``main`` of size
    ``size`` while a named ``vmap`` runs its function (used by ``xform.vmap``)."""

    def __init__(self, name: Any, main, size: int):
        self.entry = (name, main, int(size))

    def __enter__(self):
        _ENV.axes.append(self.entry)
        return self

    def __exit__(self, *exc):
        _ENV.axes.pop()


def _lookup(name, op: str):
    for entry in reversed(_ENV.axes):
        if entry[0] == name:
            return entry[1], entry[2]
    bound = [e[0] for e in _ENV.axes]
    raise NameError(f"lax.{op}: unbound axis name {name!r}: collectives need an enclosing "
                    f"vmap(..., axis_name={name!r}) or pmap (bound here: {bound}).")


def _names(axis_name) -> tuple:
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _unsupported(op: str, name, v) -> NotImplementedError:
    return NotImplementedError(
        f"lax.{op} over axis {name!r}: the value is traced by {v._trace.main.name!r} inside "
        f"the vmap that names the axis (a jit, grad or loop body within it), where its "
        f"batched values are not visible. Apply the collective outside that "
        f"transformation (e.g. on grad's result), or put jit around the vmap/pmap.")


def _over(op: str, name, v, on_batch, on_constant, linear: bool):
    """Apply a collective to one leaf: ``on_batch(val, bdim)`` on the named level's
    batched value, ``on_constant(v)`` on values that do not vary along the axis."""
    main, _ = _lookup(name, op)
    if not isinstance(v, Tracer) or v._trace.main.level < main.level:  # type: ignore[attr-defined]
        return on_constant(v)
    m = v._trace.main  # type: ignore[attr-defined]
    if m is main and isinstance(v, BatchTracer):
        if v.bdim is None:
            return on_constant(v.val)
        return on_batch(v.val, v.bdim)
    if isinstance(v, BatchTracer):  # an inner vmap: apply per inner element
        inner = _over(op, name, v.val, on_batch, on_constant, linear)
        return BatchTracer(v._trace, inner, v.bdim)
    if isinstance(v, JVPTracer) and linear:
        p = _over(op, name, v.primal, on_batch, on_constant, linear)
        t = v.tangent if type(v.tangent) is Zero else _over(op, name, v.tangent, on_batch,
                                                             on_constant, linear)
        return JVPTracer(v._trace, p, t)
    raise _unsupported(op, name, v)


def _apply(op, x, axis_name, on_batch, on_constant, linear):
    def leaf(v):
        for name in _names(axis_name):
            v = _over(op, name, v, on_batch(name), on_constant(name), linear)
        return v
    return tree_map(leaf, x)


def _size(name, op):
    return _lookup(name, op)[1]


def psum(x, axis_name, *, axis_index_groups=None):
    """The sum of ``x`` over the elements of the named axis (a pytree of arrays; a
    tuple of names sums over several). A value that does not vary along the axis is
    multiplied by the axis size, as in JAX.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: v / lax.psum(v, "i"), axis_name="i")(np.array([1.0, 3.0]))
    array([0.25, 0.75])
    """
    if axis_index_groups is not None:
        raise NotImplementedError("lax.psum: axis_index_groups is not supported.")
    def on_constant(n):
        return lambda c: ew.mul(c, np.asarray(_size(n, "psum"), _dtype(c))[()])

    return _apply("psum", x, axis_name, lambda n: lambda val, d: st.reduce_sum(val, (d,)),
                  on_constant, True)


def _dtype(v):
    return v.aval.dtype if isinstance(v, Tracer) else np.asarray(v).dtype


def pmean(x, axis_name, *, axis_index_groups=None):
    """The mean of ``x`` over the elements of the named axis.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: v - lax.pmean(v, "i"), axis_name="i")(np.array([1.0, 3.0]))
    array([-1.,  1.])
    """
    if axis_index_groups is not None:
        raise NotImplementedError("lax.pmean: axis_index_groups is not supported.")

    def on_batch(n):
        def f(val, d):
            s = st.reduce_sum(val, (d,))
            return ew.div(s, np.asarray(_size(n, "pmean"), _dtype(s))[()])
        return f

    return _apply("pmean", x, axis_name, on_batch, lambda n: lambda c: c, True)


def pmax(x, axis_name, *, axis_index_groups=None):
    """The maximum of ``x`` over the elements of the named axis.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: lax.pmax(v, "i"), axis_name="i")(np.array([1.0, 3.0]))
    array([3., 3.])
    """
    if axis_index_groups is not None:
        raise NotImplementedError("lax.pmax: axis_index_groups is not supported.")
    return _apply("pmax", x, axis_name, lambda n: lambda val, d: red.reduce_max(val, (d,)),
                  lambda n: lambda c: c, False)


def pmin(x, axis_name, *, axis_index_groups=None):
    """The minimum of ``x`` over the elements of the named axis.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: lax.pmin(v, "i"), axis_name="i")(np.array([1.0, 3.0]))
    array([1., 1.])
    """
    if axis_index_groups is not None:
        raise NotImplementedError("lax.pmin: axis_index_groups is not supported.")
    return _apply("pmin", x, axis_name, lambda n: lambda val, d: red.reduce_min(val, (d,)),
                  lambda n: lambda c: c, False)


def all_gather(x, axis_name, *, axis_index_groups=None, axis: int = 0, tiled: bool = False):
    """Every element's ``x`` stacked along a new ``axis`` (concatenated along ``axis``
    with ``tiled=True``), the same in every element.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: lax.all_gather(v, "i"), axis_name="i")(np.array([1.0, 3.0]))
    array([[1., 3.],
           [1., 3.]])
    """
    if axis_index_groups is not None:
        raise NotImplementedError("lax.all_gather: axis_index_groups is not supported.")
    if isinstance(axis_name, (tuple, list)):
        raise NotImplementedError("lax.all_gather: one axis name at a time.")

    def place(val, d, ndim):
        ax = axis % (ndim + 1)
        g = st.moveaxis(val, d, ax) if d != ax else val
        if tiled:
            shape = g.aval.shape if isinstance(g, Tracer) else np.shape(g)
            if ax + 1 >= len(shape):
                raise ValueError("lax.all_gather(tiled=True) needs an axis to concatenate into.")
            g = st.reshape(g, shape[:ax] + (shape[ax] * shape[ax + 1],) + shape[ax + 2:])
        return g

    def on_batch(n):
        return lambda val, d: place(val, d, len(_shape(val)) - 1)

    def on_constant(n):
        def f(c):
            size = _size(n, "all_gather")
            shape = _shape(c)
            b = st.broadcast_in_dim(c, (size,) + shape, tuple(range(1, len(shape) + 1)))
            return place(b, 0, len(shape))
        return f

    return _apply("all_gather", x, axis_name, on_batch, on_constant, True)


def _shape(v) -> tuple:
    return tuple(v.aval.shape) if isinstance(v, Tracer) else np.shape(v)


def axis_index(axis_name):
    """This element's index along the named axis (an int32 value that varies along it).

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: v * lax.axis_index("i"), axis_name="i")(np.ones(3))
    array([0., 1., 2.])
    """
    if isinstance(axis_name, (tuple, list)):
        raise NotImplementedError("lax.axis_index: one axis name at a time.")
    main, size = _lookup(axis_name, "axis_index")
    return BatchTracer(main.trace, np.arange(size, dtype=np.int32), 0)


def axis_size(axis_name) -> int:
    """The size of the named axis (a Python int).

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> xform.vmap(lambda v: v * lax.axis_size("i"), axis_name="i")(np.ones(2))
    array([2., 2.])
    """
    return int(np.prod([_size(n, "axis_size") for n in _names(axis_name)]))
