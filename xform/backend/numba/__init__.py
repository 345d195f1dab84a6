"""The Numba backend of ``jit``: a jaxpr becomes ONE ``numba.njit`` function.

Pipeline (``compile_jaxpr``)::

    ClosedJaxpr --optimize (xform/backend/numba/optimize.py)--> ClosedJaxpr
                --fusion.plan--> nodes (loop-nest groups and single kernels)
                --emit--> Python source of a module with one njit `kernel`
                --cache.load_module--> module (memory by source hash / disk cache)
                --first call: kernel.compile(types of the arguments)--> machine code

Generated code (read it with ``xform.jit(f).lower(*args).source``) is explicit scalar
loops with static bounds, numpy arrays for non-0-d values and scalars for 0-d values
(see ``codegen.py``). Non-scalar constants of the program are extra arguments of the
kernel (never baked into the source, so the source hash identifies the program).
Numba options: ``error_model='numpy'``, ``nogil=True``, no fast-math on the kernel;
big reductions accumulating in scalars add through ``runtime.acc_add`` (an addition with
LLVM's ``reassoc`` flag, so the loop vectorizes; never ``fastmath=True``: it would
break ``isnan``); big elementwise loop nests live in ``parallel=True`` helpers using
``prange`` (chosen from the static shapes). Shifted reads of cheap computed values are
recomputed in the consumer loop, sin/cos loops run a fast path with a checked exact
fallback, and big loops use 512-bit vectors on AVX-512 targets (see ``fusion.py``).
A disk-cache hit loads the machine code without numba's registry initialization
(``platform.load_cached``).

Writing a lowering rule
-----------------------
Rules for equations that are not fused live in ``rules.py`` (control flow in
``control_flow.py``), keyed by the primitive object::

    @rule(my_prim_p)
    def _my_prim(em, eqn, ins):          # -> list of output names
        ...

- ``eqn``: the equation (``eqn.invars[i].aval`` / ``eqn.outvars[i].aval`` give static
  shapes and dtypes, ``eqn.params`` the parameters).
- ``ins``: the operands' names in the generated function. 0-d operands are scalar
  expressions (possibly typed literals such as ``np.float32(2.0)``), others array
  names (arrays may be strided views unless ``em.is_contig(name)``).
- ``em`` (``codegen.Emitter``): ``em.line(text)`` appends a line at the current
  indentation, ``with em.indented(): ...`` nests, ``em.fresh(hint)`` makes a unique
  name, ``em.alloc(shape, dtype, fill=None)`` allocates a C-contiguous result,
  ``em.contiguous(name)``, ``em.as_array(expr, aval)``, ``em.const(value)`` (name of a
  constant: typed literal for scalars, extra kernel argument for arrays),
  ``rules.loop_nest(em, shape)`` opens loops and yields index names,
  ``codegen.literal_expr(value, dtype)``, ``codegen.cast(expr, dtype)``,
  ``codegen.np_type(dtype)``.
- Return the output names: arrays for non-0-d outputs (fresh or views, never mutate an
  input), scalar names for 0-d outputs.

Control flow: a rule emits a sub-jaxpr inline with
``out_names = em.emit_jaxpr(jaxpr, in_names, consts)`` (at the current indentation,
e.g. inside ``for``/``while``/``if`` lines it wrote) or, for a detached block,
``lines, out_names = codegen.emit_jaxpr(em, jaxpr, in_names, consts)`` (lines at
indentation 0). ``consts`` are the ClosedJaxpr's constant values. All names are unique
in the module, so bodies can be emitted repeatedly. Loop-carried values must keep one
numba type: assign the body outputs back to the carry names (``carry = out``), and
copy arrays you will write into (``x.copy()``). Example (a while loop)::

    carry = [em.fresh("c") for _ in ins]
    for c, x in zip(carry, ins): em.line(f"{c} = {x}")
    em.line("while True:")
    with em.indented():
        (p,) = em.emit_jaxpr(cond.jaxpr, carry, cond.consts)
        em.line(f"if not {p}:"); em.line("    break")
        outs = em.emit_jaxpr(body.jaxpr, carry, body.consts)
        for c, o in zip(carry, outs): em.line(f"{c} = {o}")
    return carry
"""
from __future__ import annotations

from .. import platform  # first: its settings must precede Numba's import  # noqa: I001

import functools
import threading
import time
import warnings
import weakref

import numpy as np

from ... import config
from ...core.dtypes import float0
from ...core.check import check_after
from ...core.ir import ClosedJaxpr, Jaxpr, Literal, all_eqns
from . import cache as _cache
from . import forksafe as _forksafe
from . import resident as _resident
from .codegen import Emitter, Module, emit_jaxpr, literal_expr  # noqa: F401
from . import control_flow as _control_flow  # noqa: F401  (registers cond/while/scan rules)
from . import conv as _conv  # noqa: F401  (registers convolution and window rules)
from . import linalg as _linalg  # noqa: F401  (registers the LAPACK lowerings)
from . import random as _random  # noqa: F401  (registers the random-number rules)
from . import callbacks as _callbacks  # noqa: F401  (registers the callback rules)
from . import fft as _fft  # noqa: F401  (registers the FFT lowering)
from .rules import RULES, LoweringError, rule  # noqa: F401
from .traits import FRESH_OUTPUT, MAYBE_IDENTITY

_COMPILE_LOCK = threading.RLock()
# every live Compiled: a forked child replaces their locks (a thread of the parent may hold one)
_ALL_COMPILED: weakref.WeakSet = weakref.WeakSet()
_forksafe.install(_COMPILE_LOCK, _ALL_COMPILED)
platform.dispose_pass_managers()  # (llvmlite would keep ~0.9 MB per kernel)

KERNEL_OPTIONS = "error_model='numpy', nogil=True"


def _sig_text(avals) -> str:
    return "(" + ", ".join(a.str_short() for a in avals) + ")"


def _may_alias_inputs(jaxpr) -> set:
    """Variables of the top-level program that may share memory with a kernel input."""
    aliased = {v for v in jaxpr.invars if v.aval.ndim > 0}
    for e in jaxpr.eqns:
        p = e.primitive
        fresh = p in FRESH_OUTPUT or (p.elementwise and p not in MAYBE_IDENTITY)
        if not fresh and any(type(v) is not Literal and v in aliased for v in e.invars):
            aliased.update(e.outvars)
    return aliased


def generate_source(closed: ClosedJaxpr, name: str = "kernel"):
    """Generate the module source for an (optimized) closed jaxpr.

    Returns ``(source, const_values)``: the kernel takes the constants first.
    """
    jaxpr = closed.jaxpr
    mod = Module(name)
    em = Emitter(mod, depth=1)
    arg_names, in_names = [], []
    for i, v in enumerate(jaxpr.invars):
        a = f"a{i}"
        arg_names.append(a)
        if v.aval.ndim == 0:
            em.line(f"{a} = to_scalar({a})")
        else:
            mod.inputs.add(a)
        in_names.append(a)
    # constants: scalars inline, arrays as leading arguments
    const_names = []
    for c in closed.consts:
        const_names.append(em.const(c))
    outs = emit_jaxpr(em, jaxpr, in_names, const_names)
    body_lines, out_names = outs
    # An output listed twice (CSE merged two equal results) is returned as two arrays,
    # as the un-jitted function returns them: writing into one must not change the other.
    # An output that may be an input or a view of one (the optimizer turns copy(x), x * 1,
    # x.astype(x.dtype) ... into x) is copied too: results never share the caller's memory.
    seen: set = set()
    aliased = _may_alias_inputs(jaxpr)
    for k, (n, v) in enumerate(zip(out_names, jaxpr.outvars)):
        if v.aval.ndim > 0 and (n in seen or (type(v) is not Literal and v in aliased)):
            out_names[k] = f"{n}.copy()"
        seen.add(n)
    body = em.lines + [("    " + ln) if ln else ln for ln in body_lines]
    if len(out_names) == 1:
        body.append(f"    return {out_names[0]}")
    else:
        body.append(f"    return ({', '.join(out_names)}{',' if out_names else ''})")
    const_args = [n for n, _ in mod.const_args]
    const_values = [np.ascontiguousarray(v) for _, v in mod.const_args]
    head = [
        f"# xform jit kernel for `{name}`",
        f"# signature: {_sig_text(jaxpr.in_avals)} -> {_sig_text(jaxpr.out_avals)}",
        "import math",
        "import numpy as np",
        "import numba",
        "from xform.backend.numba.runtime import "
        + ", ".join(sorted(mod.runtime_imports)),
    ]
    if mod.vector_calls:
        head.append("from xform.backend.numba.vector_calls import "
                    + ", ".join(sorted(mod.vector_calls)))
    if mod.linalg_imports:
        head.append("from xform.backend.numba.linalg_runtime import "
                    + ", ".join(sorted(mod.linalg_imports)))
    head.append("")
    for h in mod.helpers:
        head.append(h)
        head.append("")
    head.append(f"@numba.njit(cache=_XFORM_CACHE, {KERNEL_OPTIONS})")
    head.append(f"def kernel({', '.join(const_args + arg_names)}):")
    if not body:
        body = ["    pass"]
    source = "\n".join(head + body) + "\n"
    return source, const_values


class Lowered:
    """What ``jit(f).lower(*args)`` returns: the optimized jaxpr and kernel source."""

    def __init__(self, jaxpr: ClosedJaxpr, source: str, name: str):
        self.jaxpr = jaxpr
        self.source = source
        self.name = name

    def as_text(self) -> str:
        return (f"# optimized jaxpr of `{self.name}`\n{self.jaxpr}\n\n"
                f"# generated Numba source\n{self.source}")

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__


def lower_jaxpr(closed: ClosedJaxpr, name: str = "kernel") -> Lowered:
    from .optimize import optimize_jaxpr

    opt = closed.cache.get("optimized")
    if opt is None:
        opt = optimize_jaxpr(closed)
    source, _ = generate_source(kernel_program(opt, name)[0], name)
    return Lowered(opt, source, name)


def _numba_typeof(x):
    import numba

    return numba.typeof(x)


class Boundary:
    """How the kernel's arguments and results differ from the program's.

    float0 values (the tangent/cotangent type of integer inputs) carry no data: the
    kernel neither takes nor returns them, and ``Compiled`` makes such outputs itself.
    float16 values are float32 inside the kernel (see ``float16.py``): inputs are
    converted on the way in, outputs on the way out (both exact).
    """

    def __init__(self, in_keep, out_f0, in_f16, out_f16):
        self.in_keep, self.out_f0 = in_keep, out_f0
        self.in_f16, self.out_f16 = in_f16, out_f16

    def kernel_args(self, args) -> tuple:
        return tuple(a.astype(np.float32) if f16 else a
                     for a, keep, f16 in zip(args, self.in_keep, self.in_f16) if keep)

    def outputs(self, r, n_kernel_out: int, out_avals) -> list:
        it = iter([r] if n_kernel_out == 1 else r)
        outs = []
        for a, f0, f16 in zip(out_avals, self.out_f0, self.out_f16):
            if f0:
                outs.append(np.zeros(a.shape, float0))
                continue
            v = next(it)
            outs.append(v.astype(np.float16) if f16 and isinstance(v, np.ndarray) else v)
        return outs


def _check_kernel_dtype(aval, name: str, what: str) -> None:
    dt = aval.dtype
    if dt.char in "gG":  # np.longdouble / np.clongdouble
        wide = "complex128" if dt.kind == "c" else "float64"
        raise LoweringError(
            f"jit of {name}: {what} has dtype {dt} (numpy's long double), which jit cannot "
            f"compile: Numba has no extended precision. Convert it with "
            f"x.astype(np.{wide}) (precision beyond {wide} is lost), or run the function "
            f"without jit, where numpy computes in long double.")


def kernel_program(closed: ClosedJaxpr, name: str):
    """The program the kernel computes (no float0 values, float16 computed in float32),
    and the ``Boundary`` between it and ``closed`` (None if they take and give the same).
    """
    from .float16 import emulate_float16

    j = closed.jaxpr
    for v in (*j.invars, *j.constvars):
        _check_kernel_dtype(v.aval, name, "an input")
    for e in all_eqns(j):
        for v in e.invars:
            if v.aval.dtype == float0:
                raise LoweringError(
                    f"jit of {name}: `{e.primitive.name}` computes with a float0 value; "
                    f"float0 (the tangent type of integer inputs) carries no data.")
        for v in e.outvars:
            _check_kernel_dtype(v.aval, name, f"the result of `{e.primitive.name}`")
    in_keep = tuple(v.aval.dtype != float0 for v in j.invars)
    out_f0 = tuple(v.aval.dtype == float0 for v in j.outvars)
    n_in, n_out = len(j.invars), len(j.outvars)
    in_f16, out_f16 = (False,) * n_in, (False,) * n_out
    emulated = emulate_float16(closed)
    if emulated is not None:
        closed, in_f16, out_f16 = emulated
        check_after(closed, "the float16 emulation rewrite")
        j = closed.jaxpr
    if all(in_keep) and not any(out_f0) and emulated is None:
        return closed, None
    kept = Jaxpr(j.constvars, [v for v, k in zip(j.invars, in_keep) if k],
                 [v for v, f in zip(j.outvars, out_f0) if not f], j.eqns)
    return ClosedJaxpr(kept, closed.consts), Boundary(in_keep, out_f0, in_f16, out_f16)


class Evicted(RuntimeError):
    """A program evicted from the in-memory cache was asked to compile for new argument
    types (its caller compiles the program again instead; see ``resident.py``)."""


# numba's error when a kernel released by resident.py would have to compile
COMPILATION_DISABLED = "compilation disabled"


class Compiled:
    """A compiled program: call with the flat inputs, returns the list of outputs.

    Cache bookkeeping (``resident.py``): the program is evicted with its module, leaving
    the jaxpr caches that hold it (``adopt``) and the signature caches of the jitted
    functions that use it (``add_user``). An evicted program still runs for the argument
    types it was compiled for (its machine code stays), so a caller holding it is safe.
    """

    def __init__(self, module, from_disk, consts, out_avals, name, in_avals, source, timing,
                 info=None, boundary=None):
        self.module = module
        self.kernel = module.kernel
        self.from_disk = from_disk
        self.consts = tuple(consts)
        self.out_avals = list(out_avals)
        self.in_avals = list(in_avals)
        self.name = name
        self.timing = timing  # (the source is not kept: lower() generates it again)
        self.info = info or {}
        self.n_out = len(out_avals)
        self.scalar_outs = [(i, a.dtype.type) for i, a in enumerate(out_avals)
                            if a.ndim == 0 and a.dtype != float0]
        self.boundary = boundary
        self._types_done: set = set()
        self._lock = threading.Lock()
        _ALL_COMPILED.add(self)
        self.ready = False
        self.failed = False  # its first compilation raised
        self.evicted = False
        self._compiling = False
        self._modname = module.__name__
        self._homes: list = []  # the jaxpr caches (dicts) holding it as "compiled"
        self._users: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # jitted -> keys
        self.raw = self._make_raw()
        _resident.register(self)

    # -- cache bookkeeping (resident.py) --
    @property
    def busy(self) -> bool:
        """Compiling, or created and never run yet: its module is not evicted."""
        return self._compiling or not (self.ready or self.failed)

    def adopt(self, home: dict) -> None:
        """``home`` (a ``ClosedJaxpr.cache``) holds this program as "compiled"; its
        optimized jaxpr is no longer needed there (``lower()`` optimizes again)."""
        if not any(h is home for h in self._homes):
            self._homes.append(home)
        if home.get("compiled") is self:
            home.pop("optimized", None)

    def add_user(self, jitted, key) -> None:
        """``jitted`` (a ``Jitted``) runs this program for signature ``key``."""
        keys = self._users.get(jitted)
        if keys is None:
            self._users[jitted] = {key}
        elif key not in keys:
            keys.add(key)

    def drop_fast_paths(self) -> None:
        for jitted in list(self._users.keys()):
            jitted._fast.clear()

    def _evict(self) -> None:
        self.evicted = True
        for home in self._homes:
            if home.get("compiled") is self:
                del home["compiled"]
        self._homes = []
        for jitted, keys in list(self._users.items()):
            jitted._forget(keys)
        self._users = weakref.WeakKeyDictionary()

    def _make_raw(self):
        """args -> the kernel's raw result (one value or a tuple), consts bound."""
        k = self.kernel
        raw = functools.partial(k, *self.consts) if self.consts else k
        boundary = self.boundary
        if boundary is None:
            return raw
        n_kernel_out = boundary.out_f0.count(False)
        out_avals = self.out_avals

        def across_boundary(*args):
            outs = boundary.outputs(raw(*boundary.kernel_args(args)), n_kernel_out, out_avals)
            return outs[0] if len(outs) == 1 else tuple(outs)

        return across_boundary

    def kernel_args(self, args):
        """The arguments the kernel itself takes (float0 inputs dropped, float16 as
        float32)."""
        if self.boundary is None:
            return args
        return self.boundary.kernel_args(args)

    # -- first call per argument types: compile (or load from the disk cache) and log --
    def ensure_compiled(self, args, background: bool = False) -> None:
        tys = tuple(_numba_typeof(a) for a in self.kernel_args(args))
        if tys in self._types_done:
            return
        with self._lock:
            if tys in self._types_done:
                return
            const_tys = tuple(_numba_typeof(c) for c in self.consts)
            sig = const_tys + tys
            reused = sig in self.kernel.overloads
            if not reused:
                if self.evicted:  # its module is gone: the caller compiles the program anew
                    raise Evicted(f"jit of {self.name}: this compiled program was evicted "
                                  f"from the in-memory cache (xform_compile_cache_size).")
                _forksafe.check_can_compile(self.name)
            t0 = time.perf_counter()
            self._compiling = True
            try:
                self._compile_or_recover(sig)
                _resident.slim(self.kernel)
            except BaseException:
                self.failed = True
                raise
            finally:
                self._compiling = False
            dt = time.perf_counter() - t0
            hit = self._cache_hit(sig)
            self._types_done.add(tys)
            self._log(dt, hit, reused, background)

    def _compile_or_recover(self, sig):
        try:
            self._compile(sig)
        except LoweringError:
            raise
        except Exception as e:
            cache = self.kernel._cache
            if not _cache.has_entries(cache):
                raise
            # machine code from the disk cache passed its digest check but does not
            # work (e.g. a different Numba build): drop this kernel's entries and
            # compile afresh in place, which saves a clean entry under the same name
            # (the module keeps its name: cached code refers to it)
            warnings.warn(f"xform: failed to load the cached kernel of `{self.name}` "
                          f"({type(e).__name__}: {e}); recompiling.", RuntimeWarning,
                          stacklevel=5)
            cache.purge()
            with cache.loads_disabled():
                self.kernel.compile(sig)

    def _compile(self, sig):
        if self.from_disk and platform.load_cached(self.kernel, sig):
            return
        platform.load_compiler(self.kernel)  # (its imports must not be interrupted)
        self.kernel.compile(sig)

    def _cache_hit(self, sig) -> bool:
        try:
            return bool(self.kernel._cache_hits.get(sig, 0))
        except Exception:  # pragma: no cover - numba internals changed
            return False

    def _log(self, compile_time, hit, reused=False, background=False):
        if not config.log_compiles:
            return
        info = self.info
        trace = info.get("trace_time")
        parts = [f"trace {trace * 1e3:.1f} ms" if trace is not None else None,
                 f"optimize+codegen {self.timing.get('codegen', 0) * 1e3:.1f} ms"]
        if reused:
            what = "Reusing"
            parts.append("same program already compiled in this process")
        else:
            what = "Loaded" if hit else "Compiling"
            parts.append(("numba load " if hit else "numba compile ")
                         + f"{compile_time * 1e3:.1f} ms")
            if hit:
                parts.append("disk cache hit")
        if background:
            parts.append("in the background (tiered jit)")
        msg = (f"{what} `{self.name}` for signature {_sig_text(self.in_avals)}: "
               + ", ".join(p for p in parts if p))
        reason = info.get("reason")
        if reason:
            msg += f"; recompiled because {reason}"
        config.log_compile("%s", msg)

    def __call__(self, *args):
        if not self.ready or self.evicted:  # evicted: new argument types raise Evicted
            self.ensure_compiled(args)
            self.ready = True
        _resident.touch(self._modname)
        try:
            r = self.raw(*args)
        except RuntimeError as e:  # evicted by another thread since the check above
            if self.evicted and str(e) == COMPILATION_DISABLED:
                raise Evicted(f"jit of {self.name}: this compiled program was evicted "
                              f"from the in-memory cache.") from None
            raise
        if self.n_out == 1:
            r = [r]
        else:
            r = list(r)
        for i, t in self.scalar_outs:
            r[i] = t(r[i])
        return r


def compile_jaxpr(closed: ClosedJaxpr, name: str = "kernel") -> Compiled:
    """Optimize, generate and load the kernel of a closed jaxpr (memoized on it)."""
    hit = closed.cache.get("compiled")
    if hit is not None:
        return hit
    platform.tune_malloc()
    _forksafe.check_can_compile(name)
    with _COMPILE_LOCK:
        hit = closed.cache.get("compiled")
        if hit is not None:
            return hit
        from .optimize import optimize_jaxpr

        t0 = time.perf_counter()
        opt = optimize_jaxpr(closed)
        closed.cache["optimized"] = opt
        program, boundary = kernel_program(opt, name)
        source, consts = generate_source(program, name)
        t1 = time.perf_counter()
        module, from_disk = _cache.load_module(source, name)
        compiled = Compiled(module, from_disk, consts, opt.out_avals, name, opt.in_avals,
                            source, {"codegen": t1 - t0}, closed.cache.get("trace_info"),
                            boundary)
        closed.cache["compiled"] = compiled
        return compiled


__all__ = ["compile_jaxpr", "lower_jaxpr", "kernel_program", "generate_source", "emit_jaxpr", "Emitter",
           "Compiled", "Evicted", "Boundary", "Lowered", "RULES", "rule", "LoweringError"]
