"""``least_squares``: nonlinear least squares ``min 1/2 |r(x)|^2`` by Gauss-Newton and
Levenberg-Marquardt (scipy's ``scipy.optimize.least_squares`` API and termination
tests), the Jacobian by autodiff (``jacfwd`` when there are no more parameters than
residuals, ``jacrev`` otherwise).

- ``"gauss-newton"``: the step ``argmin |J p + r|`` (``lstsq``), with Armijo
  backtracking on the cost.
- ``"lm"``: ``(J^T J + mu D) p = -J^T r`` with Marquardt's scaling ``D = diag(J^T J)``
  (kept non-decreasing, as MINPACK does) by a Cholesky solve, the damping ``mu``
  updated from the gain ratio (Nielsen's rule: ``mu *= max(1/3, 1 - (2 rho - 1)^3)``
  on success, ``mu *= nu, nu *= 2`` on failure). The Jacobian is only recomputed
  after an accepted step.

Termination, as scipy: ``gtol`` on ``max|J^T r|``, ``ftol`` on the relative decrease
of the cost, ``xtol`` on the step relative to ``|x|``; ``max_nfev`` residual
evaluations (default ``100 n``).
"""
from __future__ import annotations

from typing import Any, Callable

from .. import lax
from .. import numpy as xnp
from ..ad import jacfwd, jacrev, linearize, vjp
from ..vmap import vmap
from ._common import (
    Objective,
    check_args,
    check_finite_start,
    norm_inf,
    options_key,
    options_with_defaults,
    ravel_pytree,
    run_compiled,
    solve_implicitly,
    vdot,
    vector_residuals,
    vnorm,
)
from ._line_search import backtracking
from ._minimize import _TANGENT_TOL, normalize_method
from ._result import OptimizeResult

_COMMON = dict(jac="auto")
METHODS = {"gauss-newton": dict(_COMMON, c1=1e-4), "lm": dict(_COMMON, initial_damping=1e-3)}
_ALIASES = {"gn": "gauss-newton", "levenberg-marquardt": "lm"}


def _jacobian(r: Callable, mode: str, n: int, m: int, where: str) -> Callable:
    """``x, *args -> (J, r)``: the Jacobian with the residuals from the same pass."""
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"{where}: option jac must be 'auto', 'fwd' or 'rev', got {mode!r}")
    use_fwd = mode == "fwd" or (mode == "auto" and n <= m)
    jac = jacfwd if use_fwd else jacrev

    def both(x, *args):
        out = r(x, *args)
        return out, out

    return jac(both, has_aux=True)


def _linearized(r: Callable, mode: str, n: int, m: int) -> Callable:
    """``x, *args -> (r(x), jac_t)``: the residuals, and ``jac_t()`` computing the
    transposed Jacobian (n x m: forward mode's natural layout, a row per parameter) from
    their linearization at ``x`` (forward mode when there are no more parameters than
    residuals, reverse otherwise, as ``_jacobian``). The primal work is done (and
    compiled) once; ``jac_t()`` only runs the linear program on the basis vectors."""
    use_fwd = mode == "fwd" or (mode == "auto" and n <= m)

    def at(x, *args):
        if use_fwd:
            rx, lin = linearize(lambda y: r(y, *args), x)
            return rx, lambda: vmap(lin)(xnp.eye(n, dtype=x.dtype))
        rx, pull = vjp(lambda y: r(y, *args), x)
        return rx, lambda: vmap(lambda c: pull(c)[0])(xnp.eye(m, dtype=rx.dtype)).T

    return at


def _termination(cost, cost_new, step_norm, x_norm, ftol, xtol):
    """scipy's tests on a step: 2 ftol, 3 xtol, 4 both, else -2 (continue)."""
    dF = cost - cost_new
    ftol_ok = (dF >= 0) & (dF < ftol * cost)
    xtol_ok = step_norm < xtol * (xtol + x_norm)
    return xnp.where(ftol_ok & xtol_ok, 4, xnp.where(ftol_ok, 2, xnp.where(xtol_ok, 3, -2)))


def _make_gauss_newton(res_obj, jac_fn, cost_of, opts, tols, max_nfev_opt):
    """The Gauss-Newton solver ``x0 -> (x, (cost, grad, r, J), stats)``.

    Each iteration starts by computing the residuals and the Jacobian at ``x``, then
    tests for convergence, then takes a step: the Jacobian has one call site in the loop
    and the final values belong to the returned ``x``. Termination tests that compare two
    iterates are decided at the step and reported at the next iteration (``pending``)."""
    ftol, xtol, gtol = tols

    def core(x0):
        n = x0.shape[0]
        dtype = x0.dtype
        max_nfev = max_nfev_opt if max_nfev_opt is not None else 100 * n
        args = res_obj.args
        m = jac_fn(x0, *args)[1].shape[0]  # (shapes only: dead code after tracing)
        zero = xnp.zeros((), dtype)
        state = dict(x=x0, r=xnp.zeros(m, dtype), J=xnp.zeros((m, n), dtype), cost=zero,
                     g=xnp.zeros_like(x0), pending=-2, k=0, nfev=0, njev=0, status=-2)

        def body(s):
            s = dict(s)
            x = s["x"]
            J, r = jac_fn(x, *args)
            cost, g = cost_of(r), J.T @ r
            s.update(r=r, J=J, cost=cost, g=g, nfev=s["nfev"] + 1, njev=s["njev"] + 1)
            finite = xnp.isfinite(cost) & xnp.all(xnp.isfinite(J))
            status = xnp.where(~finite, -1, xnp.where(norm_inf(g) < gtol, 1, s["pending"]))
            status = xnp.where((status == -2) & (s["nfev"] >= max_nfev), 0, status)
            active = status == -2
            s["status"] = status
            p = xnp.linalg.lstsq(J, -r)[0]
            alpha, cost_new, nls, failed = backtracking(
                lambda y: cost_of(res_obj.f(y, *args)), x, p, cost, vdot(g, p),
                c1=opts["c1"], active=active)
            step = alpha * p
            pending = _termination(cost, cost_new, vnorm(step), vnorm(x + step), ftol, xtol)
            # no decrease along the Gauss-Newton direction: the cost cannot improve
            pending = xnp.where(failed, 2, pending)
            s["x"] = xnp.where(active & ~failed, x + step, x)
            s["nfev"] = s["nfev"] + nls
            s["pending"] = xnp.where(active, pending, s["pending"])
            s["k"] = s["k"] + xnp.where(active, 1, 0)
            return s

        s = lax.while_loop(lambda s: s["status"] == -2, body, state)
        stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["njev"], nhvp=0, status=s["status"],
                     success=s["status"] > 0, optimality=norm_inf(s["g"]))
        return s["x"], (s["cost"], s["g"], s["r"], s["J"]), stats

    return core


def _make_lm(res_obj, lin_fn, cost_of, opts, tols, max_nfev_opt):
    """The Levenberg-Marquardt solver ``x0 -> (x, (cost, grad, r, J), stats)``.

    Each iteration evaluates the residuals, linearized, at one point: the start, or the
    trial ``x + p`` of the previous iteration, judged by its gain ratio (and scipy's
    termination tests on the attempted step, as MINPACK's). An accepted point (or the
    start) gets its Jacobian from that linearization (under a ``cond``: rejected trials
    do not pay for it); then convergence is tested and the next step solved. So the
    residual function is emitted once in the compiled program (not once in the Jacobian
    and once more for the trial), and ``nfev`` counts residual evaluations, ``njev``
    Jacobians."""
    from ..scipy.linalg import cho_factor, cho_solve

    ftol, xtol, gtol = tols

    def core(x0):
        n = x0.shape[0]
        dtype = x0.dtype
        max_nfev = max_nfev_opt if max_nfev_opt is not None else 100 * n
        args = res_obj.args
        m = res_obj.f(x0, *args).shape[0]  # (shapes only: dead code after tracing)
        zero = xnp.zeros((), dtype)
        zeros = xnp.zeros_like(x0)
        # p: the pending trial step (0 at the start), predicted: its model decrease;
        # mu: the damping the step was solved with, nu: its growth factor on a rejection
        state = dict(x=x0, p=zeros, predicted=zero, trial=False, r=xnp.zeros(m, dtype),
                     JT=xnp.zeros((n, m), dtype), cost=zero, g=zeros, D=zeros, mu=zero,
                     nu=xnp.asarray(2.0, dtype), k=0, nfev=0, njev=0, status=-2)

        def body(s):
            s = dict(s)
            x, p, trial, predicted, cost, mu = (s["x"], s["p"], s["trial"], s["predicted"],
                                                s["cost"], s["mu"])
            y = x + p
            r_y, jac_t = lin_fn(y, *args)
            cost_y = cost_of(r_y)
            rho = (cost - cost_y) / xnp.where(predicted > 0, predicted, 1.0)
            ok = trial & xnp.isfinite(cost_y) & (rho > 0) & (predicted > 0)
            accept = ~trial | ok
            # the tests look at the attempted step, as MINPACK's do; after a rejected
            # step only the step-size test can end the iteration
            pending = _termination(cost, cost_y, vnorm(p), vnorm(x), ftol, xtol)
            pending = xnp.where(ok | (pending == 3) | (pending == 4), pending, -2)
            new_mu = xnp.where(ok, mu * xnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3),
                               mu * s["nu"])
            # the damping overflowed: no step can decrease the cost any more
            pending = xnp.where(~xnp.isfinite(new_mu) | (new_mu > 1e300), 3, pending)
            pending = xnp.where(trial, pending, -2)
            mu = xnp.where(trial, new_mu, mu)
            nu = xnp.where(ok, 2.0, xnp.where(trial, 2.0 * s["nu"], s["nu"]))
            # (the Jacobian transposed, J^T: n x m)
            JT = lax.cond(accept, lambda _: jac_t(), lambda _: s["JT"], None)
            r = xnp.where(accept, r_y, s["r"])
            cost = xnp.where(accept, cost_y, cost)
            g = JT @ r
            x = xnp.where(accept, y, x)
            nfev = s["nfev"] + 1
            finite = xnp.isfinite(cost) & xnp.all(xnp.isfinite(JT))
            status = xnp.where(~finite, -1, xnp.where(norm_inf(g) < gtol, 1, pending))
            status = xnp.where((status == -2) & (nfev >= max_nfev), 0, status)
            active = status == -2
            # the next step: (J^T J + mu D) p = -g, with Marquardt's scaling D
            diag = xnp.sum(JT * JT, axis=1)  # (diag(J^T J) without a gather)
            first = s["k"] == 0
            D = xnp.where(first, diag, xnp.maximum(s["D"], diag))
            mu = xnp.where(first, opts["initial_damping"] * xnp.max(diag), mu)
            c = cho_factor(JT @ JT.T + mu * xnp.diag(xnp.maximum(D, 1e-300)))
            p_new = cho_solve(c, -g)
            s.update(x=x, r=r, JT=JT, cost=cost, g=g, D=xnp.where(active, D, s["D"]), mu=mu,
                     nu=nu, p=xnp.where(active, p_new, zeros), trial=active,
                     predicted=0.5 * vdot(p_new, mu * D * p_new - g),
                     k=s["k"] + xnp.where(active, 1, 0), nfev=nfev,
                     njev=s["njev"] + xnp.where(accept, 1, 0), status=status)
            return s

        s = lax.while_loop(lambda s: s["status"] == -2, body, state)
        stats = dict(nit=s["k"], nfev=s["nfev"], njev=s["njev"], nhvp=0, status=s["status"],
                     success=s["status"] > 0, optimality=norm_inf(s["g"]))
        return s["x"], (s["cost"], s["g"], s["r"], s["JT"].T), stats

    return core


def least_squares(fun: Callable, x0: Any, args: tuple = (), method: str = "lm", *,
                  ftol: float = 1e-8, xtol: float = 1e-8, gtol: float = 1e-8,
                  max_nfev: int | None = None, options: dict | None = None) -> OptimizeResult:
    """Solve a nonlinear least-squares problem ``min_x 1/2 sum(fun(x, *args)**2)``
    (scipy's ``scipy.optimize.least_squares``, the Jacobian by autodiff).

    ``fun`` returns the residuals (an array or pytree of arrays); ``x0`` may be a pytree.
    ``method``: ``"lm"`` (Levenberg-Marquardt) or ``"gauss-newton"`` (with Armijo
    backtracking). ``ftol``/``xtol``/``gtol``/``max_nfev`` are scipy's termination
    tests; ``options``: ``jac`` (``"auto"``, ``"fwd"`` or ``"rev"``: how the Jacobian is
    computed), ``initial_damping`` (lm, 1e-3: ``mu_0 = initial_damping * max diag(J^T
    J)``), ``c1`` (gauss-newton's sufficient-decrease constant). Runs as one compiled
    ``while_loop``; the solution is differentiable with respect to ``args`` by the
    implicit function theorem (as ``minimize``).

    Returns an ``OptimizeResult`` with ``x``, ``cost``, ``fun`` (the residuals, flat),
    ``jac`` (m x n), ``grad``, ``optimality`` (``max|grad|``), ``nit``, ``nfev``,
    ``njev``, ``nhvp``, ``success``, ``status`` (scipy's codes) and ``message``.

    >>> import numpy as np, xform.numpy as xnp
    >>> from xform.optimize import least_squares
    >>> t = np.linspace(0.0, 1.0, 20); y = 2.0 * np.exp(-1.5 * t)
    >>> r = least_squares(lambda p: p[0] * xnp.exp(-p[1] * t) - y, np.array([1.0, 1.0]))
    >>> bool(r.success), r.x.round(6)
    (True, array([2. , 1.5]))
    """
    where = "least_squares"
    if not callable(fun):
        raise TypeError(f"{where}: fun must be a callable, got {type(fun).__name__}")
    args = check_args(args, where)
    m = normalize_method(method, where, METHODS, _ALIASES)
    opts = options_with_defaults(where, m, options, METHODS[m])
    for name, v in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)):
        if not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"{where}: {name} must be a non-negative number, got {v!r}")
    if max_nfev is not None and (not isinstance(max_nfev, int) or max_nfev < 1):
        raise ValueError(f"{where}: max_nfev must be a positive int or None, got {max_nfev!r}")
    check_finite_start(x0, where)
    tols = (float(ftol), float(xtol), float(gtol))
    key = ("least_squares", fun, m, options_key(opts), tols, max_nfev)

    def build():
        def program(x0, args):
            flat, unravel = ravel_pytree(x0, where)
            rf = vector_residuals(fun, unravel, flat.dtype, where)
            n = flat.shape[0]
            m_res = rf(flat, *args).shape[0]
            jac_fn = _jacobian(rf, opts["jac"], n, m_res, where)

            def cost_of(r):
                return 0.5 * vdot(r, r)

            res_obj = Objective(rf, args)
            obj = Objective(lambda x, *a: cost_of(rf(x, *a)), args)
            if m == "lm":
                core = _make_lm(res_obj, _linearized(rf, opts["jac"], n, m_res), cost_of, opts,
                                tols, max_nfev)
            else:
                core = _make_gauss_newton(res_obj, jac_fn, cost_of, opts, tols, max_nfev)

            def values_fn(x, *a):
                J, r = jac_fn(x, *a)
                return cost_of(r), J.T @ r, r, J

            x, (cost, g, r, J), stats = solve_implicitly(
                obj, flat, core, values_fn, tangent_tol=_TANGENT_TOL, tangent_maxiter=None)
            return OptimizeResult(dict(x=unravel(x), cost=cost, fun=r, jac=J, grad=unravel(g),
                                       **stats), kind="least_squares")

        return program

    return run_compiled(key, build, x0, args)
