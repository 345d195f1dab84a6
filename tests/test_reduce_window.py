"""Windowed reductions (xform.lax.reduce_window and friends) and the cumulative ops:
values against a direct numpy loop reference written here (and JAX when installed);
padding, strides, base and window dilation; max-pool gradients to the first arg-max;
finite-difference derivatives; vmap against a loop; jit against eager."""
import numpy as np
import pytest
from _window_reference import explicit_pads

import xform
from xform import lax
from xform.lax import windowed

rng = np.random.default_rng(141)


# -- reference: an explicit loop over output positions and window offsets -----------------------


def _window_elements(shape, wd, ws, pads, bd, wdl):
    """For every output index: the operand indices its window reads (padding and
    dilation holes skipped), in window order."""
    dil = [(n - 1) * b + 1 if n else 0 for n, b in zip(shape, bd)]
    padded = [d + lo + hi for d, (lo, hi) in zip(dil, pads)]
    span = [(k - 1) * d + 1 for k, d in zip(wd, wdl)]
    out_shape = tuple((p - s) // st + 1 if p >= s else 0 for p, s, st in zip(padded, span, ws))
    windows = {}
    for o in np.ndindex(*out_shape):
        elems = []
        for k in np.ndindex(*wd):
            idx = []
            for d in range(len(shape)):
                p = o[d] * ws[d] + k[d] * wdl[d] - pads[d][0]
                if p < 0 or p % bd[d] or p // bd[d] >= shape[d]:
                    break
                idx.append(p // bd[d])
            else:
                elems.append(tuple(idx))
        windows[o] = elems
    return out_shape, windows


def rw_ref(x, init, op, wd, ws, padding, bd=None, wdl=None):
    bd = bd or (1,) * x.ndim
    wdl = wdl or (1,) * x.ndim
    out_shape, windows = _window_elements(x.shape, wd, ws, explicit_pads(padding, x.shape, wd, ws), bd, wdl)
    out = np.empty(out_shape, x.dtype)
    for o, elems in windows.items():
        acc = x.dtype.type(init)
        for e in elems:
            acc = op(acc, x[e])
        out[o] = acc
    return out


def select_ref(t, x, which, wd, ws, padding, bd=None, wdl=None):
    """(gathered tangent, scattered source) of the first max/min of each window; padding
    counts as the identity and may be selected (then nothing is gathered or scattered)."""
    bd = bd or (1,) * x.ndim
    wdl = wdl or (1,) * x.ndim
    pads = explicit_pads(padding, x.shape, wd, ws)
    out_shape, _ = _window_elements(x.shape, wd, ws, pads, bd, wdl)
    gathered = np.zeros(out_shape)
    chosen = {}
    for o in np.ndindex(*out_shape):
        best, pos = None, None
        for k in np.ndindex(*wd):
            idx = []
            for d in range(x.ndim):
                p = o[d] * ws[d] + k[d] * wdl[d] - pads[d][0]
                if p < 0 or p % bd[d] or p // bd[d] >= x.shape[d]:
                    idx = None
                    break
                idx.append(p // bd[d])
            v = x[tuple(idx)] if idx is not None else (-np.inf if which == "max" else np.inf)
            if best is None or (v > best if which == "max" else v < best) or (v != v and best == best):
                best, pos = v, (tuple(idx) if idx is not None else None)
        chosen[o] = pos
        gathered[o] = t[pos] if pos is not None else 0.0
    return gathered, chosen


# -- cases: (shape, window, strides, padding, base_dilation, window_dilation) -------------------------

CASES = [
    ((2, 3, 7, 6), (1, 1, 2, 2), (1, 1, 2, 2), "VALID", None, None),
    ((2, 3, 7, 6), (1, 1, 3, 3), (1, 1, 2, 2), "SAME", None, None),
    ((2, 7, 6, 3), (1, 3, 2, 1), (1, 2, 1, 1), "SAME_LOWER", None, None),
    ((3, 7, 6), (1, 3, 3), (1, 2, 2), ((0, 0), (1, 2), (-1, 1)), (1, 2, 1), (1, 1, 2)),
    ((9,), (3,), (2,), ((1, 1),), None, (2,)),
    ((9,), (3,), (2,), ((1, 1),), (2,), None),
    ((2, 5, 4, 3), (2, 2, 2, 1), (1, 2, 1, 1), "VALID", None, (1, 1, 2, 1)),
    ((4, 5), (2, 3), (1, 1), ((2, 2), (0, 3)), None, None),
]

MONOIDS = [(0.0, lax.add, np.add), (-np.inf, lax.max, np.maximum), (np.inf, lax.min, np.minimum),
           (1.0, lax.mul, np.multiply)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("init,op,npop", MONOIDS)
def test_values_against_loop_reference(case, init, op, npop):
    shape, wd, ws, pad, bd, wdl = case
    x = rng.standard_normal(shape)
    got = lax.reduce_window(x, init, op, wd, ws, pad, bd, wdl)
    want = rw_ref(x, init, npop, wd, ws, pad, bd, wdl)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_monoids_become_their_primitives_and_others_fold():
    x = rng.standard_normal((4, 6))

    def prims(f):
        return [e.primitive for e in xform.make_jaxpr(f)(x).eqns]

    args = ((2, 2), (1, 1), "SAME")
    assert prims(lambda x: lax.reduce_window(x, 0.0, lax.add, *args)) == [windowed.reduce_window_sum_p]
    assert prims(lambda x: lax.reduce_window(x, -np.inf, lax.max, *args)) == [windowed.reduce_window_max_p]
    assert prims(lambda x: lax.reduce_window(x, np.inf, lax.min, *args)) == [windowed.reduce_window_min_p]
    # a non-identity initial value is folded in once per window (padding is skipped)
    got = lax.reduce_window(x, 0.5, lax.add, *args)
    assert prims(lambda x: lax.reduce_window(x, 0.5, lax.add, *args)) == [windowed.reduce_window_p]
    np.testing.assert_allclose(got, rw_ref(x, 0.5, np.add, (2, 2), (1, 1), "SAME"), rtol=1e-13)
    np.testing.assert_allclose(lax.reduce_window_sum(x, *args), lax.reduce_window(x, 0.0, lax.add, *args))
    np.testing.assert_allclose(lax.reduce_window_max(x, *args), rw_ref(x, -np.inf, np.maximum, *args))
    np.testing.assert_allclose(lax.reduce_window_min(x, *args), rw_ref(x, np.inf, np.minimum, *args))


def test_general_computation_and_pytree_operands():
    x = rng.standard_normal((5, 6))
    f = lambda a, b: a * 0.5 + b  # noqa: E731  (not associative: the fold order matters)
    got = lax.reduce_window(x, 0.0, f, (2, 3), (1, 2), "SAME")
    np.testing.assert_allclose(got, rw_ref(x, 0.0, f, (2, 3), (1, 2), "SAME"), rtol=1e-13)
    # arg-max pooling: (value, index) pairs
    idx = np.arange(x.size, dtype=np.float64).reshape(x.shape)

    def pick(a, b):
        take_b = lax.gt(b[0], a[0])
        return lax.select(take_b, b[0], a[0]), lax.select(take_b, b[1], a[1])

    vals, where = lax.reduce_window((x, idx), (-np.inf, -1.0), pick, (2, 2), (2, 2), "VALID")
    np.testing.assert_array_equal(vals, lax.reduce_window_max(x, (2, 2), (2, 2), "VALID"))
    np.testing.assert_array_equal(x.ravel()[where.astype(int)], vals)
    assert lax.reduce_window_shape_tuple(x.shape, (2, 2), (2, 2), ((0, 0), (0, 0))) == vals.shape


def test_integer_and_bool_operands():
    xi = rng.integers(-9, 9, (4, 7)).astype(np.int32)
    for init, op, npop in ((0, lax.add, np.add), (np.iinfo(np.int32).min, lax.max, np.maximum)):
        got = lax.reduce_window(xi, init, op, (2, 3), (2, 1), "SAME")
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, rw_ref(xi, init, npop, (2, 3), (2, 1), "SAME"))
    xb = rng.random((4, 6)) > 0.7
    got = lax.reduce_window(xb, False, lax.max, (2, 2), (1, 1), "VALID")
    np.testing.assert_array_equal(got, rw_ref(xb, False, np.maximum, (2, 2), (1, 1), "VALID"))


@pytest.mark.parametrize("bad,match", [
    (lambda: lax.reduce_window(np.ones((3, 4)), 0.0, lax.add, (2,), (1,), "VALID"),
     "one entry per operand dimension"),
    (lambda: lax.reduce_window(np.ones((3, 4)), 0.0, lax.add, (2, 2), (0, 1), "VALID"), ">= 1"),
    (lambda: lax.reduce_window(np.ones((3, 4)), 0.0, lax.add, (2, 2), (1, 1), "FULL"), "padding"),
    (lambda: lax.reduce_window((np.ones(3), np.ones(3)), 0.0, lax.add, (2,), (1,), "VALID"),
     "same structure"),
    (lambda: lax.reduce_window_max(np.ones(3, complex), (2,), (1,), "VALID"), "dtype"),
])
def test_clear_errors(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bad()


# -- max-pool gradients: the first arg-max, as JAX's select_and_scatter_add -------------------------


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = np.array([[1., 3., 3., 0.], [3., 2., 1., 1.]])
    g = xform.grad(lambda x: lax.reduce_window_max(x, (2, 2), (2, 2), "VALID").sum())(x)
    np.testing.assert_array_equal(g, [[0., 1., 1., 0.], [0., 0., 0., 0.]])
    g = xform.grad(lambda x: lax.reduce_window_min(x, (1, 2), (1, 1), "SAME").sum())(x)
    np.testing.assert_array_equal(g, [[1., 1., 0., 2.], [0., 1., 2., 1.]])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("which", ["max", "min"])
def test_select_and_gather_and_scatter_against_reference(case, which):
    shape, wd, ws, pad, bd, wdl = case
    x = rng.standard_normal(shape)
    t = rng.standard_normal(shape)
    prim = lax.ge_p if which == "max" else lax.le_p
    gathered, chosen = select_ref(t, x, which, wd, ws, pad, bd, wdl)
    got = lax.select_and_gather_add(t, x, prim, wd, ws, pad, bd, wdl)
    np.testing.assert_array_equal(got, gathered)
    s = rng.standard_normal(gathered.shape)
    want = np.zeros(shape)
    for o, pos in chosen.items():
        if pos is not None:
            want[pos] += s[o]
    got = lax.select_and_scatter_add(s, x, prim, wd, ws, pad, bd, wdl)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


# -- derivatives ------------------------------------------------------------------------------------


# (max/min only where every window holds an operand element: else the result is +-inf)
@pytest.mark.parametrize("case,init,op", [
    (c, i, o) for c in (CASES[1], CASES[3], CASES[5], CASES[7]) for i, o in ((0.0, lax.add), (1.0, lax.mul))
] + [(c, i, o) for c in (CASES[1], CASES[2], CASES[4], CASES[5]) for i, o in ((-np.inf, lax.max),
                                                                             (np.inf, lax.min))])
def test_grads_against_finite_differences(case, init, op):
    shape, wd, ws, pad, bd, wdl = case
    x = rng.permutation(np.linspace(-2.0, 2.0, int(np.prod(shape)))).reshape(shape)  # no ties
    xform.check_grads(lambda x: lax.reduce_window(x, init, op, wd, ws, pad, bd, wdl), (x,),
                      order=2, modes=("fwd", "rev"))


def test_grad_of_general_computation_with_init_value():
    x = rng.standard_normal((4, 5))
    f = lambda a, b: a * 0.5 + b * b  # noqa: E731
    xform.check_grads(lambda x, i: lax.reduce_window(x, i, f, (2, 2), (1, 2), "SAME"),
                      (x, 0.3), order=2, modes=("fwd", "rev"))


# -- vmap --------------------------------------------------------------------------------------------


def _loop(f, args, axes):
    n = next(a.shape[ax] for a, ax in zip(args, axes) if ax is not None)
    return np.stack([f(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes)])
                     for i in range(n)])


@pytest.mark.parametrize("init,op", [(0.0, lax.add), (-np.inf, lax.max), (1.0, lax.mul)])
def test_vmap_against_loop(init, op):
    x = rng.standard_normal((4, 3, 5))
    f = lambda x: lax.reduce_window(x, init, op, (2, 2), (1, 2), "SAME")  # noqa: E731
    np.testing.assert_allclose(xform.vmap(f, in_axes=1)(x), _loop(f, [x], (1,)), rtol=1e-13)
    g = xform.grad(lambda x: (f(x) ** 2).sum())
    np.testing.assert_allclose(xform.vmap(g)(x), _loop(g, [x], (0,)), rtol=1e-12, atol=1e-12)


def test_vmap_select_primitives_with_one_operand_batched():
    x, t = rng.standard_normal((3, 4, 6)), rng.standard_normal((4, 6))
    f = lambda t, x: lax.select_and_gather_add(t, x, lax.ge_p, (2, 2), (2, 2), "VALID")  # noqa: E731
    np.testing.assert_array_equal(xform.vmap(f, in_axes=(None, 0))(t, x), _loop(f, [t, x], (None, 0)))
    s = rng.standard_normal((3, 2, 3))
    g = lambda s, x: lax.select_and_scatter_add(s, x, lax.ge_p, (2, 2), (2, 2), "VALID")  # noqa: E731
    np.testing.assert_array_equal(xform.vmap(g, in_axes=(0, None))(s, x[0]), _loop(g, [s, x[0]], (0, None)))


# -- jit ----------------------------------------------------------------------------------------------


def _operand(x2, shape):
    n = int(np.prod(shape))
    return lax.reshape(lax.slice_in_dim(lax.reshape(x2, (x2.size,)), 0, n), shape)


def _everything(x, x2, xi, xb, c):
    outs = []
    for j, case in enumerate(CASES):  # each case with two of the monoids (compile time)
        shape, wd, ws, pad, bd, wdl = case
        for init, op, _ in (MONOIDS[j % 4], MONOIDS[(j + 1) % 4]):
            outs.append(lax.reduce_window(_operand(x2, shape), init, op, wd, ws, pad, bd, wdl))
    f = lambda a, b: a * 0.5 + b  # noqa: E731
    outs.append(lax.reduce_window(x2[0], 0.0, f, (2, 3), (1, 2), "SAME"))
    outs.append(lax.reduce_window(xi, 0, lax.add, (2, 3), (2, 1), "SAME"))
    outs.append(lax.reduce_window(xb, False, lax.max, (2, 2), (1, 1), "VALID"))
    outs.append(xform.grad(lambda x: (lax.reduce_window_max(x, (1, 1, 3, 3), (1, 1, 2, 2), "SAME")
                                      ** 2).sum())(x))
    outs.append(xform.grad(lambda x: (lax.reduce_window(x, np.inf, lax.min, (1, 2, 2, 1), (1, 2, 1, 1),
                                                        ((0, 0), (1, 0), (-1, 1), (0, 0)),
                                                        (1, 1, 2, 1), (1, 1, 1, 1)) ** 2).sum())(x))
    outs.append(xform.grad(lambda x: (lax.reduce_window(x, 0.0, lax.add, (1, 1, 3, 2), (1, 1, 2, 1),
                                                        "SAME", (1, 1, 1, 2)) ** 2).sum())(x))
    outs.append(xform.jvp(lambda x: lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                                      "VALID"), (x,), (x * 2,))[1])
    outs += [lax.cumsum(c, 0), lax.cumprod(c, 1, reverse=True), lax.cummax(c, 2),
             lax.cumlogsumexp(c, 0), lax.cumlogsumexp(c, 1, reverse=True), lax.cumlogsumexp(c, 2)]
    return outs


_jit_everything = xform.jit(_everything)


def test_jit_against_eager():
    args = (rng.standard_normal((2, 7, 7, 6)), rng.standard_normal((9, 9, 9)),
            rng.integers(-9, 9, (4, 7)).astype(np.int32), rng.random((4, 6)) > 0.5,
            rng.standard_normal((3, 4, 5)))
    got, want = _jit_everything(*args), _everything(*args)
    assert len(got) == len(want)
    for g, e in zip(got, want):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


# -- cumulative ops ----------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumlogsumexp(axis, reverse):
    x = rng.standard_normal((3, 4, 5)) * 3
    x[0, 0, 0] = -np.inf
    got = lax.cumlogsumexp(x, axis, reverse=reverse)
    flip = (lambda v: np.flip(v, axis)) if reverse else (lambda v: v)
    np.testing.assert_allclose(got, flip(np.logaddexp.accumulate(flip(x), axis=axis)), rtol=1e-13)
    xs = rng.standard_normal((2, 3))
    xform.check_grads(lambda x: lax.cumlogsumexp(x, axis % 2, reverse=reverse), (xs,), order=2)
    np.testing.assert_allclose(xform.vmap(lambda x: lax.cumlogsumexp(x, axis % 2, reverse))(x),
                               _loop(lambda x: lax.cumlogsumexp(x, axis % 2, reverse), [x], (0,)),
                               rtol=1e-13)


def test_cumlogsumexp_rejects_integers():
    with pytest.raises(TypeError, match="cumlogsumexp"):
        lax.cumlogsumexp(np.arange(3))


# -- against JAX, when it is installed ----------------------------------------------------------------


@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[6]])
def test_against_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    shape, wd, ws, pad, bd, wdl = case
    x = rng.permutation(np.linspace(-2.0, 2.0, int(np.prod(shape)))).reshape(shape)
    for init, jop, op in ((0.0, jax.lax.add, lax.add), (-np.inf, jax.lax.max, lax.max),
                          (0.5, jax.lax.add, lax.add)):
        jf = lambda x: jax.lax.reduce_window(x, init, jop, wd, ws, pad, bd, wdl)  # noqa: E731,B023
        xf = lambda x: lax.reduce_window(x, init, op, wd, ws, pad, bd, wdl)  # noqa: E731,B023
        want = np.asarray(jf(x))
        np.testing.assert_allclose(xf(x), want, rtol=1e-13, atol=1e-13)
        if init != 0.5 and not (jop is jax.lax.max and wdl is not None):
            ct = rng.standard_normal(want.shape)
            np.testing.assert_allclose(xform.vjp(xf, x)[1](ct)[0], np.asarray(jax.vjp(jf, x)[1](ct)[0]),
                                       rtol=1e-13, atol=1e-13)
