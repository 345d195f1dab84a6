"""jit's in-memory caches are bounded and really freed (issue 15, section 4;
xform/backend/numba/resident.py, docs/cache.md "Memory"): ``xform.clear_caches()``
empties them, the LRU bound (``xform_compile_cache_size``) evicts the least recently
used compiled programs and Numba's objects for them are collected, results stay right
(numpy references) after evictions, and the same program gets the same cache keys in
two processes. Memory numbers (RSS per signature) are measured by
benchmarks/bench_cache_memory.py, not here."""
from __future__ import annotations

import ctypes
import gc
import glob
import os
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import config
from xform.backend.numba import Evicted, resident

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def cache_size():
    """Set ``xform_compile_cache_size`` for one test (restored afterwards)."""
    before = config.compile_cache_size

    def set_size(n):
        xform.config.update("xform_compile_cache_size", n)

    yield set_size
    xform.config.update("xform_compile_cache_size", before)


def _compiled(jitted, shape):
    """The compiled program of ``jitted`` for float64 arguments of ``shape``."""
    for key, entry in jitted._cache.items():
        if key[1] == ((shape, np.dtype(np.float64)),):
            return entry.jaxpr.cache["compiled"]
    raise KeyError(shape)


def _engine_modules():
    from numba.core.registry import cpu_target

    return cpu_target.target_context.codegen()._engine._ee._modules


def test_clear_caches_frees_programs_and_recompiles():
    f = xform.jit(lambda x: x * 2.5 - 1.0)
    xs = [np.linspace(-1.0, 1.0, n) for n in (2, 3)]
    for x in xs:
        np.testing.assert_array_equal(f(x), x * 2.5 - 1.0)
    programs = [_compiled(f, x.shape) for x in xs]
    names = [c.module.__name__ for c in programs]
    assert all(n in resident._MODULES and n in sys.modules for n in names)
    refs = [weakref.ref(o) for c in programs for o in (c, c.module, c.kernel)]
    del programs
    traces = f.trace_count

    xform.clear_caches()
    assert f._cache_size() == 0 and not f._fast
    assert not any(n in resident._MODULES or n in sys.modules for n in names)
    gc.collect()
    assert all(r() is None for r in refs), "Numba's objects for the programs were not freed"

    for x in xs:  # traced and compiled again (or loaded from the disk cache)
        np.testing.assert_array_equal(f(x), x * 2.5 - 1.0)
    assert f.trace_count == traces + 2


def test_compiled_kernel_keeps_no_llvm_ir():
    """After compiling, the kernel's LLVM module leaves MCJIT (its machine code stays);
    at eviction its helpers' modules go too."""
    f = xform.jit(lambda x: xnp.sum(xnp.cos(x) * x))
    x = np.linspace(0.0, 3.0, 2**15)  # big enough for a fast-math reduction helper
    np.testing.assert_allclose(f(x), np.sum(np.cos(x) * x), rtol=1e-12)
    c = _compiled(f, x.shape)
    (cres,) = c.kernel.overloads.values()
    owned = _engine_modules()
    assert not any(m is cres.library._final_module for m in owned)
    assert cres.type_annotation is None and cres.fndesc.typemap is None
    helpers = [lib for d in resident._dispatchers(c.module) if d is not c.kernel
               for lib in (r.library for r in d.overloads.values())]
    kept = [lib._final_module for lib in helpers]  # (a fast-math reduction helper, today)
    assert all(any(m is k for m in owned) for k in kept)
    del c, cres
    xform.clear_caches()
    owned = _engine_modules()
    assert not any(m is k for k in kept for m in owned)


def test_lru_evicts_least_recently_used_and_stays_correct(cache_size):
    cache_size(2)
    g = xform.jit(lambda x: xnp.cos(x) + 0.5)
    f = xform.jit(lambda x: xnp.sin(x) * 0.75)
    y = np.linspace(0.0, 1.0, 7)
    np.testing.assert_allclose(g(y), np.cos(y) + 0.5, rtol=1e-14)
    g_program = _compiled(g, y.shape)
    refs = []
    for n in (2, 3, 4, 5):
        x = np.linspace(-2.0, 2.0, n)
        np.testing.assert_allclose(f(x), np.sin(x) * 0.75, rtol=1e-14)
        refs.append(weakref.ref(_compiled(f, x.shape).kernel))
        np.testing.assert_allclose(g(y), np.cos(y) + 0.5, rtol=1e-14)  # g stays in use
        assert resident.resident() <= 2
    # g, called (mostly through its fast path) between f's compilations, was kept
    assert g.trace_count == 1 and _compiled(g, y.shape) is g_program
    assert f._cache_size() == 1  # the evicted programs' signatures were dropped
    gc.collect()
    assert sum(r() is not None for r in refs) == 1  # evicted kernels were freed
    x = np.linspace(-2.0, 2.0, 2)  # evicted: traced and compiled again
    np.testing.assert_allclose(f(x), np.sin(x) * 0.75, rtol=1e-14)
    assert f.trace_count == 5


def test_shrinking_the_bound_evicts_at_once(cache_size):
    cache_size(None)  # no bound
    f = xform.jit(lambda x: x - 0.125)
    for n in (2, 3, 4):
        f(np.ones(n))
    assert resident.resident() >= 3
    cache_size(1)
    assert resident.resident() == 1
    np.testing.assert_array_equal(f(np.ones(3)), np.full(3, 0.875))


def test_a_caller_holding_an_evicted_program_is_safe():
    f = xform.jit(lambda x: x * x + 1.0)
    x = np.linspace(0.0, 1.0, 6)
    f(x)
    c = _compiled(f, x.shape)
    xform.clear_caches()
    assert c.evicted
    np.testing.assert_array_equal(c(x)[0], x * x + 1.0)  # its machine code still runs
    strided = np.linspace(0.0, 1.0, 12)[::2]  # same shape, a new Numba type: not compiled
    with pytest.raises(Evicted, match="evicted from the in-memory cache"):
        c(strided)
    np.testing.assert_array_equal(f(strided), strided * strided + 1.0)  # jit recompiles


def test_identical_programs_share_one_kernel():
    x = np.linspace(0.0, 1.0, 5)
    names = set()
    for _ in range(20):  # a new jit object each time, as with lambdas in a loop
        jf = xform.jit(lambda x: x * 3.0 + 0.25)
        np.testing.assert_array_equal(jf(x), x * 3.0 + 0.25)
        names.add(_compiled(jf, x.shape).module.__name__)
    assert len(names) == 1


def test_cache_size_setting_is_validated(cache_size):
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="xform_compile_cache_size"):
            xform.config.update("xform_compile_cache_size", bad)
    cache_size(7)
    assert xform.config.xform_compile_cache_size == 7 == config.compile_cache_size
    cache_size(np.int64(9))
    assert config.compile_cache_size == 9
    cache_size(None)
    assert config.compile_cache_size is None


def test_cache_size_from_the_environment():
    code = ("import xform; print(xform.config.compile_cache_size)")
    outs = []
    for value in ("64", "none", "0"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(os.environ, XFORM_COMPILE_CACHE_SIZE=value), timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append((r.stdout.strip(), r.stderr))
    assert outs[0][0] == "64" and outs[1][0] == "None"
    assert outs[2][0] == "1024" and "XFORM_COMPILE_CACHE_SIZE" in outs[2][1]


KEYS = textwrap.dedent("""
    import glob, os, sys
    sys.path.insert(0, {root!r})
    import numpy as np, xform, xform.numpy as xnp

    if {perturb}:  # trace and compile other programs first: counters move on
        for k in range(3):
            xform.jit(lambda x, k=k: xnp.exp(x) * (k + 1.0))(np.ones(k + 2))
        xform.make_jaxpr(lambda x: xnp.tanh(x) ** 2)(np.ones(3))

    def f(x, y):
        return xnp.sum(xnp.sin(x) * y, axis=0) + xnp.max(x)

    jf = xform.jit(f)
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(jf(x, 2.0), (np.sin(x) * 2.0).sum(0) + x.max(), rtol=1e-14)
    (key,) = [k for k in jf._cache]
    (entry,) = jf._cache.values()
    name = entry.jaxpr.cache["compiled"].module.__name__
    code = os.path.join(os.environ["XFORM_CACHE_DIR"], "__pycache__")
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(code, name + ".*.nbc")))
    print(repr(key))
    print(name)
    print(files)
""")


def test_same_program_same_cache_keys_in_two_processes(tmp_path):
    """The jit signature key, the module (source hash) and the disk entry names do not
    depend on the process: not on what it traced before (counters), not on
    PYTHONHASHSEED (string hashing)."""
    outs = []
    for i, (perturb, seed) in enumerate(((False, "1"), (True, "2"))):
        d = tmp_path / f"cache{i}"
        env = dict(os.environ, XFORM_CACHE_DIR=str(d), PYTHONHASHSEED=seed)
        env.pop("XFORM_DISABLE_DISK_CACHE", None)
        env.pop("NUMBA_CACHE_DIR", None)
        r = subprocess.run([sys.executable, "-c", KEYS.format(root=ROOT, perturb=perturb)],
                           env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.strip().splitlines())
        assert glob.glob(str(d / "xform_*.py"))
    assert outs[0] == outs[1]
    assert outs[0][1].startswith("xform_") and outs[0][2] != "[]"


def test_llvm_pass_managers_are_freed():
    """platform.dispose_pass_managers: llvmlite frees the pass pipelines numba makes (it
    kept ~16-32 KB per pipeline, ~0.9 MB per compiled kernel)."""
    import llvmlite.binding as ll
    from llvmlite.binding import ffi, newpassmanagers
    from numba.core import codegen

    assert newpassmanagers.FunctionPassManager._dispose is not ffi.ObjectRef._dispose
    assert codegen.CPUCodeLibrary._optimize_functions.__module__ == "xform.backend.platform"
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        pytest.skip("needs glibc's mallinfo2")
    tm = ll.Target.from_default_triple().create_target_machine(opt=3)

    def make():
        pto = ll.create_pipeline_tuning_options()
        pto.speed_level = 3
        pb = ll.create_pass_builder(tm, pto)
        pb.getFunctionPassManager()
        pb.getModulePassManager()

    make()
    gc.collect()
    before = libc.mallinfo2().uordblks
    for _ in range(100):
        make()
    gc.collect()
    per = (libc.mallinfo2().uordblks - before) / 100
    assert per < 8000, f"{per:.0f} bytes kept per pass builder and its two pipelines"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]
