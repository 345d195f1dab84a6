"""Top-level API that JAX code calls besides the transformations: ``eval_shape`` and
``ShapeDtypeStruct``, ``typeof``, ``linear_transpose``, ``closure_convert``,
``custom_gradient``, ``named_call``, ``named_scope``, ``disable_jit``,
``ensure_compile_time_eval``, ``block_until_ready``."""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Iterator

import numpy as np

from . import config
from ._util import check_leaves, flatten_fun, fun_name, to_output
from .core.abstract import ShapedArray
from .core.eval import eval_jaxpr
from .core.pytree import register_pytree_node, tree_flatten, tree_map, tree_unflatten
from .core.trace import Tracer, get_aval, state
from .interpreters.jvp import Zero, instantiate
from .interpreters.staging import closure_convert as _hoist_tracers
from .interpreters.staging import trace_to_jaxpr
from .interpreters.transpose import UndefinedPrimal, backward_pass

__all__ = ["ShapeDtypeStruct", "block_until_ready", "closure_convert", "custom_gradient",
           "disable_jit", "effects_barrier", "ensure_compile_time_eval", "eval_shape",
           "linear_transpose", "named_call", "named_scope", "typeof"]


class ShapeDtypeStruct:
    """A shape and a dtype standing for an array (``eval_shape``'s inputs and results,
    ``pure_callback``'s result types).

    >>> import numpy as np, xform
    >>> s = xform.ShapeDtypeStruct((2, 3), np.float32)
    >>> s, s.ndim, s.size
    (ShapeDtypeStruct(shape=(2, 3), dtype=float32), 2, 6)
    """

    __slots__ = ("shape", "dtype", "weak_type", "sharding")

    def __init__(self, shape, dtype, *, sharding: Any = None, weak_type: bool = False):
        try:
            self.shape = tuple(int(d) for d in shape)
        except TypeError:
            raise TypeError(f"ShapeDtypeStruct: shape must be a sequence of ints, got "
                            f"{shape!r}.") from None
        self.dtype = np.dtype(dtype)
        self.weak_type = bool(weak_type)
        self.sharding = sharding

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def update(self, shape=None, dtype=None, weak_type=None) -> "ShapeDtypeStruct":
        return ShapeDtypeStruct(self.shape if shape is None else shape,
                                self.dtype if dtype is None else dtype,
                                weak_type=self.weak_type if weak_type is None else weak_type)

    def __eq__(self, other) -> bool:
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{weak})"


def _aval_of(x, where: str) -> ShapedArray:
    """The abstract value of an argument: arrays and tracers, or anything with ``.shape``
    and ``.dtype`` (``ShapeDtypeStruct``)."""
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return get_aval(x, where)
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return ShapedArray(tuple(x.shape), np.dtype(x.dtype), getattr(x, "weak_type", False))
    return get_aval(x, where)


def eval_shape(fun: Callable, *args, **kwargs) -> Any:
    """The shapes and dtypes of ``fun(*args, **kwargs)`` without computing it: arguments
    may be arrays or ``ShapeDtypeStruct``; results are ``ShapeDtypeStruct`` in the output's
    structure.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xform.eval_shape(lambda x, y: (x @ y, xnp.sum(y)),
    ...                  xform.ShapeDtypeStruct((4, 3), np.float32), np.ones((3, 2)))
    (ShapeDtypeStruct(shape=(4, 2), dtype=float64), ShapeDtypeStruct(shape=(), dtype=float64))
    """
    where = f"eval_shape of {fun_name(fun)}"
    leaves, in_tree = tree_flatten((args, kwargs))
    avals = [_aval_of(x, where) for x in leaves]
    flat, store = flatten_fun(lambda a, k: fun(*a, **k), in_tree)
    jaxpr, _ = trace_to_jaxpr(flat, avals, name="eval_shape")
    outs = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in jaxpr.out_avals]
    return tree_unflatten(store["tree"], outs)


def typeof(x) -> ShapedArray:
    """The abstract value (shape, dtype, weak type) of an array or traced value.

    >>> import numpy as np, xform
    >>> xform.typeof(np.ones((2, 3), np.float32)), xform.typeof(1.0)
    (ShapedArray(f32[2,3]), ShapedArray(f64[], weak))
    """
    return _aval_of(x, "typeof")


def block_until_ready(x: Any) -> Any:
    """Return ``x`` once its arrays are computed. xform computes synchronously (also
    under tiered ``jit``, whose first calls run uncompiled), so results are always ready;
    this exists so that JAX code runs unchanged.

    >>> import numpy as np, xform
    >>> xform.block_until_ready({'a': np.ones(2)})
    {'a': array([1., 1.])}
    """
    def ready(leaf):
        method = getattr(leaf, "block_until_ready", None)
        return method() if callable(method) and not isinstance(leaf, type) else leaf

    return tree_map(ready, x)


def effects_barrier() -> None:
    """Wait for pending side effects (``debug.print``, ``io_callback``) to finish: they run
    synchronously in xform, so there is nothing to wait for (JAX's
    ``jax.effects_barrier``).

    >>> import xform
    >>> xform.effects_barrier()
    """
    return None


def named_call(fun: Callable, *, name: str | None = None) -> Callable:
    """``fun`` under another name, which xform uses where it names functions (errors,
    ``jit``'s compile logs and kernels of jitted callers built from it).

    >>> import xform
    >>> xform.named_call(lambda x: x + 1, name="inc").__name__
    'inc'
    """
    new_name = name if name is not None else fun_name(fun)

    @functools.wraps(fun)
    def named(*args, **kwargs):
        return fun(*args, **kwargs)

    named.__name__ = new_name
    named.__qualname__ = new_name
    return named


@contextlib.contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """Context manager: ``jit``-decorated functions run un-jitted (plain Python and numpy,
    so prints, breakpoints and ``float(x)`` work); the same as
    ``xform.config.update("jax_disable_jit", True)`` for the duration. Process-wide.

    >>> import numpy as np, xform
    >>> @xform.jit
    ... def f(x):
    ...     print(type(x).__name__)
    ...     return x * 2
    >>> with xform.disable_jit():
    ...     f(np.ones(2))
    ndarray
    array([2., 2.])
    """
    prev = config.disable_jit
    config.update("jax_disable_jit", bool(disable))
    try:
        yield
    finally:
        config.update("jax_disable_jit", prev)


@contextlib.contextmanager
def ensure_compile_time_eval() -> Iterator[None]:
    """Context manager: inside ``jit`` (or ``make_jaxpr``), operations on values known
    at trace time (constants, static arguments, their results) are computed right away
    instead of being staged into the compiled program, so their results are concrete
    (``float(x)``, Python ``if`` work). Operations on traced arguments are still traced.
    Outside ``jit`` it changes nothing.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> @xform.jit
    ... def f(x):
    ...     with xform.ensure_compile_time_eval():
    ...         n = xnp.sum(xnp.arange(4.0))   # computed while tracing: a concrete 6.0
    ...     return x * float(n)
    >>> f(np.ones(2))
    array([6., 6.])
    """
    st = state()
    prev = st.dynamic
    st.dynamic = st.stack[0]  # the eval interpreter is the floor: constants evaluate
    try:
        yield
    finally:
        st.dynamic = prev


@contextlib.contextmanager
def named_scope(name: str) -> Iterator[None]:
    """Context manager naming a region of a traced program (JAX's ``jax.named_scope``,
    which labels profiler traces and compiled-code metadata). xform has no profiler
    annotations, so the name is checked and the region runs unchanged.

    >>> import xform, xform.numpy as xnp
    >>> def layer(x):
    ...     with xform.named_scope("dense"):
    ...         return xnp.tanh(x)
    >>> float(xform.jit(layer)(0.5))
    0.46211715726000974
    """
    if not isinstance(name, str):
        raise TypeError(f"named_scope: the name must be a string, got {type(name).__name__}.")
    yield


def linear_transpose(fun: Callable, *primals, reduce_axes=()) -> Callable:
    """The transpose of a *linear* function: ``fun_t(out_cotangent)`` returns a tuple with
    one cotangent per primal (``primals`` only give shapes and dtypes; the function is
    not linearized, so a non-linear operation is an error).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> f_t = xform.linear_transpose(lambda x: A @ x, np.zeros(2))
    >>> f_t(np.array([1.0, 0.0, 1.0]))  # A.T @ ct
    (array([6., 8.]),)
    """
    name = fun_name(fun)
    where = f"linear_transpose of {name}"
    if reduce_axes:
        raise NotImplementedError(f"{where}: reduce_axes (named axes) is not supported.")
    leaves, in_tree = tree_flatten(primals)
    in_avals = [_aval_of(x, where).strip_weak() for x in leaves]
    for i, a in enumerate(in_avals):
        if a.dtype.kind not in "fc":
            raise TypeError(f"{where}: linear_transpose only supports float and complex "
                            f"inputs, but input {i} is {a.str_short()}.")
    flat, store = flatten_fun(fun, in_tree)
    jaxpr, consts = trace_to_jaxpr(flat, in_avals, name="linear_transpose")
    closed, tracer_consts = _hoist_tracers(jaxpr, consts)
    out_tree = store["tree"]
    out_avals = closed.out_avals
    for i, a in enumerate(out_avals):
        if a.dtype.kind not in "fc":
            raise TypeError(f"{where}: linear_transpose only supports float and complex "
                            f"outputs, but output {i} is {a.str_short()}.")

    def transposed(out_cotangent):
        ct_leaves, ct_tree = tree_flatten(out_cotangent)
        if ct_tree != out_tree:
            raise TypeError(f"{where}: the cotangent has structure {ct_tree}, but the "
                            f"function's output has structure {out_tree}.")
        for i, (c, a) in enumerate(zip(ct_leaves, out_avals)):
            ca = get_aval(c, where)
            if ca.shape != a.shape or (ca.dtype != a.dtype and not ca.weak_type):
                raise TypeError(f"{where}: cotangent {i} is {ca.str_short()}, but the output "
                                f"it pairs with is {a.str_short()}.")
        args = list(tracer_consts) + [UndefinedPrimal(a) for a in in_avals]
        try:
            cts = backward_pass(closed.jaxpr, closed.consts, args, ct_leaves)
        except NotImplementedError as e:
            raise TypeError(f"{where}: the function is not linear in its inputs ({e}); "
                            f"linear_transpose needs a linear function (use vjp for others)."
                            ) from None
        cts = [instantiate(c) if type(c) is Zero else c for c in cts]
        return tree_unflatten(in_tree, [to_output(c) for c in cts])

    transposed.__name__ = f"transpose_{name}"
    return transposed


def closure_convert(fun: Callable, *example_args) -> tuple[Callable, list]:
    """Hoist the float arrays (and traced values) ``fun`` closes over into arguments:
    returns ``(converted, consts)`` with ``converted(*args, *consts) == fun(*args)``, so
    that ``custom_vjp``/``custom_jvp`` rules can differentiate with respect to them.

    >>> import numpy as np, xform
    >>> w = np.array([2.0, 3.0])
    >>> f, consts = xform.closure_convert(lambda x: x * w, np.ones(2))
    >>> f(np.ones(2), *consts), [c.tolist() for c in consts]
    (array([2., 3.]), [[2.0, 3.0]])
    """
    where = f"closure_convert of {fun_name(fun)}"
    leaves, in_tree = tree_flatten(example_args)
    check_leaves(leaves, where)
    avals = [get_aval(x, where) for x in leaves]
    flat, store = flatten_fun(fun, in_tree)
    jaxpr, consts = trace_to_jaxpr(flat, avals, name="closure_convert")
    out_tree = store["tree"]
    hoist = [isinstance(c, Tracer) or get_aval(c).dtype.kind in "fc" for c in consts]
    hoisted = [c for c, h in zip(consts, hoist) if h]
    kept = [c for c, h in zip(consts, hoist) if not h]
    n_h = len(hoisted)

    def converted(*args_and_consts):
        n = len(args_and_consts) - n_h
        if n < 0:
            raise TypeError(f"{where}: expected the arguments followed by {n_h} hoisted "
                            f"constants, got {len(args_and_consts)} values.")
        args, hc = args_and_consts[:n], args_and_consts[n:]
        a_leaves, a_tree = tree_flatten(tuple(args))
        if a_tree != in_tree:
            raise TypeError(f"{where}: the arguments have structure {a_tree}, but the "
                            f"example arguments had structure {in_tree}.")
        it_h, it_k = iter(hc), iter(kept)
        all_consts = [next(it_h) if h else next(it_k) for h in hoist]
        outs = eval_jaxpr(jaxpr, all_consts, *a_leaves)
        return tree_unflatten(out_tree, [to_output(o) for o in outs])

    converted.__name__ = fun_name(fun)
    return converted, hoisted


class _VjpRule:
    """The traced backward rule of ``custom_gradient``, carried as residuals: its
    constants are the children (arrays, maybe traced), its program the static part."""

    def __init__(self, jaxpr, consts, in_tree, out_tree, out_is_leaf):
        self.jaxpr, self.consts = jaxpr, list(consts)
        self.in_tree, self.out_tree, self.out_is_leaf = in_tree, out_tree, out_is_leaf


register_pytree_node(
    _VjpRule, lambda r: (tuple(r.consts), (r.jaxpr, r.in_tree, r.out_tree, r.out_is_leaf)),
    lambda aux, consts: _VjpRule(aux[0], consts, *aux[1:]))


def custom_gradient(fun: Callable) -> Callable:
    """Define a function and its VJP together: ``fun(*args)`` returns
    ``(output, vjp_fn)`` where ``vjp_fn(output_cotangent)`` returns one cotangent per
    argument (a tuple, or the cotangent itself for a single argument).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> @xform.custom_gradient
    ... def log1pexp(x):
    ...     e = xnp.exp(x)
    ...     return xnp.log1p(e), lambda g: (g * (1 - 1 / (1 + e)),)
    >>> xform.grad(log1pexp)(0.0)
    np.float64(0.5)
    """
    from .lax.custom_derivatives import custom_vjp

    name = fun_name(fun)
    where = f"custom_gradient function {name}"

    def primal(*args):
        return fun(*args)[0]

    primal.__name__ = name
    wrapped = custom_vjp(primal)

    def fwd(*args):
        res = fun(*args)
        if not (isinstance(res, (tuple, list)) and len(res) == 2 and callable(res[1])):
            raise TypeError(f"{where}: the function must return a pair (output, vjp_fn).")
        out, rule = res
        o_leaves, o_tree = tree_flatten(out)
        ct_avals = [get_aval(o, where).strip_weak() for o in o_leaves]

        def flat_rule(*cts):
            r = rule(tree_unflatten(o_tree, list(cts)))
            leaves, tree = tree_flatten(r)
            store["tree"] = tree
            return leaves

        store: dict = {}
        jaxpr, consts = trace_to_jaxpr(flat_rule, ct_avals, name="custom_gradient")
        return out, _VjpRule(jaxpr, consts, o_tree, store["tree"], len(args) == 1)

    def bwd(res: _VjpRule, ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != res.in_tree:
            raise TypeError(f"{where}: the cotangent has structure {ct_tree}, but the output "
                            f"has structure {res.in_tree}.")
        outs = eval_jaxpr(res.jaxpr, res.consts, *ct_leaves)
        cts = tree_unflatten(res.out_tree, outs)
        if not isinstance(cts, (tuple, list)) and res.out_is_leaf:
            cts = (cts,)
        return tuple(cts)

    wrapped.defvjp(fwd, bwd)
    wrapped.__doc__ = fun.__doc__
    return wrapped
