"""The in-memory cache of compiled kernel modules: bounded, and really freed on eviction.

A generated module (``xform_<source hash>``: the ``kernel`` and its helper functions,
compiled by Numba) is shared by every program whose source is the same; ``load_module``
(``cache.py``) finds it here. At most ``config.compile_cache_size`` modules stay
resident (``xform.config.update("xform_compile_cache_size", n)``, default 1024); the
least recently used one goes first, and ``xform.clear_caches()`` evicts them all.
Evicting a module also evicts the programs compiled with it (``Compiled._evict``): they
leave the jaxprs' caches and the jitted functions' signature caches, so the next call
traces and compiles again (from the disk cache, if it is on). docs/cache.md has the
rules and the measured numbers.

Recency: a program's calls through ``Compiled.__call__`` touch its module; calls through
a jitted function's direct fast path do not (they cost ~1 us and stay that way). So at
each admission into a cache over half full, the module halfway down the order loses
its fast paths: its jitted functions go through ``Compiled.__call__`` once more at
their next call, which touches it, so a program still in use is touched while it moves
from the middle to the old end, where modules are evicted. A module whose program is
compiling, or was created and not yet called, is never evicted (the cache may then
briefly hold more than the bound).

What keeps a compiled kernel's memory, and what ``_release`` and ``slim`` do about it
(numba 0.61-0.68, llvmlite 0.44-0.51; ``tests/test_cache_bounds.py`` checks that each
release still happens):

- Numba never frees a dispatcher: the target context's user-function table
  (``targetctx._defns``) holds each compiled function's entry point, and the dispatcher's
  own finalizer (kept by ``weakref.finalize``) holds its overloads; both lead back to the
  dispatcher through the function's environment and module globals. ``_release`` removes
  the user functions and empties the dict the finalizer holds (the dispatcher keeps a
  copy, so a caller still holding it keeps working), which leaves an ordinary garbage
  cycle.
- The LLVM IR: MCJIT owns every finalized module, and the code library keeps it (and a
  second copy for linking, plus the object code for the disk cache) although the machine
  code no longer needs it. ``slim`` drops the kernel's own IR right after it is compiled
  (with the typing annotations and pass metadata of its compile result); the helper
  functions' IR, which a later compilation of the kernel for another argument layout
  links, is dropped at eviction.
- The machine code and the object file MCJIT made it from stay mapped until the process
  ends (llvmlite has no way to free them), ~50 KB per kernel: this, not Python, is what
  ``clear_caches`` cannot give back.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import linecache
import os
import sys
import weakref

from ... import config
from .. import platform
from . import cache as _cache


class _Entry:
    __slots__ = ("module", "users")

    def __init__(self, module):
        self.module = module
        self.users: weakref.WeakSet = weakref.WeakSet()  # the live Compiled using it


# name -> entry, least recently used first; guarded by the disk cache's lock (cache._LOCK,
# which the fork handlers hold across os.fork, see forksafe.py)
_MODULES: "collections.OrderedDict[str, _Entry]" = collections.OrderedDict()


def lookup(name: str):
    """The resident module ``name`` (marked used), or None."""
    entry = _MODULES.get(name)
    if entry is None:
        return None
    touch(name)
    return entry.module


def admit(name: str, module) -> None:
    """Keep ``module`` resident, as the most recently used (``load_module``, within
    ``compile_jaxpr``; modules beyond the bound are evicted when the program using this
    one registers)."""
    with _cache._LOCK:
        _MODULES[name] = _Entry(module)


def register(compiled) -> None:
    """Record that ``compiled`` (a ``Compiled``, made by ``compile_jaxpr`` under the
    compile lock since its ``load_module``) runs its module's kernel: it is evicted with
    the module. Then evict the least recently used modules beyond the bound."""
    name = compiled.module.__name__
    entry = _MODULES.get(name)
    if entry is None or entry.module is not compiled.module:
        return
    entry.users.add(compiled)
    limit = config.compile_cache_size
    if limit is None:
        return
    if len(_MODULES) > limit:
        with _locked():
            _shrink(limit, keep=name)
    if len(_MODULES) > limit // 2:  # eviction is getting near
        _recheck_middle(keep=name)


def touch(name: str) -> None:
    """Mark module ``name`` used. Lock-free: an OrderedDict move is atomic under the GIL,
    and a module evicted meanwhile is simply not found."""
    try:
        _MODULES.move_to_end(name)
    except KeyError:
        pass


def resident() -> int:
    """How many modules are resident."""
    return len(_MODULES)


def _locked():
    """The locks modules are evicted under, in the order compilations take them: the
    backend's compile lock (held from ``load_module`` until the new ``Compiled``
    registers, so a module cannot go between the two), Numba's compiler lock (no
    compilation of an evicted kernel is half done; one starting later finds compiling
    disabled, see ``_release``), then ``cache._LOCK``."""
    from . import _COMPILE_LOCK

    stack = contextlib.ExitStack()
    stack.enter_context(_COMPILE_LOCK)
    lock = sys.modules.get("numba.core.compiler_lock")
    if lock is not None:
        stack.enter_context(lock.global_compiler_lock)
    stack.enter_context(_cache._LOCK)
    return stack


def clear() -> int:
    """Evict every module that is not in use (``xform.clear_caches``) and give the memory
    back to the OS; returns how many were evicted."""
    with _locked():
        n = _shrink(0)
    gc.collect()  # Numba's objects form cycles: freed by the cycle collector
    platform.trim_malloc()
    return n


def _on_config(name: str) -> None:
    if name == "compile_cache_size":
        with _locked():
            _shrink(config.compile_cache_size)


config._listeners.append(_on_config)


def _pinned(entry: _Entry) -> bool:
    return any(c.busy for c in list(entry.users))


def _shrink(limit, keep: str | None = None) -> int:
    """Evict the least recently used modules until at most ``limit`` (None: no bound)
    are resident; pinned ones and ``keep`` (the one just admitted) are skipped. Called
    under ``_locked()``."""
    if limit is None:
        return 0
    evicted = 0
    while len(_MODULES) > limit:
        # a snapshot: lock-free touches may reorder the dict meanwhile
        victim = next(((n, e) for n, e in list(_MODULES.items())
                       if n != keep and not _pinned(e)), None)
        if victim is None:
            break
        name, entry = victim
        del _MODULES[name]
        _evict(entry)
        evicted += 1
    return evicted


def _recheck_middle(keep: str) -> None:
    """Drop the fast paths of the module halfway down the order (see the module
    docstring): if its program is in use, its next call touches it."""
    names = [n for n in list(_MODULES) if n != keep]  # (list(): one atomic step)
    if names:
        for c in list(_MODULES[names[len(names) // 2]].users):
            c.drop_fast_paths()


def _evict(entry: _Entry) -> None:
    for c in list(entry.users):
        c._evict()
    try:
        _release(entry.module)
    except Exception:  # pragma: no cover - numba internals changed: only memory is lost
        sys.modules.pop(entry.module.__name__, None)


# -- giving Numba's and LLVM's memory back -------------------------------------------------

def _dispatchers(module) -> list:
    from numba.core.dispatcher import Dispatcher

    g = module.__dict__
    return [v for v in list(g.values())
            if isinstance(v, Dispatcher) and v.py_func.__globals__ is g]


def _release(module) -> None:
    """Make ``module`` and its Numba functions collectable (see the module docstring):
    what still holds them (a caller in another thread, a ``Compiled`` someone kept) keeps
    working with the machine code compiled so far."""
    name = module.__name__
    if sys.modules.get(name) is module:
        del sys.modules[name]
    _forget_source(module)
    for d in _dispatchers(module):
        targetctx = d.targetctx
        overloads = d.overloads
        for cres in list(overloads.values()):
            try:
                targetctx.remove_user_function(cres.entry_point)
            except KeyError:
                pass
            _drop_ir(cres.library)
            for lib in _parfor_libraries(cres.library):
                _drop_ir(lib)
        # numba's finalizer holds this very dict (and so the compile results, their
        # environments, the module globals and the dispatcher): it keeps an empty one
        d.overloads = collections.OrderedDict(overloads)
        overloads.clear()
        # no new signatures: outside sys.modules numba would compile it as a function of
        # no module, and the disk cache would get an entry that cannot be loaded. A call
        # needing one raises numba's RuntimeError("compilation disabled"), which jit turns
        # into a new compilation of the program (Jitted.__call__, Compiled.__call__).
        d._can_compile = False


# Code libraries numba makes for one parallel loop (its gufunc and the wrappers calling it
# from the thread pool): linked only into the function holding the loop. The other
# libraries functions link (numba's implementations of np.empty & co., the runtime,
# xform's helpers) are shared by every kernel and keep their IR for later links.
_PARFOR_LIBRARIES = ("__numba_parfor_gufunc_", "<numba.np.ufunc.wrappers._GufuncWrapper",
                     "parallelgufuncwrapper")


def _parfor_libraries(lib) -> list:
    found: list = []
    todo = list(getattr(lib, "_linking_libraries", ()))
    while todo:
        dep = todo.pop()
        if dep.name.startswith(_PARFOR_LIBRARIES) and not any(dep is f for f in found):
            found.append(dep)
            todo.extend(getattr(dep, "_linking_libraries", ()))
    return found


def slim(dispatcher) -> None:
    """Right after ``dispatcher`` (a kernel, which no other Numba function calls or links)
    is compiled or loaded: drop what only compiling, inspecting or saving it needed."""
    try:
        _slim(dispatcher)
    except Exception:  # pragma: no cover - numba internals changed: only memory is lost
        pass


def _slim(dispatcher) -> None:
    for sig, cres in list(dispatcher.overloads.items()):
        lib = cres.library
        if getattr(lib, "_xform_slim", False):
            continue
        fndesc = cres.fndesc
        fndesc.typemap = fndesc.calltypes = None  # (as numba does before pickling one)
        dispatcher.overloads[sig] = cres._replace(type_annotation=None, metadata=None,
                                                  call_helper=None)
        _drop_ir(lib)
        lib._disable_inspection = True  # inspect_llvm/asm: numba's "inspection disabled"
        lib._xform_slim = True
    _forget_source(sys.modules.get(dispatcher.py_func.__module__))


def _drop_ir(lib) -> None:
    """Free a finalized code library's LLVM IR (its machine code stays in MCJIT, found by
    symbol name) and the object code kept for the disk cache."""
    if not getattr(lib, "_finalized", False):
        return
    module = getattr(lib, "_final_module", None)
    engine = getattr(getattr(lib.codegen, "_engine", None), "_ee", None)
    if module is not None and engine is not None and module in engine._modules:
        engine.remove_module(module)  # ownership returns to the ModuleRef, which frees it
    lib._final_module = _EMPTY_MODULE
    lib._shared_module = None
    lib.__dict__.pop("_compiled_object", None)


class _NoModule:
    """Stands for a dropped LLVM module: numba code that would still read one gets a
    clear error instead of using freed IR."""

    def __getattr__(self, name):
        raise AttributeError(f"{name!r}: the LLVM IR of this compiled kernel was freed after "
                             f"compilation (see xform/backend/numba/resident.py)")


_EMPTY_MODULE = _NoModule()


def _forget_source(module) -> None:
    """Drop the linecache copy of a generated module's source: its file in the disk cache
    (when there is one) is read again if a traceback needs it."""
    filename = getattr(module, "_XFORM_FILENAME", None) if module is not None else None
    if filename is not None:
        linecache.cache.pop(filename, None)
        try:  # numba's error locations read it under a relative path (numba.core.ir.Loc)
            linecache.cache.pop(os.path.relpath(filename), None)
        except ValueError:  # (another drive, on Windows)
            pass
