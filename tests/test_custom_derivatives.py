"""custom_jvp / custom_vjp (issue 5): the user rule is used by every transformation,
also after staging (make_jaxpr / jit), and composes with vmap and higher order."""
import numpy as np
import pytest

import xform
from xform import lax
from xform.core.eval import eval_jaxpr


def run_jaxpr(closed, *args):
    out = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out[0] if len(out) == 1 else out


# -- custom_jvp ----------------------------------------------------------------------------

rule_calls = []


@xform.custom_jvp
def log1pexp(x):
    """log(1 + exp(x)); its naive derivative exp(x) / (1 + exp(x)) is nan for large x."""
    return lax.log1p(lax.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    rule_calls.append(1)
    return log1pexp(x), lax.mul(t, lax.logistic(x))


def naive_log1pexp(x):
    return lax.log1p(lax.exp(x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_custom_jvp_grad_and_jvp_use_the_rule():
    assert np.isnan(xform.grad(naive_log1pexp)(1000.0))
    assert xform.grad(log1pexp)(1000.0) == 1.0
    for x in (-3.0, 0.0, 2.5):
        assert log1pexp(x) == pytest.approx(np.log1p(np.exp(x)))
        assert xform.grad(log1pexp)(x) == pytest.approx(sigmoid(x))
        y, t = xform.jvp(log1pexp, (x,), (2.0,))
        assert t == pytest.approx(2 * sigmoid(x))
        assert xform.grad(xform.grad(log1pexp))(x) == pytest.approx(sigmoid(x) * (1 - sigmoid(x)))
    xform.check_grads(log1pexp, (0.7,), order=2)


def test_custom_jvp_eager_call_runs_the_function_only():
    rule_calls.clear()
    assert log1pexp(1.0) == pytest.approx(np.log1p(np.e))
    assert not rule_calls


@pytest.mark.filterwarnings("ignore:overflow")
def test_custom_jvp_vmap():
    xs = np.array([-1.0, 0.0, 1000.0])
    np.testing.assert_allclose(xform.vmap(log1pexp)(xs[:2]), np.log1p(np.exp(xs[:2])))
    np.testing.assert_allclose(xform.vmap(xform.grad(log1pexp))(xs), sigmoid(xs))
    # the rule is batched when vmap is inside the differentiation
    g = xform.grad(lambda xs: lax.reduce_sum(xform.vmap(log1pexp)(xs), (0,)))(xs)
    np.testing.assert_allclose(g, sigmoid(xs))
    np.testing.assert_allclose(xform.jacfwd(xform.vmap(log1pexp))(xs), np.diag(sigmoid(xs)))
    np.testing.assert_allclose(xform.jvp(xform.vmap(log1pexp), (xs,), (np.ones(3),))[1], sigmoid(xs))


@pytest.mark.filterwarnings("ignore:overflow")
def test_custom_jvp_staged_keeps_the_rule():
    jaxpr = xform.make_jaxpr(log1pexp)(1.0)
    assert [e.primitive.name for e in jaxpr.eqns] == ["custom_jvp_call"]
    assert run_jaxpr(jaxpr, 2.0) == pytest.approx(np.log1p(np.exp(2.0)))
    # grad of a staged program still uses the rule (no nan at 1000)
    assert xform.grad(lambda x: run_jaxpr(jaxpr, x))(1000.0) == 1.0
    # grad of jit: the jit's JVP linearizes its program, which holds the rule
    gj = xform.make_jaxpr(xform.grad(xform.jit(log1pexp)))(1000.0)
    assert run_jaxpr(gj, 1000.0) == 1.0
    assert "logistic" in str(gj)


def test_custom_jvp_pytrees_nondiff_and_integer_args():
    @xform.custom_jvp
    def f(d, n):
        return {"s": lax.mul(lax.sin(d["a"]), d["b"]), "n": n}

    @f.defjvp
    def f_jvp(primals, tangents):
        (d, n), (td, tn) = primals, tangents
        assert tn.dtype == xform.float0
        out = f(d, n)
        t = lax.add(lax.mul(lax.mul(lax.cos(d["a"]), d["b"]), td["a"]), lax.mul(lax.sin(d["a"]), td["b"]))
        return out, {"s": t, "n": np.zeros((), xform.float0)}

    d = {"a": 0.3, "b": 2.0}
    g = xform.grad(lambda d: f(d, 3)["s"])(d)
    assert g["a"] == pytest.approx(np.cos(0.3) * 2.0) and g["b"] == pytest.approx(np.sin(0.3))

    @xform.custom_jvp
    def power(n, x):
        return lax.integer_pow(x, n)

    power_nd = xform.custom_jvp(power.fun, nondiff_argnums=(0,))

    @power_nd.defjvp
    def power_jvp(n, primals, tangents):
        (x,), (t,) = primals, tangents
        return power_nd(n, x), lax.mul(lax.mul(float(n), lax.integer_pow(x, n - 1)), t)

    assert xform.grad(lambda x: power_nd(3, x))(2.0) == pytest.approx(12.0)
    assert xform.grad(xform.grad(lambda x: power_nd(3, x)))(2.0) == pytest.approx(12.0)


def test_custom_jvp_defjvps_and_errors():
    @xform.custom_jvp
    def f(x, y):
        return lax.mul(x, y)

    f.defjvps(lambda g, ans, x, y: lax.mul(g, y), lambda g, ans, x, y: lax.mul(x, g))
    assert xform.grad(f, argnums=(0, 1))(2.0, 5.0) == (5.0, 2.0)

    @xform.custom_jvp
    def nojvp(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined"):
        xform.grad(nojvp)(1.0)

    @xform.custom_jvp
    def bad(x):
        return lax.sin(x)

    bad.defjvp(lambda p, t: (lax.sin(p[0]), lax.broadcast_in_dim(t[0], (2,), ())))
    with pytest.raises(TypeError, match="shape"):
        xform.grad(bad)(1.0)

    def outer(y):
        @xform.custom_jvp
        def g(x):
            return lax.mul(x, y)

        g.defjvp(lambda p, t: (g(p[0]), t[0]))
        return g(y)

    with pytest.raises(TypeError, match="explicit argument"):
        xform.grad(outer)(3.0)


# -- custom_vjp ----------------------------------------------------------------------------


@xform.custom_vjp
def clip_gradient(lo, hi, x):
    return x  # identity in the forward pass


def _clip_fwd(lo, hi, x):
    return x, (lo, hi)


def _clip_bwd(res, g):
    lo, hi = res
    return (None, None, lax.clamp(lo, g, hi))


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_gradient_clipping():
    f = lambda x: lax.mul(3.0, clip_gradient(-1.0, 1.0, x))  # noqa: E731
    assert f(2.0) == 6.0
    assert xform.grad(f)(2.0) == 1.0  # 3 clipped to 1
    assert xform.grad(lambda x: lax.mul(0.5, clip_gradient(-1.0, 1.0, x)))(2.0) == 0.5
    assert xform.grad(lambda x: lax.mul(-7.0, clip_gradient(-1.0, 1.0, x)))(2.0) == -1.0
    _, f_vjp = xform.vjp(lambda x: clip_gradient(-1.0, 1.0, x), np.array([1.0, 2.0]))
    np.testing.assert_allclose(f_vjp(np.array([0.5, 5.0]))[0], [0.5, 1.0])


def test_custom_vjp_vmap_and_jit():
    f = lambda x: lax.mul(x, clip_gradient(-1.0, 1.0, x))  # noqa: E731
    xs = np.array([0.5, 2.0, -3.0])
    # d/dx [x * clip(x)] = clip(x) + clamp(x)
    expected = xs + np.clip(xs, -1, 1)
    np.testing.assert_allclose(xform.vmap(xform.grad(f))(xs), expected)
    np.testing.assert_allclose(
        xform.grad(lambda xs: lax.reduce_sum(xform.vmap(f)(xs), (0,)))(xs), expected)
    gj = xform.make_jaxpr(xform.grad(xform.jit(f)))(2.0)
    assert run_jaxpr(gj, 2.0) == pytest.approx(3.0)
    jaxpr = xform.make_jaxpr(f)(2.0)
    assert "custom_vjp_call" in str(jaxpr)
    assert xform.grad(lambda x: run_jaxpr(jaxpr, x))(2.0) == pytest.approx(3.0)


def test_custom_vjp_forward_mode_is_an_error():
    f = lambda x: clip_gradient(-1.0, 1.0, x)  # noqa: E731
    with pytest.raises(TypeError, match=r"can't apply forward-mode autodiff \(jvp\) to a custom_vjp"):
        xform.jvp(f, (2.0,), (1.0,))
    with pytest.raises(TypeError, match="forward-mode"):
        xform.jacfwd(f)(2.0)


def test_custom_vjp_pytrees_residuals_and_second_order():
    @xform.custom_vjp
    def f(p, x):
        return lax.mul(p["w"], lax.sin(x))

    def f_fwd(p, x):  # no call of f itself: forward-over-reverse differentiates fwd
        s = lax.sin(x)
        return lax.mul(p["w"], s), (p["w"], lax.cos(x), s)

    def f_bwd(res, g):
        w, c, s = res
        return {"w": lax.mul(g, s)}, lax.mul(lax.mul(g, w), c)

    f.defvjp(f_fwd, f_bwd)
    p, x = {"w": 1.5}, 0.4
    gp, gx = xform.grad(f, argnums=(0, 1))(p, x)
    assert gp["w"] == pytest.approx(np.sin(x)) and gx == pytest.approx(1.5 * np.cos(x))
    eps = 1e-6
    num = (f(p, x + eps) - f(p, x - eps)) / (2 * eps)
    assert xform.grad(f, argnums=1)(p, x) == pytest.approx(num, rel=1e-8)
    # forward-over-reverse differentiates bwd itself (hessian of the custom rule)
    h = xform.jacfwd(xform.grad(lambda x: f(p, x)))(x)
    assert h == pytest.approx(-1.5 * np.sin(x))
    # reverse-over-reverse
    assert xform.grad(xform.grad(lambda x: f(p, x)))(x) == pytest.approx(-1.5 * np.sin(x))


def test_custom_vjp_bwd_errors():
    @xform.custom_vjp
    def f(x, y):
        return lax.mul(x, y)

    f.defvjp(lambda x, y: (f(x, y), (x, y)), lambda res, g: (g,))
    with pytest.raises(TypeError, match="one cotangent per"):
        xform.grad(f)(1.0, 2.0)

    @xform.custom_vjp
    def nofwd(x):
        return x

    with pytest.raises(AttributeError, match="No VJP defined"):
        xform.grad(nofwd)(1.0)


@pytest.mark.filterwarnings("ignore")
def test_custom_rules_under_compiled_jit():
    assert xform.jit(log1pexp)(1.0) == pytest.approx(np.log1p(np.e))
    assert xform.jit(xform.grad(log1pexp))(1000.0) == 1.0
    assert xform.grad(xform.jit(log1pexp))(1000.0) == 1.0
    f = lambda x: lax.mul(3.0, clip_gradient(-1.0, 1.0, x))  # noqa: E731
    assert xform.jit(xform.grad(f))(2.0) == 1.0
    assert xform.grad(xform.jit(f))(2.0) == 1.0


def test_custom_rules_inside_control_flow():
    from functools import partial

    @partial(xform.custom_vjp, nondiff_argnums=(0,))
    def scale_grad(k, x):
        return x

    scale_grad.defvjp(lambda k, x: (x, None), lambda k, res, g: (lax.mul(g, k),))
    assert xform.grad(lambda x: lax.mul(scale_grad(3.0, x), 2.0))(1.0) == 6.0
    # custom_vjp in a scan body: d/dx sum(x**2) scaled by 2
    g = lambda xs: lax.scan(lambda c, x: (lax.add(c, scale_grad(2.0, lax.mul(x, x))), None), 0.0, xs)[0]  # noqa: E731,E501
    np.testing.assert_allclose(xform.grad(g)(np.array([1.0, 2.0])), [4.0, 8.0])
    with pytest.raises(TypeError, match="forward-mode"):
        xform.jvp(g, (np.array([1.0, 2.0]),), (np.ones(2),))
    # custom_vjp in a cond branch, vmapped with a batched predicate
    h = lambda x: lax.cond(lax.gt(x, 0.0), lambda x: scale_grad(10.0, x), lax.sin, x)  # noqa: E731
    np.testing.assert_allclose(xform.vmap(xform.grad(h))(np.array([1.0, -1.0])), [10.0, np.cos(-1.0)])
    # custom_jvp in a scan body, with vmap
    f = lambda xs: lax.scan(lambda c, x: (lax.add(c, log1pexp(x)), c), 0.0, xs)[0]  # noqa: E731
    with np.errstate(over="ignore", invalid="ignore"):
        np.testing.assert_allclose(xform.grad(f)(np.array([1000.0, 0.0])), [1.0, 0.5])
        np.testing.assert_allclose(xform.vmap(xform.grad(f))(np.array([[1000.0, 0.0], [1.0, 2.0]])),
                                   [[1.0, 0.5], sigmoid(np.array([1.0, 2.0]))])


def test_custom_jvp_rule_sees_default_arguments():
    @xform.custom_jvp
    def h(u, scale=2.0):
        return u * scale

    @h.defjvp
    def h_jvp(primals, tangents):
        u, s = primals
        return h(u, s), tangents[0] * s

    assert float(xform.grad(lambda u: h(u))(1.0)) == 2.0
    assert float(xform.grad(lambda u: h(u, scale=3.0))(1.0)) == 3.0
    assert float(xform.jit(xform.grad(lambda u: h(u)))(1.0)) == 2.0


def test_custom_jvp_keyword_only_parameters_keep_their_defaults():
    @xform.custom_jvp
    def g(x, y=1.0, *, k=1.0):
        return x * y * k

    g.defjvp(lambda p, t: (g(*p), t[0] * p[1] * 5))
    assert float(g(1.0)) == 1.0 and float(g(2.0, 3.0)) == 6.0
    assert float(xform.grad(g)(1.0)) == 5.0
    with pytest.raises(TypeError, match=r"keyword arguments only for positional parameters, got \['k'\]"):
        g(1.0, k=2.0)
