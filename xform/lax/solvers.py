"""Implicit differentiation of solves: ``custom_linear_solve`` and ``custom_root``
(JAX's ``jax.lax`` API).

A solver is usually an iteration (a ``while_loop``): differentiating *through* it would
differentiate every iteration (and reverse mode through a ``while_loop`` is impossible).
These functions instead define the derivative of the *solution* by the implicit function
theorem, so it costs one more solve and does not depend on how the solution was found:

- ``custom_linear_solve(matvec, b, solve)``: ``x = A^{-1} b`` with ``A = matvec``. Then
  ``dx = A^{-1} (db - dA x)`` (forward mode: one more ``solve``), and the transpose
  (reverse mode) is a solve with ``A^T`` (``transpose_solve`` on ``vecmat``, the
  transpose of ``matvec`` computed by autodiff).
- ``custom_root(f, x0, solve, tangent_solve)``: ``x*`` with ``f(x*) = 0``, ``f`` closing
  over parameters ``theta``. Then ``dx* = -(d_x f)^{-1} d_theta f`` where the linear
  system is solved by ``tangent_solve`` (typically a ``custom_linear_solve`` itself, so
  reverse mode transposes it).

Primitive and parameters (for interpreters and the Numba backend)
-----------------------------------------------------------------

``linear_solve`` (``linear_solve_p``, multiple results)
    operands: ``*consts, *b``. ``consts`` are the values the four programs close over
    (deduplicated, shared by all of them); ``b`` the leaves of the right-hand side.
    params: ``matvec``, ``vecmat``, ``solve``, ``transpose_solve``: ``ClosedJaxpr``\\ s
    taking ``consts + vector leaves`` (``vecmat`` and ``transpose_solve`` are None when
    no transpose solve was given); ``matvec``/``vecmat`` return the vector leaves,
    ``solve``/``transpose_solve`` the solution leaves followed by any auxiliary outputs
    (``has_aux``). ``num_consts``: how many operands are ``consts``.
    Meaning: ``outs = solve(*consts, *b)``. Lowering: inline ``solve``.
    JVP: ``linear_solve(consts, db - dA x)`` (aux outputs get zero tangents); transpose
    (linear in ``b`` only): the same primitive with ``matvec <-> vecmat`` and
    ``solve <-> transpose_solve``.

``custom_root`` is a ``custom_jvp`` function (``custom_jvp_call``) over the closed-over
values of ``f``, ``solve`` and the tangent solve, as in JAX.
"""
from __future__ import annotations

from typing import Any, Callable

from .._util import fun_name
from ..core.abstract import ShapedArray
from ..core.check import call_signature
from ..core.ir import ClosedJaxpr, Jaxpr
from ..core.primitive import Primitive
from ..core.pytree import tree_flatten, tree_structure, tree_unflatten
from ..core.trace import get_aval
from ..interpreters.jvp import Zero, instantiate, jvp_flat
from ..interpreters.linearize import linearize_flat
from ..interpreters.transforms import (
    batch_jaxpr,
    bcast_batch,
    dce_jaxpr,
    jvp_jaxpr,
    move_batch,
    run,
    tangent_aval,
    zeros_of,
)
from ..interpreters.transpose import is_undefined
from . import elementwise as _ew
from .control_flow.common import _pad_consts, _unify_consts, coerce_outputs, signature, trace_fun
from .custom_derivatives import custom_jvp

__all__ = ["custom_linear_solve", "custom_root", "linear_solve_p"]

linear_solve_p = Primitive("linear_solve", multiple_results=True)

_PROGRAMS = ("matvec", "vecmat", "solve", "transpose_solve")


def _split(args, num_consts):
    return list(args[:num_consts]), list(args[num_consts:])


def _ls_impl(*args, matvec, vecmat, solve, transpose_solve, num_consts):
    return coerce_outputs(run(solve, *args), solve.out_avals)


def _ls_abstract(*avals, matvec, vecmat, solve, transpose_solve, num_consts):
    _, b = _split(avals, num_consts)
    want = matvec.out_avals
    if len(b) != len(want) or any(a.shape != w.shape or a.dtype != w.dtype
                                  for a, w in zip(b, want)):
        raise TypeError(f"linear_solve: the right-hand side {[a.str_short() for a in b]} does "
                        f"not match matvec's output {[a.str_short() for a in want]}")
    return [ShapedArray(a.shape, a.dtype) for a in solve.out_avals]


def _tangent_of_matvec(matvec: ClosedJaxpr, const_nz: tuple, nb: int):
    """The program ``(consts, x, nonzero const tangents) -> dA x`` (the JVP of matvec
    with respect to its closed-over values only), primal outputs removed. Memoized."""
    key = ("linear_solve_dA", const_nz)
    hit = matvec.cache.get(key)
    if hit is not None:
        return hit
    joint, out_nz = jvp_jaxpr(matvec, const_nz + (False,) * nb)
    j = joint.jaxpr
    n_out = len(matvec.out_avals)
    tj = ClosedJaxpr(dce_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars[n_out:], j.eqns)),
                     joint.consts)
    matvec.cache[key] = hit = (tj, out_nz)
    return hit


def _ls_jvp(primals, tangents, **params):
    nc = params["num_consts"]
    outs = linear_solve_p.bind(*primals, **params)
    consts, _ = _split(primals, nc)
    c_dot, b_dot = _split(tangents, nc)
    nb = len(b_dot)
    x = outs[:nb]
    aux_zeros = [Zero.like(o) for o in outs[nb:]]
    # rhs = db - dA x
    rhs = list(b_dot)
    const_nz = tuple(type(t) is not Zero for t in c_dot)
    if any(const_nz):
        tj, out_nz = _tangent_of_matvec(params["matvec"], const_nz, nb)
        dax = iter(run(tj, *consts, *x, *[t for t in c_dot if type(t) is not Zero]))
        for i, nz in enumerate(out_nz):
            if nz:
                d = next(dax)
                rhs[i] = _ew.neg(d) if type(rhs[i]) is Zero else _ew.sub(rhs[i], d)
    if all(type(r) is Zero for r in rhs):
        return outs, [Zero.like(o) for o in outs]
    rhs = [instantiate(r, tangent_aval(get_aval(xi))) for r, xi in zip(rhs, x)]
    x_dot = linear_solve_p.bind(*consts, *rhs, **params)
    return outs, list(x_dot[:nb]) + aux_zeros


def _ls_transpose(cts, *args, matvec, vecmat, solve, transpose_solve, num_consts):
    if transpose_solve is None:
        raise TypeError("custom_linear_solve: transpose_solve is required for reverse-mode "
                        "differentiation (grad, vjp, jacrev); pass transpose_solve=..., or "
                        "symmetric=True when the linear map is symmetric.")
    consts, b = _split(args, num_consts)
    if any(is_undefined(c) for c in consts):
        raise TypeError("custom_linear_solve: the solution is not linear in the values matvec "
                        "closes over, so it cannot be transposed with respect to them "
                        "(internal error: their tangents belong to the JVP rule).")
    nb = len(b)
    x_cts = cts[:nb]
    if all(type(c) is Zero for c in x_cts):
        return [None] * num_consts + [Zero(tangent_aval(a.aval)) if is_undefined(a) else None
                                      for a in b]
    avals = [a.aval if is_undefined(a) else get_aval(a) for a in b]
    x_cts = [instantiate(c, tangent_aval(a)) for c, a in zip(x_cts, avals)]
    ct_b = linear_solve_p.bind(*consts, *x_cts, matvec=vecmat, vecmat=matvec,
                               solve=transpose_solve, transpose_solve=solve,
                               num_consts=num_consts)[:nb]
    return [None] * num_consts + [c if is_undefined(a) else None for c, a in zip(ct_b, b)]


def _ls_batch(vals, dims, matvec, vecmat, solve, transpose_solve, num_consts, axis_size):
    # Every vector (and every output) is batched: x depends on b and on A, so a batched
    # b or a batched A both give a batched x, and the four programs must agree.
    vals = [move_batch(v, d, 0) for v, d in zip(vals, dims)]
    consts, b = _split(vals, num_consts)
    cdims, bdims = _split(dims, num_consts)
    b = [bcast_batch(x, axis_size) if d is None else x for x, d in zip(b, bdims)]
    in_dims = tuple(None if d is None else 0 for d in cdims) + (0,) * len(b)

    def batched(j):
        if j is None:
            return None
        return batch_jaxpr(j, in_dims, axis_size, (True,) * len(j.out_avals))[0]

    outs = linear_solve_p.bind(*consts, *b, matvec=batched(matvec), vecmat=batched(vecmat),
                               solve=batched(solve), transpose_solve=batched(transpose_solve),
                               num_consts=num_consts)
    return outs, [0] * len(outs)


linear_solve_p.impl = _ls_impl
linear_solve_p.abstract_eval = _ls_abstract
linear_solve_p.jvp = _ls_jvp
linear_solve_p.transpose = _ls_transpose
linear_solve_p.batch = _ls_batch
linear_solve_p.batch_needs_size = True
linear_solve_p.check_signature = call_signature("solve")


# -- helpers ----------------------------------------------------------------------------


def _check_like(where: str, what: str, out, tree, avals, has_aux: bool):
    """``out`` (a function's result) must have the structure and shapes of the vector
    (``tree``/``avals``); with ``has_aux``, be a pair whose first item does."""
    if has_aux:
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"{where}: with has_aux=True, {what} must return a pair "
                            f"(solution, aux), got {type(out).__name__}")
        out = out[0]
    leaves, t = tree_flatten(out)
    got = [get_aval(x, where) for x in leaves]
    if t != tree or any(a.shape != b.shape for a, b in zip(got, avals)):
        raise TypeError(f"{where}: {what} must return a value with the structure and shapes "
                        f"of the vector, {signature(tree, avals)}, got {signature(t, got)}")


def _checked(fun, where, what, tree, avals, has_aux=False):
    def f(x):
        out = fun(x)
        _check_like(where, what, out, tree, avals, has_aux)
        return out

    return f


def _linear_transpose(fun: Callable, tree, avals) -> Callable:
    """The transpose of the linear function ``fun`` (vector -> vector of the same
    structure), by linearizing it (at zero) and transposing the linear program."""

    def transposed(y):
        y_leaves, y_tree = tree_flatten(y)
        if y_tree != tree:
            raise TypeError(f"custom_linear_solve: vecmat expects {tree}, got {y_tree}")

        def flat(*xs):
            return tree_flatten(fun(tree_unflatten(tree, list(xs))))[0]

        _, lin = linearize_flat(flat, [zeros_of(a) for a in avals], name="custom_linear_solve")
        cts = lin.transpose(list(y_leaves))
        return tree_unflatten(tree, [instantiate(c, tangent_aval(a)) for c, a in zip(cts, avals)])

    return transposed


def _linearized(fun: Callable, x) -> Callable:
    """``t -> d fun(x) [t]`` for a pytree function, linearized once at ``x`` (its
    residuals are computed here, not at every application)."""
    x_leaves, tree = tree_flatten(x)
    store: dict = {}

    def flat(*xs):
        out, out_tree = tree_flatten(fun(tree_unflatten(tree, list(xs))))
        store["tree"] = out_tree
        return out

    _, lin = linearize_flat(flat, list(x_leaves), name="custom_root")
    out_tree = store["tree"]

    def apply(t):
        t_leaves, t_tree = tree_flatten(t)
        if t_tree != tree:
            raise TypeError(f"custom_root: the linearized function expects {tree}, got {t_tree}")
        outs = lin.apply(list(t_leaves))
        return tree_unflatten(out_tree, [instantiate(o, a) for o, a in zip(outs, lin.out_avals)])

    return apply


# -- custom_linear_solve -------------------------------------------------------------------


def custom_linear_solve(matvec: Callable, b: Any, solve: Callable,
                        transpose_solve: Callable | None = None, symmetric: bool = False,
                        has_aux: bool = False) -> Any:
    """A matrix-free linear solve whose derivatives are defined implicitly (JAX's
    ``jax.lax.custom_linear_solve``).

    Returns ``solve(matvec, b)``, assumed to satisfy ``matvec(x) == b``. Derivatives do
    not differentiate ``solve`` (which may be an iteration, a ``while_loop``): the JVP is
    ``A^{-1} (db - dA x)``, one more ``solve``; reverse mode solves with the transpose,
    ``transpose_solve(vecmat, ct)``, where ``vecmat`` (the transpose of ``matvec``) is
    computed by autodiff. ``symmetric=True`` reuses ``solve`` and ``matvec`` for that.
    ``b`` may be a pytree; ``matvec`` returns the same structure. With ``has_aux``,
    ``solve`` and ``transpose_solve`` return ``(x, aux)`` (``aux`` has zero derivatives).

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> from xform import lax
    >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> def solve(matvec, b):              # Richardson iteration: x <- x + (b - A x) / 5
    ...     step = lambda i, x: x + 0.2 * (b - matvec(x))
    ...     return lax.fori_loop(0, 100, step, xnp.zeros_like(b))
    >>> def f(b):
    ...     x = lax.custom_linear_solve(lambda x: xnp.dot(a, x), b, solve, symmetric=True)
    ...     return xnp.sum(x)
    >>> xform.grad(f)(np.array([1.0, 2.0])).round(6)       # A^-T 1, by one more solve
    array([0.181818, 0.272727])
    """
    where = "custom_linear_solve"
    for name, fn in (("matvec", matvec), ("solve", solve)):
        if not callable(fn):
            raise TypeError(f"{where}: {name} must be a callable, got {type(fn).__name__}")
    if transpose_solve is not None and not callable(transpose_solve):
        raise TypeError(f"{where}: transpose_solve must be a callable or None, got "
                        f"{type(transpose_solve).__name__}")
    if transpose_solve is None and symmetric:
        transpose_solve = solve
    b_leaves, args_tree = tree_flatten((b,))
    tree = tree_structure(b)
    avals = [get_aval(x, where) for x in b_leaves]
    for a in avals:
        if a.dtype.kind not in "fc":
            raise TypeError(f"{where}: b must hold floating or complex arrays, got "
                            f"{signature(tree, avals)}")
    mv, mv_c, _ = trace_fun(_checked(matvec, where, "matvec", tree, avals), args_tree, avals, where)
    sv, sv_c, out_tree = trace_fun(
        _checked(lambda x: solve(matvec, x), where, "solve", tree, avals, has_aux),
        args_tree, avals, where)
    programs, const_lists = [mv, None, sv, None], [mv_c, [], sv_c, []]
    if transpose_solve is not None:
        vecmat = matvec if symmetric else _linear_transpose(matvec, tree, avals)
        vm, vm_c, _ = trace_fun(_checked(vecmat, where, "vecmat", tree, avals), args_tree, avals,
                                where)
        ts, ts_c, ts_tree = trace_fun(
            _checked(lambda x: transpose_solve(vecmat, x), where, "transpose_solve", tree, avals,
                     has_aux), args_tree, avals, where)
        programs[1], programs[3] = vm, ts
        const_lists[1], const_lists[3] = vm_c, ts_c
    consts, index = _unify_consts(const_lists)
    padded = [None if p is None else _pad_consts(p, c, consts, index)
              for p, c in zip(programs, const_lists)]
    outs = linear_solve_p.bind(*consts, *b_leaves, num_consts=len(consts),
                               **dict(zip(_PROGRAMS, padded)))
    return tree_unflatten(out_tree, outs)


# -- custom_root ------------------------------------------------------------------------


def _root_primal(const_lengths, jaxprs, *args):
    nf, ns, nl = const_lengths
    return run(jaxprs[1], *args[nf:nf + ns], *args[nf + ns + nl:])


_custom_root = custom_jvp(_root_primal, nondiff_argnums=(0, 1))


def _float0_to_zero(t, p):
    if type(t) is Zero:
        return t
    a = get_aval(p)
    return Zero.like(p) if a.dtype.kind not in "fc" else t


@_custom_root.defjvp
def _root_jvp(const_lengths, jaxprs, primals, tangents):
    # F(theta, x*(theta)) = 0  =>  d_theta F + d_x F dx* = 0
    #                          =>  dx* = -(d_x F)^{-1} [d_theta F dtheta]
    nf, ns, nl = const_lengths
    f_j, _, ls_j = jaxprs
    sol = _custom_root(const_lengths, jaxprs, *primals)
    n_x = len(f_j.out_avals)
    solution, aux = list(sol[:n_x]), list(sol[n_x:])
    params, params_dot = list(primals[:nf]), list(tangents[:nf])
    params_dot = [_float0_to_zero(t, p) for t, p in zip(params_dot, params)]
    if params:
        _, rhs = jvp_flat(lambda *ps: run(f_j, *ps, *solution), params, params_dot,
                          name="custom_root")
    else:
        rhs = [Zero(tangent_aval(get_aval(s))) for s in solution]
    rhs = [instantiate(r, tangent_aval(get_aval(s))) for r, s in zip(rhs, solution)]
    ls_consts = primals[nf + ns:nf + ns + nl]
    dx = run(ls_j, *ls_consts, *solution, *rhs)
    sol_dot = [_ew.neg(d) for d in dx]
    aux_dot = [instantiate(Zero.like(a)) for a in aux]
    return solution + aux, sol_dot + aux_dot


def custom_root(f: Callable, initial_guess: Any, solve: Callable, tangent_solve: Callable,
                has_aux: bool = False) -> Any:
    """A root of ``f`` found by ``solve``, differentiable by the implicit function
    theorem (JAX's ``jax.lax.custom_root``).

    Returns ``solve(f, initial_guess)``, assumed to satisfy ``f(x) == 0``. Its
    derivative with respect to the values ``f`` closes over (``theta``) is
    ``-(d_x f)^{-1} d_theta f``, not the derivative of ``solve``'s iterations:
    ``tangent_solve(g, y)`` solves ``g(x) = y`` for the linear function ``g`` (``f``
    linearized at the root), e.g. ``lambda g, y: y / g(1.0)`` for a scalar, or a
    ``custom_linear_solve``/``xform.scipy.sparse.linalg.cg`` for vectors (so reverse
    mode can transpose it). With ``has_aux``, ``solve`` returns ``(x, aux)``.

    >>> import xform
    >>> from xform import lax
    >>> def sqrt(a):                       # the root of x**2 - a by Newton's method
    ...     f = lambda x: x * x - a
    ...     def newton(f, x):
    ...         return lax.fori_loop(0, 20, lambda i, x: x - f(x) / (2 * x), x)
    ...     return lax.custom_root(f, 1.0, newton, lambda g, y: y / g(1.0))
    >>> round(float(sqrt(2.0)), 12), round(float(xform.grad(sqrt)(2.0)), 12)
    (1.414213562373, 0.353553390593)
    """
    where = "custom_root"
    for name, fn in (("f", f), ("solve", solve), ("tangent_solve", tangent_solve)):
        if not callable(fn):
            raise TypeError(f"{where}: {name} must be a callable, got {type(fn).__name__}")
    guess, args_tree = tree_flatten((initial_guess,))
    tree = tree_structure(initial_guess)
    avals = [get_aval(x, where) for x in guess]
    for a in avals:
        if a.dtype.kind not in "fc":
            raise TypeError(f"{where}: initial_guess must hold floating arrays, got "
                            f"{signature(tree, avals)}")
    f_j, f_c, f_tree = trace_fun(f, args_tree, avals, where)
    if f_tree != tree or any(a.shape != b.shape for a, b in zip(f_j.out_avals, avals)):
        raise TypeError(f"{where}: f must return a value with the structure and shapes of "
                        f"initial_guess, {signature(tree, avals)}, got "
                        f"{signature(f_tree, f_j.out_avals)} (from {fun_name(f)})")
    s_j, s_c, s_tree = trace_fun(
        _checked(lambda x: solve(f, x), where, "solve", tree, avals, has_aux), args_tree, avals,
        where)

    def linearize_and_solve(x, b):
        out = tangent_solve(_linearized(f, x), b)
        _check_like(where, "tangent_solve", out, tree, avals, False)
        return out

    ls_j, ls_c, _ = trace_fun(linearize_and_solve, tree_flatten((initial_guess,) * 2)[1],
                              avals * 2, where)
    lengths = (len(f_c), len(s_c), len(ls_c))
    outs = _custom_root(lengths, (f_j, s_j, ls_j), *f_c, *s_c, *ls_c, *guess)
    return tree_unflatten(s_tree, outs)
