"""The process-wide workarounds of the Numba backend (xform/backend/platform.py)
still do their job with the installed Numba, scipy and libc: an upgrade that changes
the internals they rely on fails here, not silently in users' processes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np

import xform
from xform.backend import platform


def _run(code: str, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300, env={**base, **env})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_numba_colour_shell_is_off_unless_the_user_set_it():
    code = """
        import os, xform.backend.numba, numba.core.errors
        print(os.environ["NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"])
    """
    assert _run(code) == "1"
    assert _run(code, NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING="0") == "0"


def test_colour_shell_made_inert_when_numba_came_first():
    out = _run("""
        import sys, numba.core.errors as e
        import xform.backend.platform as p
        p.keep_numba_off_sys_streams()
        before = sys.stdout
        with e.ColorShell():
            same = sys.stdout is before
        print(same)
    """)
    assert out == "True"


def test_blas_bindings_load_without_scipy_linalg_init():
    out = _run("""
        import sys
        import xform.backend.numba.runtime
        print("scipy.linalg.cython_blas" in sys.modules, "scipy.linalg" in sys.modules)
        import scipy.linalg
        print(scipy.linalg.cython_blas is sys.modules["scipy.linalg.cython_blas"])
    """)
    assert out.split() == ["True", "False", "True"]


def test_numba_internals_used_by_load_cached_exist():
    import numba
    from numba.core.compiler_lock import global_compiler_lock  # noqa: F401
    from numba.core.runtime import rtsys

    assert hasattr(rtsys, "initialize")
    f = numba.njit(cache=False)(lambda x: x + 1)
    assert f(1) == 2
    for attr in ("overloads", "targetctx", "_cache", "_cache_hits", "add_overload"):
        assert hasattr(f, attr), attr
    from numba.core.caching import Cache

    assert hasattr(Cache, "_load_overload")
    assert hasattr(f.targetctx, "insert_user_function")


def test_load_cached_declines_what_it_cannot_load():
    import numba

    f = numba.njit(cache=False)(lambda x: x * 2.0)
    assert platform.load_cached(f, (numba.float64,)) is False  # no disk cache entry
    assert f(2.0) == 4.0


def test_load_cached_loads_a_disk_cached_kernel(tmp_path):
    out = _run("""
        import numpy as np, xform
        f = xform.jit(lambda x: x * 3.0 + 1.0)
        print(f(np.arange(3.0)).tolist())
    """, XFORM_CACHE_DIR=str(tmp_path))
    assert out == "[1.0, 4.0, 7.0]"
    out = _run("""
        import numpy as np, xform
        from xform.backend import platform
        calls = []
        real = platform.load_cached
        platform.load_cached = lambda k, s: calls.append(real(k, s)) or calls[-1]
        f = xform.jit(lambda x: x * 3.0 + 1.0)
        print(f(np.arange(3.0)).tolist(), calls)
    """, XFORM_CACHE_DIR=str(tmp_path))
    assert out == "[1.0, 4.0, 7.0] [True]"


def test_tune_malloc_is_idempotent_and_harmless():
    platform.tune_malloc()
    platform.tune_malloc()
    g = xform.jit(lambda x: x * 2.0)
    np.testing.assert_array_equal(g(np.ones(4)), np.full(4, 2.0))


def test_openmp_spin_is_shortened_unless_the_user_set_a_policy():
    """Numba's OpenMP workers must not spin for milliseconds on the cores a following BLAS
    call needs (docs/performance.md, "Threads"): ``import xform`` sets GOMP_SPINCOUNT,
    and leaves it, or OMP_WAIT_POLICY, to a user who set one."""
    base = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    code = "import os, xform; print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))"

    def run(**env):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=300, env={**base, **env})
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert run() == "10000 None"
    assert run(GOMP_SPINCOUNT="500") == "500 None"
    assert run(OMP_WAIT_POLICY="active") == "None active"
