"""xform.scipy.optimize: JAX's ``jax.scipy.optimize.minimize`` (BFGS and L-BFGS) and
its ``OptimizeResults``.

The methods are those of ``xform.optimize`` (``"bfgs"``, ``"lbfgs"``), with JAX's
result structure, option names and status codes. For more methods (Newton-CG, trust
regions), pytrees and scipy's result object use ``xform.optimize.minimize``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from .. import numpy as xnp
from ..core.trace import get_aval
from ..core.trace import Tracer
from ..optimize._common import check_args, check_finite_start, check_option, options_with_defaults
from ..optimize._minimize import run_minimize
from ..optimize._quasi_newton import BFGS, LBFGS

__all__ = ["minimize", "OptimizeResults"]


class OptimizeResults(NamedTuple):
    """Optimization results (JAX's ``jax.scipy.optimize.OptimizeResults``).

    ``x``: the solution; ``success``; ``status``: 0 converged, 1 maximum iterations,
    3 line search failed (BFGS), 4 insufficient progress (L-BFGS, ``ftol``), 5 line search
    failed (L-BFGS), -1 a non-finite value; ``fun``, ``jac`` at ``x``; ``hess_inv`` (BFGS's
    inverse Hessian estimate; None for L-BFGS); ``nfev``, ``njev``, ``nit``.

    >>> OptimizeResults._fields[:4]
    ('x', 'success', 'status', 'fun')
    """
    x: Any
    success: Any
    status: Any
    fun: Any
    jac: Any
    hess_inv: Any
    nfev: Any
    njev: Any
    nit: Any


# JAX option name -> xform.optimize option name
_BFGS_OPTIONS = {"maxiter": "maxiter", "norm": "norm", "gtol": "gtol",
                 "line_search_maxiter": "maxls"}
_LBFGS_OPTIONS = {"maxiter": "maxiter", "norm": "norm", "maxcor": "maxcor", "ftol": "ftol",
                  "gtol": "gtol", "maxfun": "maxfun", "maxgrad": "maxfun", "maxls": "maxls"}
_METHODS = {"bfgs": (BFGS, _BFGS_OPTIONS), "l-bfgs": (LBFGS, _LBFGS_OPTIONS),
            "l-bfgs-experimental-do-not-rely-on-this": (LBFGS, _LBFGS_OPTIONS),
            "lbfgs": (LBFGS, _LBFGS_OPTIONS)}


def minimize(fun: Callable, x0: Any, args: tuple = (), *, method: str, tol: float | None = None,
             options: Mapping[str, Any] | None = None) -> OptimizeResults:
    """Minimize a scalar function of a 1-D array (JAX's ``jax.scipy.optimize.minimize``).

    ``fun(x, *args)`` returns a scalar, ``x0`` is a 1-D array. ``method``: ``"BFGS"`` or
    ``"L-BFGS"`` (also JAX's ``"l-bfgs-experimental-do-not-rely-on-this"``). Options,
    as JAX's: BFGS ``maxiter`` (``200 n``), ``norm`` (inf), ``gtol`` (1e-5),
    ``line_search_maxiter``; L-BFGS ``maxiter``, ``norm``, ``maxcor`` (10), ``ftol``,
    ``gtol``, ``maxfun``, ``maxgrad``, ``maxls``. ``tol`` sets ``gtol`` (JAX ignores it).
    Both use a strong-Wolfe line search; one compiled ``while_loop``, the very program of
    ``xform.optimize.minimize`` with the same options (compiled once for both APIs).
    Unlike JAX's, the solution is differentiable with respect to ``args`` (implicit
    function theorem).

    >>> import numpy as np, xform.numpy as xnp
    >>> from xform.scipy.optimize import minimize
    >>> r = minimize(lambda x: xnp.sum((x - 3.0) ** 2), np.zeros(2), method="BFGS")
    >>> bool(r.success), r.x.round(6)
    (True, array([3., 3.]))
    """
    where = "jax.scipy.optimize.minimize"
    if not callable(fun):
        raise TypeError(f"{where}: fun must be a callable, got {type(fun).__name__}")
    args = check_args(args, where)
    if not isinstance(method, str) or method.lower() not in _METHODS:
        raise ValueError(f"{where}: method {method!r} not recognized; use 'BFGS' or 'L-BFGS' "
                         f"(xform.optimize.minimize has more methods)")
    m = method.lower()
    module, names = _METHODS[m]
    options = dict(options or {})
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise TypeError(f"{where}: unknown option{'s' if len(unknown) > 1 else ''} {unknown} "
                        f"for method {method!r}; its options are {sorted(names)}")
    opts = options_with_defaults(where, m, {names[k]: v for k, v in options.items()},
                                 module.DEFAULTS)
    if tol is not None and "gtol" not in options:
        check_option(where, "tol", tol, 0.0)
        opts["gtol"] = tol
    a = get_aval(x0, where)
    if a.ndim != 1:
        raise ValueError(f"{where}: x0 must be a 1-D array, got shape {a.shape} (use "
                         f"xform.optimize.minimize for other shapes and pytrees)")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{where}: x0 must be real, got dtype {a.dtype}")
    check_finite_start(x0, where)
    is_bfgs = module is BFGS
    # the program of xform.optimize.minimize for these options (one compiled program for
    # both APIs); JAX's result structure and status codes are made from its result
    r, extra = run_minimize(fun, x0, args, "bfgs" if is_bfgs else "lbfgs", opts, where)
    status = r["status"]
    # xform.optimize's codes (0 ok, 1 maxiter, 2 line search, 3 nan) -> JAX's
    jax_status = xnp.where(status == 2, 3 if is_bfgs else 5, xnp.where(status == 3, -1, status))
    if not is_bfgs:
        jax_status = xnp.where(extra["ftol_stop"], 4, jax_status)
    if not isinstance(jax_status, Tracer):  # a numpy scalar, as the other counts
        jax_status = np.asarray(jax_status)[()]
    return OptimizeResults(x=r["x"], success=jax_status == 0, status=jax_status, fun=r["fun"],
                           jac=r["jac"], hess_inv=r["hess_inv"] if is_bfgs else None,
                           nfev=r["nfev"], njev=r["njev"], nit=r["nit"])
