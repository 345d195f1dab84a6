"""jit's matrix products and loop bodies (issue 15, steady-state speed): products read
transposed operands as they are (BLAS flags, or loops for small products), ``x @ x.T``
runs as a symmetric rank-k product, sums of products sharing an operand become one
product, scan accumulators sum several products per iteration in blocks, and loop
bodies reuse their temporary arrays.

Values are checked against numpy in float64 with the error bounds of ``_tolerance.py``
(sums of products), or exactly where the arithmetic is exact. Jitted functions are
module-level and return many cases at once (few compilations).
"""
import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.backend.numba.codegen import Emitter, Module
from xform.backend.numba.dot_rewrites import rewrite_dots
from xform.backend.numba.loop_buffers import hoist_allocations
from xform.core.eval import eval_jaxpr
from xform.core.ir import ClosedJaxpr
from xform.interpreters.transforms import dce_jaxpr

from _tolerance import assert_within, sum_of_products

rng = np.random.default_rng(7)


def _rand(shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


# -- products: every operand layout, small (loops) and large (BLAS, syrk) ----------------


def _outer(a, b):
    """The outer product as a contraction of nothing (what reverse mode produces;
    ``xnp.outer`` is an elementwise product)."""
    return lax.dot_general(a, b, (((), ()), ((), ())))


def _products(np_, a, b, a2, b2, v5, v7, u6, t3, t4, l1, l2, l3, x3):
    return (
        a @ v7,                # matrix-vector, rows contiguous
        a2.T @ v7,             # matrix-vector of a transposed matrix
        v5 @ a,                # vector-matrix
        v7 @ a2,               # vector-matrix (2-d operand 7 x 5)
        v5 @ b2.T[:5, :],      # vector-matrix of a transposed slice (strided operand)
        (_outer if np_ is xnp else np.outer)(v5, u6),  # outer product
        a @ b,                 # small matrix products: C @ C, C @ F, F @ C, F @ F
        a @ b2.T,
        a2.T @ b,
        a2.T @ b2.T,
        np_.dot(v7, v7),       # a 0-d result
        np_.tensordot(t3, t4, axes=([2], [0])),  # 3-d operand, reshaped
        l1 @ l2,               # BLAS products: C @ C, C @ F, F @ C
        l1 @ l3.T,
        l3.T @ l2.T,
        l1 @ l1.T,             # syrk: x @ x.T, x.T @ x, and over two free dims
        l1.T @ l1,
        np_.tensordot(x3, x3, axes=([2], [2])),
    )


jit_products = xform.jit(lambda *args: _products(xnp, *args))


def _some_products(np_, a, v, l1, l3):
    """One product of each kind, for the other dtypes (fewer compilations)."""
    return (a @ v, (_outer if np_ is xnp else np.outer)(v, v[:3]), l1 @ l3.T, l1 @ l1.T)


jit_some_products = xform.jit(lambda *args: _some_products(xnp, *args))


def _product_args(dtype):
    shapes = [(5, 7), (7, 6), (7, 5), (6, 7), (5,), (7,), (6,), (2, 3, 4), (4, 5),
              (40, 50), (50, 30), (30, 50), (4, 5, 30)]
    return [_rand(s, dtype) for s in shapes]


def _check_products(fn, jitted, args, dtype):
    outs = jitted(*args)
    for i, out in enumerate(outs):
        ref, tol = sum_of_products(lambda *a, i=i: fn(np, *a)[i], args, {}, dtype)
        assert np.asarray(out).dtype == dtype
        assert_within(out, ref, tol, err_msg=f"(case {i})")
    return outs


def test_products_every_layout_against_numpy():
    outs = _check_products(_products, jit_products, _product_args(np.float64), np.float64)
    # x @ x.T is symmetric exactly (one triangle, mirrored)
    for s in outs[15:17]:
        np.testing.assert_array_equal(s, s.T)


@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_products_other_dtypes(dtype):
    args = [_rand(s, dtype) for s in [(5, 7), (7,), (40, 50), (30, 50)]]
    outs = _check_products(_some_products, jit_some_products, args, dtype)
    np.testing.assert_array_equal(outs[3], outs[3].T)


def test_products_take_the_intended_paths():
    src = jit_products.lower(*_product_args(np.float64)).source
    assert "dot_small(" in src and "gemm(" in src
    assert src.count("syrk(") == 3


# -- jaxpr rewrites: transposed operands, sums of products ---------------------------------


def _rewritten(f, *args):
    closed = xform.make_jaxpr(f)(*args)
    j, changed = rewrite_dots(closed.jaxpr)
    new = ClosedJaxpr(dce_jaxpr(j), closed.consts)  # as the optimizer runs it
    xform.core.check_jaxpr(new)
    return closed, new, changed


def _count(closed, name):
    return sum(e.primitive.name == name for e in closed.jaxpr.eqns)


REWRITES = [  # (function, operand shapes, dot_generals left, transposes left)
    (lambda p, q, x: p @ x + q.T @ x, [(4, 5), (5, 4), (5, 3)], 1, 1),
    (lambda p, q, x: p @ x + q @ x, [(4, 5), (4, 5), (5, 3)], 1, 0),
    (lambda p, q, x: x @ p + x @ q.T, [(5, 4), (4, 5), (3, 5)], 1, 1),  # shared lhs
    (lambda g, f: g @ f + g.T @ f, [(4, 4), (4, 6)], 1, 1),  # the gradient of f @ f.T
    (lambda p, q, x: xnp.einsum("bij,bjk->bik", p, x) + xnp.einsum("bji,bjk->bik", q, x),
     [(2, 3, 4), (2, 4, 3), (2, 4, 5)], 1, None),  # batch dims
    (lambda a, b: a @ b.T, [(3, 4), (5, 4)], 1, 0),  # a transposed operand folds
    (lambda a, b: a.T @ b.T, [(4, 3), (5, 4)], 1, 0),
    # a permutation that reorders the free dims cannot fold: the result would change
    (lambda a, b: xnp.einsum("ijk,kl->jil", a, b), [(2, 3, 4), (4, 5)], 1, None),
    # the products contract x differently: nothing to merge
    (lambda p, q, x: p @ x + q @ x.T, [(4, 4), (4, 4), (4, 4)], 2, None),
]


@pytest.mark.parametrize("case", range(len(REWRITES)))
def test_dot_rewrites_keep_values(case):
    f, shapes, n_dots, n_transposes = REWRITES[case]
    args = [rng.standard_normal(s) for s in shapes]
    closed, new, _ = _rewritten(f, *args)
    got = eval_jaxpr(new.jaxpr, new.consts, *args)[0]
    ref, tol = sum_of_products(lambda *a: np.asarray(f(*a)), args, {}, np.float64)
    assert_within(got, ref, 2 * tol)
    assert _count(new, "dot_general") == n_dots
    if n_transposes is not None:
        assert _count(new, "transpose") == n_transposes


def test_merged_integer_products_are_exact():
    p, q, x = (rng.integers(-50, 50, s) for s in [(4, 5), (5, 4), (5, 3)])
    f = REWRITES[0][0]
    _, new, changed = _rewritten(f, p, q, x)
    assert changed
    np.testing.assert_array_equal(eval_jaxpr(new.jaxpr, new.consts, p, q, x)[0], p @ x + q.T @ x)


def gram_loss(f, s):
    g = f @ f.T / f.shape[1]
    return xnp.sum((g - s) ** 2)


jit_gram_grad = xform.jit(xform.grad(gram_loss))


def test_gram_gradient_is_one_syrk_and_one_product():
    f, s = rng.standard_normal((24, 40)), rng.standard_normal((24, 24)) * 0.1
    n = f.shape[1]
    d = 2.0 * (f @ f.T / n - s) / n
    ref = (d + d.T) @ f  # the gradient, by hand
    np.testing.assert_allclose(jit_gram_grad(f, s), ref, rtol=1e-10, atol=1e-12)
    low = jit_gram_grad.lower(f, s)
    assert sum(e.primitive.name == "dot_general" for e in low.jaxpr.jaxpr.eqns) == 2
    assert "syrk(" in low.source


# -- loops: accumulators with several products, carries, reused buffers ---------------------


def rk4_loss(a, y0):
    def f(y):
        return xnp.tanh(a @ y) - 0.1 * y

    def step(i, y):
        k1 = f(y)
        k2 = f(y + 0.05 * k1)
        k3 = f(y + 0.05 * k2)
        k4 = f(y + 0.1 * k3)
        return y + (0.1 / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    return xnp.sum(lax.fori_loop(0, 37, step, y0) ** 2)


jit_rk4_grad = xform.jit(xform.grad(rk4_loss, argnums=(0, 1)))


def rk4_grad_numpy(a, y0, steps=37, dt=0.1):
    """The gradient by a hand-written adjoint of the RK4 steps."""
    ys, y = [], y0
    for _ in range(steps):
        s1 = y
        k1 = np.tanh(a @ s1) - 0.1 * s1
        s2 = y + 0.5 * dt * k1
        k2 = np.tanh(a @ s2) - 0.1 * s2
        s3 = y + 0.5 * dt * k2
        k3 = np.tanh(a @ s3) - 0.1 * s3
        s4 = y + dt * k3
        k4 = np.tanh(a @ s4) - 0.1 * s4
        ys.append((s1, s2, s3, s4))
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    gy, ga = 2.0 * y, np.zeros_like(a)
    for s1, s2, s3, s4 in reversed(ys):
        def back(s, ck):
            t = (1.0 - np.tanh(a @ s) ** 2) * ck
            ga[...] += np.outer(t, s)
            return a.T @ t - 0.1 * ck
        c = dt / 6.0 * gy
        d4 = back(s4, c)
        d3 = back(s3, 2.0 * c + dt * d4)
        d2 = back(s2, 2.0 * c + 0.5 * dt * d3)
        d1 = back(s1, c + 0.5 * dt * d2)
        gy = gy + d1 + d2 + d3 + d4
    return ga, gy


def test_rk4_gradient_through_fori_loop():
    a, y0 = rng.standard_normal((6, 6)) / 2.5, rng.standard_normal(6)
    ga, gy = jit_rk4_grad(a, y0)
    ra, ry = rk4_grad_numpy(a, y0)
    np.testing.assert_allclose(ga, ra, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gy, ry, rtol=1e-9, atol=1e-12)
    src = jit_rk4_grad.lower(a, y0).source
    # the backward loop stacks the four outer products' operands instead of forming them,
    # in one pair of buffers (a slot each): one product per flush sums all four
    assert src.count("gemm(") == 2  # 1 flush in the loop, 1 after it
    assert "np.outer" not in src


def _accumulate(w, xs, ys):
    """A carry updated by a sum of several terms: two outer products of per-iteration
    values, an elementwise term and a term of a loop-invariant matrix."""
    def body(c, xy):
        x, y = xy
        u = xnp.tanh(x)
        c = c + _outer(u, y) + _outer(x * 2.0, y[::-1]) + 0.5 * w + xnp.sin(x)[:, None] * y
        return c, xnp.sum(c)

    return lax.scan(body, xnp.zeros((xs.shape[1], ys.shape[1])), (xs, ys))


jit_accumulate = xform.jit(_accumulate)


def test_scan_accumulator_with_several_terms():
    w, xs, ys = rng.standard_normal((3, 4)), rng.standard_normal((150, 3)), rng.standard_normal((150, 4))
    c, sums = jit_accumulate(w, xs, ys)
    rc, rs = np.zeros((3, 4)), []
    for x, y in zip(xs, ys):
        rc = rc + np.outer(np.tanh(x), y) + np.outer(2.0 * x, y[::-1]) + 0.5 * w + np.sin(x)[:, None] * y
        rs.append(rc.sum())
    # the stacked sums read the carry inside the loop: the plain (not blocked) path
    np.testing.assert_allclose(c, rc, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(sums, rs, rtol=1e-11, atol=1e-10)


def _accumulate_only(xs, ys):
    def body(c, xy):
        x, y = xy
        return c + _outer(xnp.tanh(x), y) + _outer(x * 2.0, y[::-1]) + xnp.sin(x)[:, None] * y, None

    return lax.scan(body, xnp.ones((xs.shape[1], ys.shape[1])), (xs, ys))[0]


jit_accumulate_only = xform.jit(_accumulate_only)


@pytest.mark.parametrize("n", [1, 150])  # a block per step; a full and a partial block
def test_scan_blocked_accumulator_with_several_products(n):
    xs, ys = rng.standard_normal((n, 3)), rng.standard_normal((n, 4))
    ref = np.ones((3, 4))
    for x, y in zip(xs, ys):
        ref = ref + np.outer(np.tanh(x), y) + np.outer(2.0 * x, y[::-1]) + np.sin(x)[:, None] * y
    np.testing.assert_allclose(jit_accumulate_only(xs, ys), ref, rtol=1e-11, atol=1e-11)


def _window_sums(buf, xs):
    """dynamic_slice / dynamic_update_slice in a scan body: a ring buffer of the last 3
    inputs (the carry written in place at a traced index) and their running sum."""
    def body(carry, x):
        b, i = carry
        b = lax.dynamic_update_slice(b, x[None, :], (i % 3, 0))
        window = lax.dynamic_slice(b, (0, 0), (3, b.shape[1]))
        return (b, i + 1), xnp.sum(window, axis=0) + b[i % 3]

    return lax.scan(body, (buf, 0), xs)


jit_window_sums = xform.jit(_window_sums)


def test_scan_with_dynamic_slices():
    buf, xs = np.zeros((3, 5)), rng.standard_normal((11, 5))
    (b, i), out = jit_window_sums(buf, xs)
    rb, ro = buf.copy(), []
    for k, x in enumerate(xs):
        rb[k % 3] = x
        ro.append(rb.sum(axis=0) + rb[k % 3])
    np.testing.assert_allclose(b, rb, rtol=1e-14)
    np.testing.assert_allclose(out, np.array(ro), rtol=1e-13, atol=1e-14)
    assert i == 11


def _carries(a, b, m):
    """Carries that are views of temporaries (a transpose, a reshape, a slice) and a
    swap of two carries: none of these buffers may be reused by the next iteration."""
    def body(i, c):
        a, b, m = c
        t = a * 0.5 + b                 # a temporary
        return (b, t, (m @ m.T * 0.25 + 1.0).T[::-1].reshape(m.shape))

    return lax.fori_loop(0, 7, body, (a, b, m))


jit_carries = xform.jit(_carries)


def test_loop_carries_that_are_views_and_swaps():
    a, b, m = rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal((3, 3)) * 0.3
    ra, rb, rm = a, b, m
    for _ in range(7):
        ra, rb, rm = rb, ra * 0.5 + rb, (rm @ rm.T * 0.25 + 1.0).T[::-1].reshape(rm.shape)
    out = jit_carries(a, b, m)
    np.testing.assert_allclose(out[0], ra, rtol=1e-14)
    np.testing.assert_allclose(out[1], rb, rtol=1e-14)
    np.testing.assert_allclose(out[2], rm, rtol=1e-12)


def _while_views(x):
    def cond(c):
        return c[1] < 5

    def body(c):
        x, k = c
        wide = xnp.concatenate([x @ x * 0.5, x.T * 2.0], axis=1)
        # the next carry is a strided view (columns of ``wide``): it is made contiguous
        # for the products of the next iteration
        return (lax.dynamic_slice(wide, (0, k % 3), (4, 4)), k + 1)

    return lax.while_loop(cond, body, (x, 0))[0]


jit_while_views = xform.jit(_while_views)


def test_while_loop_strided_carry():
    x = rng.standard_normal((4, 4)) * 0.6
    r = x
    for k in range(5):
        wide = np.concatenate([r @ r * 0.5, r.T * 2.0], axis=1)
        r = wide[:, k % 3:k % 3 + 4]
    np.testing.assert_allclose(jit_while_views(x), r, rtol=1e-12, atol=1e-14)


def _scalar_products(s0, xs):
    """A 0-d operand of dot_general and a reduction inside a scan body."""
    def body(s, x):
        y = lax.dot_general(s, x, (((), ()), ((), ())))
        return s * 0.5 + 0.05 * xnp.sum(y * y), y

    return lax.scan(body, s0, xs)


jit_scalar_products = xform.jit(_scalar_products)


def test_scan_scalar_dot_and_reductions():
    xs = rng.standard_normal((9, 4))
    s, ys = jit_scalar_products(np.float64(0.7), xs)
    rs, rys = 0.7, []
    for x in xs:
        y = rs * x
        rys.append(y)
        rs = rs * 0.5 + 0.05 * np.sum(y * y)
    np.testing.assert_allclose(s, rs, rtol=1e-13)
    np.testing.assert_allclose(ys, np.array(rys), rtol=1e-13)


# -- the buffer reuse pass on its own: which allocations leave the loop ---------------------


def test_hoist_allocations_keeps_buffers_the_carries_refer_to():
    em = Emitter(Module("k"), depth=1)
    em.line("c = np.empty((3,), np.float64)")
    header = len(em.lines)
    em.line("for it in range(10):")
    with em.indented():
        for ln in ["t1 = np.empty((3,), np.float64)",        # a temporary: moves
                   "t2 = np.empty((3, 1), np.float64)",      # the carry is a view of it: stays
                   "v = t2.reshape((3,))",
                   "s = np.full((4,), 0.0, np.float64)",     # moves, refilled in place
                   "n = np.empty((k,), np.float64)",         # a shape known only at run time
                   "if it > 2:",
                   "    t3 = np.empty((3,), np.float64)",    # conditional: stays
                   "c = v"]:
            em.line(ln)
    hoist_allocations(em, header, ["c"])
    text = "\n".join(em.lines)
    before, after = text.split("for it in range(10):")
    assert "t1 = alloc_empty((3,), np.float64)" in before
    assert "s = alloc_empty((4,), np.float64)" in before and "fill_array(s, 0.0)" in after
    for name in ("t2", "n", "t3"):
        assert f"{name} = np.empty(" in after and f"{name} = np.empty(" not in before


# -- loops updating arrays slice by slice: in place, not a copy of the array per step ------------


def _fill_rows(x, n):
    """A buffer filled one row per iteration (scan) and while a traced count runs."""
    def row(i, b):
        return lax.dynamic_update_slice(b, (xnp.sin(x * i) + b[i - 1])[None, :], (i, 0))

    def shift(i, b):  # the update is a view of the buffer itself: not in place
        return lax.dynamic_update_slice(b, lax.dynamic_slice(b, (0,), (5,)), (1,))

    def keep_old(i, c):  # another carry is a view of the buffer's old value: not in place
        b, old = c
        return (lax.dynamic_update_slice(b, xnp.full((1,), 10.0 * (i + 1)), (i,)),
                lax.dynamic_slice(b, (0,), (2,)))

    by_scan = lax.fori_loop(0, 6, row, xnp.zeros((6, x.shape[0])))
    by_while = lax.fori_loop(0, n, row, xnp.ones((6, x.shape[0])))
    shifted = lax.fori_loop(0, 3, shift, xnp.arange(6.0))
    kept = lax.fori_loop(0, 3, keep_old, (xnp.arange(6.0), xnp.zeros(2)))
    return by_scan, by_while, shifted, kept


jit_fill_rows = xform.jit(_fill_rows)


def test_loops_filling_a_buffer_in_place():
    x = rng.standard_normal(4)
    for n in (0, 4):
        rs, rw = np.zeros((6, 4)), np.ones((6, 4))
        for i in range(6):
            rs[i] = np.sin(x * i) + rs[i - 1]
        for i in range(n):
            rw[i] = np.sin(x * i) + rw[i - 1]
        out = jit_fill_rows(x, n)
        np.testing.assert_allclose(out[0], rs, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(out[1], rw, rtol=1e-14, atol=1e-15)
    shifted, (b, old) = np.arange(6.0), (np.arange(6.0), np.zeros(2))
    for i in range(3):
        shifted[1:] = shifted[:5].copy()
        old = b[:2].copy()
        b[i] = 10.0 * (i + 1)
    np.testing.assert_array_equal(out[2], shifted)
    np.testing.assert_array_equal(out[3][0], b)
    np.testing.assert_array_equal(out[3][1], old)
    lines = jit_fill_rows.lower(x, 3).source.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "while True:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for ln in lines[start + 1:]:
        if len(ln) - len(ln.lstrip()) <= indent:
            break
        body.append(ln)
    assert body and not any(".copy()" in ln for ln in body)  # the buffer: updated in place


def _rows_loss(xs, w):
    """Rows read by a traced index in a loop (dynamic_slice and gather): in reverse mode
    each iteration adds into one row of the gradient."""
    def step(i, c):
        r = lax.dynamic_index_in_dim(xs, i, keepdims=False)
        return c + xnp.tanh(r * w) + xnp.take(xs, xs.shape[0] - 1 - i, axis=0) * c * 0.1

    return xnp.sum(lax.fori_loop(0, xs.shape[0], step, xnp.zeros(xs.shape[1])) ** 2)


jit_rows_grad = xform.jit(xform.grad(_rows_loss, argnums=(0, 1)))


def test_gradient_of_rows_read_in_a_loop():
    xs, w = rng.standard_normal((12, 3)), rng.standard_normal(3)
    gx, gw = jit_rows_grad(xs, w)
    ex, ew = xform.grad(_rows_loss, argnums=(0, 1))(xs, w)  # eager: numpy primitives
    np.testing.assert_allclose(gx, ex, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(gw, ew, rtol=1e-11, atol=1e-13)
    xform.check_grads(_rows_loss, (xs, w), order=1, modes=["rev"])
