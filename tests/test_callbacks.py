"""Callbacks into Python: ``pure_callback`` (numpy/scipy from inside jit, vmap and,
through custom derivatives, grad) and ``debug.print`` / ``debug.callback`` (side effects
that survive dead-code elimination and CSE). References: numpy, scipy, closed forms,
finite differences; JAX where it is installed."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.special

import xform
import xform.numpy as xnp
from xform import lax
from xform.lax.callbacks import debug_callback_p, pure_callback_p

SDS = xform.ShapeDtypeStruct


def np_sin(x):
    return xform.pure_callback(np.sin, SDS(x.shape, x.dtype), x, vmap_method="sequential")


# jitted functions shared by the tests (each Numba compile costs a second or two)
_jit_sin_plus = xform.jit(lambda x: np_sin(x) + 1.0)


def _pair(x, y):
    def cb(a, b, scale):
        return {"s": (a + b) * scale, "p": np.outer(a, b)}

    out = xform.pure_callback(
        cb, {"s": SDS(x.shape, x.dtype), "p": SDS((x.shape[0], y.shape[0]), x.dtype)},
        x, y, scale=2.0, vmap_method="sequential")
    return out["s"].sum() + out["p"].sum()


_jit_pair = xform.jit(_pair)


def test_pure_callback_eager_and_jit_against_numpy():
    x = np.linspace(-1.0, 2.0, 5)
    np.testing.assert_allclose(np_sin(x), np.sin(x), rtol=0, atol=0)
    np.testing.assert_allclose(_jit_sin_plus(x), np.sin(x) + 1.0, rtol=1e-15)
    # a second call runs the compiled kernel's fast path, which calls back again
    np.testing.assert_allclose(_jit_sin_plus(2 * x), np.sin(2 * x) + 1.0, rtol=1e-15)
    x32 = x.astype(np.float32)
    assert np_sin(x32).dtype == np.float32


def test_pure_callback_pytrees_kwargs_and_0d_results():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    ref = ((x + y) * 2.0).sum() + np.outer(x, y).sum()
    assert _pair(x, y) == pytest.approx(ref, rel=1e-15)
    assert _jit_pair(x, y) == pytest.approx(ref, rel=1e-15)
    per_row = xform.vmap(_pair, in_axes=(0, None))(np.stack([x, 2 * x]), y)
    np.testing.assert_allclose(per_row, [ref, ((2 * x + y) * 2.0).sum() + np.outer(2 * x, y).sum()])
    # 0-d results and operands (scalars inside kernels)
    f = xform.jit(lambda a: xform.pure_callback(lambda v: np.float64(v) ** 2, SDS((), a.dtype), a))
    assert f(3.0) == 9.0 and f(np.float64(-2.0)) == 4.0


@pytest.mark.parametrize("method", ["sequential", "expand_dims", "broadcast_all",
                                    "legacy_vectorized"])
def test_pure_callback_vmap_methods(method):
    shapes_seen = []

    def cb(a, b):
        shapes_seen.append((a.shape, b.shape))
        return np.asarray(a * b + np.sin(a))

    def f(a, b):
        return xform.pure_callback(cb, SDS(np.broadcast_shapes(a.shape, b.shape), a.dtype), a, b,
                                   vmap_method=method)

    a, b = np.arange(6.0).reshape(3, 2), np.array([0.5, -1.0])
    out = xform.vmap(f, in_axes=(0, None))(a, b)
    np.testing.assert_allclose(out, a * b + np.sin(a))
    expected_b = {"sequential": (2,), "expand_dims": (1, 2), "broadcast_all": (3, 2),
                  "legacy_vectorized": (2,)}[method]
    assert shapes_seen[-1][1] == expected_b
    assert len(shapes_seen) == (3 if method == "sequential" else 1)


def test_pure_callback_nested_vmap_and_vmap_of_jit():
    x = np.arange(12.0).reshape(2, 3, 2)
    out = xform.vmap(xform.vmap(np_sin))(x)
    np.testing.assert_allclose(out, np.sin(x))
    np.testing.assert_allclose(xform.vmap(_jit_sin_plus)(x[0]), np.sin(x[0]) + 1.0)


def test_pure_callback_without_vmap_method_is_a_clear_error():
    f = lambda x: xform.pure_callback(np.sin, SDS(x.shape, x.dtype), x)  # noqa: E731
    np.testing.assert_allclose(f(np.ones(2)), np.sin(np.ones(2)))
    with pytest.raises(NotImplementedError, match="pass vmap_method"):
        xform.vmap(f)(np.ones((2, 2)))
    with pytest.raises(ValueError, match="vmap_method must be one of"):
        xform.pure_callback(np.sin, SDS((2,), np.float64), np.ones(2), vmap_method="loop")


def test_pure_callback_bad_results_are_clear_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"result 0 has shape \(2,\).*declares \(3,\)"):
        xform.pure_callback(lambda v: v[:2], SDS((3,), np.float64), x)
    with pytest.raises(TypeError, match="result 0 has dtype complex128.*declares float64"):
        xform.pure_callback(lambda v: v * 1j, SDS((3,), np.float64), x)
    # another dtype of the same kind is cast (as JAX does)
    r = xform.pure_callback(lambda v: v.astype(np.float64), SDS((3,), np.float32), x)
    assert r.dtype == np.float32
    with pytest.raises(TypeError, match="returned a value of structure"):
        xform.pure_callback(lambda v: (v, v), SDS((3,), np.float64), x)
    with pytest.raises(TypeError, match="objects with .shape and .dtype"):
        xform.pure_callback(lambda v: v, [3], x)
    # the same checks run inside compiled kernels
    bad = xform.jit(lambda v: xform.pure_callback(lambda a: a[:2], SDS((3,), v.dtype), v))
    with pytest.raises(ValueError, match=r"has shape \(2,\)"):
        bad(x)


def test_pure_callback_has_no_derivative_without_custom_rules():
    with pytest.raises(ValueError, match="has no derivative.*custom_jvp or xform.custom_vjp"):
        xform.grad(lambda x: np_sin(x).sum())(np.ones(2))
    # a derivative that does not reach the callback is fine (zero tangents)
    g = xform.grad(lambda x, c: (x * np_sin(c)).sum())(np.ones(2), np.array([0.5, 1.0]))
    np.testing.assert_allclose(g, np.sin([0.5, 1.0]))


@xform.custom_jvp
def cb_sin(x):
    return np_sin(x)


@cb_sin.defjvp
def _cb_sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    cos = xform.pure_callback(np.cos, SDS(x.shape, x.dtype), x, vmap_method="sequential")
    return cb_sin(x), cos * t


@xform.custom_vjp
def gammaln(x):
    return xform.pure_callback(scipy.special.gammaln, SDS(x.shape, x.dtype), x,
                               vmap_method="expand_dims")


def _gammaln_fwd(x):
    return gammaln(x), x


def _gammaln_bwd(x, g):
    psi = xform.pure_callback(scipy.special.digamma, SDS(x.shape, x.dtype), x,
                              vmap_method="expand_dims")
    return (g * psi,)


gammaln.defvjp(_gammaln_fwd, _gammaln_bwd)
_jit_grad_gammaln = xform.jit(xform.grad(lambda x: gammaln(x).sum()))


def test_custom_jvp_around_callbacks_gives_derivatives():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(xform.grad(lambda v: cb_sin(v).sum())(x), np.cos(x), rtol=1e-15)
    # second derivative: the JVP rule's cos callback has no rule of its own
    with pytest.raises(ValueError, match="has no derivative"):
        xform.grad(xform.grad(lambda v: cb_sin(v).sum()))(x[0])
    xform.check_grads(cb_sin, (x,), order=1, modes=("fwd", "rev"))
    np.testing.assert_allclose(xform.jit(xform.grad(lambda v: cb_sin(v).sum()))(x), np.cos(x))
    np.testing.assert_allclose(xform.vmap(xform.grad(lambda v: cb_sin(v)))(x), np.cos(x))


def test_custom_vjp_around_scipy_callbacks():
    x = np.array([0.5, 1.5, 4.0])
    np.testing.assert_allclose(gammaln(x), scipy.special.gammaln(x), rtol=1e-15)
    np.testing.assert_allclose(xform.grad(lambda v: gammaln(v).sum())(x),
                               scipy.special.digamma(x), rtol=1e-15)
    np.testing.assert_allclose(_jit_grad_gammaln(x), scipy.special.digamma(x), rtol=1e-15)
    # against central finite differences of scipy's function
    h = 1e-6
    fd = (scipy.special.gammaln(x + h) - scipy.special.gammaln(x - h)) / (2 * h)
    np.testing.assert_allclose(_jit_grad_gammaln(x), fd, rtol=1e-7)
    per_row = xform.vmap(xform.grad(lambda v: gammaln(v).sum()))(np.stack([x, x + 1]))
    np.testing.assert_allclose(per_row, scipy.special.digamma(np.stack([x, x + 1])), rtol=1e-15)


def test_unused_pure_callback_is_removed_but_debug_callback_is_kept():
    calls = []

    def f(x):
        xform.pure_callback(lambda v: calls.append(1) or v, SDS(x.shape, x.dtype), x)
        xform.debug.callback(lambda v: calls.append(2), x)
        return x * 2.0

    names = [e.primitive for e in xform.make_jaxpr(f)(np.ones(2)).jaxpr.eqns]
    assert pure_callback_p not in names and debug_callback_p in names
    assert debug_callback_p.effectful and not pure_callback_p.effectful


def test_debug_print_eager_jit_vmap_grad(capsys):
    def f(x):
        y = xnp.sin(x)
        xform.debug.print("y={y} n={n}", y=y, n="static")
        return y

    f(0.0)
    assert capsys.readouterr().out == "y=0.0 n=static\n"
    jf = xform.jit(f)
    np.testing.assert_allclose(jf(np.array([0.0, np.pi / 2])), [0.0, 1.0])
    assert capsys.readouterr().out == f"y={np.sin(np.array([0.0, np.pi / 2]))} n=static\n"
    xform.vmap(f)(np.array([0.0, np.pi / 2]))
    assert capsys.readouterr().out == "y=0.0 n=static\ny=1.0 n=static\n"
    assert xform.grad(f)(0.0) == 1.0  # prints the primal value
    assert capsys.readouterr().out == "y=0.0 n=static\n"


def test_debug_prints_keep_their_order_and_are_never_merged(capsys):
    def f(x):
        xform.debug.print("a {}", x)
        xform.debug.print("b {}", x * 2)
        xform.debug.print("a {}", x)  # equal to the first: CSE must not merge them
        return x + 1.0

    xform.jit(f)(1.0)
    assert capsys.readouterr().out == "a 1.0\nb 2.0\na 1.0\n"
    # a jitted function whose only effect is a print still prints
    xform.jit(lambda x: xform.debug.print("only {}", x))(3.0)
    assert capsys.readouterr().out == "only 3.0\n"


def test_debug_print_in_loops_and_branches(capsys):
    def body(i, acc):
        xform.debug.print("i={} acc={}", i, acc)
        return acc + i

    f = xform.jit(lambda n: lax.fori_loop(0, 3, body, n))
    assert f(10) == 13
    assert capsys.readouterr().out == "i=0 acc=10\ni=1 acc=10\ni=2 acc=11\n"

    def g(p, x):
        def yes(v):
            xform.debug.print("yes {}", v)
            return v

        return lax.cond(p, yes, lambda v: -v, x)

    assert xform.jit(g)(True, 2.0) == 2.0
    assert xform.jit(g)(False, 2.0) == -2.0
    assert capsys.readouterr().out == "yes 2.0\n"


def test_debug_callback_sees_numpy_arrays():
    seen = []

    def f(x, y):
        xform.debug.callback(lambda a, b, tag: seen.append((type(a), a.copy(), b, tag)), x,
                             y * 2, tag="t")
        return x.sum()

    xform.grad(f)(np.arange(3.0), 1.5)
    (t, a, b, tag), = seen
    assert t is np.ndarray and tag == "t" and b == 3.0
    np.testing.assert_array_equal(a, np.arange(3.0))
    with pytest.raises(TypeError, match="callback must be callable"):
        xform.debug.callback(3, 1.0)
    with pytest.raises(TypeError, match="the format must be a string"):
        xform.debug.print(1.0)


def test_compiled_callbacks_load_from_the_disk_cache_in_another_process(tmp_path):
    # the kernel calls back by a number: a process loading it from the disk cache must
    # call its own function (here scaled differently), not the compiling process's
    script = textwrap.dedent("""
        import sys, numpy as np, xform
        scale = float(sys.argv[1])
        def f(x):
            y = xform.pure_callback(lambda v: np.cumsum(v) * scale,
                                    xform.ShapeDtypeStruct(x.shape, x.dtype), x)
            xform.debug.print("sum {}", y.sum())
            return y + 1.0
        print(xform.jit(f)(np.arange(3.0)).tolist())
    """)
    path = tmp_path / "prog.py"
    path.write_text(script)
    env = dict(os.environ, XFORM_CACHE_DIR=str(tmp_path / "cache"), XFORM_LOG_COMPILES="1")
    outs = []
    for scale in ("1", "2"):
        r = subprocess.run([sys.executable, str(path), scale], capture_output=True, text=True,
                           env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(r)
    assert outs[0].stdout.split("\n")[:2] == ["sum 4.0", "[1.0, 2.0, 4.0]"]
    assert outs[1].stdout.split("\n")[:2] == ["sum 8.0", "[1.0, 3.0, 7.0]"]
    assert "disk cache hit" in outs[1].stderr


def test_against_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    x = np.array([0.5, 1.5, 4.0])

    def jgammaln(v):
        return jax.pure_callback(scipy.special.gammaln, jax.ShapeDtypeStruct(v.shape, v.dtype),
                                 v, vmap_method="expand_dims")

    xs = np.stack([x, x + 1]).astype(np.float32)  # JAX's default precision
    ref = np.asarray(jax.jit(jax.vmap(jgammaln))(jnp.asarray(xs)))
    np.testing.assert_allclose(xform.jit(xform.vmap(gammaln))(xs), ref, rtol=1e-6)
    ref_grad = np.asarray(jax.grad(lambda v: jnp.sum(jnp.sin(v) * v))(jnp.asarray(xs[0])))
    np.testing.assert_allclose(xform.grad(lambda v: xnp.sum(cb_sin(v) * v))(xs[0]), ref_grad,
                               rtol=1e-5)


# -- io_callback (jax.experimental.io_callback) ------------------------------------------

_IO_LOG: list = []


def _record(x):
    _IO_LOG.append(float(np.sum(x)))
    return np.float64(len(_IO_LOG))


def _io(x, ordered=False):
    from xform.experimental import io_callback

    return io_callback(_record, SDS((), np.float64), x, ordered=ordered)


_jit_io_used = xform.jit(lambda x: x * _io(x, ordered=True))
_jit_io_unused = xform.jit(lambda x: (_io(x), x + 1.0)[1])


def test_io_callback_runs_every_call_in_order_even_when_unused():
    _IO_LOG.clear()
    x = np.ones(2)
    np.testing.assert_array_equal(_jit_io_used(x), [1.0, 1.0])
    np.testing.assert_array_equal(_jit_io_used(2 * x), [4.0, 4.0])
    np.testing.assert_array_equal(_jit_io_unused(3 * x), 3 * x + 1)  # result unused: still runs
    _io(np.arange(3.0))  # eager
    assert _IO_LOG == [2.0, 4.0, 6.0, 3.0]
    jaxpr = xform.make_jaxpr(lambda v: (_io(v), v)[1])(x)
    assert "io_callback" in str(jaxpr)  # never removed as dead code


def test_io_callback_vmap_grad_and_errors():
    _IO_LOG.clear()
    out = xform.vmap(_io)(np.arange(6.0).reshape(3, 2))
    assert _IO_LOG == [1.0, 5.0, 9.0] and out.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="cannot vmap an ordered IO callback"):
        xform.vmap(lambda v: _io(v, ordered=True))(np.ones((2, 2)))
    with pytest.raises(ValueError, match="IO callbacks do not support JVP"):
        xform.grad(lambda v: _io(v))(1.0)
    # a callback on values that do not depend on the differentiated input is fine
    assert xform.grad(lambda v: v * _io(np.float64(2.0)))(3.0) == len(_IO_LOG)
    with pytest.raises(TypeError, match="io_callback of `<lambda>`: the callback returned"):
        from xform.experimental import io_callback
        io_callback(lambda v: (v, v), SDS((), np.float64), 1.0)


def test_io_callback_against_jax():
    jax = pytest.importorskip("jax")
    from jax.experimental import io_callback as jax_io

    from xform.experimental import io_callback

    for lib, io_cb in ((jax, jax_io), (xform, io_callback)):
        log = []

        def rec(x, log=log):
            log.append(float(np.sum(x)))
            return np.asarray(len(log), np.int32)

        f = lib.jit(lambda x, io_cb=io_cb, rec=rec: x * io_cb(rec, lib.ShapeDtypeStruct(
            (), np.int32), x, ordered=True))
        f(np.ones(2))
        f(np.ones(2))
        lib.vmap(lambda v, io_cb=io_cb, rec=rec: io_cb(rec, lib.ShapeDtypeStruct((), np.int32),
                                                        v))(np.arange(4.0).reshape(2, 2))
        if hasattr(lib, "effects_barrier"):
            lib.effects_barrier()
        assert log == [2.0, 2.0, 1.0, 5.0], (lib.__name__, log)


# -- debug.print counts under batched control flow and rematerialization, as JAX's --------


def _trace_prints(lib, capsys):
    """How many lines each JAX-style program prints (JAX and xform alike: batched cond
    prints both branches for every element, a batched while prints every lane in every
    iteration, checkpoint prints again in the recomputation)."""
    jnp = lib.numpy

    def g(x):
        lib.debug.print("g {}", x)
        return jnp.sin(x)

    def c(x):
        return lib.lax.cond(x > 0.5, g, lambda v: v * 2.0, x)

    def w(x):
        return lib.lax.while_loop(lambda v: v < 2.0, lambda v: (lib.debug.print("w {}", v),
                                                                  v + 1.0)[1], x)

    programs = {
        "vmap cond": lambda: lib.vmap(c)(np.array([0.0, 1.0, 2.0])),
        "jit vmap cond": lambda: lib.jit(lib.vmap(c))(np.array([0.0, 1.0, 2.0])),
        "vmap while": lambda: lib.vmap(w)(np.array([0.5, 1.5])),
        "grad checkpoint": lambda: lib.grad(lib.checkpoint(g))(1.0),
        "jit grad checkpoint cond": lambda: lib.jit(lib.grad(lib.checkpoint(c)))(1.0),
        "grad": lambda: lib.grad(g)(1.0),
        "vmap grad": lambda: lib.vmap(lib.grad(g))(np.array([1.0, 2.0])),
        "hessian": lambda: lib.hessian(g)(1.0),
    }
    counts = {}
    for name, run in programs.items():
        capsys.readouterr()
        run()
        if hasattr(lib, "effects_barrier"):
            lib.effects_barrier()
        counts[name] = sorted(capsys.readouterr().out.split("\n"))[1:]
    return counts


_EXPECTED_PRINTS = {
    "vmap cond": ["g 0.0", "g 1.0", "g 2.0"],
    "jit vmap cond": ["g 0.0", "g 1.0", "g 2.0"],
    "vmap while": ["w 0.5", "w 1.5", "w 1.5", "w 2.5"],
    "grad checkpoint": ["g 1.0", "g 1.0"],
    "jit grad checkpoint cond": ["g 1.0", "g 1.0"],
    "grad": ["g 1.0"],
    "vmap grad": ["g 1.0", "g 2.0"],
    "hessian": ["g 1.0"],
}


def test_debug_print_counts_match_jax_semantics(capsys):
    assert _trace_prints(xform, capsys) == _EXPECTED_PRINTS


def test_debug_print_counts_against_jax(capsys):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    assert _trace_prints(jax, capsys) == _trace_prints(xform, capsys)
