"""``OptimizeResult``: scipy's result object (a dict with attribute access), also a
pytree, so a jitted optimizer can return it."""
from __future__ import annotations

from typing import Any

from ..core.pytree import register_pytree_node
from ..core.trace import Tracer

# status -> message, as scipy words them (scipy.optimize.minimize / least_squares)
MINIMIZE_MESSAGES = {
    0: "Optimization terminated successfully.",
    1: "Maximum number of iterations has been exceeded.",
    2: "Desired error not necessarily achieved due to precision loss.",
    3: "NaN result encountered.",
}
LEAST_SQUARES_MESSAGES = {
    -1: "NaN result encountered.",
    0: "The maximum number of function evaluations is exceeded.",
    1: "`gtol` termination condition is satisfied.",
    2: "`ftol` termination condition is satisfied.",
    3: "`xtol` termination condition is satisfied.",
    4: "Both `ftol` and `xtol` termination conditions are satisfied.",
}
_MESSAGES = {"minimize": MINIMIZE_MESSAGES, "least_squares": LEAST_SQUARES_MESSAGES}


class OptimizeResult(dict):
    """The result of ``xform.optimize.minimize``/``least_squares``: a dict of arrays
    with attribute access, like ``scipy.optimize.OptimizeResult``.

    ``minimize`` fills ``x``, ``fun`` (the objective's value), ``jac`` (its gradient),
    ``nit``, ``nfev``, ``njev`` (gradient evaluations), ``nhvp`` (Hessian-vector
    products), ``success``, ``status`` (0 success, 1 iteration limit, 2 precision loss:
    no step decreases the objective, 3 a non-finite value); ``least_squares`` fills
    ``x``, ``cost`` (half the sum of squared residuals), ``fun`` (the residuals),
    ``jac``, ``grad``, ``optimality``, ``nit``, ``nfev``, ``njev``, ``nhvp``,
    ``success`` and ``status`` (scipy's codes: 1 gtol, 2 ftol, 3 xtol, 4 ftol and xtol,
    0 evaluation limit, -1 non-finite). ``message`` is derived from ``status``.

    >>> r = OptimizeResult({"x": 1.0, "status": 0}, kind="minimize")
    >>> r.x, r.message
    (1.0, 'Optimization terminated successfully.')
    """

    def __init__(self, fields: dict | None = None, kind: str = "minimize", **kwargs: Any):
        super().__init__(fields or {}, **kwargs)
        if kind not in _MESSAGES:
            raise ValueError(f"OptimizeResult: kind must be one of {sorted(_MESSAGES)}, got "
                             f"{kind!r}")
        self._kind = kind

    def __getattr__(self, name: str):
        if name == "message":
            return self._message()
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"OptimizeResult has no field {name!r}; it has "
                                 f"{sorted(self)} and message") from None

    def _message(self) -> str:
        status = self.get("status")
        if isinstance(status, Tracer):
            return "(status is traced: read the message from a concrete result)"
        return _MESSAGES[self._kind].get(int(status), f"Unknown status {int(status)}.")

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        width = max(len(k) for k in self) + 1
        lines = [f"{'message':>{width}}: {self._message()}"]
        lines += [f"{k:>{width}}: {v!r}" for k, v in sorted(self.items())]
        return "\n".join(lines)

    def __dir__(self):
        return list(super().__dir__()) + list(self.keys()) + ["message"]


def _flatten(r: OptimizeResult):
    keys = tuple(sorted(r))
    return [r[k] for k in keys], (keys, r._kind)


def _unflatten(aux, children):
    keys, kind = aux
    return OptimizeResult(dict(zip(keys, children)), kind=kind)


register_pytree_node(OptimizeResult, _flatten, _unflatten)
