"""Thread counts of compiled kernels: Numba's parallel loops and the BLAS they call.

Two pools of threads run jitted code: Numba's (``prange`` loops of the parallel helpers,
convolution tiles) and the BLAS library's (matrix products and LAPACK). On a machine
whose cores are all busy, each parallel step waits for a thread that has no core, and
OpenBLAS's threads spin while they wait: measured 5-50x slower than one thread (see
``docs/performance.md``, "Threads"). The policy:

- **Numba** (``xform.config`` ``xform_num_threads``, env ``XFORM_NUM_THREADS``; default
  Numba's own count, all cores): applied with ``numba.set_num_threads``, which is
  per thread in Numba. ``update`` applies it to the calling thread at once;
  ``runtime.region_threads``, called before a parallel region (convolution tiles),
  applies it -- or by default the pool capped by the free cores (``Governor``) -- in
  whatever thread runs the kernel. The environment variable also sets Numba's pool
  size (``NUMBA_NUM_THREADS``, when that is unset), so it reaches every thread. Loops
  run in parallel only when they are big (``fusion._outline_mode``, ``config.parallel``).
- **BLAS** (``xform_blas_num_threads``, env ``XFORM_BLAS_NUM_THREADS``): the kernels'
  BLAS calls (``linalg_runtime.gemm``, ``runtime.dot_batched``, the LAPACK helpers, convolutions) set
  the thread count of the library they call around each call (``runtime.blas_enter``):
  one thread for products of fewer than ``blas_min_work`` multiply-adds (waking threads
  costs more than they give) and for any call made while another kernel is inside
  BLAS (a convolution's tiles on Numba's threads, kernels called from several Python
  threads); otherwise the setting, or by default the library's own count capped by the
  cores other processes leave free (``Governor``). The library's own count is restored
  when the last kernel leaves BLAS, so ``scipy.linalg`` calls outside kernels are not
  affected.

The state compiled code reads is one int64 array, reached from machine code through the
symbol ``xform_blas_state`` (registered here with LLVM before any kernel is loaded;
resolved when cached machine code is loaded, so kernels stay cacheable on disk).
"""
from __future__ import annotations

import ctypes
import importlib
import os
import sys
import threading
import time

import numpy as np

from ... import config

# -- the state compiled code reads (indices into STATE) --------------------------------------
LOCK = 0        # spin lock (0 free, 1 held) around the fields below
ACTIVE = 1      # kernels currently inside a BLAS call
SAVED = 2       # the library's own count when the first of them entered (restored after)
CURRENT = 3     # the count the library runs with now (as last set or read)
WANT = 4        # xform_blas_num_threads (0: the library's own count)
CAP = 5         # cores other processes leave free (0: no cap; written by the governor)
MIN_WORK = 6    # multiply-adds below which a call runs on one thread
GET = 7         # address of ``int get_num_threads(void)`` of the library (0: unknown)
SET = 8         # address of ``void set_num_threads(int)``
ENABLED = 9     # 1 once GET/SET are known: compiled code switches counts only then
CALLS = 10      # BLAS calls and parallel regions so far (the governor sleeps longer
#                 while there are none)
NUMBA_WANT = 11  # xform_num_threads (0: Numba's pool size)
POOL = 12       # Numba's pool size (NUMBA_NUM_THREADS)
STATE_LEN = 16

STATE = np.zeros(STATE_LEN, np.int64)
SYMBOL = "xform_blas_state"

_LOCK = threading.Lock()
_ready = False
_library: dict | None = None


def _register_symbol() -> None:
    from llvmlite import binding

    binding.add_symbol(SYMBOL, STATE.ctypes.data)


_register_symbol()


# -- the BLAS library the kernels call ---------------------------------------------------------

_DGEMM_NAMES = tuple(p + "dgemm" + s for p in ("", "scipy_") for s in ("_", "_64_", "64_", ""))


def _address(lib, name: str) -> int:
    try:
        return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0
    except AttributeError:
        return 0


def _find_library() -> dict:
    """The threadpoolctl controller of the BLAS that scipy's ``cython_blas`` (and so
    Numba's ``np.dot`` and xform's LAPACK calls) resolves to, with the addresses of its
    thread-count functions where it has a process-wide count xform can switch per call
    (OpenBLAS's pthreads build); ``{}`` when none is found.

    numpy's wheels bring their own OpenBLAS (another library, another thread pool): the
    one kernels call is identified by resolving ``dgemm`` through ``cython_blas``'s own
    dependencies (``dlsym`` on its handle) and comparing addresses."""
    # platform.preload_cython_blas put the extension in sys.modules without scipy.linalg's
    # package init (0.1-0.3 s), which ``import scipy.linalg.cython_blas`` would run
    cython_blas = sys.modules.get("scipy.linalg.cython_blas")
    try:
        if cython_blas is None:
            cython_blas = importlib.import_module("scipy.linalg.cython_blas")
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return {}
    try:
        via_scipy = ctypes.CDLL(cython_blas.__file__)
        targets = {a for a in (_address(via_scipy, n) for n in _DGEMM_NAMES) if a}
        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    except OSError:
        return {}
    match = [c for c in blas if any(_address(c.dynlib, n) in targets for n in _DGEMM_NAMES)]
    if not match:
        return {}
    ctl = match[0]
    info = {"controller": ctl, "get": 0, "set": 0}
    if ctl.internal_api == "openblas" and getattr(ctl, "threading_layer", "") == "pthreads":
        for p in ("", "scipy_"):
            for s in ("", "64_", "_64"):
                get = _address(ctl.dynlib, f"{p}openblas_get_num_threads{s}")
                set_ = _address(ctl.dynlib, f"{p}openblas_set_num_threads{s}")
                if get and set_:
                    info["get"], info["set"] = get, set_
                    return info
    return info


def _library_info() -> dict:
    global _library
    if _library is None:
        _library = _find_library()
    return _library


def blas_library() -> dict:
    """What xform knows of the BLAS library kernels call: ``filepath``, ``internal_api``,
    ``threading_layer``, ``num_threads`` (as threadpoolctl reports them) and
    ``switchable`` (whether kernels set its thread count per call); ``{}`` if it was not
    found (kernels then leave its thread count alone).

    >>> from xform.backend.numba import threads
    >>> threads.blas_library().get("internal_api") in (None, "openblas", "mkl", "blis", "flexiblas")
    True
    """
    ensure_ready()
    lib = _library_info()
    if not lib:
        return {}
    ctl = lib["controller"]
    return {"filepath": ctl.filepath, "internal_api": ctl.internal_api,
            "threading_layer": getattr(ctl, "threading_layer", None),
            "num_threads": ctl.get_num_threads(), "switchable": bool(lib["get"])}


# -- applying the settings ----------------------------------------------------------------------


def _apply_blas_settings() -> None:
    n = config.blas_num_threads()
    STATE[WANT] = n or 0
    STATE[MIN_WORK] = config.blas_min_work()
    lib = _library_info()
    if lib and not lib["get"]:
        # a library without a per-call switch (MKL, BLIS, OpenBLAS built with OpenMP):
        # its process-wide count, through threadpoolctl (restored when unset again)
        ctl = lib["controller"]
        if n:
            lib.setdefault("original", ctl.get_num_threads())
            ctl.set_num_threads(n)
        elif "original" in lib:
            ctl.set_num_threads(lib.pop("original"))


def _apply_numba_settings() -> None:
    import numba

    STATE[POOL] = numba.config.NUMBA_NUM_THREADS
    STATE[NUMBA_WANT] = config.num_threads() or 0


def ensure_ready() -> None:
    """Find the BLAS library, fill the state compiled code reads and start the governor
    (once per process; called when the runtime module kernels import is loaded)."""
    global _ready
    if _ready:
        return
    with _LOCK:
        if _ready:
            return
        lib = _library_info()
        _apply_blas_settings()
        _apply_numba_settings()
        if lib.get("get"):
            STATE[GET], STATE[SET] = lib["get"], lib["set"]
            STATE[ENABLED] = 1
        _ready = True
    if config.num_threads() is not None:
        _set_numba_threads(config.num_threads())
    _governor.start_if_needed()


def _set_numba_threads(n) -> None:
    """Numba's count of the calling thread (Numba keeps one per thread): ``n``, or the
    pool size for None. Other threads get the setting at each parallel region of a
    kernel that calls ``runtime.region_threads`` (convolutions), or from the pool size
    when ``XFORM_NUM_THREADS`` was set at startup (``platform.size_numba_pool``)."""
    import numba

    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if n is None else n)


def _on_update(name: str) -> None:
    if name == "xform_num_threads":
        if _ready:
            _apply_numba_settings()
        _set_numba_threads(config.num_threads())
    elif name in ("xform_blas_num_threads", "xform_blas_min_work") and _ready:
        _apply_blas_settings()
    if _ready:
        _governor.start_if_needed()


config._listeners.append(_on_update)


# -- the governor: cores left free by other processes -----------------------------------------


def _busy_ticks(cpus) -> tuple[int, int] | None:
    """(busy, total) clock ticks of the given CPUs since boot, from /proc/stat."""
    try:
        with open("/proc/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    busy = total = 0
    for line in text.splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *fields = line.split()
        try:
            if int(name[3:]) not in cpus:
                continue
            v = [int(x) for x in fields[:8]]
        except ValueError:
            continue
        # user nice system idle iowait irq softirq steal
        busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
        total += sum(v)
    return (busy, total) if total else None


def free_cores(cores: int, busy_seconds: float, own_seconds: float, wall: float) -> int:
    """Cores not used by other processes: ``cores`` minus the CPU time the machine's
    CPUs were busy with other work over ``wall`` seconds (busy time minus this process's
    own CPU time, which includes its spinning BLAS and Numba workers), rounded to whole
    cores; at least 1.

    >>> free_cores(2, busy_seconds=0.1, own_seconds=0.1, wall=1.0)   # only us
    2
    >>> free_cores(2, busy_seconds=1.9, own_seconds=0.9, wall=1.0)   # one other busy process
    1
    """
    others = max(0.0, busy_seconds - own_seconds) / max(wall, 1e-9)
    return max(1, min(cores, int(cores - others + 0.5)))


class Governor:
    """A daemon thread that writes ``STATE[CAP]``: the cores other processes leave free,
    measured over the last ``PERIOD`` seconds (/proc/stat for the machine, the
    process's CPU time for itself). Runs only on Linux with 2+ cores, while
    ``xform_blas_num_threads`` is unset. It sleeps ``IDLE_PERIOD`` while kernels make
    no BLAS calls."""

    PERIOD = 0.5
    IDLE_PERIOD = 2.0

    def __init__(self):
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.stop = threading.Event()

    def wanted(self) -> bool:
        unpinned = config.num_threads() is None or (
            config.blas_num_threads() is None and STATE[ENABLED] == 1)
        return (unpinned and config._cores() > 1 and config.thread_governor()
                and os.path.exists("/proc/stat"))

    def start_if_needed(self) -> None:
        if not self.wanted():
            STATE[CAP] = 0
            return
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        self.stop = threading.Event()
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="xform-blas-governor", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        stop = self.stop
        try:
            cpus = os.sched_getaffinity(0)
        except (AttributeError, OSError):
            return
        hz = os.sysconf("SC_CLK_TCK")
        prev = _busy_ticks(cpus)
        prev_own, prev_wall, prev_calls = time.process_time(), time.monotonic(), STATE[CALLS]
        period = self.PERIOD
        while not stop.wait(period):
            if not self.wanted():
                STATE[CAP] = 0
                return
            cur = _busy_ticks(cpus)
            own, wall, calls = time.process_time(), time.monotonic(), STATE[CALLS]
            if cur is None or prev is None:
                return
            STATE[CAP] = free_cores(len(cpus), (cur[0] - prev[0]) / hz, own - prev_own,
                                    wall - prev_wall)
            period = self.PERIOD if calls != prev_calls else self.IDLE_PERIOD
            prev, prev_own, prev_wall, prev_calls = cur, own, wall, calls


_governor = Governor()


def _after_fork_in_child() -> None:
    # a thread of the parent may have held the lock or been inside BLAS
    STATE[LOCK] = 0
    STATE[ACTIVE] = 0
    _governor.thread = None
    if _ready:
        _governor.start_if_needed()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def info() -> dict:
    """The thread settings in force (for ``docs``, tests and bug reports).

    >>> from xform.backend.numba import threads
    >>> sorted(threads.info())
    ['blas', 'blas_cap', 'blas_min_work', 'numba_num_threads', 'numba_pool', 'threading_layer']
    """
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel code has run yet
        layer = None
    return {"numba_num_threads": numba.get_num_threads(),
            "numba_pool": numba.config.NUMBA_NUM_THREADS, "threading_layer": layer,
            "blas": blas_library(), "blas_cap": int(STATE[CAP]) or None,
            "blas_min_work": int(STATE[MIN_WORK])}
