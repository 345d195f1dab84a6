"""xform.scipy.stats against scipy.stats: values on grids including tails and points
outside the support, gradients against finite differences (check_grads, to second
order) and closed forms, one jit and vmap check."""
import numpy as np
import pytest
import scipy.stats as ss

import xform
import xform.numpy as xnp
from xform.scipy import stats as xst

pytestmark = [pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]

X = np.array([-50.0, -7.5, -2.0, -0.3, 0.0, 0.4, 1.0, 2.5, 9.0, 45.0])
Q = np.array([0.0, 1e-250, 1e-12, 0.02, 0.3, 0.5, 0.77, 0.999, 1.0])
X01 = np.array([-0.5, 0.0, 1e-9, 0.2, 0.5, 0.93, 1.0, 1.5])
XPOS = np.array([-1.0, 0.0, 1e-8, 0.3, 1.0, 4.0, 30.0])

# (xform function, scipy function, args, rtol)
CASES = {
    "norm.logpdf": (xst.norm.logpdf, ss.norm.logpdf, (X, 0.5, 2.0)),
    "norm.pdf": (xst.norm.pdf, ss.norm.pdf, (X, -1.0, 0.7)),
    "norm.cdf": (xst.norm.cdf, ss.norm.cdf, (X, 0.5, 2.0)),
    "norm.logcdf": (xst.norm.logcdf, ss.norm.logcdf, (X, 0.0, 1.0)),
    "norm.sf": (xst.norm.sf, ss.norm.sf, (X, 0.5, 2.0)),
    "norm.logsf": (xst.norm.logsf, ss.norm.logsf, (X, 0.0, 1.0)),
    "norm.ppf": (xst.norm.ppf, ss.norm.ppf, (Q, 1.0, 3.0)),
    "norm.isf": (xst.norm.isf, ss.norm.isf, (Q, 1.0, 3.0)),
    "t.logpdf": (xst.t.logpdf, ss.t.logpdf, (X, 2.5, 0.5, 1.5)),
    "t.pdf": (xst.t.pdf, ss.t.pdf, (X, 30.0)),
    "t.cdf": (xst.t.cdf, ss.t.cdf, (X, 2.5, 0.5, 1.5)),
    "t.cdf-small": (xst.t.cdf, ss.t.cdf, (np.array([-1e-8, 0.0, 1e-9, 0.3, -0.7]), 7.0)),
    "beta.cdf": (xst.beta.cdf, ss.beta.cdf, (X01, 2.5, 0.7)),
    "beta.logpdf": (xst.beta.logpdf, ss.beta.logpdf, (X01, 2.5, 0.7)),
    "beta.pdf": (xst.beta.pdf, ss.beta.pdf, (X01 * 3 + 1, 1.0, 3.0, 1.0, 3.0)),
    "gamma.logpdf": (xst.gamma.logpdf, ss.gamma.logpdf, (XPOS, 2.5, 0.0, 2.0)),
    "gamma.pdf": (xst.gamma.pdf, ss.gamma.pdf, (XPOS, 0.5)),
    "expon.logpdf": (xst.expon.logpdf, ss.expon.logpdf, (XPOS, 0.5, 2.0)),
    "expon.pdf": (xst.expon.pdf, ss.expon.pdf, (XPOS,)),
    "expon.cdf": (xst.expon.cdf, ss.expon.cdf, (XPOS, 0.0, 3.0)),
    "expon.logcdf": (xst.expon.logcdf, ss.expon.logcdf, (XPOS,)),
    "expon.sf": (xst.expon.sf, ss.expon.sf, (XPOS, 0.5)),
    "expon.logsf": (xst.expon.logsf, ss.expon.logsf, (XPOS,)),
    "expon.ppf": (xst.expon.ppf, ss.expon.ppf, (Q, 1.0, 2.0)),
    "laplace.logpdf": (xst.laplace.logpdf, ss.laplace.logpdf, (X, 0.5, 2.0)),
    "laplace.pdf": (xst.laplace.pdf, ss.laplace.pdf, (X,)),
    "laplace.cdf": (xst.laplace.cdf, ss.laplace.cdf, (X, 0.5, 2.0)),
    "uniform.logpdf": (xst.uniform.logpdf, ss.uniform.logpdf, (X, -1.0, 3.0)),
    "uniform.pdf": (xst.uniform.pdf, ss.uniform.pdf, (X01,)),
    "uniform.cdf": (xst.uniform.cdf, ss.uniform.cdf, (X, -1.0, 3.0)),
    "uniform.ppf": (xst.uniform.ppf, ss.uniform.ppf, (Q, -1.0, 3.0)),
    "logistic.logpdf": (xst.logistic.logpdf, ss.logistic.logpdf, (X * 20, 0.5, 2.0)),
    "logistic.pdf": (xst.logistic.pdf, ss.logistic.pdf, (X,)),
    "logistic.cdf": (xst.logistic.cdf, ss.logistic.cdf, (X, 0.5, 2.0)),
    "logistic.sf": (xst.logistic.sf, ss.logistic.sf, (X, 0.5, 2.0)),
    "logistic.ppf": (xst.logistic.ppf, ss.logistic.ppf, (Q, 0.5, 2.0)),
    "logistic.isf": (xst.logistic.isf, ss.logistic.isf, (Q, 0.5, 2.0)),
    "poisson.logpmf": (xst.poisson.logpmf, ss.poisson.logpmf,
                       (np.array([-1.0, 0.0, 1.0, 2.5, 7.0, 100.0]), 3.5)),
    "poisson.pmf": (xst.poisson.pmf, ss.poisson.pmf, (np.array([0, 1, 4, 12]), 2.0, 1)),
    "poisson.cdf": (xst.poisson.cdf, ss.poisson.cdf,
                    (np.array([-1.0, 0.0, 1.0, 2.5, 7.0, 60.0]), 3.5)),
    "gamma.cdf": (xst.gamma.cdf, ss.gamma.cdf, (XPOS, 2.5, 0.0, 2.0)),
    "gamma.sf": (xst.gamma.sf, ss.gamma.sf, (XPOS, 0.5)),
}


def _close(actual, ref, rtol):
    actual, ref = np.asarray(actual), np.asarray(ref)
    assert actual.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(ref))
    fin = np.isfinite(ref)
    np.testing.assert_array_equal(actual[~fin & ~np.isnan(ref)], ref[~fin & ~np.isnan(ref)])
    np.testing.assert_allclose(actual[fin], ref[fin], rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_scipy(name):
    f, ref, args = CASES[name]
    with np.errstate(all="ignore"):
        expected = ref(*args)
    _close(f(*args), expected, rtol=1e-12)


# (function, args at interior points of the support)
GRADS = {
    "norm.logpdf": (xst.norm.logpdf, (np.array([-1.0, 0.3, 2.0]), 0.5, 2.0)),
    "norm.logcdf": (xst.norm.logcdf, (np.array([-25.0, -1.0, 0.3, 4.0]), 0.5, 2.0)),
    "norm.logsf": (xst.norm.logsf, (np.array([-4.0, 0.3, 25.0]), 0.5, 2.0)),
    "norm.ppf": (xst.norm.ppf, (np.array([0.01, 0.4, 0.9]), 0.5, 2.0)),
    "t.logpdf": (xst.t.logpdf, (np.array([-3.0, 0.2, 1.0]), 2.5, 0.5, 1.5)),
    "t.cdf": (lambda x, loc, scale: xst.t.cdf(x, 2.5, loc, scale),
              (np.array([-3.0, 0.0, 0.2, 1.0]), 0.5, 1.5)),
    "beta.cdf": (lambda x: xst.beta.cdf(x, 2.5, 1.7), (np.array([0.1, 0.5, 0.8]),)),
    "beta.logpdf": (xst.beta.logpdf, (np.array([0.1, 0.5, 0.8]), 2.5, 0.7)),
    "gamma.logpdf": (xst.gamma.logpdf, (np.array([0.1, 1.0, 7.0]), 2.5, 0.0, 2.0)),
    "expon.logcdf": (xst.expon.logcdf, (np.array([0.1, 1.0, 7.0]), 0.0, 2.0)),
    "laplace.cdf": (xst.laplace.cdf, (np.array([-3.0, -0.5, 2.0]), 0.5, 2.0)),
    "logistic.logpdf": (xst.logistic.logpdf, (np.array([-30.0, 0.2, 5.0]), 0.5, 2.0)),
    "logistic.ppf": (xst.logistic.ppf, (np.array([0.01, 0.4, 0.9]), 0.5, 2.0)),
    "poisson.cdf": (lambda mu: xst.poisson.cdf(np.array([0.0, 3.0, 10.0]), mu),
                    (np.array([0.5, 2.0, 9.0]),)),
    "gamma.cdf": (lambda x, scale: xst.gamma.cdf(x, 2.5, 0.0, scale), (np.array([0.1, 1.0, 7.0]), 2.0)),
    "poisson.logpmf": (lambda mu: xst.poisson.logpmf(np.array([0.0, 3.0, 10.0]), mu),
                       (np.array([0.5, 2.0, 9.0]),)),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_grads_finite_differences(name):
    f, args = GRADS[name]
    # the parameters are differentiated too (scalars as 0-d float arrays)
    args = tuple(np.asarray(a, np.float64) for a in args)
    xform.check_grads(f, args, order=2, eps=1e-6, rtol=1e-4)


def test_closed_form_gradients():
    x = np.array([-2.0, 0.0, 1.5])
    g = xform.vmap(xform.grad(xst.norm.logpdf), in_axes=(0, None, None))(x, 0.5, 2.0)
    np.testing.assert_allclose(g, -(x - 0.5) / 4.0, rtol=1e-14)
    g = xform.vmap(xform.grad(xst.norm.cdf))(x)
    np.testing.assert_allclose(g, ss.norm.pdf(x), rtol=1e-14)
    tx = np.array([-40.0, -2.0, -1e-3, 0.0, 1e-3, 0.7, 3.0])
    g = xform.vmap(xform.grad(lambda v: xst.t.cdf(v, 2.5)))(tx)  # the density, also at 0
    np.testing.assert_allclose(g, ss.t.pdf(tx, 2.5), rtol=1e-12)
    # d logcdf in the far lower tail stays finite and ~ -x
    g = xform.grad(xst.norm.logcdf)(-1e6)
    np.testing.assert_allclose(g, 1e6, rtol=1e-10)


COV = np.array([[2.0, 0.3, -0.2], [0.3, 1.0, 0.1], [-0.2, 0.1, 0.5]])
MEAN = np.array([0.1, -0.4, 1.0])
PTS = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 3.0], [0.1, -0.4, 1.0], [5.0, 5.0, -5.0]])


def test_multivariate_normal_matches_scipy():
    ref = ss.multivariate_normal(MEAN, COV)
    np.testing.assert_allclose(xst.multivariate_normal.logpdf(PTS, MEAN, COV), ref.logpdf(PTS),
                               rtol=1e-13)
    np.testing.assert_allclose(xst.multivariate_normal.pdf(PTS[0], MEAN, COV), ref.pdf(PTS[0]),
                               rtol=1e-13)
    batch = PTS.reshape(2, 2, 3)
    np.testing.assert_allclose(xst.multivariate_normal.logpdf(batch, MEAN, COV),
                               ref.logpdf(PTS).reshape(2, 2), rtol=1e-13)


def test_multivariate_normal_grads():
    # closed form: d/dx = -cov^{-1} (x - mean); d/dmean the opposite
    gx, gm = xform.grad(lambda x, m: xst.multivariate_normal.logpdf(x, m, COV), argnums=(0, 1))(
        PTS[1], MEAN)
    expected = -np.linalg.solve(COV, PTS[1] - MEAN)
    np.testing.assert_allclose(gx, expected, rtol=1e-12)
    np.testing.assert_allclose(gm, -expected, rtol=1e-12)
    # covariance gradient against finite differences (symmetric perturbations)
    xform.check_grads(lambda c: xst.multivariate_normal.logpdf(PTS[:2], MEAN, c @ c.T),
                      (np.linalg.cholesky(COV),), order=1, rtol=1e-4)


def test_multivariate_normal_bad_shapes():
    with pytest.raises(ValueError, match="multivariate_normal.logpdf: expected x"):
        xst.multivariate_normal.logpdf(np.zeros(2), MEAN, COV)


def test_dirichlet_matches_scipy_and_grads():
    alpha = np.array([0.7, 2.0, 3.5])
    x = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(xst.dirichlet.logpdf(x, alpha), ss.dirichlet.logpdf(x, alpha),
                               rtol=1e-13)
    np.testing.assert_allclose(xst.dirichlet.pdf(x, alpha), ss.dirichlet.pdf(x, alpha), rtol=1e-13)
    xs = np.array([[0.2, 0.6], [0.3, 0.1], [0.5, 0.3]])  # two points, components on axis 0
    np.testing.assert_allclose(xst.dirichlet.logpdf(xs, alpha), ss.dirichlet.logpdf(xs, alpha),
                               rtol=1e-13)
    assert xst.dirichlet.logpdf(np.array([0.5, 0.6, 0.1]), alpha) == -np.inf  # off the simplex
    # d/dalpha = log x - digamma(alpha) + digamma(sum alpha)
    from scipy.special import digamma
    g = xform.grad(lambda a: xst.dirichlet.logpdf(x, a))(alpha)
    np.testing.assert_allclose(g, np.log(x) - digamma(alpha) + digamma(alpha.sum()), rtol=1e-12)
    xform.check_grads(lambda a: xst.dirichlet.logpdf(x, a), (alpha,), order=2)


_JIT_LOGPDFS = xform.jit(lambda x: (xst.norm.logcdf(x), xst.t.logpdf(x, 3.0), xst.logistic.logpdf(x),
                                    xst.gamma.logpdf(x, 2.0), xst.laplace.cdf(x)))


def test_jit_and_vmap_match_scipy():
    outs = _JIT_LOGPDFS(X)
    with np.errstate(all="ignore"):
        refs = (ss.norm.logcdf(X), ss.t.logpdf(X, 3.0), ss.logistic.logpdf(X), ss.gamma.logpdf(X, 2.0),
                ss.laplace.cdf(X))
    for o, r in zip(outs, refs):
        _close(o, r, rtol=1e-12)
    locs = np.array([-1.0, 0.0, 2.0])
    v = xform.vmap(lambda loc: xst.norm.logpdf(X, loc, 2.0))(locs)
    np.testing.assert_allclose(v, ss.norm.logpdf(X[None], locs[:, None], 2.0), rtol=1e-14)
    # log-likelihood gradient through jit: d/dloc sum logpdf = sum(x - loc) / scale^2
    gl = xform.jit(xform.grad(lambda loc: xnp.sum(xst.norm.logpdf(X, loc, 2.0))))(0.5)
    np.testing.assert_allclose(gl, np.sum(X - 0.5) / 4.0, rtol=1e-13)


def test_complex_input_error():
    with pytest.raises(TypeError, match="xform.scipy.stats.norm.logpdf: complex"):
        xst.norm.logpdf(np.array([1j]))
