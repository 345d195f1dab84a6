"""Structural checks of the eager autodiff fast paths (no timing assertions): how many
primitive binds and equations eager reverse mode performs, and that the shortcuts keep
values, avals and errors unchanged."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.core.abstract import ShapedArray, concrete_aval
from xform.core.primitive import Primitive
from xform.core.trace import UnexpectedTracerError, new_main, state
from xform.interpreters.jvp import JVPTrace, Zero
from xform.interpreters.linearize import linearize_flat
from xform.lax.elementwise import mul_p


def _count_binds(fn):
    counts = collections.Counter()
    orig = Primitive.bind

    def bind(self, *args, **params):
        counts[self.name] += 1
        return orig(self, *args, **params)

    Primitive.bind = bind
    try:
        out = fn()
    finally:
        Primitive.bind = orig
    return out, counts


def _f(x):
    return xnp.tanh(x) * xnp.sin(x)


def test_third_derivative_value_and_bind_budget():
    g3 = xform.grad(xform.grad(xform.grad(_f)))
    out, counts = _count_binds(lambda: g3(0.5))
    # closed form of d^3/dx^3 tanh(x) sin(x)
    t, s, c = np.tanh(0.5), np.sin(0.5), np.cos(0.5)
    d1, d2 = 1 - t * t, -2 * t * (1 - t * t)
    d3 = -2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t)
    expected = d3 * s + 3 * d2 * c - 3 * d1 * s - t * c
    assert out == pytest.approx(expected, rel=1e-12)
    # every operation is a bind; the count is a proxy for the eager overhead
    assert sum(counts.values()) <= 150, counts
    assert set(counts) <= {"tanh", "sin", "cos", "mul", "neg", "sub", "square", "add_any"}


def test_square_jvp_needs_no_integer_pow_of_one():
    w = np.linspace(-1, 1, 5)
    gl = xform.grad(lambda w: xnp.sum(xnp.tanh(w) ** 2))
    out, counts = _count_binds(lambda: gl(w))
    np.testing.assert_allclose(out, 2 * np.tanh(w) * (1 - np.tanh(w) ** 2), rtol=1e-14)
    # x ** 2: one integer_pow for the value (bound under JVP, then evaluated): none
    # for x ** 1 in its derivative
    assert counts["integer_pow"] == 2
    assert sum(counts.values()) <= 16, counts


def test_linear_program_has_no_redundant_equations():
    # the tangent program of sin(x) * x: (t cos x) x + sin(x) t
    outs, lin = linearize_flat(lambda x: [lax.mul(lax.sin(x), x)], [np.float64(0.3)])
    names = [e.primitive.name for e in lin.closed.jaxpr.eqns]
    assert names == ["mul", "mul", "mul", "add_any"]
    # x * 1 is x: the unit cotangent of grad adds no equation
    outs, lin = linearize_flat(lambda x: [lax.mul(x, 1.0)], [np.float64(0.3)])
    assert lin.closed.jaxpr.eqns == []


def test_elementwise_shape_rule_reuses_the_operand_aval():
    a = ShapedArray((3,), np.dtype(np.float32))
    weak = ShapedArray((3,), np.dtype(np.float32), True)
    assert mul_p.abstract_eval(a, a) is a
    assert mul_p.abstract_eval(weak, a) is a  # strong wins
    assert mul_p.abstract_eval(weak, weak) is weak
    b = ShapedArray((2, 3), np.dtype(np.float32))
    assert mul_p.abstract_eval(a, b) == b
    with pytest.raises(TypeError, match="same dtype"):
        mul_p.abstract_eval(a, ShapedArray((3,), np.dtype(np.float64)))
    with pytest.raises(TypeError, match="does not accept dtype bool"):
        mul_p.abstract_eval(*[ShapedArray((3,), np.dtype(bool))] * 2)


def test_shared_avals_and_zeros():
    x, y = np.zeros(4), np.ones(4)
    assert concrete_aval(x) is concrete_aval(y)
    assert Zero.like(x) is Zero.like(y)
    assert Zero.like(np.arange(3)).aval.dtype == xform.float0
    with pytest.raises(TypeError, match="not supported"):
        concrete_aval(np.array(["a"]))


def test_lifted_constants_have_zero_tangents():
    # constants entering a JVP get a (lazily built) Zero tangent
    y, t = xform.jvp(lambda x: lax.add(x, np.float32(2.0)), (np.float32(1.0),),
                     (np.float32(1.0),))
    assert y == 3.0 and t == 1.0
    y, t = xform.jvp(lambda x: 2.0, (1.0,), (1.0,))
    assert t == 0.0


def test_new_main_restores_the_stack_on_errors():
    st = state()
    depth, dynamic = len(st.stack), st.dynamic
    with pytest.raises(RuntimeError):
        with new_main(JVPTrace, dynamic=True) as main:
            assert st.stack[-1] is main and st.dynamic is main
            raise RuntimeError
    assert len(st.stack) == depth and st.dynamic is dynamic and not main.alive


def test_escaped_tracer_is_still_reported():
    leaked = []

    def f(x):
        leaked.append(x)
        return xnp.sin(x)

    xform.grad(f)(0.5)
    with pytest.raises(UnexpectedTracerError, match="after that transformation"):
        xnp.sin(leaked[0])


def test_grad_keeps_argnums_kwargs_and_aux():
    def f(x, y, scale=1.0):
        return xnp.sum(x * y) * scale, {"n": 2}

    x, y = np.arange(3.0), np.ones(3)
    g, aux = xform.grad(f, argnums=1, has_aux=True)(x, y, scale=2.0)
    np.testing.assert_array_equal(g, 2 * x)
    assert aux == {"n": 2}
    gx, gy = xform.grad(lambda a, b: xnp.sum(a * b), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, y)
    np.testing.assert_array_equal(gy, x)
