"""jit of structured control flow (issue 5): cond/switch, while_loop, fori_loop and scan
lower to real branches and loops inside the one generated Numba function.

Every test compares ``jit(f)`` with eager ``f``. Compilation dominates the runtime, so
jitted functions are created once per module and shapes are small.
"""
import re
import time

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax


rng = np.random.default_rng(0)


def close(a, b, rtol=1e-10, atol=1e-12):
    for x, y in zip(xform.tree_util.tree_leaves(a), xform.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def loops_in(src: str) -> int:
    return len(re.findall(r"^\s*(?:for|while) ", src, re.M))


# -- cond / switch -------------------------------------------------------------------------


def branchy(p, x):
    """A cond with pytree operands and outputs, an integer output and a closure."""
    w = np.array([1.0, -2.0, 0.5])

    def t(ops):
        a, (b, n) = ops
        return {"s": xnp.sin(a) * w + b, "n": n + 1}

    def f(ops):
        a, (b, n) = ops
        return {"s": a * a - b, "n": n * 2}

    return lax.cond(p > 0.0, t, f, (x, (x[::-1], np.int32(3))))


jit_branchy = xform.jit(branchy)


@pytest.mark.parametrize("p", [1.5, -0.5])
def test_cond_both_branches_pytrees(p):
    x = np.array([0.3, -1.2, 2.0])
    out = jit_branchy(p, x)
    close(out, branchy(p, x))
    assert out["n"].dtype == np.int32


def _switch(i, x):
    branches = [lambda x: xnp.sin(x), lambda x: x * 2.0, lambda x: xnp.exp(-x * x)]
    return lax.switch(i, branches, x)


jit_switch = xform.jit(_switch)


def test_switch_every_branch_and_clamping():
    x = np.linspace(-1.0, 1.0, 4)
    for i in (-3, 0, 1, 2, 7):  # out-of-range indices are clamped
        close(jit_switch(i, x), _switch(i, x))
    src = jit_switch.lower(1, x).source
    assert "elif" in src and "else:" in src  # a real branch, not a select


# -- while_loop / fori_loop ----------------------------------------------------------------


def newton_sqrt(a):
    def cond_fun(c):
        x, n = c
        return (xnp.abs(x * x - a) > 1e-12 * a) & (n < 100)

    def body_fun(c):
        x, n = c
        return 0.5 * (x + a / x), n + 1

    return lax.while_loop(cond_fun, body_fun, (a + 1.0, 0))


jit_newton = xform.jit(newton_sqrt)


def test_while_newton():
    for a in (2.0, 9.0, 1e4):
        x, n = jit_newton(a)
        ex, en = newton_sqrt(a)
        assert x == pytest.approx(ex, rel=1e-14) and x == pytest.approx(np.sqrt(a), rel=1e-12)
        assert n == en
    assert "while True:" in jit_newton.lower(2.0).source
    # forward mode through the loop, compiled
    t = xform.jit(lambda a: xform.jvp(lambda b: newton_sqrt(b)[0], (a,), (1.0,))[1])(4.0)
    assert t == pytest.approx(0.25, rel=1e-10)


def fori_traced(n, x):
    return lax.fori_loop(0, n, lambda i, c: c * 0.5 + xnp.sin(c + i), x)


def fori_static(x):
    return lax.fori_loop(2, 9, lambda i, c: c * 0.5 + xnp.sin(c + i), x)


def test_fori_loop_traced_and_static_bounds():
    x = np.array([0.1, 0.7])
    jt = xform.jit(fori_traced)
    for n in (0, 1, 5):
        close(jt(n, x), fori_traced(n, x))
    close(xform.jit(fori_static)(x), fori_static(x))
    close(xform.jit(xform.grad(lambda x: xnp.sum(fori_static(x))))(x),
          xform.grad(lambda x: xnp.sum(fori_static(x)))(x))


# -- scan ------------------------------------------------------------------------------------


def rnn_loss(params, xs, h0):
    """h' = tanh(W h + U x + b); loss = sum of all hidden states + final state."""
    W, U, b = params

    def step(h, x):
        h = xnp.tanh(W @ h + U @ x + b)
        return h, h

    h, hs = lax.scan(step, h0, xs)
    return xnp.sum(h) + xnp.sum(hs)


H, D = 4, 3
rnn_params = (rng.standard_normal((H, H)) * 0.5, rng.standard_normal((H, D)) * 0.5,
              rng.standard_normal(H) * 0.1)
rnn_xs = rng.standard_normal((7, D))
rnn_h0 = rng.standard_normal(H) * 0.1
rnn_grad = xform.grad(rnn_loss, argnums=(0, 2))
jit_rnn_grad = xform.jit(rnn_grad)


def test_scan_rnn_value_and_gradients():
    args = (rnn_params, rnn_xs, rnn_h0)
    assert xform.jit(rnn_loss)(*args) == pytest.approx(rnn_loss(*args), rel=1e-13)
    expect = rnn_grad(*args)
    close(jit_rnn_grad(*args), expect)
    close(xform.grad(xform.jit(rnn_loss), argnums=(0, 2))(*args), expect)
    # the same gradient by finite differences of the (eager) loss
    W = rnn_params[0]
    e = np.zeros_like(W)
    e[1, 2] = 1e-6
    fd = (rnn_loss((W + e,) + rnn_params[1:], rnn_xs, rnn_h0)
          - rnn_loss((W - e,) + rnn_params[1:], rnn_xs, rnn_h0)) / 2e-6
    assert expect[0][0][1, 2] == pytest.approx(fd, rel=1e-6)


def test_scan_grad_lowers_to_two_loops_with_hoisted_weight_gradients():
    src = jit_rnn_grad.lower(rnn_params, rnn_xs, rnn_h0).source
    body = src[src.index("def kernel("):]
    # forward scan + transposed (reverse) scan; no unrolling, no per-step Python
    assert len(re.findall(r"for it\d+ in range\(7\)", body)) == 2
    assert re.search(r"si\d+ = 6 - it\d+", body)  # the reverse loop runs backwards
    # dW and dU (sums of outer products over the steps) accumulate in blocked products
    assert "blk" in body


def batched_rnn(W, xs):
    """Row-vector convention with a batch: h (B, H); dW contracts the batch too."""
    def step(h, x):
        h = xnp.tanh(h @ W + x)
        return h, xnp.sum(h * h, axis=1)

    h, ys = lax.scan(step, xnp.zeros((2, W.shape[0])), xs)
    return xnp.sum(h) + xnp.sum(ys)


def accumulate(w, xs):
    """A carry updated in place (c = c + t, t not a contraction) and a scalar carry."""
    def step(c, x):
        acc, s = c
        return (acc + xnp.sin(x * w), s + xnp.sum(x)), None

    return lax.scan(step, (xnp.zeros(3), 0.0), xs)[0]


def test_scan_accumulators_in_place_and_hoisted():
    W = rng.standard_normal((4, 4)) * 0.4
    xs = rng.standard_normal((5, 2, 4))  # 5 steps (not a multiple of the block), batch 2
    g = xform.grad(batched_rnn)
    jg = xform.jit(g)
    close(jg(W, xs), g(W, xs))
    assert "blk" in jg.lower(W, xs).source  # dW: blocked products, contracting the batch
    w = np.array([0.5, -1.0, 2.0])
    xs2 = rng.standard_normal((6, 3))
    ja = xform.jit(accumulate)
    close(ja(w, xs2), accumulate(w, xs2))
    assert "+=" in ja.lower(w, xs2).source


def rev_scan(xs, c0):
    def step(c, x):
        c = c * 0.9 + x
        return c, c * c

    return lax.scan(step, c0, xs, reverse=True)


def test_reverse_scan_scalar_slices_float32_and_empty():
    xs = np.linspace(-1, 1, 6)
    jr = xform.jit(rev_scan)
    close(jr(xs, 0.5), rev_scan(xs, 0.5))
    x32 = xs.astype(np.float32)
    c, ys = jr(x32, np.float32(0.5))
    assert c.dtype == np.float32 and ys.dtype == np.float32
    close((c, ys), rev_scan(x32, np.float32(0.5)), rtol=1e-6)
    close(jr(np.zeros(0), 0.5), rev_scan(np.zeros(0), 0.5))
    gr = xform.grad(lambda xs, c: xnp.sum(rev_scan(xs, c)[1]), argnums=(0, 1))
    close(xform.jit(gr)(xs, 0.5), gr(xs, 0.5))


def nested(x, xs):
    """scan whose body holds a cond (containing a fori_loop) and an inner scan."""
    def inner(c, y):
        return c + y * c, c

    def step(c, x):
        c = lax.cond(xnp.sum(c) > 0.0,
                     lambda c: lax.fori_loop(0, 3, lambda i, v: xnp.sin(v) + x, c),
                     lambda c: c * 0.5 - x, c)
        c, ys = lax.scan(inner, c, np.array([0.1, -0.2]))
        return c, ys

    return lax.scan(step, x, xs)


def test_nested_control_flow():
    x = np.array([0.3, -0.1])
    xs = np.array([0.5, -2.0, 1.0, 0.2])
    close(xform.jit(nested)(x, xs), nested(x, xs))
    gn = xform.grad(lambda x, xs: xnp.sum(nested(x, xs)[1]))
    close(xform.jit(gn)(x, xs), gn(x, xs))


# -- vmap and jit --------------------------------------------------------------------------


def piecewise(x):
    return lax.cond(x < 0.0, lambda x: -x * x, xnp.sin, x)


def test_vmap_of_jit_and_jit_of_vmap():
    xs = np.array([-1.5, -0.2, 0.3, 2.0])
    expect = np.where(xs < 0, -xs * xs, np.sin(xs))
    # batched predicate: cond becomes a select
    close(xform.vmap(xform.jit(piecewise))(xs), expect)
    close(xform.jit(xform.vmap(piecewise))(xs), expect)
    close(xform.jit(xform.vmap(xform.grad(piecewise)))(xs), np.where(xs < 0, -2 * xs, np.cos(xs)))
    # batched while: runs until every lane is done
    a = np.array([2.0, 9.0, 1e4])
    jw = xform.jit(xform.vmap(newton_sqrt))
    x, n = jw(a)
    close(x, np.sqrt(a))
    close(n, np.array([newton_sqrt(v)[1] for v in a]))
    close(xform.vmap(jit_newton)(a)[0], np.sqrt(a))
    # batched switch index, batched traced fori bounds
    idx = np.array([0, 2, 1])
    vals = np.array([0.3, 0.4, 0.5])
    close(xform.jit(xform.vmap(_switch))(idx, vals),
          np.array([_switch(i, v) for i, v in zip(idx, vals)]))
    ns = np.array([0, 2, 5])
    close(xform.jit(xform.vmap(fori_traced))(ns, vals),
          np.array([fori_traced(n, v) for n, v in zip(ns, vals)]))
    # scan: vmap over a batch of sequences, of the jitted gradient
    xb = rng.standard_normal((3, 7, D))
    close(xform.vmap(jit_rnn_grad, in_axes=(None, 0, None))(rnn_params, xb, rnn_h0),
          xform.vmap(rnn_grad, in_axes=(None, 0, None))(rnn_params, xb, rnn_h0))
    close(xform.jit(xform.vmap(rnn_loss, in_axes=(None, 0, None)))(rnn_params, xb, rnn_h0),
          np.array([rnn_loss(rnn_params, x, rnn_h0) for x in xb]))


# -- program size and compile time do not depend on the scan length ------------------------


def test_scan_source_and_compile_time_independent_of_length():
    def loss(params, xs, h0):
        W, U, b = params

        def step(h, x):
            return xnp.tanh(W @ h + U @ x + b), None

        return xnp.sum(lax.scan(step, h0, xs)[0])

    srcs, times = {}, {}
    for n in (10, 10_000):
        xs = rng.standard_normal((n, D))
        g = xform.jit(xform.grad(loss))
        srcs[n] = g.lower(rnn_params, xs, rnn_h0).source
        t0 = time.perf_counter()
        out = g(rnn_params, xs, rnn_h0)
        times[n] = time.perf_counter() - t0
        if n == 10:
            close(out, xform.grad(loss)(rnn_params, xs, rnn_h0))
    a, b = srcs[10], srcs[10_000]
    # only the numbers differ, and how the input projections U @ x of all steps (one
    # product, before the loop) are computed: by loops when small, else by BLAS
    small = re.compile(r"    (v\d+) = (c\d+)\.T\n    (d\d+) = alloc_empty\(\(\d+, \d+\), np.float64\)\n"
                       r"    dot_small\((c\d+), \1, \3\)")
    a = small.sub(r"    \3 = gemm(\4, np.int64(0), \2, np.int64(1))", a)
    assert re.sub(r"\d+", "N", a) == re.sub(r"\d+", "N", b)
    assert loops_in(b) < 40 and len(b) < 20_000
    # loose: length 10,000 compiles (and runs) about as fast as length 10
    assert times[10_000] < 3 * times[10] + 2.0
