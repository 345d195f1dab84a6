"""xform.nn: values against numpy/scipy references (extreme inputs included),
derivatives against closed forms and finite differences, the conventions at kinks,
stability at large logits, transformations, and the initializers (JAX's bits)."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st

import xform
import xform.numpy as xnp
import xform.random as xr
from xform import nn

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "jax_random_reference.npz"))

X = np.array([-1000.0, -40.0, -3.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 1.0, 2.5, 6.0, 40.0, 1000.0])

SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# name -> (xform function, float64 reference on numpy/scipy, closed-form derivative)
ELEMENTWISE = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "relu6": (nn.relu6, lambda x: np.clip(x, 0, 6), lambda x: ((x > 0) & (x < 6)) * 1.0),
    "sigmoid": (nn.sigmoid, sps.expit, lambda x: sps.expit(x) * sps.expit(-x)),
    "softplus": (nn.softplus, lambda x: np.logaddexp(x, 0), sps.expit),
    "log_sigmoid": (nn.log_sigmoid, sps.log_expit, lambda x: sps.expit(-x)),
    "silu": (nn.silu, lambda x: x * sps.expit(x),
             lambda x: sps.expit(x) + x * sps.expit(x) * sps.expit(-x)),
    "elu": (nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
            lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))),
    "celu": (lambda x: nn.celu(x, 2.0), lambda x: np.maximum(x, 0) + 2 * np.expm1(np.minimum(x, 0) / 2),
             lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0) / 2))),
    "selu": (nn.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
             lambda x: SELU_S * np.where(x > 0, 1.0, SELU_A * np.exp(np.minimum(x, 0)))),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x),
                   lambda x: np.where(x >= 0, 1.0, 0.01)),
    "hard_tanh": (nn.hard_tanh, lambda x: np.clip(x, -1, 1), lambda x: (np.abs(x) <= 1) * 1.0),
    "gelu_exact": (lambda x: nn.gelu(x, approximate=False), lambda x: x * st.norm.cdf(x),
                   lambda x: st.norm.cdf(x) + x * st.norm.pdf(x)),
    "gelu_tanh": (nn.gelu, lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                            * (x + 0.044715 * x ** 3))), None),
}


def _rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return np.where(same, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_values_and_derivatives(name):
    fn, ref, dref = ELEMENTWISE[name]
    with np.errstate(over="ignore", invalid="ignore"):
        expected = ref(X)
    got = fn(X)
    assert got.dtype == np.float64
    assert np.max(_rel_err(got, expected)) < 1e-13, (got, expected)
    g = xform.vmap(xform.grad(fn))(X)
    assert np.isfinite(g).all()
    if dref is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            dexp = dref(X)
        np.testing.assert_allclose(g, dexp, rtol=1e-12, atol=1e-300)
    # float32 in, float32 out: within a few float32 ulps of the float64 reference, plus
    # the rounding of x itself carried through (the tanh form of gelu cancels in 1 + tanh
    # for x < -2, as JAX's does)
    x32 = X.astype(np.float32)
    y32 = fn(x32)
    assert y32.dtype == np.float32
    ok = np.abs(expected) < 3e38
    err = np.abs(y32.astype(np.float64) - expected)[ok]
    bound = (2e-6 * np.abs(expected) + 4 * 2.0 ** -24 * np.maximum(np.abs(X), 1e-30))[ok]
    assert (err <= bound).all(), (y32, expected)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid", "silu", "elu", "celu",
                                  "selu", "gelu_exact", "gelu_tanh"])
def test_elementwise_finite_differences(name):
    fn = ELEMENTWISE[name][0]
    for x in (-2.3, -0.4, 0.7, 3.1):
        xform.check_grads(fn, (x,), order=2, modes=("fwd", "rev"))


def test_kink_conventions():
    d = lambda f, x: float(xform.grad(f)(x))  # noqa: E731
    assert d(nn.relu, 0.0) == 0.0 and d(nn.relu, 1e-300) == 1.0
    assert d(nn.relu6, 0.0) == 0.0 and d(nn.relu6, 6.0) == 0.0 and d(nn.relu6, 5.9) == 1.0
    assert d(nn.leaky_relu, 0.0) == 1.0
    assert d(nn.hard_tanh, 1.0) == 1.0 and d(nn.hard_tanh, -1.0) == 1.0
    assert d(nn.hard_tanh, 1.0001) == 0.0
    assert d(nn.elu, 0.0) == 1.0 and d(lambda x: nn.elu(x, 0.5), 0.0) == 0.5
    assert d(nn.celu, 0.0) == 1.0
    assert d(nn.selu, 0.0) == pytest.approx(SELU_S * SELU_A, rel=1e-15)
    assert d(nn.softplus, 0.0) == 0.5 and d(nn.sigmoid, 0.0) == 0.25
    # the second derivative of relu is 0 everywhere (its derivative is a step)
    assert float(xform.grad(xform.grad(nn.relu))(0.5)) == 0.0


def test_gelu_exact_left_tail_relative_accuracy():
    x = np.array([-3.0, -8.0, -20.0, -37.0])
    np.testing.assert_allclose(nn.gelu(x, approximate=False), x * st.norm.cdf(x), rtol=1e-13)
    g = xform.vmap(xform.grad(lambda v: nn.gelu(v, approximate=False)))(x)
    np.testing.assert_allclose(g, st.norm.cdf(x) + x * st.norm.pdf(x), rtol=1e-11)


def test_glu():
    x = np.arange(12.0).reshape(3, 4) / 5
    np.testing.assert_allclose(nn.glu(x), x[:, :2] * sps.expit(x[:, 2:]), rtol=1e-15)
    np.testing.assert_allclose(nn.glu(x, axis=0 if False else -1), nn.glu(x.T, axis=0).T)
    with pytest.raises(ValueError, match="even"):
        nn.glu(np.ones((3, 3)))
    xform.check_grads(nn.glu, (x,), order=1, modes=("fwd", "rev"))


# -- softmax family ----------------------------------------------------------------------------

LOGITS = np.array([[1000.0, 999.0, -1000.0, 0.0], [-5.0, 0.0, 3.0, 3.0], [1e4, -1e4, 0.0, 1e4]])


def test_softmax_log_softmax_logsumexp_values():
    for axis in (-1, 0, (0, 1), None):
        np.testing.assert_allclose(nn.softmax(LOGITS, axis), sps.softmax(LOGITS, axis),
                                   rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(nn.log_softmax(LOGITS, axis), sps.log_softmax(LOGITS, axis),
                                   rtol=1e-14)
        np.testing.assert_allclose(nn.logsumexp(LOGITS, axis), sps.logsumexp(LOGITS, axis),
                                   rtol=1e-15)
    np.testing.assert_allclose(nn.logsumexp(LOGITS, 1, keepdims=True),
                               sps.logsumexp(LOGITS, 1, keepdims=True), rtol=1e-15)
    b = np.array([1.0, -2.0, 0.5, 1.0])
    out, sign = nn.logsumexp(LOGITS, 1, b=b, return_sign=True)
    ref, rsign = sps.logsumexp(LOGITS, 1, b=b, return_sign=True)
    np.testing.assert_allclose(out, ref, rtol=1e-14)
    np.testing.assert_array_equal(sign, rsign)
    assert np.isnan(nn.logsumexp(np.array([0.0, 1.0]), b=np.array([1.0, -2.0])))
    assert nn.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert nn.logsumexp(np.array([1.0, np.inf])) == np.inf


def test_softmax_where_masks():
    mask = np.array([[True, False, True, True], [False, False, True, True],
                     [True, True, True, False]])
    y = nn.softmax(LOGITS, where=mask)
    ref = sps.softmax(np.where(mask, LOGITS, -np.inf), axis=-1)
    np.testing.assert_allclose(y, np.where(mask, ref, 0), rtol=1e-14, atol=1e-300)
    ly = nn.log_softmax(LOGITS, where=mask)
    assert (ly[~mask] == -np.inf).all()
    lref = sps.log_softmax(np.where(mask, LOGITS, -np.inf), axis=-1)
    np.testing.assert_allclose(ly[mask], lref[mask], rtol=1e-13)
    np.testing.assert_allclose(nn.logsumexp(LOGITS, 1, where=mask),
                               sps.logsumexp(np.where(mask, LOGITS, -np.inf), 1), rtol=1e-15)
    t = np.random.default_rng(0).normal(size=LOGITS.shape)
    _, dy = xform.jvp(lambda x: nn.softmax(x, where=mask), (LOGITS,), (t,))
    tm = np.where(mask, t, 0)
    np.testing.assert_allclose(dy, y * (tm - (y * tm).sum(-1, keepdims=True)), atol=1e-15)


def test_softmax_gradients_stable_at_large_logits():
    t = np.random.default_rng(1).normal(size=LOGITS.shape)
    y = sps.softmax(LOGITS, -1)
    _, dy = xform.jvp(nn.softmax, (LOGITS,), (t,))
    np.testing.assert_allclose(dy, y * (t - (y * t).sum(-1, keepdims=True)), rtol=1e-12,
                               atol=1e-300)
    w = np.random.default_rng(2).normal(size=LOGITS.shape)
    g = xform.grad(lambda x: xnp.sum(w * nn.softmax(x)))(LOGITS)
    np.testing.assert_allclose(g, y * (w - (w * y).sum(-1, keepdims=True)), rtol=1e-12,
                               atol=1e-300)
    g = xform.grad(lambda x: xnp.sum(w * nn.log_softmax(x)))(LOGITS)
    np.testing.assert_allclose(g, w - y * w.sum(-1, keepdims=True), rtol=1e-12, atol=1e-12)
    g = xform.grad(lambda x: xnp.sum(nn.logsumexp(x, axis=1)))(LOGITS)
    np.testing.assert_allclose(g, y, rtol=1e-12, atol=1e-300)
    assert np.isfinite(xform.hessian(lambda x: nn.logsumexp(x))(LOGITS[0])).all()
    # moderate logits: finite differences, to second order
    z = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5]])
    for f in (nn.softmax, nn.log_softmax, lambda x: nn.logsumexp(x, axis=0)):
        xform.check_grads(f, (z,), order=2, modes=("fwd", "rev"))


def test_standardize_and_one_hot():
    x = np.random.default_rng(3).normal(3.0, 2.0, (4, 6))
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(nn.standardize(x), ref, rtol=1e-10)
    np.testing.assert_allclose(nn.standardize(x, algorithm="stable"), ref, rtol=1e-12)
    ref0 = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(nn.standardize(x, axis=0), ref0, rtol=1e-10)
    m = np.arange(24).reshape(4, 6) % 3 != 0
    got = nn.standardize(x, where=m, algorithm="stable")
    for r in range(4):
        v = x[r][m[r]]
        np.testing.assert_allclose(got[r], (x[r] - v.mean()) / np.sqrt(v.var() + 1e-5),
                                   rtol=1e-12)
    xform.check_grads(nn.standardize, (x,), order=1, modes=("fwd", "rev"))
    with pytest.raises(ValueError, match="algorithm"):
        nn.standardize(x, algorithm="exact")
    idx = np.array([[0, 3], [2, -1]])
    oh = nn.one_hot(idx, 3)
    assert oh.dtype == np.float64 and oh.shape == (2, 2, 3)
    np.testing.assert_array_equal(oh, (idx[..., None] == np.arange(3)).astype(float))
    oh0 = nn.one_hot(idx, 4, dtype=np.int32, axis=0)
    assert oh0.dtype == np.int32 and oh0.shape == (4, 2, 2)
    np.testing.assert_array_equal(oh0, np.moveaxis(np.eye(4, dtype=np.int32)[idx % 4]
                                                   * (idx >= 0)[..., None], -1, 0))


_jit_nn = xform.jit(lambda x: (nn.softmax(x), nn.gelu(x, approximate=False), nn.relu(x),
                               nn.logsumexp(x, axis=-1)))


def test_jit_and_vmap():
    for got, ref in zip(_jit_nn(LOGITS), (nn.softmax(LOGITS), nn.gelu(LOGITS, approximate=False),
                                          nn.relu(LOGITS), nn.logsumexp(LOGITS, axis=-1))):
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-300)
    v = xform.vmap(nn.log_softmax)(LOGITS)
    np.testing.assert_allclose(v, nn.log_softmax(LOGITS), rtol=1e-15)


# -- initializers -------------------------------------------------------------------------------

INITS = ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal")


@pytest.mark.parametrize("seed", [0, 1, 42, 2 ** 31 - 1])
def test_initializers_match_jax(seed):
    ini = nn.initializers
    for name in INITS:
        w = getattr(ini, name)()(xr.key(seed), (6, 5), np.float32)
        ref = REF[f"init_{name}/{seed}"]
        assert w.dtype == ref.dtype and np.array_equal(w, ref), name
    np.testing.assert_array_equal(ini.normal(0.5)(xr.key(seed), (6, 5), np.float32),
                                  REF[f"init_normal/{seed}"])


@pytest.mark.parametrize("name,scale,mode", [("glorot_normal", 1, "avg"), ("glorot_uniform", 1, "avg"),
                                             ("he_normal", 2, "in"), ("he_uniform", 2, "in"),
                                             ("lecun_normal", 1, "in"), ("lecun_uniform", 1, "in")])
def test_initializer_variances(name, scale, mode):
    shape = (3, 3, 64, 128)  # a conv kernel: receptive field 9
    fan_in, fan_out = 9 * 64, 9 * 128
    n = {"in": fan_in, "avg": (fan_in + fan_out) / 2}[mode]
    w = getattr(nn.initializers, name)()(xr.key(1), shape)
    assert w.shape == shape and w.dtype == np.float64
    assert abs(w.var() / (scale / n) - 1) < 0.03
    if "uniform" in name:
        bound = math.sqrt(3 * scale / n)
        assert w.max() < bound and w.min() >= -bound
    else:  # truncated at two standard deviations of the untruncated normal
        assert np.abs(w).max() < 2 * math.sqrt(scale / n) / 0.87962566103423978


def test_other_initializers():
    ini = nn.initializers
    k = xr.key(5)
    np.testing.assert_array_equal(ini.zeros(k, (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(ini.ones(k, (2,), np.float32), np.ones(2, np.float32))
    np.testing.assert_array_equal(ini.constant(3.5)(k, (2,)), [3.5, 3.5])
    w = ini.variance_scaling(1.0, "fan_out", "normal", in_axis=0, out_axis=1)(k, (50, 400))
    assert abs(w.var() * 400 - 1) < 0.05  # 5 standard errors of a variance of 20000 values
    c = ini.variance_scaling(1.0, "fan_in", "uniform")(k, (200, 300), np.complex128)
    assert c.dtype == np.complex128 and abs(np.mean(np.abs(c) ** 2) * 200 - 1) < 0.02
    c = ini.variance_scaling(1.0, "fan_in", "truncated_normal")(k, (200, 300), np.complex64)
    assert abs(np.mean(np.abs(c) ** 2) * 200 - 1) < 0.02
    q = ini.orthogonal()(k, (4, 6))
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-12)
    q = ini.orthogonal(2.0, column_axis=0)(k, (5, 2, 3))
    flat = np.moveaxis(q, 0, -1).reshape(6, 5)
    np.testing.assert_allclose(flat.T @ flat, 4 * np.eye(5), atol=1e-12)
    with pytest.raises(ValueError, match="2-dimensional|dimensions"):
        ini.glorot_normal()(k, (5,))
    with pytest.raises(ValueError, match="invalid mode"):
        ini.variance_scaling(1.0, "fan", "normal")
    # initializers run under jit with traced keys
    jw = xform.jit(lambda kk: ini.he_normal()(kk, (3, 4), np.float32))(xr.key(7))
    np.testing.assert_array_equal(jw, ini.he_normal()(xr.key(7), (3, 4), np.float32))
