"""xform.optimize: unconstrained minimization and nonlinear least squares (scipy's
``minimize`` and ``least_squares`` API), with derivatives by autodiff, each method one
compiled ``while_loop``, and solutions differentiable with respect to their inputs
(hyperparameter gradients) by the implicit function theorem."""
from ._least_squares import least_squares  # noqa: F401
from ._minimize import minimize  # noqa: F401
from ._result import OptimizeResult  # noqa: F401

__all__ = ["minimize", "least_squares", "OptimizeResult"]
