"""``minimize``: the method table and the compiled program around a method."""
from __future__ import annotations

from typing import Any, Callable

from .. import numpy as xnp
from . import _newton, _quasi_newton, _trust
from ._common import (
    Objective,
    check_args,
    check_finite_start,
    check_option,
    options_key,
    options_with_defaults,
    ravel_pytree,
    run_compiled,
    scalar_objective,
    solve_implicitly,
)
from ._result import OptimizeResult

# method -> (module with DEFAULTS and make(obj, opts) -> core)
METHODS = {
    "newton-cg": _newton,
    "trust-ncg": _trust.NCG,
    "trust-exact": _trust.EXACT,
    "bfgs": _quasi_newton.BFGS,
    "lbfgs": _quasi_newton.LBFGS,
}
_ALIASES = {"l-bfgs": "lbfgs", "l-bfgs-b": "lbfgs"}

# the derivative of the solution: a conjugate-gradient solve with the Hessian, to
# this relative tolerance
_TANGENT_TOL = 1e-10


def normalize_method(method: Any, where: str, table: dict, aliases: dict) -> str:
    if not isinstance(method, str):
        raise TypeError(f"{where}: method must be a string, one of {sorted(table)}, got "
                        f"{type(method).__name__}")
    m = method.lower()
    m = aliases.get(m, m)
    if m not in table:
        raise ValueError(f"{where}: unknown method {method!r}; the methods are "
                         f"{sorted(table)}")
    return m


def minimize(fun: Callable, x0: Any, args: tuple = (), method: str = "bfgs",
             tol: float | None = None, maxiter: int | None = None,
             options: dict | None = None) -> OptimizeResult:
    """Minimize a scalar function of one or more variables (scipy's
    ``scipy.optimize.minimize``, gradients and Hessian-vector products by autodiff).

    ``fun(x, *args)`` returns a scalar; ``x0`` may be any pytree of arrays (the result's
    ``x`` and ``jac`` have its structure). Methods:

    - ``"newton-cg"``: truncated Newton; an inner conjugate-gradient loop on
      Hessian-vector products (the gradient linearized once per iteration; the Hessian
      is never formed), Armijo backtracking. Stops when both ``max|g| <= gtol`` (1e-5)
      and the L1 norm of a full Newton step is below ``n * xtol`` (1e-5; scipy's test,
      which alone stops early where steps are short). Options ``gtol``, ``xtol``,
      ``cg_maxiter`` (``20 n``), ``c1``.
    - ``"trust-ncg"``: trust-region Newton with Steihaug's truncated CG. Options
      ``gtol`` (1e-5, on the 2-norm of g), ``initial_trust_radius`` (1), ``max_trust_radius``
      (1000), ``eta`` (0.15), ``cg_maxiter``.
    - ``"trust-exact"``: trust region solved exactly (dense Hessian and its
      eigendecomposition; small problems). Options as trust-ncg but ``cg_maxiter``.
    - ``"bfgs"``: BFGS with a strong-Wolfe line search (where differences of ``f`` are
      rounding noise, near the solution of an ill-conditioned problem, it compares
      values through the directional derivative: Hager and Zhang's approximate Wolfe
      conditions). Options ``gtol`` (1e-5, on the ``norm``-norm of g, default the max
      norm), ``maxls`` (40 evaluations), ``c1``, ``c2``; the result also has
      ``hess_inv``.
    - ``"lbfgs"`` (``"l-bfgs"``): limited-memory BFGS. Options as bfgs and ``maxcor``
      (10), ``ftol`` (2.2e-9, on the relative decrease of f, as L-BFGS-B), ``maxfun``.

    ``tol`` sets ``gtol`` (and ``xtol`` for newton-cg, ``ftol`` for lbfgs, as scipy);
    ``maxiter`` the iteration limit
    (default ``200 n``). Everything runs in one compiled program (a ``while_loop`` that
    evaluates the objective at one point per iteration, so the objective is compiled once);
    called outside any transformation it is jitted and cached per ``fun``, method and
    options. The solution is differentiable with respect to ``args`` (and anything
    ``fun`` closes over) by the implicit function theorem: ``dx* = -H^{-1} d(grad f)``
    (``lax.custom_root`` with a conjugate-gradient solve), not by differentiating the
    iterations; ``fun``/``jac`` of the result have the derivatives of ``f``/``grad f``
    at the solution.

    Returns an ``OptimizeResult`` with ``x``, ``fun``, ``jac``, ``nit``, ``nfev``,
    ``njev``, ``nhvp``, ``success``, ``status`` and ``message``.

    >>> import numpy as np, xform.numpy as xnp
    >>> from xform.optimize import minimize
    >>> def rosen(x):
    ...     return xnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    >>> r = minimize(rosen, np.zeros(3), method="trust-ncg", tol=1e-8)
    >>> bool(r.success), r.x.round(6)
    (True, array([1., 1., 1.]))
    """
    where = "minimize"
    if not callable(fun):
        raise TypeError(f"{where}: fun must be a callable, got {type(fun).__name__}")
    args = check_args(args, where)
    m = normalize_method(method, where, METHODS, _ALIASES)
    module = METHODS[m]
    opts = options_with_defaults(where, m, options, module.DEFAULTS)
    if tol is not None:  # as scipy: tol sets the method's own tolerances
        for name in module.TOL_OPTIONS:
            check_option(where, "tol", tol, 0.0)
            opts[name] = tol
    if maxiter is not None:
        check_option(where, "maxiter", maxiter, None)
        opts["maxiter"] = int(maxiter)
    check_finite_start(x0, where)
    result, _ = run_minimize(fun, x0, args, m, opts, where)
    return result


def run_minimize(fun: Callable, x0: Any, args: tuple, method: str, opts: dict,
                 where: str) -> tuple[OptimizeResult, dict]:
    """The compiled program of ``method`` with the (checked) options ``opts``, cached per
    (``fun``, method, options) whichever API calls it (``xform.optimize.minimize`` or
    ``xform.scipy.optimize.minimize``: they share compiled programs). Returns the result
    and the values only JAX's API reports (``ftol_stop``: L-BFGS stopped on ``ftol``)."""
    module = METHODS[method]
    key = ("minimize", fun, method, options_key(opts))

    def build():
        def program(x0, args):
            flat, unravel = ravel_pytree(x0, where)
            obj = Objective(scalar_objective(fun, unravel, flat.dtype, where), args)
            core = module.make(obj, opts)
            x, (fx, gx), stats = solve_implicitly(obj, flat, core, obj.vg,
                                                  tangent_tol=_TANGENT_TOL, tangent_maxiter=None)
            # (scipy reports an ftol stop as a success; JAX's API as status 4)
            extra = {"ftol_stop": stats.pop("ftol_stop", xnp.zeros((), bool))}
            return OptimizeResult(dict(x=unravel(x), fun=fx, jac=unravel(gx), **stats),
                                  kind="minimize"), extra

        return program

    return run_compiled(key, build, x0, args)
