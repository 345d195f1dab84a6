"""Rematerialization: ``checkpoint`` (alias ``remat``).

``checkpoint(f)`` computes the same values as ``f``, but under reverse-mode
differentiation it stores only ``f``'s *inputs* as residuals and recomputes its
intermediates during the backward pass: memory for compute. Use it on the body of a
long ``scan`` (per-iteration residuals become just the carry and the x slice), or on
large blocks of a model.

How: ``f`` is traced into a jaxpr held by the ``checkpoint`` primitive. Its JVP rule,
under ``linearize``, binds the primal call (run now, nothing recorded) and records a
second ``checkpoint`` call in the linear program whose program is the JVP of ``f``
restricted to the tangent outputs, taking ``(primal inputs, tangents)``. Transposing
that call runs ``backward_pass`` over the JVP program: its forward sweep recomputes
the primal intermediates from the stored inputs, then the linear part is transposed.

Primitive and parameters (for interpreters and the Numba backend)
-----------------------------------------------------------------

``checkpoint`` (multiple results)
    operands: ``*args`` (closed-over tracers first). params: ``jaxpr``
    (``ClosedJaxpr``: ``args -> outs``), ``prevent_cse`` (bool), ``differentiated``
    (bool: True for the tangent program recorded by the JVP rule).
    Meaning: ``outs = jaxpr(*args)``. Lowering: inline ``jaxpr``.
"""
from __future__ import annotations

import functools

from .._util import fun_name
from ..core.check import call_signature
from ..core.ir import ClosedJaxpr, Jaxpr, all_eqns
from ..core.primitive import Primitive
from ..core.pytree import tree_flatten, tree_unflatten
from ..core.trace import Tracer, get_aval, state
from ..interpreters.jvp import Zero
from ..interpreters.transforms import (
    batch_jaxpr,
    dce_jaxpr,
    is_linear_tracer,
    jvp_jaxpr,
    linearize_jaxpr,
    move_batch,
    run,
    tangent_aval,
    trace_flat,
    transpose_call,
)
from .control_flow.common import coerce_outputs, trace_fun

__all__ = ["checkpoint", "remat", "checkpoint_p"]

checkpoint_p = Primitive("checkpoint", multiple_results=True)


def _impl(*args, jaxpr, prevent_cse, differentiated):
    return coerce_outputs(run(jaxpr, *args), jaxpr.out_avals)


def _abstract(*avals, jaxpr, prevent_cse, differentiated):
    return jaxpr.out_avals


def _tangent_program(jaxpr: ClosedJaxpr, in_nz: tuple):
    """JVP program of ``jaxpr`` returning only the tangent outputs (memoized)."""
    key = ("remat_tangent", in_nz)
    hit = jaxpr.cache.get(key)
    if hit is not None:
        return hit
    if any(e.primitive.name == "custom_vjp_call" for e in all_eqns(jaxpr.jaxpr)):
        hit = _linearized_tangent_program(jaxpr, in_nz)
        jaxpr.cache[key] = hit
        return hit
    joint, out_nz = jvp_jaxpr(jaxpr, in_nz)
    n_out = len(jaxpr.out_avals)
    j = joint.jaxpr
    tj = ClosedJaxpr(dce_jaxpr(Jaxpr(j.constvars, j.invars, j.outvars[n_out:], j.eqns)),
                     joint.consts)
    hit = (tj, out_nz)
    jaxpr.cache[key] = hit
    return hit


def _linearized_tangent_program(jaxpr: ClosedJaxpr, in_nz: tuple):
    """The tangent program built by linearizing: a custom_vjp function inside has only
    a reverse-mode rule, which plain forward-mode JVP cannot use. It still takes
    ``(primal inputs, tangents)``: the primal part recomputes the residuals from the
    inputs, so only the inputs are stored."""


    primal_j, tangent_j, out_nz, n_out = linearize_jaxpr(jaxpr, in_nz)
    n_in = len(jaxpr.in_avals)

    def tangent_fun(*args):
        res = run(primal_j, *args[:n_in])[n_out:]
        return run(tangent_j, *res, *args[n_in:])

    t_avals = [tangent_aval(a) for a, nz in zip(jaxpr.in_avals, in_nz) if nz]
    return trace_flat(tangent_fun, list(jaxpr.in_avals) + t_avals, "remat_tangent"), out_nz


def _jvp(primals, tangents, jaxpr, prevent_cse, differentiated):
    in_nz = tuple(type(t) is not Zero for t in tangents)
    nzt = [t for t in tangents if type(t) is not Zero]
    params = dict(prevent_cse=prevent_cse)
    if any(is_linear_tracer(t) for t in nzt):
        # Reverse mode: run the primal now; record a call that recomputes it from the
        # inputs (the only residuals) when the backward pass transposes it.
        outs = checkpoint_p.bind(*primals, jaxpr=jaxpr, differentiated=differentiated, **params)
        tj, out_nz = _tangent_program(jaxpr, in_nz)
        touts = iter(checkpoint_p.bind(*primals, *nzt, jaxpr=tj, differentiated=True, **params))
    else:
        joint, out_nz = jvp_jaxpr(jaxpr, in_nz)
        res = checkpoint_p.bind(*primals, *nzt, jaxpr=joint, differentiated=differentiated,
                                **params)
        n_out = len(jaxpr.out_avals)
        outs, touts = res[:n_out], iter(res[n_out:])
    return outs, [next(touts) if nz else Zero.like(o) for o, nz in zip(outs, out_nz)]


def _transpose(cts, *args, jaxpr, prevent_cse, differentiated):
    return transpose_call(jaxpr, cts, args)


def _batch(vals, dims, jaxpr, prevent_cse, differentiated, axis_size):
    vals = [move_batch(v, d, 0) for v, d in zip(vals, dims)]
    dims0 = tuple(None if d is None else 0 for d in dims)
    n_out = len(jaxpr.out_avals)
    _, out_b = batch_jaxpr(jaxpr, dims0, axis_size, (False,) * n_out)
    bj, out_b = batch_jaxpr(jaxpr, dims0, axis_size, out_b)
    outs = checkpoint_p.bind(*vals, jaxpr=bj, prevent_cse=prevent_cse,
                             differentiated=differentiated)
    return outs, [0 if b else None for b in out_b]


checkpoint_p.impl = _impl
checkpoint_p.abstract_eval = _abstract
checkpoint_p.jvp = _jvp
checkpoint_p.transpose = _transpose
checkpoint_p.batch = _batch
checkpoint_p.batch_needs_size = True
checkpoint_p.check_signature = call_signature("jaxpr")


def checkpoint(fun=None, *, prevent_cse: bool = True, policy=None, static_argnums=()):
    """Make ``fun`` recompute its intermediates in the backward pass instead of
    storing them (JAX's ``jax.checkpoint`` / ``jax.remat``).

    Values and derivatives are unchanged; reverse mode stores only the inputs of
    ``fun``. ``policy`` is accepted for API compatibility; everything is recomputed
    (JAX's default, ``nothing_saveable``). Usable as ``@checkpoint`` or
    ``checkpoint(fun, static_argnums=...)``.

    >>> import xform
    >>> from xform import lax
    >>> f = xform.checkpoint(lambda x: lax.sin(lax.sin(x)))
    >>> round(float(xform.grad(f)(0.5)), 6)
    0.778644
    """
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy,
                                 static_argnums=static_argnums)
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(static_argnums)
    name = fun_name(fun)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        nargs = len(args)
        static = {i % nargs: args[i] for i in static_argnums} if nargs else {}
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, in_tree = tree_flatten((tuple(dyn), kwargs))
        if state().dynamic.level == 0 and not any(isinstance(x, Tracer) for x in leaves):
            return fun(*args, **kwargs)
        avals = [get_aval(x, f"checkpoint of {name}") for x in leaves]

        def call(dargs, dkw):
            it = iter(dargs)
            full = [static[i] if i in static else next(it) for i in range(nargs)]
            return fun(*full, **dkw)

        closed, consts, out_tree = trace_fun(call, in_tree, avals, "checkpoint")
        outs = checkpoint_p.bind(*consts, *leaves, jaxpr=closed, prevent_cse=bool(prevent_cse),
                                 differentiated=False)
        return tree_unflatten(out_tree, outs)

    return wrapped


remat = checkpoint
