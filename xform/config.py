"""Runtime configuration of xform (read at use time, so changes apply immediately).

- ``log_compiles`` (env ``XFORM_LOG_COMPILES=1``): log every jit compilation on the
  ``xform`` logger (function, signature, trace/codegen/compile times, and why an
  existing jitted function recompiled). A handler is added if the logger has none.
- ``jit_tiered`` (env ``XFORM_JIT_TIERED=1``): the default of ``jit(..., tiered=None)``:
  run uncompiled while Numba compiles in the background (see ``xform.jit``).
- ``XFORM_CACHE_DIR``: directory of the jit disk cache (default ``~/.cache/xform``).
- ``XFORM_DISABLE_DISK_CACHE=1``: compile in memory only.

Numba's coloured error messages are switched off (``NUMBA_DISABLE_ERROR_MESSAGE_
HIGHLIGHTING=1`` unless set): with colorama installed they reassign ``sys.stdout`` and
``sys.stderr`` to the streams seen when a message began, which undoes a redirection
made meanwhile by another thread (``contextlib.redirect_stdout``, pytest's capture)
while Numba compiles, for example in a tiered background compilation.
"""
from __future__ import annotations

import logging
import os
import sys

log_compiles: bool = os.environ.get("XFORM_LOG_COMPILES", "") not in ("", "0")

jit_tiered: bool = os.environ.get("XFORM_JIT_TIERED", "") not in ("", "0")

logger = logging.getLogger("xform")


def _keep_numba_off_sys_streams() -> None:
    """See the module docstring. Numba reads the variable when ``numba.core.errors`` is
    first imported; if that already happened, its colour shell is made inert instead
    (it only matters for ANSI conversion on Windows consoles)."""
    os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
    errors = sys.modules.get("numba.core.errors")
    shell = getattr(errors, "ColorShell", None)
    if shell is not None and os.environ["NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"] != "0":
        shell.__init__ = lambda self: None
        shell.__enter__ = lambda self: None
        shell.__exit__ = lambda self, *exc: None


_keep_numba_off_sys_streams()


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
