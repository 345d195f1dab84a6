"""xform.scipy.special against scipy.special: values (eager and jit) on wide ranges with
extremes, derivatives against finite differences (check_grads, to second order) and
closed forms, vmap."""
import numpy as np
import pytest
import scipy.special as sps

import xform
import xform.numpy as xnp
from xform import lax
from xform.scipy import special as xs

# log(0) = -inf and log of negatives are expected results here; numpy warns about them
pytestmark = [pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]

# wide ranges, poles, signed zeros, infinities and nan
X_REAL = np.array([-np.inf, -170.5, -20.25, -3.5, -2.0, -1.5, -1.0, -0.5, -1e-300, -0.0, 0.0, 1e-300,
                   1e-8, 0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 9.99, 10.0, 25.0, 171.0, 1e5, 1e300, np.inf,
                   np.nan])
X_NORMAL = np.array([-np.inf, -1e10, -1e4, -40.0, -38.0, -25.0, -20.0, -19.99, -10.0, -5.0, -1.0,
                     -1e-10, 0.0, 0.5, 3.0, 5.9, 6.1, 8.0, 20.0, 40.0, np.inf, np.nan])
P01 = np.array([0.0, 5e-324, 1e-300, 1e-100, 1e-20, 1e-5, 0.01, 0.1, 0.3, 0.5, 0.5 + 1e-12, 0.7,
                0.9, 0.99, 1 - 1e-10, 1 - 2 ** -53, 1.0, -0.1, 1.1, np.nan])

UNARY = {
    "gammaln": (xs.gammaln, sps.gammaln, X_REAL),
    "digamma": (xs.digamma, sps.digamma, X_REAL),
    "gamma": (xs.gamma, sps.gamma, X_REAL),
    "erf": (xs.erf, sps.erf, X_NORMAL),
    "erfc": (xs.erfc, sps.erfc, X_NORMAL),
    "ndtr": (xs.ndtr, sps.ndtr, X_NORMAL),
    "log_ndtr": (xs.log_ndtr, sps.log_ndtr, X_NORMAL),
    "expit": (xs.expit, sps.expit, X_NORMAL),
    "ndtri": (xs.ndtri, sps.ndtri, P01),
    "erfinv": (xs.erfinv, sps.erfinv, 2 * P01 - 1),
    "logit": (xs.logit, sps.logit, P01),
    "entr": (xs.entr, sps.entr, X_REAL),
}


def _rel_close(actual, ref, rtol, atol=0.0):
    actual = np.asarray(actual)
    ref = np.asarray(ref)
    assert actual.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(ref))
    inf = np.isinf(ref)
    np.testing.assert_array_equal(actual[inf], ref[inf])
    ok = ~np.isnan(ref) & ~inf
    np.testing.assert_allclose(actual[ok], ref[ok], rtol=rtol, atol=atol)


# the jit-compiled versions share one kernel per input set (each compile costs seconds)
_JIT_REAL = xform.jit(lambda x: (xs.gammaln(x), xs.digamma(x), xs.gamma(x), xs.entr(x)))
_JIT_NORMAL = xform.jit(lambda x: (xs.erf(x), xs.erfc(x), xs.ndtr(x), xs.log_ndtr(x), xs.expit(x)))
_JIT_P = xform.jit(lambda p: (xs.ndtri(p), xs.erfinv(2 * p - 1), xs.logit(p)))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_eager_match_scipy(name):
    f, ref, x = UNARY[name]
    with np.errstate(all="ignore"):
        expected = ref(x)
    # erfc(|x| / sqrt 2) has condition number ~x^2: the rounding of x / sqrt 2 alone
    # moves it by ~1e-13 at |x| = 25 (scipy and libm round differently)
    _rel_close(f(x), expected, rtol=1e-12 if name in ("ndtr", "erfc", "log_ndtr") else 1e-13)


def test_unary_values_jit_match_scipy():
    with np.errstate(all="ignore"):
        for fn_out, ref in zip(_JIT_REAL(X_REAL), (sps.gammaln, sps.digamma, sps.gamma, sps.entr)):
            _rel_close(fn_out, ref(X_REAL), rtol=1e-12, atol=1e-300)
        for fn_out, ref in zip(_JIT_NORMAL(X_NORMAL),
                               (sps.erf, sps.erfc, sps.ndtr, sps.log_ndtr, sps.expit)):
            # scipy's erfc flushes to 0 below ~1e-308; libm's returns subnormals
            _rel_close(fn_out, ref(X_NORMAL), rtol=1e-12, atol=1e-300)
        p_refs = (sps.ndtri, lambda p: sps.erfinv(2 * p - 1), sps.logit)
        outs = _JIT_P(P01)
        # ndtri at the smallest subnormal: phi(x) is subnormal too, so either answer is
        # only good to ~1e-5 (scipy: -38.46741, here -38.46774)
        np.testing.assert_allclose(outs[0][1], sps.ndtri(P01[1]), rtol=1e-4)
        sub = P01 == 5e-324
        outs = [np.where(sub, 0.0, o) for o in outs]
        for fn_out, ref in zip(outs, [lambda p, r=r: np.where(sub, 0.0, r(p)) for r in p_refs]):
            _rel_close(fn_out, ref(P01), rtol=1e-14)


def test_jit_digamma_dense_negative_and_large():
    x = np.concatenate([np.linspace(-30.9, 30.1, 613), np.geomspace(1e-6, 1e12, 50)])
    out = _JIT_REAL(x)
    np.testing.assert_allclose(out[0], sps.gammaln(x), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out[1], sps.digamma(x), rtol=1e-11, atol=1e-13)


def test_float32_keeps_dtype():
    x = np.array([0.5, 2.0, 7.0], np.float32)
    for f in (xs.gammaln, xs.digamma, xs.gamma, xs.erfc, xs.ndtr, xs.log_ndtr, xs.expit):
        assert f(x).dtype == np.float32
    assert xs.ndtri(np.array([0.3], np.float32)).dtype == np.float32
    np.testing.assert_allclose(xs.digamma(x), sps.digamma(x.astype(np.float64)), rtol=1e-6)


_POLY_N = np.array([0, 1, 1, 1, 2, 2, 3, 4, 5, 1, 2, 3])
_POLY_X = np.array([0.3, 1e-3, 7.5, 1e6, 0.5, -1.5, 2.0, 30.0, 0.9, -20.25, -0.5, 0.0])
_JIT_POLY = xform.jit(xs.polygamma)


def test_polygamma_matches_scipy_eager_and_jit():
    ref = sps.polygamma(_POLY_N, _POLY_X)
    _rel_close(xs.polygamma(_POLY_N, _POLY_X), ref, rtol=1e-13)
    _rel_close(_JIT_POLY(_POLY_N, _POLY_X), ref, rtol=1e-11)


def test_polygamma_rejects_float_order():
    with pytest.raises(ValueError, match="polygamma: n must be an integer"):
        xs.polygamma(np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="polygamma: n must be an integer"):
        xs.polygamma(1.0, np.array([1.0]))


@pytest.mark.parametrize("name,x", [
    ("gammaln", np.array([0.3, 2.5, -1.5, 40.0])),
    ("digamma", np.array([0.3, 2.5, -1.5, 40.0])),
    ("gamma", np.array([0.3, 2.5, -1.5, 4.0])),
    ("erf", np.array([-1.2, 0.0, 0.7])),
    ("erfc", np.array([-1.2, 0.0, 0.7, 3.0])),
    ("ndtr", np.array([-3.0, 0.0, 0.7])),
    ("log_ndtr", np.array([-30.0, -19.0, -3.0, 0.0, 7.0])),
    ("expit", np.array([-5.0, 0.0, 2.0])),
    ("ndtri", np.array([1e-3, 0.3, 0.5, 0.8])),
    ("erfinv", np.array([-0.9, 0.0, 0.4])),
    ("logit", np.array([0.01, 0.5, 0.8])),
    ("entr", np.array([0.01, 0.5, 2.0])),
])
def test_unary_grads_finite_differences(name, x):
    f = UNARY[name][0]
    eps = 1e-7 if name in ("ndtri", "logit") else None  # keep steps inside (0, 1)
    xform.check_grads(f, (x,), order=2, eps=eps, rtol=1e-4)


def test_closed_form_derivatives():
    x = np.array([0.2, 1.0, 3.5, 50.0, -2.5])
    g = xform.vmap(xform.grad(xs.gammaln))(x)
    np.testing.assert_allclose(g, sps.digamma(x), rtol=1e-12)
    g2 = xform.vmap(xform.grad(xform.grad(xs.gammaln)))(x)
    np.testing.assert_allclose(g2, sps.polygamma(1, x), rtol=1e-12)
    g3 = xform.vmap(xform.grad(lambda t: xs.polygamma(2, t)))(x)
    np.testing.assert_allclose(g3, sps.polygamma(3, x), rtol=1e-12)
    p = np.array([1e-200, 1e-10, 0.3, 0.999])
    gp = xform.vmap(xform.grad(xs.ndtri))(p)
    np.testing.assert_allclose(gp, 1.0 / np.exp(-0.5 * sps.ndtri(p) ** 2 - 0.5 * np.log(2 * np.pi)),
                               rtol=1e-10)
    y = np.array([-0.99, 0.0, 0.5])
    np.testing.assert_allclose(xform.vmap(xform.grad(xs.erfinv))(y),
                               np.sqrt(np.pi) / 2 * np.exp(sps.erfinv(y) ** 2), rtol=1e-10)


def test_log_ndtr_gradient_in_far_tails():
    # d log_ndtr = phi(x) / Phi(x): ~ -x in the lower tail, ~ phi(x) in the upper one
    x = np.array([-1e8, -1e4, -100.0, -30.0, -21.0, -19.0, -5.0, 0.0, 5.0, 10.0, 30.0])
    g = xform.vmap(xform.grad(xs.log_ndtr))(x)
    mid = np.abs(x) <= 30
    ref_mid = np.exp(-0.5 * x[mid] ** 2 - 0.5 * np.log(2 * np.pi) - sps.log_ndtr(x[mid]))
    np.testing.assert_allclose(g[mid], ref_mid, rtol=1e-12)
    # asymptotic: phi/Phi = -x / (1 - 1/x^2 + 3/x^4 - ...)
    far = x < -30
    z = 1 / x[far] ** 2
    np.testing.assert_allclose(g[far], -x[far] / (1 - z + 3 * z ** 2 - 15 * z ** 3 + 105 * z ** 4),
                               rtol=1e-13)
    assert np.all(np.isfinite(g))
    # second derivative, through jit: d2 = -s (x + s) with s = phi/Phi; that cancels in
    # the far tail, where d2 = x^2 (S - 1) / S^2 with S the series above
    d2 = xform.jit(xform.vmap(xform.grad(xform.grad(xs.log_ndtr))))(x)
    np.testing.assert_allclose(d2[mid], -g[mid] * (x[mid] + g[mid]), rtol=1e-6, atol=1e-300)
    s_1 = -z + 3 * z ** 2 - 15 * z ** 3 + 105 * z ** 4
    np.testing.assert_allclose(d2[far], x[far] ** 2 * s_1 / (1 + s_1) ** 2, rtol=1e-6)


def test_xlogy_xlog1py_values_and_zero_gradients():
    x = np.array([0.0, 0.0, 0.0, 2.0, -1.5, 0.0, 3.0])
    y = np.array([0.0, 2.0, np.nan, 0.5, 7.0, -1.0, np.inf])
    with np.errstate(all="ignore"):
        _rel_close(xs.xlogy(x, y), sps.xlogy(x, y), rtol=1e-15)
        _rel_close(xs.xlog1py(x, y - 1), sps.xlog1py(x, y - 1), rtol=1e-15)
    gx, gy = xform.grad(xs.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert gy == 0.0 and gx == -np.inf  # d/dx x log y = log y; d/dy = x / y = 0 at x = 0
    gx, gy = xform.grad(xs.xlogy, argnums=(0, 1))(0.0, 2.0)
    assert gx == np.log(2.0) and gy == 0.0
    gx, gy = xform.grad(xs.xlog1py, argnums=(0, 1))(0.0, -1.0)
    assert gy == 0.0 and gx == -np.inf
    xform.check_grads(xs.xlogy, (np.array([0.5, 2.0]), np.array([0.3, 4.0])), order=2)
    xform.check_grads(xs.xlog1py, (np.array([0.5, 2.0]), np.array([-0.3, 4.0])), order=2)
    # entropy: grad of sum(entr(p)) is -(log p + 1), -inf... +inf at p = 0
    g = xform.grad(lambda p: xnp.sum(xs.entr(p)))(np.array([0.0, 0.25, 1.0]))
    np.testing.assert_allclose(g, [np.inf, -(np.log(0.25) + 1), -1.0])


def test_betaln_matches_scipy_and_grads():
    a = np.array([0.5, 1.0, 2.0, 10.0, 30.0])
    b = np.array([0.5, 3.0, 0.1, 10.0, 2.0])
    np.testing.assert_allclose(xs.betaln(a, b), sps.betaln(a, b), rtol=1e-12)
    xform.check_grads(xs.betaln, (a, b), order=2)
    ga, gb = xform.grad(lambda s, t: xnp.sum(xs.betaln(s, t)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, sps.digamma(a) - sps.digamma(a + b), rtol=1e-12)
    np.testing.assert_allclose(gb, sps.digamma(b) - sps.digamma(a + b), rtol=1e-12)


_A = np.array([[0.5, -1.0, 3.0, 2.0], [1000.0, 1000.0, -np.inf, 999.0],
               [-np.inf, -np.inf, -np.inf, -np.inf], [-750.0, -760.0, -755.0, -800.0]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_matches_scipy(axis, keepdims):
    with np.errstate(all="ignore"):
        ref = sps.logsumexp(_A, axis=axis, keepdims=keepdims)
    _rel_close(xs.logsumexp(_A, axis=axis, keepdims=keepdims), ref, rtol=1e-14)


def test_logsumexp_b_and_return_sign():
    b = np.array([[1.0, -2.0, 0.5, 0.0], [1.0, 1.0, 0.0, -3.0], [1.0, 1.0, 1.0, 1.0],
                  [2.0, 0.0, 1.0, -1.0]])
    with np.errstate(all="ignore"):
        ref, sref = sps.logsumexp(_A, axis=1, b=b, return_sign=True)
        nosign = sps.logsumexp(_A, axis=1, b=b)
    out, sign = xs.logsumexp(_A, axis=1, b=b, return_sign=True)
    _rel_close(out, ref, rtol=1e-14)
    np.testing.assert_array_equal(sign, sref)
    _rel_close(xs.logsumexp(_A, axis=1, b=b), nosign, rtol=1e-14)  # nan where the sum < 0
    # an infinite entry weighted by b = 0 drops out
    assert xs.logsumexp(np.array([np.inf, 0.0]), b=np.array([0.0, 1.0])) == 0.0


_JIT_LSE_GRAD = xform.jit(xform.grad(lambda a: xs.logsumexp(a, axis=1).sum()))


def test_logsumexp_gradient_is_softmax_and_finite_at_minus_inf():
    a = np.array([[0.5, -1.0, 3.0], [1000.0, -np.inf, 999.0], [-745.0, -750.0, -np.inf]])
    soft = np.exp(a - sps.logsumexp(a, axis=1, keepdims=True))
    g = xform.grad(lambda t: xs.logsumexp(t, axis=1).sum())(a)
    np.testing.assert_allclose(g, soft, rtol=1e-13)
    np.testing.assert_allclose(_JIT_LSE_GRAD(a), soft, rtol=1e-13)
    xform.check_grads(lambda t: xs.logsumexp(t, axis=0, b=np.array([1.0, 2.0, 0.5])),
                      (np.array([0.3, -0.2, 1.5]),), order=2)


def test_logsumexp_vmap_matches_axis():
    a = np.random.default_rng(0).normal(size=(5, 7)) * 30
    np.testing.assert_allclose(xform.vmap(xs.logsumexp)(a), sps.logsumexp(a, axis=1), rtol=1e-14)
    np.testing.assert_allclose(xform.vmap(xs.logsumexp, in_axes=1)(a), sps.logsumexp(a, axis=0),
                               rtol=1e-14)


def test_lax_primitives_vmap_and_jvp():
    x = np.array([[0.3, 1.5], [2.5, 7.0]])
    np.testing.assert_allclose(xform.vmap(lax.digamma)(x), sps.digamma(x), rtol=1e-14)
    _, t = xform.jvp(lax.lgamma, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(t, sps.digamma(x), rtol=1e-14)
    _, t = xform.jvp(lambda v: lax.polygamma(np.float64(1.0), v), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(t, sps.polygamma(2, x), rtol=1e-13)


def test_bad_input_errors():
    with pytest.raises(TypeError, match="xform.scipy.special.gammaln: complex"):
        xs.gammaln(np.array([1j]))
    with pytest.raises(ValueError, match="series_order"):
        xs.log_ndtr(np.array([1.0]), series_order=40)
    with pytest.raises(TypeError, match="xform.scipy.special.xlogy: complex"):
        xs.xlogy(1j, 2.0)
    with pytest.raises(np.exceptions.AxisError, match="logsumexp: axis 2 is out of bounds .* rank 1"):
        xs.logsumexp(np.ones(3), axis=2)
    with pytest.raises(ValueError, match=r"logsumexp: a of shape \(3,\) and b of shape \(4,\)"):
        xs.logsumexp(np.ones(3), b=np.ones(4))


def test_jit_ndtri_dense():
    p = np.concatenate([np.linspace(0.001, 0.999, 999), np.geomspace(1e-300, 0.2, 200),
                        1 - np.geomspace(1e-16, 0.2, 100), 0.5 + np.geomspace(1e-15, 0.2, 100)])
    out = _JIT_P(p)[0]
    np.testing.assert_allclose(out, sps.ndtri(p), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(xs.ndtr(out), p, rtol=1e-12)


# the inverse error function over [-1, 1], densest where it is hardest: next to +-1
# (1 - |y| down to 2**-53, the closest a double gets) and near 0 (subnormals)
_ERFINV_Y = np.concatenate([np.linspace(-1.0, 1.0, 4001), 1 - np.geomspace(2 ** -53, 0.5, 400),
                            -(1 - np.geomspace(2 ** -53, 0.5, 400)), np.geomspace(5e-324, 1e-3, 60),
                            [1 - 1e-15, -1 + 1e-15, 1 - 1e-12, 0.5, -0.5, 0.0, -0.0]])
_JIT_ERFINV = xform.jit(lambda y: (xs.erfinv(y), lax.erf_inv(y)))


def _ulps(actual, ref):
    ok = np.isfinite(ref) & (ref != 0)
    np.testing.assert_array_equal(np.asarray(actual)[~ok], ref[~ok])  # +-inf at +-1, +-0
    return np.abs(np.asarray(actual, np.float64)[ok] - ref[ok]) / np.spacing(np.abs(ref[ok]))


def test_erfinv_accurate_over_the_whole_interval():
    ref = sps.erfinv(_ERFINV_Y)
    # eagerly: scipy's own value; compiled: Giles' approximation and a Newton step (a
    # few ulps; the previous single-precision start was 8% off at 1 - 2**-53)
    assert _ulps(xs.erfinv(_ERFINV_Y), ref).max() <= 1
    for out in _JIT_ERFINV(_ERFINV_Y):
        assert _ulps(out, ref).max() <= 4
    # float32: the float64 value rounded (within an ulp of float32 either way)
    y32 = _ERFINV_Y.astype(np.float32)
    ref32 = sps.erfinv(y32.astype(np.float64)).astype(np.float32)
    for out in (xs.erfinv(y32), _JIT_ERFINV(y32)[0]):
        assert out.dtype == np.float32
        assert _ulps(out, ref32.astype(np.float64)).max() <= 1
    with np.errstate(invalid="ignore"):
        bad = np.array([1.0 + 1e-15, -2.0, np.inf, np.nan])
        assert np.isnan(xs.erfinv(bad)).all() and np.isnan(_JIT_ERFINV(bad)[0]).all()
    # the derivative sqrt(pi)/2 exp(erfinv(y)^2) next to 1, where it is ~1e15
    y = np.array([1 - 2 ** -52, -1 + 1e-15, 1 - 1e-9, 0.999])
    np.testing.assert_allclose(xform.vmap(xform.grad(xs.erfinv))(y),
                               np.sqrt(np.pi) / 2 * np.exp(sps.erfinv(y) ** 2), rtol=1e-13)


def test_ndtri_next_to_0_and_1():
    p = np.concatenate([1 - np.geomspace(2 ** -53, 0.5, 200), np.geomspace(1e-300, 0.5, 200)])
    ref = sps.ndtri(p)
    np.testing.assert_allclose(xs.ndtri(p), ref, rtol=1e-15)
    np.testing.assert_allclose(_JIT_P(p)[0], ref, rtol=2e-15)


_IG_A = np.array([0.0, 0.5, 1.0, 2.0, 3.5, 10.0, 100.0, 1000.0, 0.1, 5.0, 1e4, 2.0, -1.0, 2.0])
_IG_X = np.array([1.0, 0.1, 1.0, 5.0, 3.5, 30.0, 90.0, 1010.0, 20.0, 0.0, 1e4 + 50, np.inf, 1.0, -1.0])
_JIT_IG = xform.jit(lambda a, x: (xs.gammainc(a, x), xs.gammaincc(a, x)))


def test_incomplete_gamma_matches_scipy():
    p, q = sps.gammainc(_IG_A, _IG_X), sps.gammaincc(_IG_A, _IG_X)
    _rel_close(xs.gammainc(_IG_A, _IG_X), p, rtol=1e-14)
    _rel_close(xs.gammaincc(_IG_A, _IG_X), q, rtol=1e-14)
    jp, jq = _JIT_IG(_IG_A, _IG_X)
    # the kernels' series/continued fraction: exp(-x + a log x - lgamma(a)) rounds its
    # argument (~a) to 1e-16 relative, hence ~1e-11 at a = 1e4
    _rel_close(jp, p, rtol=1e-10, atol=1e-300)
    _rel_close(jq, q, rtol=1e-10, atol=1e-300)


def test_incomplete_gamma_grads():
    a, x = np.array([0.5, 1.0, 2.0, 7.5]), np.array([0.3, 2.0, 1.5, 9.0])
    xform.check_grads(lambda t: xs.gammainc(a, t), (x,), order=2)
    xform.check_grads(lambda t: xs.gammaincc(a, t), (x,), order=2)
    g = xform.vmap(xform.grad(lambda s, t: xs.gammainc(s, t), argnums=1))(a, x)
    np.testing.assert_allclose(g, np.exp(-x + (a - 1) * np.log(x) - sps.gammaln(a)), rtol=1e-13)
    with pytest.raises(NotImplementedError, match="igamma: the derivative with respect to"):
        xform.grad(lambda s: xs.gammainc(s, 1.0))(2.0)


_JIT_BETAINC = xform.jit(xs.betainc)


def test_betainc_matches_scipy_and_grads():
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(0.1, 6, 40), [0.5, 50.0, 200.0, 2.0, 2.0, 2.0]])
    b = np.concatenate([rng.uniform(0.1, 6, 40), [0.5, 3.0, 180.0, 3.0, 3.0, 3.0]])
    x = np.concatenate([rng.uniform(0, 1, 40), [0.5, 0.9, 0.5, 0.0, 1.0, 1.5]])
    ref = sps.betainc(a, b, x)
    _rel_close(xs.betainc(a, b, x), ref, rtol=1e-14)
    _rel_close(_JIT_BETAINC(a, b, x), ref, rtol=1e-11, atol=1e-300)
    t = np.array([0.1, 0.4, 0.95])
    xform.check_grads(lambda v: xs.betainc(2.5, 0.7, v), (t,), order=2)
    g = xform.vmap(xform.grad(lambda v: xs.betainc(2.0, 3.0, v)))(t)
    np.testing.assert_allclose(g, t * (1 - t) ** 2 / sps.beta(2.0, 3.0), rtol=1e-13)
    with pytest.raises(NotImplementedError, match="betainc: the derivative with respect to the shape"):
        xform.grad(lambda s: xs.betainc(s, 3.0, 0.4))(2.0)
