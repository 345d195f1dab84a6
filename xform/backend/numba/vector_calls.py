"""The vector-math functions as called routines, compiled once per machine.

Why: ``vector_math.py``'s functions are written to be inlined into loops, where LLVM
vectorizes them. Inlined at every use, each costs the kernel ~0.1-0.2 s of LLVM time
(a 250-op chain with 125 sin/tanh took 12-15 s to compile, against 1.7 s without
them). Here each function is compiled once into a C-callable routine (``numba.cfunc``,
in xform's disk cache) that maps a buffer::

    vm_<name>(x, y, n)     y[i] = f(x[i]) for i < n   (float64 arrays, x is not y)
    vs_<name>(v)           f(v) for one value          (returns float64)

Fused loops call ``vm_*`` on chunks of their innermost dimension (``fusion.py``), so
the routine's loop is the vectorized one and the kernel's own loops stay plain
arithmetic; ``vs_*`` serves values computed outside the innermost loop. sin and cos
run the fast reduction of ``trig.py`` over the chunk and redo the chunk with the exact
one when an argument is out of its range (``XFORM_FAST_TRIG=0``: always exact).

Kernels call the routines by symbol name (``xform_vm_<name>``, registered with LLVM
when this module's attribute is first taken, as ``linalg_runtime.py`` does for LAPACK):
the generated source and its disk-cached machine code contain no address.
"""
from __future__ import annotations

import threading

import numba
from llvmlite import binding as _llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .cache import cached_cfunc
from .runtime import prefer_wide_vectors
from .trig import trig_big, vcos_fast, vsin_fast
from .vector_math import vcos, vexp, vlog, vlogistic, vsin, vtanh

_opts = dict(nopython=True, error_model="numpy", nogil=True)
_MAP_SIG = types.void(types.CPointer(types.float64), types.CPointer(types.float64), types.int64)
_SCALAR_SIG = types.float64(types.float64)


# -- the routines: module-level functions, so that the disk cache can name them ------------
# (written out one by one: numba compiles each call site of vexp & co. into its own loop,
# and a loop over a function-valued argument would not inline the function)

def _map_vexp(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    for i in range(n):
        prefer_wide_vectors()
        y[i] = vexp(x[i])


def _map_vlog(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    for i in range(n):
        prefer_wide_vectors()
        y[i] = vlog(x[i])


def _map_vtanh(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    for i in range(n):
        prefer_wide_vectors()
        y[i] = vtanh(x[i])


def _map_vlogistic(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    for i in range(n):
        prefer_wide_vectors()
        y[i] = vlogistic(x[i])


def _map_vsin(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    big = 0
    for i in range(n):
        prefer_wide_vectors()
        v = x[i]
        y[i] = vsin_fast(v)
        big = big | trig_big(v)
    if big:
        for i in range(n):
            prefer_wide_vectors()
            y[i] = vsin(x[i])


def _map_vcos(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    big = 0
    for i in range(n):
        prefer_wide_vectors()
        v = x[i]
        y[i] = vcos_fast(v)
        big = big | trig_big(v)
    if big:
        for i in range(n):
            prefer_wide_vectors()
            y[i] = vcos(x[i])


def _map_vsin_exact(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    for i in range(n):
        prefer_wide_vectors()
        y[i] = vsin(x[i])


def _map_vcos_exact(xp, yp, n):  # pragma: no cover - compiled
    x, y = numba.carray(xp, (n,)), numba.carray(yp, (n,))
    for i in range(n):
        prefer_wide_vectors()
        y[i] = vcos(x[i])


def _one_vexp(v):  # pragma: no cover - compiled
    return vexp(v)


def _one_vlog(v):  # pragma: no cover - compiled
    return vlog(v)


def _one_vtanh(v):  # pragma: no cover - compiled
    return vtanh(v)


def _one_vlogistic(v):  # pragma: no cover - compiled
    return vlogistic(v)


def _one_vsin(v):  # pragma: no cover - compiled
    return vsin(v) if trig_big(v) else vsin_fast(v)


def _one_vcos(v):  # pragma: no cover - compiled
    return vcos(v) if trig_big(v) else vcos_fast(v)


def _one_vsin_exact(v):  # pragma: no cover - compiled
    return vsin(v)


def _one_vcos_exact(v):  # pragma: no cover - compiled
    return vcos(v)


_ROUTINES = {}
for _f in (_map_vexp, _map_vlog, _map_vtanh, _map_vlogistic, _map_vsin, _map_vcos,
           _map_vsin_exact, _map_vcos_exact):
    _ROUTINES["vm" + _f.__name__[4:]] = (_f, _MAP_SIG)
for _f in (_one_vexp, _one_vlog, _one_vtanh, _one_vlogistic, _one_vsin, _one_vcos,
           _one_vsin_exact, _one_vcos_exact):
    _ROUTINES["vs" + _f.__name__[4:]] = (_f, _SCALAR_SIG)
del _f

_LOCK = threading.Lock()
_REGISTERED: dict = {}


def symbol(name: str) -> str:
    """The LLVM symbol of routine ``name`` (e.g. ``"vm_vexp"``), compiled or loaded from
    the disk cache and registered on first use."""
    sym = "xform_" + name
    if name in _REGISTERED:
        return sym
    with _LOCK:
        if name not in _REGISTERED:
            fn, sig = _ROUTINES[name]
            c = cached_cfunc(sig, **_opts)(fn)
            _llvm.add_symbol(sym, c.address)
            _REGISTERED[name] = c  # keeps the machine code alive
    return sym


def routine_name(vm_name: str, chunked: bool, fast_trig: bool) -> str:
    """The routine computing vector-math function ``vm_name`` (``"vsin"``...)."""
    if vm_name in ("vsin", "vcos") and not fast_trig:
        vm_name += "_exact"
    return ("vm_" if chunked else "vs_") + vm_name


def _map_intrinsic(sym: str):
    @intrinsic
    def call(typingctx, x, y, n):
        """``sym(x.data, y.data, n)`` for 1-d float64 arrays x, y and an integer n."""
        for a in (x, y):
            if not (isinstance(a, types.Array) and a.dtype == types.float64):
                return None
        if not isinstance(n, types.Integer):
            return None
        sig = types.void(x, y, n)

        def codegen(context, builder, signature, args):
            dbl = ir.DoubleType().as_pointer()
            fnty = ir.FunctionType(ir.VoidType(), [dbl, dbl, ir.IntType(64)])
            fn = cgutils.get_or_insert_function(builder.module, fnty, sym)
            xa = context.make_array(signature.args[0])(context, builder, args[0])
            ya = context.make_array(signature.args[1])(context, builder, args[1])
            m = context.cast(builder, args[2], signature.args[2], types.int64)
            builder.call(fn, [xa.data, ya.data, m])
            return context.get_dummy_value()

        return sig, codegen

    return call


def _scalar_intrinsic(sym: str):
    @intrinsic
    def call(typingctx, v):
        """``sym(float64(v))``."""
        if not isinstance(v, (types.Float, types.Integer, types.Boolean)):
            return None
        sig = types.float64(v)

        def codegen(context, builder, signature, args):
            fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()])
            fn = cgutils.get_or_insert_function(builder.module, fnty, sym)
            x = context.cast(builder, args[0], signature.args[0], types.float64)
            return builder.call(fn, [x])

        return sig, codegen

    return call


_INTRINSICS: dict = {}


def __getattr__(name: str):
    """``vm_vexp``, ``vs_vtanh``...: the intrinsic calling that routine (which is
    compiled or loaded, and registered, here: before a kernel using it is compiled or
    loaded from the disk cache)."""
    if name not in _ROUTINES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    hit = _INTRINSICS.get(name)
    if hit is None:
        sym = symbol(name)
        make = _map_intrinsic if name.startswith("vm_") else _scalar_intrinsic
        hit = _INTRINSICS.setdefault(name, make(sym))
    return hit

