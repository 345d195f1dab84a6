"""checkpoint / remat (issue 5): same values and derivatives, fewer stored residuals
(intermediates are recomputed in the backward pass)."""
import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.core.eval import eval_jaxpr
from xform.interpreters.linearize import linearize_flat


def run_jaxpr(closed, *args):
    out = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out[0] if len(out) == 1 else out


def count_prim(jaxpr, name):
    from xform.core.ir import ClosedJaxpr

    n = 0
    for e in jaxpr.eqns:
        n += e.primitive.name == name
        for v in e.params.values():
            if isinstance(v, ClosedJaxpr):
                n += count_prim(v.jaxpr, name)
    return n


def block(x):
    return lax.sin(lax.sin(lax.sin(x)))


def residuals(f, *args):
    _, lin = linearize_flat(lambda *a: [f(*a)], list(args))
    return lin.closed.consts


X = np.linspace(-1.0, 1.0, 5)


def test_checkpoint_values_and_gradients_unchanged():
    f = lambda x: lax.reduce_sum(block(x), (0,))  # noqa: E731
    fc = lambda x: lax.reduce_sum(xform.checkpoint(block)(x), (0,))  # noqa: E731
    assert fc(X) == pytest.approx(f(X))
    np.testing.assert_allclose(xform.grad(fc)(X), xform.grad(f)(X), rtol=1e-14)
    np.testing.assert_allclose(xform.jvp(fc, (X,), (np.ones(5),))[1],
                               xform.jvp(f, (X,), (np.ones(5),))[1], rtol=1e-14)
    xform.check_grads(xform.remat(block), (X,), order=2)
    np.testing.assert_allclose(xform.vmap(xform.grad(xform.checkpoint(block)))(X),
                               xform.vmap(xform.grad(block))(X), rtol=1e-14)
    np.testing.assert_allclose(xform.hessian(fc)(X), xform.hessian(f)(X), rtol=1e-12, atol=1e-14)


def test_checkpoint_stores_only_inputs_and_recomputes():
    plain = residuals(block, X)
    ck = residuals(xform.checkpoint(block), X)
    assert len(plain) == 3  # cos of each intermediate
    assert len(ck) == 1 and ck[0] is X  # just the input
    # make_jaxpr(value_and_grad): the intermediates' sines appear twice (forward inside
    # the checkpoint call, recomputed in the backward pass)
    vg = lambda f: xform.value_and_grad(lambda x: lax.reduce_sum(f(x), (0,)))  # noqa: E731
    assert count_prim(xform.make_jaxpr(vg(block))(X).jaxpr, "sin") == 3
    jc = xform.make_jaxpr(vg(xform.checkpoint(block)))(X)
    assert count_prim(jc.jaxpr, "sin") > 3
    np.testing.assert_allclose(run_jaxpr(jc, X)[1], xform.grad(lambda x: lax.reduce_sum(block(x), (0,)))(X))


def test_checkpointed_scan_body_stores_less_per_iteration():
    def body(c, x):
        c = lax.sin(lax.mul(lax.sin(lax.mul(c, x)), 1.5))
        return c, lax.cos(c)

    def f(c0, xs, b):
        c, ys = lax.scan(b, c0, xs)
        return lax.reduce_sum(lax.add(c, lax.reduce_sum(ys, (0,))), (0,))

    c0 = np.linspace(0.1, 0.5, 3)
    xs = np.linspace(-1, 1, 24).reshape(8, 3)
    plain = residuals(lambda c0, xs: f(c0, xs, body), c0, xs)
    ck = residuals(lambda c0, xs: f(c0, xs, xform.checkpoint(body)), c0, xs)
    size = lambda rs: sum(np.size(r) for r in rs)  # noqa: E731
    assert size(ck) < size(plain)
    # per iteration only the carry is stored; xs is reused, not copied
    assert sorted(np.shape(r) for r in ck) == [(8, 3), (8, 3)]
    assert any(r is xs for r in ck)
    g_plain = xform.grad(f, argnums=(0, 1))(c0, xs, body)
    g_ck = xform.grad(f, argnums=(0, 1))(c0, xs, xform.checkpoint(body))
    for a, b in zip(g_plain, g_ck):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    xform.check_grads(lambda c0: f(c0, xs, xform.checkpoint(body)), (c0,), order=2)


def test_checkpoint_pytrees_static_argnums_and_closures():
    @xform.checkpoint
    def f(p, x):
        return {"y": lax.mul(p["w"], lax.sin(x))}

    g = xform.grad(lambda w, x: f({"w": w}, x)["y"], argnums=(0, 1))(2.0, 0.3)
    np.testing.assert_allclose(g, (np.sin(0.3), 2.0 * np.cos(0.3)))

    def h(x, n):
        for _ in range(n):
            x = lax.sin(x)
        return x

    hc = xform.checkpoint(h, static_argnums=(1,))
    assert xform.grad(lambda x: hc(x, 2))(0.4) == pytest.approx(np.cos(np.sin(0.4)) * np.cos(0.4))

    def outer(w):  # closes over a differentiated value
        return xform.checkpoint(lambda x: lax.mul(w, lax.sin(x)))(0.5)

    assert xform.grad(outer)(3.0) == pytest.approx(np.sin(0.5))


def test_checkpoint_staged_and_grad_of_jit():
    fc = xform.checkpoint(block)
    j = xform.make_jaxpr(fc)(0.3)
    assert [e.primitive.name for e in j.eqns] == ["checkpoint"]
    gj = xform.make_jaxpr(xform.grad(xform.jit(fc)))(0.3)
    assert run_jaxpr(gj, 0.3) == pytest.approx(xform.grad(block)(0.3))


@pytest.mark.filterwarnings("ignore")
def test_checkpoint_under_compiled_jit():
    fc = xform.checkpoint(block)
    assert xform.jit(fc)(0.3) == pytest.approx(block(0.3))
    assert xform.jit(xform.grad(fc))(0.3) == pytest.approx(xform.grad(block)(0.3))


def test_checkpoint_of_a_custom_vjp_function():
    @xform.custom_vjp
    def f(u):
        return xnp.sin(u)

    f.defvjp(lambda u: (f(u), u), lambda u, g: (xnp.cos(u) * g,))
    x = np.array([0.3, 1.1])
    np.testing.assert_allclose(xform.grad(xform.checkpoint(lambda u: f(u).sum()))(x), np.cos(x))
    g = xform.jit(xform.grad(xform.checkpoint(lambda u: (f(u) * u).sum())))(x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x))

    def body(c, xi):
        return xform.checkpoint(lambda c, xi: f(c) * xi)(c, xi), None

    got = xform.grad(lambda c: lax.scan(body, c, x)[0])(0.5)
    want = np.cos(np.sin(0.5) * 0.3) * 1.1 * 0.3 * np.cos(0.5)
    np.testing.assert_allclose(got, want, rtol=1e-12)
