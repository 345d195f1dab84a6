"""What JAX (and autograd) client programs hit when run on xform with only the imports
changed (issue 16): ``jax.flatten_util.ravel_pytree``, ``jax.ops.segment_*``,
``nonzero``/``where``/``argwhere``/``flatnonzero`` with ``size=`` under ``jit``,
``precision=``/``preferred_element_type=`` on products, ``allclose`` under ``jit``,
``jax.scipy.integrate.trapezoid``, ``lax.approx_max_k``/``approx_min_k``,
JAX's result structures of ``lax.top_k``/``lax.sort``/``lax.linalg.lu``,
``jax.example_libraries`` (``optimizers``, ``stax``), and autograd's
``elementwise_grad`` and ``autograd.numpy.random``.

References are numpy, closed forms, numpy re-statements of the optimizers' update rules
and central finite differences (``xform.check_grads``); JAX where it is installed."""
from __future__ import annotations

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.example_libraries import optimizers, stax
from xform.flatten_util import ravel_pytree

RNG = np.random.default_rng(16)

# one compilation each, shared by the tests
_nonzero_jit = xform.jit(lambda m: xnp.nonzero(m, size=4, fill_value=-1))
_segment_jit = xform.jit(lambda d, s: xform.ops.segment_max(d, s, num_segments=4))
_allclose_jit = xform.jit(lambda a, b: xnp.allclose(a, b))


# -- ravel_pytree -------------------------------------------------------------------------


def test_ravel_pytree_round_trip_dtypes_and_order():
    tree = {"w": RNG.normal(size=(2, 3)), "b": np.arange(3.0), "s": 2.0}
    flat, unravel = ravel_pytree(tree)
    # leaves in tree_leaves order (dict keys sorted), raveled row-major
    ref = np.concatenate([tree["b"], [2.0], tree["w"].ravel()])
    np.testing.assert_array_equal(flat, ref)
    back = unravel(flat)
    assert set(back) == {"w", "b", "s"} and back["w"].shape == (2, 3) and np.shape(back["s"]) == ()
    np.testing.assert_array_equal(back["w"], tree["w"])
    # mixed dtypes: numpy promotion for the vector, each leaf's dtype back
    flat2, unravel2 = ravel_pytree((np.ones(2, np.float32), np.arange(2, dtype=np.int32)))
    assert flat2.dtype == np.float64
    b0, b1 = unravel2(flat2 + 0.25)
    assert b0.dtype == np.float32 and b1.dtype == np.int32
    np.testing.assert_array_equal(b1, [0, 1])  # 0.25 truncated back to int32
    with pytest.raises(TypeError, match="expected dtype float64"):
        unravel2(flat2.astype(np.float32))
    with pytest.raises(ValueError, match="length 4"):
        unravel2(np.zeros(5))
    empty, unravel3 = ravel_pytree({"a": None, "b": ()})
    assert empty.shape == (0,) and empty.dtype == np.float32  # JAX's convention
    assert unravel3(empty) == {"a": None, "b": ()}
    assert unravel == ravel_pytree(tree)[1]  # same layout, equal functions


def test_ravel_pytree_under_transformations():
    tree = {"a": np.array([0.3, -1.2]), "m": RNG.normal(size=(2, 2))}
    flat, unravel = ravel_pytree(tree)

    def loss(v):
        t = unravel(v)
        return xnp.sum(xnp.sin(t["a"]) ** 2) + xnp.sum(t["m"] ** 3)

    xform.check_grads(loss, (flat,), order=2)
    g = xform.grad(lambda t: xnp.sum(ravel_pytree(t)[0] ** 2))(tree)
    np.testing.assert_allclose(g["m"], 2 * tree["m"], rtol=1e-14)
    # vmap over stacked flat vectors
    batch = np.stack([flat, 2 * flat])
    np.testing.assert_allclose(xform.vmap(loss)(batch), [loss(flat), loss(2 * flat)], rtol=1e-13)


# -- segment reductions -------------------------------------------------------------------


def _segment_ref(ufunc, init, data, ids, n):
    out = np.full((n,) + data.shape[1:], init, dtype=data.dtype)
    keep = (ids >= 0) & (ids < n)
    ufunc.at(out, ids[keep], data[keep])
    return out


def test_segment_reductions_match_numpy():
    data = RNG.normal(size=(7, 2))
    ids = np.array([0, 3, 0, 2, 3, 3, 0])
    for name, uf, init in [("segment_sum", np.add, 0.0), ("segment_prod", np.multiply, 1.0),
                           ("segment_max", np.maximum, -np.inf),
                           ("segment_min", np.minimum, np.inf)]:
        fn = getattr(xform.ops, name)
        np.testing.assert_allclose(fn(data, ids, num_segments=5),
                                   _segment_ref(uf, init, data, ids, 5), rtol=1e-14)
        # num_segments defaults to max(ids) + 1 for concrete ids
        assert fn(data, ids).shape == (4, 2)
        # bucketed partial results combine to the same values
        np.testing.assert_allclose(fn(data, ids, 5, bucket_size=3),
                                   _segment_ref(uf, init, data, ids, 5), rtol=1e-14)
    # ids outside [0, num_segments) are dropped (negative ones are not wrapped)
    bad = np.array([0, -1, 5, 1, 1, 0, 9])
    np.testing.assert_allclose(xform.ops.segment_sum(data, bad, 2),
                               _segment_ref(np.add, 0.0, data, bad, 2), rtol=1e-14)
    # integer identities of max/min are the dtype's extremes
    i = xform.ops.segment_max(np.array([3, 1], np.int32), np.array([0, 0]), 2)
    assert i.dtype == np.int32 and i.tolist() == [3, np.iinfo(np.int32).min]
    with pytest.raises(ValueError, match="one id per row"):
        xform.ops.segment_sum(data, ids[:3], 2)
    with pytest.raises(ValueError, match="mode"):
        xform.ops.segment_sum(data, ids, 2, mode="wrap")


def test_segment_reductions_under_jit_vmap_grad():
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    ids = np.array([0, 0, 2, 2, 1])
    np.testing.assert_array_equal(_segment_jit(data, ids), [2.0, 5.0, 4.0, -np.inf])
    with pytest.raises(TypeError, match="num_segments must be given"):
        xform.jit(lambda d, i: xform.ops.segment_sum(d, i))(data, ids)
    v = xform.vmap(lambda d: xform.ops.segment_sum(d, ids, 3))(np.stack([data, -data]))
    np.testing.assert_array_equal(v, [[3.0, 5.0, 7.0], [-3.0, -5.0, -7.0]])
    # d/d data of sum(segment_sum(data)**2) = 2 * (segment total of the row's segment)
    g = xform.grad(lambda d: xnp.sum(xform.ops.segment_sum(d, ids, 3) ** 2))(data)
    np.testing.assert_allclose(g, 2 * np.array([3.0, 3.0, 7.0, 7.0, 5.0]), rtol=1e-14)
    xform.check_grads(lambda d: xform.ops.segment_max(d, ids, 3), (data,), order=1)


# -- data-dependent shapes with size= -----------------------------------------------------


def _padded(idx, size, fill):
    idx = np.asarray(idx)[:size]
    return np.concatenate([idx, np.full(size - len(idx), fill, idx.dtype)])


def test_nonzero_where_argwhere_with_size():
    m = np.array([[True, False, True], [False, True, True]])
    r, c = _nonzero_jit(m)  # traced: the same code runs eagerly below
    nr, nc = np.nonzero(m)
    np.testing.assert_array_equal(r, _padded(nr, 4, -1))
    np.testing.assert_array_equal(c, _padded(nc, 4, -1))
    np.testing.assert_array_equal(xnp.argwhere(m, size=3), np.argwhere(m)[:3])
    np.testing.assert_array_equal(xnp.flatnonzero(m, size=2), np.flatnonzero(m)[:2])
    # fewer nonzeros than size: padded (default fill 0, or one fill per dimension)
    x = np.array([0.0, 3.0, 0.0, 4.0])
    np.testing.assert_array_equal(xnp.nonzero(x, size=3)[0], [1, 3, 0])
    rr, cc = xnp.where(m[:1], size=3, fill_value=(9, 8))
    np.testing.assert_array_equal(rr, [0, 0, 9])
    np.testing.assert_array_equal(cc, [0, 2, 8])
    np.testing.assert_array_equal(xnp.argwhere(m[1], size=3, fill_value=-1), [[1], [2], [-1]])
    assert xnp.nonzero(x, size=0)[0].shape == (0,)
    v = xform.vmap(lambda row: xnp.nonzero(row, size=2)[0])(m)
    np.testing.assert_array_equal(v, [[0, 2], [1, 2]])
    # without size the shape depends on the data: JAX's error class, with the way out
    with pytest.raises(xform.errors.ConcretizationTypeError, match="size="):
        xform.jit(lambda a: xnp.nonzero(a))(x)
    with pytest.raises(ValueError, match="one-argument form"):
        xnp.where(m, 1.0, 0.0, size=2)
    with pytest.raises(ValueError, match="0d"):
        xnp.nonzero(np.float64(1.0), size=1)


# -- products: precision and preferred_element_type --------------------------------------


def test_products_accept_precision_and_preferred_element_type():
    a = RNG.normal(size=(3, 4)).astype(np.float32)
    b = RNG.normal(size=(4, 2)).astype(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    hi = lax.Precision.HIGHEST
    # precision changes nothing; a float64 accumulation gives float64 results
    assert xnp.dot(a, b, precision=hi).dtype == np.float32
    cases = [
        (xnp.dot(a, b, preferred_element_type=np.float64), a64 @ b64),
        (xnp.matmul(a, b, precision="highest", preferred_element_type=np.float64), a64 @ b64),
        (xnp.einsum("ij,jk->ik", a, b, precision=hi, preferred_element_type=np.float64),
         a64 @ b64),
        (xnp.tensordot(a, b, 1, preferred_element_type=np.float64), a64 @ b64),
        (xnp.inner(a, b.T, preferred_element_type=np.float64), a64 @ b64),
        (xnp.vdot(a, a, preferred_element_type=np.float64), np.vdot(a64, a64)),
        (xnp.vecdot(a, a, preferred_element_type=np.float64), (a64 * a64).sum(-1)),
        (lax.dot(a, b, hi, np.float64), a64 @ b64),  # lax's third argument is precision
        (lax.dot_general(a, b, (((1,), (0,)), ((), ())), None, np.float64), a64 @ b64),
    ]
    for got, ref in cases:
        assert np.asarray(got).dtype == np.float64
        # float32 inputs are exact in float64: only float64 rounding remains
        np.testing.assert_allclose(got, ref, rtol=1e-13)
    # integers accumulate in the wider type instead of wrapping around
    i8 = np.array([100, 100], np.int8)
    assert xnp.dot(i8, i8, preferred_element_type=np.int32) == 20000
    assert xnp.dot(np.float32(2.0), np.float32(3.0), preferred_element_type=np.float64).dtype == np.float64


# -- small API gaps -----------------------------------------------------------------------


def test_allclose_inside_jit_and_trapezoid():
    assert xnp.allclose(np.ones(2), np.ones(2) + 1e-12) is True
    assert bool(_allclose_jit(np.ones(2), np.ones(2) + 1e-12))
    assert not bool(_allclose_jit(np.ones(2), np.array([1.0, 1.1])))
    from xform.scipy.integrate import trapezoid

    y, x = np.array([0.0, 1.0, 4.0, 9.0]), np.array([0.0, 0.5, 2.0, 3.0])
    np.testing.assert_allclose(trapezoid(y, x), np.trapezoid(y, x), rtol=1e-15)
    np.testing.assert_allclose(trapezoid(y, dx=0.5), np.trapezoid(y, dx=0.5), rtol=1e-15)


def test_lax_result_structures_follow_jax():
    vals_idx = lax.top_k(np.array([3.0, 1.0, 4.0]), 2)
    assert isinstance(vals_idx, list)
    np.testing.assert_array_equal(vals_idx[0], [4.0, 3.0])
    srt = lax.sort([np.array([3, 1, 2]), np.array([30.0, 10.0, 20.0])])
    assert isinstance(srt, tuple)
    np.testing.assert_array_equal(srt[1], [10.0, 20.0, 30.0])
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    lu_ = lax.linalg.lu(a)
    assert isinstance(lu_, list) and len(lu_) == 3
    lu, _, perm = lu_
    low = np.tril(lu, -1) + np.eye(2)
    np.testing.assert_allclose(a[perm], low @ np.triu(lu), rtol=1e-15)


def test_approx_max_k_and_approx_min_k():
    x = RNG.normal(size=(3, 5))
    vals, idx = lax.approx_max_k(x, 2)
    ref_idx = np.argsort(-x, axis=1, kind="stable")[:, :2]
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(vals, np.take_along_axis(x, ref_idx, 1))
    assert idx.dtype == np.int32
    vals, idx = lax.approx_min_k(x, 2, reduction_dimension=0)
    ref_idx = np.argsort(x, axis=0, kind="stable")[:2]
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(vals, np.take_along_axis(x, ref_idx, 0))
    # differentiable in the values (a gather)
    g = xform.grad(lambda v: xnp.sum(lax.approx_max_k(v, 2)[0]))(x[0])
    np.testing.assert_array_equal(g, np.isin(np.arange(5), np.argsort(-x[0])[:2]).astype(float))


# -- autograd names -----------------------------------------------------------------------


def test_elementwise_grad_autograd_style():
    x = np.linspace(-3.0, 3.0, 7)
    tanh = lambda v: (1.0 - xnp.exp(-2.0 * v)) / (1.0 + xnp.exp(-2.0 * v))  # noqa: E731
    d1 = xform.elementwise_grad(tanh)(x)
    d2 = xform.elementwise_grad(xform.elementwise_grad(tanh))(x)
    t = np.tanh(x)
    np.testing.assert_allclose(d1, 1 - t ** 2, rtol=1e-12)
    np.testing.assert_allclose(d2, -2 * t * (1 - t ** 2), rtol=1e-10, atol=1e-14)
    # argnum, and the sum over outputs for functions that are not elementwise
    np.testing.assert_allclose(xform.elementwise_grad(lambda a, b: a * b ** 2, 1)(x, x),
                               2 * x * x, rtol=1e-15)
    np.testing.assert_allclose(xform.elementwise_grad(lambda v: xnp.outer(v, v))(x[:3]),
                               2 * x[:3].sum() * np.ones(3), rtol=1e-14)
    with pytest.raises(TypeError, match="elementwise_grad"):
        xform.elementwise_grad(lambda v: v * 2)(np.arange(3))


def test_numpy_random_is_numpy_random_for_autograd_code():
    npr = xnp.random
    assert npr.RandomState is np.random.RandomState
    np.testing.assert_array_equal(npr.RandomState(3).randn(4), np.random.RandomState(3).randn(4))


# -- example_libraries.optimizers ---------------------------------------------------------


def _np_steps(name, x, grads, lr):
    """The update rules re-stated in numpy (the papers' formulas, JAX's defaults)."""
    x = np.array(x, float)
    m, v, u = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    b1, b2, eps, mom, gamma = 0.9, 0.999, 1e-8, 0.9, 0.9
    for i, g in enumerate(grads):
        if name == "sgd":
            x = x - lr * g
        elif name == "momentum":
            v = mom * v + g
            x = x - lr * v
        elif name == "nesterov":
            v = mom * v + g
            x = x - lr * (mom * v + g)
        elif name == "adagrad":
            v = v + g ** 2
            m = (1 - mom) * g / np.sqrt(v) + mom * m
            x = x - lr * m
        elif name == "rmsprop":
            v = gamma * v + (1 - gamma) * g ** 2
            x = x - lr * g / np.sqrt(v + eps)
        elif name == "rmsprop_momentum":
            v = gamma * v + (1 - gamma) * g ** 2
            m = mom * m + lr * g / np.sqrt(v + eps)
            x = x - m
        elif name == "adam":
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            x = x - lr * (m / (1 - b1 ** (i + 1))) / (np.sqrt(v / (1 - b2 ** (i + 1))) + eps)
        elif name == "adamax":
            m = b1 * m + (1 - b1) * g
            u = np.maximum(b2 * u, np.abs(g))
            x = x - lr / (1 - b1 ** (i + 1)) * m / (u + eps)
    return x


def test_optimizers_match_their_update_rules():
    x0 = RNG.normal(size=(2, 3))
    grads = [RNG.normal(size=(2, 3)) for _ in range(3)]
    args = {"momentum": (0.9,), "nesterov": (0.9,)}
    for name in ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "rmsprop_momentum",
                 "adam", "adamax"]:
        init, update, get_params = getattr(optimizers, name)(0.1, *args.get(name, ()))
        state = init({"p": x0, "q": [x0[0]]})
        for i, g in enumerate(grads):
            state = update(i, {"p": g, "q": [g[0]]}, state)
        ref = _np_steps(name, x0, grads, 0.1)
        got = get_params(state)
        np.testing.assert_allclose(got["p"], ref, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(got["q"][0], ref[0], rtol=1e-12, err_msg=name)
    # SM3 on a vector is Adagrad with momentum (one accumulator per entry)
    init, update, get_params = optimizers.sm3(0.1)
    s = init(x0[0])
    for i, g in enumerate(grads):
        s = update(i, g[0], s)
    np.testing.assert_allclose(get_params(s), _np_steps("adagrad", x0[0], [g[0] for g in grads], 0.1),
                               rtol=1e-12)


def test_optimizer_state_is_a_pytree_and_utilities():
    init, update, get_params = optimizers.adam(optimizers.exponential_decay(0.1, 10, 0.5))
    params = {"w": np.ones(3), "b": np.zeros(1)}
    loss = lambda p: xnp.sum((p["w"] - 2.0) ** 2) + xnp.sum(p["b"] ** 2)  # noqa: E731

    def step(i, state):
        return update(i, xform.grad(loss)(get_params(state)), state)

    state = xform.lax.fori_loop(0, 5, step, init(params))  # traced state and step index
    eager = init(params)
    for i in range(5):
        eager = step(i, eager)
    np.testing.assert_allclose(get_params(state)["w"], get_params(eager)["w"], rtol=1e-13)
    assert isinstance(state, optimizers.OptimizerState)
    assert len(xform.tree_util.tree_leaves(state)) == 6  # (x, m, v) per parameter
    packed = optimizers.pack_optimizer_state(optimizers.unpack_optimizer_state(state))
    np.testing.assert_array_equal(get_params(packed)["w"], get_params(state)["w"])
    with pytest.raises(TypeError, match="did not match the parameter tree"):
        update(0, {"w": np.ones(3)}, state)
    # schedules, norms, clipping: closed forms
    assert float(optimizers.inverse_time_decay(1.0, 2, 1.0)(2)) == 0.5
    assert float(optimizers.polynomial_decay(1.0, 4, 0.2, power=2.0)(2)) == pytest.approx(0.4)
    s = optimizers.piecewise_constant([3, 6], [1.0, 0.1, 0.01])
    assert [float(s(i)) for i in (0, 3, 4, 7)] == [1.0, 1.0, 0.1, 0.01]
    g = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert float(optimizers.l2_norm(g)) == 5.0
    np.testing.assert_allclose(optimizers.clip_grads(g, 1.0)["b"], [0.8], rtol=1e-15)
    np.testing.assert_allclose(optimizers.clip_grads(g, 10.0)["b"], [4.0], rtol=1e-15)


# -- example_libraries.stax ---------------------------------------------------------------


def test_stax_layers_compute_what_they_say():
    key = xform.random.PRNGKey(0)
    init_fun, apply_fun = stax.serial(stax.Dense(4), stax.Tanh, stax.Dense(2), stax.LogSoftmax)
    out_shape, params = init_fun(key, (-1, 3))
    assert out_shape == (-1, 2) and params[1] == () and params[3] == ()
    (w1, b1), _, (w2, b2), _ = params
    # serial splits the key once per layer, Dense splits its key for W and b
    _, k0 = xform.random.split(key)
    kw, kb = xform.random.split(k0)
    np.testing.assert_array_equal(w1, xform.nn.initializers.glorot_normal()(kw, (3, 4)))
    np.testing.assert_array_equal(b1, xform.nn.initializers.normal()(kb, (4,)))
    x = RNG.normal(size=(5, 3))
    z = np.tanh(x @ w1 + b1) @ w2 + b2
    ref = z - np.log(np.exp(z).sum(-1, keepdims=True))
    np.testing.assert_allclose(apply_fun(params, x), ref, rtol=1e-12)
    # pooling, flatten, batch norm, branches
    img = RNG.normal(size=(2, 4, 4, 3))
    _, mp = stax.MaxPool((2, 2), strides=(2, 2))
    _, ap = stax.AvgPool((2, 2), strides=(2, 2))
    blocks = img.reshape(2, 2, 2, 2, 2, 3)
    np.testing.assert_array_equal(mp((), img), blocks.max(axis=(2, 4)))
    np.testing.assert_allclose(ap((), img), blocks.mean(axis=(2, 4)), rtol=1e-14)
    assert stax.MaxPool((2, 2), strides=(2, 2))[0](key, (2, 4, 4, 3))[0] == (2, 2, 2, 3)
    assert stax.Flatten[1]((), img).shape == (2, 48)
    bn_init, bn_apply = stax.BatchNorm(axis=(0, 1, 2))
    _, bn_params = bn_init(key, img.shape)
    ref = (img - img.mean((0, 1, 2))) / np.sqrt(img.var((0, 1, 2)) + 1e-5)
    np.testing.assert_allclose(bn_apply(bn_params, img), ref, rtol=1e-10)
    init_b, apply_b = stax.serial(stax.FanOut(2), stax.parallel(stax.Identity, stax.Relu),
                                  stax.FanInConcat())
    assert init_b(key, (5, 3))[0] == (5, 6)
    np.testing.assert_array_equal(apply_b(init_b(key, (5, 3))[1], x),
                                  np.concatenate([x, np.maximum(x, 0)], -1))
    c_init, c_apply = stax.Conv(2, (3, 3), padding="SAME")
    c_shape, (cw, cb) = c_init(key, (2, 4, 4, 3))
    assert c_shape == (2, 4, 4, 2) and cw.shape == (3, 3, 3, 2) and cb.shape == (1, 1, 1, 2)
    assert c_apply((cw, cb), img).shape == c_shape
    # Dropout: rate is the keep probability (JAX's stax), kept values divided by it
    d = stax.Dropout(0.25)[1]((), np.ones(4000), rng=key)
    assert set(np.unique(d)) == {0.0, 4.0} and abs(np.mean(d > 0) - 0.25) < 0.03
    with pytest.raises(ValueError, match="PRNG key"):
        stax.Dropout(0.5)[1]((), np.ones(2))


# -- against JAX, where installed -----------------------------------------------------------


def test_client_programs_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.example_libraries import optimizers as jopt
    from jax.example_libraries import stax as jstax

    x = RNG.normal(size=(6, 3))
    y = np.eye(2)[(x[:, 0] > 0).astype(int)]

    def train(lib, np_, opt, st, key):
        init_fun, apply_fun = st.serial(st.Dense(5), st.Relu, st.Dense(2), st.LogSoftmax)
        _, params = init_fun(key, (-1, 3))
        loss = lambda p: -np_.mean(np_.sum(apply_fun(p, x) * y, axis=1))  # noqa: E731
        opt_init, opt_update, get_params = opt.adam(1e-2)
        state = opt_init(params)
        for i in range(2):
            state = opt_update(i, lib.grad(loss)(get_params(state)), state)
        return get_params(state)

    ours = train(xform, xnp, optimizers, stax, xform.random.PRNGKey(1))
    theirs = train(jax, jnp, jopt, jstax, jax.random.PRNGKey(1))
    for a, b in zip(xform.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-10, atol=1e-13)
    m = np.array([[True, False, True], [False, False, True]])
    for a, b in zip(_nonzero_jit(m), jax.jit(lambda v: jnp.nonzero(v, size=4, fill_value=-1))(m)):
        np.testing.assert_array_equal(a, np.asarray(b))
    data, ids = RNG.normal(size=5), np.array([1, 0, 1, 3, -1])
    np.testing.assert_allclose(xform.ops.segment_min(data, ids, 4),
                               np.asarray(jax.ops.segment_min(data, ids, 4)), rtol=0)
    from jax.flatten_util import ravel_pytree as jravel

    tree = {"a": np.ones((2, 2)), "b": [np.arange(3.0), 1.5]}
    np.testing.assert_array_equal(ravel_pytree(tree)[0], np.asarray(jravel(tree)[0]))


def test_treedef_num_nodes_and_leaves():
    # counted by hand: every container, leaf and None is a node (JAX's num_nodes)
    from xform.tree_util import tree_structure
    cases = [((1, (2, 3)), 5, 3), (None, 1, 0), ([], 1, 0), ({"a": 1, "b": [2, None]}, 5, 2), (1.0, 1, 1)]
    for tree, nodes, leaves in cases:
        s = tree_structure(tree)
        assert (s.num_nodes, s.num_leaves) == (nodes, leaves), tree
