"""Runtime configuration of xform (read at use time, so changes apply immediately).

- ``log_compiles`` (env ``XFORM_LOG_COMPILES=1``): log every jit compilation on the
  ``xform`` logger (function, signature, trace/codegen/compile times, and why an
  existing jitted function recompiled). A handler is added if the logger has none.
- ``jit_tiered`` (env ``XFORM_JIT_TIERED=1``): the default of ``jit(..., tiered=None)``:
  run uncompiled while Numba compiles in the background (see ``xform.jit``).
- ``XFORM_CACHE_DIR``: directory of the jit disk cache (default ``~/.cache/xform``).
- ``XFORM_DISABLE_DISK_CACHE=1``: compile in memory only.

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

logger = logging.getLogger("xform")


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
