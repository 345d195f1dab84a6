"""Helpers for tests/test_lax_elementwise.py: random inputs per dtype and domain, a
Python-loop reference for vmap, and a small Numba harness that compiles the
``numba_scalar`` expressions of elementwise primitives into loop kernels."""
from __future__ import annotations

import math

import numpy as np

from xform.core.trace import get_aval


def rand(rng, shape, dtype, lo=-2.0, hi=2.0):
    """Random array of ``shape``/``dtype``: uniform in [lo, hi) for floats, small
    integers for int kinds (never 0 when ``lo > 0``), random booleans."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        lo_i = 0 if dt.kind == "u" else int(math.floor(lo))
        hi_i = int(math.ceil(hi)) + 1
        x = rng.integers(lo_i, hi_i, size=shape).astype(dt)
        if lo > 0:
            x = np.where(x == 0, np.ones((), dt), x)
        return x
    if dt.kind == "c":
        re = rng.uniform(lo, hi, size=shape)
        im = rng.uniform(lo, hi, size=shape)
        return (re + 1j * im).astype(dt)
    return rng.uniform(lo, hi, size=shape).astype(dt)


def take(x, i, axis):
    """x[i] along ``axis`` for numpy inputs (None: not batched)."""
    if axis is None:
        return x
    return np.take(x, i, axis=axis)


def vmap_reference(f, args, in_axes, out_axis=0):
    """Apply ``f`` member by member in a Python loop and stack the results."""
    sizes = {np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None}
    (n,) = sizes
    outs = [np.asarray(f(*[take(a, i, ax) for a, ax in zip(args, in_axes)])) for i in range(n)]
    return np.stack(outs, axis=out_axis)


# -- the Numba harness -------------------------------------------------------------------

_NAMES = "abcdefghijklmnopqrstuvwxyz"


def numba_eval_many(cases):
    """Compile one Numba kernel evaluating every case and return the results.

    ``cases`` is a list of ``(prim, operands, params, kw)``: the operands (numpy arrays
    of one common dtype, broadcast against each other) are flattened; output k is
    ``out_k[i] = prim.numba_scalar(*operand_exprs, **params, **kw)`` in a loop, stored
    into an array of the dtype ``prim.impl`` gives. One kernel per call keeps the
    compile time of the whole table to a few seconds.
    """
    import numba

    arrays, outs, lines, shapes = [], [], [], []
    for k, (prim, operands, params, kw) in enumerate(cases):
        expected = np.asarray(prim.impl(*operands, **params))
        bcast = np.broadcast_arrays(*[np.asarray(o) for o in operands])
        shape = bcast[0].shape if bcast else ()
        n = int(np.prod(shape, dtype=np.int64))
        exprs = []
        for b in bcast:
            arrays.append(np.ascontiguousarray(b).reshape(n))
            exprs.append(f"{_argname(len(arrays) - 1)}[i]")
        outs.append(np.empty(n, dtype=expected.dtype))
        shapes.append(shape)
        expr = prim.numba_scalar(*exprs, **params, **kw)
        lines.append((k, n, expr))
    in_names = [_argname(j) for j in range(len(arrays))]
    out_names = [f"out{k}" for k in range(len(outs))]
    src = [f"def kernel({', '.join(in_names + out_names)}):"]
    for k, n, expr in lines:
        src.append(f"    for i in range({n}):")
        src.append(f"        out{k}[i] = {expr}")
    if len(src) == 1:
        src.append("    pass")
    from xform.backend.numba import runtime

    ns = {"np": np, "math": math}
    for prim, _, _, _ in cases:  # helpers a rule may call (see xform/lax/elementwise.py)
        for helper in getattr(prim.numba_scalar, "runtime_helpers", ()):
            ns[helper] = getattr(runtime, helper)
    exec("\n".join(src), ns)
    kernel = numba.njit(error_model="numpy")(ns["kernel"])
    kernel(*arrays, *outs)
    return [o.reshape(s) for o, s in zip(outs, shapes)]


def _argname(j: int) -> str:
    return f"in{j}"


def aval_of(x):
    return get_aval(x)
