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

Code generation (read when a program is compiled; set before the first call):

- ``XFORM_PARALLEL=0``: no ``parallel=True`` helpers (default: on with 2+ cores);
  ``XFORM_PARALLEL_MIN_SIZE`` (2**18): elements of a loop nest that runs in parallel.
- ``XFORM_FASTMATH_MIN_SIZE`` (2**14): elements of a reduction that gets a fast-math
  helper (vectorized sums) and, on AVX-512 targets, 512-bit vectors.
- ``XFORM_VECTOR_MATH=0``: ``np.exp`` & co. instead of the vectorizable math functions.
- ``XFORM_FAST_TRIG=0``: no fast sin/cos path.
- ``XFORM_WIDE_VECTORS=0``: never prefer 512-bit vectors.

Process-wide workarounds for the dependencies (Numba's colour shell, scipy's BLAS
loader, the allocator) live in ``xform/backend/platform.py``.
"""
from __future__ import annotations

import logging
import os

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


def fork_compile_wait() -> float:
    return _env_seconds("XFORM_FORK_COMPILE_WAIT", 60.0)


def _env_flag(name: str, default: bool) -> bool:
    v = os.environ.get(name, "")
    return default if v == "" else v != "0"


def _env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "")
    return int(v) if v else default


def parallel() -> bool:
    return (os.cpu_count() or 1) > 1 and _env_flag("XFORM_PARALLEL", True)


def parallel_min_size() -> int:
    return _env_int("XFORM_PARALLEL_MIN_SIZE", 1 << 18)


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

    >>> import xform
    >>> xform.config.update("jax_enable_x64", True)
    >>> xform.config.update("jax_debug_nans", True); xform.config.debug_nans
    True
    >>> xform.config.update("jax_debug_nans", False)
    """
    key = _ALIASES.get(name, name)
    if key not in _BOOLS and key not in ("enable_x64", "platform"):
        known = sorted(set(_ALIASES) | _BOOLS)
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
    key = _ALIASES.get(name)
    if key == "enable_x64":
        return True
    if key == "platform":
        return "cpu"
    if key is not None:
        return globals()[key]
    raise AttributeError(f"module 'xform.config' has no attribute {name!r}")
