"""Line searches as ``while_loop``\\ s: a strong-Wolfe search (bracketing, then zoom by
cubic/quadratic interpolation or bisection: Nocedal & Wright, Algorithms 3.5 and 3.6,
as in scipy's ``line_search_wolfe2`` and JAX's ``line_search``) and Armijo
backtracking.

The Wolfe search is written as *one* loop that evaluates the objective once per
iteration (its phase, bracketing or zooming, is part of the loop state) rather than
JAX's loop with two nested zoom loops: under ``jit`` the objective and its gradient are
emitted once instead of three times, which keeps compile time and code size down.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .. import lax
from .. import numpy as xnp
from ._common import vdot


class WolfeResult(NamedTuple):
    """``alpha``: the step (0 when no acceptable step was found); ``f``/``g``: the
    objective and gradient at ``x + alpha p``; ``nfev``: evaluations (each of value and
    gradient); ``failed``: no step satisfied the strong Wolfe conditions (``alpha`` is
    then the best step with sufficient decrease found, possibly 0)."""
    alpha: object
    f: object
    g: object
    nfev: object
    failed: object


def _safe(d):
    return xnp.where(d == 0, 1.0, d)


def _cubicmin(a, fa, fpa, b, fb, c, fc):
    """Minimizer of the cubic through (a, fa, fpa), (b, fb), (c, fc); nan when there is
    none (the caller's bounds test then rejects it). Divisions are guarded so that
    degenerate points give nan rather than floating-point warnings."""
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    r1 = fb - fa - fpa * db
    r2 = fc - fa - fpa * dc
    A = (dc ** 2 * r1 - db ** 2 * r2) / _safe(denom)
    B = (-dc ** 3 * r1 + db ** 3 * r2) / _safe(denom)
    radical = B * B - 3.0 * A * fpa
    ok = (denom != 0) & (A != 0) & (radical >= 0)
    x = a + (-B + xnp.sqrt(xnp.where(ok, radical, 0.0))) / (3.0 * _safe(A))
    return xnp.where(ok, x, xnp.nan)


def _quadmin(a, fa, fpa, b, fb):
    """Minimizer of the quadratic through (a, fa, fpa), (b, fb) (nan when none)."""
    db = b - a
    B = (fb - fa - fpa * db) / _safe(db * db)
    ok = (db != 0) & (B != 0)
    return xnp.where(ok, a - fpa / (2.0 * _safe(B)), xnp.nan)


def wolfe(value_and_grad: Callable, x, p, f0, g0, alpha0, *, c1: float = 1e-4,
          c2: float = 0.9, maxiter: int = 40, first=False) -> WolfeResult:
    """A step ``alpha`` along ``p`` from ``x`` satisfying the strong Wolfe conditions
    ``f(x + a p) <= f0 + c1 a g0.p`` and ``|g(x + a p).p| <= c2 |g0.p|``, starting the
    bracketing at ``alpha0`` (doubling). At most ``maxiter`` evaluations.

    When the decrease the first trial promises, ``-alpha0 g0.p``, is below ``1e-6 max(1,
    |f0|)``, differences of ``f`` are mostly rounding noise (ill-conditioned problems near
    their solution), so the search compares the values ``f0 + a (g0.p + g(x + a p).p) / 2``
    (the trapezoid rule on the directional derivative: exact for quadratics, error
    O(a^3)) instead: sufficient decrease becomes Hager and Zhang's approximate Wolfe
    condition ``g(x + a p).p <= (2 c1 - 1) g0.p``, with ``f`` itself allowed to rise by
    no more than that threshold (Hager & Zhang, SIAM J. Optim. 16 (2005), section 4).

    ``first`` (a boolean scalar) accepts the first trial whatever it gives: a caller
    passes it with ``p = 0`` to evaluate its starting point through this loop, so that
    the objective has one call site in its program instead of a second one before it."""
    dtype = f0.dtype
    dphi0 = vdot(g0, p)
    zero = xnp.zeros((), dtype)
    eps = float(np.finfo(dtype).eps)
    noise = 1e-6 * xnp.maximum(1.0, xnp.abs(f0))
    noisy = -alpha0 * dphi0 <= noise

    def curvature_ok(dphi):
        return xnp.abs(dphi) <= -c2 * dphi0

    # state: i, done, zoom, j; prev (a, phi, dphi, and f, g: the last bracketing trial, or
    # the accepted one), lo (a, phi, dphi, f, g), hi (a, phi), rec (a, phi: the third point
    # of the cubic). phi values are those compared (trapezoid values when noisy), f the
    # objective's.
    init = dict(i=0, done=False, zoom=False, j=0,
                a_prev=zero, phi_prev=f0, dphi_prev=dphi0, f_prev=f0, g_prev=g0,
                a_lo=zero, phi_lo=f0, dphi_lo=dphi0, f_lo=f0, g_lo=g0,
                a_hi=zero, phi_hi=f0, a_rec=zero, phi_rec=f0, failed=False)

    def cond(s):
        return ~s["done"] & (s["i"] < maxiter)

    def body(s):
        s = dict(s)
        # -- the trial step: doubling while bracketing, interpolation while zooming
        a_bracket = xnp.where(s["i"] == 0, alpha0, 2.0 * s["a_prev"])
        dalpha = s["a_hi"] - s["a_lo"]
        lo = xnp.minimum(s["a_lo"], s["a_hi"])
        hi = xnp.maximum(s["a_lo"], s["a_hi"])
        cchk, qchk = 0.2 * xnp.abs(dalpha), 0.1 * xnp.abs(dalpha)
        a_cubic = _cubicmin(s["a_lo"], s["phi_lo"], s["dphi_lo"], s["a_hi"], s["phi_hi"],
                            s["a_rec"], s["phi_rec"])
        use_cubic = (s["j"] > 0) & (a_cubic > lo + cchk) & (a_cubic < hi - cchk)
        a_quad = _quadmin(s["a_lo"], s["phi_lo"], s["dphi_lo"], s["a_hi"], s["phi_hi"])
        use_quad = ~use_cubic & (a_quad > lo + qchk) & (a_quad < hi - qchk)
        a_zoom = xnp.where(use_cubic, a_cubic, xnp.where(use_quad, a_quad, 0.5 * (lo + hi)))
        zoom = s["zoom"]
        a_j = xnp.where(zoom, a_zoom, a_bracket).astype(dtype)
        # the interval has collapsed: stop (the best sufficient-decrease step is kept)
        collapsed = zoom & (xnp.abs(dalpha) <= 1e-2 * np.sqrt(eps) * xnp.maximum(hi, 1.0))

        f_j, g_j = value_and_grad(x + a_j * p)
        dphi_j = vdot(g_j, p)
        # a non-finite trial value counts as too large (shrinks the bracket)
        finite = xnp.isfinite(f_j) & xnp.isfinite(dphi_j)
        dphi_j = xnp.where(finite, dphi_j, xnp.inf)
        phi_j = xnp.where(finite, xnp.where(noisy, f0 + 0.5 * a_j * (dphi0 + dphi_j), f_j),
                          xnp.inf)
        # sufficient decrease violated (when noisy: also f risen above the noise)
        w1 = (phi_j > f0 + c1 * a_j * dphi0) | (noisy & (f_j > f0 + noise))
        curv = curvature_ok(dphi_j)

        # -- bracketing phase transitions
        b_zoom1 = w1 | ((phi_j >= s["phi_prev"]) & (s["i"] > 0))  # lo = prev, hi = j
        b_done = ~b_zoom1 & curv
        b_zoom2 = ~b_zoom1 & ~b_done & (dphi_j >= 0)  # lo = j, hi = prev
        b_more = ~b_zoom1 & ~b_done & ~b_zoom2
        # -- zoom phase transitions
        z_hi_to_j = w1 | (phi_j >= s["phi_lo"])
        z_done = ~z_hi_to_j & curv
        z_flip = ~z_hi_to_j & ~z_done & (dphi_j * dalpha >= 0)  # hi = lo, then lo = j
        z_lo_to_j = ~z_hi_to_j & ~z_done

        bz = ~zoom
        done = xnp.where(bz, b_done | (first & (s["i"] == 0)), z_done)
        new_lo_j = (bz & b_zoom2) | (zoom & z_lo_to_j)
        new_lo_prev = bz & b_zoom1
        new_hi_j = (bz & b_zoom1) | (zoom & z_hi_to_j)
        new_hi_prev = bz & b_zoom2
        new_hi_lo = zoom & z_flip

        def pick(cases, default):
            out = default
            for c, v in cases:
                out = xnp.where(c, v, out)
            return out

        # record point of the cubic: the previous hi (or lo) that is being replaced
        rec_from_hi = zoom & (z_hi_to_j | z_flip)
        rec_from_lo = zoom & z_lo_to_j & ~z_flip
        rec_a = pick([(rec_from_hi, s["a_hi"]), (rec_from_lo, s["a_lo"])], s["a_rec"])
        rec_phi = pick([(rec_from_hi, s["phi_hi"]), (rec_from_lo, s["phi_lo"])], s["phi_rec"])
        a_hi = pick([(new_hi_j, a_j), (new_hi_prev, s["a_prev"]), (new_hi_lo, s["a_lo"])],
                    s["a_hi"])
        phi_hi = pick([(new_hi_j, phi_j), (new_hi_prev, s["phi_prev"]),
                       (new_hi_lo, s["phi_lo"])], s["phi_hi"])
        for k, v_j in (("a", a_j), ("phi", phi_j), ("dphi", dphi_j), ("f", f_j), ("g", g_j)):
            s[k + "_lo"] = xnp.where(new_lo_j, v_j, xnp.where(new_lo_prev, s[k + "_prev"],
                                                                s[k + "_lo"]))
        entering = bz & (b_zoom1 | b_zoom2)
        # a fresh zoom starts its record point at the midpoint (JAX/scipy)
        rec_a = xnp.where(entering, 0.5 * (s["a_lo"] + a_hi), rec_a)
        rec_phi = xnp.where(entering, 0.5 * (s["phi_lo"] + phi_hi), rec_phi)
        s.update(a_hi=a_hi, phi_hi=phi_hi, a_rec=rec_a, phi_rec=rec_phi)
        # prev: the last bracketing trial (a later "lo = prev" needs its values), or the
        # accepted one
        take = done | (bz & b_more)
        for k, v_j in (("a", a_j), ("phi", phi_j), ("dphi", dphi_j), ("f", f_j), ("g", g_j)):
            s[k + "_prev"] = xnp.where(take, v_j, s[k + "_prev"])
        s["zoom"] = zoom | entering
        s["j"] = xnp.where(zoom, s["j"] + 1, 0)
        s["i"] = s["i"] + 1
        s["failed"] = collapsed & ~done
        s["done"] = done | s["failed"]
        return s

    s = lax.while_loop(cond, body, init)
    ok = s["done"] & ~s["failed"]
    # Not found: fall back to the lowest point with sufficient decrease seen (lo while
    # zooming, the last trial while bracketing), 0 if none; the caller decides.
    use_prev = ok | ~s["zoom"]  # bracketing never failed sufficient decrease: last trial
    alpha = xnp.where(use_prev, s["a_prev"], s["a_lo"])
    f = xnp.where(use_prev, s["f_prev"], s["f_lo"])
    g = xnp.where(use_prev, s["g_prev"], s["g_lo"])
    return WolfeResult(alpha, f, g, s["i"], ~ok)


def backtracking(value: Callable, x, p, f0, slope, *, c1: float = 1e-4, shrink: float = 0.5,
                 maxiter: int = 40, active=True):
    """Armijo backtracking from the unit step: the first ``alpha = shrink**k`` with
    ``f(x + alpha p) <= f0 + c1 alpha slope`` up to the rounding error of ``f`` (near a
    minimum the decrease of a good step is below it; without the slack the test fails at
    random there and steps shrink forever). Returns ``(alpha, f_new, nfev, failed)``; on
    failure ``alpha`` is 0 and ``f_new`` is ``f0``. Nothing is evaluated when ``active``
    (a boolean scalar) is False."""
    dtype = f0.dtype
    slack = 10 * float(np.finfo(dtype).eps) * xnp.maximum(1.0, xnp.abs(f0))

    def cond(s):
        alpha, f, k, ok = s
        return ~ok & (k < maxiter) & active

    def body(s):
        alpha, _, k, _ = s
        alpha = xnp.where(k == 0, xnp.ones((), dtype), alpha * shrink)
        f = value(x + alpha * p)
        ok = xnp.isfinite(f) & (f <= f0 + c1 * alpha * slope + slack)
        return alpha, f, k + 1, ok

    alpha, f, k, ok = lax.while_loop(cond, body, (xnp.zeros((), dtype), f0, 0, False))
    return xnp.where(ok, alpha, 0.0).astype(dtype), xnp.where(ok, f, f0), k, ~ok
