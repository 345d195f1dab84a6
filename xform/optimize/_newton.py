"""Newton-CG (truncated Newton), as scipy's ``method="Newton-CG"``.

Each outer iteration linearizes the gradient once at ``x`` (``Objective.linearize``):
the inner conjugate-gradient loop then applies only the linear program (Hessian-vector
products reusing the primal work), never forming the Hessian. The inner loop is
scipy's: it stops at the forcing tolerance ``min(0.5, sqrt(|g|_1)) |g|_1`` (L1 norms)
or at the first direction of non-positive curvature (steepest descent if that is the
first one). The step is chosen by Armijo backtracking from the Newton step.

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
from ._common import norm_inf
from ._line_search import backtracking

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
        curv = xnp.dot(p, Ap)
        flat = (curv >= 0) & (curv <= 3 * eps * xnp.dot(p, p))
        negative = curv < 0
        stop = flat | negative
        # negative curvature at the first step: steepest descent scaled like scipy
        z_neg = xnp.where(i == 0, (dri0 / xnp.where(negative, -curv, 1.0)) * -g, z)
        alpha = dri0 / xnp.where(stop, 1.0, curv)
        z_new = z + alpha * p
        r_new = r + alpha * Ap
        dri1 = xnp.dot(r_new, r_new)
        p_new = -r_new + (dri1 / dri0) * p
        z = xnp.where(negative, z_neg, xnp.where(flat, z, z_new))
        return (z, xnp.where(stop, r, r_new), xnp.where(stop, p, p_new),
                xnp.where(stop, dri0, dri1), i + 1, stop, negative)

    z0 = xnp.zeros_like(g)
    z, _, _, _, i, _, neg = lax.while_loop(
        cond, body, (z0, g, -g, xnp.dot(g, g), 0, ~active, False))
    # no usable direction (zero curvature at once): steepest descent
    z = xnp.where(xnp.all(z == 0) & active, -g, z)
    return z, i, active & ~neg


def make(obj, opts):
    """The Newton-CG solver ``x0 -> (x, (f, g), stats)`` for ``obj``."""

    def core(x0):
        n = x0.shape[0]
        maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
        cg_maxiter = opts["cg_maxiter"] if opts["cg_maxiter"] is not None else 20 * n
        gtol, xtol_total = opts["gtol"], n * opts["xtol"]
        dtype = x0.dtype
        eps = float(np.finfo(dtype).eps)
        z = xnp.zeros((), dtype)
        init = dict(x=x0, f=z, g=xnp.zeros_like(x0), k=0, nfev=0, njev=0, nhvp=0, status=-1,
                    small=False)

        def body(s):
            s = dict(s)
            x = s["x"]
            f, g, hvp = obj.linearize(x)
            s.update(f=f, g=g, nfev=s["nfev"] + 1, njev=s["njev"] + 1)
            finite = xnp.isfinite(f) & xnp.all(xnp.isfinite(g))
            # converged: a small gradient *and* a small full Newton step (see below)
            converged = (norm_inf(g) <= gtol) & s["small"]
            status = xnp.where(~finite, 3, xnp.where(converged, 0, xnp.where(
                s["k"] >= maxiter, 1, -1)))
            active = status < 0
            p, nh, solved = newton_direction(hvp, g, cg_maxiter, active)
            slope = xnp.dot(g, p)
            # A Newton step from CG (started at 0) decreases the quadratic model by
            # -g.p / 2. When that is below the rounding noise of f, comparing values of
            # f is meaningless: the step is taken on the model's word (it is then tiny,
            # the last steps of the quadratic convergence).
            model_step = solved & (-0.5 * slope <= np.sqrt(eps) * xnp.maximum(1.0, xnp.abs(f)))
            alpha, _, nls, failed = backtracking(obj.value, x, p, f, slope, c1=opts["c1"],
                                                 active=active & ~model_step)
            alpha = xnp.where(model_step, 1.0, alpha)
            failed = failed & ~model_step
            update = alpha * p
            s["x"] = xnp.where(active & ~failed, x + update, x)
            s["nhvp"] = s["nhvp"] + nh
            s["nfev"] = s["nfev"] + nls
            s["k"] = s["k"] + xnp.where(active & ~failed, 1, 0)
            # scipy stops when the L1 norm of the step is below n * xtol. A step cut
            # short, by the line search or by negative curvature in the inner loop, is
            # no sign of convergence (scipy stalls so in curved valleys): here it must
            # be a full Newton step.
            s["small"] = solved & ~failed & (alpha == 1) & (
                xnp.sum(xnp.abs(update)) <= xtol_total)
            s["status"] = xnp.where(active & failed, 2, status)
            return s

        s = lax.while_loop(lambda s: s["status"] < 0, body, init)
        stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["njev"], nhvp=s["nhvp"],
                     status=s["status"], success=s["status"] == 0)
        return s["x"], (s["f"], s["g"]), stats

    return core
