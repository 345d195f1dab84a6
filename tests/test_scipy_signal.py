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
