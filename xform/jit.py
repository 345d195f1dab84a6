"""make_jaxpr and jit.

``jit`` traces a function once per signature (tree structure, shapes, dtypes, weak
types, static values) into a jaxpr and binds the ``jit`` primitive, which holds that
jaxpr. The primitive's impl runs the program compiled by the Numba backend; its JVP,
batching and staging rules transform the held jaxpr, so ``jit`` composes with every
transformation in both directions.
"""
from __future__ import annotations

import atexit
import functools
import operator
import os
import sys
import threading
import time
import weakref
from typing import Any, Callable, Iterable

import numpy as np

from . import config
from ._util import check_leaves, flatten_fun, fun_name, to_output, warn_user
from .core.ir import ClosedJaxpr, Jaxpr, all_eqns
from .core.pytree import tree_flatten, tree_unflatten
from .core.trace import Tracer, get_aval
from .core.trace import _state_holder
from .core.trace import state as _state
from .core.array import Array
from .core.eval import eval_jaxpr
from .core.nan_checks import bad_value
from .interpreters.staging import closure_convert, trace_to_jaxpr
from .lax.call import _tier_param, jit_p


def _split_static(args, kwargs, static_argnums, static_argnames, where):
    static = []
    dyn_args = []
    for i, a in enumerate(args):
        if i in static_argnums:
            static.append(("arg", i, _hashable(a, where, f"argument {i}")))
        else:
            dyn_args.append(a)
    dyn_kwargs = {}
    for k, v in kwargs.items():
        if k in static_argnames:
            static.append(("kw", k, _hashable(v, where, f"argument {k!r}")))
        else:
            dyn_kwargs[k] = v
    return tuple(static), dyn_args, dyn_kwargs


def _hashable(v, where, what):
    try:
        hash(v)
    except TypeError:
        raise TypeError(
            f"{where}: static {what} of type {type(v).__name__} is not hashable; static "
            f"arguments are cache keys, so pass a hashable value (e.g. a tuple instead of "
            f"a list) or make the argument non-static.") from None
    # equal values of different types (1, 1.0, True, np.float32(1)) trace differently:
    # the type is part of the cache key
    return (type(v), v)


def _rebuild_call(f, static, dyn_args, dyn_kwargs, nargs):
    args = []
    it = iter(dyn_args)
    smap = {(kind, key): tv[1] for kind, key, tv in static}  # tv: (type, value)
    for i in range(nargs):
        args.append(smap[("arg", i)] if ("arg", i) in smap else next(it))
    kwargs = dict(dyn_kwargs)
    for kind, key, tv in static:
        if kind == "kw":
            kwargs[key] = tv[1]
    return f(*args, **kwargs)


def make_jaxpr(fun: Callable, static_argnums: int | Iterable[int] = (), axis_env=None,
               return_shape: bool = False, abstracted_axes=None) -> Callable:
    """Trace ``fun`` into a closed jaxpr for the given example arguments; with
    ``return_shape`` also the result's shapes and dtypes (``ShapeDtypeStruct`` objects in its
    structure). ``axis_env`` (named axes of ``pmap``) and ``abstracted_axes`` (dynamic
    shapes) are not supported: only None is accepted.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> print(xform.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(np.ones(3)))
    { lambda ; a:f64[3]. let
        b:f64[3] = sin a
        c:f64[3] = mul b 2.0
      in (c,) }
    """
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(static_argnums)
    for opt, val in (("axis_env", axis_env), ("abstracted_axes", abstracted_axes)):
        if val is not None:
            raise NotImplementedError(f"make_jaxpr of {fun_name(fun)}: {opt} is not supported "
                                      f"(xform has no named axes or dynamic shapes).")

    def make(*args, **kwargs):
        where = f"make_jaxpr of {fun_name(fun)}"
        static, dyn_args, dyn_kwargs = _split_static(args, kwargs, static_argnums, (), where)
        leaves, in_tree = tree_flatten((tuple(dyn_args), dyn_kwargs))
        check_leaves(leaves, where)
        avals = [get_aval(x) for x in leaves]

        def f_pytree(dargs, dkw):
            return _rebuild_call(fun, static, dargs, dkw, len(args))

        flat, store = flatten_fun(f_pytree, in_tree)
        jaxpr, consts = trace_to_jaxpr(flat, avals, name="make_jaxpr")
        closed, tracer_consts = closure_convert(jaxpr, consts)
        if tracer_consts:
            # Closed-over tracers of outer transformations stay as constants here.
            closed = ClosedJaxpr(
                Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, jaxpr.eqns), consts)
        if return_shape:
            from .api_util import ShapeDtypeStruct

            shapes = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                      for a in jaxpr.out_avals]
            return closed, tree_unflatten(store["tree"], shapes)
        return closed

    make.__name__ = f"make_jaxpr_{fun_name(fun)}"
    return make


# -- the jit primitive's impl: compile the held program with the Numba backend ------------

# Held while the backend is first imported (in whichever thread): a fork waits for it, as
# a child would otherwise inherit the import's module lock, held by a thread that does
# not exist there (see _before_fork).
_BACKEND_LOCK = threading.RLock()
_BACKEND: list = []  # [the backend module], once imported
_FORK_STATE: dict = {"backend_held": False, "poisoned": None}


def _backend(name: str):
    """The Numba backend (``xform.backend.numba``), imported on first use."""
    if _BACKEND:
        return _BACKEND[0]
    if _FORK_STATE["poisoned"] is not None:
        from .backend.numba.forksafe import forked_mid_compile_message

        raise RuntimeError(forked_mid_compile_message(name, _FORK_STATE["poisoned"]))
    with _BACKEND_LOCK:
        if not _BACKEND:
            from .backend.platform import interrupts_deferred

            with interrupts_deferred():  # an interrupted import would stay half-done
                from .backend import numba as backend
            _BACKEND.append(backend)
    return _BACKEND[0]


def _compile(jaxpr: ClosedJaxpr, name: str):
    """The compiled program of ``jaxpr`` (memoized in ``jaxpr.cache``, which the
    in-memory cache empties again when it evicts the program)."""
    compiled = _backend(name).compile_jaxpr(jaxpr, name=name)
    compiled.adopt(jaxpr.cache)
    return compiled


def _jit_impl(*args, jaxpr: ClosedJaxpr, name: str, tiered: bool = False):
    compiled = jaxpr.cache.get("compiled")
    if tiered and (compiled is None or not compiled.ready) and _loop_free(jaxpr):
        return _tiered_call(args, jaxpr, name)
    if compiled is None:
        compiled = _compile(jaxpr, name)
    try:
        outs = compiled(*args)
    except RuntimeError as e:  # evicted since it was looked up, and new argument types
        if not isinstance(e, _backend(name).Evicted):
            raise
        outs = _compile(jaxpr, name)(*args)
    if config.debug_nans or config.debug_infs:
        _check_outputs(outs, jaxpr, args, name)
    return outs


jit_p.impl = _jit_impl


def _check_outputs(outs, closed: ClosedJaxpr, args, name: str) -> None:
    """debug_nans/debug_infs: if a compiled result has a NaN/inf, evaluate the program
    op by op (each operation checked, see ``core/nan_checks.py``) to name the first
    operation producing one."""
    bad = [(i, k) for i, k in enumerate(map(bad_value, outs)) if k is not None]
    if not bad:
        return
    with np.errstate(all="ignore"):
        eval_jaxpr(closed.jaxpr, closed.consts, *args)  # raises at the operation
    i, kind = bad[0]
    raise FloatingPointError(
        f"invalid value ({kind}) in output {i} of jit of {name}; evaluated op by op the "
        f"program gives none (the compiled kernel rounds differently).")


def _deoptimized_error(jitted: "Jitted", args, kwargs, err: FloatingPointError):
    """The error to raise for a NaN/inf found in a jitted function's results: run the
    Python function un-jitted, whose checked operations name the user's line."""
    from .api_util import disable_jit

    try:
        with disable_jit(), np.errstate(all="ignore"):
            jitted.fun(*args, **kwargs)
    except FloatingPointError as e:
        return FloatingPointError(f"{e} (found by re-running jit of {jitted.name} un-jitted: "
                                  f"{err})")
    return err


# -- tiered execution: run uncompiled while Numba compiles in a background thread --------

_TIER_LOCK = threading.Lock()
_PENDING: set = set()  # background compilations not yet waited for


class _BackgroundCompile:
    """The background compilation of one program for ``jit(..., tiered=True)``.

    Started after the first call's uncompiled evaluation (so that call does not compete
    for the GIL with Numba's import and typing). A daemon thread: interpreter exit waits
    for it at most ``config.exit_compile_wait`` seconds (``_wait_at_exit``), so the
    kernel usually still reaches the disk cache for the next run, but exit never hangs.
    """

    def __init__(self, closed: ClosedJaxpr, name: str, args):
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.warned = False
        self.name = name
        self.closed: ClosedJaxpr | None = closed  # until done (see _forget_jobs_after_fork)
        self.thread = threading.Thread(target=self._run, args=(closed, name, args),
                                       name=f"xform-compile-{name}", daemon=True)

    def _run(self, closed, name, args):
        try:
            compiled = _compile(closed, name)
            compiled.ensure_compiled(args, background=True)
            compiled.ready = True
        except BaseException as e:  # reported by the next call, which keeps running uncompiled
            self.error = e
        finally:
            self.closed = None
            self.done.set()
            _PENDING.discard(self)  # finished jobs are not kept alive (nor their programs)

    def forget_after_fork(self) -> None:
        """In a forked child, where this job's thread does not exist: the next call
        starts a compilation of its own, and nobody waits for this one."""
        closed = self.closed
        if closed is not None and closed.cache.get("background_compile") is self:
            del closed.cache["background_compile"]
        self.closed = None
        if hasattr(self.done, "_at_fork_reinit"):  # its lock may be held by the lost thread
            self.done._at_fork_reinit()
        self.done.set()

    def report_failure(self) -> None:
        if self.error is not None and not self.warned:
            self.warned = True
            warn_user(
                f"jit of {self.name}: background compilation failed "
                f"({type(self.error).__name__}: {self.error}); the function keeps running "
                f"uncompiled. Call it with tiered=False to see the error where it happens.")


_LOOPS = frozenset({"while", "scan"})


def _loop_free(closed: ClosedJaxpr) -> bool:
    """Whether a program has no loops (at any depth): only such programs are run
    uncompiled by tiered jit, since a loop evaluated op by op in Python can take far
    longer than compiling it."""
    hit = closed.cache.get("loop_free")
    if hit is None:
        hit = not any(e.primitive.name in _LOOPS for e in all_eqns(closed.jaxpr))
        closed.cache["loop_free"] = hit
    return hit


def _tiered_call(args, closed: ClosedJaxpr, name: str):
    """Evaluate the traced program op by op (as the un-jitted function would run) and
    make sure its compilation is under way; once compiled, ``_jit_impl`` switches."""
    with np.errstate(all="ignore"):  # compiled kernels do not warn on inf/nan either
        outs = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    job = closed.cache.get("background_compile")
    if job is None:
        with _TIER_LOCK:
            job = closed.cache.get("background_compile")
            if job is None:
                job = _BackgroundCompile(closed, name, args)
                closed.cache["background_compile"] = job
                _PENDING.add(job)
                job.thread.start()
    job.report_failure()
    return outs


def _wait_at_exit() -> None:
    """At interpreter exit, wait (at most ``config.exit_compile_wait`` seconds, 0: not at
    all) for pending background compilations, so that their kernels reach the disk
    cache. Ctrl-C stops the wait quietly; a second one then ends the process at once
    (SIGINT's default action) instead of printing a traceback from the shutdown."""
    if not _PENDING:
        return
    try:
        wait_for_compilations(config.exit_compile_wait)
    except KeyboardInterrupt:
        import signal

        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except (ValueError, OSError):  # not the main thread, or no SIGINT here
            pass


atexit.register(_wait_at_exit)


def _forget_jobs_after_fork() -> None:
    for job in list(_PENDING):
        job.forget_after_fork()
    _PENDING.clear()


def _forksafe():
    return sys.modules.get("xform.backend.numba.forksafe")  # None until the backend loads


def _before_fork() -> None:
    """Before os.fork(): wait (at most XFORM_FORK_COMPILE_WAIT seconds in all) for an
    import of the backend and for compilations under way in other threads, holding
    their locks across the fork (docs/cache.md, xform/backend/numba/forksafe.py)."""
    deadline = time.monotonic() + config.fork_compile_wait()
    _FORK_STATE["backend_held"] = _BACKEND_LOCK.acquire(
        timeout=max(0.0, deadline - time.monotonic()))
    fs = _forksafe()
    if fs is not None:
        fs.before_fork(deadline)
    _TIER_LOCK.acquire()


def _after_fork_in_parent() -> None:
    _TIER_LOCK.release()
    fs = _forksafe()
    if fs is not None:
        fs.after_fork_in_parent()
    if _FORK_STATE["backend_held"]:
        _BACKEND_LOCK.release()


def _after_fork_in_child() -> None:
    _TIER_LOCK.release()
    fs = _forksafe()
    if fs is not None:
        fs.after_fork_in_child(config.fork_compile_wait())
    if _FORK_STATE["backend_held"]:
        _BACKEND_LOCK.release()
    elif not _BACKEND:  # another thread was importing the backend: it cannot be imported here
        _FORK_STATE["poisoned"] = (f"importing the compiler after XFORM_FORK_COMPILE_WAIT="
                                   f"{config.fork_compile_wait():g} s")
    _forget_jobs_after_fork()  # background compilations' threads do not exist here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


def wait_for_compilations(timeout: float | None = None) -> bool:
    """Block until every background compilation started by ``jit(..., tiered=True)``
    has finished (compiled or failed). Returns False if ``timeout`` seconds passed first.

    >>> import numpy as np, xform
    >>> f = xform.jit(lambda x: x * 2.0, tiered=True)
    >>> f(np.ones(2))  # computed uncompiled; Numba compiles in the background
    array([2., 2.])
    >>> xform.wait_for_compilations()
    True
    """
    deadline = None if timeout is None else time.perf_counter() + timeout
    for job in list(_PENDING):
        left = None if deadline is None else max(0.0, deadline - time.perf_counter())
        if not job.done.wait(left):
            return False
    return True


# -- the user-facing jit ------------------------------------------------------------------

def _leaf_key(x):
    t = type(x)
    if t is np.ndarray or t is _Array:  # an xform.Array traces as the plain array it is
        return (x.shape, x.dtype)
    if t is float or t is int or t is bool or t is complex:
        return t
    if isinstance(x, Tracer):
        a = x.aval
        return (a.shape, a.dtype, a.weak_type)
    if isinstance(x, np.generic):
        return ((), x.dtype)
    a = get_aval(x, "jit")
    return (a.shape, a.dtype, a.weak_type)


class _CacheEntry:
    __slots__ = ("jaxpr", "out_tree", "compiled")

    def __init__(self, jaxpr, out_tree):
        self.jaxpr = jaxpr
        self.out_tree = out_tree
        self.compiled = None


_FAST_SCALARS = frozenset({float, int, bool, complex, np.float64, np.float32, np.int64,
                           np.int32, np.bool_, np.complex128, np.complex64, np.int8,
                           np.int16, np.uint8, np.uint16, np.uint32, np.uint64, np.float16})
_ndarray = np.ndarray
_Array = Array


_csd = operator.attrgetter("__class__", "shape", "dtype")


def _native(x):
    """Arrays in non-native byte order (big-endian data read from a file) are converted:
    Numba only takes native ones. ``xform.Array``s are passed as plain arrays (Numba's
    dispatch of an ndarray subclass costs ~3 us more)."""
    if type(x) is _Array:
        x = x.view(_ndarray)
    if type(x) is _ndarray and not x.dtype.isnative:
        return x.astype(x.dtype.newbyteorder("="))
    return x


def _plain_args(fast, key):
    """``fast`` for a signature with ``xform.Array`` arguments: pass them as plain arrays
    (see ``_native``)."""
    pos = [i for i, k in enumerate(key) if type(k) is tuple and k[0] is _Array]
    if not pos:
        return fast

    def plain(*args):
        args = list(args)
        for i in pos:
            args[i] = args[i].view(_ndarray)
        return fast(*args)

    return plain


def _fast_key(args):
    """A cheap signature of flat positional arguments (arrays and scalars), or None.

    Arrays and numpy scalars are keyed by (class, shape, dtype), exactly as the hot path
    in ``Jitted.__call__`` computes it (a C-level ``map``); Python scalars by type."""
    key = []
    for a in args:
        t = type(a)
        if t is _ndarray or t is _Array or (t in _FAST_SCALARS and hasattr(a, "dtype")):
            if not a.dtype.isnative:  # converted on the slow path (see _native)
                return None
            key.append((t, a.shape, a.dtype))
        elif t in _FAST_SCALARS:
            key.append(t)
        else:
            return None
    return tuple(key)


def _make_fast(compiled, out_tree):
    """args -> user-facing output, calling the numba kernel directly (array results as
    ``xform.Array`` views, as ``to_output`` gives them)."""
    raw = compiled.raw
    n = compiled.n_out
    conv = dict(compiled.scalar_outs)
    arrays = [i for i in range(n) if i not in conv]
    leaf_tree = out_tree.num_leaves == 1 and tree_unflatten(out_tree, [0]) == 0
    if n == 1 and leaf_tree and not conv:
        return lambda *args: raw(*args).view(_Array)
    if n == 1 and leaf_tree:
        t = conv[0]
        return lambda *args: t(raw(*args))

    def fast(*args):
        r = raw(*args)
        r = [r] if n == 1 else list(r)
        for i, t in conv.items():
            r[i] = t(r[i])
        for i in arrays:
            r[i] = r[i].view(_Array)
        return tree_unflatten(out_tree, r)

    return fast


def _describe_change(old, new) -> str:
    """Why signature ``new`` differs from ``old`` (for compile logs)."""
    o_tree, o_leaves, o_static, o_n = old
    n_tree, n_leaves, n_static, n_n = new
    if o_n != n_n:
        return f"the number of arguments changed ({o_n} -> {n_n})"
    if o_static != n_static:
        om = {(k, i): v for k, i, v in o_static}
        for kind, i, v in n_static:
            if (kind, i) in om and om[(kind, i)] != v:
                what = f"static argument {i}" if kind == "arg" else f"static argument {i!r}"
                return f"{what} changed from {om[(kind, i)][1]!r} to {v[1]!r}"
        return "the static arguments changed"
    if o_tree != n_tree:
        return f"the input tree structure changed ({o_tree} -> {n_tree})"
    for i, (a, b) in enumerate(zip(o_leaves, n_leaves)):
        if a != b:
            return f"input {i} changed from {_key_text(a)} to {_key_text(b)}"
    return "the signature changed"


def _key_text(k) -> str:
    from .core.abstract import short_dtype

    if isinstance(k, type):
        return f"Python {k.__name__}"
    if isinstance(k, tuple) and len(k) >= 2:
        shape, dt = k[0], k[1]
        weak = ", weak" if len(k) > 2 and k[2] else ""
        return f"{short_dtype(dt)}[{','.join(map(str, shape))}]{weak}"
    return repr(k)


def _snapshot(value):
    """Arrays a jitted function closes over are captured by value when it is traced (as
    JAX and Numba do), so later in-place changes to them neither change nor half-change
    its results; the copy is read-only, so an output that is such a constant cannot be
    modified in place either."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        value = np.array(value, order="C", copy=True)
        value.flags.writeable = False
    return value


_ALL_JITTED: "weakref.WeakSet[Jitted]" = weakref.WeakSet()


def _drop_fast_paths(name: str) -> None:
    """A config switch that needs a look at every call (disable_jit, debug_nans,
    debug_infs) was changed: drop the direct kernel calls (rebuilt once they are off)."""
    if name in ("disable_jit", "debug_nans", "debug_infs"):
        for j in list(_ALL_JITTED):
            j._fast.clear()


config._listeners.append(_drop_fast_paths)


class Jitted:
    """A jit-compiled function (see ``jit``).

    Hot path: positional array/scalar arguments with no static arguments are looked up
    by (shape, dtype) in ``_fast`` and call the compiled Numba kernel directly.
    """

    def __init__(self, fun, static_argnums, static_argnames, tiered=None):
        self.fun = fun
        self.tiered = tiered
        self.static_argnums = static_argnums
        self.static_argnames = static_argnames
        self.name = fun_name(fun)
        self._cache: dict = {}
        self._fast: dict = {}
        self._simple = not static_argnums and not static_argnames
        self._last_key = None
        self.trace_count = 0
        functools.update_wrapper(self, fun, updated=())
        _ALL_JITTED.add(self)

    def _signature(self, args, kwargs):
        where = f"jit of {self.name}"
        static, dyn_args, dyn_kwargs = _split_static(
            args, kwargs, self.static_argnums, self.static_argnames, where)
        leaves, in_tree = tree_flatten((tuple(dyn_args), dyn_kwargs))
        leaves = [_native(x) for x in leaves]
        key = (in_tree, tuple(_leaf_key(x) for x in leaves), static, len(args))
        return key, static, leaves, in_tree

    def _trace(self, key, static, leaves, in_tree, nargs):
        where = f"jit of {self.name}"
        check_leaves(leaves, where)
        avals = [get_aval(x) for x in leaves]
        fun = self.fun

        def f_pytree(dargs, dkw):
            return _rebuild_call(fun, static, dargs, dkw, nargs)

        flat, store = flatten_fun(f_pytree, in_tree)
        self.trace_count += 1
        t0 = time.perf_counter()
        jaxpr, consts = trace_to_jaxpr(flat, avals, name="jit")
        closed, tracer_consts = closure_convert(jaxpr, consts)
        closed.consts = [_snapshot(c) for c in closed.consts]
        info = {"trace_time": time.perf_counter() - t0}
        last = self._last_key
        if last is not None and last != key:
            info["reason"] = _describe_change(last, key)
        self._last_key = key
        closed.cache["trace_info"] = info
        return closed, tracer_consts, store["tree"]

    def __call__(self, *args, **kwargs):
        if not kwargs:  # hot path: the (class, shape, dtype) key, a dict lookup, the kernel
            try:
                n = len(args)  # spelled out for 1 and 2 arguments: ~0.15 us less than map
                if n == 2:
                    fn = self._fast[(_csd(args[0]), _csd(args[1]))]
                elif n == 1:
                    fn = self._fast[(_csd(args[0]),)]
                else:
                    fn = self._fast[tuple(map(_csd, args))]
            except (AttributeError, KeyError):  # Python scalars, or not compiled yet
                fn = self._fast.get(_fast_key(args)) if self._fast else None
            if fn is not None and _state_holder["s"].dynamic.level == 0:
                try:
                    return fn(*args)
                except RuntimeError as e:  # its kernel was evicted and would have to
                    if str(e) != "compilation disabled":  # compile for these arguments'
                        raise                             # layout: the slow path does
        if config.disable_jit:
            return self.fun(*args, **kwargs)
        key, static, leaves, in_tree = self._signature(args, kwargs)
        entry = self._cache.get(key)
        if entry is None:
            closed, tracer_consts, out_tree = self._trace(key, static, leaves, in_tree, len(args))
            if tracer_consts:  # closes over tracers of an outer transformation: no caching
                outs = jit_p.bind(*tracer_consts, *leaves, jaxpr=closed, name=self.name,
                                  **self._tier_param())
                return tree_unflatten(out_tree, outs)
            entry = _CacheEntry(closed, out_tree)
            # setdefault is atomic (no lock: one held by another thread at os.fork() would
            # stay locked in the child): threads tracing one signature share the winner
            entry = self._cache.setdefault(key, entry)
        try:
            outs = jit_p.bind(*leaves, jaxpr=entry.jaxpr, name=self.name, **self._tier_param())
        except FloatingPointError as e:
            if not (config.debug_nans or config.debug_infs):
                raise
            raise _deoptimized_error(self, args, kwargs, e) from None
        compiled = entry.jaxpr.cache.get("compiled")
        if compiled is not None and not compiled.evicted:  # evicting it drops the signature
            compiled.add_user(self, key)                    # here (see _forget)
        if not kwargs and self._simple and _state().dynamic.level == 0 and \
                config.fast_paths_allowed():
            if compiled is not None and compiled.ready and not compiled.evicted:
                fk = _fast_key(args)
                if fk is not None and not any(isinstance(o, Tracer) for o in outs):
                    self._fast[fk] = _plain_args(_make_fast(compiled, entry.out_tree), fk)
                    if compiled.evicted:  # by another thread meanwhile: no direct call to it
                        self._fast.pop(fk, None)
        return tree_unflatten(entry.out_tree, [to_output(o) for o in outs])

    def _tier_param(self) -> dict:
        tiered = self.tiered
        if tiered is None:
            tiered = config.jit_tiered
        return _tier_param(tiered)

    def _closed(self, args, kwargs, what: str):
        key, static, leaves, in_tree = self._signature(args, kwargs)
        entry = self._cache.get(key)
        if entry is not None:
            return entry.jaxpr, entry.out_tree
        closed, tracer_consts, out_tree = self._trace(key, static, leaves, in_tree, len(args))
        if tracer_consts:
            raise TypeError(f"jit of {self.name}: {what}() cannot inspect a function "
                            f"closing over traced values.")
        return closed, out_tree

    def lower(self, *args, **kwargs) -> "Lowered":
        """Inspect what runs (JAX's ahead-of-time API): an object with ``.jaxpr``
        (optimized), ``.source`` (the generated Numba module), ``.as_text()`` and
        ``.compile()`` (a callable for arguments of these shapes and dtypes).

        >>> import numpy as np, xform
        >>> f = xform.jit(lambda x: x * 2.0)
        >>> f.lower(np.ones(2)).compile()(np.arange(2.0))
        array([0., 2.])
        """
        closed, _ = self._closed(args, kwargs, "lower")
        return Lowered(self, _backend(self.name).lower_jaxpr(closed, name=self.name), args, kwargs)

    def trace(self, *args, **kwargs) -> "Traced":
        """The traced program for these arguments (JAX's ``jit(f).trace(*args)``): an
        object with ``.jaxpr`` (before optimization), ``.out_info`` (the results'
        shapes and dtypes) and ``.lower()``.

        >>> import numpy as np, xform
        >>> print(xform.jit(lambda x: x + 1.0).trace(np.ones(2)).jaxpr)
        { lambda ; a:f64[2]. let
            b:f64[2] = add a 1.0
          in (b,) }
        """
        closed, out_tree = self._closed(args, kwargs, "trace")
        return Traced(self, closed, out_tree, args, kwargs)

    def eval_shape(self, *args, **kwargs) -> Any:
        """The shapes and dtypes of the results, without computing them (as
        ``xform.eval_shape(f, *args)``).

        >>> import numpy as np, xform
        >>> xform.jit(lambda x: x.sum()).eval_shape(np.ones((2, 3)))
        ShapeDtypeStruct(shape=(), dtype=float64)
        """
        from .api_util import eval_shape

        return eval_shape(self.fun, *args, **kwargs)

    def clear_cache(self) -> None:
        """Forget this function's traced programs (JAX's ``jitted.clear_cache()``); the
        compiled kernels stay in the in-memory cache for programs that come back
        (``xform.clear_caches()`` drops those too)."""
        self._cache.clear()
        self._fast.clear()

    def _forget(self, keys) -> None:
        """The in-memory cache evicted the program of these signatures: trace them again
        at their next call (so that their jaxprs are freed too)."""
        self._fast.clear()
        for key in keys:
            entry = self._cache.get(key)
            if entry is not None and entry.jaxpr.cache.get("compiled") is None:
                self._cache.pop(key, None)

    def _cache_size(self) -> int:
        return len(self._cache)


class Traced:
    """``jit(f).trace(*args)``: the traced program (``jaxpr``), its results' shapes and
    dtypes (``out_info``), and ``lower()``."""

    def __init__(self, jitted: Jitted, jaxpr: ClosedJaxpr, out_tree, args, kwargs):
        from .api_util import ShapeDtypeStruct

        self.jaxpr = jaxpr
        self.out_info = tree_unflatten(out_tree, [ShapeDtypeStruct(a.shape, a.dtype)
                                                  for a in jaxpr.out_avals])
        self._jitted, self._args, self._kwargs = jitted, args, kwargs

    def lower(self) -> "Lowered":
        return self._jitted.lower(*self._args, **self._kwargs)


class Lowered:
    """``jit(f).lower(*args)``: the optimized program (``jaxpr``), the generated Numba
    module (``source``, ``as_text()``) and ``compile()``."""

    def __init__(self, jitted: Jitted, backend_lowered, args, kwargs):
        self._jitted, self._lowered = jitted, backend_lowered
        self._signature = jitted._signature(args, kwargs)[0]
        self.jaxpr, self.source = backend_lowered.jaxpr, backend_lowered.source

    def as_text(self) -> str:
        return self._lowered.as_text()

    def __str__(self) -> str:
        return self._lowered.as_text()

    __repr__ = __str__

    def compile(self) -> "Compiled":
        """The compiled function for arguments like the lowered ones (compiles now)."""
        return Compiled(self._jitted, self._signature)


class Compiled:
    """``jit(f).lower(*args).compile()``: calls the jitted function; arguments must have
    the shapes, dtypes and static values the program was lowered for (as in JAX)."""

    def __init__(self, jitted: Jitted, signature):
        # the kernel itself is compiled (or loaded from the disk cache) at the first call,
        # through the jitted function's own cache, so it is compiled once either way
        self._jitted, self._key = jitted, signature

    def __call__(self, *args, **kwargs):
        key = self._jitted._signature(args, kwargs)[0]
        if key != self._key:
            raise TypeError(f"compiled function of {self._jitted.name}: called with arguments "
                            f"of another signature than the one it was lowered for: "
                            f"{_describe_change(self._key, key)}.")
        return self._jitted(*args, **kwargs)


def clear_caches() -> None:
    """Drop every in-memory compiled program (JAX's ``jax.clear_caches``): the traced
    programs of all jitted functions and the compiled kernels with Numba's and LLVM's
    memory for them (see ``docs/cache.md``, "Memory"). The next calls trace again and
    load their kernels from the disk cache, if it is on, or compile them. The in-memory
    cache's size is ``xform.config.update("xform_compile_cache_size", n)``.

    >>> import xform
    >>> f = xform.jit(lambda x: x + 1)
    >>> _ = f(1.0); xform.clear_caches(); f._cache_size()
    0
    >>> print(f(1.0))  # traced and compiled (or loaded from the disk cache) again
    2.0
    """
    for jitted in list(_ALL_JITTED):
        jitted.clear_cache()
    if _BACKEND:  # (nothing was compiled if the backend was never imported)
        from .backend.numba import resident

        resident.clear()


_NO_FUN: Any = object()  # jit() without a function: a decorator (jit(None) is an error)


def jit(fun: Callable | None = _NO_FUN, static_argnums: int | Iterable[int] | None = None,
        static_argnames: str | Iterable[str] | None = None, *, tiered: bool | None = None,
        donate_argnums: int | Iterable[int] | None = None,
        donate_argnames: str | Iterable[str] | None = None, inline: bool = False,
        keep_unused: bool = False) -> Jitted | Callable[[Callable], Jitted]:
    """Compile ``fun`` with Numba: traced once per input signature, cached.

    ``static_argnums``/``static_argnames`` mark arguments whose values are part of the
    cache key (Python values the function branches on). As in JAX each is inferred from
    the other through ``fun``'s signature, so an argument named in ``static_argnames``
    is static also when passed by position, and one in ``static_argnums`` also when
    passed by keyword. ``jit(static_argnums=...)`` without ``fun`` returns a decorator.

    ``tiered=True`` trades reproducibility for start-up latency: until a signature's
    kernel is compiled, calls evaluate the traced program op by op (like the un-jitted
    function, with numpy) while Numba compiles it in a background thread; later calls
    use the kernel. Results before and after the switch can differ in the last bits
    (like eager and jitted results), and when the switch happens depends on timing, so
    it is off by default: the first call waits for the compiled kernel. ``None`` follows
    ``xform.config.jit_tiered`` (off unless env ``XFORM_JIT_TIERED=1``).
    ``xform.wait_for_compilations()`` blocks until background compilations finish.

    JAX's ``donate_argnums``/``donate_argnames`` (a hint that an input buffer may be
    reused; results never share memory with inputs here), ``inline`` (nested jitted
    functions are always inlined into the outer program) and ``keep_unused`` are
    accepted for compatibility and change nothing.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> f = xform.jit(lambda x, y: x * y + 1.0)
    >>> f(np.arange(3.0), 2.0)
    array([1., 3., 5.])
    >>> @xform.jit(static_argnames="n")
    ... def power(x, n):
    ...     return x ** n if n > 0 else xnp.ones_like(x)
    >>> power(np.arange(3.0), 2)  # n is static also when passed by position
    array([0., 1., 4.])
    """
    if fun is _NO_FUN:
        def decorator(f: Callable) -> Jitted:
            return jit(f, static_argnums, static_argnames, tiered=tiered,
                       donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                       inline=inline, keep_unused=keep_unused)

        return decorator
    if not callable(fun):
        raise TypeError(f"jit: expected a function to compile, got {type(fun).__name__} "
                        f"({fun!r}); use jit(f, ...) or @jit(static_argnums=...).")
    static_argnums = () if static_argnums is None else static_argnums
    static_argnames = () if static_argnames is None else static_argnames
    if isinstance(static_argnums, (int, np.integer)):
        static_argnums = (static_argnums,)
    if isinstance(static_argnames, str):
        static_argnames = (static_argnames,)
    if tiered not in (None, True, False):
        raise TypeError(f"jit of {fun_name(fun)}: tiered must be True, False or None, "
                        f"got {tiered!r}.")
    _check_donation(fun, donate_argnums, donate_argnames)
    static_argnums = _check_static_argnums(fun, tuple(static_argnums))
    static_argnums, static_argnames = _infer_static(fun, static_argnums, tuple(static_argnames))
    return Jitted(fun, static_argnums, static_argnames, tiered)


def _check_donation(fun, donate_argnums, donate_argnames) -> None:
    """Donation is only a hint (validated, then unused): see ``jit``."""
    nums = () if donate_argnums is None else donate_argnums
    nums = (nums,) if isinstance(nums, (int, np.integer)) else nums
    names = () if donate_argnames is None else donate_argnames
    names = (names,) if isinstance(names, str) else names
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"jit of {fun_name(fun)}: donate_argnums must be ints, got {i!r}.")
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"jit of {fun_name(fun)}: donate_argnames must be strings, "
                            f"got {n!r}.")


def _infer_static(fun, argnums: tuple, argnames: tuple) -> tuple[tuple, tuple]:
    """Complete static positions and names from each other through ``fun``'s signature
    (JAX's rule): a parameter that can be passed both ways is static either way."""
    import inspect

    for n in argnames:
        if not isinstance(n, str):
            raise TypeError(f"jit of {fun_name(fun)}: static_argnames must be strings, "
                            f"got {n!r}.")
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # no signature: take them as given
        return argnums, argnames
    _check_static_names(fun, params, argnames)
    nums, names = list(argnums), list(argnames)
    for i, p in enumerate(params):
        if p.kind is not p.POSITIONAL_OR_KEYWORD:
            continue
        if p.name in argnames and i not in nums:
            nums.append(i)
        if i in argnums and p.name not in names:
            names.append(p.name)
    return tuple(nums), tuple(names)


def _check_static_names(fun, params, argnames: tuple) -> None:
    """A static name that is no parameter of ``fun`` (a typo, usually) would silently
    make nothing static: a ValueError, as in JAX (older JAX warned), unless ``fun``
    takes ``**kwargs``."""
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    known = {p.name for p in params if p.kind is not p.POSITIONAL_ONLY}
    unknown = [n for n in argnames if n not in known]
    if unknown:
        raise ValueError(
            f"jit of {fun_name(fun)}: static_argnames {unknown} name no parameter of the "
            f"function (its parameters: {[p.name for p in params]}); fix the names, or pass "
            f"positions with static_argnums.")


def _check_static_argnums(fun, argnums: tuple) -> tuple:
    """Static argument positions, negative ones counted from the end of ``fun``'s
    positional parameters; a position ``fun`` cannot take is an error."""
    import inspect

    for i in argnums:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"jit of {fun_name(fun)}: static_argnums must be ints, got {i!r}.")
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # no signature (some builtins): take them as given
        return tuple(int(i) for i in argnums)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        n = None
    else:
        n = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    out = []
    for i in argnums:
        i = int(i)
        if n is not None and not -n <= i < n:
            raise ValueError(
                f"jit of {fun_name(fun)}: static_argnums contains {i}, but the function takes "
                f"{n} positional argument{'s' if n != 1 else ''}.")
        if i < 0:
            if n is None:
                raise ValueError(
                    f"jit of {fun_name(fun)}: static_argnums contains {i}; negative positions "
                    f"need a fixed number of positional parameters (the function takes *args).")
            i += n
        out.append(i)
    return tuple(out)


