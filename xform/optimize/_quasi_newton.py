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

The objective and its gradient have one call site in the compiled program, the line
search's: the first iteration evaluates the starting point through it (a zero
direction from a zero gradient, its first trial accepted), instead of a second copy of
the objective before the loop.
"""
from __future__ import annotations

from .. import lax
from .. import numpy as xnp
from ._common import vdot, vnorm
from ._line_search import wolfe


def _gnorm(g, ord):
    if ord == float("inf"):
        return xnp.max(xnp.abs(g))
    if ord == 2:
        return vnorm(g)
    return xnp.linalg.norm(g, ord=ord)


def _status(converged, finite, k, maxiter, ls_failed, stalled=False):
    return xnp.where(~finite, 3, xnp.where(converged, 0, xnp.where(
        ls_failed | stalled, 2, xnp.where(k >= maxiter, 1, -1))))


class BFGS:
    DEFAULTS = dict(maxiter=None, gtol=1e-5, norm=float("inf"), maxls=40, c1=1e-4, c2=0.9)
    TOL_OPTIONS = ("gtol",)

    @staticmethod
    def make(obj, opts):
        def core(x0):
            n = x0.shape[0]
            dtype = x0.dtype
            maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
            # f and g are placeholders until the first iteration evaluates x0 (nfev == 0)
            z = xnp.zeros((), dtype)
            init = dict(x=x0, f=z, g=xnp.zeros_like(x0), H=xnp.eye(n, dtype=dtype), f_old=z,
                        k=0, nfev=0, status=-1)

            def body(s):
                s = dict(s)
                x, f, g, H = s["x"], s["f"], s["g"], s["H"]
                first = s["nfev"] == 0
                p = -(H @ g)  # (0 in the first iteration)
                dphi0 = vdot(g, p)
                cand = 1.01 * 2 * (f - s["f_old"]) / xnp.where(dphi0 == 0, -1.0, dphi0)
                alpha0 = xnp.where(xnp.isfinite(cand) & (cand > 0),
                                   xnp.minimum(1.0, cand), 1.0)
                ls = wolfe(obj.value_and_grad, x, p, f, g, alpha0, c1=opts["c1"],
                           c2=opts["c2"], maxiter=opts["maxls"], first=first)
                moved = ls.alpha > 0
                sk = ls.alpha * p
                yk = ls.g - g
                sy = vdot(sk, yk)
                # skip the update without positive curvature (a failed search; the first
                # iteration, which does not move)
                update = moved & (sy > 0)
                rho = 1.0 / xnp.where(update, sy, 1.0)
                Hy = H @ yk
                H_new = (H - rho * (xnp.outer(sk, Hy) + xnp.outer(Hy, sk))
                         + (rho * rho * vdot(yk, Hy) + rho) * xnp.outer(sk, sk))
                s["H"] = xnp.where(update, H_new, H)
                s["x"] = xnp.where(moved, x + sk, x)
                s["f"] = xnp.where(moved, ls.f, f)
                s["g"] = xnp.where(moved, ls.g, g)
                # scipy's f_{-1} = f_0 + |g_0| / 2 for the first step's length
                s["f_old"] = xnp.where(first, ls.f + vnorm(ls.g) / 2, f)
                s["k"] = s["k"] + xnp.where(first, 0, 1)
                s["nfev"] = s["nfev"] + ls.nfev
                finite = xnp.isfinite(s["f"]) & xnp.all(xnp.isfinite(s["g"]))
                s["status"] = _status(_gnorm(s["g"], opts["norm"]) <= opts["gtol"], finite,
                                      s["k"], maxiter, ls.failed & ~moved)
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
        if m < 1:
            raise ValueError(f"minimize: option 'maxcor' (the number of stored pairs of "
                             f"L-BFGS) must be at least 1, got {m}")

        def wrap(i):  # i in (-(m + 1), m + 1) -> i mod (m + 1), without integer division
            return xnp.where(i < 0, i + (m + 1), i)

        def direction(g, S, Y, rho, gamma, head):
            """-H g by the two-loop recursion over the stored pairs: a circular buffer of
            m + 1 rows, the newest pair in row ``head - 1``, the m rows before ``head``
            (mod m + 1) in use, row ``head`` a scratch row the next pair is written to;
            rows not yet filled zero (``rho`` 0: such a row changes nothing, so all m are
            visited). Two ``scan``\\ s over the rows' indices in time order, each row read
            by a dynamic slice: less code to compile than ``fori_loop``\\ s over a count,
            and no copy of the history per iteration."""
            newest_first_rows = wrap(head - 1 - xnp.arange(m))

            def newest_first(q, i):
                a_i = row(rho, i) * vdot(row(S, i), q)
                return q - a_i * row(Y, i), a_i

            q, a = lax.scan(newest_first, g, newest_first_rows)

            def oldest_first(r, ia):
                i, a_i = ia
                return r + (a_i - row(rho, i) * vdot(row(Y, i), r)) * row(S, i), None

            r, _ = lax.scan(oldest_first, gamma * q, (newest_first_rows, a), reverse=True)
            return -r

        # rows of the history by dynamic index (a dynamic slice, not a gather/scatter)
        def row(A, i):
            return lax.dynamic_index_in_dim(A, i, 0, keepdims=False)

        def set_row(A, i, v):
            return lax.dynamic_update_index_in_dim(A, v, i, 0)

        def core(x0):
            n = x0.shape[0]
            dtype = x0.dtype
            maxiter = opts["maxiter"] if opts["maxiter"] is not None else 200 * n
            # f and g are placeholders until the first iteration evaluates x0 (nfev == 0)
            init = dict(x=x0, f=xnp.zeros((), dtype), g=xnp.zeros_like(x0),
                        S=xnp.zeros((m + 1, n), dtype), Y=xnp.zeros((m + 1, n), dtype),
                        rho=xnp.zeros(m + 1, dtype), gamma=xnp.ones((), dtype), head=0, k=0,
                        nfev=0, status=-1, ftol_stop=False)

            def body(s):
                s = dict(s)
                x, f, g = s["x"], s["f"], s["g"]
                first = s["nfev"] == 0
                # (0 in the first iteration: no pairs, g = 0)
                p = direction(g, s["S"], s["Y"], s["rho"], s["gamma"], s["head"])
                # the first step, without curvature information, has unit length (as in
                # L-BFGS-B)
                pn = vnorm(p)
                alpha0 = xnp.where((row(s["rho"], wrap(s["head"] - 1)) == 0) & (pn > 0),
                                   xnp.minimum(1.0, 1.0 / xnp.where(pn > 0, pn, 1.0)), 1.0)
                ls = wolfe(obj.value_and_grad, x, p, f, g, alpha0, c1=opts["c1"],
                           c2=opts["c2"], maxiter=opts["maxls"], first=first)
                moved = ls.alpha > 0
                sk = ls.alpha * p
                yk = ls.g - g
                sy = vdot(sk, yk)
                yy = vdot(yk, yk)
                # (no pair from the first iteration, which does not move: sy = 0)
                update = moved & (sy > 1e-10 * yy)
                # the pair goes to the scratch row; kept (head advanced, the oldest row
                # becoming the scratch row) only when accepted
                i = s["head"]
                s["S"] = set_row(s["S"], i, sk)
                s["Y"] = set_row(s["Y"], i, yk)
                s["rho"] = set_row(s["rho"], i, 1.0 / xnp.where(update, sy, 1.0))
                s["head"] = xnp.where(update, xnp.where(i == m, 0, i + 1), i)
                s["gamma"] = xnp.where(update, sy / xnp.where(update, yy, 1.0), s["gamma"])
                f_new = xnp.where(moved, ls.f, f)
                s["x"] = xnp.where(moved, x + sk, x)
                s["f"] = f_new
                s["g"] = xnp.where(moved, ls.g, g)
                s["k"] = s["k"] + xnp.where(first, 0, 1)
                s["nfev"] = s["nfev"] + ls.nfev
                finite = xnp.isfinite(f_new) & xnp.all(xnp.isfinite(s["g"]))
                rel = (f - f_new) / xnp.maximum(xnp.maximum(xnp.abs(f), xnp.abs(f_new)), 1.0)
                stalled = moved & ~first & (rel <= opts["ftol"])
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
