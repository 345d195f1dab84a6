"""numpy's "Mathematical functions" not covered by ``_ufuncs``: sinc, copysign, ldexp,
frexp, modf, i0, nan_to_num, cross, convolve/correlate, gradient, trapezoid, ediff1d,
unwrap, interp, array_equal/array_equiv. All are compositions of xform.numpy functions,
so they trace, differentiate, batch and jit like their parts.
"""
from __future__ import annotations

import numpy as np

from ._creation import asarray, zeros
from ._indexing import getitem  # numpy arrays indexed by traced indices
from ._manipulation import broadcast_arrays, concatenate, moveaxis, ravel, stack
from ._promote import array_arg, is_tracer, ndim, shape
from ._reductions import all as _all
from ._reductions import cumsum, diff, sum as _sum
from ._sorting import argsort
from ._ufuncs import (abs as _abs, conj, equal, exp, exp2, fabs, floor, isinf, isnan, log2, maximum,
                      multiply, remainder, sign, signbit, sin, sqrt, where)

pi = np.pi

__all__ = ["sinc", "copysign", "ldexp", "frexp", "modf", "i0", "nan_to_num", "array_equal",
           "array_equiv", "cross", "convolve", "correlate", "gradient", "trapezoid", "ediff1d",
           "unwrap", "interp", "angle", "isposinf", "isneginf", "isreal", "iscomplex",
           "real_if_close", "gcd", "lcm", "spacing", "nextafter"]


def _float(x):
    x = array_arg(x, "xform.numpy")
    if x.dtype.kind in "biu":
        return asarray(x, dtype=np.float64)
    return x


def sinc(x):
    """Normalized sinc, ``sin(pi x) / (pi x)`` with ``sinc(0) = 1``; the derivative at 0
    is 0 (the value 1 is selected by a ``where`` whose other branch is evaluated at a safe
    point, so no nan leaks into gradients).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.sinc(np.array([0.0, 0.5, 1.0])).round(6)
    array([1.     , 0.63662, 0.     ])
    """
    x = _float(x)
    zero = equal(x, 0)
    safe = where(zero, 1.0, x)
    px = pi * safe
    # Near 0 the Taylor series 1 - (pi x)^2 / 6 gives the right derivatives.
    return where(zero, 1.0 - (pi * x) ** 2 / 6.0, sin(px) / px)


def copysign(x1, x2, /):
    """``|x1|`` with the sign (sign bit) of ``x2``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.copysign(np.array([1.0, -2.0, 3.0]), np.array([-1.0, 1.0, -0.0]))
    array([-1.,  2., -3.])
    """
    x1 = _float(x1)
    a = fabs(x1)
    return where(signbit(x2), -a, a)


def ldexp(x1, x2, /):
    """``x1 * 2**x2`` for integer ``x2``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.ldexp(np.array([1.0, 3.0]), np.array([2, -1]))
    array([4. , 1.5])
    """
    x1 = _float(x1)
    x2 = array_arg(x2, "ldexp")
    if np.dtype(x2.dtype if not is_tracer(x2) else x2.aval.dtype).kind not in "biu":
        raise TypeError("ldexp: the exponent x2 must be an integer array, got "
                        f"{x2.dtype}; use x1 * 2.0 ** x2 for float exponents.")
    dt = x1.dtype if not is_tracer(x1) else x1.aval.dtype
    return x1 * exp2(asarray(x2, dtype=dt))


def frexp(x, /):
    """Mantissa in ``[0.5, 1)`` (in absolute value) and integer exponent with
    ``x == mantissa * 2**exponent``; zero gives ``(0, 0)``, inf/nan give ``(x, 0)``.

    >>> import numpy as np, xform.numpy as xnp
    >>> m, e = xnp.frexp(np.array([8.0, -3.0, 0.0]))
    >>> m, e
    (array([ 0.5 , -0.75,  0.  ]), array([4, 2, 0], dtype=int32))
    """
    x = _float(x)
    special = (equal(x, 0) | isinf(x)) | isnan(x)
    ax = where(special, 1.0, _abs(x))
    e = floor(log2(ax)) + 1
    half = floor(e / 2)  # two factors: 2**e alone overflows for the largest/smallest floats
    m = ax / exp2(half) / exp2(e - half)
    # log2 may round across a power of two: one correction step each way.
    up = m >= 1.0
    e = where(up, e + 1, e)
    m = where(up, m / 2, m)
    down = m < 0.5
    e = where(down, e - 1, e)
    m = where(down, m * 2, m)
    m = where(special, x, sign(x) * m)
    return m, asarray(where(special, 0, e), dtype=np.int32)


def modf(x, /):
    """Fractional and integral parts, both with the sign of ``x``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.modf(np.array([2.5, -1.25]))
    (array([ 0.5 , -0.25]), array([ 2., -1.]))
    """
    x = _float(x)
    ip = where(x < 0, -floor(-x), floor(x))
    return x - ip, ip


def _chbevl(x, coefs):
    # Clenshaw recurrence of the Chebyshev series (Cephes' chbevl, as numpy.i0 uses).
    b0 = zeros(shape(x), dtype=np.float64) + coefs[0]
    b1 = zeros(shape(x), dtype=np.float64)
    b2 = b1
    for c in coefs[1:]:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _i0_coefs():
    # numpy.i0's Chebyshev coefficients (Cephes); reused so values match numpy's.
    from numpy.lib import _function_base_impl as fb
    return fb._i0A, fb._i0B


def i0(x):
    """Modified Bessel function of the first kind, order 0 (numpy's Cephes Chebyshev
    expansion, differentiable).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.i0(np.array([0.0, 1.0])).round(6)
    array([1.      , 1.266066])
    """
    x = _float(x)
    a, b = _i0_coefs()
    ax = _abs(x)
    small = ax <= 8.0
    xs = where(small, ax, 8.0)
    xl = where(small, 9.0, ax)
    vs = exp(xs) * _chbevl(xs / 2.0 - 2.0, a)
    vl = exp(xl) * _chbevl(32.0 / xl - 2.0, b) / sqrt(xl)
    return where(small, vs, vl)


def nan_to_num(x, copy: bool = True, nan=0.0, posinf=None, neginf=None):
    """Replace nan by ``nan`` and infinities by ``posinf``/``neginf`` (default: the
    dtype's largest finite values).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.0]), posinf=9.0)
    array([ 0.00000000e+000,  9.00000000e+000, -1.79769313e+308,  1.00000000e+000])
    """
    x = array_arg(x, "nan_to_num")
    dt = np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)
    if dt.kind not in "fc":
        return x
    if dt.kind == "c":
        from ._logic import imag, real
        from ._ufuncs import add
        re = nan_to_num(real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return asarray(add(re, multiply(im, 1j)), dtype=dt)
    fi = np.finfo(dt)
    posinf = fi.max if posinf is None else posinf
    neginf = fi.min if neginf is None else neginf
    out = where(isnan(x), nan, x)
    out = where(isinf(out) & (out > 0), posinf, out)
    out = where(isinf(out) & (out < 0), neginf, out)
    return asarray(out, dtype=dt)


def array_equal(a1, a2, equal_nan: bool = False) -> np.bool_:
    """Same shape and elements (nan equal to nan with ``equal_nan``).

    >>> import numpy as np, xform.numpy as xnp
    >>> bool(xnp.array_equal(np.array([1, 2]), np.array([1.0, 2.0])))
    True
    """
    a1, a2 = array_arg(a1, "array_equal"), array_arg(a2, "array_equal")
    if shape(a1) != shape(a2):
        return np.bool_(False)
    eq = equal(a1, a2)
    if equal_nan:
        eq = eq | (isnan(a1) & isnan(a2))
    return _all(eq)


def array_equiv(a1, a2) -> np.bool_:
    """Shapes broadcast together and all elements are equal.

    >>> import numpy as np, xform.numpy as xnp
    >>> bool(xnp.array_equiv(np.array([1, 2]), np.array([[1, 2], [1, 2]])))
    True
    """
    a1, a2 = array_arg(a1, "array_equiv"), array_arg(a2, "array_equiv")
    try:
        np.broadcast_shapes(shape(a1), shape(a2))
    except ValueError:
        return np.bool_(False)
    return _all(equal(a1, a2))


def cross(a, b, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None):
    """Cross product of 3-vectors (or 2-vectors, giving the z component) along the
    given axes, broadcasting the others.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.cross(np.array([1.0, 0, 0]), np.array([0.0, 1, 0]))
    array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(array_arg(a, "cross"), axisa, -1)
    b = moveaxis(array_arg(b, "cross"), axisb, -1)
    na, nb = shape(a)[-1], shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {na} and {nb}.")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    a2 = a[..., 2] if na == 3 else None
    b2 = b[..., 2] if nb == 3 else None
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    if a2 is None:
        a2 = 0 * b[..., 2]
    if b2 is None:
        b2 = 0 * a[..., 2]
    c = stack(broadcast_arrays(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)
    return moveaxis(c, -1, axisc)


def _full_conv(a, v):
    # Full 1-D convolution by a (len(a)+len(v)-1, len(v)) shifted-copy matrix product:
    # plain xform ops, linear in both arguments, so transposes/batching come for free.
    n, m = shape(a)[0], shape(v)[0]
    k = n + m - 1
    i = np.arange(k)[:, None] - np.arange(m)[None, :]
    valid = (i >= 0) & (i < n)
    cols = a[np.clip(i, 0, n - 1)]
    cols = where(valid, cols, 0)
    return _sum(cols * v[None, :], axis=1)


def convolve(a, v, mode: str = "full"):
    """Discrete linear convolution of 1-D arrays (numpy's modes 'full', 'same',
    'valid').

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.convolve(np.array([1.0, 2, 3]), np.array([0.0, 1, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    a, v = array_arg(a, "convolve"), array_arg(v, "convolve")
    if ndim(a) != 1 or ndim(v) != 1:
        raise ValueError(f"convolve: a and v must be 1-D, got shapes {shape(a)} and {shape(v)}.")
    n, m = shape(a)[0], shape(v)[0]
    if n == 0 or m == 0:
        raise ValueError("convolve: a and v cannot be empty.")
    if m > n:
        a, v, n, m = v, a, m, n
    full = _full_conv(a, v)
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return full[start:start + n]
    if mode == "valid":
        return full[m - 1:n]
    raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}.")


def correlate(a, v, mode: str = "valid"):
    """Cross-correlation of 1-D arrays, ``c[k] = sum_n a[n+k] * conj(v[n])`` (numpy's
    modes; default 'valid').

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.correlate(np.array([1.0, 2, 3]), np.array([0.0, 1, 0.5]))
    array([3.5])
    """
    a, v = array_arg(a, "correlate"), array_arg(v, "correlate")
    if ndim(a) != 1 or ndim(v) != 1:
        raise ValueError(f"correlate: a and v must be 1-D, got shapes {shape(a)} and {shape(v)}.")
    v = conj(v)
    return convolve(a, v[::-1], mode)


def gradient(f, *varargs, axis=None, edge_order: int = 1):
    """Second-order central differences inside and first-order one-sided differences
    at the boundaries (``edge_order=1``), along every axis (or ``axis``); spacings are
    scalars (uniform) per axis.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.gradient(np.array([1.0, 2, 4, 7]))
    array([1. , 1.5, 2.5, 3. ])
    """
    f = _float(f)
    nd = ndim(f)
    axes = tuple(range(nd)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(a % nd for a in axes)
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacing = list(varargs) * len(axes)
    else:
        spacing = list(varargs)
    if len(spacing) != len(axes):
        raise TypeError(f"gradient: got {len(spacing)} spacings for {len(axes)} axes.")
    if edge_order != 1:
        raise NotImplementedError("gradient: only edge_order=1 is supported; "
                                  "use numpy.gradient for edge_order=2.")
    outs = []
    for ax, h in zip(axes, spacing):
        if np.ndim(h) != 0:
            raise NotImplementedError("gradient: only scalar spacings are supported.")
        g = moveaxis(f, ax, 0)
        if shape(g)[0] < 2:
            raise ValueError("gradient: each differentiated axis needs at least 2 points.")
        inner = (g[2:] - g[:-2]) / (2.0 * h)
        first = (g[1:2] - g[0:1]) / h
        last = (g[-1:] - g[-2:-1]) / h
        outs.append(moveaxis(concatenate([first, inner, last], axis=0), 0, ax))
    return outs[0] if len(outs) == 1 else outs


def trapezoid(y, x=None, dx: float = 1.0, axis: int = -1):
    """Integral of ``y`` by the trapezoidal rule along ``axis`` (sample points ``x`` or
    uniform spacing ``dx``).

    >>> import numpy as np, xform.numpy as xnp
    >>> float(xnp.trapezoid(np.array([1.0, 2, 3])))
    4.0
    """
    y = moveaxis(_float(y), axis, -1)
    if x is None:
        d = dx
    else:
        x = array_arg(x, "trapezoid")
        d = diff(x) if ndim(x) == 1 else diff(moveaxis(x, axis, -1), axis=-1)
    return _sum(d * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of consecutive elements of the flattened array, with optional values
    prepended/appended.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.ediff1d(np.array([1, 2, 4, 7]), to_begin=-9)
    array([-9,  1,  2,  3])
    """
    a = ravel(array_arg(ary, "ediff1d"))
    d = a[1:] - a[:-1]
    parts = []
    if to_begin is not None:
        parts.append(asarray(ravel(asarray(to_begin)), dtype=d.dtype if not is_tracer(d) else d.aval.dtype))
    parts.append(d)
    if to_end is not None:
        parts.append(asarray(ravel(asarray(to_end)), dtype=d.dtype if not is_tracer(d) else d.aval.dtype))
    return concatenate(parts) if len(parts) > 1 else d


def unwrap(p, discont=None, axis: int = -1, *, period: float = 2 * np.pi):
    """Unwrap phase angles: remove jumps larger than ``max(discont, period/2)`` by adding
    multiples of ``period`` (numpy's algorithm).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unwrap(np.array([0.0, 3.0, 6.5, 0.2])).round(4)
    array([0.    , 3.    , 0.2168, 0.2   ])
    """
    p = moveaxis(_float(p), axis, -1)
    if discont is None:
        discont = period / 2
    half = period / 2
    dd = p[..., 1:] - p[..., :-1]
    ddmod = remainder(dd + half, period) - half
    ddmod = where((ddmod == -half) & (dd > 0), half, ddmod)
    correct = ddmod - dd
    correct = where(_abs(dd) < discont, 0.0, correct)
    head = p[..., :1]
    rest = p[..., 1:] + cumsum(correct, axis=-1)
    return moveaxis(concatenate([head, rest], axis=-1), -1, axis)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of ``(xp, fp)`` (``xp`` increasing) at ``x``;
    outside the range ``left``/``right`` (default the end values). Differentiable in
    ``x`` and ``fp`` (and ``xp``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.interp(np.array([0.5, 1.5, 5.0]), np.array([0.0, 1, 2]), np.array([0.0, 10, 20]))
    array([ 5., 15., 20.])
    """
    x, xp, fp = _float(x), _float(xp), array_arg(fp, "interp")
    if ndim(xp) != 1 or ndim(fp) != 1 or shape(xp) != shape(fp):
        raise ValueError(f"interp: xp and fp must be 1-D of the same length, got {shape(xp)} "
                         f"and {shape(fp)}.")
    if period is not None:
        x = remainder(x, period)
        xp = remainder(xp, period)
        order = argsort(xp)
        xp, fp = getitem(xp, order), getitem(fp, order)
        xp = concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = concatenate([fp[-1:], fp, fp[:1]])
    n = shape(xp)[0]
    if n == 1:
        return where(x < xp[0], fp[0] if left is None else left,
                     where(x > xp[0], fp[0] if right is None else right, fp[0] + 0 * x))
    # Interval index: the number of breakpoints <= x, clipped to [1, n-1].
    cnt = _sum(asarray(xp[(None,) * ndim(x)] <= x[..., None], dtype=np.int64), axis=-1)
    i = maximum(cnt, 1)
    i = where(i > n - 1, n - 1, i)
    x0, x1, f0, f1 = getitem(xp, i - 1), getitem(xp, i), getitem(fp, i - 1), getitem(fp, i)
    dx = x1 - x0
    t = (x - x0) / where(dx == 0, 1.0, dx)
    val = f0 + t * (f1 - f0)
    val = where(x == x1, f1, val)
    if period is None:
        val = where(x < xp[0], fp[0] if left is None else left, val)
        val = where(x > xp[-1], fp[-1] if right is None else right, val)
    return val



def angle(z, deg: bool = False):
    """Argument of the complex ``z`` (radians, or degrees with ``deg``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.angle(np.array([1.0, 1j, -1.0]))
    array([0.        , 1.57079633, 3.14159265])
    """
    from ._logic import imag, real
    from ._ufuncs import arctan2
    z = array_arg(z, "angle")
    if np.dtype(z.aval.dtype if is_tracer(z) else z.dtype).kind == "c":
        a = arctan2(imag(z), real(z))
    else:
        z = _float(z)
        a = arctan2(0.0, z)  # +0.0: numpy gives +pi for negative reals
    return a * (180.0 / np.pi) if deg else a


def isposinf(x, /):
    """Elementwise ``x == +inf``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isposinf(np.array([np.inf, -np.inf, 1.0]))
    array([ True, False, False])
    """
    x = array_arg(x, "isposinf")
    return isinf(x) & (x > 0)


def isneginf(x, /):
    """Elementwise ``x == -inf``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isneginf(np.array([np.inf, -np.inf, 1.0]))
    array([False,  True, False])
    """
    x = array_arg(x, "isneginf")
    return isinf(x) & (x < 0)


def isreal(x):
    """Elementwise: the imaginary part is zero.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.isreal(np.array([1 + 1j, 2 + 0j]))
    array([False,  True])
    """
    from ._logic import imag
    return equal(imag(array_arg(x, "isreal")), 0)


def iscomplex(x):
    """Elementwise: the imaginary part is nonzero.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.iscomplex(np.array([1 + 1j, 2 + 0j]))
    array([ True, False])
    """
    from ._logic import imag
    return imag(array_arg(x, "iscomplex")) != 0


def real_if_close(a, tol: float = 100):
    """The real part if every imaginary part is below ``tol`` machine epsilons (needs
    concrete values: the result dtype depends on them).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.real_if_close(np.array([2.1 + 4e-14j, 5.2 + 3e-15j]), tol=1000)
    array([2.1, 5.2])
    """
    from ._logic import real
    from ._promote import concrete_or_none
    a = array_arg(a, "real_if_close")
    dt = np.dtype(a.aval.dtype if is_tracer(a) else a.dtype)
    if dt.kind != "c":
        return a
    c = concrete_or_none(a)
    if c is None or is_tracer(c):
        raise TypeError("real_if_close: the result dtype depends on the values; needs a "
                        "concrete array (use xnp.real under transformations).")
    t = tol * np.finfo(dt).eps if tol > 1 else tol
    return real(a) if np.all(np.abs(np.imag(np.asarray(c))) < t) else a


def _int_args(x1, x2, where_):
    from ._promote import result_type_of
    a, b = array_arg(x1, where_), array_arg(x2, where_)
    dt, _ = result_type_of(a, b)
    if np.dtype(dt).kind not in "iu":
        raise TypeError(f"{where_}: needs integer arguments, got {np.dtype(dt)}.")
    a, b = broadcast_arrays(asarray(a, dtype=dt), asarray(b, dtype=dt))
    return _abs(a), _abs(b)


def gcd(x1, x2, /):
    """Greatest common divisor of ``|x1|`` and ``|x2|`` (Euclid's algorithm in a
    ``while_loop``, all elements together).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.gcd(np.array([12, 20, 0]), np.array([18, 5, 7]))
    array([6, 5, 7])
    """
    from .. import lax
    from ._reductions import any as _any
    a, b = _int_args(x1, x2, "gcd")

    def body(c):
        a, b = c
        nz = b != 0
        safe = where(nz, b, 1)
        return where(nz, b, a), where(nz, remainder(a, safe), 0)

    return lax.while_loop(lambda c: _any(c[1] != 0), body, (a, b))[0]


def lcm(x1, x2, /):
    """Least common multiple of ``|x1|`` and ``|x2|`` (0 if either is 0).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.lcm(np.array([4, 6, 0]), np.array([6, 10, 3]))
    array([12, 30,  0])
    """
    from ._ufuncs import floor_divide
    a, b = _int_args(x1, x2, "lcm")
    g = gcd(a, b)
    return where(g == 0, 0, a * floor_divide(b, where(g == 0, 1, g)))


def _ulp_parts(x):
    # (spacing above |x|, spacing below |x|) from frexp's exponent: xform has no bit
    # casts, and for floats both gaps are powers of two fixed by the exponent.
    dt = np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)
    fi = np.finfo(dt)
    tiny = np.asarray(fi.smallest_subnormal, dt)
    m, e = frexp(x)
    e = asarray(e, dtype=dt)
    up = maximum(exp2(e - (fi.nmant + 1)), tiny)
    pow2 = equal(_abs(m), 0.5)
    down = where(pow2, maximum(up / 2, tiny), up)
    return up, down


def spacing(x, /):
    """Distance from ``x`` to the next representable number away from zero (negative
    for negative ``x``; nan for inf and nan), as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.spacing(np.array([1.0, -4.0])) / np.finfo(np.float64).eps
    array([ 1., -4.])
    """
    x = _float(x)
    dt = np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)
    fi = np.finfo(dt)
    up, _ = _ulp_parts(x)
    up = where(equal(x, 0), np.asarray(fi.smallest_subnormal, dt), up)
    up = where(equal(_abs(x), fi.max), np.inf, up)  # numpy: the next value up is inf
    bad = isinf(x) | isnan(x)
    return where(bad, np.nan, where(signbit(x) & ~equal(x, 0), -up, up))


def nextafter(x1, x2, /):
    """The next representable value after ``x1`` towards ``x2``, as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> bool(xnp.nextafter(1.0, 2.0) == 1.0 + np.finfo(np.float64).eps)
    True
    """
    from ._promote import result_type_of
    a, b = array_arg(x1, "nextafter"), array_arg(x2, "nextafter")
    dt, _ = result_type_of(a, b, 1.0)
    a, b = broadcast_arrays(asarray(a, dtype=dt), asarray(b, dtype=dt))
    up, down = _ulp_parts(a)
    tiny = np.asarray(np.finfo(dt).smallest_subnormal, dt)
    away = (b > a) == (a > 0)  # moving away from zero grows |x|
    step = where(away, up, down)
    mag = _abs(a)
    top = away & equal(mag, np.finfo(dt).max)  # steps to inf: no overflowing add
    mag_ok = where(top, 0, mag)
    new_mag = where(top, np.inf, mag_ok + where(away, step, -step))
    res = where(a > 0, new_mag, -new_mag)
    res = where(equal(a, 0), where(b > 0, tiny, -tiny), res)
    big = np.asarray(np.finfo(dt).max, dt)
    res = where(isinf(a), where(a > 0, big, -big), res)  # from +-inf towards a finite x2
    res = where(equal(a, b), b, res)
    return where(isnan(a) | isnan(b), np.nan, res)
