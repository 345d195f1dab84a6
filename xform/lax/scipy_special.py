"""Special functions computed by scipy.special, usable inside every transformation:
``bessel_i0e``, ``bessel_i1e``, ``zeta`` (JAX's ``lax`` names) and the elementwise
helper ``scipy_elementwise`` that ``xform.scipy.special`` builds its less common
functions on (Bessel, exponential integrals, Fresnel, hypergeometric, ...).

Why callbacks: these functions have long, carefully tuned implementations in scipy (a
dependency) and no Numba equivalent; re-deriving each would duplicate scipy less well.
Concrete inputs call scipy directly; traced ones (``jit``, ``vmap``, ``grad``) go
through ``pure_callback`` (``xform/lax/callbacks.py``), with the operands broadcast to
one shape so that a batch is one vectorized scipy call (``vmap_method='expand_dims'``).
Derivatives are ``custom_jvp`` rules with the closed forms, in terms of the same
functions, so they compose to any order.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.special as sps

from ..core.abstract import ShapedArray
from ..core.trace import Tracer, get_aval
from . import elementwise as ew
from .callbacks import pure_callback_flat
from .custom_derivatives import custom_jvp
from .structural import broadcast_to_shape

__all__ = ["scipy_elementwise", "bessel_i0e", "bessel_i1e", "zeta"]


def _float_args(name: str, args, allow_complex: bool = False):
    """The operands as arrays of one inexact dtype (numpy's promotion; integers become
    float64; complex only where ``allow_complex``)."""
    dts = [get_aval(a, name).dtype for a in args]
    dt = np.result_type(*dts)
    if dt.kind == "c" and not allow_complex:
        raise TypeError(f"{name}: complex input (dtype {dt}) is not supported; pass real "
                        f"floating-point values.")
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)
    out = []
    for a in args:
        if isinstance(a, Tracer):
            out.append(a if a.aval.dtype == dt else ew.convert_element_type(a, dt))
        else:
            out.append(np.asarray(a, dtype=dt))
    return out, dt


def scipy_elementwise(fn: Callable, *args, name: str, n_out: int = 1, out_dtype=None):
    """``fn(*args)`` for a scipy.special ufunc ``fn`` (elementwise, broadcasting), on
    concrete or traced operands of one float dtype (see the module docstring). Returns
    one array, or a tuple of ``n_out`` arrays.

    >>> import numpy as np, scipy.special
    >>> scipy_elementwise(scipy.special.i0e, np.array([0.0, 1.0]), name="i0e")
    array([1.        , 0.46575961])
    """
    dt = np.result_type(*[get_aval(a, name).dtype for a in args])
    odt = np.dtype(out_dtype) if out_dtype is not None else dt

    def call(*xs):
        with np.errstate(all="ignore"):
            r = fn(*xs)
        rs = r if n_out > 1 else (r,)
        return [np.asarray(v).astype(odt, copy=False) for v in rs]

    if not any(isinstance(a, Tracer) for a in args):
        outs = [o[()] if o.ndim == 0 else o for o in call(*[np.asarray(a) for a in args])]
        return tuple(outs) if n_out > 1 else outs[0]
    shape = np.broadcast_shapes(*[get_aval(a).shape for a in args])
    bargs = [a if get_aval(a).shape == shape else broadcast_to_shape(a, shape) for a in args]
    call.__name__ = name
    if n_out == 1:
        return pure_callback_flat(call, [ShapedArray(shape, odt)], bargs,
                                  vmap_method="expand_dims")[0]
    # one callback per result: a compiled callback whose results are partly unused is
    # rejected by Numba's object mode, and each result may be used alone
    outs = []
    for k in range(n_out):
        def one(*xs, k=k):
            return [call(*xs)[k]]

        one.__name__ = f"{name}_{k}"
        outs.append(pure_callback_flat(one, [ShapedArray(shape, odt)], bargs,
                                       vmap_method="expand_dims")[0])
    return tuple(outs)


@custom_jvp
def _i0e(x):
    return scipy_elementwise(sps.i0e, x, name="bessel_i0e")


@custom_jvp
def _i1e(x):
    return scipy_elementwise(sps.i1e, x, name="bessel_i1e")


def _i0e_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    y = _i0e(x)
    # d/dx e^-|x| I0(x) = e^-|x| (I1(x) - sign(x) I0(x))
    return y, ew.mul(g, ew.sub(_i1e(x), ew.mul(ew.sign(x), y)))


def _i1e_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    y = _i1e(x)
    # I1' = I0 - I1/x; at x = 0 the limit is 1/2 (i1e(x) ~ x/2)
    zero = ew.eq(x, ew._c(x, 0.0))
    safe = ew.select(zero, ew._c(x, 1.0), x)
    d = ew.sub(_i0e(x), ew.mul(y, ew.add(ew.sign(x), ew.div(ew._c(x, 1.0), safe))))
    return y, ew.mul(g, ew.select(zero, ew._c(x, 0.5), d))


_i0e.defjvp(_i0e_jvp)
_i1e.defjvp(_i1e_jvp)


def bessel_i0e(x):
    """Exponentially scaled modified Bessel function of order 0, ``exp(-|x|) I0(x)``
    (scipy's ``i0e``), with derivative ``i1e(x) - sign(x) i0e(x)``.

    >>> import numpy as np; from xform import lax
    >>> lax.bessel_i0e(np.array([0.0, 1.0, 50.0]))
    array([1.        , 0.46575961, 0.05656163])
    """
    (x,), _ = _float_args("bessel_i0e", [x])
    return _i0e(x)


def bessel_i1e(x):
    """Exponentially scaled modified Bessel function of order 1, ``exp(-|x|) I1(x)``.

    >>> import numpy as np; from xform import lax
    >>> lax.bessel_i1e(np.array([0.0, 1.0]))
    array([0.        , 0.20791042])
    """
    (x,), _ = _float_args("bessel_i1e", [x])
    return _i1e(x)


@custom_jvp
def _zeta(x, q):
    return scipy_elementwise(sps.zeta, x, q, name="zeta")


def _zeta_jvp(primals, tangents):
    (x, q), (_, gq) = primals, tangents
    y = _zeta(x, q)
    # d/dq zeta(x, q) = -x zeta(x + 1, q); like JAX's, the rule has no x term (the
    # derivative in x has no closed form here): x's tangent contributes nothing
    return y, ew.mul(gq, ew.neg(ew.mul(x, _zeta(ew.add(x, ew._c(x, 1.0)), q))))


_zeta.defjvp(_zeta_jvp)


def zeta(x, q):
    """Hurwitz zeta function ``sum_k (k + q)^-x`` (scipy's ``zeta(x, q)``);
    differentiable in ``q`` (as in JAX, ``x`` gets no derivative).

    >>> import numpy as np; from xform import lax
    >>> lax.zeta(np.array([2.0, 3.0]), np.array([1.0, 1.0]))
    array([1.64493407, 1.2020569 ])
    """
    (x, q), _ = _float_args("zeta", [x, q])
    return _zeta(x, q)
