"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map.

The user-facing functions trace their Python callables (branches, loop bodies) once
into closed jaxprs held by three primitives. Values a body closes over that are
tracers of an enclosing transformation are passed as explicit leading operands
(``closure_convert``); concrete closed-over arrays stay constants of the held
``ClosedJaxpr`` (``jaxpr.consts``).

Primitives and their parameters (for interpreters and the Numba backend)
------------------------------------------------------------------------

``cond``  (``cond_p``, multiple results)
    operands: ``index, *ops``. ``index`` is an int32 scalar, already clamped to
    ``[0, len(branches))``.
    params: ``branches``: tuple of ``ClosedJaxpr``; each takes ``ops`` (all branches
    take the same operands, unused ones included) and returns outputs of identical
    shapes/dtypes. Meaning: ``outs = branches[index](*ops)``.
    ``lax.cond(pred, t, f, *ops)`` binds ``branches=(f, t)`` with ``index=int(pred)``.

``while``  (``while_p``, multiple results)
    operands: ``*cond_consts, *body_consts, *init``.
    params: ``cond_jaxpr`` (``ClosedJaxpr``: ``cond_consts + carry -> [bool scalar]``),
    ``body_jaxpr`` (``ClosedJaxpr``: ``body_consts + carry -> carry``),
    ``cond_nconsts``, ``body_nconsts`` (ints). Meaning::

        carry = init
        while cond_jaxpr(*cond_consts, *carry)[0]:
            carry = body_jaxpr(*body_consts, *carry)
        return carry

``scan``  (``scan_p``, multiple results)
    operands: ``*consts, *init, *xs``; every ``xs`` array has leading axis ``length``.
    params: ``jaxpr`` (``ClosedJaxpr``: ``consts + carry + x_slices -> carry + y_slices``),
    ``num_consts``, ``num_carry``, ``length`` (ints), ``reverse`` (bool), ``unroll``
    (int, a hint only). Meaning::

        carry = init
        for i in (reversed(range(length)) if reverse else range(length)):
            carry, y = jaxpr(*consts, *carry, *[x[i] for x in xs])
            ys[i] = y            # every y output stacked along a new leading axis
        return carry + ys

All three evaluate eagerly with ``eval_jaxpr`` in a Python loop (``impl``), stage as
one equation (a loop of any length traces to a program of constant size), and have
JVP, transpose (cond, scan) and batching rules:

- JVP (cond, scan) is split like jit's (``xform.interpreters.transforms.linearize_jaxpr``): a primal
  primitive that also returns residuals, then a tangent primitive over residuals and
  tangents. Under ``linearize`` only the tangent primitive is recorded; a scan
  stores per iteration only the residuals the tangent body uses (loop-invariant
  residuals are computed once, xs are reused, not copied).
- while_loop's JVP is a joint loop over (primal, tangent). It is forward-mode only:
  its transpose raises the error JAX gives, suggesting ``scan``/``fori_loop``.
- Batching with a batched predicate: cond runs every branch and selects, while_loop
  runs until all lanes are done and updates only the lanes still running.

Under ``jit`` (the ``numba_lower`` attributes, section "Numba lowering" below) the three
primitives become real ``if``/``while``/``for`` statements of the one generated Numba
function: held programs are optimized and emitted inline, carries are local variables,
scan's ys are preallocated and written per iteration, and the generated source depends
on a scan's length only through loop bounds.
"""
from .conditionals import cond, cond_p, switch  # noqa: F401
from .loops import fori_loop, map, scan, scan_p, while_loop, while_p  # noqa: F401

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map",
           "cond_p", "while_p", "scan_p"]
