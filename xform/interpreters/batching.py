"""Batching (vmap): tracers carry a value with one extra (batch) dimension.

``bdim`` is the position of the batch dimension in the value, or ``None`` when the
value is the same for every batch member. Each primitive has a ``batch`` rule
``(vals, dims, **params) -> (out, out_dim)``.
"""
from __future__ import annotations

from ..core.abstract import ShapedArray
from ..core.primitive import missing_rule
from ..core.trace import Trace, Tracer, get_aval, new_main

not_mapped = None


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim")

    def __init__(self, trace, val, bdim):
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self):
        aval = get_aval(self.val)
        if self.bdim is None:
            return aval
        shape = aval.shape[: self.bdim] + aval.shape[self.bdim + 1:]
        return ShapedArray(shape, aval.dtype, aval.weak_type)

    def full_lower(self):
        if self.bdim is None:
            v = self.val
            return v.full_lower() if isinstance(v, Tracer) else v
        return self


class BatchTrace(Trace):
    @property
    def axis_size(self) -> int:
        return self.main.payload

    def pure(self, val):
        return BatchTracer(self, val, None)

    lift = pure

    def process_primitive(self, primitive, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.bdim for t in tracers]
        if all(d is None for d in dims):
            out = primitive.bind(*vals, **params)
            if primitive.multiple_results:
                return [BatchTracer(self, o, None) for o in out]
            return BatchTracer(self, out, None)
        rule = primitive.batch
        if rule is None:
            raise missing_rule(primitive, "batching (vmap)")
        if getattr(primitive, "batch_needs_size", False):
            out, out_dims = rule(vals, dims, axis_size=self.axis_size, **params)
        else:
            out, out_dims = rule(vals, dims, **params)
        if primitive.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(out, out_dims)]
        return BatchTracer(self, out, out_dims)


def batch_flat(fun, vals, dims, axis_size: int, name: str = "vmap"):
    """Run ``fun`` (flat -> flat) on batch tracers; returns (outs, out_dims)."""
    with new_main(BatchTrace, axis_size, name=name) as main:
        trace = BatchTrace(main)
        in_tracers = [BatchTracer(trace, v, d) if d is not None else v for v, d in zip(vals, dims)]
        outs = fun(*in_tracers)
        vals_out, dims_out = [], []
        for o in outs:
            if isinstance(o, BatchTracer) and o._trace.main is main:
                vals_out.append(o.val)
                dims_out.append(o.bdim)
            else:
                vals_out.append(o)
                dims_out.append(None)
    return vals_out, dims_out
