"""User-defined derivative rules: ``custom_jvp`` and ``custom_vjp`` (JAX's API).

Called eagerly on concrete values the decorated function simply runs. Otherwise the
function is traced into a jaxpr and bound as a primitive that holds that jaxpr *and*
the Python rule, so every transformation (also after staging into ``make_jaxpr`` /
``jit``) can use the rule.

Primitives and their parameters (for interpreters and the Numba backend)
------------------------------------------------------------------------

``custom_jvp_call`` (multiple results)
    operands: ``*consts, *args`` (``consts``: closed-over tracers of outer
    transformations). params: ``call_jaxpr`` (``ClosedJaxpr``: ``consts + args ->
    outs``; evaluating it *is* the primal function), ``jvp`` (Python callable
    ``(primals_flat, tangents_flat) -> (outs_flat, tangents_out_flat)``),
    ``num_consts``, ``symbolic_zeros``. Lowering: inline ``call_jaxpr``.

``custom_vjp_call`` (multiple results)
    operands: ``*consts, *args``. params: ``call_jaxpr`` (as above), ``fwd``
    (``primals_flat -> (outs_flat, residuals_flat)``), ``bwd`` (``(residuals_flat,
    cts_flat) -> cts per arg leaf`` (``None`` = zero)), ``num_consts``,
    ``symbolic_zeros``. Lowering: inline ``call_jaxpr``.

``custom_lin`` (multiple results; only inside linear programs)
    operands: ``*residuals, *nonzero_tangents``. params: ``bwd``, ``num_res``,
    ``in_avals``, ``in_nonzero``, ``out_avals``, ``out_nonzero``. It is the linear
    map whose transpose is ``bwd``; it has no forward evaluation (its impl raises the
    forward-mode error; a lowering should do the same).
"""
from __future__ import annotations

import functools
import inspect
import weakref
from typing import NamedTuple

import numpy as np

from .._util import fun_name
from ..core.abstract import ShapedArray
from ..core.check import call_signature
from ..core.dtypes import float0
from ..core.primitive import Primitive
from ..core.pytree import tree_flatten, tree_unflatten
from ..core.trace import Tracer, get_aval, state
from ..interpreters.jvp import Zero, instantiate
from ..interpreters.transforms import (
    batch_fun,
    batch_jaxpr,
    is_linear_tracer,
    move_batch,
    run,
    tangent_aval,
    transpose_call,
)
from .control_flow.common import coerce_outputs, signature, trace_fun

__all__ = ["custom_jvp", "custom_vjp"]

_FWD_ERROR = (
    "can't apply forward-mode autodiff (jvp) to a custom_vjp function: it only defines "
    "a reverse-mode rule. Use reverse mode (grad, vjp, jacrev), or define the function "
    "with custom_jvp instead.")


def _closure_error(kind: str, name: str):
    return TypeError(
        f"{kind} function {name} closes over a value that is being differentiated (a "
        f"tracer of an enclosing transformation). Pass that value as an explicit argument "
        f"of the {kind} function instead, so its rule can account for it.")


def _positional_count(fun) -> int | None:
    """How many positional parameters ``fun`` has (None: unknown, or ``*args``)."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _resolve_args(fun, args, kwargs):
    """All positional arguments of a call, defaults included, so that the rules always
    see the same number of primals (as in JAX)."""
    if not kwargs:
        n = _cached_positional_count(fun)
        if n is None or len(args) >= n:
            return tuple(args)
    try:
        sig = inspect.signature(fun)
        bound = sig.bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{fun_name(fun)}: {e}") from None
    bound.apply_defaults()
    passed = sorted(k for k in bound.kwargs if k in kwargs)
    if passed:
        raise TypeError(f"{fun_name(fun)}: custom derivative functions accept keyword "
                        f"arguments only for positional parameters, got {passed}")
    return tuple(bound.args)  # keyword-only parameters keep their defaults


_POSITIONAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_positional_count(fun) -> int | None:
    try:
        return _POSITIONAL[fun]
    except KeyError:
        n = _POSITIONAL[fun] = _positional_count(fun)
        return n
    except TypeError:  # not weak-referenceable: inspect each time
        return _positional_count(fun)


def _needs_trace(leaves) -> bool:
    return state().dynamic.level > 0 or any(isinstance(x, Tracer) for x in leaves)


def _split_nondiff(args, nondiff_argnums, where):
    n = len(args)
    nums = []
    for i in nondiff_argnums:
        if not -n <= i < n:
            raise ValueError(f"{where}: nondiff_argnums entry {i} is out of range for "
                             f"{n} arguments")
        nums.append(i % n)
    nondiff = [args[i] for i in sorted(nums)]
    diff = [a for i, a in enumerate(args) if i not in nums]
    return sorted(nums), nondiff, diff


def _merge(n, nums, nondiff, diff):
    nd, dd = iter(nondiff), iter(diff)
    return [next(nd) if i in nums else next(dd) for i in range(n)]


def _as_tangent(t, aval: ShapedArray, where: str, i: int):
    """A tangent/cotangent returned by a user rule, checked against ``aval``."""
    if t is None or type(t) is Zero:
        return Zero(tangent_aval(aval))
    if aval.dtype.kind not in "fc":
        return Zero(tangent_aval(aval))
    if isinstance(t, np.ndarray) and t.dtype == float0:
        return Zero(tangent_aval(aval))
    ta = get_aval(t, where)
    if ta.shape != aval.shape:
        raise TypeError(f"{where}: output {i} of the rule has shape {ta.shape} but the "
                        f"matching value has shape {aval.shape} ({aval.str_short()})")
    if not isinstance(t, Tracer) and ta.dtype != aval.dtype:
        t = np.asarray(t, dtype=aval.dtype)
        t = t[()] if t.ndim == 0 else t
    elif ta.dtype != aval.dtype:
        from .. import lax

        t = lax.convert_element_type(t, aval.dtype)
    return t


class _Traced(NamedTuple):
    n: int
    nums: list
    nondiff: list
    diff: list
    leaves: list
    in_tree: object
    avals: list
    closed: object
    consts: list
    out_tree: object


class _CustomFunction:
    """What ``custom_jvp`` and ``custom_vjp`` share: method binding and tracing the
    function (``fun``, ``nondiff_argnums``) on its differentiable arguments."""

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def _trace(self, args, where, name):
        """None when ``args`` (resolved) need no tracing, else a ``_Traced``."""
        nums, nondiff, diff = _split_nondiff(args, self.nondiff_argnums, where)
        leaves, in_tree = tree_flatten(tuple(diff))
        if not _needs_trace(leaves + tree_flatten(nondiff)[0]):
            return None
        n = len(args)
        avals = [get_aval(x, where) for x in leaves]

        def call(*diff_args):
            return self.fun(*_merge(n, nums, nondiff, diff_args))

        closed, consts, out_tree = trace_fun(call, in_tree, avals, name)
        return _Traced(n, nums, nondiff, diff, leaves, in_tree, avals, closed, consts, out_tree)


# -- custom_jvp ------------------------------------------------------------------------

custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)


def _cjvp_impl(*args, call_jaxpr, jvp, num_consts, symbolic_zeros):
    return coerce_outputs(run(call_jaxpr, *args), call_jaxpr.out_avals)


def _cjvp_abstract(*avals, call_jaxpr, jvp, num_consts, symbolic_zeros):
    return call_jaxpr.out_avals


def _cjvp_jvp(primals, tangents, call_jaxpr, jvp, num_consts, symbolic_zeros):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        raise _closure_error("custom_jvp", getattr(jvp, "fun_name", ""))
    ps = list(primals[num_consts:])
    ts = [instantiate(t) if type(t) is Zero else t for t in tangents[num_consts:]]
    outs, touts = jvp(ps, ts)
    return outs, touts


def _cjvp_batch(vals, dims, call_jaxpr, jvp, num_consts, symbolic_zeros, axis_size):
    vals = [move_batch(v, d, 0) for v, d in zip(vals, dims)]
    dims0 = tuple(None if d is None else 0 for d in dims)
    n_out = len(call_jaxpr.out_avals)
    bj, _ = batch_jaxpr(call_jaxpr, dims0, axis_size, (True,) * n_out)
    pdims = list(dims0[num_consts:])

    def batched_jvp(ps, ts):
        def one(ps, ts):
            o, t = jvp(list(ps), list(ts))
            return list(o), [instantiate(x) for x in t]

        n = len(ps)

        def flat(*xs):
            o, t = one(xs[:n], xs[n:])
            return list(o) + list(t)

        res = batch_fun(flat, list(ps) + list(ts), pdims + pdims, axis_size)
        n_o = len(res) // 2
        return res[:n_o], res[n_o:]

    batched_jvp.fun_name = getattr(jvp, "fun_name", "")
    outs = custom_jvp_call_p.bind(*vals, call_jaxpr=bj, jvp=batched_jvp, num_consts=num_consts,
                                  symbolic_zeros=symbolic_zeros)
    return outs, [0] * n_out


def _cjvp_transpose(cts, *args, call_jaxpr, jvp, num_consts, symbolic_zeros):
    # Only reached when the function is applied to tangents inside a linear program.
    return transpose_call(call_jaxpr, cts, args)


custom_jvp_call_p.impl = _cjvp_impl
custom_jvp_call_p.abstract_eval = _cjvp_abstract
custom_jvp_call_p.jvp = _cjvp_jvp
custom_jvp_call_p.batch = _cjvp_batch
custom_jvp_call_p.check_signature = call_signature("call_jaxpr")
custom_jvp_call_p.batch_needs_size = True
custom_jvp_call_p.transpose = _cjvp_transpose


class custom_jvp(_CustomFunction):
    """A function with a custom JVP (forward-mode) rule; reverse mode transposes it.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> @xform.custom_jvp
    ... def f(x):
    ...     return lax.sin(x)
    >>> @f.defjvp
    ... def f_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return f(x), lax.mul(2.0, t)      # a deliberately "wrong" derivative
    >>> float(xform.grad(f)(0.5))
    2.0

    ``jvp(primals, tangents) -> (primal_out, tangent_out)`` receives tuples of the
    arguments (pytrees) and their tangents (zeros where an argument has no tangent;
    ``float0`` zeros for integer arguments). With ``nondiff_argnums`` those arguments
    are passed first to the rule and get no tangent.
    """

    # Attributes live under private names (exposed as read-only properties): wrappers
    # built with functools.update_wrapper (e.g. jit) copy the instance __dict__.
    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self._cd_fun = fun
        self._cd_nondiff = tuple(nondiff_argnums)
        self._cd_jvp = None

    fun = property(lambda self: self._cd_fun)
    jvp = property(lambda self: self._cd_jvp)
    nondiff_argnums = property(lambda self: self._cd_nondiff)

    def defjvp(self, jvp, symbolic_zeros: bool = False):
        """Set the JVP rule (usable as a decorator); returns ``jvp``."""
        if not callable(jvp):
            raise TypeError("custom_jvp.defjvp: the rule must be a callable")
        self._cd_jvp = jvp  # Zero tangents are always instantiated for the rule
        return jvp

    def defjvps(self, *jvps):
        """One rule per argument, ``jvp_i(g, ans, *args) -> contribution`` (None = no
        dependence); contributions are summed."""
        from .. import lax

        def rule(primals, tangents):
            ans = self.fun(*primals)
            out = None
            for fn, t in zip(jvps, tangents):
                if fn is None:
                    continue
                c = fn(t, ans, *primals)
                out = c if out is None else _tree_add(out, c, lax)
            if out is None:
                out = _tree_zeros_like(ans)
            return ans, out

        self.defjvp(rule)

    def __call__(self, *args, **kwargs):
        name = fun_name(self.fun)
        where = f"custom_jvp function {name}"
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {name} using defjvp.")
        args = _resolve_args(self.fun, args, kwargs)
        tr = self._trace(args, where, name)
        if tr is None:
            return self.fun(*args)
        _, _, nondiff, _, leaves, in_tree, _, closed, consts, out_tree = tr
        out_avals = closed.out_avals
        user_jvp = self.jvp

        def jvp_flat(ps, ts):
            primals = tree_unflatten(in_tree, ps)
            tangents = tree_unflatten(in_tree, ts)
            res = user_jvp(*nondiff, tuple(primals), tuple(tangents))
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                raise TypeError(f"{where}: the JVP rule must return a pair (primal_out, "
                                f"tangent_out), got {type(res).__name__}")
            po, to = res
            po_leaves, po_tree = tree_flatten(po)
            to_leaves, to_tree = tree_flatten(to)
            if po_tree != out_tree or to_tree != out_tree:
                raise TypeError(
                    f"{where}: the JVP rule's primal and tangent outputs must have the "
                    f"structure of the function's output {out_tree}, got primal {po_tree} "
                    f"and tangent {to_tree}")
            for p, a in zip(po_leaves, out_avals):
                pa = get_aval(p, where)
                if pa.shape != a.shape or pa.dtype != a.dtype and not pa.weak_type:
                    raise TypeError(
                        f"{where}: the JVP rule's primal output must have the type of the "
                        f"function's output, got\n  function output: "
                        f"{signature(out_tree, out_avals)}\n  rule primal output: "
                        f"{signature(po_tree, [get_aval(x) for x in po_leaves])}")
            t_out = [_as_tangent(t, a, where, i) for i, (t, a) in enumerate(zip(to_leaves, out_avals))]
            return po_leaves, t_out

        jvp_flat.fun_name = name
        outs = custom_jvp_call_p.bind(*consts, *leaves, call_jaxpr=closed, jvp=jvp_flat,
                                      num_consts=len(consts), symbolic_zeros=False)
        return tree_unflatten(out_tree, outs)


def _tree_add(a, b, lax):
    from ..core.pytree import tree_map

    return tree_map(lambda x, y: lax.add(x, y), a, b)


def _tree_zeros_like(t):
    from ..core.pytree import tree_map

    return tree_map(lambda x: instantiate(Zero.like(x)), t)


# -- custom_vjp ------------------------------------------------------------------------

custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_lin_p = Primitive("custom_lin", multiple_results=True)


def _cvjp_impl(*args, call_jaxpr, fwd, bwd, num_consts, symbolic_zeros):
    return coerce_outputs(run(call_jaxpr, *args), call_jaxpr.out_avals)


def _cvjp_abstract(*avals, call_jaxpr, fwd, bwd, num_consts, symbolic_zeros):
    return call_jaxpr.out_avals


def _cvjp_jvp(primals, tangents, call_jaxpr, fwd, bwd, num_consts, symbolic_zeros):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        raise _closure_error("custom_vjp", getattr(fwd, "fun_name", ""))
    ps = list(primals[num_consts:])
    ts = tangents[num_consts:]
    in_nz = tuple(type(t) is not Zero for t in ts)
    nzt = [t for t in ts if type(t) is not Zero]
    if not all(is_linear_tracer(t) for t in nzt):
        raise TypeError(_FWD_ERROR)
    outs, res = fwd(ps)
    out_avals = [get_aval(o) for o in outs]
    out_nz = tuple(a.dtype.kind in "fc" for a in out_avals)
    touts = custom_lin_p.bind(
        *res, *nzt, bwd=bwd, num_res=len(res), in_avals=tuple(get_aval(p) for p in ps),
        in_nonzero=in_nz, out_avals=tuple(tangent_aval(a) for a in out_avals), out_nonzero=out_nz)
    it = iter(touts)
    return outs, [next(it) if nz else Zero.like(o) for o, nz in zip(outs, out_nz)]


def _cvjp_batch(vals, dims, call_jaxpr, fwd, bwd, num_consts, symbolic_zeros, axis_size):
    from .. import lax

    vals = [move_batch(v, d, 0) for v, d in zip(vals, dims)]
    dims0 = tuple(None if d is None else 0 for d in dims)
    n_out = len(call_jaxpr.out_avals)
    bj, _ = batch_jaxpr(call_jaxpr, dims0, axis_size, (True,) * n_out)
    pdims = tuple(dims0[num_consts:])
    in_avals = call_jaxpr.in_avals[num_consts:]
    float_in = [a.dtype.kind in "fc" for a in in_avals]

    def batched_fwd(ps):
        box = {}

        def one(*ps):
            o, r = fwd(list(ps))
            box["n_out"] = len(o)
            return list(o) + list(r)

        res = batch_fun(one, ps, pdims, axis_size)
        return res[:box["n_out"]], res[box["n_out"]:]

    def batched_bwd(res, cts):
        def one(res, cts):
            out = bwd(list(res), list(cts))
            return [instantiate(Zero(tangent_aval(a))) if c is None or type(c) is Zero else c
                    for c, a, f in zip(out, in_avals, float_in) if f]

        n_res = len(res)
        outs = iter(batch_fun(lambda *xs: one(xs[:n_res], xs[n_res:]), list(res) + list(cts),
                              [0] * (n_res + len(cts)), axis_size))
        result = []
        for f, d in zip(float_in, pdims):
            if not f:
                result.append(None)
                continue
            c = next(outs)
            result.append(lax.reduce_sum(c, (0,)) if d is None else c)
        return result

    batched_fwd.fun_name = getattr(fwd, "fun_name", "")
    outs = custom_vjp_call_p.bind(*vals, call_jaxpr=bj, fwd=batched_fwd, bwd=batched_bwd,
                                  num_consts=num_consts, symbolic_zeros=symbolic_zeros)
    return outs, [0] * n_out


def _cvjp_transpose(cts, *args, call_jaxpr, fwd, bwd, num_consts, symbolic_zeros):
    return transpose_call(call_jaxpr, cts, args)


custom_vjp_call_p.impl = _cvjp_impl
custom_vjp_call_p.abstract_eval = _cvjp_abstract
custom_vjp_call_p.jvp = _cvjp_jvp
custom_vjp_call_p.batch = _cvjp_batch
custom_vjp_call_p.check_signature = call_signature("call_jaxpr")
custom_vjp_call_p.batch_needs_size = True
custom_vjp_call_p.transpose = _cvjp_transpose


def _lin_impl(*args, **params):
    raise TypeError(_FWD_ERROR)


def _lin_abstract(*avals, bwd, num_res, in_avals, in_nonzero, out_avals, out_nonzero):
    return [a for a, nz in zip(out_avals, out_nonzero) if nz]


def _lin_transpose(cts, *args, bwd, num_res, in_avals, in_nonzero, out_avals, out_nonzero):
    res = list(args[:num_res])
    ct_it = iter(cts)
    full = [instantiate(next(ct_it), a) if nz else instantiate(Zero(a))
            for a, nz in zip(out_avals, out_nonzero)]
    cts_in = bwd(res, full)
    out = [None] * num_res
    for c, a, nz in zip(cts_in, in_avals, in_nonzero):
        if nz:
            out.append(Zero(tangent_aval(a)) if c is None or type(c) is Zero else c)
    return out


def _lin_jvp(primals, tangents, **params):
    raise TypeError(_FWD_ERROR)


custom_lin_p.impl = _lin_impl
custom_lin_p.abstract_eval = _lin_abstract
custom_lin_p.transpose = _lin_transpose
custom_lin_p.jvp = _lin_jvp


class custom_vjp(_CustomFunction):
    """A function with a custom VJP (reverse-mode) rule.

    >>> import numpy as np, xform
    >>> from xform import lax
    >>> @xform.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def fwd(x):
    ...     return x, None
    >>> def bwd(_, g):
    ...     return (lax.clamp(-1.0, g, 1.0),)
    >>> clip_gradient.defvjp(fwd, bwd)
    >>> float(xform.grad(lambda x: lax.mul(3.0, clip_gradient(x)))(2.0))
    1.0

    ``fwd(*args) -> (out, residuals)`` and ``bwd(residuals, ct_out) -> tuple`` with
    one cotangent per argument (``None`` for zero). With ``nondiff_argnums`` those
    arguments are passed first to ``bwd``. Forward mode (jvp) is an error.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self._cd_fun = fun
        self._cd_nondiff = tuple(nondiff_argnums)
        self._cd_fwd = None
        self._cd_bwd = None

    fun = property(lambda self: self._cd_fun)
    fwd = property(lambda self: self._cd_fwd)
    bwd = property(lambda self: self._cd_bwd)
    nondiff_argnums = property(lambda self: self._cd_nondiff)

    def defvjp(self, fwd, bwd, symbolic_zeros: bool = False):
        if not (callable(fwd) and callable(bwd)):
            raise TypeError("custom_vjp.defvjp: fwd and bwd must be callables")
        self._cd_fwd, self._cd_bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        name = fun_name(self.fun)
        where = f"custom_vjp function {name}"
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {name} using defvjp.")
        args = _resolve_args(self.fun, args, kwargs)
        tr = self._trace(args, where, name)
        if tr is None:
            return self.fun(*args)
        n, nums, nondiff, diff, leaves, in_tree, avals, closed, consts, out_tree = tr
        diff_trees = [tree_flatten(a)[1] for a in diff]
        out_avals = closed.out_avals
        user_fwd, user_bwd = self.fwd, self.bwd
        store: dict = {}

        def fwd_flat(ps):
            primals = tree_unflatten(in_tree, ps)
            res = user_fwd(*_merge(n, nums, nondiff, primals))
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                raise TypeError(f"{where}: fwd must return a pair (output, residuals), got "
                                f"{type(res).__name__}")
            out, r = res
            o_leaves, o_tree = tree_flatten(out)
            if o_tree != out_tree or any(
                    get_aval(o).shape != a.shape for o, a in zip(o_leaves, out_avals)):
                raise TypeError(
                    f"{where}: fwd's output must have the type of the function's output, got\n"
                    f"  function output: {signature(out_tree, out_avals)}\n"
                    f"  fwd output:      {signature(o_tree, [get_aval(o) for o in o_leaves])}")
            r_leaves, r_tree = tree_flatten(r)
            store["res_tree"] = r_tree
            return o_leaves, r_leaves

        def bwd_flat(res, cts):
            r = tree_unflatten(store["res_tree"], res)
            ct = tree_unflatten(out_tree, cts)
            out = user_bwd(*nondiff, r, ct)
            if not isinstance(out, (tuple, list)) or len(out) != len(diff):
                raise TypeError(
                    f"{where}: bwd must return a tuple with one cotangent per differentiable "
                    f"argument ({len(diff)}), got "
                    f"{type(out).__name__ if not isinstance(out, (tuple, list)) else len(out)}")
            flat = []
            for i, (c, t) in enumerate(zip(out, diff_trees)):
                if c is None:
                    flat.extend([None] * t.num_leaves)
                    continue
                c_leaves, c_tree = tree_flatten(c, is_leaf=lambda x: x is None)
                if len(c_leaves) != t.num_leaves:
                    raise TypeError(f"{where}: bwd's cotangent {i} has structure {c_tree} but "
                                    f"argument {i} has structure {t}")
                flat.extend(c_leaves)
            return [_as_tangent(c, a, where, i) for i, (c, a) in enumerate(zip(flat, avals))]

        fwd_flat.fun_name = name
        outs = custom_vjp_call_p.bind(*consts, *leaves, call_jaxpr=closed, fwd=fwd_flat,
                                      bwd=bwd_flat, num_consts=len(consts), symbolic_zeros=False)
        return tree_unflatten(out_tree, outs)
