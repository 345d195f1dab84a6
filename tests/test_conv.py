"""Convolution (xform.lax.conv_general_dilated and helpers): values against a direct
numpy loop reference written here (and scipy.signal.correlate, and JAX when it is
installed), every layout, padding mode, stride, dilation and group count in 1-D, 2-D
and 3-D; derivatives against finite differences; vmap against a loop; jit against
eager (one compiled program for many cases)."""
import numpy as np
import pytest
import scipy.signal
from _tolerance import tolerance
from _window_reference import explicit_pads

import xform
from xform import lax
from xform.lax.convolution import ConvDimensionNumbers

rng = np.random.default_rng(14)


# -- reference: a direct loop over output positions and kernel taps ---------------------------------


def _spec(dn, ndim):
    if dn is None:
        return tuple(range(ndim)), tuple(range(ndim)), tuple(range(ndim))
    if isinstance(dn, ConvDimensionNumbers):
        return tuple(dn)
    perms = []
    rhs = dn[1]
    for s, pair in zip(dn, ("NC", "OI", "NC")):
        sp = [i for i, c in enumerate(s) if c not in pair]
        if s is not rhs:
            sp = sorted(sp, key=lambda i: rhs.index(s[i]))
        perms.append((s.index(pair[0]), s.index(pair[1])) + tuple(sp))
    return tuple(perms)


def conv_ref(x, w, strides, padding, lhs_dil=None, rhs_dil=None, dn=None, fg=1, bg=1,
             dtype=None):
    """out[n, o, q] = sum_{i, k} xpd[n, g*I + i, q*s + k*rd] * w[o, i, k], by explicit
    loops over (q, k) (xpd: lhs dilated by zeros then padded, negative pads crop)."""
    ls, rs, os_ = _spec(dn, x.ndim)
    dt = np.result_type(x.dtype, w.dtype) if dtype is None else np.dtype(dtype)
    X = np.transpose(x, ls).astype(dt)
    Wt = np.transpose(w, rs).astype(dt)
    nsp = x.ndim - 2
    ld = lhs_dil or (1,) * nsp
    rd = rhs_dil or (1,) * nsp
    ksp = [(k - 1) * r + 1 for k, r in zip(Wt.shape[2:], rd)]
    pads = explicit_pads(padding, X.shape[2:], ksp, strides)
    # dilate
    dil = [(n - 1) * d + 1 if n else 0 for n, d in zip(X.shape[2:], ld)]
    Xd = np.zeros(X.shape[:2] + tuple(dil), dt)
    Xd[(slice(None),) * 2 + tuple(slice(None, None, d) for d in ld)] = X
    # pad (negative pads crop)
    for ax, (lo, hi) in enumerate(pads):
        a = ax + 2
        if lo < 0:
            Xd = np.take(Xd, range(-lo, Xd.shape[a]), axis=a)
        if hi < 0:
            Xd = np.take(Xd, range(0, Xd.shape[a] + hi), axis=a)
        widths = [(0, 0)] * Xd.ndim
        widths[a] = (max(lo, 0), max(hi, 0))
        Xd = np.pad(Xd, widths)
    N, C = X.shape[:2]
    Ot, Ig = Wt.shape[:2]
    qs = [max(0, (p - k) // s + 1) if p >= k else 0 for p, k, s in zip(Xd.shape[2:], ksp, strides)]
    No = N // bg
    out = np.zeros((No, Ot) + tuple(qs), dt)
    Og = Ot // (fg * bg)
    for q in np.ndindex(*qs):
        for k in np.ndindex(*Wt.shape[2:]):
            pos = tuple(qq * s + kk * r for qq, s, kk, r in zip(q, strides, k, rd))
            patch = Xd[(slice(None), slice(None)) + pos]  # (N, C)
            for g in range(fg * bg):
                osl = slice(g * Og, (g + 1) * Og)
                wk = Wt[(osl, slice(None)) + k]  # (Og, I)
                if bg > 1:
                    xs = patch[g * No:(g + 1) * No, :]
                else:
                    xs = patch[:, g * Ig:(g + 1) * Ig]
                out[(slice(None), osl) + q] += xs @ wk.T
    return np.transpose(out, np.argsort(os_))


# -- cases ------------------------------------------------------------------------------------------

# (lhs shape, rhs shape, strides, padding, lhs_dilation, rhs_dilation, dimension_numbers, fg, bg)
CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), (2, 1), "SAME", None, None, None, 1, 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), (1, 2), "SAME_LOWER", None, None, None, 1, 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), (1, 2), "VALID", None, (2, 1), None, 1, 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), (1, 1), [(1, -1), (2, 0)], (2, 3), None, None, 1, 1),
    ((2, 3, 5, 4), (4, 3, 2, 3), (3, 1), [(2, 3), (0, 1)], (1, 2), (2, 1), None, 1, 1),
    ((2, 6, 7), (4, 3, 3), (2,), "SAME", None, None, None, 2, 1),
    ((4, 3, 7), (6, 3, 3), (1,), [(1, 1)], None, None, None, 1, 2),
    ((2, 5, 7, 3), (3, 2, 3, 4), (2, 1), "SAME", None, None, ("NHWC", "HWIO", "NHWC"), 1, 1),
    ((2, 5, 7, 3), (3, 2, 3, 4), (2, 1), "VALID", None, None, ("NHWC", "HWIO", "NCHW"), 1, 1),
    ((5, 2, 3, 7), (4, 3, 3, 2), (1, 2), "SAME", None, (1, 2), ("HNCW", "OHIW", "WHNC"), 1, 1),
    ((2, 3, 5, 4, 3), (2, 3, 3, 2, 2), (1, 2, 1), "SAME", None, (1, 1, 2), None, 1, 1),
    ((2, 5, 4, 6, 3), (3, 2, 2, 3, 4), (1, 2, 1), "SAME", None, None,
     ("NDHWC", "DHWIO", "NDHWC"), 1, 1),
    ((2, 6, 5, 4), (6, 1, 3, 3), (1, 1), "SAME", None, None, None, 6, 1),
    ((6, 2, 5), (3, 2, 2), (2,), "VALID", None, None, None, 1, 3),
    ((1, 4, 6, 6), (6, 2, 3, 3), (2, 2), "SAME", None, None, ("NCHW", "OIHW", "NHWC"), 2, 1),
    ((2, 3, 9), (2, 3, 3), (2,), [(0, 0)], (3,), (2,), ("NCW", "WIO", "NWC"), 1, 1),
]


def _args(case, dtype=np.float64):
    ls, rs = case[0], case[1]
    return rng.standard_normal(ls).astype(dtype), rng.standard_normal(rs).astype(dtype)


def _conv(case):
    _, _, strides, padding, ld, rd, dn, fg, bg = case
    return lambda x, w: lax.conv_general_dilated(x, w, strides, padding, ld, rd, dn, fg, bg)


@pytest.mark.parametrize("case", CASES)
def test_values_against_loop_reference(case):
    x, w = _args(case)
    got = _conv(case)(x, w)
    want = conv_ref(x, w, *case[2:])
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    (aval,) = xform.make_jaxpr(_conv(case))(x, w).out_avals
    assert aval.shape == want.shape


def test_values_against_scipy_correlate():
    x, w = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 2))
    want = np.array([[sum(scipy.signal.correlate(x[n, c], w[o, c], mode="valid") for c in range(3))
                      for o in range(4)] for n in range(2)])
    np.testing.assert_allclose(lax.conv(x, w, (1, 1), "VALID"), want, rtol=1e-12, atol=1e-12)
    full = np.array([[sum(scipy.signal.correlate(x[n, c], w[o, c], mode="full") for c in range(3))
                      for o in range(4)] for n in range(2)])
    got = lax.conv_with_general_padding(x, w, (1, 1), [(2, 2), (1, 1)], None, None)
    np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-12)


def test_float32_within_error_bound_and_preferred_element_type():
    case = CASES[0]
    x, w = _args(case, np.float32)
    got = _conv(case)(x, w)
    want = conv_ref(x.astype(np.float64), w.astype(np.float64), *case[2:])
    mag = conv_ref(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), *case[2:])
    k = 3 * 3 * 2 + 1
    assert got.dtype == np.float32
    assert np.all(np.abs(got - want) <= tolerance(k, mag, np.float32))
    wide = lax.conv_general_dilated(x, w, (2, 1), "SAME", preferred_element_type=np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_allclose(wide, want, rtol=1e-12, atol=1e-12)


def test_integer_and_complex_values_exact():
    xi = rng.integers(-5, 6, (2, 3, 6, 5)).astype(np.int32)
    wi = rng.integers(-5, 6, (4, 3, 3, 2)).astype(np.int32)
    got = lax.conv_general_dilated(xi, wi, (1, 2), "SAME")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, conv_ref(xi.astype(np.int64), wi.astype(np.int64), (1, 2),
                                                 "SAME").astype(np.int32))
    xc = rng.standard_normal((2, 3, 6)) + 1j * rng.standard_normal((2, 3, 6))
    wc = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    np.testing.assert_allclose(lax.conv(xc, wc, (1,), "SAME"), conv_ref(xc, wc, (1,), "SAME"),
                               rtol=1e-12, atol=1e-12)


def test_shape_helpers():
    assert lax.padtype_to_pads((10, 9), (3, 4), (2, 1), "SAME") == [(0, 1), (1, 2)]
    assert lax.padtype_to_pads((10, 9), (3, 4), (2, 1), "SAME_LOWER") == [(1, 0), (2, 1)]
    assert lax.padtype_to_pads((10,), (3,), (2,), "VALID") == [(0, 0)]
    dn = lax.conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ("NHWC", "HWIO", "NHWC"))
    assert dn == ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert lax.conv_dimension_numbers((1, 2, 3), (1, 2, 3), dn) is not None
    for case in CASES:
        if case[4] is None and case[5] is None and case[7] == case[8] == 1:
            x, w = _args(case)
            shape = lax.conv_general_shape_tuple(x.shape, w.shape, case[2], case[3], case[6])
            assert shape == _conv(case)(x, w).shape
    x, w = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((3, 3, 2, 5))
    for pad in ("SAME", "VALID"):
        shape = lax.conv_transpose_shape_tuple(x.shape, w.shape, (2, 2), pad,
                                               ("NHWC", "HWIO", "NHWC"))
        assert lax.conv_transpose(x, w, (2, 2), pad).shape == shape


@pytest.mark.parametrize("bad,match", [
    (lambda: lax.conv(np.ones((1, 3, 5)), np.ones((2, 2, 3)), (1,), "SAME"), "input feature"),
    (lambda: lax.conv(np.ones((1, 3, 5)), np.ones((2, 3, 3, 3)), (1,), "SAME"), "ndim|rank"),
    (lambda: lax.conv_general_dilated(np.ones((1, 4, 5)), np.ones((3, 2, 3)), (1,), "SAME",
                                      feature_group_count=2), "multiple of feature_group_count"),
    (lambda: lax.conv_general_dilated(np.ones((1, 3, 5)), np.ones((2, 3, 3)), (1,), "SAME",
                                      lhs_dilation=(2,)), "string padding"),
    (lambda: lax.conv_general_dilated(np.ones((1, 3, 5)), np.ones((2, 3, 3)), (0,), "VALID"),
     "positive"),
    (lambda: lax.conv_general_dilated(np.ones((1, 3, 5)), np.ones((2, 3, 3)), (1,), "FULL"),
     "padding"),
    (lambda: lax.conv_general_dilated(np.ones((1, 3, 5)), np.ones((2, 3, 3)), (1,), "VALID",
                                      dimension_numbers=("NCW", "OIW", "NCX")), "spatial"),
])
def test_clear_errors(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bad()


# -- derivatives -----------------------------------------------------------------------------------

GRAD_CASES = [CASES[0], CASES[3], CASES[4], CASES[5], CASES[6], CASES[9], CASES[13], CASES[15]]


@pytest.mark.parametrize("case", GRAD_CASES)
def test_grads_against_finite_differences(case):
    x, w = _args(case)
    xform.check_grads(_conv(case), (x, w), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("case", CASES)
def test_transposes_are_adjoints(case):
    # <conv(x, w), y> == <x, x_bar(y)> == <w, w_bar(y)>: exact identities of the two
    # transpose rules (each a convolution again)
    x, w = _args(case)
    f = _conv(case)
    out, vjp = xform.vjp(f, x, w)
    y = rng.standard_normal(out.shape)
    xb, wb = vjp(y)
    ip = np.sum(out * y)
    np.testing.assert_allclose(np.sum(x * xb), ip, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(np.sum(w * wb), ip, rtol=1e-11, atol=1e-11)


def test_conv_transpose_is_a_dilated_convolution():
    # stride-2 transposed convolution = zeros between the inputs, then a stride-1 one
    y, w = rng.standard_normal((1, 3, 4, 2)), rng.standard_normal((3, 3, 2, 5))
    for pad, pads in (("SAME", [(2, 1), (2, 1)]), ("VALID", [(2, 2), (2, 2)])):
        got = lax.conv_transpose(y, w, (2, 2), pad)
        yd = np.zeros((1, 5, 7, 2))
        yd[:, ::2, ::2] = y
        want = conv_ref(yd, w, (1, 1), pads, dn=("NHWC", "HWIO", "NHWC"))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# -- vmap ------------------------------------------------------------------------------------------


def _loop(f, args, axes):
    n = next(a.shape[ax] for a, ax in zip(args, axes) if ax is not None)
    return np.stack([f(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes)])
                     for i in range(n)])


@pytest.mark.parametrize("fg,bg", [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("axes", [(0, None), (None, 0), (2, 1)])
def test_vmap_against_loop(fg, bg, axes):
    lhs = (4, 4, 5) if bg == 1 else (4, 2, 5)
    rhs = (4, 4 // fg, 3) if bg == 1 else (4, 2, 3)

    def f(x, w):
        return lax.conv_general_dilated(x, w, (2,), "SAME", rhs_dilation=(1,),
                                        dimension_numbers=("NCW", "OIW", "NCW"),
                                        feature_group_count=fg, batch_group_count=bg)

    args = []
    for shape, ax in zip((lhs, rhs), axes):
        s = list(shape)
        if ax is not None:
            s.insert(ax, 3)
        args.append(rng.standard_normal(s))
    got = xform.vmap(f, in_axes=axes)(*args)
    np.testing.assert_allclose(got, _loop(f, args, axes), rtol=1e-12, atol=1e-12)


def test_vmap_of_grad():
    x, w = rng.standard_normal((3, 2, 3, 6)), rng.standard_normal((4, 3, 2))

    def loss(x, w):
        return (lax.conv_general_dilated(x, w, (2,), "SAME") ** 2).sum()

    g = xform.vmap(xform.grad(loss, (0, 1)), in_axes=(0, None))(x, w)
    want = [_loop(lambda x: xform.grad(loss, (0, 1))(x, w)[i], [x], (0,)) for i in range(2)]
    for a, b in zip(g, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# -- jit --------------------------------------------------------------------------------------------


def _all_cases(*args):
    return [_conv(c)(args[2 * i], args[2 * i + 1]) for i, c in enumerate(CASES)]


_jit_all = xform.jit(_all_cases)


def test_jit_against_eager_every_case():
    args = [a for c in CASES for a in _args(c)]
    got = _jit_all(*args)
    for g, case, i in zip(got, CASES, range(len(CASES))):
        want = conv_ref(args[2 * i], args[2 * i + 1], *case[2:])
        assert g.shape == want.shape
        np.testing.assert_allclose(g, want, rtol=1e-11, atol=1e-11)


def _grads_and_dtypes(x, w, x32, w32, xi, wi, xc, wc):
    def loss(x, w):
        y = lax.conv_general_dilated(x, w, (2, 2), "SAME", rhs_dilation=(1, 2))
        return (y * y).sum()

    gx, gw = xform.grad(loss, (0, 1))(x, w)
    # an input gradient of a strided convolution: a convolution with lhs_dilation
    return [gx, gw, lax.conv(x32, w32, (1, 2), "SAME"), lax.conv(xi, wi, (2, 1), "VALID"),
            lax.conv(xc, wc, (1, 1), "SAME"),
            lax.conv_general_dilated(x32, w32, (1, 1), "SAME", preferred_element_type=np.float64),
            lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))]


_jit_grads = xform.jit(_grads_and_dtypes)


def test_jit_grads_and_dtypes_against_eager():
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((3, 3, 3, 2))
    args = (x, w, x.astype(np.float32), w.astype(np.float32),
            rng.integers(-9, 9, x.shape).astype(np.int16), rng.integers(-9, 9, w.shape).astype(np.int16),
            x + 1j * x[::-1], w - 2j * w)
    got = _jit_grads(*args)
    want = _grads_and_dtypes(*args)
    for g, e in zip(got, want):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
        if e.dtype.kind in "iu":
            np.testing.assert_array_equal(g, e)
        else:
            tol = 1e-4 if e.dtype in (np.float32, np.complex64) else 1e-10
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol * np.abs(e).max())


def _kernel_grads(*args):
    """Kernel gradients (convolutions with few outputs and a long contraction) of
    strided, dilated and grouped convolutions, in several layouts."""
    out = []
    for i, c in enumerate(GRAD_CASES):
        x, w = args[2 * i], args[2 * i + 1]
        f = _conv(c)
        y, vjp = xform.vjp(lambda w, x=x, f=f: f(x, w), w)
        out.append(vjp(y * 1.5)[0])
    return out


_jit_kernel_grads = xform.jit(_kernel_grads)


def test_jit_kernel_gradients_against_eager():
    args = [a for c in GRAD_CASES for a in _args(c)]
    for g, e in zip(_jit_kernel_grads(*args), _kernel_grads(*args)):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11)


def test_jit_strided_views_and_reversed_operands():
    # kernel arguments that are not C-contiguous (transposed, reversed views) are read
    # through their strides
    f = xform.jit(lambda x, w: lax.conv_general_dilated(x.T[::-1], w[:, :, ::-1], (1, 2), "SAME"))
    x, w = rng.standard_normal((7, 6, 3, 2)), rng.standard_normal((4, 3, 3, 2))
    want = conv_ref(np.ascontiguousarray(x.T[::-1]), np.ascontiguousarray(w[:, :, ::-1]), (1, 2), "SAME")
    np.testing.assert_allclose(f(x, w), want, rtol=1e-12, atol=1e-12)


# -- against JAX, when it is installed ------------------------------------------------------------


def test_conv_transpose_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    y, w = rng.standard_normal((2, 4, 5, 4)), rng.standard_normal((3, 2, 3, 4))
    dn = ("NHWC", "HWIO", "NHWC")
    for pad in ("SAME", "VALID", ((1, 2), (0, 1))):
        for strides in ((2, 2), (1, 3)):
            for tk in (False, True):
                ww = w if tk else w.transpose(0, 1, 3, 2)
                want = np.asarray(jax.lax.conv_transpose(y, ww, strides, pad, dimension_numbers=dn,
                                                         transpose_kernel=tk))
                got = lax.conv_transpose(y, ww, strides, pad, dimension_numbers=dn,
                                         transpose_kernel=tk)
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
                if isinstance(pad, str) and not tk:
                    assert lax.conv_transpose_shape_tuple(y.shape, ww.shape, strides, pad, dn) == \
                        want.shape


@pytest.mark.parametrize("case", [CASES[i] for i in (3, 4, 6, 9, 12, 15)])
def test_against_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x, w = _args(case)
    _, _, strides, padding, ld, rd, dn, fg, bg = case
    jf = lambda x, w: jax.lax.conv_general_dilated(x, w, strides, padding, ld, rd, dn, fg, bg)  # noqa: E731
    want = np.asarray(jf(x, w))
    np.testing.assert_allclose(_conv(case)(x, w), want, rtol=1e-12, atol=1e-12)
    ct = rng.standard_normal(want.shape)
    gj = jax.vjp(jf, x, w)[1](ct)
    gx = xform.vjp(_conv(case), x, w)[1](ct)
    for a, b in zip(gj, gx):
        np.testing.assert_allclose(b, np.asarray(a), rtol=1e-11, atol=1e-11)
