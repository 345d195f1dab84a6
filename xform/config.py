"""Runtime configuration of xform (read at use time, so changes apply immediately).

- ``log_compiles`` (env ``XFORM_LOG_COMPILES=1``): log every jit compilation on the
  ``xform`` logger (function, signature, trace/codegen/compile times, and why an
  existing jitted function recompiled). A handler is added if the logger has none.
- ``jit_tiered`` (env ``XFORM_JIT_TIERED=1``): the default of ``jit(..., tiered=None)``:
  run uncompiled while Numba compiles in the background (see ``xform.jit``).
- ``XFORM_CACHE_DIR``: directory of the jit disk cache (default ``~/.cache/xform``).
- ``XFORM_DISABLE_DISK_CACHE=1``: compile in memory only.
"""
from __future__ import annotations

import logging
import os

log_compiles: bool = os.environ.get("XFORM_LOG_COMPILES", "") not in ("", "0")

jit_tiered: bool = os.environ.get("XFORM_JIT_TIERED", "") not in ("", "0")

logger = logging.getLogger("xform")


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
