"""Newton-CG (truncated Newton), as scipy's ``method="Newton-CG"``.

Each outer iteration linearizes the gradient once at ``x`` (``Objective.linearize``):
the inner conjugate-gradient loop then applies only the linear program (Hessian-vector
products reusing the primal work), never forming the Hessian. The inner loop is
scipy's: it stops at the forcing tolerance ``min(0.5, sqrt(|g|_1)) |g|_1`` (L1 norms)
or at the first direction of non-positive curvature (steepest descent if that is the
first one). The step is chosen by Armijo backtracking from the Newton step, each trial
evaluated with its linearized gradient (see ``make``).

Convergence needs both ``max|g| <= gtol`` and scipy's step test (the L1 norm of the last
step below ``n * xtol``), the latter only for a full Newton step: scipy's step test alone
stops early wherever steps are short (curved valleys, where scipy reports success far
from the minimum), and the gradient test alone is scale-dependent (a mean loss over many
samples has small gradients long before its minimizer is resolved).
"""
from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as xnp
from ._common import norm_inf, vdot

DEFAULTS = dict(maxiter=None, gtol=1e-5, xtol=1e-5, cg_maxiter=None, c1=1e-4)
TOL_OPTIONS = ("gtol", "xtol")  # what minimize's tol sets


def newton_direction(hvp, g, maxiter, active):
    """Approximately solve ``H p = -g`` by conjugate gradients from 0 (scipy's inner
    loop). Returns ``(p, hvps, solved)``: ``solved`` is False when the loop stopped at
    negative curvature (a truncated direction, not a Newton step). No iteration runs
    when ``active`` is False.

    scipy also stops at "flat" directions, ``0 <= p.Hp <= 3 eps``; that absolute test
    fires for any short direction of a badly scaled problem, so here it is relative to
    ``p.p``."""
    dtype = g.dtype
    eps = float(np.finfo(dtype).eps)
    maggrad = xnp.sum(xnp.abs(g))
    termcond = xnp.minimum(0.5, xnp.sqrt(maggrad)) * maggrad

    def cond(s):
        z, r, p, dri0, i, done, neg = s
        return ~done & (i < maxiter) & (xnp.sum(xnp.abs(r)) > termcond)

    def body(s):
        z, r, p, dri0, i, _, _ = s
        Ap = hvp(p)
        curv = vdot(p, Ap)
        flat = (curv >= 0) & (curv <= 3 * eps * vdot(p, p))
        negative = curv < 0
        stop = flat | negative
        # negative curvature at the first step: steepest descent scaled like scipy
        z_neg = xnp.where(i == 0, (dri0 / xnp.where(negative, -curv, 1.0)) * -g, z)
        alpha = dri0 / xnp.where(stop, 1.0, curv)
        z_new = z + alpha * p
        r_new = r + alpha * Ap
        dri1 = vdot(r_new, r_new)
        p_new = -r_new + (dri1 / dri0) * p
        z = xnp.where(negative, z_neg, xnp.where(flat, z, z_new))
        return (z, xnp.where(stop, r, r_new), xnp.where(stop, p, p_new),
                xnp.where(stop, dri0, dri1), i + 1, stop, negative)

    z0 = xnp.zeros_like(g)
    z, _, _, _, i, _, neg = lax.while_loop(
        cond, body, (z0, g, -g, vdot(g, g), 0, ~active, False))
    # no usable direction (zero curvature at once): steepest descent
    z = xnp.where(xnp.all(z == 0) & active, -g, z)
    return z, i, active & ~neg


def make(obj, opts):
    """The Newton-CG solver ``x0 -> (x, (f, g), stats)`` for ``obj``.

    One loop evaluates the objective at one point per iteration, with its gradient
    linearized: the starting point, or a trial step ``x + alpha p``. An accepted trial
    (Armijo's test, or a Newton step taken on the model's word) is the next iterate,
    whose evaluation is then already done, and the inner CG loop runs on its
    linearization; a rejected one halves ``alpha`` (backtracking). So the objective is
    emitted once in the compiled program, not once more for the line search, and an
    accepted step costs one evaluation instead of two."""
    maxls = 40  # backtracking trials per iteration

    def core(x0):
        n = x0.shape[0]
        maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
        cg_maxiter = opts["cg_maxiter"] if opts["cg_maxiter"] is not None else 20 * n
        gtol, xtol_total, c1 = opts["gtol"], n * opts["xtol"], opts["c1"]
        dtype = x0.dtype
        eps = float(np.finfo(dtype).eps)
        z = xnp.zeros((), dtype)
        zeros = xnp.zeros_like(x0)
        # p, alpha, slope: the direction, the trial step along it, g.p; model: take the
        # trial without testing f; solved: p is a Newton step; nls: rejected trials so far
        init = dict(x=x0, f=z, g=zeros, p=zeros, alpha=z, slope=z, model=False, solved=False,
                    nls=0, k=0, nfev=0, nhvp=0, status=-1)

        def body(s):
            s = dict(s)
            x, f, p, alpha = s["x"], s["f"], s["p"], s["alpha"]
            trial = s["nfev"] > 0  # (the first evaluation is the starting point: alpha 0)
            y = x + alpha * p
            f_y, g_y, hvp = obj.linearize(y)
            # Armijo's test up to the rounding error of f (near a minimum the decrease of a
            # good step is below it; without the slack the test fails at random there)
            slack = 10 * eps * xnp.maximum(1.0, xnp.abs(f))
            armijo = xnp.isfinite(f_y) & (f_y <= f + c1 * alpha * s["slope"] + slack)
            accept = ~trial | s["model"] | armijo
            nls = xnp.where(accept, 0, s["nls"] + 1)
            failed = nls >= maxls
            step = alpha * p
            # scipy stops when the L1 norm of the step is below n * xtol. A step cut short,
            # by the line search or by negative curvature in the inner loop, is no sign of
            # convergence (scipy stalls so in curved valleys): here it must be a full
            # Newton step.
            small = trial & s["solved"] & (alpha == 1) & (xnp.sum(xnp.abs(step)) <= xtol_total)
            k = s["k"] + xnp.where(accept & trial, 1, 0)
            f = xnp.where(accept, f_y, f)
            g = xnp.where(accept, g_y, s["g"])
            finite = xnp.isfinite(f) & xnp.all(xnp.isfinite(g))
            # converged: a small gradient *and* a small full Newton step
            converged = (norm_inf(g) <= gtol) & small
            status = xnp.where(~accept, xnp.where(failed, 2, -1), xnp.where(
                ~finite, 3, xnp.where(converged, 0, xnp.where(k >= maxiter, 1, -1))))
            active = accept & (status < 0)
            p_new, nh, solved = newton_direction(hvp, g_y, cg_maxiter, active)
            slope = vdot(g_y, p_new)
            # A Newton step from CG (started at 0) decreases the quadratic model by
            # -g.p / 2. When that is below the rounding noise of f, comparing values of
            # f is meaningless: the step is taken on the model's word (it is then tiny,
            # the last steps of the quadratic convergence).
            model = solved & (-0.5 * slope <= np.sqrt(eps) * xnp.maximum(1.0, xnp.abs(f_y)))
            s.update(x=xnp.where(accept, y, x), f=f, g=g, k=k, nls=nls, status=status,
                     nfev=s["nfev"] + 1, nhvp=s["nhvp"] + nh,
                     p=xnp.where(accept, p_new, p), slope=xnp.where(accept, slope, s["slope"]),
                     alpha=xnp.where(accept, xnp.ones((), dtype), 0.5 * alpha),
                     model=accept & model, solved=xnp.where(accept, solved, s["solved"]))
            return s

        s = lax.while_loop(lambda s: s["status"] < 0, body, init)
        stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["nfev"], nhvp=s["nhvp"],
                     status=s["status"], success=s["status"] == 0)
        return s["x"], (s["f"], s["g"]), stats

    return core
