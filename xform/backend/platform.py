"""Process-wide settings and workarounds for the dependencies, in one place.

Imported first by ``import xform`` (it imports neither Numba nor scipy itself).

Each works around a cost or a defect of a dependency, at the versions it was written
for and tested with (numba 0.59-0.68, llvmlite 0.42-0.51, scipy 1.10-1.17, glibc 2.31+);
``tests/test_platform.py`` checks each one still does its job, so an upgrade that
changes the internals they rely on shows up there:

- ``keep_numba_off_sys_streams``: Numba's coloured error messages (with colorama
  installed) reassign ``sys.stdout``/``sys.stderr`` to the streams seen when a message
  began, undoing a redirection made meanwhile by another thread (pytest's capture,
  ``contextlib.redirect_stdout``) while Numba compiles, e.g. a tiered background
  compilation. Sets ``NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING=1`` unless the user set
  it; called when this module is imported, so before xform imports Numba.
- ``size_numba_pool``: ``XFORM_NUM_THREADS`` sets ``NUMBA_NUM_THREADS`` before Numba is
  imported (see ``xform/backend/numba/threads.py``).
- ``preload_cython_blas``: load scipy's BLAS bindings without ``scipy.linalg``'s
  package init (0.1-0.3 s of a warm-cache first call).
- ``load_cached``: load a kernel's machine code from Numba's disk cache without Numba's
  registry initialization (0.2-0.35 s once per process).
- ``tune_malloc``: keep glibc's malloc from returning freed memory to the OS after every
  kernel call (page faults on every call of kernels with big temporaries);
  ``trim_malloc`` returns it when asked to (``xform.clear_caches()``).
- ``dispose_pass_managers``: llvmlite never frees LLVM's optimization pass pipelines,
  ~0.9 MB per compiled kernel (checked in ``tests/test_cache_bounds.py``, with the rest
  of what a compiled kernel keeps: ``xform/backend/numba/resident.py``).
- ``interrupts_deferred`` / ``load_compiler``: Ctrl-C during an import (Numba's, or its
  registries loaded at the first compilation) leaves a half-imported package that stays
  broken for the process (``module 'numba' has no attribute 'core'`` at every later
  compilation); those steps hold the interrupt back until they are done.
"""
from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import signal
import sys
import threading


def keep_numba_off_sys_streams() -> None:
    """Numba reads the variable when ``numba.core.errors`` is
    first imported; if that already happened, its colour shell is made inert instead
    (it only matters for ANSI conversion on Windows consoles)."""
    os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
    errors = sys.modules.get("numba.core.errors")
    shell = getattr(errors, "ColorShell", None)
    if shell is not None and os.environ["NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"] != "0":
        shell.__init__ = lambda self: None
        shell.__enter__ = lambda self: None
        shell.__exit__ = lambda self, *exc: None




keep_numba_off_sys_streams()


def size_numba_pool() -> None:
    """``XFORM_NUM_THREADS`` also sizes Numba's thread pool (``NUMBA_NUM_THREADS``, unless
    the user set that): Numba's thread count is per thread, and a thread that never set
    one uses the pool size, so this is what makes the setting hold in every thread
    (``xform.config.update`` can only set the calling thread's). Numba reads the
    variable when it is imported: ``import xform`` comes first in the usual case."""
    v = os.environ.get("XFORM_NUM_THREADS", "").strip()
    if v.isdigit() and int(v) >= 1 and "NUMBA_NUM_THREADS" not in os.environ:
        os.environ["NUMBA_NUM_THREADS"] = str(int(v))


size_numba_pool()


# GNU OpenMP's spin before an idle worker sleeps (its default: ~300,000 iterations, a few
# milliseconds). Numba's parallel regions (convolution tiles, big loop nests) run on
# OpenMP; their workers, still spinning after a region, hold the cores the BLAS call that
# follows needs (OpenBLAS's own pthreads): a Gram matrix after a convolution took 8.0 ms
# instead of 2.2-2.5 ms, the style-transfer loss 33 ms instead of 20-22 ms (128x128, idle
# machine; docs/performance.md, "Threads"). 10,000 keeps workers warm between close
# regions (by estimate ~10-20 us of spinning; not measured) and frees the cores soon
# after. Set before Numba loads libgomp (its threading layer starts at the first
# parallel kernel); a user's own setting, or OMP_WAIT_POLICY, wins.
def shorten_openmp_spin() -> None:
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = "10000"


shorten_openmp_spin()


def preload_cython_blas() -> None:
    """Load scipy's ``cython_blas`` extension without ``scipy.linalg``'s package init.

    Numba's BLAS calls find dgemm & co. by importing ``scipy.linalg.cython_blas`` (at
    typing, and from C at a kernel's first BLAS call). Importing it the normal way runs
    ``scipy/linalg/__init__`` first: 0.1-0.3 s, the largest part of a warm-cache first
    call. The extension itself needs only the top-level ``scipy`` package and loads in
    ~4 ms; once it is in ``sys.modules`` both lookups find it there. If anything differs
    from that layout, nothing is done and the normal import happens later.
    """
    name = "scipy.linalg.cython_blas"
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec("scipy")
        if spec is None or not spec.submodule_search_locations:
            return
        linalg_dir = os.path.join(list(spec.submodule_search_locations)[0], "linalg")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(linalg_dir, "cython_blas" + suffix)
            if os.path.exists(path):
                break
        else:
            return
        import scipy  # noqa: F401  (the parent package the extension's init expects)

        loader = importlib.machinery.ExtensionFileLoader(name, path)
        ext_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        module = importlib.util.module_from_spec(ext_spec)
        sys.modules[name] = module
        try:
            loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        if "scipy.linalg" in sys.modules:
            sys.modules["scipy.linalg"].cython_blas = module
        else:  # a later `import scipy.linalg` must still show it as an attribute
            sys.meta_path.insert(0, _LinkWhenImported("scipy.linalg", "cython_blas", module))
    except Exception:  # scipy missing or laid out differently: numba imports it itself
        sys.modules.pop(name, None)


class _LinkWhenImported:
    """Meta-path finder: when ``package`` is imported, set ``package.attr = module``
    after its init ran (as the import system does for a submodule it loads), then step
    aside."""

    def __init__(self, package: str, attr: str, module):
        self.package, self.attr, self.module = package, attr, module

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.package:
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:  # another thread got here first
            return None
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader, attr, module = spec.loader, self.attr, self.module

        class _Linking(type(loader)):  # the original loader's behaviour, plus the link
            def exec_module(self, mod):
                loader.exec_module(mod)
                setattr(mod, attr, module)

        try:
            linking = object.__new__(_Linking)
            linking.__dict__.update(getattr(loader, "__dict__", {}))
            spec.loader = linking
        except TypeError:  # a loader we cannot wrap: leave the import as it was
            pass
        return spec


def load_cached(kernel, sig) -> bool:
    """Load ``kernel``'s machine code for ``sig`` from numba's disk cache, as
    ``Dispatcher.compile`` does, but without ``target_context.refresh()``.

    That refresh loads all of numba's typing/lowering registries (numba.np.arraymath,
    linalg, ... and scipy's BLAS bindings): 0.2-0.35 s once per process, and not needed
    to run cached machine code (a later compilation in this process still does it).
    Returns False (the caller then compiles normally, with numba's own error handling)
    when there is no usable entry or numba's internals differ.
    """
    try:
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.runtime import rtsys

        with global_compiler_lock:
            if tuple(sig) in kernel.overloads:
                return True
            rtsys.initialize(kernel.targetctx)  # the memory allocator (NRT) is needed
            cres = kernel._cache._load_overload(sig, kernel.targetctx)
            if cres is None or cres.objectmode:
                return False
            kernel._cache_hits[sig] += 1
            kernel.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                  [cres.library])
            kernel.add_overload(cres)
            return True
    except Exception:
        return False


@contextlib.contextmanager
def interrupts_deferred():
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise KeyboardInterrupt.

    For steps that must not stop half-way (imports): a package whose import was
    interrupted stays half-initialized for the whole process. Only in the main thread
    with Python's default handler (elsewhere, or with a handler of the user's, or
    nested: nothing changes). The interrupt arrives at most the block's duration late.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    pending: list = []
    signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if pending:
            raise KeyboardInterrupt


_COMPILER_LOADED = False


def load_compiler(dispatcher) -> None:
    """Load Numba's typing and lowering registries (imports of numba.np.* & co., done
    by its first compilation) once per process, with interrupts deferred (see
    ``interrupts_deferred``); a compilation itself can be interrupted safely."""
    global _COMPILER_LOADED
    if _COMPILER_LOADED:
        return
    from numba.core.compiler_lock import global_compiler_lock

    # under Numba's compiler lock, as in its own compilations: a thread compiling while
    # the registries are half-installed fails to type np.empty & co.
    with interrupts_deferred(), global_compiler_lock:
        dispatcher.targetctx.refresh()
        dispatcher.typingctx.refresh()
    _COMPILER_LOADED = True


_MALLOC_TUNED = False


def tune_malloc() -> None:
    """Keep glibc's malloc from returning freed memory to the OS after every call.

    Kernels allocate their results and intermediates with malloc (numba's runtime).
    glibc trims the top of the heap once more than M_TRIM_THRESHOLD (dynamically ~2x the
    largest recently freed block) is free, so a kernel whose arrays total more than that
    gets fresh, zero-filled pages -- page faults -- on every call (measured: jacrev
    n=200 of the benchmarks runs at 500 us instead of 215 us, depending on the
    process's allocation history). Like XLA's own allocator, keep freed memory: blocks
    up to 32 MB (glibc's own upper bound for its dynamic threshold) come from the heap,
    and up to 256 MB of free heap is kept. Linux/glibc only; ``XFORM_MALLOC_TUNING=0``
    disables it.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    import os
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("XFORM_MALLOC_TUNING") == "0":
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 256 << 20)


def trim_malloc() -> bool:
    """Give the heap's free memory back to the OS now (glibc's ``malloc_trim``).
    ``tune_malloc`` keeps up to 256 MB of freed memory for later kernel calls, so memory
    freed by ``xform.clear_caches()`` would otherwise stay with the process. False where
    there is no ``malloc_trim`` (not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True


_PASS_MANAGERS_FIXED = False


def dispose_pass_managers() -> None:
    """Make llvmlite free LLVM's optimization pass pipelines after use.

    llvmlite's new-pass-manager wrappers (``ModulePassManager``, ``FunctionPassManager``,
    llvmlite 0.44-0.51) list ``ffi.ObjectRef`` before ``NewPassManager`` among their
    bases, so their ``_dispose`` is ObjectRef's, which does nothing: the C++ pipelines,
    and the state their passes keep from the code they optimized, are never freed.
    Numba makes one per function and per module it optimizes: measured ~0.9 MB per
    compiled kernel. The wrappers get NewPassManager's ``_dispose`` (the C++ delete).
    Numba also makes a pass builder (whose instrumentation callbacks llvmlite never
    frees, ~2 KB) for every function of a module, declarations included, which the
    C++ side then skips: declarations get none (the same optimization, ~40 builders
    fewer per kernel). Each part is applied only if the code it fixes looks as expected.
    """
    global _PASS_MANAGERS_FIXED
    if _PASS_MANAGERS_FIXED:
        return
    _PASS_MANAGERS_FIXED = True
    try:
        from llvmlite.binding import ffi
        from llvmlite.binding import newpassmanagers as npm
    except ImportError:  # an llvmlite without the new pass manager: nothing to fix
        npm = None
    if npm is not None:
        for cls in (getattr(npm, "ModulePassManager", None), getattr(npm, "FunctionPassManager", None)):
            if (cls is not None and hasattr(npm, "NewPassManager")
                    and cls._dispose is ffi.ObjectRef._dispose):
                cls._dispose = npm.NewPassManager._dispose
    try:
        from numba.core import codegen
    except ImportError:  # pragma: no cover
        return
    lib = codegen.CPUCodeLibrary
    names = getattr(getattr(lib, "_optimize_functions", None), "__code__", None)
    if names is None or not {"_function_pass_manager", "_recorded_timings",
                             "functions"} <= set(names.co_names):
        return

    def _optimize_functions(self, ll_module):
        """Numba's, without a pass builder for declarations (see dispose_pass_managers)."""
        ll_module.data_layout = self._codegen._data_layout
        for func in ll_module.functions:
            if func.is_declaration:
                continue
            fpm, pb = self._codegen._function_pass_manager()
            with self._recorded_timings.record(f"Function passes on {func.name!r}", pb):
                fpm.run(func, pb)

    lib._optimize_functions = _optimize_functions
