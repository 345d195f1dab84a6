"""jit(..., tiered=True): calls run uncompiled until the background compilation of
their program finishes, then switch to the compiled kernel."""
from __future__ import annotations

import glob
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import config, lax
from xform.backend import numba as numba_lowering

from test_jit import mlp_loss as _mlp_loss
from test_jit import rosenbrock, softmax

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    params = (rng.standard_normal((7, 5)) * 0.3, rng.standard_normal(5),
              rng.standard_normal((5, 3)) * 0.3, rng.standard_normal(3))
    x = rng.standard_normal((4, 7))
    y = np.eye(3)[rng.integers(0, 3, 4)]
    return params, x, y


@pytest.fixture
def gated_compile(monkeypatch):
    """compile_jaxpr blocks until the test opens the gate: proves that tiered calls
    do not wait for the compiler."""
    gate = threading.Event()
    started = threading.Event()
    names = []  # the programs compile_jaxpr was asked for
    real = numba_lowering.compile_jaxpr

    def slow_compile(closed, name="kernel"):
        names.append(name)
        started.set()
        assert gate.wait(120), "the test never opened the gate"
        return real(closed, name=name)

    monkeypatch.setattr(numba_lowering, "compile_jaxpr", slow_compile)
    yield gate, started, names
    gate.set()
    xform.wait_for_compilations(120)


def _compiled_of(jitted):
    (entry,) = jitted._cache.values()
    return entry.jaxpr.cache.get("compiled")


def test_first_calls_run_uncompiled_then_switch(gated_compile):
    gate, started, _ = gated_compile
    f = xform.jit(lambda x, y: xnp.sin(x) * y + xnp.exp(-x * x), tiered=True)
    x = np.linspace(-3, 3, 50)
    eager = np.sin(x) * 2.0 + np.exp(-x * x)
    for _ in range(3):  # the compiler is blocked: these calls must not wait for it
        np.testing.assert_array_equal(f(x, 2.0), eager)
    assert started.wait(60)
    assert _compiled_of(f) is None  # still inside the (gated) compiler
    assert f.trace_count == 1
    gate.set()
    assert xform.wait_for_compilations(120)
    assert _compiled_of(f).ready
    np.testing.assert_allclose(f(x, 2.0), eager, rtol=1e-14, atol=1e-15)
    assert f._fast, "after the switch the hot path calls the kernel directly"
    assert f.trace_count == 1


def test_tiered_grad_of_mlp_matches_eager_before_and_after_compiling():
    params, x, y = _mlp_data()
    g = xform.jit(xform.grad(_mlp_loss), tiered=True)
    expected = xform.grad(_mlp_loss)(params, x, y)
    first = g(params, x, y)
    for a, b in zip(first, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert xform.wait_for_compilations(300)
    later = g(params, x, y)
    assert isinstance(later, tuple) and len(later) == 4
    for a, b in zip(later, expected):
        assert isinstance(a, np.ndarray) and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_tiered_composes_with_transformations():
    f = xform.jit(lambda x: xnp.sum(xnp.tanh(x) ** 2), tiered=True)
    x = np.linspace(-1, 1, 7)
    expected = 2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(xform.grad(f)(x), expected, rtol=1e-13)
    np.testing.assert_allclose(xform.vmap(xform.grad(f))(np.stack([x, 2 * x])),
                               np.stack([expected, 2 * np.tanh(2 * x) * (1 - np.tanh(2 * x) ** 2)]),
                               rtol=1e-13)
    assert xform.wait_for_compilations(300)
    np.testing.assert_allclose(xform.grad(f)(x), expected, rtol=1e-13)


def test_programs_with_loops_compile_before_running(gated_compile):
    gate, started, _ = gated_compile
    f = xform.jit(lambda x: lax.fori_loop(0, 4, lambda i, c: c * 2.0, x), tiered=True)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("out", f(np.ones(3))))
    t.start()
    assert started.wait(60), "a loop program is compiled on the calling thread"
    assert "out" not in result  # the call waits for the (gated) compiler
    gate.set()
    t.join(120)
    np.testing.assert_array_equal(result["out"], np.full(3, 16.0))
    assert _compiled_of(f).ready


def test_failed_background_compilation_warns_and_keeps_working(monkeypatch):
    def broken(closed, name="kernel"):
        raise RuntimeError("simulated backend failure")

    monkeypatch.setattr(numba_lowering, "compile_jaxpr", broken)
    f = xform.jit(lambda x: x * 3.0 + 1.0, tiered=True)
    x = np.arange(4.0)
    # the failure is reported by the first call that sees it: this one or the next
    with pytest.warns(RuntimeWarning, match="jit of <lambda>: background compilation failed"
                                            ".*simulated backend failure") as record:
        np.testing.assert_array_equal(f(x), x * 3.0 + 1.0)
        assert xform.wait_for_compilations(60)
        np.testing.assert_array_equal(f(x), x * 3.0 + 1.0)
    assert len(record) == 1 and record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not on every call
        np.testing.assert_array_equal(f(x), x * 3.0 + 1.0)


def test_config_flag_sets_the_default(monkeypatch, gated_compile):
    gate, started, _ = gated_compile
    monkeypatch.setattr(config, "jit_tiered", True)
    f = xform.jit(lambda x: x - 0.5)
    np.testing.assert_array_equal(f(np.ones(2)), np.full(2, 0.5))  # did not wait
    assert started.wait(60)
    g = xform.jit(lambda x: x - 0.25, tiered=False)  # an explicit False wins
    gate.set()
    np.testing.assert_array_equal(g(np.ones(2)), np.full(2, 0.75))
    assert _compiled_of(g).ready


def test_concurrent_first_calls_share_one_background_compilation(gated_compile):
    gate, started, names = gated_compile
    f = xform.jit(lambda x: xnp.cos(x) + x, tiered=True)
    x = np.linspace(0, 1, 9)
    outs, errors = [], []

    def call():
        try:
            outs.append(f(x))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(outs) == 4
    for o in outs:
        np.testing.assert_array_equal(o, np.cos(x) + x)
    (entry,) = f._cache.values()
    assert entry.jaxpr.cache.get("background_compile") is not None
    assert started.wait(60)
    gate.set()
    assert xform.wait_for_compilations(120)
    assert names == ["<lambda>"]  # one compilation for the four callers


def test_bad_tiered_value_is_a_clear_error():
    with pytest.raises(TypeError, match="jit of <lambda>: tiered must be True, False or None"):
        xform.jit(lambda x: x, tiered="yes")


def test_fresh_process_exits_after_its_kernel_reaches_the_disk_cache(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        import numpy as np, xform, xform.numpy as xnp
        f = xform.jit(lambda x: xnp.sum(xnp.exp(x) * 0.5 + 2.75))
        print(float(f(np.arange(5.0))))
    """)
    env = dict(os.environ, XFORM_CACHE_DIR=str(tmp_path), XFORM_JIT_TIERED="1",
               XFORM_LOG_COMPILES="1")
    env.pop("XFORM_DISABLE_DISK_CACHE", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) == pytest.approx(np.sum(np.exp(np.arange(5.0)) * 0.5 + 2.75))
    # the script ended right after its (uncompiled) call; exit waited for the compiler
    assert "Compiling `<lambda>`" in r.stderr and "in the background (tiered jit)" in r.stderr
    assert glob.glob(os.path.join(str(tmp_path), "xform_*.py"))
    r2 = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                        text=True, timeout=300)
    assert r2.returncode == 0, r2.stderr
    assert "disk cache hit" in r2.stderr


def test_tiered_with_static_arguments_pytrees_and_scalars():
    def f(p, n, scale):
        return {"a": p["x"] * n * scale, "b": (xnp.sum(p["y"]) + n,)}

    jf = xform.jit(f, static_argnums=1, tiered=True)
    p = {"x": np.arange(3.0), "y": np.ones(2)}
    for _ in range(2):  # before and after the switch
        out = jf(p, 3, 0.5)
        assert set(out) == {"a", "b"} and isinstance(out["b"], tuple)
        np.testing.assert_array_equal(out["a"], np.arange(3.0) * 1.5)
        assert out["b"][0] == 5.0 and isinstance(out["b"][0], np.floating)
        assert xform.wait_for_compilations(300)
    np.testing.assert_array_equal(jf(p, 4, 0.5)["a"], np.arange(3.0) * 2.0)
    assert jf.trace_count == 2  # one per static value


_A = np.random.default_rng(3).standard_normal((4, 4))
PROGRAMS = {
    "softmax": (softmax, lambda r: (r.standard_normal((3, 5)),)),
    "grad rosenbrock": (xform.grad(rosenbrock), lambda r: (r.standard_normal(7),)),
    "hvp": (lambda x, v: xform.hvp(rosenbrock, (x,), (v,)),
            lambda r: (r.standard_normal(5), r.standard_normal(5))),
    "jacrev": (xform.jacrev(lambda x: xnp.tanh(_A @ x) * x), lambda r: (r.standard_normal(4),)),
    "vmap": (xform.vmap(lambda x: xnp.sum(xnp.sin(x) ** 2)), lambda r: (r.standard_normal((3, 6)),)),
    "cond": (lambda x: lax.cond(xnp.sum(x) > 0, lambda y: y * 2.0, lambda y: -y, x),
             lambda r: (r.standard_normal(4),)),
    "float32": (lambda x: xnp.exp(x) * np.float32(0.5), lambda r: (r.random(5).astype(np.float32),)),
    "integers": (lambda i, j: (i * 3 + j) // 2 % 7, lambda r: (r.integers(-9, 9, 6), r.integers(-9, 9, 6))),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_tiered_results_agree_with_eager_before_and_after_the_switch(name):
    fun, make_args = PROGRAMS[name]
    args = make_args(np.random.default_rng(sorted(PROGRAMS).index(name)))
    expected = fun(*args)
    jf = xform.jit(fun, tiered=True)
    uncompiled = jf(*args)
    assert xform.wait_for_compilations(300)
    compiled = jf(*args)
    assert _compiled_of(jf).ready
    for got, tol in ((uncompiled, 1e-15), (compiled, 1e-12)):
        got, exp = np.asarray(got), np.asarray(expected)
        assert got.dtype == exp.dtype and got.shape == exp.shape
        if exp.dtype.kind in "iub":
            np.testing.assert_array_equal(got, exp)
        else:
            rtol = 1e-5 if exp.dtype == np.float32 else tol
            np.testing.assert_allclose(got, exp, rtol=rtol, atol=rtol)


def test_finished_background_compilations_are_not_kept_alive():
    pending = sys.modules["xform.jit"]._PENDING  # (xform.jit is the function)
    f = xform.jit(lambda x: x * 4.0 - 1.0, tiered=True)
    f(np.ones(3))
    (entry,) = f._cache.values()
    job = entry.jaxpr.cache["background_compile"]
    assert job.done.wait(300)
    assert job not in pending


_STREAMS = r"""
import io, sys
if sys.argv[1] == "numba-first":
    import numba.core.errors  # noqa: F401
import xform  # noqa: F401
import numba.core.errors as E
# Numba formats a message (in a background compilation) while the main thread redirects
# stdout: the redirect must survive the end of the message.
A, B = io.StringIO(), io.StringIO()
real = sys.stdout
sys.stdout = A
shell = E.ColorShell() if hasattr(E, "ColorShell") else None  # only with colorama
if shell is not None:
    shell.__enter__()
sys.stdout = B
if shell is not None:
    shell.__exit__(None, None, None)
E.termcolor().errmsg("message")
now = sys.stdout
sys.stdout = real
print("kept" if now is B else "lost")
"""


@pytest.mark.parametrize("order", ["xform-first", "numba-first"])
def test_numba_error_colouring_never_restores_a_stale_stdout(order):
    """With colorama installed, numba's coloured error messages reassigned sys.stdout
    to the stream seen when a message began; under tiered jit that undid the main
    thread's redirections (seen as pytest's capsys losing output)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"}
    out = subprocess.run([sys.executable, "-c", _STREAMS, order], capture_output=True, text=True,
                         env=env, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "kept"
