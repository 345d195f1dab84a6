"""Control flow (issues 3 and 5): cond, switch, while_loop, fori_loop, scan, map.

Checked against closed forms, finite differences (check_grads) and Python loops, under
every transformation (grad, jvp, vmap, make_jaxpr/jit) and their compositions.
"""
import numpy as np
import pytest

import xform
from xform import lax
from xform.core.eval import eval_jaxpr
from xform.interpreters.linearize import linearize_flat


def run_jaxpr(closed, *args):
    out = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out[0] if len(out) == 1 else out


def count_eqns(jaxpr, name=None):
    """Equations in a jaxpr, including those of held sub-jaxprs."""
    from xform.core.ir import ClosedJaxpr, Jaxpr

    n = 0
    for e in jaxpr.eqns:
        n += name is None or e.primitive.name == name
        for v in e.params.values():
            for sub in (v if isinstance(v, tuple) else (v,)):
                if isinstance(sub, (ClosedJaxpr, Jaxpr)):
                    n += count_eqns(sub if isinstance(sub, Jaxpr) else sub.jaxpr, name)
    return n


# -- cond / switch ------------------------------------------------------------------------


def piecewise(x):
    """-x**2 for x < 0, sin(x) otherwise."""
    return lax.cond(lax.lt(x, 0.0), lambda x: lax.neg(lax.mul(x, x)), lax.sin, x)


@pytest.mark.parametrize("x", [-1.3, 0.7])
def test_cond_value_and_derivatives_on_each_side(x):
    val = -x * x if x < 0 else np.sin(x)
    d1 = -2 * x if x < 0 else np.cos(x)
    d2 = -2.0 if x < 0 else -np.sin(x)
    assert piecewise(x) == pytest.approx(val)
    assert xform.grad(piecewise)(x) == pytest.approx(d1)
    assert xform.jvp(piecewise, (x,), (1.0,))[1] == pytest.approx(d1)
    assert xform.grad(xform.grad(piecewise))(x) == pytest.approx(d2)
    xform.check_grads(piecewise, (x,), order=2)


def test_cond_eager_runs_only_the_chosen_branch():
    calls = []

    def t(x):
        calls.append("t")
        return lax.mul(x, 2.0)

    assert lax.cond(True, t, lambda x: x, 3.0) == 6.0
    assert lax.cond(np.bool_(False), t, lambda x: x, 3.0) == 3.0
    assert lax.cond(1, lambda: 1.0, lambda: 2.0) == 1.0  # numeric predicate, no operands
    # Tracing happened (to type-check), but the numeric work ran once per call:
    jaxpr = xform.make_jaxpr(lambda x: lax.cond(lax.gt(x, 0.0), t, lambda x: x, x))(1.0)
    assert count_eqns(jaxpr.jaxpr, "cond") == 1


def test_cond_pytrees_closures_and_integer_outputs():
    def f(w, x):
        def pos(ops):
            a, b = ops
            return {"y": lax.mul(w, a), "n": 1}

        def neg(ops):
            a, b = ops
            return {"y": lax.mul(lax.mul(w, w), b), "n": 2}

        out = lax.cond(lax.gt(x, 0.0), pos, neg, (x, lax.sin(x)))
        return lax.mul(out["y"], lax.convert_element_type(out["n"], np.float64))

    assert f(3.0, 2.0) == pytest.approx(6.0)
    assert f(3.0, -2.0) == pytest.approx(2 * 9 * np.sin(-2.0))
    g = xform.grad(f, argnums=(0, 1))
    np.testing.assert_allclose(g(3.0, 2.0), (2.0, 3.0))
    np.testing.assert_allclose(g(3.0, -2.0), (2 * 2 * 3 * np.sin(-2.0), 2 * 9 * np.cos(-2.0)))
    xform.check_grads(f, (3.0, -2.0), order=2)


def test_switch_clamps_and_differentiates():
    branches = [lax.sin, lax.cos, lambda x: lax.mul(x, x)]
    f = lambda i, x: lax.switch(i, branches, x)  # noqa: E731
    x = 0.4
    for i, (v, d) in enumerate([(np.sin(x), np.cos(x)), (np.cos(x), -np.sin(x)), (x * x, 2 * x)]):
        assert f(i, x) == pytest.approx(v)
        assert xform.grad(f, argnums=1)(i, x) == pytest.approx(d)
    assert f(-5, x) == pytest.approx(np.sin(x))  # clamped to 0
    assert f(7, x) == pytest.approx(x * x)  # clamped to 2
    for i in range(3):
        xform.check_grads(lambda x: f(i, x), (x,), order=2)


def test_cond_switch_vmap_with_batched_predicate():
    xs = np.array([-1.5, -0.2, 0.3, 2.0])
    np.testing.assert_allclose(xform.vmap(piecewise)(xs), [piecewise(x) for x in xs])
    np.testing.assert_allclose(xform.vmap(xform.grad(piecewise))(xs),
                               [xform.grad(piecewise)(x) for x in xs])
    # grad of a vmapped cond (select under linearize)
    g = xform.grad(lambda xs: lax.reduce_sum(xform.vmap(piecewise)(xs), (0,)))(xs)
    np.testing.assert_allclose(g, np.where(xs < 0, -2 * xs, np.cos(xs)))
    branches = [lax.sin, lax.cos, lambda x: lax.mul(x, x)]
    idx = np.array([0, 1, 2, 9, -3])
    vals = np.arange(5.0)
    out = xform.vmap(lambda i, x: lax.switch(i, branches, x))(idx, vals)
    np.testing.assert_allclose(out, [lax.switch(i, branches, x) for i, x in zip(idx, vals)])
    # unbatched index, batched operand: stays a cond
    f = xform.vmap(lambda x: lax.switch(1, branches, x))
    np.testing.assert_allclose(f(vals), np.cos(vals))
    # batched predicate, unbatched operand
    out = xform.vmap(lambda p: lax.cond(p, lax.sin, lax.cos, 0.5))(np.array([True, False]))
    np.testing.assert_allclose(out, [np.sin(0.5), np.cos(0.5)])


def test_cond_mismatched_branches_error_shows_both_signatures():
    with pytest.raises(TypeError) as e:
        lax.cond(True, lambda x: x, lambda x: (x, x), np.ones(3))
    msg = str(e.value)
    assert "true_fun" in msg and "false_fun" in msg and "f64[3]" in msg and "(f64[3], f64[3])" in msg
    with pytest.raises(TypeError, match=r"f32\[3\].*\n.*f64\[3\]|f64\[3\].*\n.*f32\[3\]"):
        lax.cond(True, lambda x: x, lambda x: lax.convert_element_type(x, np.float32), np.ones(3))
    with pytest.raises(TypeError, match=r"branch 1"):
        lax.switch(0, [lambda x: x, lambda x: lax.reduce_sum(x, (0,))], np.ones(2))
    # Python scalars (weakly typed) adopt the other branch's dtype, as in JAX.
    out = lax.cond(False, lambda x: x, lambda x: 0.0, np.float32(2.0))
    assert out.dtype == np.float32


def test_cond_staged_and_jit_traced():
    jaxpr = xform.make_jaxpr(piecewise)(1.0)
    assert [e.primitive.name for e in jaxpr.eqns][-1] == "cond"
    assert run_jaxpr(jaxpr, -2.0) == pytest.approx(-4.0)
    # grad of a jitted function (the jit is inlined under make_jaxpr; its JVP is split)
    gj = xform.make_jaxpr(xform.grad(xform.jit(piecewise)))(1.0)
    assert run_jaxpr(gj, 0.3) == pytest.approx(np.cos(0.3))
    assert run_jaxpr(gj, -0.3) == pytest.approx(0.6)


# -- while_loop / fori_loop --------------------------------------------------------------


def newton_sqrt(a):
    """sqrt(a) by Newton iterations until converged."""
    def cond_fun(x):
        return lax.gt(lax.abs(lax.sub(lax.mul(x, x), a)), 1e-12 * a)

    def body_fun(x):
        return lax.mul(0.5, lax.add(x, lax.div(a, x)))

    return lax.while_loop(cond_fun, body_fun, lax.add(a, 1.0))


def test_while_newton_value_and_jvp():
    for a in (2.0, 9.0, 1e4):
        assert newton_sqrt(a) == pytest.approx(np.sqrt(a), rel=1e-12)
        y, t = xform.jvp(newton_sqrt, (a,), (1.0,))
        assert t == pytest.approx(0.5 / np.sqrt(a), rel=1e-8)
    np.testing.assert_allclose(xform.jacfwd(newton_sqrt)(4.0), 0.25, rtol=1e-8)
    xform.check_grads(newton_sqrt, (3.0,), order=2, modes=("fwd",))


def test_while_pytree_carry_and_counter():
    def f(x):
        return lax.while_loop(lambda c: lax.lt(c["i"], 5),
                              lambda c: {"i": lax.add(c["i"], 1), "x": lax.mul(c["x"], x)},
                              {"i": 0, "x": 1.0})

    out = f(2.0)
    assert out["i"] == 5 and out["x"] == pytest.approx(32.0)
    assert xform.jvp(lambda x: f(x)["x"], (2.0,), (1.0,))[1] == pytest.approx(5 * 16.0)


def test_while_vmap_batched_predicate_runs_until_all_lanes_done():
    def collatz_steps(n):
        def body(c):
            n, k = c
            n = lax.select(lax.eq(lax.rem(n, 2), 0), lax.div(n, 2), lax.add(lax.mul(n, 3), 1))
            return n, lax.add(k, 1)

        return lax.while_loop(lambda c: lax.gt(c[0], 1), body, (n, 0))[1]

    ns = np.array([1, 2, 3, 6, 7, 27])
    np.testing.assert_array_equal(xform.vmap(collatz_steps)(ns), [0, 1, 7, 8, 16, 111])
    a = np.array([2.0, 9.0, 100.0])
    np.testing.assert_allclose(xform.vmap(newton_sqrt)(a), np.sqrt(a), rtol=1e-12)
    # forward mode of a batched while, and batching of its JVP
    np.testing.assert_allclose(xform.jvp(xform.vmap(newton_sqrt), (a,), (np.ones(3),))[1],
                               0.5 / np.sqrt(a), rtol=1e-8)
    np.testing.assert_allclose(xform.vmap(lambda a: xform.jvp(newton_sqrt, (a,), (1.0,))[1])(a),
                               0.5 / np.sqrt(a), rtol=1e-8)
    # batched operand only in the body constants (unbatched predicate)
    f = xform.vmap(lambda s: lax.while_loop(lambda c: lax.lt(c[0], 3),
                                            lambda c: (lax.add(c[0], 1), lax.mul(c[1], s)),
                                            (0, 1.0))[1])
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), [1.0, 8.0, 27.0])


def test_while_reverse_mode_error_suggests_scan():
    for fn in (xform.grad(newton_sqrt), xform.grad(xform.jit(newton_sqrt))):
        with pytest.raises(ValueError) as e:
            xform.make_jaxpr(fn)(2.0)
        msg = str(e.value)
        assert "Reverse-mode differentiation does not work for lax.while_loop" in msg
        assert "lax.scan" in msg and "fori_loop" in msg
    with pytest.raises(ValueError, match="Reverse-mode"):  # traced trip count
        xform.make_jaxpr(xform.grad(lambda x, n: lax.fori_loop(0, n, lambda i, y: lax.mul(y, 1.5), x)))(
            3.0, 4)


def test_while_type_errors():
    with pytest.raises(TypeError, match=r"(?s)init_val.*f64\[\].*body_fun output.*f64\[2\]"):
        lax.while_loop(lambda x: True, lambda x: lax.broadcast_in_dim(x, (2,), ()), 1.0)
    with pytest.raises(TypeError, match="boolean scalar"):
        lax.while_loop(lambda x: x, lambda x: x, 1.0)


def test_fori_loop_static_bounds_is_a_differentiable_scan():
    f = lambda x: lax.fori_loop(0, 5, lambda i, y: lax.mul(y, x), 1.0)  # noqa: E731
    assert f(1.1) == pytest.approx(1.1 ** 5)
    assert xform.grad(f)(1.1) == pytest.approx(5 * 1.1 ** 4)
    assert xform.grad(xform.grad(f))(1.1) == pytest.approx(20 * 1.1 ** 3)
    jaxpr = xform.make_jaxpr(f)(1.1)
    assert count_eqns(jaxpr.jaxpr, "scan") == 1 and count_eqns(jaxpr.jaxpr, "while") == 0
    # the index is visible to the body
    g = lambda x: lax.fori_loop(2, 6, lambda i, y: lax.add(y, lax.mul(x, lax.convert_element_type(i, np.float64))), 0.0)  # noqa: E731,E501
    assert g(1.5) == pytest.approx(1.5 * (2 + 3 + 4 + 5))
    assert xform.grad(g)(1.5) == pytest.approx(14.0)
    xform.check_grads(f, (0.9,), order=2)
    # traced bounds: a while_loop (forward mode works)
    h = lambda n, x: lax.fori_loop(0, n, lambda i, y: lax.mul(y, x), 1.0)  # noqa: E731
    jaxpr = xform.make_jaxpr(h)(3, 2.0)
    assert count_eqns(jaxpr.jaxpr, "while") == 1
    assert run_jaxpr(jaxpr, 4, 2.0) == pytest.approx(16.0)
    assert xform.jvp(lambda x: h(3, x), (2.0,), (1.0,))[1] == pytest.approx(12.0)
    np.testing.assert_allclose(xform.vmap(h)(np.array([1, 2, 3]), np.array([2.0, 2.0, 2.0])),
                               [2.0, 4.0, 8.0])


# -- scan ----------------------------------------------------------------------------------


def rnn_loss(W, U, xs, h0):
    """Sum of all hidden states of h' = tanh(W h + U x) plus the final state."""
    def step(h, x):
        h = lax.tanh(lax.add(lax.dot(W, h), lax.dot(U, x)))
        return h, lax.reduce_sum(h, (0,))

    h, ys = lax.scan(step, h0, xs)
    return lax.add(lax.reduce_sum(h, (0,)), lax.reduce_sum(ys, (0,)))


def rnn_loss_np(W, U, xs, h0):
    h, tot = h0, 0.0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
        tot += h.sum()
    return h.sum() + tot


def _rnn_args(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((3, 2)) * 0.5,
            rng.standard_normal((n, 2)), rng.standard_normal(3) * 0.1)


def _num_grad(f, args, i, eps=1e-6):
    x = args[i]
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        a_plus = list(args)
        a_minus = list(args)
        a_plus[i] = x + e
        a_minus[i] = x - e
        g[idx] = (f(*a_plus) - f(*a_minus)) / (2 * eps)
    return g


def test_scan_rnn_value_and_gradient():
    args = _rnn_args()
    assert rnn_loss(*args) == pytest.approx(rnn_loss_np(*args), rel=1e-12)
    grads = xform.grad(rnn_loss, argnums=(0, 1, 2, 3))(*args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, _num_grad(rnn_loss_np, args, i), rtol=1e-6, atol=1e-8)
    xform.check_grads(rnn_loss, args, order=2)


def test_scan_grad_stores_only_per_iteration_residuals():
    W, U, xs, h0 = _rnn_args(n=50)
    _, lin = linearize_flat(lambda *a: [rnn_loss(*a)], [W, U, xs, h0])
    shapes = sorted(np.shape(c) for c in lin.closed.consts)
    # W and U (loop invariant, once), xs (reused), and per iteration: the previous
    # state h and tanh' (two (n, 3) stacks). No unrolled program: one scan equation.
    assert shapes == sorted([(3, 3), (3, 2), (50, 2), (50, 3), (50, 3)])
    assert [e.primitive.name for e in lin.closed.jaxpr.eqns].count("scan") == 1


def test_scan_jaxpr_size_does_not_depend_on_length():
    W, U, _, h0 = _rnn_args()
    sizes = []
    for n in (10, 10_000):
        xs = np.zeros((n, 2))
        j = xform.make_jaxpr(rnn_loss)(W, U, xs, h0)
        jg = xform.make_jaxpr(xform.grad(rnn_loss))(W, U, xs, h0)
        sizes.append((count_eqns(j.jaxpr), count_eqns(jg.jaxpr)))
    assert sizes[0] == sizes[1]
    assert sizes[0][1] < 100


def test_scan_grad_of_jit_traced():
    args = _rnn_args()
    gj = xform.make_jaxpr(xform.grad(xform.jit(rnn_loss)))(*args)
    np.testing.assert_allclose(run_jaxpr(gj, *args), xform.grad(rnn_loss)(*args), rtol=1e-12)


def test_scan_reverse_pytrees_and_none():
    xs = (np.arange(4.0), np.arange(4))
    carry, ys = lax.scan(lambda c, x: ({"s": lax.add(c["s"], x[0]), "k": c["k"]}, (c["s"], None, x[1])),
                         {"s": 0.0, "k": np.ones(2)}, xs, reverse=True)
    assert carry["s"] == 6.0 and ys[1] is None
    np.testing.assert_allclose(ys[0], [6.0, 5.0, 3.0, 0.0])
    np.testing.assert_array_equal(ys[2], [0, 1, 2, 3])
    c, ys = lax.scan(lambda c, _: (lax.mul(c, 2.0), c), 1.0, None, length=4)
    assert c == 16.0 and list(ys) == [1.0, 2.0, 4.0, 8.0]
    c, ys = lax.scan(lambda c, x: (lax.add(c, x), x), 1.0, np.zeros((0,)))
    assert c == 1.0 and ys.shape == (0,)
    np.testing.assert_allclose(lax.map(lambda x: lax.mul(x, x), np.arange(4.0)), [0, 1, 4, 9])
    # reverse scan gradient
    f = lambda xs: lax.scan(lambda c, x: (lax.sin(lax.mul(c, x)), c), 0.5, xs, reverse=True)[1]  # noqa: E731
    xform.check_grads(f, (np.array([0.3, 1.2, -0.7]),), order=2)


def test_scan_hessian_and_higher_order():
    def h(xs):
        return lax.scan(lambda c, x: (lax.mul(lax.sin(c), x), None), 1.0, xs)[0]

    xs = np.array([0.5, 1.5, -0.7])
    xform.check_grads(h, (xs,), order=3)
    H = xform.hessian(h)(xs)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    np.testing.assert_allclose(H, xform.jacfwd(xform.jacfwd(h))(xs), rtol=1e-10, atol=1e-12)


def test_scan_vmap():
    def f(w, xs):
        return lax.scan(lambda c, x: (lax.add(lax.mul(c, w), x), lax.mul(c, 2.0)), 0.0, xs)

    ws = np.array([0.5, 1.0, -2.0])
    xs = np.arange(4.0)
    out = xform.vmap(f, in_axes=(0, None))(ws, xs)
    ref = [f(w, xs) for w in ws]
    np.testing.assert_allclose(out[0], [r[0] for r in ref])
    np.testing.assert_allclose(out[1], np.stack([r[1] for r in ref]))
    X = np.arange(12.0).reshape(4, 3)
    out = xform.vmap(f, in_axes=(None, 1))(0.5, X)
    ref = [f(0.5, X[:, j]) for j in range(3)]
    np.testing.assert_allclose(out[0], [r[0] for r in ref])
    np.testing.assert_allclose(out[1], np.stack([r[1] for r in ref]))
    # per-example gradients of the RNN
    W, U, _, h0 = _rnn_args()
    batch = np.random.default_rng(1).standard_normal((3, 5, 2))
    g = xform.vmap(xform.grad(rnn_loss, argnums=2), in_axes=(None, None, 0, None))(W, U, batch, h0)
    for b in range(3):
        np.testing.assert_allclose(g[b], xform.grad(rnn_loss, argnums=2)(W, U, batch[b], h0),
                                   rtol=1e-12)
    # grad of a vmapped scan (batched carry under linearize)
    gv = xform.grad(lambda W: lax.reduce_sum(
        xform.vmap(rnn_loss, in_axes=(None, None, 0, None))(W, U, batch, h0), (0,)))(W)
    np.testing.assert_allclose(gv, sum(xform.grad(rnn_loss)(W, U, batch[b], h0) for b in range(3)),
                               rtol=1e-10)


def test_scan_type_errors():
    with pytest.raises(TypeError, match=r"(?s)input carry.*f64\[\].*output carry.*f64\[2\]"):
        lax.scan(lambda c, x: (lax.broadcast_in_dim(c, (2,), ()), x), 0.0, np.ones(3))
    with pytest.raises(TypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, np.ones(3))
    with pytest.raises(ValueError, match="length"):
        lax.scan(lambda c, x: (c, x), 0.0, None)
    with pytest.raises(ValueError, match="leading axis"):
        lax.scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(4)))
    # a weakly typed init adopts the body's dtype
    c, _ = lax.scan(lambda c, x: (lax.add(lax.convert_element_type(c, np.float32), x), None),
                    0.0, np.ones(3, np.float32))
    assert c.dtype == np.float32 and c == 3.0


def test_nested_control_flow_gradients():
    def f(x):
        def body(c, xi):
            y = lax.cond(lax.gt(xi, 0.0), lambda a: lax.mul(a, xi), lax.sin, c)
            inner = lax.fori_loop(0, 2, lambda i, z: lax.mul(z, 1.1), y)
            return inner, y
        c, ys = lax.scan(body, x, np.array([0.5, -1.0, 2.0]))
        return lax.add(c, lax.reduce_sum(ys, (0,)))

    xform.check_grads(f, (0.3,), order=2)
    xs = np.array([0.3, -0.4])
    np.testing.assert_allclose(xform.vmap(xform.grad(f))(xs), [xform.grad(f)(x) for x in xs])


jit_only = pytest.mark.filterwarnings("ignore")


@jit_only
def test_jit_compiled_control_flow():
    args = _rnn_args()
    assert xform.jit(rnn_loss)(*args) == pytest.approx(rnn_loss(*args), rel=1e-12)
    np.testing.assert_allclose(xform.jit(xform.grad(rnn_loss))(*args), xform.grad(rnn_loss)(*args),
                               rtol=1e-10)
    for x in (-1.3, 0.7):
        assert xform.jit(piecewise)(x) == pytest.approx(piecewise(x))
    assert xform.jit(newton_sqrt)(2.0) == pytest.approx(np.sqrt(2.0))


def test_python_float_never_becomes_an_integer_carry_or_branch_output():
    """A weakly typed value takes a strong dtype of its kind or higher only (as in JAX):
    a Python float is not silently truncated to an int32 branch output or carry."""
    with pytest.raises(TypeError, match="cond: true_fun and false_fun output must have identical"):
        lax.cond(False, lambda x: x, lambda x: 1.5, np.int32(2))
    with pytest.raises(TypeError, match="switch: branch 0"):
        lax.switch(1, [lambda: np.int32(1), lambda: 2.5])
    with pytest.raises(TypeError, match="while_loop: body_fun output and input must have"):
        lax.while_loop(lambda c: c < 1, lambda c: (c + 1).astype(np.int32), 0.75)
    with pytest.raises(TypeError, match=r"fori_loop: body_fun \(<lambda>\) must return a value of "
                                        r"the same type as init_val.*\n  init_val: +f64\[\]\n"
                                        r"  body_fun output: i32\[\]"):
        lax.fori_loop(0, 2, lambda i, c: (c * 2).astype(np.int32), 0.75)
    with pytest.raises(TypeError, match="fori_loop: body_fun"):  # traced bounds: a while_loop
        xform.jit(lambda n: lax.fori_loop(0, n, lambda i, c: (c * 2).astype(np.int32), 0.75))(3)
    # same kind or higher is still promoted
    assert lax.cond(False, lambda x: x, lambda x: 1, np.float32(2)).dtype == np.float32
    out = lax.fori_loop(0, 3, lambda i, c: c * np.float32(2), 1.0)
    assert out == 8.0 and out.dtype == np.float32


def test_switch_index_wraps_to_int32_then_clamps_like_traced_indices():
    def h(i):
        return lax.switch(i, [lambda: 1.0, lambda: 2.0, lambda: 3.0])

    for i in (np.int64(2**32 + 1), np.int64(-(2**40)), np.int64(2**31 + 5), 7, -3):
        assert h(i) == xform.jit(h)(i)


@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_of_a_pytree_linear_recurrence(reverse):
    """h[t] = a[t] * h[t-1] + b[t] as an associative scan over pairs (a, b)."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((9, 2)), rng.standard_normal((9, 2))

    def combine(p, q):
        return (q[0] * p[0], q[0] * p[1] + q[1])

    def reference(a, b):
        h, out = np.zeros(2), []
        order = range(8, -1, -1) if reverse else range(9)
        for t in order:
            h = a[t] * h + b[t]
            out.append(h)
        return np.array(out[::-1] if reverse else out)

    got = lax.associative_scan(combine, (a, b), reverse=reverse)[1]
    np.testing.assert_allclose(got, reference(a, b), rtol=1e-12)
    jitted = xform.jit(lambda a, b: lax.associative_scan(combine, (a, b), reverse=reverse)[1])
    np.testing.assert_allclose(jitted(a, b), reference(a, b), rtol=1e-12)
    g = xform.grad(lambda a: lax.associative_scan(combine, (a, b), reverse=reverse)[1].sum())(a)
    eps, fd = 1e-6, np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        d = np.zeros_like(a)
        d[idx] = eps
        fd[idx] = (reference(a + d, b).sum() - reference(a - d, b).sum()) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="associative_scan: every array of elems needs length 9"):
        lax.associative_scan(combine, (a, b[:3]))


def test_fori_loop_index_dtype_must_hold_every_index():
    with pytest.raises(TypeError, match=r"fori_loop: the loop index has dtype uint8 .* \[250, 260\)"):
        lax.fori_loop(np.uint8(250), 260, lambda i, c: c + i, 0)
    assert lax.fori_loop(np.uint8(250), 256, lambda i, c: c + i.astype(np.int64), 0) == sum(range(250, 256))


def test_python_int_that_does_not_fit_the_joined_dtype_is_an_overflow_error():
    """numpy raises OverflowError for uint8 + 300; no silent wrap-around here either."""
    with pytest.raises(OverflowError, match="cond: Python integer 300 out of bounds for uint8"):
        lax.cond(True, lambda: 300, lambda: np.uint8(2))
    with pytest.raises(OverflowError, match="Python integer -1 out of bounds for uint8"):
        lax.fori_loop(0, 1, lambda i, c: c + np.uint8(3), -1)
    with pytest.raises(OverflowError, match="while_loop: Python integer 300 out of bounds for int8"):
        lax.while_loop(lambda c: c < 5, lambda c: c + np.int8(1), 300)
    with pytest.raises(OverflowError, match="out of bounds for int32"):
        xform.jit(lambda p: lax.cond(p, lambda: 2**40, lambda: np.int32(2)))(True)
    assert lax.cond(True, lambda: 200, lambda: np.uint8(2)) == 200
    assert lax.fori_loop(0, 3, lambda i, c: c + np.uint8(3), 1) == 10
