"""Trust-region Newton methods (scipy's ``trust-ncg`` and ``trust-exact``; Nocedal &
Wright, chapter 4).

Both minimize the quadratic model ``m(p) = f + g.p + p.Hp / 2`` within ``|p| <= r``,
accept the step when the actual decrease is more than ``eta`` times the predicted one,
and shrink (ratio < 1/4) or grow (ratio > 3/4 at the boundary) the radius like scipy.
The candidate is evaluated with its gradient: when the predicted decrease is below the
rounding noise of ``f`` (ill-conditioned problems near the solution), the actual
decrease is measured from the gradients instead (``_ratio``), where scipy's test
rejects steps at random.

- ``trust-ncg``: Steihaug's truncated conjugate gradients on Hessian-vector products
  (the gradient linearized once per iteration). The model value is tracked along the
  CG iterates, so the ratio test costs no extra product.
- ``trust-exact``: the subproblem solved exactly from the eigendecomposition of the
  dense Hessian (``eigh``): the secular equation ``1/|p(mu)| = 1/r`` by safeguarded
  Newton steps on ``mu``, including the "hard case" (gradient orthogonal to the
  eigenvectors of the smallest eigenvalue). The Hessian (from the gradient's
  linearization) and its decomposition are only computed at an accepted point.

Each method evaluates the objective at one point per iteration (see ``NCG``), so the
objective is emitted once in the compiled program.
"""
from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..vmap import vmap
from ._common import vdot, vnorm

_COMMON = dict(maxiter=None, gtol=1e-5, initial_trust_radius=1.0, max_trust_radius=1000.0,
               eta=0.15)


def _ratio(f, f_new, g, g_new, p, predicted):
    """The gain ratio ``actual / predicted decrease``. When the predicted decrease is
    small relative to ``|f|``, ``f - f_new`` is mostly rounding noise, so the actual
    decrease is measured as ``-(g + g_new).p / 2`` instead (the trapezoid rule on the
    gradient along the step: exact for quadratics, error O(|p|^3); cf. Conn, Gould &
    Toint, section 17.4.2)."""
    small = predicted <= 1e-6 * xnp.maximum(1.0, xnp.abs(f))
    actual = xnp.where(small, -0.5 * vdot(g + g_new, p), f - f_new)
    rho = actual / xnp.where(predicted > 0, predicted, 1.0)
    return xnp.where(xnp.isfinite(f_new) & xnp.all(xnp.isfinite(g_new)), rho, -1.0)


def _collapsed(radius, x):
    """The trust radius is below rounding of ``x``: no step can make progress."""
    eps = float(np.finfo(x.dtype).eps)
    return radius <= 10 * eps * xnp.maximum(1.0, vnorm(x))


def _radius_update(radius, rho, hits, max_radius):
    grown = xnp.where((rho > 0.75) & hits, xnp.minimum(2.0 * radius, max_radius), radius)
    return xnp.where(rho < 0.25, 0.25 * radius, grown)


def _try_step(obj, s, opts):
    """Evaluate the trial point ``x + p`` of loop state ``s`` (linearized there, so an
    accepted trial's gradient and Hessian-vector products serve the next iteration):
    ``(y, f(y), grad f(y), hvp at y, accepted, new radius)``. A state that is not a
    trial (the first iteration) is accepted as it is, with its radius."""
    x, p, trial, radius = s["x"], s["p"], s["trial"], s["radius"]
    y = x + p
    f_y, g_y, hvp = obj.linearize(y)
    rho = _ratio(s["f"], f_y, s["g"], g_y, p, s["predicted"])
    accept = ~trial | ((rho > opts["eta"]) & (s["predicted"] > 0))
    radius = xnp.where(trial, _radius_update(
        radius, rho, s["hits"], opts["max_trust_radius"]), radius)
    return y, f_y, g_y, hvp, accept, radius


def _boundary_taus(z, d, radius):
    """The two solutions ``tau`` of ``|z + tau d| = radius`` (ta <= tb)."""
    a = vdot(d, d)
    b = 2.0 * vdot(z, d)
    c = vdot(z, z) - radius * radius
    sq = xnp.sqrt(xnp.maximum(b * b - 4.0 * a * c, 0.0))
    aux = b + xnp.where(b >= 0, sq, -sq)
    ta, tb = -aux / (2.0 * a), -2.0 * c / xnp.where(aux == 0, 1.0, aux)
    return xnp.minimum(ta, tb), xnp.maximum(ta, tb)


def steihaug(hvp, g, radius, maxiter, active):
    """Steihaug-CG for ``min g.p + p.Hp/2, |p| <= radius`` (scipy's
    ``CGSteihaugSubproblem``). Returns ``(p, model decrease q(p) = g.p + p.Hp/2,
    hits_boundary, hvps)``."""
    jac_mag = vnorm(g)
    tol = xnp.minimum(0.5, xnp.sqrt(jac_mag)) * jac_mag
    zero = xnp.zeros((), g.dtype)

    def cond(s):
        return ~s["done"] & (s["i"] < maxiter)

    def body(s):
        s = dict(s)
        z, r, d, q = s["z"], s["r"], s["d"], s["q"]
        Bd = hvp(d)
        dBd = vdot(d, Bd)
        rd = vdot(r, d)

        def model_at(tau):  # q(z + tau d), with r = g + Bz the model gradient at z
            return q + tau * rd + 0.5 * tau * tau * dBd

        ta, tb = _boundary_taus(z, d, radius)
        # non-positive curvature: the better boundary point along d
        qa, qb = model_at(ta), model_at(tb)
        t_neg = xnp.where(qa < qb, ta, tb)
        negative = dBd <= 0
        r2 = vdot(r, r)
        alpha = r2 / xnp.where(negative, 1.0, dBd)
        z_next = z + alpha * d
        outside = ~negative & (vnorm(z_next) >= radius)
        r_next = r + alpha * Bd
        r2_next = vdot(r_next, r_next)
        inside_done = ~negative & ~outside & (xnp.sqrt(r2_next) < tol)
        t_hit = xnp.where(negative, t_neg, tb)
        hit = negative | outside
        s["z"] = xnp.where(hit, z + t_hit * d, z_next)
        s["q"] = xnp.where(hit, model_at(t_hit), model_at(alpha))
        s["r"] = r_next
        s["d"] = -r_next + (r2_next / xnp.where(r2 == 0, 1.0, r2)) * d
        s["hits"] = hit
        s["done"] = hit | inside_done
        s["i"] = s["i"] + 1
        return s

    init = dict(z=xnp.zeros_like(g), r=g, d=-g, q=zero, hits=False,
                done=~active | (jac_mag < tol) | (jac_mag == 0), i=0)
    s = lax.while_loop(cond, body, init)
    return s["z"], s["q"], s["hits"], s["i"]


class NCG:
    """trust-ncg. One loop evaluates the objective at one point per iteration with its
    gradient linearized: a trial ``x + p``, or ``x`` itself (the start, and after a
    rejected trial). An accepted trial is the next iterate, its linearization ready for
    the next Steihaug solve, so the objective is emitted once in the compiled program
    and an accepted step costs one evaluation (the previous loop evaluated the value and
    gradient at the trial, then linearized again at the accepted point); a rejected one
    costs a second evaluation at ``x``, whose linearization the next solve needs."""
    DEFAULTS = dict(_COMMON, cg_maxiter=None)
    TOL_OPTIONS = ("gtol",)

    @staticmethod
    def make(obj, opts):
        def core(x0):
            n = x0.shape[0]
            dtype = x0.dtype
            maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
            cg_maxiter = opts["cg_maxiter"] if opts["cg_maxiter"] is not None else 20 * n
            z = xnp.zeros((), dtype)
            zeros = xnp.zeros_like(x0)
            # p: the pending trial step (0: evaluate x itself), predicted: its model
            # decrease, hits: it reached the trust region's boundary
            init = dict(x=x0, f=z, g=zeros, p=zeros, predicted=z, hits=False, trial=False,
                        radius=xnp.asarray(opts["initial_trust_radius"], dtype), k=0, nfev=0,
                        nhvp=0, status=-1)

            def body(s):
                s = dict(s)
                x = s["x"]
                y, f_y, g_y, hvp, accept, radius = _try_step(obj, s, opts)
                f = xnp.where(accept, f_y, s["f"])
                g = xnp.where(accept, g_y, s["g"])
                finite = xnp.isfinite(f) & xnp.all(xnp.isfinite(g))
                status = xnp.where(~finite, 3, xnp.where(
                    vnorm(g) < opts["gtol"], 0, xnp.where(s["k"] >= maxiter, 1, -1)))
                x = xnp.where(accept, y, x)
                collapsed = _collapsed(radius, x)
                # a rejected trial: the next iteration evaluates x again (its linearization)
                # unless the radius has collapsed
                status = xnp.where(~accept & (status < 0) & collapsed, 2, status)
                active = accept & (status < 0)
                p_new, q, hits, nh = steihaug(hvp, g_y, radius, cg_maxiter, active)
                predicted = -q
                # no predicted decrease: the model cannot make progress (scipy's warnflag 2)
                stuck = active & ((predicted <= 0) | collapsed)
                # (p_new is 0 when no step was solved for: the next iteration evaluates x)
                s.update(x=x, f=f, g=g, radius=radius,
                         status=xnp.where(stuck, 2, status), p=p_new,
                         predicted=predicted, hits=hits, trial=active,
                         k=s["k"] + xnp.where(active, 1, 0), nfev=s["nfev"] + 1,
                         nhvp=s["nhvp"] + nh)
                return s

            s = lax.while_loop(lambda s: s["status"] < 0, body, init)
            stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["nfev"], nhvp=s["nhvp"],
                         status=s["status"], success=s["status"] == 0)
            return s["x"], (s["f"], s["g"]), stats

        return core


def exact_subproblem(evals, evecs, g, radius, iters: int = 60):
    """``argmin g.p + p.Hp/2, |p| <= radius`` for ``H = evecs diag(evals) evecs^T``.
    Returns ``(p, model value, hits_boundary)``."""
    dtype = g.dtype
    eps = float(np.finfo(dtype).eps)
    gt = evecs.T @ g                     # g in the eigenbasis
    lam_min = evals[0]                   # eigh sorts ascending
    scale = xnp.maximum(xnp.max(xnp.abs(evals)), 1.0)

    def p_norm2(mu):
        return xnp.sum((gt / (evals + mu)) ** 2)

    # interior Newton step when H is positive definite and the step fits
    pd = lam_min > eps * scale
    n2_0 = p_norm2(xnp.where(pd, 0.0, 1.0))
    interior = pd & (n2_0 <= radius * radius)
    # boundary: find mu > max(0, -lam_min) with |p(mu)| = radius (Newton on
    # 1/|p| - 1/radius, which is concave increasing: monotone from the left)
    mu_lo = xnp.maximum(0.0, -lam_min)
    near = xnp.abs(evals - lam_min) <= 1e3 * eps * scale
    g_perp2 = xnp.sum(xnp.where(near, 0.0, gt) ** 2)
    gmin2 = xnp.sum(xnp.where(near, gt, 0.0) ** 2)
    # hard case: no gradient component along the lowest eigenvectors and the step with
    # mu = -lam_min (excluding them) is inside the region
    safe_den = xnp.where(near, 1.0, evals + mu_lo)
    p_hard_norm2 = xnp.sum(xnp.where(near, 0.0, gt / safe_den) ** 2)
    hard = ~interior & (gmin2 <= (1e3 * eps * xnp.sqrt(g_perp2 + gmin2)) ** 2 + 1e-300) & (
        p_hard_norm2 <= radius * radius)

    def newton(i, mu):
        d = evals + mu
        n2 = xnp.sum((gt / d) ** 2)
        dn2 = -2.0 * xnp.sum(gt * gt / d ** 3)
        nrm = xnp.sqrt(n2)
        phi = 1.0 / nrm - 1.0 / radius
        dphi = -0.5 * dn2 / (n2 * nrm)
        mu_new = mu - phi / dphi
        return xnp.maximum(mu_new, mu_lo + 0.5 * (mu - mu_lo))

    # start just right of the pole, where |p| >= radius
    mu0 = mu_lo + xnp.maximum(xnp.sqrt(gmin2) / radius * 1e-3, eps * scale)
    mu0 = xnp.where(p_norm2(mu0) < radius * radius, mu_lo + 1e-300, mu0)
    mu = lax.fori_loop(0, iters, newton, mu0)
    mu = xnp.where(interior, 0.0, mu)
    coef = xnp.where(hard & near, 0.0, -gt / xnp.where(hard & near, 1.0, evals + xnp.where(
        hard, mu_lo, mu)))
    p = evecs @ coef
    # hard case: add a lowest eigenvector to reach the boundary
    v = evecs[:, 0]
    tau = _boundary_taus(p, v, radius)[1]
    p = xnp.where(hard, p + tau * v, p)
    q = vdot(g, p) + 0.5 * vdot(p, evecs @ (evals * (evecs.T @ p)))
    return p, q, ~interior


class EXACT:
    """trust-exact. As ``NCG``, one loop evaluates the objective at one point per
    iteration, linearized (the start, or the previous iteration's trial): an accepted
    point gets its Hessian from that linearization (``n`` products with the basis
    vectors, under a ``cond``) and its eigendecomposition; a rejected trial keeps them,
    so the next subproblem is solved with the smaller radius at once."""
    DEFAULTS = dict(_COMMON)
    TOL_OPTIONS = ("gtol",)

    @staticmethod
    def make(obj, opts):
        def core(x0):
            n = x0.shape[0]
            dtype = x0.dtype
            maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
            z = xnp.zeros((), dtype)
            zeros = xnp.zeros_like(x0)
            # p: the pending trial step (0 at the start), predicted: its model decrease,
            # hits: it reached the trust region's boundary
            init = dict(x=x0, f=z, g=zeros, p=zeros, predicted=z, hits=False, trial=False,
                        evals=zeros, evecs=xnp.eye(n, dtype=dtype), radius=xnp.asarray(
                            opts["initial_trust_radius"], dtype), k=0, nfev=0, nhess=0,
                        status=-1)

            def body(s):
                s = dict(s)
                x = s["x"]
                y, f_y, g_y, hvp, accept, radius = _try_step(obj, s, opts)
                x = xnp.where(accept, y, x)
                f = xnp.where(accept, f_y, s["f"])
                g = xnp.where(accept, g_y, s["g"])

                finite = xnp.isfinite(f) & xnp.all(xnp.isfinite(g))
                status = xnp.where(~finite, 3, xnp.where(
                    vnorm(g) < opts["gtol"], 0, xnp.where(s["k"] >= maxiter, 1, -1)))

                def refresh(_):
                    H = vmap(hvp)(xnp.eye(n, dtype=dtype))  # (rows H e_i: H transposed)
                    evals, evecs = xnp.linalg.eigh(0.5 * (H + H.T))
                    return evals, evecs

                # (not at the last point: the Hessian of a new point that needs no step)
                fresh = accept & (status < 0)
                evals, evecs = lax.cond(fresh, refresh, lambda _: (s["evals"], s["evecs"]),
                                        None)
                p_new, q, hits = exact_subproblem(evals, evecs, g, radius)
                predicted = -q
                # no predicted decrease, or a collapsed radius: no progress possible
                stuck = (status < 0) & ((predicted <= 0) | _collapsed(radius, x))
                status = xnp.where(stuck, 2, status)
                trial = status < 0
                s.update(x=x, f=f, g=g, p=p_new, predicted=predicted,
                         hits=hits, trial=trial, evals=evals, evecs=evecs, radius=radius,
                         k=s["k"] + xnp.where(trial, 1, 0), nfev=s["nfev"] + 1,
                         nhess=s["nhess"] + xnp.where(fresh, 1, 0), status=status)
                return s

            s = lax.while_loop(lambda s: s["status"] < 0, body, init)
            stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["nfev"], nhvp=s["nhess"] * n,
                         status=s["status"], success=s["status"] == 0)
            return s["x"], (s["f"], s["g"]), stats

        return core
