"""xform.numpy.fft and lax.fft against numpy.fft (shapes, n/s cropping and padding,
axes, norms, float32/complex64), derivatives against central finite differences
(the transposes of FFT/IFFT/RFFT/IRFFT), vmap, and one shared jit compilation (the
object-mode call of ``backend/numba/fft.py``)."""
import numpy as np
import pytest

import xform
import xform.lax as lax
import xform.numpy as xnp

RNG = np.random.default_rng(0)
R = RNG.normal(size=(3, 6))
R5 = RNG.normal(size=(2, 3, 5))
C = RNG.normal(size=(3, 6)) + 1j * RNG.normal(size=(3, 6))
C5 = RNG.normal(size=(2, 3, 5)) + 1j * RNG.normal(size=(2, 3, 5))


def _close(r, e, tol=1e-11):
    r, e = np.asarray(r), np.asarray(e)
    assert r.shape == e.shape, (r.shape, e.shape)
    np.testing.assert_allclose(r, e, rtol=tol, atol=tol)


NORMS = [None, "backward", "ortho", "forward"]
CASES = [
    ("fft", lambda m, nm: m.fft.fft(C, norm=nm)),
    ("fft_real_n_pad", lambda m, nm: m.fft.fft(R, n=9, axis=0, norm=nm)),
    ("fft_crop", lambda m, nm: m.fft.fft(C5, n=3, norm=nm)),
    ("ifft", lambda m, nm: m.fft.ifft(C, axis=0, norm=nm)),
    ("ifft_n", lambda m, nm: m.fft.ifft(C5, n=7, axis=1, norm=nm)),
    ("fft2", lambda m, nm: m.fft.fft2(C5, norm=nm)),
    ("ifft2_s", lambda m, nm: m.fft.ifft2(C5, s=(4, 2), axes=(0, 2), norm=nm)),
    ("fftn", lambda m, nm: m.fft.fftn(C5, norm=nm)),
    ("fftn_4d", lambda m, nm: m.fft.fftn(R5.reshape(2, 3, 5, 1), norm=nm)),
    ("ifftn_s", lambda m, nm: m.fft.ifftn(C5, s=(2, 6), axes=(1, 2), norm=nm)),
    ("rfft", lambda m, nm: m.fft.rfft(R, norm=nm)),
    ("rfft_odd_n", lambda m, nm: m.fft.rfft(R, n=5, axis=1, norm=nm)),
    ("rfft_axis0", lambda m, nm: m.fft.rfft(R5, axis=0, norm=nm)),
    ("irfft", lambda m, nm: m.fft.irfft(C, norm=nm)),
    ("irfft_odd", lambda m, nm: m.fft.irfft(C, n=11, norm=nm)),
    ("irfft_crop", lambda m, nm: m.fft.irfft(C, n=4, axis=0, norm=nm)),
    ("rfft2", lambda m, nm: m.fft.rfft2(R5, norm=nm)),
    ("rfftn", lambda m, nm: m.fft.rfftn(R5, norm=nm)),
    ("rfftn_s_axes", lambda m, nm: m.fft.rfftn(R5, s=(4, 3), axes=(2, 0), norm=nm)),
    ("irfft2", lambda m, nm: m.fft.irfft2(C5, norm=nm)),
    ("irfftn", lambda m, nm: m.fft.irfftn(C5, norm=nm)),
    ("irfftn_s", lambda m, nm: m.fft.irfftn(C5, s=(3, 7), axes=(0, 1), norm=nm)),
    ("hfft", lambda m, nm: m.fft.hfft(C, norm=nm)),
    ("hfft_n", lambda m, nm: m.fft.hfft(C, n=7, axis=0, norm=nm)),
    ("ihfft", lambda m, nm: m.fft.ihfft(R, norm=nm)),
    ("ihfft_n", lambda m, nm: m.fft.ihfft(R5, n=4, axis=1, norm=nm)),
]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_match_numpy(case, norm):
    _, fn = case
    _close(fn(xnp, norm), fn(np, norm))


def test_float32_stays_single_precision():
    x = R.astype(np.float32)
    r = xnp.fft.rfft(x)
    assert r.dtype == np.complex64
    _close(r, np.fft.rfft(x.astype(np.float64)), tol=1e-5)
    c = xnp.fft.fft(x)
    assert c.dtype == np.complex64
    y = xnp.fft.irfft(r, n=6)
    assert y.dtype == np.float32
    _close(y, x, tol=1e-5)


def test_frequencies_and_shifts():
    for n in (1, 4, 7):
        for d in (1.0, 0.25):
            _close(xnp.fft.fftfreq(n, d), np.fft.fftfreq(n, d))
            _close(xnp.fft.rfftfreq(n, d), np.fft.rfftfreq(n, d))
    for axes in (None, 0, (1,), (0, 1)):
        _close(xnp.fft.fftshift(R, axes), np.fft.fftshift(R, axes))
        _close(xnp.fft.ifftshift(R5[0], axes), np.fft.ifftshift(R5[0], axes))


def test_lax_fft_shape_errors():
    with pytest.raises(ValueError, match="fft"):
        lax.fft(R, "RFFT", (5,))
    with pytest.raises(TypeError, match="complex"):
        lax.fft(R, "FFT", (6,))
    with pytest.raises(ValueError, match="IRFFT"):
        lax.fft(C, "IRFFT", (6,))
    with pytest.raises(ValueError, match="fft_type"):
        lax.fft(C, "DCT", (6,))
    with pytest.raises(ValueError, match="norm"):
        xnp.fft.fft(C, norm="unitary")


# Real-valued functions of real inputs (finite differences need real arguments); each
# routes the derivative through one of the four transposes.
GRADS = {
    "fft": lambda x: xnp.abs(xnp.fft.fft(x * (1 + 0.5j), axis=0)) ** 2,
    "ifft": lambda x: xnp.real(xnp.fft.ifft(x * (0.3 - 1j)) * np.arange(6)),
    "fft2_ortho": lambda x: xnp.imag(xnp.fft.fft2(x + 0j, norm="ortho")),
    "rfft": lambda x: xnp.abs(xnp.fft.rfft(x)) ** 2,
    "rfft_odd": lambda x: xnp.real(xnp.fft.rfft(x, n=5) * (1 + 2j)),
    "irfft": lambda x: xnp.fft.irfft(xnp.fft.rfft(x) * np.array([1, 2j, 3, -1]), n=8),
    "irfft_odd": lambda x: xnp.fft.irfft(x[:, :4] * (1 - 1j), n=7) ** 2,
    "rfftn_irfftn": lambda x: xnp.fft.irfftn(xnp.fft.rfftn(x) ** 2, s=(3, 6)),
    "hfft": lambda x: xnp.fft.hfft(x[:, :4] * (1 + 1j), n=6, norm="forward"),
    "ihfft": lambda x: xnp.imag(xnp.fft.ihfft(x, norm="ortho")),
    "fftshift": lambda x: xnp.fft.fftshift(xnp.real(xnp.fft.fft(x + 0j))),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_match_finite_differences(name):
    xform.check_grads(GRADS[name], (R,), order=2, modes=("fwd", "rev"))


def test_vmap_matches_loop():
    f = lambda r: (xnp.fft.rfft(r), xnp.fft.fft(r + 1j), xnp.fft.irfft(r[:4] + 0j, n=6))  # noqa: E731
    for axis in (0, 1):
        got = xform.vmap(f, in_axes=axis)(R if axis == 0 else R.T.copy())
        for i in range(R.shape[0]):
            for g, e in zip(got, f(R[i])):
                _close(g[i], e)
    got = xform.vmap(lambda c: xnp.fft.fft2(c), in_axes=2)(C5)
    _close(got, np.moveaxis(np.fft.fft2(C5, axes=(0, 1)), 2, 0))


def _many(x, c):
    return (xnp.fft.rfft(x), xnp.fft.irfft(c, n=6), xnp.fft.fft2(c, norm="ortho"),
            xnp.fft.ifft(x.astype(np.complex128), axis=0))


_MANY_JIT = xform.jit(_many)


def test_jit_matches_eager_and_numpy():
    got = _MANY_JIT(R, C[:, :4])
    want = (np.fft.rfft(R), np.fft.irfft(C[:, :4], n=6), np.fft.fft2(C[:, :4], norm="ortho"),
            np.fft.ifft(R, axis=0))
    for g, w in zip(got, want):
        _close(g, w)
    loss = lambda x: xnp.sum(xnp.abs(xnp.fft.rfft(x)) ** 2)  # noqa: E731
    _close(xform.jit(xform.grad(loss))(R), xform.grad(loss)(R))
