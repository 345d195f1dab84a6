"""Forward mode: tracers carry (primal, tangent); every primitive has a JVP rule.

Rules are written with lax operations, so they are themselves traceable and can be
differentiated again. Tangents that are known to be zero are the symbolic ``Zero``:
no array is allocated for them, and integer/boolean values always have a Zero tangent.
"""
from __future__ import annotations

import numpy as np

from ..core import hooks
from ..core.abstract import ShapedArray
from ..core.dtypes import float0, tangent_dtype
from ..core.primitive import missing_rule
from ..core.trace import Trace, Tracer, get_aval, new_main


class Zero:
    """A symbolic zero tangent/cotangent of a given abstract value."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    @staticmethod
    def like(x) -> "Zero":
        aval = x.aval if isinstance(x, Tracer) else get_aval(x)
        key = (aval.shape, aval.dtype)
        z = _ZEROS.get(key)
        if z is None:  # Zeros are immutable: one per (shape, dtype) is shared
            z = Zero(ShapedArray(aval.shape, tangent_dtype(aval.dtype), False))
            if len(_ZEROS) > 4096:
                _ZEROS.clear()
            _ZEROS[key] = z
        return z

    def __repr__(self) -> str:
        return f"Zero({self.aval.str_short()})"


_ZEROS: dict = {}


def instantiate(t, aval=None):
    """Turn a symbolic Zero into a concrete zeros array (only where a rule needs one)."""
    if type(t) is Zero:
        a = t.aval if aval is None else aval
        if a.dtype == float0:
            return np.zeros(a.shape, dtype=float0)
        return hooks.full(a.shape, 0, a.dtype)
    return t


def add_tangents(a, b):
    if type(a) is Zero:
        return b
    if type(b) is Zero:
        return a
    return hooks.add_any_p.bind(a, b)  # lax.add_any(a, b)


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent", "_aval")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        self._aval = None

    @property
    def aval(self):
        a = self._aval
        if a is None:  # computed once: rules ask for it many times
            p = self.primal
            a = self._aval = p.aval if isinstance(p, Tracer) else get_aval(p)
        return a

    def full_lower(self):
        t = self.tangent
        if type(t) is Zero or t is _LAZY_ZERO:
            p = self.primal
            return p.full_lower() if isinstance(p, Tracer) else p
        return self

    def _concrete_value(self):
        p = self.primal
        return p._concrete_value() if isinstance(p, Tracer) else p


# The tangent of a value lifted into a JVP trace (a Zero whose aval is made on demand).
_LAZY_ZERO = object()
_new_tracer = object.__new__


class JVPTrace(Trace):
    def pure(self, val):
        # The Zero tangent's aval is only computed if a rule asks for it.
        t = _new_tracer(JVPTracer)
        t._trace = self
        t.primal = val
        t.tangent = _LAZY_ZERO
        t._aval = None
        return t

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        primals = []
        tangents = []
        nonzero = False
        for t in tracers:
            primals.append(t.primal)
            g = t.tangent
            if g is _LAZY_ZERO:
                g = t.tangent = Zero.like(t.primal)
            elif type(g) is not Zero:
                nonzero = True
            tangents.append(g)
        if not nonzero:
            out = primitive.bind(*primals, **params)
            if primitive.multiple_results:
                return [JVPTracer(self, o, Zero.like(o)) for o in out]
            return JVPTracer(self, out, Zero.like(out))
        rule = primitive.jvp
        if rule is None:
            raise missing_rule(primitive, "JVP (differentiation)")
        primal_out, tangent_out = rule(primals, tangents, **params)
        if primitive.multiple_results:
            return [JVPTracer(self, p, t) for p, t in zip(primal_out, tangent_out)]
        return JVPTracer(self, primal_out, tangent_out)


def jvp_flat(fun, primals, tangents, name: str = "jvp"):
    """Run ``fun`` (flat -> flat) on JVP tracers; returns (primals_out, tangents_out)."""
    with new_main(JVPTrace, name=name) as main:
        trace = main.trace
        in_tracers = [JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        outs = fun(*in_tracers)
        primals_out, tangents_out = [], []
        for o in outs:
            if isinstance(o, JVPTracer) and o._trace.main is main:
                primals_out.append(o.primal)
                t = o.tangent
                tangents_out.append(Zero.like(o.primal) if t is _LAZY_ZERO else t)
            else:
                primals_out.append(o)
                tangents_out.append(Zero.like(o))
    return primals_out, tangents_out


# -- helpers for writing JVP rules -----------------------------------------------


def defjvp(primitive, *rules):
    """Define a JVP rule from one function per argument, autograd style.

    ``rules[i](g, ans, *primals, **params)`` returns the contribution of argument i's
    tangent ``g`` to the output tangent (``None`` for a non-differentiable argument).
    Zero tangents are skipped, and contributions are summed.
    """

    def jvp(primals, tangents, **params):
        ans = primitive.bind(*primals, **params)
        out = None
        for rule, g in zip(rules, tangents):
            if rule is None or type(g) is Zero:
                continue
            contrib = rule(g, ans, *primals, **params)
            out = contrib if out is None else add_tangents(out, contrib)
        return ans, (Zero.like(ans) if out is None else out)

    primitive.jvp = jvp
    return jvp


def deflinear(primitive, transpose_rule=None):
    """JVP for a primitive linear in all its inputs: apply it to the tangents."""

    def jvp(primals, tangents, **params):
        ans = primitive.bind(*primals, **params)
        ts = [instantiate(t, Zero.like(p).aval) for p, t in zip(primals, tangents)]
        return ans, primitive.bind(*ts, **params)

    primitive.jvp = jvp
    if transpose_rule is not None:
        primitive.transpose = transpose_rule
    return jvp
