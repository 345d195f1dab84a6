"""dot, matmul (1-d and batched), vdot, inner, outer, tensordot, einsum, kron and
xform.numpy.linalg against numpy; grads, vmap, jit; error messages."""
import numpy as np
import pytest
from _numpy_helpers import assert_same, compare, rand, vmap_reference
from _tolerance import assert_within, gamma, sum_of_products
from hypothesis import given, settings
from hypothesis import strategies as st

import xform
import xform.numpy as xnp

RNG = np.random.default_rng(0)

DOT_SHAPES = [((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
              ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 2, 3), (5, 3, 2)),
              ((0, 3), (3, 2)), ((2, 0), (0, 3))]
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                 ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (6, 3, 1)), ((3,), (2, 3, 4)),
                 ((2, 2, 3), (3,)), ((0, 2, 3), (3, 1)), ((2, 0), (0, 2))]
DTYPE_PAIRS = [(np.float64, np.float64), (np.float32, np.float32), (np.int32, np.float32),
               (np.int64, np.int64), (np.int8, np.int8), (np.bool_, np.bool_), (np.float32, float)]


# Float products are checked against a float64 reference within
# gamma(k) * (|a| @ |b|) (tests/_tolerance.py), not against numpy's float32 rounding,
# which depends on the BLAS kernel OpenBLAS picks for the CPU (issue 19: one cancelling
# element differed by 2.2e-6 relative between an AVX-512 and an AVX2 kernel).
@pytest.mark.codegen_portable
@pytest.mark.parametrize("pair", DTYPE_PAIRS, ids=lambda p: f"{np.dtype(p[0]).name}-{p[1].__name__}")
def test_dot_matmul_match_numpy(pair):
    for s1, s2 in DOT_SHAPES:
        a, b = rand(RNG, s1, pair[0]), rand(RNG, s2, pair[1])
        compare(xnp.dot, np.dot, a, b, bound="sum_of_products")
    for s1, s2 in MATMUL_SHAPES:
        a, b = rand(RNG, s1, pair[0]), rand(RNG, s2, pair[1] if pair[1] is not float else np.float64)
        compare(xnp.matmul, np.matmul, a, b, bound="sum_of_products")


def test_float32_matmul_bound_separates_right_from_wrong():
    """A float32 matmul element with cancellation (issue 19's situation). The bound accepts
    any correctly rounded-and-summed result (both orders of summation, float64
    accumulation) and rejects a result missing its smallest term."""
    a = np.array([[0.75, -0.5, 0.3]], np.float32)
    b = np.array([[0.6], [0.9], [0.0002]], np.float32)
    ref, tol = sum_of_products(np.matmul, (a, b), {}, np.float32)
    forward = (a[0, 0] * b[0, 0] + a[0, 1] * b[1, 0]) + a[0, 2] * b[2, 0]
    backward = a[0, 0] * b[0, 0] + (a[0, 1] * b[1, 0] + a[0, 2] * b[2, 0])
    wide = np.float32(a.astype(np.float64) @ b.astype(np.float64))
    for ok in (forward, backward, wide, xnp.matmul(a, b)[0, 0], np.matmul(a, b)[0, 0]):
        assert_within(np.float32(ok), ref[0, 0], tol[0, 0])
    with pytest.raises(AssertionError, match="outside the error bound"):
        assert_within(np.float32(a[0, 0] * b[0, 0] + a[0, 1] * b[1, 0]), ref[0, 0], tol[0, 0])


def test_other_products():
    sp = "sum_of_products"
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(4, 3))
    compare(xnp.vdot, np.vdot, a, b[:2], bound=sp)
    compare(xnp.inner, np.inner, a, b, bound=sp)
    compare(xnp.inner, np.inner, a[0], 2.0, bound=sp)
    compare(xnp.outer, np.outer, a, b[0], bound=sp)
    compare(xnp.outer, np.outer, np.arange(3), np.arange(2.0), bound=sp)
    x, y = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4, 5))
    for axes in [2, 1, 0, ([1, 2], [0, 1]), ([2], [1]), (-1, 1)]:
        compare(xnp.tensordot, np.tensordot, x, y, axes, bound=sp)
    compare(xnp.kron, np.kron, np.arange(4).reshape(2, 2), np.ones((2, 3)), bound=sp)
    compare(xnp.vecdot, np.vecdot, x, x[0], bound=sp)
    compare(xnp.matvec, np.matvec, x, y[:, 0, 0][None].repeat(4, 0).T[0], bound=sp)
    compare(xnp.vecmat, np.vecmat, x[:, :, 0], x, bound=sp)
    compare(xnp.linalg.multi_dot, np.linalg.multi_dot, [a, b.T, RNG.normal(size=4)], bound=sp)
    compare(xnp.linalg.matrix_power, np.linalg.matrix_power, np.arange(4).reshape(2, 2), 5)
    compare(xnp.linalg.matrix_power, np.linalg.matrix_power, np.arange(4.0).reshape(2, 2), 0)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("i,i->", [(3,), (3,)]), ("i,i", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]), ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ba", [(2, 3)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]), ("bij,bjk->kib", [(5, 2, 3), (5, 3, 4)]),
    ("ij,ij->i", [(2, 3), (2, 3)]), ("iij->j", [(3, 3, 2)]), ("iji->j", [(3, 2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ij,jk,kl->", [(2, 3), (3, 4), (4, 2)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]), ("...ij,jk->...ik", [(6, 5, 2, 3), (3, 4)]),
    ("...i,...i->...", [(2, 3), (3,)]), ("i...->...", [(3, 2, 4)]), ("...ii->...i", [(2, 3, 3)]),
    ("ij...,jk...->ik...", [(2, 3, 5), (3, 4, 1)]), ("ab,cd->abcd", [(2, 1), (3, 2)]),
    ("ijk,ikl,k->jl", [(2, 3, 4), (2, 4, 5), (4,)]), ("i,ij,j", [(2,), (2, 3), (3,)]),
    ("ij,ij", [(0, 3), (0, 3)]),
]


@pytest.mark.parametrize("subs,shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_matches_numpy(subs, shapes):
    ops = [RNG.normal(size=s) for s in shapes]
    compare(xnp.einsum, np.einsum, subs, *ops, bound="sum_of_products")
    iops = [RNG.integers(-3, 3, size=s).astype(np.int32) for s in shapes]
    compare(xnp.einsum, np.einsum, subs, *iops)


def test_einsum_dtype_and_errors():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    compare(xnp.einsum, np.einsum, "ij,jk", a, a.T.astype(np.float32), bound="sum_of_products")
    compare(xnp.einsum, np.einsum, "ij->i", a, dtype=np.float64, bound="sum_of_products")
    with pytest.raises(ValueError):
        xnp.einsum("ij,jk", a, a)
    with pytest.raises(ValueError):
        xnp.einsum("ij,j", a)
    with pytest.raises(ValueError):
        xnp.einsum("ij->k", a)
    with pytest.raises(ValueError, match="ellipsis"):
        xnp.einsum("...i->i", a)


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_einsum_property(data):
    letters = "abcd"
    sizes = {c: data.draw(st.integers(1, 3)) for c in letters}
    n_ops = data.draw(st.integers(1, 3))
    specs = ["".join(data.draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3)))
             for _ in range(n_ops)]
    used = sorted(set("".join(specs)))
    explicit = data.draw(st.booleans())
    subs = ",".join(specs)
    if explicit:
        outs = data.draw(st.permutations(used)).__iter__()
        k = data.draw(st.integers(0, len(used)))
        subs += "->" + "".join(list(outs)[:k])
    ops = [np.random.default_rng(1).normal(size=[sizes[c] for c in s]) for s in specs]
    compare(xnp.einsum, np.einsum, subs, *ops, bound="sum_of_products")


def test_product_error_messages():
    with pytest.raises(ValueError, match=r"dot.*\(2, 3\).*\(4,\)"):
        xnp.dot(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        xnp.matmul(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        xform.jit(lambda a, b: a @ b)(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="matmul.*batch"):
        xnp.matmul(np.ones((2, 2, 3)), np.ones((3, 3, 4)))
    with pytest.raises(ValueError, match="not have enough dimensions"):
        xnp.matmul(np.ones(3), 2.0)
    with pytest.raises(ValueError, match="tensordot"):
        xnp.tensordot(np.ones((2, 3)), np.ones((2, 3)), 1)


# -- linalg.norm ------------------------------------------------------------------------------
# Norms sum non-negative terms (|x|**p, then a root): no cancellation, so both results
# are within (n + 2) u relative of the exact norm (n <= 12 here), far inside the
# relative _TOL of assert_same (2e-6 float32, 1e-12 float64).

VEC_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1]
MAT_ORDS = [None, "fro", 1, -1, np.inf, -np.inf]


def test_norm_vectors():
    x = RNG.normal(size=(3, 4))
    for ord_ in VEC_ORDS:
        compare(xnp.linalg.norm, np.linalg.norm, x[0], ord_)
        compare(xnp.linalg.norm, np.linalg.norm, x, ord_, axis=1)
        compare(xnp.linalg.norm, np.linalg.norm, x, ord_, axis=-2, keepdims=True)
        compare(xnp.linalg.norm, np.linalg.norm, x[0].astype(np.float32), ord_)
    compare(xnp.linalg.norm, np.linalg.norm, np.arange(4))
    compare(xnp.linalg.norm, np.linalg.norm, np.zeros(3))
    compare(xnp.linalg.norm, np.linalg.norm, x, keepdims=True)
    compare(xnp.linalg.norm, np.linalg.norm, RNG.normal(size=(2, 3, 2)))
    compare(xnp.linalg.vector_norm, np.linalg.vector_norm, x, axis=(0, 1), keepdims=True)
    compare(xnp.linalg.vector_norm, np.linalg.vector_norm, x, ord=1)


def test_norm_matrices():
    x = RNG.normal(size=(2, 3, 4))
    for ord_ in MAT_ORDS:
        compare(xnp.linalg.norm, np.linalg.norm, x[0], ord_)
        compare(xnp.linalg.norm, np.linalg.norm, x, ord_, axis=(2, 0))
        compare(xnp.linalg.norm, np.linalg.norm, x, ord_, axis=(-2, -1), keepdims=True)
    compare(xnp.linalg.matrix_norm, np.linalg.matrix_norm, x, ord=np.inf)
    with pytest.raises(ValueError, match="Invalid norm order"):
        xnp.linalg.norm(x[0], "fro", axis=0)
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        xnp.linalg.norm(x, 1)


def test_norm_grads():
    x = RNG.normal(size=(3, 4))
    for ord_ in [None, 2, 1, np.inf, 3]:
        xform.check_grads(lambda v: xnp.linalg.norm(v, ord_, axis=1), (x,), order=2, atol=1e-4,
                          rtol=1e-4)
    for ord_ in ["fro", 1, np.inf]:
        xform.check_grads(lambda v: xnp.linalg.norm(v, ord_), (x,), order=2, atol=1e-4, rtol=1e-4)
    # the 2-norm's gradient at 0 is 0 (documented; JAX gives nan)
    assert_same(xform.grad(xnp.linalg.norm)(np.zeros(3)), np.zeros(3))
    assert_same(xform.grad(lambda v: xnp.linalg.norm(v, axis=0).sum())(np.zeros((2, 2))), np.zeros((2, 2)))
    np.testing.assert_allclose(xform.grad(xnp.linalg.norm)(np.array([3.0, 4.0])), [0.6, 0.8])


# -- transformations --------------------------------------------------------------------------


@pytest.mark.parametrize("fn,shapes", [
    (xnp.dot, [(2, 3), (3, 4)]), (xnp.dot, [(3,), (3,)]), (xnp.matmul, [(5, 2, 3), (3, 4)]),
    (xnp.matmul, [(3,), (2, 3, 4)]), (lambda a, b: a @ b, [(2, 3), (5, 3, 4)]),
    (xnp.vdot, [(2, 3), (2, 3)]), (xnp.inner, [(2, 3), (4, 3)]), (xnp.outer, [(2,), (3,)]),
    (lambda a, b: xnp.tensordot(a, b, ([0], [1])), [(2, 3), (4, 2)]),
    (lambda a, b: xnp.einsum("ij,jk->ki", a, b), [(2, 3), (3, 4)]),
    (lambda a, b: xnp.einsum("ii,ij->j", a, b), [(3, 3), (3, 2)]),
    (lambda a, b: xnp.einsum("...i,...i", a, b), [(2, 3), (3,)]),
])
def test_product_grads(fn, shapes):
    args = tuple(RNG.normal(size=s) for s in shapes)
    xform.check_grads(fn, args, order=2, atol=1e-4, rtol=1e-4)


def _norm_of_product(a, b):
    return xnp.linalg.norm(a @ b, axis=0)


@pytest.mark.parametrize("fn", [xnp.dot, xnp.matmul, lambda a, b: xnp.einsum("ij,jk->ik", a, b),
                                lambda a, b: xnp.tensordot(a, b, 1), xnp.inner, _norm_of_product])
@pytest.mark.parametrize("in_axes", [(0, None), (None, 1), (0, 0), (2, 0)])
def test_vmap_products(fn, in_axes):
    a = RNG.normal(size=(3, 3, 3))
    b = RNG.normal(size=(3, 3, 3))
    a = a if in_axes[0] is not None else a[0]
    b = b if in_axes[1] is not None else b[0]
    got, want = xform.vmap(fn, in_axes=in_axes)(a, b), vmap_reference(fn, (a, b), in_axes)
    # vmap batches the product into other BLAS calls than the loop: the two may sum in
    # different orders; the tolerance covers the error of both
    if fn is _norm_of_product:
        # ||fl(a @ b)|| is off by at most ||gamma(k) |a| @ |b| || (the norm is
        # 1-Lipschitz), and the norm of n non-negative squares itself by gamma(n + 2)
        _, tol = sum_of_products(lambda a, b: vmap_reference(lambda u, v: u @ v, (a, b), in_axes),
                                 (a, b), {}, np.float64)
        tol = np.sqrt(np.sum(tol ** 2, axis=-2)) + 2 * gamma(3 + 2, np.float64) * np.abs(want)
    else:
        _, tol = sum_of_products(lambda a, b: vmap_reference(fn, (a, b), in_axes), (a, b), {},
                                 np.float64)
    assert_same(got, want, within=(want, tol))


@pytest.mark.codegen_portable
def test_jit_products():
    a, b = RNG.normal(size=(5, 2, 3)), RNG.normal(size=(3, 4))

    def f(a, b):
        return (a @ b, xnp.dot(a[0], b), xnp.einsum("bij,jk->bk", a, b), xnp.outer(b[0], b[1]),
                xnp.linalg.norm(a, axis=(1, 2)), xnp.vdot(b, b), xnp.tensordot(a, b, 1))

    np_f = [np.matmul, lambda a, b: np.dot(a[0], b), lambda a, b: np.einsum("bij,jk->bk", a, b),
            lambda a, b: np.outer(b[0], b[1]), None, None, lambda a, b: np.tensordot(a, b, 1)]
    for got, exp, g in zip(xform.jit(f)(a, b), f(a, b), np_f):
        if g is None:  # norm, vdot(b, b): sums of squares, no cancellation (see above)
            assert_same(got, exp, rtol=1e-12)
        else:  # the jitted BLAS call (scipy's) and numpy's may sum in other orders
            assert_same(got, exp, within=sum_of_products(g, (a, b), {}, np.float64))
