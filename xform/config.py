"""Runtime configuration of xform (read at use time, so changes apply immediately).

- ``log_compiles`` (env ``XFORM_LOG_COMPILES=1``): log every jit compilation on the
  ``xform`` logger (function, signature, trace/codegen/compile times, and why an
  existing jitted function recompiled). A handler is added if the logger has none.
- ``jit_tiered`` (env ``XFORM_JIT_TIERED=1``): the default of ``jit(..., tiered=None)``:
  run uncompiled while Numba compiles in the background (see ``xform.jit``).
- ``check_jaxprs`` (env ``XFORM_CHECK_JAXPR=1``): verify every traced program and the
  result of every compiler pass with ``xform.core.check_jaxpr`` (a debugging aid: about
  5 us per equation; the test suite runs with it on).
- ``XFORM_CACHE_DIR``: directory of the jit disk cache (default ``~/.cache/xform``; see
  ``docs/cache.md``: layout, trust model, read-only caches).
- ``XFORM_DISABLE_DISK_CACHE=1``: compile in memory only (xform then writes no file).
- ``exit_compile_wait`` (env ``XFORM_EXIT_COMPILE_WAIT``, seconds, default 30): how long
  interpreter exit waits for pending background (tiered) compilations, so that their
  kernels reach the disk cache; 0 does not wait. Ctrl-C stops the wait quietly.
- ``XFORM_FORK_COMPILE_WAIT`` (seconds, default 60): how long ``os.fork()`` waits for a
  compilation under way in another thread (see ``xform/backend/numba/forksafe.py``).
- ``xform_compile_cache_size`` (env ``XFORM_COMPILE_CACHE_SIZE``, default 1024; None or
  env ``none``: no bound): how many compiled kernel modules stay in memory; the least
  recently used is evicted, with the programs compiled with it (their memory is given
  back; see ``docs/cache.md``, "Memory"). ``xform.clear_caches()`` evicts them all.

Code generation (read when a program is compiled; set before the first call):

- ``XFORM_PARALLEL=0``: no ``parallel=True`` helpers (default: on with 2+ cores);
  ``XFORM_PARALLEL_MIN_SIZE`` (2**20): elements of a loop nest that runs in parallel (a
  parallel helper costs 0.4-0.9 s more compile time: docs/performance.md).
- ``XFORM_FASTMATH_MIN_SIZE`` (2**14): elements of a reduction whose running sum may be
  reordered (LLVM's ``reassoc`` flag on the additions: vectorized sums) and, on AVX-512
  targets, of a loop nest that uses 512-bit vectors.
- ``XFORM_VECTOR_MATH=0``: ``np.exp`` & co. instead of the vectorizable math functions.
- ``XFORM_FAST_TRIG=0``: no fast sin/cos path.
- ``XFORM_WIDE_VECTORS=0``: never prefer 512-bit vectors.

Threads (see ``docs/jit.md``, "Threads", and ``xform/backend/numba/threads.py``; each
also set with ``update``, taking effect at once for compiled kernels too):

- ``xform_num_threads`` (env ``XFORM_NUM_THREADS``; default: Numba's own count, all
  cores): threads of the parallel (``prange``) loops of kernels. Numba keeps one count
  per thread: ``update`` sets the calling thread's; the environment variable also sizes
  Numba's thread pool (``NUMBA_NUM_THREADS``, if unset), so it holds for every thread.
  A kernel compiled while it is 1 has no parallel loops.
- ``xform_blas_num_threads`` (env ``XFORM_BLAS_NUM_THREADS``; default: the BLAS
  library's own count, capped by the cores other processes leave free): threads of the
  BLAS calls of kernels (matrix products, LAPACK, convolutions). Calls of fewer than
  ``xform_blas_min_work`` (env ``XFORM_BLAS_MIN_WORK``, 2**21) multiply-adds, and calls
  made while another kernel is inside BLAS, run on one thread whatever the setting.
- ``XFORM_THREAD_GOVERNOR=0``: the defaults are not capped by the cores other processes
  use (a daemon thread samples /proc/stat twice a second; see ``threads.Governor``).

Process-wide workarounds for the dependencies (Numba's colour shell, scipy's BLAS
loader, the allocator) live in ``xform/backend/platform.py``.
"""
from __future__ import annotations

import logging
import numbers
import os
import sys

log_compiles: bool = os.environ.get("XFORM_LOG_COMPILES", "") not in ("", "0")

jit_tiered: bool = os.environ.get("XFORM_JIT_TIERED", "") not in ("", "0")

check_jaxprs: bool = os.environ.get("XFORM_CHECK_JAXPR", "") not in ("", "0")

logger = logging.getLogger("xform")


def _env_seconds(name: str, default: float) -> float:
    v = os.environ.get(name, "")
    try:
        s = float(v) if v else default
    except ValueError:
        s = -1.0
    if not s >= 0.0:  # also nan
        import warnings

        warnings.warn(f"xform: {name}={v!r} is not a number of seconds >= 0; using {default}.",
                      RuntimeWarning, stacklevel=2)
        return default
    return s


exit_compile_wait: float = _env_seconds("XFORM_EXIT_COMPILE_WAIT", 30.0)


def _check_cache_size(where: str, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: expected a number of compiled programs >= 1 (or None for "
                         f"no bound), got {value!r}.")
    return int(value)


def _env_cache_size(default: int = 1024):
    v = os.environ.get("XFORM_COMPILE_CACHE_SIZE", "").strip()
    if not v:
        return default
    if v.lower() == "none":
        return None
    try:
        return _check_cache_size("XFORM_COMPILE_CACHE_SIZE", int(v))
    except ValueError:
        import warnings

        warnings.warn(f"xform: XFORM_COMPILE_CACHE_SIZE={v!r} is not a number >= 1 or 'none'; "
                      f"using {default}.", RuntimeWarning, stacklevel=2)
        return default


# compiled kernel modules kept in memory (see xform/backend/numba/resident.py)
compile_cache_size: int | None = _env_cache_size()


def fork_compile_wait() -> float:
    return _env_seconds("XFORM_FORK_COMPILE_WAIT", 60.0)


def _env_flag(name: str, default: bool) -> bool:
    v = os.environ.get(name, "")
    return default if v == "" else v != "0"


def _env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "")
    return int(v) if v else default


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def parallel() -> bool:
    """Whether kernels get parallel (``prange``) loops: 2+ cores and Numba threads, not
    ``XFORM_PARALLEL=0``, not ``xform_num_threads`` 1 (a parallel loop would then only
    cost compile time: ~0.3-1 s of CPU per parallel helper, docs/performance.md)."""
    return (_cores() > 1 and _env_flag("XFORM_PARALLEL", True) and num_threads() != 1
            and numba_pool_size() > 1)


def parallel_min_size() -> int:
    return _env_int("XFORM_PARALLEL_MIN_SIZE", 1 << 20)


def _env_count(name: str, least: int = 1, what: str = "threads"):
    v = os.environ.get(name, "").strip()
    if not v:
        return None
    try:
        n = int(v)
    except ValueError:
        n = least - 1
    if n < least:
        import warnings

        warnings.warn(f"xform: {name}={v!r} is not a number of {what} >= {least}; using the "
                      f"default.", RuntimeWarning, stacklevel=2)
        return None
    return n


# xform_blas_min_work: below this many multiply-adds (M*N*K of a product, n**3 for a
# factorization) a BLAS call of a kernel runs on one thread. 2**21 is ~60 us of one
# core's dgemm: below that, waking and joining other threads saves little on an idle
# machine (a 128x128 product, 2**21, took 52 us on two threads against 66-70 us on one,
# idle: the threshold was 2**22 until then), and with a busy core it costs a scheduler time slice
# (milliseconds: the 128x128 product measured 6-92 ms on two threads against 0.3-0.6 ms
# on one with the machine loaded), which the governor's cap avoids (docs/performance.md,
# "Threads").
_threads: dict = {
    "xform_num_threads": _env_count("XFORM_NUM_THREADS"),
    "xform_blas_num_threads": _env_count("XFORM_BLAS_NUM_THREADS"),
    "xform_blas_min_work": _env_count("XFORM_BLAS_MIN_WORK", 0, "multiply-adds"),
}
if _threads["xform_blas_min_work"] is None:
    _threads["xform_blas_min_work"] = 1 << 21


def num_threads():
    """``xform_num_threads``: threads of kernels' parallel loops (None: Numba's count)."""
    return _threads["xform_num_threads"]


def blas_num_threads():
    """``xform_blas_num_threads``: threads of kernels' BLAS calls (None: the policy)."""
    return _threads["xform_blas_num_threads"]


def blas_min_work() -> int:
    """``xform_blas_min_work``: multiply-adds below which a BLAS call runs on one thread."""
    return _threads["xform_blas_min_work"]


def thread_governor() -> bool:
    """``XFORM_THREAD_GOVERNOR=0``: never cap the default thread counts by the cores other
    processes use (see ``xform/backend/numba/threads.py``)."""
    return _env_flag("XFORM_THREAD_GOVERNOR", True)


def numba_pool_size() -> int:
    """The threads Numba launches (``NUMBA_NUM_THREADS``, default the cores), read
    without importing Numba."""
    nc = sys.modules.get("numba.core.config")
    if nc is not None:
        return int(nc.NUMBA_NUM_THREADS)
    v = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(v) if v.isdigit() and int(v) > 0 else _cores()


def _check_threads(name: str, value):
    if value is None:
        return 1 << 21 if name == "xform_blas_min_work" else None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"xform.config.update({name!r}, {value!r}): expected a whole number "
                        f"(or None for the default), got {type(value).__name__}.")
    value = int(value)
    if name == "xform_blas_min_work":
        if value < 0:
            raise ValueError(f"xform.config.update({name!r}, {value}): expected a number of "
                             f"multiply-adds >= 0 (0: every BLAS call may use several threads).")
        return value
    if name == "xform_num_threads":
        top, what = numba_pool_size(), (
            "the threads Numba launched (NUMBA_NUM_THREADS, or XFORM_NUM_THREADS at startup); "
            "set NUMBA_NUM_THREADS before importing xform to allow more")
    else:
        top, what = _cores(), "the cores this process may run on"
    if not 1 <= value <= top:
        raise ValueError(f"xform.config.update({name!r}, {value}): expected 1 to {top}, "
                         f"{what}; None restores the default.")
    return value


def fastmath_min_size() -> int:
    return _env_int("XFORM_FASTMATH_MIN_SIZE", 1 << 14)


def vector_math() -> bool:
    return _env_flag("XFORM_VECTOR_MATH", True)


def fast_trig() -> bool:
    return _env_flag("XFORM_FAST_TRIG", True)


def wide_vectors() -> bool:
    return _env_flag("XFORM_WIDE_VECTORS", True)


def cache_dir() -> str:
    return os.environ.get("XFORM_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "xform")


def disk_cache_enabled() -> bool:
    return os.environ.get("XFORM_DISABLE_DISK_CACHE", "") in ("", "0")


def log_compile(msg: str, *args) -> None:
    """Log a compilation event if ``log_compiles`` is on (INFO on logger 'xform')."""
    if not log_compiles:
        return
    if not logger.handlers and not logging.getLogger().handlers:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        if not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)
    logger.info(msg, *args)


# -- switches set with ``update`` (JAX's ``jax.config.update`` names) --------------------

disable_jit: bool = False  # ``jit``-decorated functions run un-jitted (see xform.disable_jit)
debug_nans: bool = False  # raise FloatingPointError at the operation producing a NaN
debug_infs: bool = False  # the same for infinities

# Called with the option's name after every ``update``: lets ``jit`` drop the fast call
# paths that would skip the checks above (so that they cost nothing while off).
_listeners: list = []

_ALIASES = {
    "jax_disable_jit": "disable_jit", "jax_debug_nans": "debug_nans",
    "jax_debug_infs": "debug_infs", "jax_log_compiles": "log_compiles",
    "jax_enable_x64": "enable_x64", "jax_platform_name": "platform",
    "jax_platforms": "platform", "jit_tiered": "jit_tiered", "check_jaxprs": "check_jaxprs",
    "xform_compile_cache_size": "compile_cache_size",
}
_BOOLS = {"disable_jit", "debug_nans", "debug_infs", "log_compiles", "jit_tiered",
          "check_jaxprs"}


def update(name: str, value) -> None:
    """Set an option by its JAX name (``"jax_debug_nans"``) or xform name (``"debug_nans"``).

    - ``jax_enable_x64``: 64-bit types are always on (dtypes follow numpy: float64 is the
      default), so ``True`` is accepted and ``False`` is an error.
    - ``jax_disable_jit``: ``jit`` runs functions un-jitted (as ``xform.disable_jit()``).
    - ``jax_debug_nans`` / ``jax_debug_infs``: results are checked for NaN / infinity;
      the first operation producing one raises ``FloatingPointError`` naming it and the
      user's file and line (a jitted function that returns one is re-run un-jitted to
      find it).
    - ``jax_log_compiles``, ``jit_tiered``, ``check_jaxprs``: see the module docstring.
    - ``jax_platform_name`` / ``jax_platforms``: only ``"cpu"``.
    - ``xform_num_threads``, ``xform_blas_num_threads`` (whole numbers from 1, or None for
      the default) and ``xform_blas_min_work``: thread counts of compiled kernels, see the
      module docstring.
    - ``xform_compile_cache_size``: how many compiled programs' kernels stay in memory
      (a whole number from 1, or None for no bound; see the module docstring).

    >>> import xform
    >>> xform.config.update("jax_enable_x64", True)
    >>> xform.config.update("jax_debug_nans", True); xform.config.debug_nans
    True
    >>> xform.config.update("jax_debug_nans", False)
    >>> xform.config.update("xform_blas_num_threads", 1)
    >>> xform.config.xform_blas_num_threads
    1
    >>> xform.config.update("xform_blas_num_threads", None)
    """
    key = _ALIASES.get(name, name)
    if key == "compile_cache_size":
        globals()[key] = _check_cache_size(f"xform.config.update({name!r}, ...)", value)
        for fn in list(_listeners):
            fn(key)
        return
    if key in _threads:
        _threads[key] = _check_threads(key, value)
        for fn in list(_listeners):
            fn(key)
        return
    if key not in _BOOLS and key not in ("enable_x64", "platform"):
        known = sorted(set(_ALIASES) | _BOOLS | set(_threads))
        raise AttributeError(f"xform.config.update: unrecognized option {name!r}; known options "
                             f"are {', '.join(known)}.")
    if key == "enable_x64":
        if not value:
            raise ValueError(
                "xform.config.update('jax_enable_x64', False): xform always has 64-bit types "
                "and follows numpy's dtypes (float64 by default); pass float32 arrays (or "
                "dtype=xform.numpy.float32) to compute in single precision.")
        return
    if key == "platform":
        if value not in (None, "", "cpu"):
            raise ValueError(f"xform.config.update({name!r}, {value!r}): xform runs on the CPU "
                             f"only (Numba); use 'cpu'.")
        return
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise TypeError(f"xform.config.update({name!r}, ...): expected True or False, got "
                        f"{value!r}.")
    globals()[key] = bool(value)
    for fn in list(_listeners):
        fn(key)


def fast_paths_allowed() -> bool:
    """Whether ``jit`` may call kernels directly (no option needs a look at each call)."""
    return not (disable_jit or debug_nans or debug_infs)


def __getattr__(name: str):
    """JAX-style reads: ``xform.config.jax_enable_x64``, ``xform.config.jax_debug_nans``."""
    if name in _threads:
        return _threads[name]
    key = _ALIASES.get(name)
    if key == "enable_x64":
        return True
    if key == "platform":
        return "cpu"
    if key is not None:
        return globals()[key]
    raise AttributeError(f"module 'xform.config' has no attribute {name!r}")
