"""dot_general (and dot / batch_matmul): impl vs einsum, output layout, errors, grads
w.r.t. both operands, vmap over either or both operands, property tests."""
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
from xform import lax

from _lax_helpers import make_rand
from _tolerance import assert_within, sum_of_products

rng = np.random.default_rng(2)
rand = make_rand(rng)





def einsum_ref(lhs, rhs, dn, out_dtype=None):
    (lc, rc), (lb, rb) = dn
    letters = iter(string.ascii_letters)
    ls = [next(letters) for _ in range(lhs.ndim)]
    rs = [next(letters) for _ in range(rhs.ndim)]
    for a, b in zip(lc + lb, rc + rb):
        rs[b] = ls[a]
    out = ([ls[a] for a in lb] + [ls[i] for i in range(lhs.ndim) if i not in lc + lb]
           + [rs[i] for i in range(rhs.ndim) if i not in rc + rb])
    spec = f"{''.join(ls)},{''.join(rs)}->{''.join(out)}"
    dt = out_dtype or lhs.dtype
    if np.dtype(dt).kind == "b":
        return np.einsum(spec, lhs.astype(int), rhs.astype(int)) > 0
    return np.einsum(spec, lhs.astype(dt), rhs.astype(dt)).astype(dt)


CASES = [
    ((3, 4), (4, 5), (((1,), (0,)), ((), ()))),             # matmul
    ((4,), (4,), (((0,), (0,)), ((), ()))),                 # inner product
    ((3, 4), (4,), (((1,), (0,)), ((), ()))),               # matvec
    ((3,), (5,), (((), ()), ((), ()))),                     # outer product
    ((2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,)))),    # batched matmul
    ((2, 3, 4, 2), (3, 4, 5, 2), (((0, 2), (3, 1)), ((1,), (0,)))),  # scrambled
    ((3, 0), (0, 2), (((1,), (0,)), ((), ()))),             # empty contraction -> zeros
    ((0, 3), (3, 2), (((1,), (0,)), ((), ()))),             # empty free dim
    ((2, 3), (3, 2), (((0, 1), (1, 0)), ((), ()))),          # full contraction
    ((4, 2, 3), (3, 4), (((2,), (0,)), ((0,), (1,)))),       # batch dims at different places
    ((), (3,), (((), ()), ((), ()))),                       # scalar times vector
]


def einsum_bound(a, b, dn, dtype):
    """(float64 einsum reference, error bound gamma(k) (|a| . |b|)) of a float
    dot_general (tests/_tolerance.py): BLAS kernels sum in CPU-dependent orders."""
    return sum_of_products(lambda p, q: einsum_ref(p, q, dn, np.float64), (a, b), {}, dtype)


@pytest.mark.codegen_portable
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("ls,rs,dn", CASES)
def test_dot_general_vs_einsum(dtype, ls, rs, dn):
    a, b = rand(ls, dtype), rand(rs, dtype)
    want = einsum_ref(a, b, dn)
    got = lax.dot_general(a, b, dn)
    assert got.shape == want.shape and got.dtype == want.dtype
    if np.dtype(dtype).kind == "f":  # was rtol 1e-5 (float32) / 1e-12 with atol 0
        ref, tol = einsum_bound(a, b, dn, dtype)
        assert_within(got, ref, tol)
        assert_within(want, ref, tol)  # numpy's einsum obeys the bound too
    else:
        np.testing.assert_array_equal(got, want)
    (aval,) = xform.make_jaxpr(lambda a, b: lax.dot_general(a, b, dn))(a, b).out_avals
    assert (aval.shape, aval.dtype) == (want.shape, want.dtype)


def test_dot_general_negative_dims_and_layout():
    a, b = rand((2, 3, 4)), rand((4, 2, 5))
    out = lax.dot_general(a, b, (((-1,), (0,)), ((0,), (-2,))))
    assert out.shape == (2, 3, 5)  # batch, lhs free, rhs free
    np.testing.assert_allclose(out, np.einsum("bij,jbk->bik", a, b))


def test_preferred_element_type():
    a = np.full((2, 200), 100, np.int8)
    b = np.full((200, 3), 100, np.int8)
    out = lax.dot_general(a, b, (((1,), (0,)), ((), ())), preferred_element_type=np.int32)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.full((2, 3), 2_000_000, np.int32))
    f = lambda a, b: lax.dot(a, b, preferred_element_type=np.float64)
    a32, b32 = rand((3, 4), np.float32), rand((4,), np.float32)
    assert f(a32, b32).dtype == np.float64
    (aval,) = xform.make_jaxpr(f)(a32, b32).out_avals
    assert aval.dtype == np.float64
    g = xform.grad(lambda a: lax.reduce_sum(f(a, b32), 0))(a32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.broadcast_to(b32, (3, 4)), rtol=1e-6)


def _raise(exc, match, f, *args):
    with pytest.raises(exc, match=match):
        f(*args)
    with pytest.raises(exc, match=match):
        xform.make_jaxpr(f)(*args)


def test_dot_general_errors():
    a, b = np.ones((2, 3)), np.ones((4, 5))
    mm = (((1,), (0,)), ((), ()))
    _raise(ValueError, r"dot_general.*contracting dimensions have different sizes \(3,\) and \(4,\)",
           lambda a, b: lax.dot_general(a, b, mm), a, b)
    _raise(TypeError, "dot_general.*same dtype",
           lambda a, b: lax.dot_general(a, b, mm), a, np.ones((3, 2), np.float32))
    _raise(ValueError, "dot_general.*out of bounds",
           lambda a, b: lax.dot_general(a, b, (((2,), (0,)), ((), ()))), a, b)
    _raise(ValueError, "dot_general.*repeated",
           lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((1,), (1,)))), a, np.ones((3, 3)))
    _raise(ValueError, "dot_general.*as many",
           lambda a, b: lax.dot_general(a, b, (((1,), ()), ((), ()))), a, b)
    _raise(ValueError, "dot_general.*batch dimensions have different sizes",
           lambda a, b: lax.dot_general(a, b, (((1,), (1,)), ((0,), (0,)))), a, np.ones((3, 3)))
    with pytest.raises(ValueError, match="dimension_numbers"):
        lax.dot_general(a, b, ((1,), (0,)))
    with pytest.raises(ValueError, match="dot"):
        lax.dot(np.float64(1.0), a)
    with pytest.raises(ValueError, match="batch_matmul"):
        lax.batch_matmul(np.ones((2, 3)), np.ones((2, 3, 4)))


def test_dot_and_batch_matmul():
    a, b, v = rand((3, 4)), rand((4, 5)), rand((4,))
    np.testing.assert_allclose(lax.dot(a, b), a @ b)
    np.testing.assert_allclose(lax.dot(a, v), a @ v)
    np.testing.assert_allclose(lax.dot(v, v), v @ v)
    x, y = rand((2, 3, 4, 5)), rand((2, 3, 5, 2))
    np.testing.assert_allclose(lax.batch_matmul(x, y), x @ y)


@pytest.mark.parametrize("ls,rs,dn", [c for c in CASES if 0 not in c[0] + c[1]])
def test_dot_general_grads(ls, rs, dn):
    a, b = rand(ls), rand(rs)
    xform.check_grads(lambda a, b: lax.dot_general(a, b, dn), (a, b), order=2, modes=("fwd", "rev"))
    xform.check_grads(lambda a: lax.dot_general(a, b, dn), (a,), order=2, modes=("fwd", "rev"))
    xform.check_grads(lambda b: lax.dot_general(lax.sin(a), lax.mul(b, b), dn), (b,), order=2,
                      modes=("fwd", "rev"))


def test_dot_general_transpose_structure():
    # the transpose w.r.t. either operand is a dot_general (+ transpose), as in JAX
    a, b = rand((2, 3, 4)), rand((2, 4, 5))
    dn = (((2,), (1,)), ((0,), (0,)))
    _, f_vjp = xform.vjp(lambda a: lax.dot_general(a, b, dn), a)
    ct = rand((2, 3, 5))
    np.testing.assert_allclose(f_vjp(ct)[0], np.einsum("bik,bjk->bij", ct, b))
    _, f_vjp = xform.vjp(lambda b: lax.dot_general(a, b, dn), b)
    np.testing.assert_allclose(f_vjp(ct)[0], np.einsum("bij,bik->bjk", a, ct))


def _loop(f, args, in_axes):
    (n,) = {a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None}
    return np.stack([np.asarray(f(*[a if ax is None else np.take(a, i, axis=ax)
                                    for a, ax in zip(args, in_axes)])) for i in range(n)])


@pytest.mark.parametrize("ls,rs,dn", [c for c in CASES if c[0] and c[1]])
@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0), (-1, None), (None, -1), (1, -1)])
def test_dot_general_vmap(ls, rs, dn, in_axes):
    def with_batch(shape, ax):
        if ax is None:
            return rand(shape)
        ax = ax % (len(shape) + 1)
        return rand(shape[:ax] + (3,) + shape[ax:])

    if any(ax == 1 and len(s) < 1 for ax, s in zip(in_axes, (ls, rs))):
        pytest.skip("rank too small")
    a, b = with_batch(ls, in_axes[0]), with_batch(rs, in_axes[1])
    f = lambda a, b: lax.dot_general(a, b, dn)
    got = xform.vmap(f, in_axes=in_axes)(a, b)
    want = _loop(f, (a, b), in_axes)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_vmap_of_grad_and_grad_of_vmap():
    dn = (((1,), (0,)), ((), ()))
    a, b = rand((4, 3, 2)), rand((2, 5))
    f = xform.grad(lambda a, b: lax.reduce_sum(lax.dot_general(a, b, dn), (0, 1)), argnums=(0, 1))
    ga, gb = xform.vmap(f, in_axes=(0, None))(a, b)
    for i in range(4):
        wa, wb = f(a[i], b)
        np.testing.assert_allclose(ga[i], wa)
        np.testing.assert_allclose(gb[i], wb)
    g = xform.grad(lambda b: lax.reduce_sum(
        xform.vmap(lambda a: lax.dot_general(a, b, dn))(a), (0, 1, 2)))(b)
    np.testing.assert_allclose(g, np.broadcast_to(a.sum((0, 1))[:, None], (2, 5)))


@st.composite
def dot_case(draw):
    nb, nc = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    nlf, nrf = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    bsz = [draw(st.integers(1, 3)) for _ in range(nb)]
    csz = [draw(st.integers(1, 3)) for _ in range(nc)]
    lsz = [draw(st.integers(1, 3)) for _ in range(nlf)]
    rsz = [draw(st.integers(1, 3)) for _ in range(nrf)]
    lperm = draw(st.permutations(range(nb + nc + nlf)))
    rperm = draw(st.permutations(range(nb + nc + nrf)))
    # role k of lhs sits at position lperm.index(k)
    lshape = [0] * len(lperm)
    for pos, role in enumerate(lperm):
        lshape[pos] = (bsz + csz + lsz)[role]
    rshape = [0] * len(rperm)
    for pos, role in enumerate(rperm):
        rshape[pos] = (bsz + csz + rsz)[role]
    lb = tuple(lperm.index(k) for k in range(nb))
    lc = tuple(lperm.index(nb + k) for k in range(nc))
    rb = tuple(rperm.index(k) for k in range(nb))
    rc = tuple(rperm.index(nb + k) for k in range(nc))
    return tuple(lshape), tuple(rshape), ((lc, rc), (lb, rb))


@settings(max_examples=60, deadline=None)
@given(dot_case())
def test_dot_general_property(case):
    ls, rs, dn = case
    a, b = rand(ls), rand(rs)
    out = lax.dot_general(a, b, dn)
    assert_within(out, *einsum_bound(a, b, dn, np.float64))
    ct = rand(np.shape(out))
    _, f_vjp = xform.vjp(lambda a, b: lax.dot_general(a, b, dn), a, b)
    ga, gb = f_vjp(ct)
    # adjoint identities of the bilinear map
    np.testing.assert_allclose(np.vdot(ga, a), np.vdot(ct, out), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.vdot(gb, b), np.vdot(ct, out), rtol=1e-9, atol=1e-9)
