"""Loading generated modules: in memory by source hash, and a content-hashed disk cache.

Each generated module is written to ``<cache dir>/xform_<hash>.py`` (``XFORM_CACHE_DIR``,
default ``~/.cache/xform``; ``XFORM_DISABLE_DISK_CACHE=1`` disables it) atomically
(temporary file + ``os.replace``), then imported with importlib (the module is in
``sys.modules`` before its code runs). Its kernels use ``njit(cache=True)``, so numba
stores their machine code in ``__pycache__`` next to the file, and a later process
that generates the same source loads it instead of compiling.

A cache file whose content does not match the generated source (corrupt, truncated,
edited) is rewritten with a warning. Numba cache files that fail to load are deleted
and the kernel is recompiled (with a warning). Concurrent processes write identical
content with atomic renames, so readers never see a partial file.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.util
import linecache
import os
import sys
import tempfile
import threading
import types
import warnings

from ... import config

CODEGEN_VERSION = "1"
_LOCK = threading.RLock()


_HELPER_MODULES = ("runtime", "complex_math", "trig", "vector_math")
_helpers_digest: str | None = None


def helpers_digest() -> str:
    """A digest of the modules generated kernels import from. Numba's cache of a kernel
    only checks the kernel's own file, and the helpers are compiled into it, so a
    changed helper (an upgraded xform) must change every kernel's hash."""
    global _helpers_digest
    if _helpers_digest is None:
        h = hashlib.sha256()
        here = os.path.dirname(os.path.abspath(__file__))
        for name in _HELPER_MODULES:
            rel = name.replace("..", "../") + ".py"
            with open(os.path.join(here, rel), "rb") as f:
                h.update(f.read())
        _helpers_digest = h.hexdigest()[:16]
    return _helpers_digest


def source_hash(source: str) -> str:
    import numba

    h = hashlib.sha256()
    h.update(f"xform-codegen-{CODEGEN_VERSION}-numba-{numba.__version__}-"
             f"helpers-{helpers_digest()}\n".encode())
    h.update(source.encode())
    return h.hexdigest()[:32]


def cache_dir() -> str | None:
    if not config.disk_cache_enabled():
        return None
    d = config.cache_dir()
    try:
        os.makedirs(d, exist_ok=True)
    except OSError as e:
        warnings.warn(f"xform: cannot create the jit cache directory {d!r} ({e}); "
                      f"compiling without the disk cache.", RuntimeWarning, stacklevel=3)
        return None
    return d


def _write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _ensure_file(path: str, source: str) -> bool:
    """Make ``path`` hold ``source``; returns False if that is impossible."""
    try:
        with open(path, encoding="utf-8") as f:
            current = f.read()
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError):
        current = "<unreadable>"
    if current == source:
        return True
    if current is not None:
        warnings.warn(f"xform: jit cache entry {path} is corrupt or stale; rebuilding it.",
                      RuntimeWarning, stacklevel=4)
        purge_numba_cache(path)
    try:
        _write_atomic(path, source)
        return True
    except OSError as e:
        warnings.warn(f"xform: cannot write jit cache entry {path} ({e}); compiling in memory.",
                      RuntimeWarning, stacklevel=4)
        return False


def has_numba_cache(path: str) -> bool:
    d = os.path.join(os.path.dirname(path), "__pycache__")
    stem = os.path.splitext(os.path.basename(path))[0]
    return bool(glob.glob(os.path.join(d, stem + ".*.nbi")))


def purge_numba_cache(path: str) -> None:
    """Delete numba's cached machine code (index and data files) for a module file."""
    d = os.path.join(os.path.dirname(path), "__pycache__")
    stem = os.path.splitext(os.path.basename(path))[0]
    for f in glob.glob(os.path.join(d, stem + ".*")):
        try:
            os.unlink(f)
        except OSError:
            pass


def load_module(source: str, display_name: str = "kernel"):
    """The module for ``source`` (shared by all programs with the same source).

    Returns ``(module, from_disk_file)``.
    """
    h = source_hash(source)
    modname = f"xform_{h}"
    with _LOCK:
        mod = sys.modules.get(modname)
        if mod is not None:
            return mod, getattr(mod, "__file__", None) is not None
        d = cache_dir()
        if d is not None:
            path = os.path.join(d, modname + ".py")
            if _ensure_file(path, source):
                try:
                    return _import_file(modname, path), True
                except Exception as e:  # corrupt file changed under us, unreadable bytecode...
                    sys.modules.pop(modname, None)
                    warnings.warn(f"xform: cannot import jit cache entry {path} ({e!r}); "
                                  f"compiling in memory.", RuntimeWarning, stacklevel=3)
        return _exec_in_memory(modname, source, display_name), False


def _import_file(modname: str, path: str):
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    mod._XFORM_CACHE = True
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return mod


def _exec_in_memory(modname: str, source: str, display_name: str):
    mod = types.ModuleType(modname)
    filename = f"<xform-jit {display_name} {modname}>"
    mod.__dict__["_XFORM_CACHE"] = False
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    sys.modules[modname] = mod
    try:
        exec(compile(source, filename, "exec"), mod.__dict__)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return mod


def forget_module(mod) -> None:
    sys.modules.pop(mod.__name__, None)
