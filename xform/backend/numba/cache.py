"""The jit disk cache: generated modules and their machine code, verified before use.

Layout (``XFORM_CACHE_DIR``, default ``~/.cache/xform``; the trust model and the
reasons are in ``docs/cache.md``)::

    <root>/                              directories created 0700
        xform_<h>.py                     a generated module's source, for reading (never imported)
        __pycache__/
            <stem>.<function>-<line>.py311.<k>.nbc   machine code of one function, one signature

``<h>`` hashes the module source with the versions that shape its machine code (xform's
code generator, Numba, the helper modules kernels import); ``<k>`` hashes the signature,
the target CPU and the function's bytecode. Rules:

- Every file xform writes is under the root. Nothing is written when the disk cache is
  disabled (``XFORM_DISABLE_DISK_CACHE=1``) or the root cannot be created or written
  (one warning per process); Numba's own ``cache=True`` (which writes next to the
  installed package or under ``~/.cache/numba``) is never used: xform's own helpers use
  ``cached_njit``.
- A generated module always runs from the source generated in this process (compiled in
  memory; no ``.py`` or ``.pyc`` file is imported), so nothing on disk changes what runs
  except machine code, and that is verified: each ``.nbc`` file starts with a SHA-256
  digest of its entry's source digest, its own file name and its payload, checked before
  anything in it is unpickled. A file that fails (truncated, emptied, replaced, from
  another entry) is deleted with a warning, and the function is recompiled and saved
  again under the same name, so the entry heals.
- Directories other users can write are not trusted (see ``_trusted_dir``).
- Writes are atomic (temporary file + ``os.replace``), so concurrent processes never read
  a partial file. A failed write warns once and never fails the computation; a
  directory deleted while running is created again at the next write.
- A read-only root (a warm cache prepared at image build time) is used for reading.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import hmac
import linecache
import os
import pickle
import stat
import sys
import tempfile
import threading
import types

from ... import config
from ..._util import warn_user
from ..platform import interrupts_deferred

CODEGEN_VERSION = "2"
_LOCK = threading.RLock()


_HELPER_MODULES = ("runtime", "threads", "complex_math", "trig", "vector_math", "random", "linalg_runtime",
                   "conv_runtime", "special_runtime", "vector_calls")
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


def _numba_version() -> str:
    import numba

    return numba.__version__


def source_hash(source: str) -> str:
    h = hashlib.sha256()
    h.update(f"xform-codegen-{CODEGEN_VERSION}-numba-{_numba_version()}-"
             f"helpers-{helpers_digest()}\n".encode())
    h.update(source.encode())
    return h.hexdigest()[:32]


def helpers_stamp() -> str:
    """The source digest of xform's helper functions' cache entries."""
    return f"helpers-{helpers_digest()}-codegen-{CODEGEN_VERSION}-numba-{_numba_version()}"


# -- warnings: one per problem per process ------------------------------------------------

_WARNED: set = set()


def _warn_once(key, message: str) -> None:
    with _LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warn_user(message)


# -- the cache root: created private, trusted only if no other user can write it ---------

_PRIVATE = 0o700
_ENTRY_SUFFIXES = ("*.nbc", "*.nbi", "*.pyc")


def _make_private_dirs(path: str) -> None:
    """Create ``path`` and any missing parent, each 0700 whatever the umask (os.makedirs
    gives parents the umask's mode)."""
    missing = []
    p = path
    while not os.path.isdir(p):
        if os.path.lexists(p):
            raise NotADirectoryError(f"{p!r} exists and is not a directory")
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, _PRIVATE)  # the umask can only remove bits from 0700
        except FileExistsError:
            if not os.path.isdir(d):
                raise


def _trusted_dir(path: str) -> bool:
    """Whether the cache may use the directory ``path``.

    It must be owned by this user or root and not writable by group or others:
    otherwise another user could plant machine code (the digests detect corruption and
    mix-ups, not forgery). A directory this user owns that others can write (created
    by an older xform under a permissive umask) is repaired: made 0700 and emptied of
    cache entries, which may have been planted. Warns (once) when it is not usable.
    """
    if not hasattr(os, "geteuid"):  # no POSIX ownership (Windows): ACLs decide
        return True
    try:
        st = os.stat(path)
    except OSError as e:
        _warn_once(("stat", path), f"xform: cannot use the jit cache directory {path!r} ({e}); "
                                   f"jit compiles without the disk cache.")
        return False
    if not stat.S_ISDIR(st.st_mode):
        _warn_once(("notdir", path), f"xform: the jit cache path {path!r} is not a directory; "
                                     f"jit compiles without the disk cache (set XFORM_CACHE_DIR "
                                     f"to a directory).")
        return False
    euid = os.geteuid()
    if st.st_uid not in (euid, 0):
        _warn_once(("owner", path), f"xform: the jit cache directory {path!r} belongs to another "
                                    f"user (uid {st.st_uid}); jit compiles without the disk cache "
                                    f"(set XFORM_CACHE_DIR to a directory of your own).")
        return False
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        if st.st_uid == euid:
            try:
                os.chmod(path, _PRIVATE)
                _discard_entries(path)
            except OSError:
                pass
            else:
                _warn_once(("repaired", path),
                           f"xform: the jit cache directory {path!r} was writable by other users "
                           f"(mode {mode:o}); it is now 0700 and its compiled entries were "
                           f"discarded (they could have been planted).")
                return True
        _warn_once(("open", path), f"xform: the jit cache directory {path!r} is writable by other "
                                   f"users (mode {mode:o}); its entries cannot be trusted, so jit "
                                   f"compiles without the disk cache (make it 0700 or set "
                                   f"XFORM_CACHE_DIR to a private directory).")
        return False
    return True


def _discard_entries(path: str) -> None:
    for pattern in _ENTRY_SUFFIXES:
        for d in (path, os.path.join(path, "__pycache__")):
            for f in glob.glob(os.path.join(d, pattern)):
                with contextlib.suppress(OSError):
                    os.unlink(f)


def _can_write(path: str) -> bool:
    try:
        return os.access(path, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids)
    except (OSError, NotImplementedError):
        return False


class Store:
    """A usable cache root: trusted for reading; ``writable`` says whether it takes new
    entries (a read-only root, e.g. a warm cache mounted read-only, is only read)."""

    def __init__(self, root: str, writable: bool):
        self.root = root
        self.code_dir = os.path.join(root, "__pycache__")
        self.writable = writable

    # -- writing -------------------------------------------------------------------------
    def _unwritable(self, error=None) -> None:
        why = f" ({error})" if error is not None else " (read-only)"
        _warn_once(("unwritable", self.root),
                   f"xform: cannot write to the jit cache directory {self.root!r}{why}; "
                   f"cached kernels are still used, new ones are not saved.")

    def write_atomic(self, path: str, data: bytes) -> bool:
        """Write ``path`` atomically (0600). False, with one warning, if impossible."""
        if not self.writable:
            self._unwritable()
            return False
        d = os.path.dirname(path)
        for attempt in range(2):
            tmp = None
            try:
                fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
                return True
            except FileNotFoundError as e:  # the directory was deleted: create it again
                if attempt == 0:
                    try:
                        _make_private_dirs(d)
                        continue
                    except OSError:
                        pass
                self._unwritable(e)
                return False
            except OSError as e:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                self._unwritable(e)
                return False
        return False  # pragma: no cover - the loop returns

    def ensure_module_file(self, path: str, source: str) -> None:
        """Keep ``path`` holding ``source`` for readers and tracebacks (it is never
        imported: a wrong file changes nothing that runs, and is rewritten)."""
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except UnicodeDecodeError:
            current = "<not text>"
        except OSError:  # missing, or the directory is gone: the write says what failed
            current = None
        if current == source:
            return
        if current is not None and self.writable:
            _warn_once(("module", path), f"xform: jit cache entry {path} is corrupt or stale; "
                                         f"rewriting it.")
        self.write_atomic(path, source.encode("utf-8"))

    # -- machine code entries ------------------------------------------------------------
    def read_entry(self, path: str, stamp: str) -> bytes | None:
        """The verified payload of an entry file, or None (missing or rejected)."""
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    return self.reject(path, "it is not a regular file")
                if hasattr(os, "geteuid") and (st.st_uid not in (os.geteuid(), 0)
                                               or st.st_mode & 0o022):
                    return self.reject(path, "it belongs to another user or others can write it")
                blob = f.read()
        except (FileNotFoundError, NotADirectoryError):  # (the directory may be gone)
            return None
        except OSError as e:
            _warn_once(("read", path), f"xform: cannot read jit cache entry {path} ({e}).")
            return None
        n = len(_MAGIC)
        if len(blob) < n + 32 or not blob.startswith(_MAGIC):
            return self.reject(path, "it is truncated or not an xform cache file")
        payload = blob[n + 32:]
        if not hmac.compare_digest(blob[n:n + 32], _entry_digest(stamp, path, payload)):
            return self.reject(path, "its content does not match its digest")
        return payload

    def write_entry(self, path: str, stamp: str, payload: bytes) -> bool:
        return self.write_atomic(path, _MAGIC + _entry_digest(stamp, path, payload) + payload)

    def reject(self, path: str, why: str) -> None:
        _warn_once(("reject", path), f"xform: jit cache entry {path} is corrupt ({why}); "
                                     f"recompiling it.")
        if self.writable:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return None


_MAGIC = b"xform-nbc-1\n"


def _entry_digest(stamp: str, path: str, payload: bytes) -> bytes:
    h = hashlib.sha256(_MAGIC)
    h.update(stamp.encode() + b"\0" + os.path.basename(path).encode() + b"\0")
    h.update(payload)
    return h.digest()


_STORES: dict = {}


def store() -> Store | None:
    """The disk cache in use now (``XFORM_CACHE_DIR`` is read each time), or None when it
    is disabled or unusable (with one warning saying why)."""
    if not config.disk_cache_enabled():
        return None
    root = os.path.abspath(config.cache_dir())
    try:
        return _STORES[root]
    except KeyError:
        pass
    with _LOCK:
        if root not in _STORES:
            _STORES[root] = _open_store(root)
        return _STORES[root]


def _open_store(root: str) -> Store | None:
    if not os.path.isdir(root):
        try:
            _make_private_dirs(root)
        except OSError as e:
            _warn_once(("create", root),
                       f"xform: cannot create the jit cache directory {root!r} ({e}); jit compiles "
                       f"without the disk cache (set XFORM_CACHE_DIR to a writable directory, or "
                       f"XFORM_DISABLE_DISK_CACHE=1).")
            return None
    if not _trusted_dir(root):
        return None
    writable = _can_write(root)
    code_dir = os.path.join(root, "__pycache__")
    if os.path.lexists(code_dir):
        if not _trusted_dir(code_dir):
            return None
        writable = writable and _can_write(code_dir)
    elif writable:
        try:
            _make_private_dirs(code_dir)
        except OSError:
            writable = False
    return Store(root, writable)


def cache_dir() -> str | None:
    """The root of the disk cache in use, or None."""
    s = store()
    return None if s is None else s.root


# -- Numba's cache interface, backed by the store ----------------------------------------


class FunctionDiskCache:
    """The disk cache of one Numba dispatcher (set as its ``_cache``: Numba's
    ``Dispatcher.compile`` calls ``load_overload`` before compiling and
    ``save_overload`` after).

    ``stamp`` (a string, or a function returning one) is the digest of the source the
    machine code comes from; entries are named ``<stem>.<function>-<line>.pyXY.<k>.nbc``.
    Loading never raises (a bad entry is rejected and recompiled); saving never raises
    (a failed write warns once).
    """

    def __init__(self, py_func, stamp, stem: str):
        self._py_func = py_func
        self._stamp = stamp
        qualname = py_func.__qualname__.replace("<", "").replace(">", "")
        v = sys.version_info
        self._base = (f"{stem}.{qualname}-{py_func.__code__.co_firstlineno}."
                      f"py{v[0]}{v[1]}{getattr(sys, 'abiflags', '')}")
        self._enabled = True
        self._load_enabled = True
        self.loaded: set = set()  # signatures whose machine code came from disk

    def __repr__(self) -> str:
        return f"<xform FunctionDiskCache {self._base}>"

    @property
    def stamp(self) -> str:
        s = self._stamp
        if callable(s):
            s = self._stamp = s()
        return s

    @property
    def cache_path(self):
        s = store()
        return None if s is None else s.code_dir

    def enable(self):
        self._enabled = True

    def disable(self):
        self._enabled = False

    def flush(self):
        self.purge()

    def purge(self) -> None:
        """Delete this function's entries (all signatures)."""
        s = store()
        if s is None or not s.writable:
            return
        for f in glob.glob(os.path.join(glob.escape(s.code_dir), glob.escape(self._base) + ".*.nbc")):
            with contextlib.suppress(OSError):
                os.unlink(f)

    @contextlib.contextmanager
    def loads_disabled(self):
        self._load_enabled = False
        try:
            yield
        finally:
            self._load_enabled = True

    def _index_key(self, sig, codegen):
        """As Numba's: the signature, the target (CPU name and features) and the
        function's bytecode (and closure)."""
        from numba.core.serialize import dumps

        f = self._py_func
        codebytes = f.__code__.co_code
        cvarbytes = b"" if f.__closure__ is None else dumps(
            tuple(c.cell_contents for c in f.__closure__))
        return (sig, codegen.magic_tuple(), (hashlib.sha256(codebytes).hexdigest(),
                                             hashlib.sha256(cvarbytes).hexdigest()))

    def _path(self, s: Store, key) -> str:
        k = hashlib.sha256(f"{self.stamp}\0{key!r}".encode()).hexdigest()[:20]
        return os.path.join(s.code_dir, f"{self._base}.{k}.nbc")

    def load_overload(self, sig, target_context):
        if not (self._enabled and self._load_enabled) or store() is None:
            return None
        target_context.refresh()
        return self._load_overload(sig, target_context)

    def _load_overload(self, sig, target_context):
        """Also called by ``platform.load_cached`` (without the context refresh). Never
        raises: whatever goes wrong, the function is compiled instead."""
        try:
            return self._load(sig, target_context)
        except Exception as e:
            _warn_once(("load", self._base, type(e)),
                       f"xform: cannot load {self._base} from the jit cache "
                       f"({type(e).__name__}: {e}); compiling it.")
            return None

    def _load(self, sig, target_context):
        s = store()
        if not (self._enabled and self._load_enabled) or s is None:
            return None
        from numba.core.compiler import CompileResult

        key = self._index_key(sig, target_context.codegen())
        path = self._path(s, key)
        payload = s.read_entry(path, self.stamp)
        if payload is None:
            return None
        try:
            stored_key, data = pickle.loads(payload)  # verified above
            if stored_key != key:
                raise ValueError("it holds another signature")
            cres = CompileResult._rebuild(target_context, *data)
        except Exception as e:  # e.g. a module the code refers to is gone
            return s.reject(path, f"{type(e).__name__}: {e}")
        self.loaded.add(sig)
        return cres

    def save_overload(self, sig, cres):
        try:
            self._save_overload(sig, cres)
        except Exception as e:  # a cache write never fails the computation
            s = store()
            root = s.root if s is not None else None
            _warn_once(("save", root, type(e)),
                       f"xform: cannot save compiled code to the jit cache {root!r} "
                       f"({type(e).__name__}: {e}); it is recompiled in later processes.")

    def _save_overload(self, sig, cres):
        s = store()
        if not self._enabled or s is None:
            return
        if not s.writable:
            s._unwritable()
            return
        if any(not x.can_cache for x in cres.lifted) or cres.library.has_dynamic_globals:
            return  # as Numba: object-mode lifted loops and ctypes pointers are not cacheable
        from numba.core.serialize import dumps

        key = self._index_key(sig, cres.codegen)
        payload = dumps((key, cres._reduce()))
        s.write_entry(self._path(s, key), self.stamp, payload)


def has_entries(cache) -> bool:
    """Whether ``cache`` (a dispatcher's ``_cache``) loaded anything from disk."""
    return isinstance(cache, FunctionDiskCache) and bool(cache.loaded)


def attach(dispatcher, stamp, stem: str) -> None:
    """Give a Numba dispatcher xform's disk cache (before its first compilation)."""
    dispatcher._cache = FunctionDiskCache(dispatcher.py_func, stamp, stem)


_FILE_DIGESTS: dict = {}


def _module_stamp(fn):
    """The source digest of a helper function's entries: its own module's file (which
    holds the helpers it calls, e.g. overloads) and the helper modules'."""
    def stamp():
        path = fn.__code__.co_filename
        d = _FILE_DIGESTS.get(path)
        if d is None:
            try:
                with open(path, "rb") as f:
                    d = hashlib.sha256(f.read()).hexdigest()[:16]
            except OSError:  # no file (interactive): the bytecode in the key must do
                d = "nofile"
            _FILE_DIGESTS[path] = d
        return f"{helpers_stamp()}-module-{d}"

    return stamp


def _no_cache_option(where: str, options: dict) -> None:
    if options.pop("cache", False):
        raise ValueError(f"{where}: do not pass cache=True (xform caches the function itself, "
                         f"under XFORM_CACHE_DIR).")


def cached_njit(**options):
    """``numba.njit(**options)`` with xform's disk cache, for xform's own helper
    functions. Never use ``cache=True`` in xform: Numba's locators write into the
    installed package's ``__pycache__`` or ``~/.cache/numba``, outside XFORM_CACHE_DIR,
    and fail at import when neither is writable.

    >>> from xform.backend.numba.cache import cached_njit
    >>> @cached_njit(nogil=True)
    ... def twice(x):
    ...     return 2 * x
    >>> twice(21)
    42
    """
    _no_cache_option("cached_njit", options)

    def wrap(fn):
        import numba

        d = numba.njit(**options)(fn)
        attach(d, _module_stamp(fn), fn.__module__.rsplit(".", 1)[-1])
        return d

    return wrap


def cached_cfunc(sig, **options):
    """``numba.cfunc(sig, **options)`` with xform's disk cache (see ``cached_njit``);
    compiled (or loaded) at once, as ``numba.cfunc`` does.

    >>> from xform.backend.numba.cache import cached_cfunc
    >>> @cached_cfunc("float64(float64)")
    ... def halve(x):
    ...     return x / 2.0
    >>> halve.ctypes(3.0)
    1.5
    """
    _no_cache_option("cached_cfunc", options)
    locals_ = options.pop("locals", {})

    def wrap(fn):
        from numba.core import sigutils
        from numba.core.ccallback import CFunc

        c = CFunc(fn, sigutils.normalize_signature(sig), locals=locals_, options=options)
        c._cache = FunctionDiskCache(fn, _module_stamp(fn), fn.__module__.rsplit(".", 1)[-1])
        if not _load_cfunc(c):
            c.compile()
        return c

    return wrap


def _load_cfunc(c) -> bool:
    """Load cfunc ``c`` from the disk cache as ``CFunc.compile`` does, but without the
    target context's refresh (numba's registries, 0.2-0.35 s per process: see
    ``platform.load_cached``). False when there is no usable entry (then compile)."""
    try:
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.runtime import rtsys

        ctx = c._targetdescr.target_context
        with global_compiler_lock:
            rtsys.initialize(ctx)
            cres = c._cache._load_overload(c._sig, ctx)
            if cres is None:
                return False
            c._cache_hits += 1
            c._library = cres.library
            c._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
            c._wrapper_address = c._library.get_pointer_to_function(c._wrapper_name)
            return True
    except Exception:  # pragma: no cover - numba internals changed: compile instead
        return False


# -- generated modules ---------------------------------------------------------------------


def load_module(source: str, display_name: str = "kernel"):
    """The module for ``source`` (shared by all programs with the same source): resident
    in memory (``resident.py``: a bounded LRU), else run from ``source`` afresh.

    Returns ``(module, disk_cached)``: whether its Numba functions use the disk cache.
    """
    from . import resident  # (the in-memory, bounded part of the cache)

    h = source_hash(source)
    modname = f"xform_{h}"
    with _LOCK:
        mod = resident.lookup(modname)
        if mod is not None:
            return mod, bool(getattr(mod, "_XFORM_DISK_CACHED", False))
        s = store()
        if s is None:
            mod = _exec_module(modname, source, f"<xform-jit {display_name} {modname}>", None)
        else:
            path = os.path.join(s.root, modname + ".py")
            s.ensure_module_file(path, source)
            mod = _exec_module(modname, source, path, h)
        resident.admit(modname, mod)
        return mod, s is not None


def _exec_module(modname: str, source: str, filename: str, stamp: str | None):
    """Run ``source`` as module ``modname`` (in ``sys.modules`` before its code runs, as
    Numba's cached code refers to it by name), from memory: ``filename`` names it in
    tracebacks. With a ``stamp``, its Numba functions get the disk cache."""
    mod = types.ModuleType(modname)
    if stamp is not None:
        mod.__file__ = filename
    # the generated source says `njit(cache=_XFORM_CACHE, ...)`: never Numba's own cache
    mod.__dict__["_XFORM_CACHE"] = False
    mod.__dict__["_XFORM_DISK_CACHED"] = stamp is not None
    mod.__dict__["_XFORM_FILENAME"] = filename  # its linecache entry (see resident.py)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    sys.modules[modname] = mod
    try:
        with interrupts_deferred():  # it imports the helper modules: not half-way
            exec(compile(source, filename, "exec"), mod.__dict__)
        if stamp is not None:
            from numba.core.dispatcher import Dispatcher

            for v in list(mod.__dict__.values()):
                if isinstance(v, Dispatcher) and v.py_func.__globals__ is mod.__dict__:
                    attach(v, stamp, modname)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return mod
