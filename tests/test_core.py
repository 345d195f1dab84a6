"""Core machinery: pytrees, the IR printer, tracer errors, promotion, API errors."""
import collections

import numpy as np
import pytest

import xform
from xform import lax
from xform.core.abstract import ShapedArray
from xform.core.dtypes import result_type
from xform.tree_util import (
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

Point = collections.namedtuple("Point", "x y")


class Box:
    def __init__(self, a, b):
        self.a, self.b = a, b


register_pytree_node(Box, lambda bx: ((bx.a, bx.b), "box"), lambda aux, ch: Box(*ch))


@pytest.mark.parametrize("tree", [
    1.0, None, (), [], {}, (1, 2), [1, (2, 3)], {"b": 1, "a": [2, None]},
    Point(1, (2, 3)), {"p": Point(x=[1], y=None)}, ((None,), [{}]),
])
def test_pytree_roundtrip(tree):
    leaves, treedef = tree_flatten(tree)
    assert tree_unflatten(treedef, leaves) == tree


def test_pytree_registered_and_map():
    bx = tree_map(lambda v: v * 10, Box(1, (2, 3)))
    assert (bx.a, bx.b) == (10, (20, 30))
    assert tree_leaves({"b": 2, "a": 1}) == [1, 2]  # dict keys are sorted
    assert tree_structure((1, [2])) == tree_structure((5, [6]))
    assert tree_structure((1, [2])) != tree_structure((1, (2,)))
    with pytest.raises(ValueError, match="structures differ"):
        tree_map(lambda a, b: a, (1, 2), [1, 2])


def test_tree_unflatten_wrong_count():
    _, td = tree_flatten((1, 2))
    with pytest.raises(ValueError, match="too few"):
        tree_unflatten(td, [1])
    with pytest.raises(ValueError, match="too many"):
        tree_unflatten(td, [1, 2, 3])


def test_make_jaxpr_prints_readable_program():
    jx = xform.make_jaxpr(lambda x, y: lax.sin(lax.mul(x, y)))(np.ones(3), 2.0)
    text = str(jx)
    assert text.splitlines()[0] == "{ lambda ; a:f64[3] b:f64[]. let"
    assert "c:f64[3] = mul a b" in text
    assert "d:f64[3] = sin c" in text
    assert text.strip().endswith("in (d,) }")


def test_make_jaxpr_constants_and_dce():
    w = np.arange(3.0)

    def f(x):
        unused = lax.exp(x)  # dead code is removed
        del unused
        return lax.mul(x, w)

    jx = xform.make_jaxpr(f)(np.ones(3))
    assert [e.primitive.name for e in jx.eqns] == ["mul"]
    assert len(jx.consts) == 1 and jx.consts[0] is w
    assert str(jx).startswith("{ lambda a:f64[3] ; b:f64[3]. let")


def test_make_jaxpr_static_argnums_and_pytrees():
    def f(d, n):
        return [lax.mul(d["a"], float(n)), d["b"]]

    jx = xform.make_jaxpr(f, static_argnums=1)({"a": np.ones(2), "b": 1.0}, 3)
    assert len(jx.jaxpr.invars) == 2
    assert "mul a 3.0" in str(jx)


def test_control_flow_on_tracer_is_a_clear_error():
    def branchy(x):
        if lax.sin(x) > 0:  # noqa: SIM108 - the point of the test
            return x
        return lax.neg(x)

    with pytest.raises(xform.ConcretizationTypeError) as info:
        xform.make_jaxpr(branchy)(1.0)
    msg = str(info.value)
    assert "branchy" in msg and "test_core.py" in msg
    assert "lax.cond" in msg and "static_argnums" in msg


def test_python_control_flow_works_under_grad():
    def relu_ish(x):
        return x if x > 0 else lax.mul(x, 0.1)

    assert xform.grad(relu_ish)(2.0) == 1.0
    assert xform.grad(relu_ish)(-2.0) == pytest.approx(0.1)


def test_escaped_tracer_names_its_transformation():
    leaked = []

    def f(x):
        leaked.append(x)
        return lax.sin(x)

    xform.grad(f)(1.0)
    with pytest.raises(xform.UnexpectedTracerError, match="linearize"):
        lax.sin(leaked[0])
    leaked.clear()
    xform.make_jaxpr(f)(1.0)
    with pytest.raises(xform.UnexpectedTracerError, match="make_jaxpr"):
        lax.exp(leaked[0])


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([object()]), "text"])
def test_unsupported_values_are_rejected(bad):
    with pytest.raises(TypeError, match="not supported|not a valid xform array"):
        xform.make_jaxpr(lambda x: x)(bad)


def test_promotion_nep50():
    f64, f32, i8 = np.dtype("float64"), np.dtype("float32"), np.dtype("int8")
    assert result_type(ShapedArray((), f32), ShapedArray((), f64, True)) == (f32, False)
    assert result_type(ShapedArray((), i8), ShapedArray((), np.int64, True)) == (i8, False)
    assert result_type(ShapedArray((), i8), ShapedArray((), f64, True)) == (f64, False)
    assert result_type(ShapedArray((), np.int64, True), ShapedArray((), f64, True)) == (f64, True)
    assert result_type(ShapedArray((), np.int32), ShapedArray((), f32)) == (f64, False)


def test_grad_errors():
    with pytest.raises(TypeError, match=r"scalar.*\(3,\).*jacrev"):
        xform.grad(lambda x: lax.sin(x))(np.ones(3))
    with pytest.raises(TypeError, match="argument 0 has dtype int64"):
        xform.grad(lambda x: lax.mul(x, x))(np.array(3))
    with pytest.raises(ValueError, match="argnums=2 is out of range"):
        xform.grad(lambda x, y: lax.mul(x, y), argnums=2)(1.0, 2.0)


def test_jvp_tangent_mismatch_errors():
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        xform.jvp(lax.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="dtype float32.*float64"):
        xform.jvp(lax.sin, (np.ones(3),), (np.ones(3, np.float32),))


def test_vjp_wrong_cotangent_shape():
    _, f_vjp = xform.vjp(lax.sin, np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(2,\).*\(3,\)"):
        f_vjp(np.ones(2))


def test_integer_inputs_get_float0_tangents():
    def f(x, n):
        return lax.mul(x, lax.convert_element_type(n, np.float64))

    out, tangent = xform.jvp(f, (2.0, np.int64(3)), (1.0, np.zeros((), xform.float0)))
    assert out == 6.0 and tangent == 3.0
    _, f_vjp = xform.vjp(f, 2.0, np.int64(3))
    gx, gn = f_vjp(1.0)
    assert gx == 3.0 and gn.dtype == xform.float0


def test_has_aux_and_argnums_tuple():
    def f(x, y):
        return lax.mul(x, y), {"x": x}

    (val, aux), (gx, gy) = xform.value_and_grad(f, argnums=(0, 1), has_aux=True)(2.0, 5.0)
    assert val == 10.0 and aux["x"] == 2.0 and (gx, gy) == (5.0, 2.0)
    g, aux = xform.grad(f, has_aux=True)(2.0, 5.0)
    assert g == 5.0


def test_grad_of_pytree_argument():
    params = {"w": np.array([1.0, 2.0]), "b": 0.5}

    def loss(p):
        return lax.add(lax.reduce_sum(lax.mul(p["w"], p["w"]), 0), p["b"])

    g = xform.grad(loss)(params)
    np.testing.assert_allclose(g["w"], [2.0, 4.0])
    assert g["b"] == 1.0


def test_linearize_matches_jvp():
    x = np.array([0.3, 1.1])
    y, f_jvp = xform.linearize(lambda v: lax.mul(lax.sin(v), v), x)
    t = np.array([1.0, -2.0])
    np.testing.assert_allclose(f_jvp(t), (np.cos(x) * x + np.sin(x)) * t)
    np.testing.assert_allclose(y, np.sin(x) * x)
