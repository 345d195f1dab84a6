"""xform.scipy.integrate: ``trapezoid`` (``jax.scipy.integrate.trapezoid``) and ``odeint``
as JAX's ``jax.experimental.ode.odeint``.

Adaptive Dormand-Prince (RK45) steps inside ``lax.while_loop``, one ``lax.scan`` step per
output time with 4th-order dense output, and reverse-mode derivatives by the adjoint
method (``custom_vjp``: the augmented system is integrated backwards with the same
solver), so memory does not grow with the number of steps. Written by hand because
scipy's solvers cannot run inside traced programs; the algorithm follows JAX's.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..api_util import closure_convert
from ..ad import vjp
from ..custom_derivatives import custom_vjp
from ..tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["odeint", "trapezoid"]

Array = Any


def trapezoid(y: Array, x: Array | None = None, dx: float = 1.0, axis: int = -1) -> Array:
    """Integral of ``y`` along ``axis`` by the trapezoidal rule, at sample points ``x`` or
    with uniform spacing ``dx`` (``jax.scipy.integrate.trapezoid``, ``numpy.trapezoid``).

    >>> import numpy as np
    >>> from xform.scipy.integrate import trapezoid
    >>> float(trapezoid(np.array([0.0, 1.0, 4.0, 9.0])))
    9.5
    """
    return xnp.trapezoid(y, x, dx=dx, axis=axis)


def _ravel(tree):
    """``tree`` as one flat vector and the function rebuilding the tree from one."""
    leaves, treedef = tree_flatten(tree)
    shapes = [xnp.shape(x) for x in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = xnp.concatenate([xnp.ravel(x) for x in leaves]) if leaves else xnp.zeros(0)

    def unravel(v):
        out, k = [], 0
        for shp, n in zip(shapes, sizes):
            out.append(xnp.reshape(v[k:k + n], shp))
            k += n
        return tree_unflatten(treedef, out)

    return flat, unravel


# Dormand-Prince 5(4) tableau and its dense-output coefficients (as in JAX and scipy).
_ALPHA = [1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0, 0]
_BETA = [
    [1 / 5, 0, 0, 0, 0, 0, 0],
    [3 / 40, 9 / 40, 0, 0, 0, 0, 0],
    [44 / 45, -56 / 15, 32 / 9, 0, 0, 0, 0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0, 0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0, 0],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
]
_C_SOL = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0]
_C_ERROR = [35 / 384 - 1951 / 21600, 0, 500 / 1113 - 22642 / 50085, 125 / 192 - 451 / 720,
            -2187 / 6784 - -12231 / 42400, 11 / 84 - 649 / 6300, -1. / 60.]
_DPS_C_MID = [6025192743 / 30085553152 / 2, 0, 51252292925 / 65400821598 / 2,
              -2691868925 / 45128329728 / 2, 187940372067 / 1594534317056 / 2,
              -1776094331 / 19743644256 / 2, 11237099 / 235043384 / 2]


def _interp_fit_dopri(y0, y1, k, dt):
    dt = dt.astype(y0.dtype)
    y_mid = y0 + dt * (xnp.asarray(_DPS_C_MID, y0.dtype) @ k)
    return _fit_4th_order_polynomial(y0, y1, y_mid, k[0], k[-1], dt)


def _fit_4th_order_polynomial(y0, y1, y_mid, dy0, dy1, dt):
    a = -2. * dt * dy0 + 2. * dt * dy1 - 8. * y0 - 8. * y1 + 16. * y_mid
    b = 5. * dt * dy0 - 3. * dt * dy1 + 18. * y0 + 14. * y1 - 32. * y_mid
    c = -4. * dt * dy0 + dt * dy1 - 11. * y0 - 5. * y1 + 16. * y_mid
    d = dt * dy0
    e = y0
    return xnp.stack([a, b, c, d, e])


def _initial_step_size(fun, t0, y0, order, rtol, atol, f0):
    # Hairer, Norsett and Wanner, "Solving ODEs I", section II.4
    scale = atol + xnp.abs(y0) * rtol
    d0 = xnp.linalg.norm(y0 / scale)
    d1 = xnp.linalg.norm(f0 / scale)
    h0 = xnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1)
    y1 = y0 + h0 * f0
    f1 = fun(y1, t0 + h0)
    d2 = xnp.linalg.norm((f1 - f0) / scale) / h0
    h1 = xnp.where((d1 <= 1e-15) & (d2 <= 1e-15), xnp.maximum(1e-6, h0 * 1e-3),
                   (0.01 / xnp.maximum(d1, d2)) ** (1. / (order + 1.)))
    return xnp.minimum(100. * h0, h1)


def _runge_kutta_step(func, y0, f0, t0, dt):
    dt = dt.astype(y0.dtype)
    # the six stages unrolled (static coefficients: no dynamic indexing in the kernel)
    ks = [f0]
    for i in range(1, 7):
        ti = t0 + dt * _ALPHA[i - 1]
        yi = y0
        for j, c in enumerate(_BETA[i - 1][:i]):
            if c != 0:
                yi = yi + (dt * c) * ks[j]
        ks.append(func(yi, ti))
    k = xnp.stack(ks)
    y1 = dt * (xnp.asarray(_C_SOL, y0.dtype) @ k) + y0
    y1_error = dt * (xnp.asarray(_C_ERROR, y0.dtype) @ k)
    return y1, ks[-1], y1_error, k




def _error_ratio(error_estimate, rtol, atol, y0, y1):
    err_tol = atol + rtol * xnp.maximum(xnp.abs(y0), xnp.abs(y1))
    err_ratio = error_estimate / err_tol
    return xnp.sqrt(xnp.mean(err_ratio * err_ratio))


def _optimal_step_size(last_step, mean_error_ratio, safety=0.9, ifactor=10.0, dfactor=0.2,
                       order=5.0):
    dfactor = xnp.where(mean_error_ratio < 1, 1.0, dfactor)
    factor = xnp.minimum(ifactor, xnp.maximum(mean_error_ratio ** (-1.0 / order) * safety, dfactor))
    return xnp.where(mean_error_ratio == 0, last_step * ifactor, last_step * factor)


def odeint(func: Callable, y0: Any, t: Array, *args, rtol: float = 1.4e-8, atol: float = 1.4e-8,
           mxstep: float = math.inf, hmax: float = math.inf):
    """Integrate ``dy/dt = func(y, t, *args)`` from ``y0`` at ``t[0]`` and return ``y`` at
    every time in ``t`` (increasing), stacked on a leading axis (``y0`` may be a pytree
    of float arrays). Adaptive Dormand-Prince steps with error control ``rtol``/``atol``,
    at most ``mxstep`` steps per output interval and steps of at most ``hmax``.
    Differentiable in ``y0``, ``t`` and ``args`` (adjoint method); values ``func``
    closes over are differentiable too (hoisted by ``closure_convert``).

    >>> import numpy as np, xform.numpy as xnp
    >>> from xform.scipy.integrate import odeint
    >>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), np.array([0.0, 1.0]), 2.0)
    >>> bool(abs(ys[1, 0] - np.exp(-2.0)) < 1e-7)
    True
    """
    for arg in tree_flatten(args)[0]:
        dt = getattr(xnp.asarray(arg), "dtype", None)
        if dt is not None and dt.kind not in "fc":
            raise TypeError(f"xform.scipy.integrate.odeint: the *args passed to func must be "
                            f"floating-point arrays, got dtype {dt}; close over integer values "
                            f"instead.")
    t = xnp.asarray(t)
    if t.ndim != 1:
        raise ValueError(f"xform.scipy.integrate.odeint: t must be a 1-d array of times, got shape "
                         f"{t.shape}.")
    converted, consts = closure_convert(func, y0, t[0], *args)
    return _odeint_wrapper(converted, rtol, atol, mxstep, hmax, y0, t, *args, *consts)


def _odeint_wrapper(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    y0 = tree_map(lambda v: xnp.asarray(v, dtype=xnp.result_type(v, 1.0)), y0)
    y0, unravel = _ravel(y0)
    ts = xnp.asarray(ts, dtype=y0.dtype)

    def flat_func(y, t, *a):
        return _ravel(func(unravel(y), t, *a))[0]

    out = _odeint(flat_func, rtol, atol, mxstep, hmax, y0, ts, *args)
    return xform_vmap_unravel(unravel, out)


def xform_vmap_unravel(unravel, out):
    # out: (len(ts), n) -> the tree of y with a leading time axis
    leaves_like = unravel(out[0])
    leaves, treedef = tree_flatten(leaves_like)
    res, k = [], 0
    for leaf in leaves:
        n = int(np.prod(xnp.shape(leaf)))
        res.append(xnp.reshape(out[:, k:k + n], (out.shape[0],) + tuple(xnp.shape(leaf))))
        k += n
    return tree_unflatten(treedef, res)


def _odeint_impl(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    def func_(y, t):
        return func(y, t, *args)

    def scan_fun(carry, target_t):
        def cond_fun(state):
            i, _, _, t, dt, _, _ = state
            return (t < target_t) & (i < mxstep) & (dt > 0)

        def body_fun(state):
            i, y, f, t, dt, last_t, interp_coeff = state
            next_y, next_f, next_y_error, k = _runge_kutta_step(func_, y, f, t, dt)
            next_t = t + dt
            error_ratio = _error_ratio(next_y_error, rtol, atol, y, next_y)
            new_interp_coeff = _interp_fit_dopri(y, next_y, k, dt)
            dt = xnp.clip(_optimal_step_size(dt, error_ratio), 0.0, hmax)
            accept = error_ratio <= 1.0
            new = [i + 1, next_y, next_f, next_t, dt, t, new_interp_coeff]
            old = [i + 1, y, f, t, dt, last_t, interp_coeff]
            return [xnp.where(accept, a, b) for a, b in zip(new, old)]

        _, *carry = lax.while_loop(cond_fun, body_fun, [xnp.asarray(0)] + carry)
        _, _, t, _, last_t, interp_coeff = carry
        relative_output_time = (target_t - last_t) / (t - last_t)
        s = relative_output_time.astype(interp_coeff.dtype)
        y_target = interp_coeff[0]
        for c in range(1, 5):  # Horner over the 5 coefficient rows (one polynomial per component)
            y_target = y_target * s + interp_coeff[c]
        return carry, y_target

    f0 = func_(y0, ts[0])
    dt = xnp.clip(_initial_step_size(func_, ts[0], y0, 4, rtol, atol, f0), 0.0, hmax)
    interp_coeff = xnp.stack([y0] * 5)
    init_carry = [y0, f0, ts[0], dt, ts[0], interp_coeff]
    _, ys = lax.scan(scan_fun, init_carry, ts[1:])
    return xnp.concatenate((y0[None], ys))


def _odeint_fwd(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    ys = _odeint(func, rtol, atol, mxstep, hmax, y0, ts, *args)
    return ys, (ys, ts, args)


def _odeint_rev(func, rtol, atol, mxstep, hmax, res, g):
    # The adjoint system, integrated from t[i] back to t[i-1] in reversed time s = -t:
    # y' = -f(y, -s), a' = a^T df/dy, the parameters' cotangents accumulate a^T df/dargs.
    ys, ts, args = res
    ys, ts, g = xnp.asarray(ys), xnp.asarray(ts), xnp.asarray(g)  # indexed by traced i below

    def aug_dynamics(state, t, *args):
        y, y_bar, _t0_bar, _args_bar = state
        y_dot, vjpfun = _vjp(lambda yy, tt, *aa: func(yy, -tt, *aa), y, t, *args)
        cts = vjpfun(y_bar)
        return (-y_dot, cts[0], cts[1], tuple(cts[2:]))

    def scan_fun(carry, i):
        y_bar, t0_bar, args_bar = carry
        t_bar = xnp.dot(func(ys[i], ts[i], *args), g[i])
        t0_bar = t0_bar - t_bar
        state = (ys[i], y_bar, t0_bar, args_bar)
        flat, unravel = _ravel(state)

        def flat_aug(v, t, *a):
            return _ravel(aug_dynamics(unravel(v), t, *a))[0]

        out = _odeint(flat_aug, rtol, atol, mxstep, hmax, flat, xnp.stack([-ts[i], -ts[i - 1]]),
                      *args)
        _, y_bar, t0_bar, args_bar = unravel(out[1])
        y_bar = y_bar + g[i - 1]
        return (y_bar, t0_bar, args_bar), t_bar

    init_carry = (g[-1], xnp.zeros((), ts.dtype), tuple(xnp.zeros_like(a) for a in args))
    (y_bar, t0_bar, args_bar), rev_ts_bar = lax.scan(
        scan_fun, init_carry, xnp.arange(ts.shape[0] - 1, 0, -1))
    ts_bar = xnp.concatenate([t0_bar[None], rev_ts_bar[::-1]])
    return (y_bar, ts_bar, *args_bar)


def _vjp(f, *primals):
    return vjp(f, *primals)


_odeint = custom_vjp(_odeint_impl, nondiff_argnums=(0, 1, 2, 3, 4))
_odeint.defvjp(_odeint_fwd, _odeint_rev)
