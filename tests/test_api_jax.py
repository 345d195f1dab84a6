"""JAX's spellings of the transformations and the top-level API: jit as a decorator
factory and static arguments by name or position, complex (holomorphic) differentiation,
eval_shape/ShapeDtypeStruct/typeof, linear_transpose, closure_convert, custom_gradient,
named_call, disable_jit, block_until_ready, config switches (x64, debug_nans/infs), and
the pytree API (``xform.tree``, key paths, dataclasses, Partial). References: numpy,
closed forms and central finite differences; JAX where it is installed."""
from __future__ import annotations

import collections
import dataclasses
import functools
from typing import NamedTuple

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.tree_util import DictKey, FlattenedIndexKey, GetAttrKey, SequenceKey


# -- jit: decorator factory, static arguments ------------------------------------------


@xform.jit(static_argnames=["n"])
def _power(x, n):
    if n > 1:  # Python control flow on a static argument
        return x ** n
    return x


@xform.jit(static_argnums=1)
def _scale(x, k):
    return x * k if k >= 0 else -x


def test_jit_decorator_factory_and_static_arguments_by_position_or_name():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(_power(x, 3), x ** 3)  # static_argnames passed by position
    np.testing.assert_array_equal(_power(x, n=2), x ** 2)
    np.testing.assert_array_equal(_power(x, 1), x)
    np.testing.assert_array_equal(_scale(x, 2.0), 2 * x)
    np.testing.assert_array_equal(_scale(x, k=-1.0), -x)  # static_argnums passed by keyword
    assert _power.static_argnums == (1,) and _power.static_argnames == ("n",)
    assert _scale.static_argnames == ("k",)


def test_jit_static_argnames_single_string_positional():
    f = xform.jit(lambda x: x * 2 if x < 3 else x, static_argnames="x")
    assert f(2.0) == 4.0 and f(5.0) == 5.0
    with pytest.raises(TypeError, match="expected a function to compile"):
        xform.jit(3)
    with pytest.raises(TypeError, match="static_argnames must be strings"):
        xform.jit(lambda x: x, static_argnames=[1])
    # JAX's optimization hints are accepted (and change nothing)
    g = xform.jit(lambda x, y: x + y, donate_argnums=0, inline=True, keep_unused=True)
    np.testing.assert_array_equal(g(np.ones(2), np.ones(2)), 2 * np.ones(2))


# -- complex differentiation --------------------------------------------------------------

Z = np.array([1.0 + 2.0j, 0.5 - 1.0j, -0.3 + 0.1j])


def _holo(z):
    return xnp.sin(z) * z + xnp.exp(z) / 3


def _holo_prime(z):
    return np.cos(z) * z + np.sin(z) + np.exp(z) / 3


def _nonholo(z):  # a C -> C function that is not holomorphic
    return xnp.conj(z) * z ** 2 + xnp.real(z) * 1j


def _fd(f, z, t, h=1e-6):
    return (f(z + h * t) - f(z - h * t)) / (2 * h)


def test_holomorphic_grad_jacobians_and_hessian():
    g = xform.grad(lambda z: _holo(z), holomorphic=True)
    for z in Z:
        assert g(z) == pytest.approx(_holo_prime(z), rel=1e-13)
        # f'(z) is the limit along any direction
        for t in (1.0, 1j, (1 + 1j) / np.sqrt(2)):
            assert _fd(lambda v: complex(_holo(v)), z, t) / t == pytest.approx(g(z), rel=1e-8)
    np.testing.assert_allclose(xform.jacfwd(_holo, holomorphic=True)(Z), np.diag(_holo_prime(Z)),
                               rtol=1e-13)
    np.testing.assert_allclose(xform.jacrev(_holo, holomorphic=True)(Z), np.diag(_holo_prime(Z)),
                               rtol=1e-13)
    h = xform.hessian(lambda z: xnp.sum(z ** 3), holomorphic=True)(Z)
    np.testing.assert_allclose(h, np.diag(6 * Z), rtol=1e-13)


def test_holomorphic_argument_and_output_checks():
    with pytest.raises(TypeError, match="holomorphic=True.*needs complex inputs"):
        xform.grad(lambda x: x * 1j, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="holomorphic=True: the output must be a complex"):
        xform.grad(lambda z: xnp.real(z), holomorphic=True)(1.0 + 1.0j)
    with pytest.raises(TypeError, match="pass holomorphic=True"):
        xform.grad(lambda z: z * z)(1.0 + 1.0j)
    with pytest.raises(TypeError, match="argument 0 is complex.*holomorphic=True"):
        xform.jacfwd(_holo)(Z)
    with pytest.raises(TypeError, match="argument 0 is complex.*holomorphic=True"):
        xform.jacrev(lambda z: xnp.abs(z))(Z)
    with pytest.raises(TypeError, match="with holomorphic=True: outputs must be complex"):
        xform.jacrev(lambda z: xnp.abs(z), holomorphic=True)(Z)


def test_grad_of_real_function_of_complex_input_follows_jax():
    # grad f = df/dx - i df/dy (the conjugate of the steepest-ascent direction)
    def f(z):
        return xnp.sum(xnp.abs(z) ** 2 + xnp.real(z ** 3) - xnp.imag(z) * 0.5)

    g = xform.grad(f)(Z)
    fx = np.array([_fd(lambda v: float(f(v)), Z, e) for e in np.eye(3)])
    fy = np.array([_fd(lambda v: float(f(v)), Z, 1j * e) for e in np.eye(3)])
    np.testing.assert_allclose(g, fx - 1j * fy, rtol=1e-8)
    assert xform.grad(lambda z: xnp.real(z) ** 2 + xnp.imag(z) ** 2)(3.0 + 4.0j) == 6 - 8j


def test_jvp_and_vjp_of_non_holomorphic_complex_functions():
    rng = np.random.default_rng(0)
    t = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    ct = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    y, jt = xform.jvp(_nonholo, (Z,), (t,))
    np.testing.assert_allclose(y, np.conj(Z) * Z ** 2 + Z.real * 1j, rtol=1e-15)
    np.testing.assert_allclose(jt, _fd(lambda v: np.asarray(_nonholo(v)), Z, t), rtol=1e-8)
    (vt,) = xform.vjp(_nonholo, Z)[1](ct)
    # JAX's convention: the transpose without conjugation, Re<vjp(ct), t> = Re<ct, jvp(t)>
    assert np.real(np.sum(vt * t)) == pytest.approx(np.real(np.sum(ct * jt)), rel=1e-12)
    assert np.real(np.sum(vt * 1j * t)) == pytest.approx(
        np.real(np.sum(ct * xform.jvp(_nonholo, (Z,), (1j * t,))[1])), rel=1e-12)


def test_complex_differentiation_against_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    prev = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        z = jnp.asarray(Z)
        np.testing.assert_allclose(
            xform.grad(lambda v: xnp.sum(_holo(v)), holomorphic=True)(Z),
            jax.grad(lambda v: jnp.sum(jnp.sin(v) * v + jnp.exp(v) / 3), holomorphic=True)(z),
            rtol=1e-13)
        np.testing.assert_allclose(
            xform.grad(lambda v: xnp.sum(xnp.abs(v) ** 2 + xnp.real(v ** 3)))(Z),
            jax.grad(lambda v: jnp.sum(jnp.abs(v) ** 2 + jnp.real(v ** 3)))(z), rtol=1e-13)
        ct = jnp.asarray(Z[::-1])
        np.testing.assert_allclose(
            xform.vjp(_nonholo, Z)[1](np.asarray(ct))[0],
            jax.vjp(lambda v: jnp.conj(v) * v ** 2 + jnp.real(v) * 1j, z)[1](ct)[0], rtol=1e-13)
        np.testing.assert_allclose(xform.jacrev(_holo, holomorphic=True)(Z),
                                   jax.jacrev(lambda v: jnp.sin(v) * v + jnp.exp(v) / 3,
                                              holomorphic=True)(z), rtol=1e-13)
    finally:
        jax.config.update("jax_enable_x64", prev)


def test_allow_int_gives_float0_gradients():
    g = xform.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert g[0] == 3.0 and g[1].dtype == xform.float0
    with pytest.raises(TypeError, match="allow_int=True"):
        xform.grad(lambda x, n: x * n, argnums=1)(2.0, 3)


# -- eval_shape, ShapeDtypeStruct, typeof ---------------------------------------------------


def test_eval_shape_and_shape_dtype_struct():
    def f(a, b, scale=1.0):
        return {"mm": a @ b * scale, "s": xnp.sum(b, axis=0).astype(np.float32)}

    a = xform.ShapeDtypeStruct((4, 3), np.float64)
    out = xform.eval_shape(f, a, np.ones((3, 2)), scale=2.0)
    real = f(np.ones((4, 3)), np.ones((3, 2)))
    assert out == {"mm": xform.ShapeDtypeStruct(real["mm"].shape, real["mm"].dtype),
                   "s": xform.ShapeDtypeStruct(real["s"].shape, np.float32)}
    assert out["mm"].ndim == 2 and out["mm"].size == 8 and len(out["mm"]) == 4
    assert repr(out["s"]) == "ShapeDtypeStruct(shape=(2,), dtype=float32)"
    assert hash(a) == hash(xform.ShapeDtypeStruct([4, 3], "float64"))
    # nothing is computed: a callback staged inside is not called
    calls = []
    xform.eval_shape(lambda x: xform.pure_callback(lambda v: calls.append(v) or v,
                                                   xform.ShapeDtypeStruct((2,), np.float64), x),
                     np.ones(2))
    assert calls == []
    assert xform.typeof(np.ones((2, 3), np.float32)).shape == (2, 3)
    assert xform.typeof(1.0).weak_type and xform.typeof(a).dtype == np.float64
    seen = []
    xform.grad(lambda x: seen.append(xform.typeof(x)) or x * 2)(1.0)
    assert seen[0].shape == () and seen[0].dtype == np.float64


def test_eval_shape_against_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    s = xform.eval_shape(lambda x: (x.T @ x, x[0]), xform.ShapeDtypeStruct((5, 3), np.float32))
    j = jax.eval_shape(lambda x: (x.T @ x, x[0]), jax.ShapeDtypeStruct((5, 3), jnp.float32))
    assert [(o.shape, o.dtype) for o in s] == [(o.shape, np.dtype(o.dtype)) for o in j]


# -- linear_transpose -------------------------------------------------------------------------

A = np.array([[1.0, 2.0, -1.0], [0.5, 3.0, 4.0]])


def test_linear_transpose_against_the_matrix_transpose():
    def f(x):
        return {"a": A @ x["u"] + 2.0 * x["v"][::-1], "b": xnp.sum(x["u"]) * 3.0}

    primals = {"u": np.zeros(3), "v": np.zeros(2)}
    f_t = xform.linear_transpose(f, primals)
    ct = {"a": np.array([1.0, -2.0]), "b": 0.5}
    (res,) = f_t(ct)
    np.testing.assert_allclose(res["u"], A.T @ ct["a"] + 3.0 * ct["b"])
    np.testing.assert_allclose(res["v"], 2.0 * ct["a"][::-1])
    # <ct, f(x)> == <f_t(ct), x> for random x
    x = {"u": np.array([0.3, -1.0, 2.0]), "v": np.array([1.5, 0.25])}
    fx = f(x)
    lhs = ct["a"] @ fx["a"] + ct["b"] * fx["b"]
    rhs = res["u"] @ x["u"] + res["v"] @ x["v"]
    assert lhs == pytest.approx(rhs, rel=1e-14)


def test_linear_transpose_errors_and_unused_inputs():
    f_t = xform.linear_transpose(lambda x, y: x * 2.0, 1.0, np.zeros(2))
    assert f_t(3.0)[0] == 6.0
    np.testing.assert_array_equal(f_t(3.0)[1], np.zeros(2))  # y does not reach the output
    with pytest.raises(TypeError, match="not linear"):
        xform.linear_transpose(xnp.sin, 1.0)(1.0)
    with pytest.raises(TypeError, match="only supports float and complex inputs"):
        xform.linear_transpose(lambda n: n, 1)
    with pytest.raises(TypeError, match="cotangent 0 is f64\\[3\\]"):
        xform.linear_transpose(lambda x: x, np.zeros(2))(np.zeros(3))


def test_linear_transpose_against_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    A32 = A.astype(np.float32)
    ours = xform.linear_transpose(lambda x: A32 @ x, np.zeros(3, np.float32))(np.ones(2, np.float32))
    theirs = jax.linear_transpose(lambda x: jnp.asarray(A32) @ x, jnp.zeros(3))(jnp.ones(2))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)


# -- closure_convert, custom_gradient, named_call -------------------------------------------


def test_closure_convert_hoists_float_constants_and_tracers():
    w, idx = np.array([2.0, 3.0]), np.array([1, 0])

    def f(x):
        return x * w + x[idx]

    conv, consts = xform.closure_convert(f, np.ones(2))
    assert len(consts) == 1 and consts[0] is w  # the integer index stays closed over
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(conv(x, *consts), f(x))
    np.testing.assert_allclose(conv(x, 2 * w), x * 2 * w + x[idx])

    # closing over a traced value: the derivative flows through the hoisted constant
    def outer(s):
        c, cs = xform.closure_convert(lambda x: xnp.sin(x * s), 1.0)
        return c(0.7, *cs)

    assert xform.grad(outer)(0.3) == pytest.approx(0.7 * np.cos(0.21), rel=1e-14)


@xform.custom_gradient
def _clip_grad(x, y):
    def vjp(g):
        return (xnp.clip(g, -1.0, 1.0) * y, g * 0.0)

    return x * y, vjp


@xform.custom_gradient
def _log1pexp(x):
    e = xnp.exp(x)
    return xnp.log1p(e), lambda g: g * (1 - 1 / (1 + e))


def test_custom_gradient():
    for x in (-3.0, 0.0, 2.5):
        assert _log1pexp(x) == pytest.approx(np.log1p(np.exp(x)), rel=1e-15)
        assert xform.grad(_log1pexp)(x) == pytest.approx(1 / (1 + np.exp(-x)), rel=1e-14)
    # the rule is used, not the derivative of the primal computation
    gx, gy = xform.grad(lambda x, y: 5.0 * _clip_grad(x, y), argnums=(0, 1))(2.0, 3.0)
    assert (gx, gy) == (3.0, 0.0)
    assert xform.jit(xform.grad(lambda x: 5.0 * _clip_grad(x, 3.0)))(2.0) == 3.0
    np.testing.assert_allclose(xform.vmap(xform.grad(_log1pexp))(np.array([0.0, 1.0])),
                               1 / (1 + np.exp(-np.array([0.0, 1.0]))), rtol=1e-14)


def test_named_call_keeps_values_and_derivatives():
    f = xform.named_call(lambda x: xnp.sin(x) * x, name="my_fn")
    assert f.__name__ == "my_fn"
    assert f(0.5) == pytest.approx(np.sin(0.5) * 0.5)
    assert xform.grad(f)(0.5) == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))
    assert xform.named_call(np.sin).__name__ == "sin"


# -- disable_jit, block_until_ready, config -----------------------------------------------


def test_disable_jit_context_manager_and_config_flag():
    seen = []

    @xform.jit
    def f(x):
        seen.append(type(x))
        return x * 2.0

    x = np.ones(2)
    f(x)
    f(x)  # compiled fast path: the Python body does not run
    assert len(seen) == 1 and seen[0] is not np.ndarray
    with xform.disable_jit():
        np.testing.assert_array_equal(f(x), 2 * x)
        assert float(f(3.0)) == 6.0
    assert seen[1:] == [np.ndarray, float]
    f(x)  # jitted again (no new trace: same signature)
    assert len(seen) == 3
    xform.config.update("jax_disable_jit", True)
    try:
        f(x)
        assert seen[-1] is np.ndarray and xform.config.jax_disable_jit
    finally:
        xform.config.update("jax_disable_jit", False)
    f(x)
    assert len(seen) == 4


def test_block_until_ready():
    tree = {"a": xnp.ones(2), "b": (np.zeros(1), 3.0)}
    out = xform.block_until_ready(tree)
    assert out["a"] is tree["a"] and out["b"][0] is tree["b"][0] and out["b"][1] == 3.0
    x = xform.jit(lambda v: v + 1.0)(np.ones(2))
    assert x.block_until_ready() is x


def test_config_update():
    xform.config.update("jax_enable_x64", True)
    assert xform.config.jax_enable_x64 is True
    with pytest.raises(ValueError, match="always has 64-bit types"):
        xform.config.update("jax_enable_x64", False)
    with pytest.raises(AttributeError, match="unrecognized option 'jax_no_such_thing'"):
        xform.config.update("jax_no_such_thing", True)
    xform.config.update("jax_platform_name", "cpu")
    with pytest.raises(ValueError, match="CPU only"):
        xform.config.update("jax_platforms", "gpu")
    with pytest.raises(TypeError, match="expected True or False"):
        xform.config.update("jax_debug_nans", "yes")


@pytest.fixture
def debug_nans():
    xform.config.update("jax_debug_nans", True)
    yield
    xform.config.update("jax_debug_nans", False)


def _has_nan(x):
    y = xnp.multiply(x, 2.0)
    z = xnp.log(y - 4.0)  # NaN for x < 2
    return z + 1.0


_jit_has_nan = xform.jit(_has_nan)


def test_debug_nans_names_the_operation_and_line(debug_nans):
    ok = np.array([3.0, 5.0])
    np.testing.assert_allclose(_has_nan(ok), np.log(2 * ok - 4) + 1)
    with pytest.raises(FloatingPointError, match=r"nan\) encountered in `log`.*test_api_jax.py"):
        _has_nan(np.array([3.0, 1.0]))
    with pytest.raises(FloatingPointError, match=r"nan\) encountered in `log`.*_has_nan"):
        xform.grad(lambda x: _has_nan(x).sum())(np.array([3.0, 1.0]))
    np.testing.assert_allclose(_jit_has_nan(ok), np.log(2 * ok - 4) + 1)
    np.testing.assert_allclose(_jit_has_nan(ok), np.log(2 * ok - 4) + 1)  # no fast path now
    with pytest.raises(FloatingPointError,
                       match=r"encountered in `log`, in `_has_nan` \(.*test_api_jax.py.*re-running"):
        _jit_has_nan(np.array([3.0, 1.0]))
    # NaN inputs are reported at the first operation that produces a NaN result
    with pytest.raises(FloatingPointError, match="`mul`"):
        _has_nan(np.array([np.nan]))


def test_debug_infs_and_switching_off():
    xform.config.update("jax_debug_infs", True)
    try:
        with pytest.raises(FloatingPointError, match=r"\(inf\) encountered in `div`"):
            xnp.divide(1.0, np.array([1.0, 0.0]))
        assert np.isnan(xnp.log(-1.0))  # NaNs are not infs
    finally:
        xform.config.update("jax_debug_infs", False)
    with np.errstate(divide="ignore"):
        assert xnp.divide(1.0, np.array([0.0]))[0] == np.inf  # off again
    assert np.isnan(_jit_has_nan(np.array([1.0]))[0])


# -- pytrees ----------------------------------------------------------------------------------


class _Point(NamedTuple):
    x: float
    y: float


@dataclasses.dataclass
class _Params:
    w: np.ndarray
    b: np.ndarray
    name: str = dataclasses.field(default="layer", metadata={"static": True})


xform.tree_util.register_dataclass(_Params)


@dataclasses.dataclass
class _Explicit:
    a: float
    tag: str


xform.tree_util.register_dataclass(_Explicit, data_fields=["a"], meta_fields=["tag"])


def test_tree_namespace():
    tree = {"b": [1, (2, None)], "a": _Point(3, 4)}
    assert xform.tree.leaves(tree) == [3, 4, 1, 2]
    assert xform.tree.map(lambda v: v * 10, tree) == {"b": [10, (20, None)], "a": _Point(30, 40)}
    leaves, treedef = xform.tree.flatten(tree)
    assert xform.tree.unflatten(treedef, leaves) == tree
    assert xform.tree.structure(tree) == treedef and treedef.num_leaves == 4
    assert xform.tree.reduce(lambda a, b: a + b, tree) == 10
    assert xform.tree.reduce(lambda a, b: a + b, tree, 100) == 110
    assert xform.tree.all([True, {"x": 1}]) and not xform.tree.all([True, 0])
    outer = xform.tree.structure([0, 0, 0])
    inner = xform.tree.structure({"p": 0, "q": 0})
    t = xform.tree.transpose(outer, inner, [{"p": 1, "q": 2}, {"p": 3, "q": 4}, {"p": 5, "q": 6}])
    assert t == {"p": [1, 3, 5], "q": [2, 4, 6]}
    assert xform.tree.transpose(outer, None, [(1, 2), (3, 4), (5, 6)]) == ([1, 3, 5], [2, 4, 6])


def test_key_paths():
    tree = {"b": [1, (2, None)], "a": _Point(3, 4), "c": collections.OrderedDict(z=5, y=6)}
    paths = xform.tree.leaves_with_path(tree)
    assert [xform.tree_util.keystr(p) for p, _ in paths] == [
        "['a'].x", "['a'].y", "['b'][0]", "['b'][1][0]", "['c']['z']", "['c']['y']"]
    assert [v for _, v in paths] == [3, 4, 1, 2, 5, 6]
    assert paths[0][0] == (DictKey("a"), GetAttrKey("x"))
    assert xform.tree_util.keystr(paths[3][0], simple=True, separator="/") == "b/1/0"
    mapped = xform.tree.map_with_path(lambda p, v: len(p) * 100 + v, tree)
    assert mapped["b"] == [201, (302, None)] and mapped["a"] == _Point(203, 204)
    two = xform.tree.map_with_path(lambda p, u, v: u + v, [1, 2], [10, 20])
    assert two == [11, 22]
    flat, treedef = xform.tree.flatten_with_path([1, [2]], is_leaf=lambda v: v == [2])
    assert flat == [((SequenceKey(0),), 1), ((SequenceKey(1),), [2])]
    assert treedef == xform.tree.structure([1, [2]], is_leaf=lambda v: v == [2])


def test_registered_nodes_have_keys():
    class Box:
        def __init__(self, v):
            self.v = v

    xform.tree_util.register_pytree_node(Box, lambda b: ((b.v,), None), lambda _, c: Box(*c))
    ((path, leaf),) = xform.tree.leaves_with_path(Box(7))
    assert path == (FlattenedIndexKey(0),) and leaf == 7
    assert xform.tree_util.keystr(path) == "[<flat index 0>]"

    class Pt:
        def __init__(self, x, y):
            self.x, self.y = x, y

    xform.tree_util.register_pytree_with_keys(
        Pt, lambda p: (((GetAttrKey("x"), p.x), (GetAttrKey("y"), p.y)), None),
        lambda _, c: Pt(*c))
    assert [xform.tree_util.keystr(p) for p, _ in xform.tree.leaves_with_path([Pt(1, 2)])] == [
        "[0].x", "[0].y"]
    p2 = xform.tree.map(lambda v: v + 1, Pt(1, 2))
    assert (p2.x, p2.y) == (2, 3)


def test_dataclasses_as_pytrees_through_transformations():
    p = _Params(np.array([1.0, -2.0]), np.array(0.5))
    paths = [xform.tree_util.keystr(k) for k, _ in xform.tree.leaves_with_path(p)]
    assert paths == [".w", ".b"]

    def loss(p, x):
        assert p.name == "layer"  # meta fields stay static (also under jit)
        return xnp.sum((x @ p.w + p.b) ** 2)

    x = np.array([[1.0, 0.0], [0.5, 2.0]])
    g = xform.grad(loss)(p, x)
    r = x @ p.w + p.b
    np.testing.assert_allclose(g.w, 2 * x.T @ r)
    assert g.b == pytest.approx(2 * r.sum()) and g.name == "layer"
    gj = xform.jit(xform.grad(loss))(p, x)
    np.testing.assert_allclose(gj.w, g.w)
    e = xform.tree.map(lambda v: v * 2, _Explicit(1.5, "t"))
    assert e == _Explicit(3.0, "t")
    with pytest.raises(TypeError, match="not a dataclass"):
        xform.tree_util.register_dataclass(int)
    with pytest.raises(ValueError, match="must each be listed once"):
        xform.tree_util.register_dataclass(_Explicit, data_fields=["a"], meta_fields=[])


def test_partial_is_a_pytree():
    scale = xform.tree_util.Partial(xnp.multiply, np.array([1.0, 2.0]))
    assert xform.tree.leaves(scale)[0].tolist() == [1.0, 2.0]
    np.testing.assert_array_equal(xform.jit(lambda f, x: f(x))(scale, 3.0), [3.0, 6.0])
    g = xform.grad(lambda f: xnp.sum(f(2.0)))(scale)
    assert isinstance(g, xform.tree_util.Partial)
    np.testing.assert_array_equal(g.args[0], [2.0, 2.0])
    nested = xform.tree_util.Partial(functools.partial(xnp.add, 1.0), np.array([5.0]))
    np.testing.assert_array_equal(nested(), [6.0])
    assert len(xform.tree.leaves(nested)) == 1
    kw = xform.tree_util.Partial(lax.clamp, 0.0, max=np.array(1.0))
    assert xform.tree.leaves(kw)[1] == 1.0


def test_tree_api_against_jax():
    jax = pytest.importorskip("jax")
    tree = {"b": [1, (2, None)], "a": _Point(3, 4)}
    ours = [xform.tree_util.keystr(p) for p, _ in xform.tree.leaves_with_path(tree)]
    theirs = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(tree)]
    assert ours == theirs
    assert xform.tree.leaves(tree) == jax.tree.leaves(tree)
    assert (xform.tree_util.keystr((DictKey("a"), SequenceKey(0)), simple=True, separator="/")
            == jax.tree_util.keystr((jax.tree_util.DictKey("a"), jax.tree_util.SequenceKey(0)),
                                    simple=True, separator="/"))
