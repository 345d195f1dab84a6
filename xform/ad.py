"""Automatic differentiation API: jvp, linearize, vjp, grad, value_and_grad, hvp,
jacfwd, jacrev, hessian, check_grads (and autograd's elementwise_grad). All accept and return pytrees."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._util import (check_leaves, flatten_fun, fun_name, normalize_argnums, plain_leaves,
                    to_output)
from .core.abstract import ShapedArray
from .core.dtypes import float0, tangent_dtype
from .core.pytree import tree_flatten, tree_map, tree_unflatten
from .core.trace import Tracer, get_aval
from .interpreters.jvp import Zero, instantiate, jvp_flat
from .interpreters.linearize import linearize_flat


def _zeros_out(t, aval: ShapedArray):
    if type(t) is Zero:
        dt = tangent_dtype(aval.dtype)
        if dt == float0:
            return np.zeros(aval.shape, dtype=float0)
        return instantiate(Zero(ShapedArray(aval.shape, dt)))
    return t


def _check_tangent(p, t, where: str, i: int):
    pa, ta = get_aval(p, where), get_aval(t, where) if not (
        isinstance(t, np.ndarray) and t.dtype == float0) else ShapedArray(np.shape(t), float0)
    if pa.shape != ta.shape:
        raise ValueError(
            f"{where}: tangent {i} has shape {ta.shape} but its primal has shape {pa.shape}; "
            f"each tangent must have its primal's shape."
        )
    if pa.dtype.kind in "fc":
        if ta.dtype != pa.dtype and not ta.weak_type:
            raise TypeError(
                f"{where}: tangent {i} has dtype {ta.dtype} but its primal has dtype "
                f"{pa.dtype}; tangent dtypes must equal primal dtypes."
            )
    elif ta.dtype != float0 and ta.dtype.kind in "fc":
        raise TypeError(
            f"{where}: primal {i} is {pa.str_short()} (integer/boolean), so its tangent must "
            f"have dtype float0 (numpy.zeros(shape, xform.float0)), got {ta.dtype}."
        )


def jvp(fun: Callable, primals: Sequence, tangents: Sequence,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Forward-mode derivative: ``(fun(*primals), J(primals) @ tangents)``; with
    ``has_aux``, ``fun`` returns ``(output, aux)`` and the result is
    ``(output, tangent, aux)``.

    >>> import xform, xform.numpy as xnp
    >>> xform.jvp(xnp.sin, (0.0,), (1.0,))
    (np.float64(0.0), np.float64(1.0))
    """
    if has_aux:
        name = fun_name(fun)

        store: dict = {}

        def with_aux(*args):
            r = fun(*args)
            if not (isinstance(r, tuple) and len(r) == 2):
                raise TypeError(f"jvp of {name} with has_aux=True: the function must return "
                                f"a pair (output, aux), got {type(r).__name__}.")
            # traced aux leaves leave as outputs; others (Python objects, constants) aside
            aux_leaves, store["tree"] = tree_flatten(r[1])
            store["static"] = [None if isinstance(a, Tracer) else a for a in aux_leaves]
            return r[0], [a for a in aux_leaves if isinstance(a, Tracer)]

        (out, traced), (t_out, _) = jvp(with_aux, primals, tangents)
        it = iter(traced)
        aux = tree_unflatten(store["tree"], [next(it) if a is None else a
                                             for a in store["static"]])
        return out, t_out, aux
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples or lists of arguments.")
    p_leaves, p_tree = tree_flatten(tuple(primals))
    p_leaves = plain_leaves(p_leaves)
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    t_leaves = plain_leaves(t_leaves)
    if p_tree != t_tree:
        raise TypeError(f"jvp: primal structure {p_tree} differs from tangent structure {t_tree}.")
    check_leaves(p_leaves, "jvp")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        _check_tangent(p, t, "jvp", i)
    ts = [
        t if get_aval(p).dtype.kind in "fc" else Zero.like(p) for p, t in zip(p_leaves, t_leaves)
    ]
    ts = [_cast_tangent(p, t) for p, t in zip(p_leaves, ts)]
    flat, store = flatten_fun(fun, p_tree)
    outs, t_outs = jvp_flat(lambda *xs: flat(*xs), p_leaves, ts)
    out_tree = store["tree"]
    t_outs = [_zeros_out(t, get_aval(o)) for o, t in zip(outs, t_outs)]
    return (tree_unflatten(out_tree, [to_output(o) for o in outs]),
            tree_unflatten(out_tree, [to_output(t) for t in t_outs]))


def _cast_tangent(p, t):
    if type(t) is Zero:
        return t
    pa = get_aval(p)
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return np.asarray(t, dtype=pa.dtype)[()] if pa.shape == () else t
    return t


def linearize(fun: Callable, *primals) -> tuple[Any, Callable]:
    """Returns ``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the JVP
    with the linearization point's work done once.

    >>> import xform, xform.numpy as xnp
    >>> y, f_jvp = xform.linearize(xnp.sin, 0.0)
    >>> f_jvp(2.0)
    np.float64(2.0)
    """
    p_leaves, p_tree = tree_flatten(tuple(primals))
    p_leaves = plain_leaves(p_leaves)
    check_leaves(p_leaves, "linearize")
    flat, store = flatten_fun(fun, p_tree)
    outs, lin = linearize_flat(flat, p_leaves)
    out_tree = store["tree"]

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tuple(tangents))
        t_leaves = plain_leaves(t_leaves)
        if t_tree != p_tree:
            raise TypeError(
                f"linearize: the linearized function expects tangents with structure "
                f"{p_tree}, got {t_tree}.")
        for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
            _check_tangent(p, t, "linearize", i)
        t_outs = lin.apply([_cast_tangent(p, t) for p, t in zip(p_leaves, t_leaves)])
        t_outs = [_zeros_out(t, get_aval(o)) for o, t in zip(outs, t_outs)]
        return tree_unflatten(out_tree, [to_output(t) for t in t_outs])

    return tree_unflatten(out_tree, [to_output(o) for o in outs]), f_jvp


def _is_array_leaf(x) -> bool:
    """Whether an auxiliary output leaf is array data (carried out of the
    transformation) rather than a Python object returned as it is."""
    return isinstance(x, (Tracer, np.ndarray, np.generic, bool, int, float, complex))


def _vjp(fun, primals, has_aux: bool, where: str, checked: bool = False):
    """Returns ``(out, vjp_fn, aux, pull_flat)``; ``pull_flat(ct_leaves)`` is ``vjp_fn``
    for flat cotangents already known to match the outputs (no checks)."""
    p_leaves, p_tree = tree_flatten(tuple(primals))
    p_leaves = plain_leaves(p_leaves)
    if not checked:
        check_leaves(p_leaves, where)
    aux_store: dict = {}

    if has_aux:
        def f_main(*args):
            out = fun(*args)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(
                    f"{where}: with has_aux=True the function must return a pair "
                    f"(output, auxiliary data), got {type(out).__name__}.")
            out, aux_store["aux"] = out
            return out
    else:
        f_main = fun

    def flat(*leaves):
        # aux rides along as extra outputs so it leaves the transformation lowered; its
        # leaves that are not arrays (strings, None, other Python objects) stay aside
        out = f_main(*tree_unflatten(p_tree, leaves))
        out_leaves, out_tree = tree_flatten(out)
        aux_leaves, aux_tree = tree_flatten(aux_store.get("aux"))
        is_arr = [_is_array_leaf(a) for a in aux_leaves]
        aux_store["static"] = [None if k else a for a, k in zip(aux_leaves, is_arr)]
        aux_store["trees"] = (out_tree, aux_tree)
        arrays = [a for a, k in zip(aux_leaves, is_arr) if k]
        return out_leaves + arrays if arrays else out_leaves

    outs_all, lin = linearize_flat(flat, p_leaves)
    out_tree, aux_tree = aux_store["trees"]
    n_out = out_tree.num_leaves
    outs = outs_all[:n_out] if len(outs_all) != n_out else outs_all
    it = iter(outs_all[n_out:])
    aux = tree_unflatten(aux_tree, [to_output(next(it)) if s is None else s
                                    for s in aux_store["static"]])
    out_avals = [get_aval(o) for o in outs]

    def pull_flat(cts):
        n_aux = len(lin.out_avals) - n_out
        if n_aux:
            cts = cts + [Zero(a) for a in lin.out_avals[n_out:]]
        in_cts = lin.transpose(cts)
        in_cts = [_zeros_out(c, get_aval(p)) for p, c in zip(p_leaves, in_cts)]
        return tuple(tree_unflatten(p_tree, [to_output(c) for c in in_cts]))

    def vjp_fn(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        ct_leaves = plain_leaves(ct_leaves)
        if ct_tree != out_tree:
            raise TypeError(
                f"vjp: the cotangent has structure {ct_tree} but the function output has "
                f"structure {out_tree}.")
        cts = []
        for i, (c, a) in enumerate(zip(ct_leaves, out_avals)):
            if isinstance(c, np.ndarray) and c.dtype == float0:
                cts.append(Zero(a))
                continue
            ca = get_aval(c, "vjp")
            if ca.shape != a.shape:
                raise ValueError(
                    f"vjp: cotangent {i} has shape {ca.shape} but the output it pairs with "
                    f"has shape {a.shape}.")
            if a.dtype.kind == "f" and ca.dtype.kind == "c":
                raise ValueError(
                    f"vjp: cotangent {i} is complex ({ca.str_short()}) but the output it "
                    f"pairs with is real ({a.str_short()}); converting it would drop its "
                    f"imaginary part. Pass a real cotangent (e.g. ct.real), or make the "
                    f"output complex.")
            if a.dtype.kind in "fc" and ca.dtype != a.dtype:
                from . import lax

                c = lax.convert_element_type(c, a.dtype)
            cts.append(c)
        return pull_flat(cts)

    out = tree_unflatten(out_tree, [to_output(o) for o in outs])
    return out, vjp_fn, aux, pull_flat


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Reverse-mode: returns ``(fun(*primals), vjp_fn[, aux])``; ``vjp_fn(ct)`` returns a
    tuple with one cotangent per primal.

    >>> import xform, xform.numpy as xnp
    >>> y, f_vjp = xform.vjp(xnp.sin, 0.0)
    >>> f_vjp(1.0)
    (np.float64(1.0),)
    """
    out, fn, aux, _ = _vjp(fun, primals, has_aux, "vjp")
    return (out, fn, aux) if has_aux else (out, fn)


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
                   allow_int: bool = False) -> Callable:
    """Like ``grad`` but returns ``(value, gradient)`` (``((value, aux), gradient)`` with aux).

    >>> import xform, xform.numpy as xnp
    >>> xform.value_and_grad(lambda x: x ** 2)(3.0)
    (np.float64(9.0), np.float64(6.0))
    """
    name = fun_name(fun)
    where = f"grad of {name}"

    def value_and_grad_f(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), where)
        _check_diff_inputs(args, nums, where, holomorphic, allow_int)

        if nums == (0,) and len(args) == 1 and not kwargs:  # differentiate fun itself
            partial_f = fun
        else:
            def partial_f(*diff_args):
                full = list(args)
                for i, a in zip(nums, diff_args):
                    full[i] = a
                return fun(*full, **kwargs)

        out, _, aux, pull_flat = _vjp(partial_f, [args[i] for i in nums], has_aux, where,
                                      checked=True)
        out_leaves = tree_flatten(out)[0]
        if len(out_leaves) != 1 or get_aval(out_leaves[0]).shape != ():
            shapes = [get_aval(o).shape for o in out_leaves]
            got = (f"an array of shape {shapes[0]}" if len(shapes) == 1
                   else f"outputs of shapes {shapes}")
            raise TypeError(
                f"grad of {name}: the function must return a scalar (shape ()), but it "
                f"returned {got}. "
                f"Use xform.jacrev or xform.vjp for non-scalar outputs, or reduce it (e.g. .sum()).")
        out_aval = get_aval(out_leaves[0])
        if holomorphic and out_aval.dtype.kind != "c":
            raise TypeError(
                f"grad of {name} with holomorphic=True: the output must be a complex scalar, "
                f"got {out_aval.str_short()}.")
        if not holomorphic and out_aval.dtype.kind not in "f":
            hint = (" For a holomorphic function pass holomorphic=True (the gradient is then "
                    "f'(z)); for other complex outputs use xform.vjp."
                    if out_aval.dtype.kind == "c" else "")
            raise TypeError(
                f"grad of {name}: the output must be a real floating scalar, got "
                f"{out_aval.str_short()}.{hint}")
        # The cotangent 1 has the output's structure, shape and dtype by construction.
        grads = pull_flat([_one(out_aval.dtype)])
        g = grads[0] if single else tuple(grads)
        return ((out, aux) if has_aux else out), g

    value_and_grad_f.__name__ = f"value_and_grad_{name}"
    return value_and_grad_f


_ONES: dict = {}


def _one(dtype):
    one = _ONES.get(dtype)
    if one is None:  # numpy scalars are immutable: one per dtype
        one = _ONES[dtype] = np.ones((), dtype)[()]
    return one


def grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
         allow_int: bool = False) -> Callable:
    """Gradient of a scalar function w.r.t. argument(s) ``argnums``.

    Complex numbers follow JAX: for a real-valued ``f`` of complex ``z = x + iy`` the
    result is ``df/dx - i df/dy`` (the conjugate of the steepest-ascent direction); with
    ``holomorphic=True`` (complex inputs and output) it is the complex derivative
    ``f'(z)``. ``allow_int=True`` gives integer arguments a ``float0`` zero gradient
    instead of an error.

    >>> import xform, xform.numpy as xnp
    >>> xform.grad(xnp.sin)(0.0)
    np.float64(1.0)
    >>> xform.grad(xform.grad(lambda x: x ** 3))(2.0)
    np.float64(12.0)
    >>> xform.grad(lambda z: z ** 2, holomorphic=True)(1.0 + 2.0j)
    np.complex128(2+4j)
    >>> xform.grad(lambda z: xnp.real(z) ** 2 + xnp.imag(z) ** 2)(3.0 + 4.0j)
    np.complex128(6-8j)
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)
    name = fun_name(fun)

    def grad_f(*args, **kwargs):
        (value), g = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    grad_f.__name__ = f"grad_{name}"
    return grad_f


def elementwise_grad(fun: Callable, argnum: int = 0) -> Callable:
    """autograd's ``elementwise_grad``: the gradient of the sum of ``fun``'s outputs w.r.t.
    argument ``argnum`` (one reverse pass with a cotangent of ones). For a function acting
    elementwise it is the derivative of each output element w.r.t. its input element, the
    same shape as the input; it nests (``elementwise_grad(elementwise_grad(f))``).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xform.elementwise_grad(lambda x: x ** 3)(np.array([1.0, 2.0]))
    array([ 3., 12.])
    """
    name = fun_name(fun)
    where = f"elementwise_grad of {name}"

    def egrad_f(*args, **kwargs):
        (num,), _ = normalize_argnums(argnum, len(args), where)
        _check_diff_inputs(args, (num,), where, False, False)

        def partial_f(x):
            return fun(*args[:num], x, *args[num + 1:], **kwargs)

        out, pull = vjp(partial_f, args[num])
        ones = tree_map(lambda o: np.ones(get_aval(o).shape, get_aval(o).dtype), out)
        return pull(ones)[0]

    egrad_f.__name__ = f"elementwise_grad_{name}"
    return egrad_f


def hvp(fun: Callable, primals: Sequence, tangents: Sequence):
    """Hessian-vector product H(primals) @ tangents, forward-over-reverse (jvp of grad).

    Returns the structure of the first primal for one primal, a tuple otherwise.

    >>> import numpy as np, xform
    >>> xform.hvp(lambda x: (x ** 3).sum(), (np.array([1., 2.]),), (np.array([1., 0.]),))
    array([6., 0.])
    """
    primals, tangents = tuple(primals), tuple(tangents)
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(fun, argnums=argnums), primals, tangents)[1]


def _std_basis(leaves):
    """Identity basis over the concatenated flattened leaves: one array per leaf,
    each of shape (N, *leaf.shape)."""
    avals = [get_aval(x) for x in leaves]
    sizes = [a.size for a in avals]
    n = sum(sizes)
    dtype = np.result_type(*[a.dtype for a in avals]) if avals else np.float64
    eye = np.eye(n, dtype=dtype)
    out, start = [], 0
    for a, s in zip(avals, sizes):
        out.append(eye[:, start:start + s].reshape((n,) + a.shape).astype(a.dtype))
        start += s
    return out, sizes


def _check_diff_inputs(args, nums, where: str, holomorphic: bool, allow_int: bool) -> None:
    """grad's input dtypes: floating or complex (complex only with ``holomorphic``), or
    any integer with ``allow_int``."""
    for i in nums:
        for leaf in tree_flatten(args[i])[0]:
            aval = get_aval(leaf, where)
            kind = aval.dtype.kind
            if holomorphic and kind != "c" and not (allow_int and kind in "biu"):
                raise TypeError(
                    f"{where} with holomorphic=True: argument {i} is {aval.str_short()}; "
                    f"holomorphic differentiation needs complex inputs (convert with "
                    f"x.astype(complex)).")
            if kind not in "fc" and not (allow_int and kind in "biu"):
                raise TypeError(
                    f"{where}: argument {i} has dtype {aval.dtype} "
                    f"({aval.str_short()}); gradients are only defined for floating "
                    f"inputs. Pass a float array (e.g. x.astype(float)), exclude it "
                    f"from argnums, or pass allow_int=True for a float0 zero gradient.")


def _check_float_args(args, nums, where, holomorphic: bool = False):
    """Jacobian inputs, as JAX: real floating ones, or complex ones with holomorphic=True
    (forward and reverse Jacobians of non-holomorphic complex functions are not single
    complex matrices: use jvp/vjp, or split into real and imaginary parts)."""
    for i in nums:
        for leaf in tree_flatten(args[i])[0]:
            aval = get_aval(leaf, where)
            if holomorphic and aval.dtype.kind != "c":
                raise TypeError(
                    f"{where} with holomorphic=True: argument {i} is {aval.str_short()}; "
                    f"holomorphic differentiation needs complex inputs (convert with "
                    f"x.astype(complex)).")
            if not holomorphic and aval.dtype.kind == "c":
                raise TypeError(
                    f"{where}: argument {i} is complex ({aval.str_short()}). For a holomorphic "
                    f"function pass holomorphic=True; otherwise use xform.jvp/xform.vjp, or "
                    f"pass the real and imaginary parts as separate real arguments.")
            if aval.dtype.kind not in "fc":
                raise TypeError(
                    f"{where}: argument {i} has dtype {aval.dtype}; Jacobians need floating "
                    f"inputs (convert it with .astype(float)).")


def _rows(x, start: int, stop: int):
    from . import lax

    if start == 0 and stop == get_aval(x).shape[0]:
        return x
    return lax.slice_in_dim(x, start, stop, 1, 0)


def _reshape_jac(block, out_shape, in_shape, in_first: bool):
    """``block`` is (n_in, *out) (in_first) or (n_out, *in); return out + in layout."""
    from . import lax

    if in_first:
        b = lax.reshape(block, (int(np.prod(in_shape, dtype=int)),) + tuple(out_shape))
        b = lax.moveaxis(b, 0, -1) if len(out_shape) else b
        return lax.reshape(b, tuple(out_shape) + tuple(in_shape))
    return lax.reshape(block, tuple(out_shape) + tuple(in_shape))


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False,
           holomorphic: bool = False) -> Callable:
    """Jacobian by forward mode (vmap of jvp over a basis); layout out.shape + in.shape.
    Inputs are real, or complex with ``holomorphic=True`` (the Jacobian is then f'(z)).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xform.jacfwd(xnp.sin)(np.zeros(2))
    array([[1., 0.],
           [0., 1.]])
    """
    from .vmap import vmap

    name = fun_name(fun)

    def jac_f(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), f"jacfwd of {name}")
        _check_float_args(args, nums, f"jacfwd of {name}", holomorphic)
        diff = tuple(args[i] for i in nums)
        d_leaves, d_tree = tree_flatten(diff)

        def f_flat(*leaves):
            full = list(args)
            for i, a in zip(nums, tree_unflatten(d_tree, leaves)):
                full[i] = a
            return fun(*full, **kwargs)  # keyword arguments are not differentiated

        basis, sizes = _std_basis(d_leaves)

        def push(*t_leaves):
            if has_aux:  # aux leaves jvp as a primal output (not a tracer of its trace)
                return jvp(f_flat, tuple(d_leaves), tuple(t_leaves), has_aux=True)
            y, t = jvp(f_flat, tuple(d_leaves), tuple(t_leaves))
            return y, t, None

        y, jac_cols, aux = vmap(push, in_axes=0, out_axes=(None, 0, None))(*basis)
        y_leaves, y_tree = tree_flatten(y)
        col_leaves = tree_flatten(jac_cols)[0]
        out_leaves = []
        for yl, cl in zip(y_leaves, col_leaves):
            oshape = get_aval(yl).shape
            parts, start = [], 0
            for dl, s in zip(d_leaves, sizes):
                blk = _rows(cl, start, start + s)
                parts.append(to_output(_reshape_jac(blk, oshape, get_aval(dl).shape, True)))
                start += s
            out_leaves.append(tree_unflatten(d_tree, parts)[0] if single else
                              tree_unflatten(d_tree, parts))
        jac = tree_unflatten(y_tree, out_leaves)
        return (jac, aux) if has_aux else jac

    jac_f.__name__ = f"jacfwd_{name}"
    return jac_f


def jacrev(fun: Callable, argnums=0, has_aux: bool = False,
           holomorphic: bool = False) -> Callable:
    """Jacobian by reverse mode (vmap of vjp over an output basis); layout out + in.
    Inputs and outputs are real, or complex with ``holomorphic=True`` (f'(z)).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xform.jacrev(lambda x: x ** 2)(np.array([1., 2.]))
    array([[2., 0.],
           [0., 4.]])
    """
    from .vmap import vmap

    name = fun_name(fun)

    def jac_f(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), f"jacrev of {name}")
        _check_float_args(args, nums, f"jacrev of {name}", holomorphic)
        diff = tuple(args[i] for i in nums)

        def partial_f(*diff_args):
            full = list(args)
            for i, a in zip(nums, diff_args):
                full[i] = a
            return fun(*full, **kwargs)  # keyword arguments are not differentiated

        out, vjp_fn, aux, _ = _vjp(partial_f, diff, has_aux, f"jacrev of {name}")
        y_leaves, y_tree = tree_flatten(out)
        for yl in y_leaves:
            ya = get_aval(yl)
            if holomorphic and ya.dtype.kind != "c":
                raise TypeError(
                    f"jacrev of {name} with holomorphic=True: outputs must be complex, got "
                    f"{ya.str_short()}.")
            if ya.dtype.kind == "c" and not holomorphic:
                raise TypeError(
                    f"jacrev of {name}: outputs must be real for reverse mode, got "
                    f"{ya.str_short()}. Use jacfwd for complex outputs, holomorphic=True for "
                    f"a holomorphic function, or return the real and imaginary parts "
                    f"(xnp.real, xnp.imag) as separate outputs.")
        basis, sizes = _std_basis(y_leaves)
        d_leaves, d_tree = tree_flatten(diff)
        if y_leaves:
            def pull(*ct_leaves):
                return vjp_fn(tree_unflatten(y_tree, list(ct_leaves)))

            rows = vmap(pull)(*basis)
        row_leaves = tree_flatten(rows)[0] if y_leaves else []
        out_leaves, start = [], 0
        for yl, s in zip(y_leaves, sizes):
            oshape = get_aval(yl).shape
            parts = [to_output(_reshape_jac(_rows(r, start, start + s), oshape, get_aval(dl).shape, False))
                     for r, dl in zip(row_leaves, d_leaves)]
            start += s
            out_leaves.append(tree_unflatten(d_tree, parts)[0] if single else
                              tree_unflatten(d_tree, parts))
        jac = tree_unflatten(y_tree, out_leaves)
        return (jac, aux) if has_aux else jac

    jac_f.__name__ = f"jacrev_{name}"
    return jac_f


def hessian(fun: Callable, argnums=0, has_aux: bool = False,
            holomorphic: bool = False) -> Callable:
    """Hessian = jacfwd(jacrev(fun)); layout out.shape + in.shape + in.shape.

    >>> import numpy as np, xform
    >>> xform.hessian(lambda x: (x ** 3).sum())(np.array([1., 2.]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def check_grads(f: Callable, args: Sequence, order: int = 2, modes=("fwd", "rev"),
                eps: float | None = None, atol: float | None = None,
                rtol: float | None = None) -> None:
    """Check jvp and vjp of ``f`` against central finite differences, recursively to
    ``order``. Raises AssertionError naming the mode, order and largest error. The step
    ``eps`` (times the arguments' largest magnitude, if above 1) and the tolerances
    default by the arguments' precision (float64: 1e-6 and 1e-5; float32: 1e-3 and
    2e-2; float16: 3e-2 and 1e-1).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> xform.check_grads(xnp.sin, (np.array([0.3, 1.2]),), order=2)
    """
    args = tuple(args)
    rng = np.random.default_rng(0)
    leaves = tree_flatten(args)[0]
    for i, x in enumerate(leaves):
        a = get_aval(x, "check_grads")
        if a.dtype.kind not in "fc":
            raise TypeError(
                f"check_grads: argument leaf {i} is {a.str_short()}; finite differences need "
                f"floating (or complex) arguments. Pass floats, or close over the integers "
                f"(check_grads(lambda x: f(x, n), (x,))).")
    dts = {get_aval(x).dtype for x in leaves}
    half = np.dtype(np.float16) in dts
    low = half or bool(dts & {np.dtype(np.float32), np.dtype(np.complex64)})
    if eps is None:
        # a step relative to the arguments' size, coarser for lower precision (a float16
        # step below the resolution would make the difference quotient 0)
        scale = max([1.0] + [float(np.max(np.abs(np.asarray(x, np.float64)), initial=0.0))
                             for x in leaves])
        eps = (3e-2 if half else 1e-3 if low else 1e-6) * scale
    atol = (1e-1 if half else 2e-2 if low else 1e-5) if atol is None else atol
    rtol = (1e-1 if half else 2e-2 if low else 1e-5) if rtol is None else rtol

    def rand_like(x):
        a = get_aval(x)
        return np.asarray(rng.standard_normal(a.shape), dtype=a.dtype)

    def assert_close(a, b, mode, k):
        for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            err = np.max(np.abs(x - y), initial=0.0)
            tol = atol + rtol * np.max(np.abs(y), initial=0.0)
            if not err <= tol:
                raise AssertionError(
                    f"check_grads: {mode} mode at order {k}: largest error {err:.3g} exceeds "
                    f"tolerance {tol:.3g} (autodiff {x!r} vs numerical {y!r}).")

    def numerical_jvp(fn, xs, ts):
        plus = fn(*tree_map(lambda x, t: x + eps * t, xs, ts))
        minus = fn(*tree_map(lambda x, t: x - eps * t, xs, ts))
        return tree_map(lambda p, m: (np.asarray(p) - np.asarray(m)) / (2 * eps), plus, minus)

    def check(fn, xs, k):
        ts = tree_map(rand_like, xs)
        if "fwd" in modes:
            _, t_out = jvp(fn, xs, ts)
            assert_close(t_out, numerical_jvp(fn, xs, ts), "fwd", k)
        if "rev" in modes:
            out, vjp_fn = vjp(fn, *xs)
            ct = tree_map(rand_like, out)
            cts = vjp_fn(ct)
            # <ct, J t> must equal <J^T ct, t>
            num = numerical_jvp(fn, xs, ts)
            lhs_num = sum(np.vdot(np.asarray(a), np.asarray(b))
                          for a, b in zip(tree_flatten(ct)[0], tree_flatten(num)[0]))
            rhs = sum(np.vdot(np.asarray(a), np.asarray(b))
                      for a, b in zip(tree_flatten(cts)[0], tree_flatten(ts)[0]))
            assert_close(rhs, lhs_num, "rev", k)
            if "fwd" in modes:
                _, t_out = jvp(fn, xs, ts)
                lhs = sum(np.vdot(np.asarray(a), np.asarray(b))
                          for a, b in zip(tree_flatten(ct)[0], tree_flatten(t_out)[0]))
                assert_close(rhs, lhs, "rev", k)
        if k < order:
            if "rev" in modes:
                def vjp_of(*xs_ct):
                    xs_, ct_ = xs_ct[:-1], xs_ct[-1]
                    return vjp(fn, *xs_)[1](ct_)
                out = fn(*xs)
                check(vjp_of, xs + (tree_map(rand_like, out),), k + 1)
            if "fwd" in modes:
                def jvp_of(*xs_):
                    return jvp(fn, xs_, ts)[1]
                check(jvp_of, xs, k + 1)

    check(f, args, 1)
