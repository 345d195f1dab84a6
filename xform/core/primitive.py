"""Primitives: the operations every interpreter knows, each with its rule table.

A primitive carries all of its rules as attributes, set next to its definition in
``xform/lax``:

- ``impl(*arrays, **params)``: evaluate on numpy values.
- ``abstract_eval(*avals, **params)``: output ShapedArray(s); raises clear errors.
- ``jvp(primals, tangents, **params) -> (primal_out, tangent_out)``; tangents may be
  ``Zero`` (see ``xform.interpreters.jvp``).
- ``transpose(ct, *args, **params) -> cts``: for primitives linear in some inputs;
  linear inputs arrive as ``UndefinedPrimal``.
- ``batch(vals, dims, **params) -> (out, out_dim)``: the vmap rule.
"""
from __future__ import annotations

from typing import Any, Callable

from .trace import Tracer, find_top_trace, full_lower, full_raise, state


Rule = Callable[..., Any]


class Primitive:
    multiple_results = False
    # Optional rules/flags (class defaults; set on instances where they apply).
    stage: Rule | None = None  # custom staging rule (see StagingTrace)
    batch_needs_size = False  # the batching rule takes ``axis_size``
    # Has a side effect (debug.print, debug.callback): dead-code elimination keeps its
    # equations, CSE never merges them, constant folding never runs them.
    effectful = False
    check_signature: Rule | None = None  # IR verifier rule for held programs (core/check.py)
    # Elementwise primitives: the scalar expression jit fuses into loop nests, a function
    # ``(*scalar_exprs, **params) -> str`` (see docs/architecture.md).
    numba_scalar: Any = None

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: Rule | None = None
        self.abstract_eval: Rule | None = None
        self.jvp: Rule | None = None
        self.transpose: Rule | None = None
        self.batch: Rule | None = None
        # Elementwise primitives fuse into loop nests when jitted.
        self.elementwise = False

    def __repr__(self) -> str:
        return self.name

    def bind(self, *args, **params):
        # Find the innermost interpreter among the arguments (inlined find_top_trace:
        # this is the hottest path of eager autodiff).
        top = (_state or _get_state()).dynamic
        level = top.level
        first = None  # the main of the first tracer argument
        same = True  # every argument is a tracer of ``first``
        for x in args:
            if isinstance(x, Tracer):
                m = x._trace.main
                if m.level > level:
                    top = m
                    level = m.level
                if first is None:
                    first = m
                elif m is not first:
                    same = False
            else:
                same = False
        if level == 0:
            if first is not None:  # only dead tracers can be at level <= 0 here
                find_top_trace(args)
            return self.impl(*args, **params)
        if not top.alive:
            find_top_trace(args)  # raises the escaped-tracer error
        trace = top.trace
        if same and first is top:
            tracers = args  # nothing to raise
        else:
            tracers = [
                (x if x._trace.main is top else full_raise(trace, x)) if isinstance(x, Tracer)
                else trace.pure(x)
                for x in args
            ]
        out = trace.process_primitive(self, tracers, params)
        if self.multiple_results:
            return [full_lower(o) for o in out]
        return out.full_lower() if isinstance(out, Tracer) else out


_state = None


def _get_state():
    # The thread-local state object is created once (lazily: it imports the eval
    # interpreter); its attributes are per thread.
    global _state
    _state = state()
    return _state


def missing_rule(prim: Primitive, rule: str):
    return NotImplementedError(f"primitive `{prim.name}` has no {rule} rule")
