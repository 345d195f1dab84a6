"""What every method shares: the problem as a function of one flat vector, argument
checks, option handling, the per-function jit cache, and differentiation of the result
with respect to the inputs by the implicit function theorem (``lax.custom_root``)."""
from __future__ import annotations

import collections
from typing import Any, Callable

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..ad import grad, linearize, value_and_grad
from ..core.pytree import tree_flatten, tree_unflatten
from ..core.trace import Tracer, get_aval, state
from ..interpreters.jvp import Zero, instantiate, jvp_flat
from ..interpreters.transforms import run, tangent_aval
from ..jit import jit
from ..lax.control_flow.common import trace_fun
from ..lax.custom_derivatives import custom_jvp


# -- pytrees as one vector ----------------------------------------------------------------------


def ravel_pytree(tree, where: str):
    """``(flat, unravel)``: the leaves of ``tree`` concatenated into one 1-D vector of
    their common floating dtype (integers become float64, as scipy does), and the
    inverse."""
    leaves, treedef = tree_flatten(tree)
    if not leaves:
        raise ValueError(f"{where}: x0 has no arrays (got {tree!r})")
    avals = [get_aval(x, where) for x in leaves]
    for a in avals:
        if a.dtype.kind == "c":
            raise TypeError(f"{where}: complex parameters are not supported (x0 has a "
                            f"{a.dtype} array); optimize the real and imaginary parts")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{where}: x0 must hold numeric arrays, got dtype {a.dtype}")
    kinds = [a.dtype for a in avals if a.dtype.kind == "f"]
    dtype = np.result_type(*kinds) if kinds else np.dtype(np.float64)
    shapes = [a.shape for a in avals]
    sizes = [int(np.prod(s)) for s in shapes]
    parts = [xnp.ravel(xnp.asarray(x)).astype(dtype) for x in leaves]
    flat = parts[0] if len(parts) == 1 else xnp.concatenate(parts)
    leaf_dtypes = [a.dtype if a.dtype.kind == "f" else dtype for a in avals]

    def unravel(v):
        out, start = [], 0
        for shape, size, dt in zip(shapes, sizes, leaf_dtypes):
            out.append(xnp.reshape(v[start:start + size], shape).astype(dt))
            start += size
        return tree_unflatten(treedef, out)

    return flat, unravel


def check_finite_start(x0, where: str) -> None:
    """A concrete starting point with nan/inf entries is an error (it cannot be checked
    when ``x0`` is traced: the result's status then reports it)."""
    for leaf in tree_flatten(x0)[0]:
        if isinstance(leaf, Tracer):
            continue
        a = np.asarray(leaf)
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            raise ValueError(f"{where}: x0 has non-finite entries ({int(np.sum(~np.isfinite(a)))}"
                             f" of {a.size} are nan or inf); start from a finite point")


def check_args(args, where: str) -> tuple:
    if not isinstance(args, tuple):
        raise TypeError(f"{where}: args must be a tuple of extra arguments for the function, "
                        f"got {type(args).__name__}; wrap a single argument as (arg,)")
    return args


def scalar_objective(fun: Callable, unravel, dtype, where: str) -> Callable:
    """``f(x, *args)`` on the flat vector, checking that ``fun`` returns a real scalar."""

    def f(x, *args):
        out = fun(unravel(x), *args)
        leaves, tree = tree_flatten(out)
        if len(leaves) != 1:
            raise TypeError(f"{where}: fun must return a scalar, got a {tree} of "
                            f"{len(leaves)} values")
        a = get_aval(leaves[0], where)
        if a.shape != ():
            raise TypeError(f"{where}: fun must return a scalar, got an array of shape "
                            f"{a.shape}; reduce it (e.g. with xnp.sum) or use least_squares "
                            f"for a vector of residuals")
        if a.dtype.kind not in "iuf":
            raise TypeError(f"{where}: fun must return a real number, got dtype {a.dtype}")
        return xnp.asarray(leaves[0]).astype(dtype)

    return f


def vector_residuals(fun: Callable, unravel, dtype, where: str) -> Callable:
    """``r(x, *args)`` on the flat vector: the residuals (any pytree of real arrays)
    concatenated into one vector."""

    def r(x, *args):
        out = fun(unravel(x), *args)
        leaves, _ = tree_flatten(out)
        if not leaves:
            raise TypeError(f"{where}: the residual function returned no arrays")
        parts = []
        for leaf in leaves:
            a = get_aval(leaf, where)
            if a.dtype.kind not in "iuf":
                raise TypeError(f"{where}: residuals must be real numbers, got dtype {a.dtype}")
            parts.append(xnp.ravel(xnp.asarray(leaf)).astype(dtype))
        return parts[0] if len(parts) == 1 else xnp.concatenate(parts)

    return r


def options_with_defaults(where: str, method: str, options: dict | None,
                          defaults: dict) -> dict:
    """``defaults`` updated with ``options``; an option the method does not know is an
    error listing the ones it does."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(f"{where}: unknown option{'s' if len(unknown) > 1 else ''} {unknown} "
                        f"for method {method!r}; its options are {sorted(defaults)}")
    out = dict(defaults)
    out.update(options)
    for k, v in out.items():
        if isinstance(v, Tracer):
            raise TypeError(f"{where}: option {k!r} must be a Python value (it is fixed in the "
                            f"compiled program), got a traced value")
        check_option(where, k, v, defaults[k])
    return out


# options counted in iterations or evaluations (None: the method's default)
_COUNTS = frozenset({"maxiter", "cg_maxiter", "maxls", "maxcor", "maxfun"})


def check_option(where: str, name: str, value, default) -> None:
    """An option's value has the type of its default: a count is a non-negative int (or
    None where the default is None), a tolerance or constant a non-negative real number,
    a string one of the method's words (checked where it is used)."""
    if name in _COUNTS:
        if value is None and default is None:
            return
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                or value < 0:
            raise ValueError(f"{where}: option {name!r} must be a non-negative int"
                             f"{' or None' if default is None else ''}, got {value!r}")
        return
    if isinstance(default, float):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                         np.floating)):
            raise TypeError(f"{where}: option {name!r} must be a real number, got "
                            f"{type(value).__name__} {value!r}")
        if not value >= 0:  # (also NaN)
            raise ValueError(f"{where}: option {name!r} must be non-negative, got {value!r}")


# -- the objective's evaluations, as the methods use them --------------------------------------


class Objective:
    """The objective of one run, closing over its extra arguments: ``value_and_grad``
    and ``linearize`` (value, gradient and the Hessian-vector product at a point, the
    gradient linearized once so every product reuses its primal work)."""

    def __init__(self, f: Callable, args: tuple):
        self.f = f
        self.args = args
        self.vg = value_and_grad(f)  # (x, *args) -> (f, g)

    def value_and_grad(self, x):
        return self.vg(x, *self.args)

    def linearize(self, x):
        (fx, gx), lin = linearize(lambda y: self.vg(y, *self.args), x)
        return fx, gx, lambda v: lin(v)[1]


# -- implicit differentiation of the solution -----------------------------------------------------


def _passthrough_primal(fn_jaxpr, n_in, *ins):
    return list(ins[n_in:])


_passthrough = custom_jvp(_passthrough_primal, nondiff_argnums=(0, 1))


@_passthrough.defjvp
def _passthrough_jvp(fn_jaxpr, n_in, primals, tangents):
    # Values the solver computed at the solution (f, grad f, ...): their derivatives are
    # those of the function computing them at (x*, args), x*'s tangent from custom_root.
    ins, t_ins = list(primals[:n_in]), list(tangents[:n_in])
    t_ins = [t if get_aval(p).dtype.kind in "fc" else Zero.like(p) for p, t in zip(ins, t_ins)]
    _, touts = jvp_flat(lambda *a: run(fn_jaxpr, *a), ins, t_ins, name="optimize")
    outs = list(primals[n_in:])
    return outs, [instantiate(t, tangent_aval(get_aval(o))) for t, o in zip(touts, outs)]


def solve_implicitly(obj: Objective, x0, core: Callable, values_fn: Callable, *,
                     tangent_tol: float, tangent_maxiter: int | None):
    """Run ``core(x0) -> (x, values, stats)`` as the ``solve`` of ``lax.custom_root``
    on the stationarity condition ``grad f(x) = 0``: derivatives of the solution with
    respect to the arguments (hyperparameters) are ``-H^{-1} d(grad f)``, a conjugate
    gradient solve with Hessian-vector products, not a differentiation of the
    iterations. ``values`` (a tuple of arrays the solver computed at the solution, e.g.
    ``f`` and ``grad f``) get the derivatives of ``values_fn(x, *args)`` at the
    solution; ``stats`` (counts, status) have none."""
    args = obj.args
    g = grad(obj.f)

    def stationarity(x):
        return g(x, *args)

    def solve(_, x):
        x_star, values, stats = core(x)
        return x_star, (tuple(values), stats)

    def tangent_solve(hvp, y):
        from ..scipy.sparse.linalg import cg  # (xform.scipy imports this package)

        return cg(hvp, y, tol=tangent_tol, maxiter=tangent_maxiter)[0]

    x_star, (values, stats) = lax.custom_root(stationarity, x0, solve, tangent_solve,
                                              has_aux=True)
    leaves, in_tree = tree_flatten((x_star,) + tuple(args))
    fn, consts, _ = trace_fun(lambda x, *a: list(values_fn(x, *a)), in_tree,
                              [get_aval(v) for v in leaves], "optimize")
    n_in = len(consts) + len(leaves)
    values = _passthrough(fn, n_in, *consts, *leaves, *values)
    return x_star, tuple(values), stats


# -- one compiled program per (function, method, options) -------------------------------------------

_JIT_CACHE: collections.OrderedDict = collections.OrderedDict()
_JIT_CACHE_SIZE = 64


def run_compiled(key: tuple, build: Callable[[], Callable], *inputs) -> Any:
    """Call ``build()(*inputs)`` under ``jit``, the jitted function cached by ``key``
    (which holds the user's function, the method and its options), so that repeated
    calls reuse one compiled program. Inside other transformations the function is
    traced directly (an enclosing ``jit`` compiles it whole)."""
    if len(state().stack) > 1 or any(isinstance(x, Tracer) for x in tree_flatten(inputs)[0]):
        return build()(*inputs)
    try:
        fn = _JIT_CACHE.get(key)
    except TypeError:  # an unhashable option or function: no caching
        return jit(build())(*inputs)
    if fn is None:
        fn = _JIT_CACHE[key] = jit(build())
        while len(_JIT_CACHE) > _JIT_CACHE_SIZE:
            _JIT_CACHE.popitem(last=False)
    else:
        _JIT_CACHE.move_to_end(key)
    return fn(*inputs)


def options_key(opts: dict) -> tuple:
    return tuple(sorted(opts.items()))


def norm_inf(v):
    return xnp.max(xnp.abs(v))


def vdot(a, b):
    """The inner product of two vectors. Short ones (up to 128 entries) as
    ``sum(a * b)``, not ``xnp.dot``: under ``jit`` the sum is fused into a loop over the
    vectors (often one the program has anyway), where a 1-D ``dot`` is a call of the
    backend's matrix-product routine, which costs Numba several times more to compile
    per call site (the optimizers take a dozen inner products per iteration). Longer ones
    by ``xnp.dot``, whose vectorized routine runs several times faster than the fused
    loop's sequential sum: there the run time of the iterations matters more."""
    if a.shape[0] > _SHORT:
        return xnp.dot(a, b)
    return xnp.sum(a * b)


_SHORT = 128


def vnorm(v):
    """The 2-norm of a vector, ``sqrt(vdot(v, v))`` (see ``vdot``; the solvers never
    differentiate it, so it needs none of ``xnp.linalg.norm``'s care at 0)."""
    return xnp.sqrt(vdot(v, v))
