"""Fault injection for the jit disk cache and for compilation (docs/cache.md).

Every fault is a real one: directories that are read-only, missing, files, deleted or
opened to other users while running; cache files truncated, emptied, replaced or
planted; processes sharing a cache, forking or interrupted while compiling. Faults
that need a fresh process (a warm cache read by a new process, another user, fork,
exit) run in subprocesses; a few cheap ones run in this process with their own cache
directory. The other user is uid 65534 (``setpriv``, only when the suite runs as root,
with CAP_DAC_READ_SEARCH so that it can read the Python installation).
"""
from __future__ import annotations

import glob
import importlib.util
import os
import pickle
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform.backend.numba import cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "xform")
NOBODY = 65534
CAN_SWITCH_USER = (hasattr(os, "geteuid") and os.geteuid() == 0
                   and shutil.which("setpriv") is not None)
as_other_user = pytest.mark.skipif(not CAN_SWITCH_USER, reason="needs root and setpriv")

# f's kernel calls the runtime helper argsort_stable (cached by xform); g is plain.
WORK = """
import sys, warnings
sys.path.insert(0, {root!r})
warnings.simplefilter("always")
import numpy as np, xform, xform.numpy as xnp
x = np.array([3.0, 1.0, 2.0, 0.5])
f = xform.jit(lambda x: xnp.sort(x) * 2.0 + 0.25)
g = xform.jit(lambda x: xnp.tanh(x) * 3.0 - 0.5)
assert np.array_equal(f(x), np.sort(x) * 2.0 + 0.25)
assert np.allclose(g(x), np.tanh(x) * 3.0 - 0.5, rtol=1e-14, atol=0)
{extra}
print("OK")
"""


def _env(cache_dir, extra=None) -> dict:
    env = dict(os.environ, XFORM_LOG_COMPILES="1")
    for k in ("XFORM_DISABLE_DISK_CACHE", "NUMBA_CACHE_DIR", "XFORM_CACHE_DIR"):
        env.pop(k, None)
    if cache_dir is not None:
        env["XFORM_CACHE_DIR"] = str(cache_dir)
    env.update(extra or {})
    return env


def _cmd(code: str, other_user: bool) -> list:
    cmd = [sys.executable, "-c", code]
    if other_user:
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
               "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"] + cmd
    return cmd


def _run(cache_dir, extra_env=None, *, extra="", code=None, other_user=False, umask=None,
         timeout=300):
    code = code if code is not None else WORK.format(root=ROOT, extra=extra)
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(_cmd(code, other_user), env=_env(cache_dir, extra_env),
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec)


def _ok(r):
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr
    return r.stderr


def _warnings(stderr: str) -> list:
    return re.findall(r"Warning: xform: .*", stderr)


def _files(d):
    return sorted(os.path.relpath(p, d) for p in glob.glob(os.path.join(d, "**", "*"),
                                                           recursive=True))


def _entries(d, kind):
    code = os.path.join(d, "__pycache__")
    if kind == "kernel":
        return sorted(glob.glob(os.path.join(code, "xform_*.kernel-*.nbc")))
    if kind == "helper":
        return sorted(glob.glob(os.path.join(code, "runtime.*.nbc")))
    return sorted(glob.glob(os.path.join(d, "xform_*.py")))


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A cache warmed by one run under umask 000, below missing parent directories."""
    base = tmp_path_factory.mktemp("warm")
    d = base / "missing" / "parents" / "cache"
    start = time.time()
    _ok(_run(d, umask=0))
    return str(d), str(base), start


def _copy(warm_dir, dst):
    shutil.copytree(warm_dir, dst)
    return str(dst)


# -- where files go, and with which permissions -------------------------------------------


def test_no_module_uses_numbas_own_cache():
    """``njit(cache=True)`` writes next to the installed package or in ~/.cache/numba and
    fails when neither is writable: xform's functions use cache.cached_njit."""
    import ast

    offenders = []
    for path in glob.glob(os.path.join(PACKAGE, "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            where = f"{os.path.relpath(path, ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.keyword) and node.arg == "cache" and not (
                    isinstance(node.value, ast.Constant) and node.value.value is False):
                offenders.append(where)  # njit(cache=True), cfunc(..., cache=...), dict(cache=...)
            if isinstance(node, ast.Attribute) and node.attr == "enable_caching":
                offenders.append(where)
    assert not offenders, offenders


def test_everything_goes_under_the_cache_dir_created_private(warm):
    d, base, start = warm
    # nothing of Numba's in the (writable) package directory
    written = [p for p in glob.glob(os.path.join(PACKAGE, "**", "*.nb[ic]"), recursive=True)
               if os.path.getmtime(p) >= start]
    assert not written, written
    # the runtime helper and both kernels are cached under the root
    assert len(_entries(d, "helper")) == 1 and len(_entries(d, "kernel")) == 2
    # every directory xform created is 0700 and every file 0600, under umask 000
    for p in [os.path.join(base, "missing"), os.path.join(base, "missing", "parents"), d,
              os.path.join(d, "__pycache__")]:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o700, p
    for f in _files(d):
        p = os.path.join(d, f)
        if os.path.isfile(p):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p


@as_other_user
def test_service_account_without_a_writable_home(tmp_path):
    """As uid 65534 with an unwritable HOME (and package directory): jit works, without
    a disk cache and with one warning; with a cache directory of its own, everything is
    cached there; with the cache disabled, silently."""
    r = _run(None, {"HOME": "/nonexistent"}, other_user=True)
    warns = _warnings(_ok(r))
    assert len(warns) == 1 and "cannot create the jit cache directory" in warns[0], r.stderr
    own = tmp_path / "own"
    own.mkdir(mode=0o700)
    os.chown(own, NOBODY, NOBODY)
    r = _run(own, {"HOME": "/nonexistent"}, other_user=True)
    assert not _warnings(_ok(r)), r.stderr
    assert len(_entries(str(own), "helper")) == 1 and len(_entries(str(own), "kernel")) == 2
    r = _run(None, {"HOME": "/nonexistent", "XFORM_DISABLE_DISK_CACHE": "1"}, other_user=True)
    assert not _warnings(_ok(r)), r.stderr


def _make_read_only(d):
    if CAN_SWITCH_USER:  # root's files: read-only for the other user
        return True
    for p in [d, os.path.join(d, "__pycache__")]:
        os.chmod(p, 0o555)
    return False


def test_read_only_warm_cache_is_used(warm, tmp_path):
    d = _copy(warm[0], tmp_path / "ro")
    before = {f: os.path.getmtime(os.path.join(d, f)) for f in _files(d)}
    other = _make_read_only(d)
    try:
        r = _run(d, {"HOME": "/nonexistent"}, other_user=other,
                 extra="assert np.array_equal(xform.jit(lambda x: x * 7.0)(x), x * 7.0)")
        err = _ok(r)
    finally:
        for p in [d, os.path.join(d, "__pycache__")]:
            os.chmod(p, 0o700)
    assert err.count("Loaded `<lambda>`") == 2, err  # f and g from the read-only cache
    assert err.count("Compiling `<lambda>`") == 1, err  # only the new program
    warns = _warnings(err)
    assert len(warns) == 1 and "cannot write to the jit cache directory" in warns[0], err
    assert {f: os.path.getmtime(os.path.join(d, f)) for f in _files(d)} == before


# -- corrupt and planted files ----------------------------------------------------------------


def _truncate(p, other):
    with open(p, "rb") as f:
        data = f.read()
    with open(p, "wb") as f:
        f.write(data[: len(data) // 2])


def _empty(p, other):
    open(p, "wb").close()


def _flip(p, other):
    with open(p, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    with open(p, "wb") as f:
        f.write(bytes(data))


def _replace(p, other):  # a valid file of another entry
    shutil.copyfile(other, p)


def _garbage_source(p, other):
    with open(p, "w") as f:
        f.write("this is not python (")


FAULTS = {
    "A": {"kernel f": _truncate, "kernel g": _replace, "helper": _empty, "module": _garbage_source},
    "B": {"kernel f": _flip, "kernel g": _empty, "helper": _truncate, "module": _truncate},
}


@pytest.mark.parametrize("case", sorted(FAULTS))
def test_corrupt_entries_are_rebuilt_and_heal(warm, tmp_path, case):
    d = _copy(warm[0], tmp_path / "c")
    kernels, helper, modules = _entries(d, "kernel"), _entries(d, "helper"), _entries(d, "module")
    originals = {p: open(p, "rb").read() for p in modules}
    faults = FAULTS[case]
    faults["kernel f"](kernels[0], kernels[1])
    faults["kernel g"](kernels[1], kernels[0])
    faults["helper"](helper[0], None)
    faults["module"](modules[0], None)
    err = _ok(_run(d))
    warns = _warnings(err)
    assert sum("is corrupt (" in w for w in warns) == 3, err  # both kernels and the helper
    assert any("corrupt or stale; rewriting" in w for w in warns), err  # the module source
    assert err.count("Compiling `<lambda>`") == 2, err
    # healed: the same names hold clean entries (no renamed module), nothing recompiles
    assert _entries(d, "kernel") == kernels and _entries(d, "helper") == helper
    err = _ok(_run(d))
    assert not _warnings(err) and "Compiling" not in err, err
    assert err.count("Loaded `<lambda>`") == 2, err
    assert {p: open(p, "rb").read() for p in modules} == originals


class _Plant:
    """Unpickling it creates a marker file: it must never happen."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_files_never_run(warm, tmp_path):
    d = _copy(warm[0], tmp_path / "p")
    marker = str(tmp_path / "PLANTED-CODE-RAN")
    payload = pickle.dumps(_Plant(marker))
    kernels = _entries(d, "kernel")
    # a .pyc with the size and mtime of each module source: Python's loader would run it
    for src in _entries(d, "module"):
        st = os.stat(src)
        code = compile(f"open({marker!r}, 'w').close()\n", src, "exec")
        pyc = importlib.util.cache_from_source(src)
        with open(pyc, "wb") as f:
            f.write(importlib._bootstrap_external._code_to_timestamp_pyc(
                code, int(st.st_mtime), st.st_size))
    # Numba index files (Numba's own cache format: a pickle, read before anything else)
    import numba

    for k in kernels:
        with open(re.sub(r"\.[0-9a-f]+\.nbc$", ".nbi", k), "wb") as f:
            f.write(pickle.dumps(numba.__version__) + payload)
    # machine code entries replaced by a pickle, raw and behind a wrong digest
    with open(kernels[0], "wb") as f:
        f.write(payload)
    with open(kernels[1], "wb") as f:
        f.write(b"xform-nbc-1\n" + bytes(32) + payload)
    err = _ok(_run(d))
    assert not os.path.exists(marker), "planted code ran"
    assert sum("is corrupt (" in w for w in _warnings(err)) == 2, err


def test_four_processes_share_an_empty_cache(tmp_path):
    d = str(tmp_path / "shared")
    code = WORK.format(root=ROOT, extra="")
    procs = [subprocess.Popen(_cmd(code, False), env=_env(d), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "OK" in out, err
        assert not _warnings(err), err
    err = _ok(_run(d))
    assert not _warnings(err) and "Compiling" not in err, err
    assert not glob.glob(os.path.join(d, "**", ".tmp-*"), recursive=True)


# -- directory faults in this process ---------------------------------------------------------


def _fresh_function(salt):
    return xform.jit(lambda x: xnp.cos(x) * salt)


def test_cache_dir_that_is_a_file(tmp_path, monkeypatch):
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    monkeypatch.setenv("XFORM_CACHE_DIR", str(path))
    monkeypatch.delenv("XFORM_DISABLE_DISK_CACHE", raising=False)
    x = np.linspace(0, 1, 5)
    with pytest.warns(RuntimeWarning, match="cannot create the jit cache directory"):
        out = _fresh_function(1.125)(x)
    np.testing.assert_allclose(out, np.cos(x) * 1.125, rtol=1e-15)
    assert path.read_text() == "not a directory"


def test_cache_deleted_or_replaced_while_running(tmp_path, monkeypatch):
    root = tmp_path / "live"
    monkeypatch.setenv("XFORM_CACHE_DIR", str(root))
    monkeypatch.delenv("XFORM_DISABLE_DISK_CACHE", raising=False)
    x = np.linspace(0, 1, 5)
    np.testing.assert_allclose(_fresh_function(2.125)(x), np.cos(x) * 2.125, rtol=1e-15)
    assert _entries(str(root), "kernel")
    shutil.rmtree(root)  # deleted: created again (private) at the next write
    np.testing.assert_allclose(_fresh_function(3.125)(x), np.cos(x) * 3.125, rtol=1e-15)
    assert len(_entries(str(root), "kernel")) == 1
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    shutil.rmtree(root)  # replaced by a file: the write fails, the call does not
    root.write_text("in the way")
    with pytest.warns(RuntimeWarning, match="cannot write to the jit cache directory"):
        out = _fresh_function(4.125)(x)
    np.testing.assert_allclose(out, np.cos(x) * 4.125, rtol=1e-15)


def test_directory_open_to_others_is_repaired_or_refused(tmp_path, monkeypatch):
    open_dir = tmp_path / "open"
    (open_dir / "__pycache__").mkdir(parents=True)
    planted = open_dir / "__pycache__" / "xform_0.kernel-8.py311.0.nbc"
    planted.write_bytes(b"could be anything")
    os.chmod(open_dir, 0o777)
    monkeypatch.setenv("XFORM_CACHE_DIR", str(open_dir))
    monkeypatch.delenv("XFORM_DISABLE_DISK_CACHE", raising=False)
    with pytest.warns(RuntimeWarning, match="was writable by other users"):
        s = cache.store()
    assert s is not None and s.writable
    assert stat.S_IMODE(os.stat(open_dir).st_mode) == 0o700 and not planted.exists()
    if not CAN_SWITCH_USER:
        return
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    monkeypatch.setenv("XFORM_CACHE_DIR", str(theirs))
    with pytest.warns(RuntimeWarning, match="belongs to another user"):
        assert cache.store() is None
    x = np.linspace(0, 1, 3)
    np.testing.assert_allclose(_fresh_function(5.125)(x), np.cos(x) * 5.125, rtol=1e-15)
    assert os.listdir(theirs) == []


# -- fork, interrupt and exit while compiling ---------------------------------------------------

# a program whose compilation takes a while (1-3 s), so that it is under way below
SLOW = """
import os, sys, time, signal, threading
sys.path.insert(0, {root!r})
import numpy as np, xform, xform.numpy as xnp

def slow(x):
    for i in range(10):
        x = xnp.tanh(x) * (1.0 + i / {salt}) + xnp.sin(x)
    return xnp.sum(x)

x = np.linspace(-1.0, 1.0, 7)
expected = float(slow(x))  # eager
if {warm}:  # the backend imported and Numba initialized: only the compilation is under way
    assert np.array_equal(xform.jit(lambda v: v + 1.0)(x), x + 1.0)
"""

FORK = SLOW + """
big = xform.jit(slow, tiered=True)
assert np.isclose(big(x), expected)  # uncompiled; the compilation starts in the background
(entry,) = big._cache.values()
job = entry.jaxpr.cache["background_compile"]
time.sleep(0.2)
print("compiling at fork:", not job.done.is_set(), flush=True)
pid = os.fork()
if pid == 0:
    try:
        small = xform.jit(lambda x: x * 3.0 - 1.0)
        try:
            ok = np.array_equal(small(x), x * 3.0 - 1.0)  # a compilation in the child
            print("child compiled", ok, flush=True)
        except RuntimeError as e:
            ok = "was forked while another thread" in str(e)
            print("child refused", ok, flush=True)
        ok = ok and bool(np.isclose(big(x), expected))  # tiered: runs or compiles
        xform.wait_for_compilations(60)
        ok = ok and bool(np.isclose(big(x), expected))
        os._exit(0 if ok else 3)
    except BaseException as e:
        print("child error", repr(e), flush=True)
        os._exit(4)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
assert np.isclose(big(x), expected)
print("OK")
"""


@pytest.mark.parametrize("warm, wait", [(True, "default"), (True, "0"), (False, "0")])
def test_fork_while_a_background_compilation_runs(tmp_path, warm, wait):
    """The child neither hangs nor inherits a phantom compile thread: by default the
    fork waits for the compilation and the child compiles normally; with
    XFORM_FORK_COMPILE_WAIT=0 it forks at once and compiling in the child is a clear
    error (its tiered function still runs). Cold (``warm=False``), the background thread
    is still importing the backend at the fork."""
    extra = {} if wait == "default" else {"XFORM_FORK_COMPILE_WAIT": "0"}
    code = FORK.format(root=ROOT, salt=7.0 + 2 * warm + (wait == "0"), warm=warm)
    r = _run(tmp_path, extra, code=code, timeout=240)
    _ok(r)
    assert "compiling at fork: True" in r.stdout, r.stdout  # the fault did happen
    assert "child exit 0" in r.stdout, r.stdout + r.stderr
    assert ("child compiled True" if wait == "default" else "child refused True") in r.stdout


FORK_IN_LLVM_CALL = """
import os, sys, threading, time
sys.path.insert(0, {root!r})
import numpy as np, xform
from llvmlite.binding import ffi
assert np.array_equal(xform.jit(lambda v: v + 1.0)(np.ones(3)), np.full(3, 2.0))
inside = threading.Event()


def llvm_call():  # another thread inside an LLVM call, as a kernel loading from disk is
    with ffi.lib._lock:
        inside.set()
        time.sleep(0.5)


threading.Thread(target=llvm_call).start()
inside.wait()
pid = os.fork()
if pid == 0:
    ok = np.array_equal(xform.jit(lambda v: v * 3.0 - 1.0)(np.ones(3)), np.full(3, 2.0))
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
print("OK")
"""


def test_fork_while_another_thread_is_inside_an_llvm_call(tmp_path):
    """A fork while another thread holds llvmlite's lock around LLVM calls (outside any
    compilation: reading a cache index, finalizing a kernel loaded from disk): the fork
    waits for the call to end, and the child compiles. (It used to hang there forever.)"""
    r = _run(tmp_path, {"XFORM_DISABLE_DISK_CACHE": "1"}, code=FORK_IN_LLVM_CALL.format(root=ROOT),
             timeout=120)
    _ok(r)
    assert "child exit 0" in r.stdout, r.stdout + r.stderr


INTERRUPT = SLOW + """
big = xform.jit(slow)
for delay in {delays}:
    threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    try:
        big(x)
        print("not interrupted")
        time.sleep(max({delays}))  # the timer fires here if not during the call
    except KeyboardInterrupt:
        print("interrupted")
assert np.isclose(big(x), expected)  # the next call compiles normally
print("OK")
"""


def test_interrupted_compilation_leaves_a_usable_function(tmp_path):
    """Ctrl-C at several points of first calls: while the backend and Numba's registries
    are imported (those steps hold the interrupt back until done, as a half-imported
    package stays broken for the process), then while Numba compiles."""
    delays = [0.05, 0.4, 0.8, 1.2]
    code = INTERRUPT.format(root=ROOT, salt=9.0, warm=False, delays=delays)
    r = _run(tmp_path, {"XFORM_DISABLE_DISK_CACHE": "1"}, code=code)
    _ok(r)
    assert "interrupted" in r.stdout, r.stdout


EXIT = SLOW.replace("{warm}", "False") + """
big = xform.jit(slow, tiered=True)
assert np.isclose(big(x), expected)
print("END", flush=True)
"""


def test_exit_wait_is_bounded(tmp_path):
    r = _run(tmp_path, {"XFORM_EXIT_COMPILE_WAIT": "0"}, code=EXIT.format(root=ROOT, salt=11.0))
    assert r.returncode == 0 and "END" in r.stdout, r.stderr
    assert "in the background" not in r.stderr  # exit did not wait for the compilation
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr


def test_interrupts_at_exit_are_quiet(tmp_path):
    p = subprocess.Popen(_cmd(EXIT.format(root=ROOT, salt=13.0), False), env=_env(tmp_path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "END"
    time.sleep(0.3)  # now waiting for the background compilation at exit
    p.send_signal(signal.SIGINT)
    time.sleep(0.2)
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode in (0, -signal.SIGINT), (p.returncode, err)
    assert "Traceback" not in err and "Exception ignored" not in err, err
