"""Thread settings of compiled kernels (xform/backend/numba/threads.py): the config
options round-trip, reach Numba and the BLAS library kernels call, leave results
unchanged, and reject bad values clearly. No timings here (benchmarks/bench_threads.py)."""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import config

import numba  # noqa: E402
import threadpoolctl  # noqa: E402

from xform.backend.numba import runtime, threads  # noqa: E402

CORES = config._cores()
POOL = config.numba_pool_size()
needs_two = pytest.mark.skipif(CORES < 2 or POOL < 2, reason="needs 2 cores and 2 Numba threads")

# shared jitted functions (one compilation each for the whole module)
_matmul = xform.jit(lambda a, b: a @ b)
# 2**19 elements: above XFORM_PARALLEL_MIN_SIZE, so a parallel (prange) helper
_big_map = xform.jit(lambda x: xnp.tanh(x) * xnp.sin(x) + xnp.exp(-x * x))
_row_sums = xform.jit(lambda x: xnp.sum(xnp.exp(-x * x) * x, axis=1))

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _parallel_from_2_18(monkeypatch):
    # these tests exercise the parallel (prange) path at 2**18-2**19 elements, below the
    # default XFORM_PARALLEL_MIN_SIZE (2**20); the setting is read when compiling
    monkeypatch.setenv("XFORM_PARALLEL_MIN_SIZE", str(1 << 18))
X_BIG = RNG.standard_normal(1 << 19)
X_ROWS = RNG.standard_normal((1024, 512))
A = RNG.standard_normal((256, 256))
B = RNG.standard_normal((256, 256))


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    for name in ("xform_num_threads", "xform_blas_num_threads", "xform_blas_min_work"):
        config.update(name, None)


def _kernel_library():
    lib = threads.blas_library()
    if not lib or not lib["switchable"]:
        pytest.skip("the BLAS library kernels call has no per-call thread switch here")
    return lib


def _controller(filepath):
    return next(c for c in threadpoolctl.ThreadpoolController().lib_controllers
                if c.filepath == filepath)


# -- config round-trip and errors --------------------------------------------------------------

def test_settings_round_trip():
    assert config.xform_num_threads is None and config.xform_blas_num_threads is None
    config.update("xform_num_threads", 1)
    config.update("xform_blas_num_threads", np.int64(1))  # numpy integers are whole numbers
    config.update("xform_blas_min_work", 0)
    assert (config.xform_num_threads, config.xform_blas_num_threads) == (1, 1)
    assert type(config.xform_blas_num_threads) is int and config.blas_min_work() == 0
    assert not config.parallel()  # kernels compiled now get no parallel loops
    config.update("xform_num_threads", None)
    config.update("xform_blas_min_work", None)
    assert config.xform_num_threads is None and config.blas_min_work() == 1 << 21


@pytest.mark.parametrize("name", ["xform_num_threads", "xform_blas_num_threads"])
@pytest.mark.parametrize("value,err", [(0, ValueError), (-2, ValueError), (10_000, ValueError),
                                       (2.0, TypeError), ("2", TypeError), (True, TypeError)])
def test_bad_thread_counts(name, value, err):
    before = getattr(config, name)
    with pytest.raises(err, match=name) as info:
        config.update(name, value)
    assert "None restores the default" in str(info.value) or "whole number" in str(info.value)
    assert getattr(config, name) == before  # unchanged


def test_bad_min_work_and_unknown_option():
    with pytest.raises(ValueError, match="xform_blas_min_work.*>= 0"):
        config.update("xform_blas_min_work", -1)
    with pytest.raises(AttributeError, match="xform_blas_num_threads"):
        config.update("xform_blas_threads", 1)  # the message lists the real names


def test_numba_count_above_pool_names_the_fix():
    with pytest.raises(ValueError, match="NUMBA_NUM_THREADS"):
        config.update("xform_num_threads", POOL + 1)


# -- Numba's count --------------------------------------------------------------------------------

@needs_two
def test_numba_threads_reach_calling_thread_and_kernels():
    _big_map(X_BIG)
    config.update("xform_num_threads", 1)
    assert numba.get_num_threads() == 1
    _big_map(X_BIG)  # a kernel compiled earlier keeps running, now on one thread
    assert numba.get_num_threads() == 1
    config.update("xform_num_threads", None)
    assert numba.get_num_threads() == POOL


@needs_two
def test_region_threads_apply_in_any_thread():
    # parallel helpers call runtime.region_threads() before their prange loop: the
    # setting then holds in threads that never called update (Numba's count is per thread)
    config.update("xform_num_threads", 1)
    seen = []

    def worker():
        before = numba.get_num_threads()
        runtime.region_threads()
        seen.append((before, numba.get_num_threads()))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [(POOL, 1)]


@needs_two
def test_results_identical_with_one_and_two_numba_threads():
    ref_map, ref_rows = _big_map(X_BIG), _row_sums(X_ROWS)
    np.testing.assert_allclose(ref_map, np.tanh(X_BIG) * np.sin(X_BIG) + np.exp(-X_BIG ** 2),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ref_rows, (np.exp(-X_ROWS ** 2) * X_ROWS).sum(1), rtol=1e-12,
                               atol=1e-12)
    config.update("xform_num_threads", 1)
    np.testing.assert_array_equal(_big_map(X_BIG), ref_map)
    np.testing.assert_array_equal(_row_sums(X_ROWS), ref_rows)


# -- BLAS -------------------------------------------------------------------------------------------

def test_kernels_switch_the_library_scipy_resolves():
    lib = _kernel_library()
    assert lib["filepath"] in {i["filepath"] for i in threadpoolctl.threadpool_info()
                               if i["user_api"] == "blas"}
    # the functions compiled code calls belong to that library: a count set through
    # threadpoolctl reads back through them
    ctl = _controller(lib["filepath"])
    get = ctypes.CFUNCTYPE(ctypes.c_int)(int(threads.STATE[threads.GET]))
    own = ctl.get_num_threads()
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert get() == 1
    assert get() == own


def test_blas_enter_exit_policy():
    lib = _kernel_library()
    ctl = _controller(lib["filepath"])
    own = ctl.get_num_threads()
    big = 1 << 30
    runtime.blas_enter(16)  # a small call: one thread
    assert ctl.get_num_threads() == 1
    runtime.blas_exit()
    assert ctl.get_num_threads() == own  # the library's own count is restored
    if CORES >= 2:
        config.update("xform_blas_num_threads", 2)
        runtime.blas_enter(big)
        assert ctl.get_num_threads() == 2
        runtime.blas_enter(big)  # a second caller inside BLAS at once: one thread
        assert ctl.get_num_threads() == 1
        runtime.blas_exit()
        runtime.blas_exit()
        assert ctl.get_num_threads() == own
    config.update("xform_blas_num_threads", 1)
    runtime.blas_enter(big)
    assert ctl.get_num_threads() == 1
    runtime.blas_exit()
    assert ctl.get_num_threads() == own
    assert threads.STATE[threads.ACTIVE] == 0 and threads.STATE[threads.LOCK] == 0


def test_min_work_setting_reaches_kernels():
    lib = _kernel_library()
    if CORES < 2:
        pytest.skip("needs 2 cores")
    ctl = _controller(lib["filepath"])
    config.update("xform_blas_num_threads", 2)
    config.update("xform_blas_min_work", 0)
    runtime.blas_enter(16)
    assert ctl.get_num_threads() == 2
    runtime.blas_exit()


def test_matmul_results_with_one_and_two_blas_threads():
    lib = _kernel_library()
    ctl = _controller(lib["filepath"])
    own = ctl.get_num_threads()
    out = {}
    for n in (1, 2) if CORES >= 2 else (1,):
        config.update("xform_blas_num_threads", n)
        out[n] = _matmul(A, B)
        assert ctl.get_num_threads() == own  # restored after the call
        np.testing.assert_allclose(out[n], A @ B, rtol=1e-12, atol=1e-12)
    if 2 in out:
        # OpenBLAS splits the work differently: equal to rounding, not always bitwise
        np.testing.assert_allclose(out[1], out[2], rtol=1e-13, atol=1e-13)
    assert threads.STATE[threads.ACTIVE] == 0


def test_numpy_blas_untouched():
    lib = _kernel_library()
    others = [c for c in threadpoolctl.ThreadpoolController().lib_controllers
              if c.user_api == "blas" and c.filepath != lib["filepath"]]
    before = [c.get_num_threads() for c in others]
    config.update("xform_blas_num_threads", 1)
    _matmul(A, B)
    assert [c.get_num_threads() for c in others] == before


# -- the governor -----------------------------------------------------------------------------------

def test_free_cores():
    assert threads.free_cores(2, 0.05, 0.04, 1.0) == 2
    assert threads.free_cores(2, 1.95, 0.95, 1.0) == 1   # one other busy process
    assert threads.free_cores(2, 2.0, 0.0, 1.0) == 1     # never below one
    assert threads.free_cores(8, 3.0, 1.0, 1.0) == 6
    assert threads.free_cores(2, 0.0, 0.3, 1.0) == 2     # own time counted late by the ticks


def test_busy_ticks_reads_this_machine():
    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat")
    cpus = os.sched_getaffinity(0)
    busy, total = threads._busy_ticks(cpus)
    assert 0 <= busy <= total


@needs_two
def test_governor_writes_a_cap():
    if not threads._governor.wanted():
        pytest.skip("governor off here (XFORM_THREAD_GOVERNOR=0 or no /proc/stat)")
    threads.ensure_ready()
    deadline = time.monotonic() + 10
    while threads.STATE[threads.CAP] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert 1 <= threads.STATE[threads.CAP] <= CORES
    assert threads._governor.thread.daemon


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_resets_the_lock_and_computes():
    _kernel_library()
    _matmul(A, B)
    threads.STATE[threads.LOCK] = 1  # as if a thread of the parent held the lock at fork
    try:
        pid = os.fork()
        if pid == 0:  # child: BLAS only (GNU OpenMP's pool does not survive fork)
            ok = False
            try:
                ok = (threads.STATE[threads.LOCK] == 0 and threads.STATE[threads.ACTIVE] == 0
                      and np.allclose(_matmul(A, B), A @ B, rtol=1e-12, atol=1e-12))
            finally:
                os._exit(0 if ok else 1)
    finally:
        threads.STATE[threads.LOCK] = 0
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        assert time.monotonic() < deadline, "the forked child hung"
        time.sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# -- environment variables --------------------------------------------------------------------------

def test_environment_variables():
    code = ("import xform, xform.config as c; import numba;"
            "from xform.backend.numba import threads; threads.ensure_ready();"
            "print(c.num_threads(), c.blas_num_threads(), c.blas_min_work(),"
            " numba.config.NUMBA_NUM_THREADS, c.parallel(), threads.STATE[threads.WANT])")
    env = dict(os.environ, XFORM_NUM_THREADS="1", XFORM_BLAS_NUM_THREADS="1",
               XFORM_BLAS_MIN_WORK="1000")
    env.pop("NUMBA_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1", "1000", "1", "False", "1"]
    env = dict(os.environ, XFORM_BLAS_NUM_THREADS="lots")
    out = subprocess.run([sys.executable, "-c", "import xform.config as c; print(c.blas_num_threads())"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "None"
    assert "XFORM_BLAS_NUM_THREADS='lots' is not a number of threads" in out.stderr


def test_first_parallel_kernel_of_a_process_compiles_and_loads(tmp_path):
    # the thread-count call in parallel kernels links against a symbol of Numba's
    # threading layer, which exists only once the layer is launched: a parallel kernel
    # compiled (and then loaded from the disk cache) as the first thing a fresh process
    # does must not abort with "LLVM ERROR: Symbol not found: set_num_threads"
    code = ("import numpy as np, xform, xform.numpy as xnp;"
            "x = np.linspace(-3.0, 3.0, 4096);"
            "print(float(np.abs(xform.jit(lambda v: xnp.sin(v) * 2.0 + v)(x)"
            " - (np.sin(x) * 2.0 + x)).max()))")
    env = dict(os.environ, XFORM_PARALLEL_MIN_SIZE="1024", XFORM_CACHE_DIR=str(tmp_path / "x"),
               NUMBA_CACHE_DIR=str(tmp_path / "n"))
    for _ in range(2):  # compiled, then loaded from the cache
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        assert float(out.stdout) < 1e-14
