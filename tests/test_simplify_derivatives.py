"""Smaller programs for repeated derivatives of scalar functions (issue 15): staged
(``jit``, ``make_jaxpr``) reverse mode of a real scalar -> real scalar function
evaluates its linear program forward (a 1x1 map is its own transpose;
``xform/interpreters/linearize.py``), so nested ``grad`` compiles the program of
nested forward mode, which CSE shrinks exactly. Eager reverse mode transposes.

Staged programs are checked evaluated op by op (``_staged``: numpy's implementations,
no compile) and once compiled (``D6_JIT``). References: truncated Taylor arithmetic in
numpy (independent of autodiff), closed-form derivatives of low orders, central
differences, mpmath where installed, and the transposed program (eager reverse mode)
for the same values up to rounding. Semantics that must not change are checked too:
NaN through ``where`` (as in JAX), ``while_loop`` reverse-mode errors, custom VJPs
calling their ``bwd``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as xnp
from xform import lax
from xform.core.eval import eval_jaxpr
from xform.core.ir import all_eqns
from xform.interpreters import linearize
from xform.interpreters.linearize import forward_program


def _f(x):
    return xnp.tanh(xnp.sin(x)) * xnp.exp(x)


def _nth_grad(f, n):
    for _ in range(n):
        f = xform.grad(f)
    return f


D = {n: _nth_grad(_f, n) for n in range(1, 7)}
D6_JIT = xform.jit(D[6])  # the one compiled program of this file


def _count(closed) -> int:
    return sum(1 for _ in all_eqns(closed.jaxpr))


def _staged(fun):
    """``fun`` traced as jit traces it, the program evaluated op by op (no compile)."""
    def run(*args):
        closed = xform.make_jaxpr(fun)(*args)
        outs = eval_jaxpr(closed.jaxpr, closed.consts, *args)
        return outs[0] if len(outs) == 1 else tuple(outs)

    return run


def _switch_off(monkeypatch):
    """Reverse mode transposing every linear program (the shortcut switched off)."""
    monkeypatch.setattr(linearize, "SCALAR_SELF_TRANSPOSE", False)


def _taylor(x0: float, n: int) -> float:
    """The n-th derivative of tanh(sin x) * exp x at x0 by truncated Taylor arithmetic:
    the series coefficients of each intermediate from its ODE (sin' = cos, cos' = -sin,
    exp' = exp, tanh(s)' = (1 - tanh(s)^2) s')."""
    m = n + 1
    s, c, e, t = (np.zeros(m) for _ in range(4))
    s[0], c[0], e[0] = math.sin(x0), math.cos(x0), math.exp(x0)
    for k in range(1, m):  # u = x: u_1 = 1, so (d/dx) coefficient k comes from k - 1
        s[k] = c[k - 1] / k
        c[k] = -s[k - 1] / k
        e[k] = e[k - 1] / k
    t[0] = math.tanh(s[0])
    for k in range(1, m):
        w = [(1.0 if j == 0 else 0.0) - sum(t[i] * t[j - i] for i in range(j + 1))
             for j in range(k)]
        t[k] = sum(j * s[j] * w[k - j] for j in range(1, k + 1)) / k
    return math.factorial(n) * sum(t[i] * e[n - i] for i in range(m))


def _closed_form_1_2(x: float) -> tuple[float, float]:
    """f' and f'' written out: with s, c = sin x, cos x, t = tanh s, T = 1 - t^2,
    t' = T c and t'' = -2 t T c^2 - T s, so f' = e^x (t + T c) and
    f'' = e^x (t + 2 T c - 2 t T c^2 - T s)."""
    s, c, e = math.sin(x), math.cos(x), math.exp(x)
    t = math.tanh(s)
    big_t = 1 - t * t
    return e * (t + big_t * c), e * (t + 2 * big_t * c - 2 * t * big_t * c * c - big_t * s)


XS = [0.0, 0.3, -1.7, 2.5]


# -- the program jit compiles -----------------------------------------------------------


def test_sixth_derivative_program_jit_compiles_is_under_400_equations(monkeypatch):
    from xform.backend.numba.optimize import optimize_jaxpr

    lowered = D6_JIT.lower(0.3).jaxpr  # the optimized program handed to code generation
    n = _count(lowered)
    assert n <= 400, n
    # nested grad compiles what nested forward mode does (tangent 1.0 at every level)
    fwd = _f
    for _ in range(6):
        fwd = (lambda g: lambda x: xform.jvp(g, (x,), (1.0,))[1])(fwd)
    assert n == _count(xform.jit(fwd).lower(0.3).jaxpr)
    # ... and far less than transposing every level (632 equations when this was written)
    _switch_off(monkeypatch)
    n_back = _count(optimize_jaxpr(xform.make_jaxpr(_nth_grad(_f, 6))(0.3)))
    assert n < 0.5 * n_back, (n, n_back)


def test_traced_and_optimized_counts_by_order():
    from xform.backend.numba.optimize import optimize_jaxpr

    counts = [_count(optimize_jaxpr(xform.make_jaxpr(D[n])(0.3))) for n in range(1, 7)]
    # grows about 1.5x per order (nested forward mode), not about 2.5x (reverse over reverse)
    assert all(b < 1.8 * a for a, b in zip(counts[1:], counts[2:])), counts
    assert counts[-1] <= 400, counts


# -- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("x", XS)
def test_values_against_taylor_and_closed_form(x):
    d1, d2 = _closed_form_1_2(x)
    for run in (_staged, lambda g: g):  # forward evaluation, transposition (eager)
        assert run(D[1])(x) == pytest.approx(d1, rel=1e-14, abs=1e-14)
        assert run(D[2])(x) == pytest.approx(d2, rel=1e-13, abs=1e-13)
        for n in range(1, 7):
            np.testing.assert_allclose(run(D[n])(x), _taylor(x, n), rtol=1e-11,
                                       atol=1e-11 * math.exp(x))
    np.testing.assert_allclose(D6_JIT(x), _taylor(x, 6), rtol=1e-9, atol=1e-9)


def test_values_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for x in (0.3, -1.1, 2.3):
        want = float(mpmath.diff(lambda t: mpmath.tanh(mpmath.sin(t)) * mpmath.exp(t), x, 6))
        np.testing.assert_allclose(_staged(D[6])(x), want, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(D[6](x), want, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(D6_JIT(x), want, rtol=1e-9, atol=1e-9)


def test_sixth_derivative_against_central_differences_of_the_fifth():
    h = 1e-4
    for x in (0.3, -1.7):
        fd = (_staged(D[5])(x + h) - _staged(D[5])(x - h)) / (2 * h)
        np.testing.assert_allclose(_staged(D[6])(x), fd, rtol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_same_values_as_transposing(n, monkeypatch):
    forward = [_staged(D[n])(x) for x in XS]
    eager = [D[n](x) for x in XS]
    _switch_off(monkeypatch)
    back = [_staged(_nth_grad(_f, n))(x) for x in XS]
    # the same sums of products, rounded in another order
    np.testing.assert_allclose(forward, back, rtol=1e-13, atol=1e-13)
    # eagerly, reverse mode transposes: the staged program with the shortcut off, exactly
    np.testing.assert_array_equal(eager, back)


_UNARY = [xnp.sin, xnp.cos, xnp.exp, xnp.tanh, lambda v: v * v, lambda v: 2.5 * v - 1.0,
          lambda v: v / (1.0 + v * v), xnp.arctan, lambda v: xnp.log1p(v * v)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, len(_UNARY) - 1), min_size=1, max_size=5),
       st.floats(-1.5, 1.5), st.integers(1, 3))
def test_random_compositions_match_jvp_and_transposing(ops, x, order):
    def f(v):
        for i in ops:
            v = _UNARY[i](v)
        return v

    g = _nth_grad(f, order)
    fwd = f
    for _ in range(order):
        fwd = (lambda h: lambda v: xform.jvp(h, (v,), (1.0,))[1])(fwd)
    got = _staged(g)(x)
    np.testing.assert_allclose(got, fwd(x), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(got, g(x), rtol=1e-11, atol=1e-11)  # eager: transposed


# -- what must not change -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["staged", "eager"])
def test_results_types_cotangents_and_aux(mode):
    run = _staged if mode == "staged" else (lambda g: g)
    assert run(xform.grad(lambda x: x))(3.0) == 1.0
    assert run(xform.grad(lambda x: 2.0 * x * 0.0 + 5.0))(3.0) == 0.0
    g32 = run(xform.grad(lambda x: xnp.sin(x) * x))(np.float32(0.5))
    assert g32.dtype == np.float32
    assert g32 == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5), rel=1e-6)
    pulled = run(lambda x: xform.vjp(xnp.exp, x)[1](3.0)[0])(0.7)
    assert pulled == pytest.approx(3.0 * np.exp(0.7), rel=1e-15)
    g, aux = run(xform.grad(lambda x: (xnp.sin(x) * x, xnp.cos(x) * x), has_aux=True))(1.2)
    assert g == pytest.approx(np.cos(1.2) * 1.2 + np.sin(1.2), rel=1e-15)
    assert aux == pytest.approx(np.cos(1.2) * 1.2, rel=1e-15)
    # a function of two scalars: the linear map is 1 x 2, transposed as before
    gx, gy = run(xform.grad(lambda a, b: a * xnp.sin(b), argnums=(0, 1)))(2.0, 0.5)
    assert (gx, gy) == (pytest.approx(np.sin(0.5)), pytest.approx(2.0 * np.cos(0.5)))
    # complex: transposed as before (JAX's conjugate convention)
    assert run(xform.grad(lambda z: xnp.real(z) ** 2 + xnp.imag(z) ** 2))(3.0 + 4.0j) == 6 - 8j


@pytest.mark.parametrize("mode", ["staged", "eager"])
def test_where_nan_convention_is_kept(mode):
    run = _staged if mode == "staged" else (lambda g: g)
    # reverse mode: the zero cotangent of the unselected branch meets log'(0) = inf
    naive = lambda x: xnp.where(x > 0, xnp.log(x), 0.0)  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(run(xform.grad(naive))(0.0))
        # forward mode discards the branch: the conventions differ, as in JAX
        assert run(lambda x: xform.jvp(naive, (x,), (1.0,))[1])(0.0) == 0.0


def test_while_loop_reverse_mode_still_raises():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * xnp.sin(c[1])),
                              (0, x))[1]

    assert xform.jvp(f, (3.0,), (1.0,))[1] == pytest.approx(
        (f(3.0 + 1e-6) - f(3.0 - 1e-6)) / 2e-6, rel=1e-6)
    for run in (_staged, lambda g: g):
        with pytest.raises(ValueError, match="Reverse-mode"):
            run(xform.grad(f))(3.0)


def test_custom_vjp_still_calls_its_bwd():
    calls = []

    @xform.custom_vjp
    def f(x):
        return xnp.sin(x)

    def fwd(x):
        return xnp.sin(x), x

    def bwd(x, g):
        calls.append(1)
        return (g * 10.0,)  # deliberately not the derivative: bwd must be what runs

    f.defvjp(fwd, bwd)
    g = xform.grad(lambda x: f(x) * 2.0)
    assert g(0.3) == pytest.approx(20.0)
    assert _staged(g)(0.3) == pytest.approx(20.0)
    assert calls == [1, 1]


def test_forward_program_selection():
    from xform.interpreters.linearize import linearize_flat

    def program(fun):
        _, lin = linearize_flat(lambda v: [fun(v)], [np.float64(0.4)])
        j = lin.closed.jaxpr
        return forward_program(j, j.outvars[0])

    chain = program(lambda v: xnp.tanh(xnp.sin(v)) * xnp.exp(v))
    assert chain is not None
    assert {e.primitive.name for e in chain.eqns} <= {"mul", "add_any", "sub", "neg", "add"}
    assert program(lambda v: xnp.where(v > 0, xnp.sin(v), v)) is None  # select
    assert program(lambda v: xnp.sum(xnp.sin(v * np.arange(3.0)))) is None  # reductions
    assert program(lambda v: xform.jit(xnp.sin)(v)) is None  # a call
    assert program(lambda v: xnp.sin(v) * 0.0 + 1.0) is not None


# -- jit's rewrites keep signed zeros -------------------------------------------------------


def _optimized_values(fun, *args):
    from xform.backend.numba.optimize import optimize_jaxpr

    traced = xform.make_jaxpr(fun)(*args)
    opt = optimize_jaxpr(traced)
    want = eval_jaxpr(traced.jaxpr, traced.consts, *args)
    got = eval_jaxpr(opt.jaxpr, opt.consts, *args)
    return want, got, _count(opt)


def test_additive_identities_are_exact_for_signed_zeros():
    neg_zero, zeros = np.float64(-0.0), np.array([-0.0, 0.0, 1.5])
    # x + 0.0 is not x: -0.0 + 0.0 is +0.0, so the addition stays
    want, got, n = _optimized_values(lambda x: lax.add(x, 0.0), zeros)
    assert n == 1 and np.signbit(got[0]).tolist() == np.signbit(want[0]).tolist() == [
        False, False, False]
    # x + (-0.0) and x - 0.0 are x for every x: removed
    for fun in (lambda x: lax.add(x, neg_zero), lambda x: lax.sub(x, 0.0),
                lambda x: lax.add(neg_zero, x)):
        want, got, n = _optimized_values(fun, zeros)
        assert n == 0
        np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))
        np.testing.assert_array_equal(np.signbit(got[0]), [True, False, False])
    # x - (-0.0) is x + 0.0: kept
    assert _optimized_values(lambda x: lax.sub(x, neg_zero), zeros)[2] == 1


def test_sum_of_negations_keeps_the_sign_of_an_exact_zero():
    # (-a) + (-b) with a == -b is +0.0; -(a + b) would be -0.0
    a, b = np.array([1.0, -0.0, 2.0, 0.0]), np.array([-1.0, 0.0, 3.0, 0.0])
    for fun in (lambda a, b: lax.add(lax.neg(a), lax.neg(b)),
                lambda a, b: lax.sub(lax.neg(a), b)):
        want, got, _ = _optimized_values(fun, a, b)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))
        np.testing.assert_array_equal(np.signbit(want[0]), [False, False, True, True])
    # integers have one zero: the rewrite stays (one negation, not two)
    ia, ib = np.array([1, -2, 3], np.int32), np.array([-1, 5, 0], np.int32)
    want, got, n = _optimized_values(lambda a, b: lax.add(lax.neg(a), lax.neg(b)), ia, ib)
    np.testing.assert_array_equal(got[0], want[0])
    assert n == 2
