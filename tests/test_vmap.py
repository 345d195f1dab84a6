"""vmap semantics (issue 5): in_axes/out_axes, errors, and compositions."""
import numpy as np
import pytest

import xform
import xform.numpy as xnp
from _tolerance import assert_within, sum_of_products, tolerance

rng = np.random.default_rng(0)


def loop(f, *args, in_axes=0):
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    n = next(a.shape[ax] for a, ax in zip(args, axes) if ax is not None)
    outs = [f(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes)])
            for i in range(n)]
    return np.stack(outs)


def test_in_axes_variants():
    f = lambda a, b: xnp.sin(a) @ b
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal((3, 5))

    def check(got, x, y, in_axes):
        want = loop(f, x, y, in_axes=in_axes)
        # sin(x) @ y: vmap's batched product and the loop's matvecs sum in BLAS-dependent
        # orders, each within gamma(k) (|sin x| @ |y|) of the exact product
        # (tests/_tolerance.py); numpy's sin of a whole array and of its slices (SIMD or
        # scalar loop) may differ too, by at most 4 ulp (8 u) of each |sin x_i| per side
        mm = lambda u, v: loop(lambda p, q: p @ q, u, v, in_axes=in_axes)  # noqa: E731
        _, tol = sum_of_products(mm, (np.sin(x), y), {}, np.float64)
        tol = tol + tolerance(8, mm(np.abs(np.sin(x)), np.abs(y)), np.float64)
        assert_within(got, want, tol)

    check(xform.vmap(f, in_axes=(0, None))(a, b), a, b, (0, None))
    bt = rng.standard_normal((3, 4, 5))  # batch in the middle
    check(xform.vmap(f, in_axes=(0, 1))(a, bt), a, bt, (0, 1))
    check(xform.vmap(f, in_axes=(-1, -2))(a.T.copy(), bt), a.T.copy(), bt, (1, 1))


def test_out_axes_and_pytrees():
    def f(d):
        return {"s": d["x"] * 2.0, "t": (d["y"].sum(), d["x"][0])}

    x = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 2))
    out = xform.vmap(f, in_axes=({"x": 0, "y": 0},), out_axes={"s": 1, "t": 0})({"x": x, "y": y})
    np.testing.assert_allclose(out["s"], (x * 2).T)
    np.testing.assert_allclose(out["t"][0], y.sum(1))
    np.testing.assert_allclose(out["t"][1], x[:, 0])


def test_unbatched_output_is_broadcast_and_axis_size():
    out = xform.vmap(lambda x: 1.0 + 0 * 3.0, axis_size=3, in_axes=None)(np.ones(2))
    np.testing.assert_allclose(out, np.ones(3))
    with pytest.raises(ValueError, match="axis_size"):
        xform.vmap(lambda x: x, in_axes=None)(np.ones(2))


def test_mismatched_batch_sizes_error_names_sizes():
    with pytest.raises(ValueError, match=r"size 3.*size 4|size 4.*size 3"):
        xform.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))


def test_in_axes_out_of_bounds():
    with pytest.raises(ValueError, match="out of bounds"):
        xform.vmap(lambda a: a, in_axes=2)(np.ones((3, 4)))


def test_nested_vmap_matches_outer_product():
    f = lambda a, b: a * b
    a, b = rng.standard_normal(3), rng.standard_normal(4)
    out = xform.vmap(xform.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(a, b)
    np.testing.assert_allclose(out, np.outer(a, b))


def mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = xnp.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    logits = logits - xnp.max(logits, axis=-1, keepdims=True)
    logp = logits - xnp.log(xnp.sum(xnp.exp(logits), axis=-1, keepdims=True))
    return -xnp.sum(logp * y)


def test_per_example_gradients_match_loop():
    params = (rng.standard_normal((4, 5)) * 0.3, np.zeros(5),
              rng.standard_normal((5, 3)) * 0.3, np.zeros(3))
    xs = rng.standard_normal((6, 4))
    ys = np.eye(3)[rng.integers(0, 3, 6)]
    per_ex = xform.vmap(xform.grad(mlp_loss), in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(6):
        gi = xform.grad(mlp_loss)(params, xs[i], ys[i])
        for a, b in zip(per_ex, gi):
            np.testing.assert_allclose(a[i], b, rtol=1e-12, atol=1e-14)
    # the mean of per-example gradients is the gradient of the mean loss
    batch_loss = lambda p: sum(mlp_loss(p, xs[i], ys[i]) for i in range(6)) / 6
    full = xform.grad(batch_loss)(params)
    for a, b in zip(per_ex, full):
        np.testing.assert_allclose(a.mean(0), b, rtol=1e-10, atol=1e-14)


def test_grad_of_vmap():
    f = lambda w, xs: xnp.sum(xform.vmap(lambda x: xnp.tanh(w @ x))(xs))
    w = rng.standard_normal(3)
    xs = rng.standard_normal((4, 3))
    expected = ((1 - np.tanh(xs @ w) ** 2)[:, None] * xs).sum(0)
    np.testing.assert_allclose(xform.grad(f)(w, xs), expected, rtol=1e-12)


def test_jacobians_after_vmap_rewrite():
    f = lambda x: xnp.sin(x) * xnp.sum(x ** 2)
    x = rng.standard_normal(4)
    jf, jr = xform.jacfwd(f)(x), xform.jacrev(f)(x)
    expected = np.diag(np.cos(x)) * np.sum(x**2) + np.outer(np.sin(x), 2 * x)
    np.testing.assert_allclose(jf, expected, rtol=1e-12)
    np.testing.assert_allclose(jr, expected, rtol=1e-12)
    h = xform.hessian(lambda v: xnp.sum(xnp.sin(v) * v))(x)
    np.testing.assert_allclose(h, np.diag(2 * np.cos(x) - x * np.sin(x)), rtol=1e-12, atol=1e-15)


def test_vmap_validates_out_axes_axis_size_and_keyword_arguments():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="vmap of <lambda>: axis 3 is out of bounds for an output"):
        xform.vmap(lambda a: a, out_axes=3)(x)
    with pytest.raises(ValueError, match="axis -3 is out of bounds"):
        xform.vmap(lambda a: a, out_axes=-3)(x)
    assert xform.vmap(lambda a: a, out_axes=-1)(x).shape == (4, 3)
    assert xform.vmap(lambda a: a, out_axes=np.int64(1), in_axes=np.int64(0))(x).shape == (4, 3)
    for bad in ("a", 1.0, True):
        with pytest.raises(TypeError, match="axes must be ints or None"):
            xform.vmap(lambda a: a, out_axes=bad)(x)
    for bad in (-2, 2.0):
        with pytest.raises(TypeError, match="axis_size must be a non-negative int or None"):
            xform.vmap(lambda a: a, in_axes=None, axis_size=bad)
    # keyword arguments are mapped over their axis 0, as in JAX
    np.testing.assert_array_equal(
        xform.vmap(lambda a, b=1.0: a * b)(np.ones(3), b=np.arange(3.0)), np.arange(3.0))
    with pytest.raises(ValueError, match="the batched axes have different sizes"):
        xform.vmap(lambda a, b=1.0: a * b)(np.ones(3), b=np.ones(4))
