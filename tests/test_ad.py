"""Autodiff compositions (issue 3): closed forms, finite differences, pytrees, errors."""
import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax


def rosen(x):
    return xnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_grad_closed(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess_closed(x):
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i, i + 1] += -400 * x[i]
        h[i + 1, i] += -400 * x[i]
        h[i + 1, i + 1] += 200
    return h


X = np.array([0.3, -1.2, 0.8, 1.5, -0.4])


def test_rosenbrock_gradient_and_hessian_closed_form():
    np.testing.assert_allclose(xform.grad(rosen)(X), rosen_grad_closed(X), rtol=1e-12)
    np.testing.assert_allclose(xform.hessian(rosen)(X), rosen_hess_closed(X), rtol=1e-12)


def test_jacobian_compositions_agree():
    h1 = xform.jacfwd(xform.jacrev(rosen))(X)
    h2 = xform.jacrev(xform.jacfwd(rosen))(X)
    h3 = xform.hessian(rosen)(X)
    h4 = xform.jacrev(xform.jacrev(rosen))(X)
    for h in (h2, h3, h4):
        np.testing.assert_allclose(h, h1, rtol=1e-12, atol=1e-12)


def test_hvp_equals_hessian_times_vector():
    v = np.array([1.0, -0.5, 2.0, 0.1, 0.3])
    np.testing.assert_allclose(xform.hvp(rosen, (X,), (v,)), rosen_hess_closed(X) @ v, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("x", [0.3, 1.7, -0.9])
def test_fourth_order_closed_forms(x):
    d4 = lambda f: xform.grad(xform.grad(xform.grad(xform.grad(f))))
    assert d4(xnp.sin)(x) == pytest.approx(np.sin(x), rel=1e-12)
    assert d4(xnp.exp)(x) == pytest.approx(np.exp(x), rel=1e-12)
    if x > 0:
        assert d4(xnp.log)(x) == pytest.approx(-6 / x**4, rel=1e-12)
    t = np.tanh(x)
    # With u = tanh(x), u' = 1 - u^2: derivatives are polynomials in u (chain rule).
    poly = np.polynomial.Polynomial([0, 1])  # u
    dpoly = np.polynomial.Polynomial([1, 0, -1])  # du/dx as a polynomial in u
    for _ in range(4):
        poly = poly.deriv() * dpoly
    d4_tanh = poly(t)
    assert d4(xnp.tanh)(x) == pytest.approx(d4_tanh, rel=1e-10, abs=1e-12)
    # a chain: sin(exp(x)) third derivative against finite differences of the second
    f = lambda v: xnp.sin(xnp.exp(v))
    d2 = xform.grad(xform.grad(f))
    d3 = xform.grad(d2)
    eps = 1e-5
    assert d3(x) == pytest.approx((d2(x + eps) - d2(x - eps)) / (2 * eps), rel=1e-6)


def test_grad_grad_grad_tanh_sin():
    f = lambda x: xnp.tanh(x) * xnp.sin(x)
    g3 = xform.grad(xform.grad(xform.grad(f)))
    d2 = xform.grad(xform.grad(f))
    eps = 1e-5
    assert g3(0.5) == pytest.approx((d2(0.5 + eps) - d2(0.5 - eps)) / (2 * eps), rel=1e-7)


def test_jvp_of_grad_and_grad_of_jvp():
    f = lambda x: xnp.sum(xnp.sin(x) * x ** 2)
    x = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 2.0, -1.0])
    hess = np.diag(-np.sin(x) * x**2 + 4 * x * np.cos(x) + 2 * np.sin(x))
    _, hv = xform.jvp(xform.grad(f), (x,), (v,))
    np.testing.assert_allclose(hv, hess @ v, rtol=1e-12)
    # grad of a directional derivative: d/dx <grad f(x), v> = H v
    g = xform.grad(lambda y: xform.jvp(f, (y,), (v,))[1])(x)
    np.testing.assert_allclose(g, hess @ v, rtol=1e-12)


def test_check_grads_on_composite():
    def f(x, y):
        return xnp.tanh(x @ y) * xnp.exp(-(x ** 2).sum())

    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    y = np.array([0.5, -0.6])
    xform.check_grads(f, (x, y), order=2)


def test_check_grads_detects_a_wrong_rule():
    @xform.custom_jvp
    def wrong_sin(x):
        return xnp.sin(x)

    wrong_sin.defjvp(lambda primals, tangents: (xnp.sin(primals[0]), 2.0 * tangents[0]))
    with pytest.raises(AssertionError, match="fwd mode at order 1"):
        xform.check_grads(wrong_sin, (np.array([0.3]),), order=1, modes=("fwd",))


def test_pytrees_and_has_aux():
    params = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": (np.array([0.5, -0.5]), None)}

    def loss(p, x):
        h = xnp.tanh(p["w"] @ x + p["b"][0])
        return xnp.sum(h ** 2), {"h": h}

    x = np.array([0.1, -0.2])
    (val, aux), g = xform.value_and_grad(loss, has_aux=True)(params, x)
    h = np.tanh(params["w"] @ x + params["b"][0])
    assert val == pytest.approx(np.sum(h**2))
    np.testing.assert_allclose(aux["h"], h)
    dh = 2 * h * (1 - h**2)
    np.testing.assert_allclose(g["w"], np.outer(dh, x), rtol=1e-12)
    np.testing.assert_allclose(g["b"][0], dh, rtol=1e-12)
    assert g["b"][1] is None


def test_jacobian_layouts():
    f = lambda x: xnp.outer(x, x)  # (3,) -> (3, 3)
    x = np.array([1.0, 2.0, 3.0])
    jf, jr = xform.jacfwd(f)(x), xform.jacrev(f)(x)
    assert jf.shape == jr.shape == (3, 3, 3)
    np.testing.assert_allclose(jf, jr)
    expected = np.einsum("ik,j->ijk", np.eye(3), x) + np.einsum("i,jk->ijk", x, np.eye(3))
    np.testing.assert_allclose(jf, expected)
    # several argnums -> tuple of Jacobians
    g = lambda a, b: a * b
    ja, jb = xform.jacrev(g, argnums=(0, 1))(x, 2 * x)
    np.testing.assert_allclose(ja, np.diag(2 * x))
    np.testing.assert_allclose(jb, np.diag(x))


def test_stop_gradient():
    f = lambda x: x * xform.lax.stop_gradient(x)
    assert xform.grad(f)(3.0) == 3.0
    assert xform.grad(xform.grad(f))(3.0) == 0.0


def test_make_jaxpr_of_grad_has_no_python_objects():
    jx = xform.make_jaxpr(xform.grad(lambda x: xnp.sum(xnp.tanh(x) ** 2)))(np.ones(3))
    for eqn in jx.eqns:
        for v in eqn.params.values():
            assert isinstance(v, (int, float, bool, str, tuple, np.dtype, type(None))) or \
                hasattr(v, "jaxpr"), (eqn, v)
    for c in jx.consts:
        assert isinstance(c, np.ndarray)


def test_non_differentiable_point_conventions():
    g = xform.grad
    assert g(xnp.abs)(0.0) == 1.0 and g(xnp.abs)(-0.0) == 1.0  # JAX's convention
    assert g(xnp.sign)(0.0) == 0.0
    assert g(xnp.floor)(1.5) == 0.0 and g(xnp.round)(1.5) == 0.0
    assert g(xnp.sqrt)(0.0) == np.inf
    relu1 = lambda x: xnp.maximum(x, 0.0)
    relu2 = lambda x: xnp.where(x > 0, x, 0.0)
    assert g(relu1)(0.0) == 0.5  # ties split the gradient equally
    assert g(relu2)(0.0) == 0.0
    assert g(relu1)(1.0) == g(relu2)(1.0) == 1.0
    assert g(relu1)(-1.0) == g(relu2)(-1.0) == 0.0
    # safe where: the unselected branch's NaN must not leak with the double-where pattern
    def safe_log(x):
        ok = x > 0
        return xnp.where(ok, xnp.log(xnp.where(ok, x, 1.0)), 0.0)

    assert g(safe_log)(0.0) == 0.0
    # ... while the naive spelling gives 0 * log'(0) = 0 * inf = nan (documented)
    naive = lambda x: xnp.where(x > 0, xnp.log(x), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(g(naive)(0.0))


def test_grad_errors_are_clear():
    with pytest.raises(TypeError, match=r"shape \(3,\).*jacrev"):
        xform.grad(xnp.sin)(np.ones(3))
    with pytest.raises(TypeError, match="argument 1 has dtype int64"):
        xform.grad(lambda x, n: x * n, argnums=1)(1.0, 3)
    with pytest.raises(ValueError, match="out of range"):
        xform.grad(xnp.sin, argnums=(0, 1))(1.0)


def test_lax_and_numpy_mix_under_grad():
    f = lambda x: lax.sin(x) * np.cos(x)  # numpy function on a tracer dispatches to xform
    assert xform.grad(f)(0.4) == pytest.approx(np.cos(0.8), rel=1e-12)


def test_add_any_tangents_take_the_result_shape():
    t = xform.jvp(lambda s: lax.add_any(np.array([1.0, 2.0]), s), (0.5,), (1.0,))[1]
    np.testing.assert_array_equal(t, [1.0, 1.0])
    x = np.array([0.5, 0.2, 0.4])

    def f(s):  # its hessian adds a batched cotangent to an unbatched one (scan transpose)
        b = s + x
        (c, _), _ = lax.scan(lambda cr, _: ((cr[0] * s, cr[0] * cr[1]), None), (s, b), None,
                             length=2)
        return xnp.sum(b) + c

    h = xform.hessian(f)(0.3)  # f = 3 s + sum(x) + s**3
    np.testing.assert_allclose(h, 6 * 0.3)
    np.testing.assert_allclose(xform.jit(xform.hessian(f))(0.3), 6 * 0.3)


def test_has_aux_for_jvp_jacfwd_and_hessian_returns_plain_values():
    y, t, aux = xform.jvp(lambda x: (xnp.sin(x), {"twice": x * 2}), (1.0,), (1.0,), has_aux=True)
    np.testing.assert_allclose([y, t, aux["twice"]], [np.sin(1.0), np.cos(1.0), 2.0])
    jac, aux = xform.jacfwd(lambda x: (x * 2.0, x * 3.0), has_aux=True)(1.5)
    assert float(aux) == 4.5 and isinstance(aux, (float, np.floating, np.ndarray))
    h, aux = xform.hessian(lambda x: (xnp.sum(x ** 3), {"a": x * 3.0}), has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, np.diag([6.0, 12.0]))
    np.testing.assert_allclose(aux["a"], [3.0, 6.0])
    jac, aux = xform.vmap(xform.jacfwd(lambda x: (x * 2.0, x * 3.0), has_aux=True))(np.array([1.5, 2.0]))
    np.testing.assert_allclose(aux, [4.5, 6.0])
    with pytest.raises(TypeError, match="jvp of <lambda> with has_aux=True: the function must return a pair"):
        xform.jvp(lambda x: x, (1.0,), (1.0,), has_aux=True)


def test_remainder_derivative_is_one_at_multiples_of_the_divisor():
    assert float(xform.grad(lambda x: x % 1.0)(2.0)) == 1.0
    assert float(xform.grad(lambda b: 3.0 % b)(1.0)) == -3.0
    g = xform.grad(lambda u: xnp.sum(xnp.remainder(u, 1.5)))(np.array([4.5, -3.0, 0.0, 0.7]))
    np.testing.assert_array_equal(g, np.ones(4))
    # values keep numpy's signed zeros
    a, b = np.array([-3.0, 3.0, 0.0]), np.array([1.5, -1.5, -2.0])
    for got in (xnp.remainder(a, b), xform.jit(xnp.remainder)(a, b)):
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.remainder(a, b)))


def _nth(f, n):
    for _ in range(n):
        f = xform.grad(f)
    return f


def test_logaddexp_higher_derivatives_at_ties():
    """log(e^x + e^y) is smooth where x == y; the derivatives must not see the max/abs
    kinks of the stable formula. Closed forms: softplus''(0) = 1/4, and for
    g(x) = logaddexp(x, x^2) at 0: g' = 1/2, g'' = 5/4, g''' = -3/2."""
    assert float(_nth(lambda x: xnp.logaddexp(x, 0.0), 2)(0.0)) == 0.25
    h = xform.hessian(lambda v: xnp.logaddexp(v[0], v[1]))(np.zeros(2))
    np.testing.assert_allclose(h, [[0.25, -0.25], [-0.25, 0.25]])
    g = lambda x: xnp.logaddexp(x, x * x)  # noqa: E731
    np.testing.assert_allclose([_nth(g, k)(0.0) for k in (1, 2, 3)], [0.5, 1.25, -1.5])
    np.testing.assert_allclose(_nth(lambda x: xnp.logaddexp2(x, 0.0), 2)(0.0), np.log(2) / 4)
    # equal infinities: the value is numpy's, each side gets half of the tangent
    a, b = np.array([-np.inf, np.inf, 1.0]), np.array([-np.inf, np.inf, -np.inf])
    np.testing.assert_array_equal(xnp.logaddexp(a, b), np.logaddexp(a, b))
    np.testing.assert_array_equal(xform.grad(lambda a: xnp.sum(xnp.logaddexp(a, b)))(a),
                                  [0.5, 0.5, 1.0])


def test_pow_keeps_mixed_derivatives_where_the_exponent_is_zero():
    # d/dy d/dx x**y = x**(y-1) (1 + y log x): 1/x at y = 0
    assert float(xform.grad(lambda y: xform.grad(lambda x: x ** y)(2.0))(0.0)) == 0.5
    # (x^2 + 1)^x = 1 + x^3 + ...: third derivative 6 at 0
    np.testing.assert_allclose(_nth(lambda x: (x * x + 1.0) ** x, 3)(0.0), 6.0)
    # the convention at x == y == 0 stays: d/dx x**0 = 0 there
    assert float(xform.grad(lambda x: x ** 0.0)(0.0)) == 0.0


def test_jacobians_pass_keyword_arguments_through():
    x = np.arange(3.0)
    for jac in (xform.jacfwd, xform.jacrev):
        np.testing.assert_array_equal(jac(lambda a, s=1.0: a * s)(x, s=2.0), 2.0 * np.eye(3))
    h = xform.hessian(lambda a, s=1.0: xnp.sum(a ** 3) * s)(x, s=2.0)
    np.testing.assert_array_equal(h, np.diag(12.0 * x))


def test_argnums_twice_and_complex_jacrev_outputs_are_errors():
    x = np.arange(3.0)
    with pytest.raises(ValueError, match=r"grad of <lambda>: argnums=\(0, 0\) names an argument twice"):
        xform.grad(lambda a, b: (a * b).sum(), argnums=(0, 0))(x, x)
    with pytest.raises(TypeError, match=r"jacrev of <lambda>: outputs must be real .*c128\[3\].*jacfwd"):
        xform.jacrev(lambda a: xnp.exp(1j * a))(x)
    np.testing.assert_allclose(xform.jacfwd(lambda a: xnp.exp(1j * a))(x), np.diag(1j * np.exp(1j * x)))


def test_check_grads_scales_to_float32_and_rejects_integers():
    x = np.array([0.3, 1.2, -0.7])
    xform.check_grads(xnp.sin, (x.astype(np.float32),), order=2)

    @xform.custom_jvp
    def wrong(x):
        return xnp.sin(x)

    wrong.defjvp(lambda p, t: (xnp.sin(p[0]), 1.5 * xnp.cos(p[0]) * t[0]))
    for dt in (np.float32, np.float64):  # a wrong derivative still fails at float32
        with pytest.raises(AssertionError, match="check_grads: fwd mode at order 1"):
            xform.check_grads(wrong, (x.astype(dt),), order=1, modes=("fwd",))
    with pytest.raises(TypeError, match=r"check_grads: argument leaf 1 is i64\[\]"):
        xform.check_grads(lambda x, n: x * n, (x, 3))


def test_logaddexp_gradient_of_nan_is_nan():
    gx, gy = xform.grad(xnp.logaddexp, (0, 1))(np.nan, 1.0)
    assert np.isnan(gx) and np.isnan(gy)
    assert xform.grad(xnp.logaddexp, (0, 1))(np.inf, np.inf) == (0.5, 0.5)


def test_transformation_results_of_rank_zero_are_numpy_scalars():
    """Whichever rule computed them (numpy.where gives 0-d arrays), 0-d results of
    grad/jacobians/jit are numpy scalars, as jit's kernels return them."""
    for r in (xform.grad(lambda x: xnp.where(x > 0, x, 0.0))(2.0),
              xform.grad(xnp.logaddexp, (0, 1))(2.0, 3.0)[0],
              xform.jit(lambda x: x)(np.array(2.0)),
              xform.jacfwd(lambda x: xnp.where(x > 0, x * x, 0.0))(3.0)):
        assert isinstance(r, np.generic) and r.dtype == np.float64, repr(r)


def test_check_grads_float16_and_large_arguments():
    xform.check_grads(lambda a: a * a, (np.float16(1.5),), order=1)
    xform.check_grads(lambda a: xnp.tanh(a) * a, (np.array([0.3, -1.2, 0.7], np.float16),), order=2)
    xform.check_grads(lambda a: a ** 3, (np.array([100.0, 200.0], np.float32),), order=2)

    @xform.custom_jvp
    def wrong(x):
        return xnp.sin(x)

    wrong.defjvp(lambda p, t: (xnp.sin(p[0]), 1.5 * xnp.cos(p[0]) * t[0]))
    with pytest.raises(AssertionError):
        xform.check_grads(wrong, (np.array([0.3, 1.2, -0.8], np.float16),), order=1, modes=("fwd",))
