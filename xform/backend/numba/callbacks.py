"""Lowering of callbacks (``pure_callback``, ``debug_callback``): inside the kernel, a
Numba object-mode block calls back into Python (``with numba.objmode(out=type): ...``).

The Python function cannot be written into the generated source (whose hash names the
module and keys the disk cache), so each callback is registered under a number and the
source calls ``run_callback(number, *operands)``. The lookup happens at run time: a
kernel loaded from the disk cache by another process calls that process's function
registered under the same number (the source, hence the number, came from the same
program). Object mode takes the GIL back inside ``nogil`` kernels and boxes the
operands as numpy arrays (0-d operands, which are scalars in kernels, become 0-d
arrays); results are unboxed to the declared types: C-contiguous arrays, scalars for
0-d values.
"""
from __future__ import annotations

import threading

import numpy as np

from ...lax.callbacks import callback_args, check_results, debug_callback_p, pure_callback_p
from .rules import rule

_LOCK = threading.Lock()
_REGISTRY: list = []  # number -> (callback, declared result avals or None, kernel dtypes)
_NUMBERS: dict = {}  # (id(callback), avals) -> number (the registry keeps callbacks alive)

_IMPORT = "from xform.backend.numba.callbacks import run_callback"


def register(callback, result_avals, kernel_dtypes) -> int:
    """The number under which generated code calls ``callback``."""
    key = (id(callback), result_avals, kernel_dtypes)
    with _LOCK:
        n = _NUMBERS.get(key)
        if n is None:
            n = _NUMBERS[key] = len(_REGISTRY)
            _REGISTRY.append((callback, result_avals, kernel_dtypes))
    return n


def run_callback(number: int, *args):
    """Called from object-mode blocks: run callback ``number`` on numpy arrays and
    return its results as the kernel declared them."""
    callback, result_avals, kernel_dtypes = _REGISTRY[number]
    args = callback_args(args)
    if result_avals is None:
        callback(*args)
        return None
    outs = check_results(callback(*args), result_avals, getattr(callback, "__name__", "?"))
    res = []
    for o, dt in zip(outs, kernel_dtypes):
        if o.dtype != dt:  # float16 values are float32 inside kernels
            o = o.astype(dt)
        res.append(o[()] if o.ndim == 0 else np.ascontiguousarray(o))
    return tuple(res)


def numba_type(aval) -> str:
    """The object-mode type declaration of a kernel value: ``'float64[:, ::1]'``, or the
    scalar type for 0-d values."""
    dt = np.dtype(aval.dtype)
    name = "boolean" if dt.kind == "b" else dt.name
    if aval.ndim == 0:
        return name
    return f"{name}[{', '.join([':'] * (aval.ndim - 1) + ['::1'])}]"


def _operands(em, ins) -> list:
    # operands may be literal expressions: bind them to names outside the block
    names = []
    for x in ins:
        if x.isidentifier():
            names.append(x)
        else:
            n = em.fresh("cba")
            em.line(f"{n} = {x}")
            names.append(n)
    return names


def emit_call(em, number: int, ins, outs, out_avals) -> None:
    """Emit a call of registered Python function ``number`` (``register``) on ``ins`` in an
    object-mode block, its results assigned to ``outs`` (shared by every rule that calls
    back into Python: callbacks, fft)."""
    if _IMPORT not in em.mod.helpers:
        em.mod.helpers.append(_IMPORT)
    args = ", ".join([str(number)] + _operands(em, ins))
    decl = ", ".join(f"{o}={numba_type(a)!r}" for o, a in zip(outs, out_avals))
    em.line(f"with numba.objmode({decl}):")
    with em.indented():
        if not outs:
            em.line(f"run_callback({args})")
        else:
            em.line(f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = run_callback({args})")
    # Numba rejects a typed variable of an object-mode block that nothing reads after it
    # ("Invalid type annotation on non-outgoing variables"): an unused result of a
    # multiple-result callback (dead-code elimination keeps the equation for the used
    # ones). Each result is read once here, used later or not (a self-assignment:
    # Numba's liveness counts the read, LLVM drops it).
    for o in outs:
        em.line(f"{o} = {o}")
    for o, a in zip(outs, out_avals):
        if a.ndim:
            em.mark_contig(o)


@rule(pure_callback_p)
def _pure_callback(em, eqn, ins):
    out_avals = [v.aval for v in eqn.outvars]
    number = register(eqn.params["callback"], tuple(eqn.params["result_avals"]),
                      tuple(a.dtype for a in out_avals))
    outs = [em.fresh("cb") for _ in out_avals]
    emit_call(em, number, ins, outs, out_avals)
    return outs


@rule(debug_callback_p)
def _debug_callback(em, eqn, ins):
    emit_call(em, register(eqn.params["callback"], None, None), ins, [], [])
    return []
