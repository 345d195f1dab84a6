"""jit caches: in-memory (no retrace), disk cache across processes, corrupted cache
entries, concurrent compilation (threads and processes), compile logging."""
from __future__ import annotations

import glob
import logging
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("xform-jit-cache"))


SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np, xform, xform.numpy as xnp

    def f(x, y):
        return xnp.sum(xnp.sin(x) * y + {salt}, axis=0)

    x = np.arange(6.0).reshape(3, 2)
    out = xform.jit(f)(x, 2.0)
    expected = (np.sin(x) * 2.0 + {salt}).sum(0)
    assert np.allclose(out, expected), (out, expected)
    print("OK")
""")


def _run(cache_dir, salt, extra_env=None):
    env = dict(os.environ, XFORM_CACHE_DIR=cache_dir, XFORM_LOG_COMPILES="1")
    env.pop("XFORM_DISABLE_DISK_CACHE", None)
    # numba's cache files next to the kernel modules (cache_dir/__pycache__, which
    # test_corrupt_cache_entries_are_rebuilt corrupts), also when the suite runs with a
    # NUMBA_CACHE_DIR of its own (e.g. with NUMBA_CPU_NAME set, see .ci/run)
    env.pop("NUMBA_CACHE_DIR", None)
    env.update(extra_env or {})
    code = SCRIPT.format(root=ROOT, salt=salt)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)


def _entries(cache_dir, salt_marker=None):
    return sorted(glob.glob(os.path.join(cache_dir, "xform_*.py")))


def test_disk_cache_hit_in_fresh_process(cache_dir):
    r1 = _run(cache_dir, 1.25)
    assert r1.returncode == 0, r1.stderr
    assert "Compiling `f`" in r1.stderr
    assert _entries(cache_dir)
    r2 = _run(cache_dir, 1.25)
    assert r2.returncode == 0, r2.stderr
    assert "Compiling" not in r2.stderr and "disk cache hit" in r2.stderr, r2.stderr


WARM_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np, xform, xform.numpy as xnp

    def mlp(w, x):  # BLAS (dot) and a big fused loop (parallel, sin/cos blocks)
        return xnp.sum(xnp.tanh(x @ w) ** 2) + xnp.sum(xnp.sin(x) * xnp.cos(x))

    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((300, 20)), rng.standard_normal((1000, 300))
    g = xform.jit(xform.grad(mlp, argnums=(0, 1)))(w, x)
    e = xform.grad(mlp, argnums=(0, 1))(w, x)
    for a, b in zip(g, e):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-12)
    print("registries", "numba.np.arraymath" in sys.modules)
    h = xform.jit(lambda a: xnp.cumsum(a) * {salt})(x[0])   # compiled in this process
    assert np.allclose(h, np.cumsum(x[0]) * {salt})
    assert np.allclose(xform.jit(xform.grad(mlp, argnums=(0, 1)))(w, x)[0], e[0])
    print("OK")
""")


def test_warm_process_loads_without_numba_initialization(tmp_path):
    # a disk-cache hit skips numba's registry initialization (numba.np.arraymath & co.);
    # running cached BLAS/parallel kernels and compiling afterwards still work
    env = dict(os.environ, XFORM_CACHE_DIR=str(tmp_path), XFORM_LOG_COMPILES="1")
    env.pop("XFORM_DISABLE_DISK_CACHE", None)
    outs = []
    for salt in (2.0, 3.0):
        r = subprocess.run([sys.executable, "-c", WARM_SCRIPT.format(root=ROOT, salt=salt)],
                           env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "OK" in r.stdout
        outs.append(r)
    assert "registries False" in outs[1].stdout, outs[1].stdout
    assert "Loaded `grad_mlp`" in outs[1].stderr, outs[1].stderr


def test_corrupt_cache_entries_are_rebuilt(cache_dir):
    r1 = _run(cache_dir, 2.5)
    assert r1.returncode == 0, r1.stderr
    before = set(_entries(cache_dir))
    # corrupt the numba cache (index and data) of every entry, and one module file
    for f in glob.glob(os.path.join(cache_dir, "__pycache__", "*.nb*")):
        with open(f, "wb") as fh:
            fh.write(b"\x00garbage")
    r2 = _run(cache_dir, 2.5)
    assert r2.returncode == 0, r2.stderr
    assert "OK" in r2.stdout
    for f in before:
        with open(f, "w") as fh:
            fh.write("this is not python (")
    r3 = _run(cache_dir, 2.5)
    assert r3.returncode == 0, r3.stderr
    assert "corrupt" in r3.stderr and "OK" in r3.stdout
    r4 = _run(cache_dir, 2.5)  # and the rebuilt entry is used again
    assert r4.returncode == 0 and "Compiling" not in r4.stderr, r4.stderr


def test_two_processes_compiling_at_once(tmp_path):
    d = str(tmp_path)
    env = dict(os.environ, XFORM_CACHE_DIR=d, XFORM_LOG_COMPILES="1")
    env.pop("NUMBA_CACHE_DIR", None)  # as in _run, which checks the cache afterwards
    code = SCRIPT.format(root=ROOT, salt=3.75)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "OK" in out
    r = _run(d, 3.75)
    assert r.returncode == 0 and "Compiling" not in r.stderr, r.stderr


def test_disk_cache_can_be_disabled(tmp_path):
    r = _run(str(tmp_path), 4.5, {"XFORM_DISABLE_DISK_CACHE": "1"})
    assert r.returncode == 0, r.stderr
    assert not _entries(str(tmp_path))


def test_threads_first_call():
    def f(x):
        return xnp.tanh(x) * 3.0 + xnp.sum(x)

    jf = xform.jit(f)
    xs = [np.full(5, float(i)) for i in range(6)]
    barrier = threading.Barrier(len(xs))
    results, errors = [None] * len(xs), []

    def work(i):
        try:
            barrier.wait()
            results[i] = jf(xs[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for x, r in zip(xs, results):
        np.testing.assert_allclose(r, np.tanh(x) * 3.0 + x.sum())


@pytest.fixture
def compile_log(caplog, monkeypatch):
    monkeypatch.setattr(config, "log_compiles", True)
    caplog.set_level(logging.INFO, logger="xform")
    return caplog


def test_log_compiles_and_recompile_reasons(compile_log):
    def g(x, n):
        return x * n + 0.125

    jg = xform.jit(g, static_argnums=1)
    jg(np.ones(3), 2)
    jg(np.ones(3), 2)
    jg(np.ones(4), 2)
    jg(np.ones(4).astype(np.float32), 2)
    jg(np.ones(4).astype(np.float32), 3)
    msgs = [r.getMessage() for r in compile_log.records if r.name == "xform"]
    assert len(msgs) == 4, msgs
    assert "`g`" in msgs[0] and "f64[3]" in msgs[0] and "trace" in msgs[0]
    assert "input 0 changed from f64[3] to f64[4]" in msgs[1]
    assert "input 0 changed from f64[4] to f32[4]" in msgs[2]
    assert "static argument 1 changed from 2 to 3" in msgs[3]


def test_log_quiet_by_default(caplog, monkeypatch):
    monkeypatch.setattr(config, "log_compiles", False)
    caplog.set_level(logging.INFO, logger="xform")
    xform.jit(lambda x: x - 0.375)(np.ones(2))
    assert not [r for r in caplog.records if r.name == "xform"]


def test_blas_kernels_do_not_import_scipy_linalg_package(tmp_path):
    """The first BLAS call loads scipy's cython_blas extension directly (the package
    init of scipy.linalg costs 0.1-0.3 s); a later `import scipy.linalg` still works and
    shows the extension as its attribute."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        import numpy as np, xform
        a = np.arange(6.0).reshape(2, 3)
        out = xform.jit(lambda x, y: x @ y)(a, a.T)
        assert np.allclose(out, a @ a.T)
        assert "scipy.linalg.cython_blas" in sys.modules
        assert "scipy.linalg" not in sys.modules, "the package init ran"
        import scipy.linalg
        import scipy.linalg.cython_blas as cb
        assert scipy.linalg.cython_blas is cb and "dgemm" in cb.__pyx_capi__
        assert np.allclose(scipy.linalg.solve(np.eye(2) * 2.0, np.ones(2)), 0.5)
        print("OK")
    """)
    env = dict(os.environ, XFORM_CACHE_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK"


def test_kernel_hash_covers_the_helpers_kernels_import(monkeypatch):
    """Numba's cache checks only a kernel's own file; helpers compiled into it are not
    checked, so a change to them must change every kernel's hash (and file)."""
    from xform.backend.numba import cache

    before = cache.source_hash("def kernel(): pass\n")
    monkeypatch.setattr(cache, "_helpers_digest", "a-changed-helper")
    assert cache.source_hash("def kernel(): pass\n") != before
    monkeypatch.setattr(cache, "_helpers_digest", None)
    assert cache.source_hash("def kernel(): pass\n") == before  # recomputed from the files
