"""xform.scipy.signal.convolve/correlate against scipy.signal (all modes, N-d, shapes
where either input is larger), derivatives against finite differences and the adjoint
identity, jit and vmap."""
import numpy as np
import pytest
import scipy.signal as ss

import xform
import xform.numpy as xnp
from xform.scipy import signal as xsig

SHAPES = [((7,), (3,)), ((3,), (7,)), ((6,), (6,)), ((1,), (4,)), ((4, 5), (2, 3)),
          ((2, 3), (4, 5)), ((5, 2), (2, 5)), ((3, 4, 5), (2, 2, 3))]
RNG = np.random.default_rng(0)
DATA = [(RNG.normal(size=a), RNG.normal(size=b)) for a, b in SHAPES]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("which", ["convolve", "correlate"])
def test_matches_scipy(mode, which):
    ours, ref = getattr(xsig, which), getattr(ss, which)
    for (a, b), (s1, s2) in zip(DATA, SHAPES):
        try:
            expected = ref(a, b, mode=mode, method="direct")
        except ValueError:
            with pytest.raises(ValueError, match=f"{which}: in 'valid' mode one input"):
                ours(a, b, mode=mode)
            continue
        for method in ("auto", "direct", "fft"):
            out = ours(a, b, mode=mode, method=method)
            assert out.shape == expected.shape, (s1, s2)
            np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_complex_and_integer_inputs():
    a = RNG.normal(size=5) + 1j * RNG.normal(size=5)
    b = RNG.normal(size=3) - 0.5j * RNG.normal(size=3)
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(xsig.correlate(a, b, mode), ss.correlate(a, b, mode), rtol=1e-12)
        np.testing.assert_allclose(xsig.convolve(a, b, mode), ss.convolve(a, b, mode), rtol=1e-12)
    ai, bi = np.array([1, 2, 3]), np.array([4, 5])
    out = xsig.convolve(ai, bi)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, ss.convolve(ai, bi))


def test_grads_finite_differences_and_adjoint():
    a, b = RNG.normal(size=(4, 5)), RNG.normal(size=(2, 3))
    for mode in ("full", "same", "valid"):
        xform.check_grads(lambda x, y: xsig.convolve(x, y, mode) ** 2, (a, b), order=2)
        xform.check_grads(lambda x, y: xsig.correlate(x, y, mode), (a, b), order=1)
    # the gradient of <w, convolve(x, k)> in x is correlate(w, k, 'valid') of the full output
    k = RNG.normal(size=3)
    x = RNG.normal(size=8)
    w = RNG.normal(size=10)
    g = xform.grad(lambda t: xnp.sum(w * xsig.convolve(t, k)))(x)
    np.testing.assert_allclose(g, ss.correlate(w, k, mode="valid"), rtol=1e-12)


_JIT_CONV = xform.jit(lambda x, y: xsig.convolve(x, y, mode="same"))


def test_jit_and_vmap():
    a, b = DATA[4]
    np.testing.assert_allclose(_JIT_CONV(a, b), ss.convolve(a, b, mode="same"), rtol=1e-12)
    xs = RNG.normal(size=(3, 7))
    k = RNG.normal(size=3)
    out = xform.vmap(lambda x: xsig.correlate(x, k, "valid"))(xs)
    np.testing.assert_allclose(out, np.stack([ss.correlate(x, k, "valid") for x in xs]), rtol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="convolve: mode must be"):
        xsig.convolve(np.ones(3), np.ones(2), mode="circular")
    with pytest.raises(ValueError, match="correlate: method must be"):
        xsig.correlate(np.ones(3), np.ones(2), method="overlap")
    with pytest.raises(ValueError, match="same number of dimensions"):
        xsig.convolve(np.ones(3), np.ones((2, 2)))


# -- the FFT method, method='auto', fftconvolve, 2-d and detrend ------------------------


def test_auto_picks_the_method_scipy_picks():
    for s1, s2 in [((1000,), (300,)), ((10,), (3,)), ((64, 64), (9, 9)), ((8, 8), (3, 3)),
                   ((5000,), (5000,)), ((300,), (2000,))]:
        a, b = RNG.normal(size=s1), RNG.normal(size=s2)
        for mode in ("full", "same", "valid"):
            assert xsig._choose_method("auto", a, b, mode, False) == ss.choose_conv_method(
                a, b, mode), (s1, s2, mode)
    big = np.array([2 ** 40, 3]), np.array([2 ** 20, 5])
    assert xsig._choose_method("auto", *big, "full", True) == "direct"
    for n, m in ((2000, 700), (20000, 6000)):  # integers: fft where the products fit
        ia, ib = np.arange(n), np.arange(m)
        assert xsig._choose_method("auto", ia, ib, "same", True) == ss.choose_conv_method(
            ia, ib, "same")


def test_fft_method_complex_grads_and_large_inputs():
    a = RNG.normal(size=9) + 1j * RNG.normal(size=9)
    b = RNG.normal(size=4) - 1j * RNG.normal(size=4)
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(xsig.convolve(a, b, mode, method="fft"), ss.convolve(a, b, mode),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xsig.correlate(a, b, mode, method="fft"),
                                   ss.correlate(a, b, mode), rtol=1e-12, atol=1e-12)
    x, k = RNG.normal(size=12), RNG.normal(size=5)
    for mode in ("full", "same", "valid"):
        xform.check_grads(lambda u, v: xsig.convolve(u, v, mode, method="fft"), (x, k), order=2)
    # 'auto' picks the FFT for long signals: same values as the direct sum
    long_x, long_k = RNG.normal(size=3000), RNG.normal(size=400)
    np.testing.assert_allclose(xsig.convolve(long_x, long_k, "same"),
                               ss.convolve(long_x, long_k, "same", method="direct"),
                               rtol=1e-9, atol=1e-10)


def test_fftconvolve_with_axes_convolve2d_correlate2d_detrend():
    A, B = RNG.normal(size=(3, 40)), RNG.normal(size=(1, 7))
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(xsig.fftconvolve(A, B, mode, axes=1),
                                   ss.fftconvolve(A, B, mode, axes=1), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xsig.fftconvolve(A, B[:, :3], mode),
                                   ss.fftconvolve(A, B[:, :3], mode), rtol=1e-12, atol=1e-12)
    M, K = RNG.normal(size=(5, 6)), RNG.normal(size=(2, 3))
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(xsig.convolve2d(M, K, mode), ss.convolve2d(M, K, mode),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xsig.correlate2d(M, K, mode), ss.correlate2d(M, K, mode),
                                   rtol=1e-12, atol=1e-12)
    X = RNG.normal(size=(4, 30))
    for kw in ({"type": "linear"}, {"type": "constant"}, {"bp": [7, 20]}, {"axis": 0}):
        np.testing.assert_allclose(xsig.detrend(X, **kw), ss.detrend(X, **kw), rtol=1e-10,
                                   atol=1e-12)
    xform.check_grads(lambda v: xsig.detrend(v, bp=[10]), (X[:2],), order=1)
    with pytest.raises(NotImplementedError, match="boundary='fill'"):
        xsig.convolve2d(M, K, boundary="wrap")


def test_fft_method_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    js = jax.scipy.signal
    a, b = RNG.normal(size=(6, 7)), RNG.normal(size=(3, 2))
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(xsig.convolve(a, b, mode, method="fft"),
                                   np.asarray(js.convolve(a, b, mode, method="fft")), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(xsig.correlate2d(a, b, mode),
                                   np.asarray(js.correlate2d(a, b, mode)), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(xsig.fftconvolve(a, b, mode),
                                   np.asarray(js.fftconvolve(a, b, mode)), rtol=1e-10, atol=1e-12)
