"""xform.scipy.integrate.odeint against scipy.integrate.odeint (values) and central
finite differences of scipy's solution (adjoint gradients), pytrees, closures, jit."""
import numpy as np
import pytest
import scipy.integrate as si

import xform
import xform.numpy as xnp
from xform.scipy.integrate import odeint


def lotka(y, t, a, b):
    return xnp.stack([a * y[0] - b * y[0] * y[1], -y[1] + 0.5 * y[0] * y[1]])


def lotka_np(y, t, a, b):
    return [a * y[0] - b * y[0] * y[1], -y[1] + 0.5 * y[0] * y[1]]


TS = np.array([0.0, 0.3, 1.1, 2.0])
Y0 = np.array([1.5, 0.7])
TIGHT = dict(rtol=1e-12, atol=1e-12)


def _ref(y0, ts, a, b):
    return si.odeint(lotka_np, y0, ts, args=(a, b), **TIGHT)


# a small right-hand side keeps the kernel (7 inlined copies of it) quick to compile
_JIT_SOLVE = xform.jit(lambda y0, ts, k: odeint(lambda y, t: -k * y, y0, ts))


def test_values_match_scipy_eager_and_jit():
    ref = _ref(Y0, TS, 1.2, 0.8)
    np.testing.assert_allclose(odeint(lotka, Y0, TS, 1.2, 0.8), ref, rtol=1e-6)
    np.testing.assert_allclose(odeint(lotka, Y0, TS, 1.2, 0.8, rtol=1e-11, atol=1e-11), ref,
                               rtol=1e-9)
    np.testing.assert_allclose(_JIT_SOLVE(Y0, TS, 1.2), Y0 * np.exp(-1.2 * TS)[:, None], rtol=1e-6)
    np.testing.assert_allclose(_JIT_SOLVE(Y0, TS, 1.2), odeint(lambda y, t: -1.2 * y, Y0, TS),
                               rtol=1e-12)


def test_adjoint_gradients_match_finite_differences():
    def loss(y0, ts, a):
        ys = odeint(lotka, y0, ts, a, 0.8, rtol=1e-10, atol=1e-10)
        return xnp.sum(ys[1:] ** 2 * np.array([1.0, 2.0]))

    def loss_np(y0, ts, a):
        ys = _ref(y0, ts, a, 0.8)
        return np.sum(ys[1:] ** 2 * np.array([1.0, 2.0]))

    gy, gt, ga = xform.grad(loss, argnums=(0, 1, 2))(Y0, TS, 1.2)
    h = 1e-6
    fd_y = [(loss_np(Y0 + h * e, TS, 1.2) - loss_np(Y0 - h * e, TS, 1.2)) / (2 * h) for e in np.eye(2)]
    fd_t = [(loss_np(Y0, TS + h * e, 1.2) - loss_np(Y0, TS - h * e, 1.2)) / (2 * h) for e in np.eye(4)]
    fd_a = (loss_np(Y0, TS, 1.2 + h) - loss_np(Y0, TS, 1.2 - h)) / (2 * h)
    np.testing.assert_allclose(gy, fd_y, rtol=1e-6)
    np.testing.assert_allclose(gt, fd_t, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ga, fd_a, rtol=1e-6)


def test_closed_form_and_closure_gradient():
    # y' = -k y: y(t) = y0 exp(-k t); k closed over (hoisted by closure_convert)
    ts = np.array([0.0, 0.5, 1.5])

    def final(k):
        return odeint(lambda y, t: -k * y, np.array([2.0]), ts, rtol=1e-10, atol=1e-10)[-1, 0]

    np.testing.assert_allclose(final(0.7), 2.0 * np.exp(-0.7 * 1.5), rtol=1e-9)
    np.testing.assert_allclose(xform.grad(final)(0.7), -3.0 * np.exp(-0.7 * 1.5), rtol=1e-8)


def test_pytree_state():
    def f(state, t):
        return {"x": state["v"], "v": -state["x"]}  # harmonic oscillator

    ts = np.array([0.0, 1.0, 2.0])
    out = odeint(f, {"x": np.array(1.0), "v": np.array(0.0)}, ts, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out["x"], np.cos(ts), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(out["v"], -np.sin(ts), rtol=1e-8, atol=1e-9)


def test_bad_arguments():
    with pytest.raises(ValueError, match="odeint: t must be a 1-d array"):
        odeint(lambda y, t: -y, np.array([1.0]), np.array(1.0))
    with pytest.raises(TypeError, match="odeint: the \\*args passed to func must be floating"):
        odeint(lambda y, t, n: -n * y, np.array([1.0]), np.array([0.0, 1.0]), 2)
