"""Quasi-Newton methods: BFGS (a dense inverse-Hessian estimate; Nocedal & Wright,
Algorithm 6.1) and L-BFGS (the two-loop recursion over the last ``maxcor`` pairs;
Algorithm 7.4), both with the strong-Wolfe line search.

BFGS starts from the identity and takes scipy's first trial step
``min(1, 1.01 * 2 (f_k - f_{k-1}) / g.p)`` (``f_{-1} = f_0 + |g_0| / 2``); the inverse
Hessian update is written as rank-two corrections (O(n^2) per step, not the O(n^3) of
the matrix products). L-BFGS scales its initial matrix by ``s.y / y.y`` and stops like
scipy's L-BFGS-B when ``max|g| <= gtol`` or the relative decrease of ``f`` falls below
``ftol`` (reported in the stats as ``ftol_stop``). ``norm`` is the order of the
gradient norm compared with ``gtol`` (JAX's option; scipy's is the max norm).
"""
from __future__ import annotations

from .. import lax
from .. import numpy as xnp
from ._line_search import wolfe


def _gnorm(g, ord):
    return xnp.linalg.norm(g, ord=ord)


def _status(converged, finite, k, maxiter, ls_failed, stalled=False):
    return xnp.where(~finite, 3, xnp.where(converged, 0, xnp.where(
        ls_failed | stalled, 2, xnp.where(k >= maxiter, 1, -1))))


def _start(obj, x0):
    f0, g0 = obj.value_and_grad(x0)
    finite = xnp.isfinite(f0) & xnp.all(xnp.isfinite(g0))
    return f0, g0, finite


class BFGS:
    DEFAULTS = dict(maxiter=None, gtol=1e-5, norm=float("inf"), maxls=40, c1=1e-4, c2=0.9)
    TOL_OPTIONS = ("gtol",)

    @staticmethod
    def make(obj, opts):
        def core(x0):
            n = x0.shape[0]
            maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
            f0, g0, finite = _start(obj, x0)
            status0 = _status(_gnorm(g0, opts["norm"]) <= opts["gtol"], finite, 0, maxiter, False)
            init = dict(x=x0, f=f0, g=g0, H=xnp.eye(n, dtype=x0.dtype),
                        f_old=f0 + xnp.linalg.norm(g0) / 2, k=0, nfev=1, status=status0)

            def body(s):
                s = dict(s)
                x, f, g, H = s["x"], s["f"], s["g"], s["H"]
                p = -(H @ g)
                dphi0 = xnp.dot(g, p)
                cand = 1.01 * 2 * (f - s["f_old"]) / xnp.where(dphi0 == 0, -1.0, dphi0)
                alpha0 = xnp.where(xnp.isfinite(cand) & (cand > 0),
                                   xnp.minimum(1.0, cand), 1.0)
                ls = wolfe(obj.value_and_grad, x, p, f, g, alpha0, c1=opts["c1"],
                           c2=opts["c2"], maxiter=opts["maxls"])
                moved = ls.alpha > 0
                sk = ls.alpha * p
                yk = ls.g - g
                sy = xnp.dot(sk, yk)
                # skip the update without positive curvature (a failed search)
                update = moved & (sy > 0)
                rho = 1.0 / xnp.where(update, sy, 1.0)
                Hy = H @ yk
                H_new = (H - rho * (xnp.outer(sk, Hy) + xnp.outer(Hy, sk))
                         + (rho * rho * xnp.dot(yk, Hy) + rho) * xnp.outer(sk, sk))
                s["H"] = xnp.where(update, H_new, H)
                s["x"] = xnp.where(moved, x + sk, x)
                s["f"] = xnp.where(moved, ls.f, f)
                s["g"] = xnp.where(moved, ls.g, g)
                s["f_old"] = f
                s["k"] = s["k"] + 1
                s["nfev"] = s["nfev"] + ls.nfev
                finite = xnp.isfinite(s["f"]) & xnp.all(xnp.isfinite(s["g"]))
                s["status"] = _status(_gnorm(s["g"], opts["norm"]) <= opts["gtol"], finite, s["k"], maxiter,
                                      ls.failed & ~moved)
                return s

            s = lax.while_loop(lambda s: s["status"] < 0, body, init)
            stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["nfev"], nhvp=0,
                         status=s["status"], success=s["status"] == 0, hess_inv=s["H"])
            return s["x"], (s["f"], s["g"]), stats

        return core


class LBFGS:
    DEFAULTS = dict(maxiter=None, gtol=1e-5, norm=float("inf"), ftol=2.220446049250313e-09,
                    maxcor=10, maxls=40, maxfun=None, c1=1e-4, c2=0.9)
    TOL_OPTIONS = ("gtol", "ftol")

    @staticmethod
    def make(obj, opts):
        m = int(opts["maxcor"])

        def wrap(i):  # i in (-m, m) -> i mod m, without integer division
            return xnp.where(i < 0, i + m, i)

        # rows of the history by dynamic index (a dynamic slice, not a gather/scatter)
        def row(A, i):
            return lax.dynamic_index_in_dim(A, i, 0, keepdims=False)

        def set_row(A, i, v):
            return lax.dynamic_update_index_in_dim(A, v, i, 0)

        def direction(g, S, Y, rho, gamma, count, head):
            """-H g by the two-loop recursion over the ``count`` stored pairs, newest
            first (a circular buffer: the next pair goes to row ``head``)."""

            def first(j, c):
                q, a = c
                i = wrap(head - 1 - j)
                ai = row(rho, i) * xnp.dot(row(S, i), q)
                return q - ai * row(Y, i), set_row(a, i, ai)

            q, a = lax.fori_loop(0, count, first, (g, xnp.zeros_like(rho)))
            r = gamma * q

            def second(j, r):
                i = wrap(head - count + j)
                bi = row(rho, i) * xnp.dot(row(Y, i), r)
                return r + (row(a, i) - bi) * row(S, i)

            return -lax.fori_loop(0, count, second, r)

        def core(x0):
            n = x0.shape[0]
            dtype = x0.dtype
            maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
            f0, g0, finite = _start(obj, x0)
            status0 = _status(_gnorm(g0, opts["norm"]) <= opts["gtol"], finite, 0, maxiter, False)
            init = dict(x=x0, f=f0, g=g0, S=xnp.zeros((m, n), dtype), Y=xnp.zeros((m, n), dtype),
                        rho=xnp.zeros(m, dtype), gamma=xnp.ones((), dtype), stored=0, head=0, k=0,
                        nfev=1, status=status0, ftol_stop=False)

            def body(s):
                s = dict(s)
                x, f, g = s["x"], s["f"], s["g"]
                p = direction(g, s["S"], s["Y"], s["rho"], s["gamma"], s["stored"], s["head"])
                # the first step, without curvature information, has unit length (as in
                # L-BFGS-B)
                pn = xnp.linalg.norm(p)
                alpha0 = xnp.where((s["stored"] == 0) & (pn > 0),
                                   xnp.minimum(1.0, 1.0 / xnp.where(pn > 0, pn, 1.0)), 1.0)
                ls = wolfe(obj.value_and_grad, x, p, f, g, alpha0, c1=opts["c1"],
                           c2=opts["c2"], maxiter=opts["maxls"])
                moved = ls.alpha > 0
                sk = ls.alpha * p
                yk = ls.g - g
                sy = xnp.dot(sk, yk)
                update = moved & (sy > 1e-10 * xnp.dot(yk, yk))
                i = s["head"]
                # (a rejected pair leaves the row unchanged)
                s["S"] = set_row(s["S"], i, xnp.where(update, sk, row(s["S"], i)))
                s["Y"] = set_row(s["Y"], i, xnp.where(update, yk, row(s["Y"], i)))
                s["rho"] = set_row(s["rho"], i, xnp.where(update, 1.0 / xnp.where(update, sy, 1.0),
                                                          row(s["rho"], i)))
                s["gamma"] = xnp.where(update, sy / xnp.where(update, xnp.dot(yk, yk), 1.0),
                                       s["gamma"])
                s["stored"] = xnp.minimum(s["stored"] + xnp.where(update, 1, 0), m)
                s["head"] = xnp.where(update, xnp.where(i + 1 == m, 0, i + 1), i)
                f_new = xnp.where(moved, ls.f, f)
                s["x"] = xnp.where(moved, x + sk, x)
                s["f"] = f_new
                s["g"] = xnp.where(moved, ls.g, g)
                s["k"] = s["k"] + 1
                s["nfev"] = s["nfev"] + ls.nfev
                finite = xnp.isfinite(f_new) & xnp.all(xnp.isfinite(s["g"]))
                rel = (f - f_new) / xnp.maximum(xnp.maximum(xnp.abs(f), xnp.abs(f_new)), 1.0)
                stalled = moved & (rel <= opts["ftol"])
                converged = _gnorm(s["g"], opts["norm"]) <= opts["gtol"]
                status = _status(converged, finite, s["k"], maxiter, ls.failed & ~moved)
                if opts["maxfun"] is not None:
                    status = xnp.where((status < 0) & (s["nfev"] >= opts["maxfun"]), 1, status)
                s["ftol_stop"] = (status < 0) & stalled
                s["status"] = xnp.where(s["ftol_stop"], 0, status)
                return s

            s = lax.while_loop(lambda s: s["status"] < 0, body, init)
            stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["nfev"], nhvp=0,
                         status=s["status"], success=s["status"] == 0, ftol_stop=s["ftol_stop"])
            return s["x"], (s["f"], s["g"]), stats

        return core
