"""Tracers behave like numpy arrays: operators (and reflected ones), methods and
properties; numpy's __array_ufunc__/__array_function__ protocols dispatch plain numpy
calls on tracers to xform.numpy, so unchanged numpy code can be transformed; clear errors
for numpy functions without an xform version; the namespace (dtypes, constants)."""
import numpy as np
import pytest
from _numpy_helpers import assert_same

import xform
import xform.numpy as xnp

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, size=(2, 3))
B = RNG.uniform(0.5, 2.0, size=(3,))
IA = RNG.integers(1, 5, size=(2, 3)).astype(np.int32)


def traced(f, *args):
    """f evaluated on JVP tracers (primal output)."""
    return xform.jvp(f, args, tuple(np.ones_like(a) if a.dtype.kind == "f" else
                                     np.zeros(a.shape, xform.float0) for a in args))[0]


OPS = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: a // b, lambda a, b: a % b, lambda a, b: a ** b, lambda a, b: a @ b.T if
    np.ndim(b) == 2 else a @ b, lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a < b,
    lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b, lambda a, b: divmod(a, b)[1],
]


@pytest.mark.parametrize("op", range(len(OPS)))
def test_operators_on_tracers(op):
    f = OPS[op]
    for other in (B, 2.0, 3, np.float32(2.5), IA, A):
        if op == 7 and np.ndim(other) == 0:
            continue
        assert_same(traced(lambda a: f(a, other), A), f(A, other), check_type=False)
        if op != 7:
            assert_same(traced(lambda a: f(other, a), A), f(other, A), check_type=False)
    # both operands traced
    assert_same(traced(f, A, A + 1), f(A, A + 1), check_type=False)


def test_unary_and_bitwise_operators():
    assert_same(traced(lambda a: -a, A), -A)
    assert_same(traced(lambda a: +a, A), +A)
    assert_same(traced(lambda a: abs(a - 1), A), abs(A - 1))
    f = lambda a: (~(a > 1), (a > 1) & (a < 1.5), (a > 1) | (a < 0.7), (a > 1) ^ (a < 1.5))  # noqa: E731
    for got, exp in zip(traced(f, A), f(A)):
        assert_same(got, exp)
    g = xform.vmap(lambda i: (~i, i & 6, 5 | i, i ^ i))
    for got, exp in zip(g(IA), (~IA, IA & 6, 5 | IA, IA ^ IA)):
        assert_same(got, exp)


def test_weak_types_with_operators():
    x32 = np.ones(3, np.float32)
    assert traced(lambda a: a * 2.0 + 1, x32).dtype == np.float32
    assert traced(lambda a: 2 ** a, x32).dtype == np.float32
    assert traced(lambda a: a / 2, x32).dtype == np.float32
    assert xform.vmap(lambda i: i // 2 + 1)(np.ones(3, np.int8)).dtype == np.int8
    assert xform.vmap(lambda i: i / 2)(np.ones(3, np.int8)).dtype == np.float64


def test_numpy_arrays_and_scalars_on_the_left():
    # ndarray.__mul__ defers to the tracer (__array_ufunc__ / __array_priority__)
    for f in (lambda a: B * a, lambda a: B[None] + a, lambda a: np.float64(2.0) * a,
              lambda a: np.float32(2.0) - a, lambda a: B @ a.T, lambda a: IA > a,
              lambda a: np.int64(3) ** a):
        assert_same(traced(f, A), f(A), check_type=False)
    g = xform.grad(lambda a: (B * a).sum())(A)
    assert_same(g, np.broadcast_to(B, A.shape).copy())


def test_methods_and_properties():
    f = lambda a: (  # noqa: E731
        a.T, a.reshape(3, 2), a.reshape((-1,)), a.reshape(6, 1), a.sum(), a.sum(axis=0),
        a.mean(1), a.max(), a.min(axis=0, keepdims=True), a.prod(), a.std(ddof=1), a.var(),
        a.argmax(), a.argmin(axis=1), a.astype(np.int32), a.dot(B), a.transpose(),
        a.transpose(1, 0), a.transpose((1, 0)), a.flatten(), a.ravel(), a[None].squeeze(0),
        a.clip(0.8, 1.5), a.cumsum(axis=1), a.all(), a.any(axis=0), a.round(1), a.conj(),
        a.real, a.imag, a.swapaxes(0, 1), a.cumprod(), a.take([0, 2], axis=1),
        a.repeat(2), a.diagonal(), a.trace(), a.argsort(axis=1), a[None].mT, a.copy(),
        a.conjugate(), a.clip(min=1.0), a.T.T,
    )
    for got, exp in zip(traced(f, A), f(A)):
        assert_same(got, exp, check_type=False)
    assert_same(traced(lambda a: a.sort(axis=0), A), np.sort(A, axis=0))

    def props(a):
        assert a.shape == (2, 3) and a.ndim == 2 and a.size == 6 and a.dtype == np.float64
        assert len(a) == 2 and a.itemsize == 8 and a.nbytes == 48
        assert [r.shape for r in a] == [(3,), (3,)]
        return a

    xform.vmap(props, in_axes=1)(np.ones((2, 5, 3)))


def test_concrete_tracer_conversions():
    def f(a):
        assert a.item(1) == A.ravel()[1]
        assert a.tolist() == A.tolist()
        assert float(a[0, 0]) == A[0, 0]
        return a

    xform.jvp(f, (A,), (A,))
    with pytest.raises(xform.ConcretizationTypeError):
        xform.jit(lambda a: a.item())(A)


def test_setitem_and_at():
    with pytest.raises(TypeError, match="immutable"):
        xform.vmap(lambda a: a.__setitem__(0, 1.0))(A)
    out = xform.vmap(lambda a: a.at[1].set(0.0))(A)
    exp = A.copy()
    exp[:, 1] = 0
    assert_same(out, exp)
    out = xform.vmap(lambda a: a.at[::2].add(1.0))(A)
    exp = A.copy()
    exp[:, ::2] += 1
    assert_same(out, exp)
    assert_same(xform.vmap(lambda a: a.at[1].get())(A), A[:, 1])


# -- numpy protocols ----------------------------------------------------------------------------


def numpy_model(w, x):
    """Plain numpy code: no xform imports."""
    h = np.tanh(x @ w + np.ones(w.shape[1]))
    h = np.concatenate([h, np.sin(h) ** 2], axis=1)
    z = np.sum(h * h, axis=1) / np.sqrt(np.mean(x ** 2))
    z = z + np.linalg.norm(h, axis=1) + np.max(h, axis=1) - np.exp(np.minimum(z, 1.0))
    return np.mean(np.where(z > 0, z, -z)) + np.dot(np.ravel(w), np.ravel(w)) + np.add.reduce(
        np.abs(np.reshape(w, -1)))


def test_unchanged_numpy_code_under_transformations():
    w, x = RNG.normal(size=(3, 2)), RNG.normal(size=(4, 3))
    value = numpy_model(w, x)
    assert_same(traced(numpy_model, w, x), value, check_type=False)
    xform.check_grads(lambda w: numpy_model(w, x), (w,), order=1, atol=1e-4, rtol=1e-4)
    g = xform.grad(numpy_model)(w, x)
    assert g.shape == w.shape and np.all(np.isfinite(g))
    per_example = xform.vmap(numpy_model, in_axes=(None, 0))(w, x[:, None, :])
    assert_same(per_example, np.array([numpy_model(w, xi[None]) for xi in x]))


def test_unchanged_numpy_code_under_jit():
    w, x = RNG.normal(size=(3, 2)), RNG.normal(size=(4, 3))
    assert_same(xform.jit(numpy_model)(w, x), numpy_model(w, x), rtol=1e-12, check_type=False)


def test_ufunc_methods_dispatch():
    checks = [
        (lambda a: np.add.reduce(a), lambda a: np.add.reduce(a)),
        (lambda a: np.maximum.reduce(a, axis=1), None),
        (lambda a: np.multiply.reduce(a, axis=None), None),
        (lambda a: np.logical_or.reduce(a > 1, axis=0), None),
        (lambda a: np.add.accumulate(a, axis=1), None),
        (lambda a: np.multiply.accumulate(a), None),
        (lambda a: np.multiply.outer(a, B), None),
        (lambda a: np.sin(a, dtype=np.float32), None),
        (lambda a: np.linalg.norm(a, axis=1), None),
        (lambda a: np.sum(a, axis=1, keepdims=True), None),
        (lambda a: np.transpose(a), None),
        (lambda a: np.stack([a, a * 2]), None),
        (lambda a: np.einsum("ij,j->i", a, B), None),
        (lambda a: np.clip(a, 1, 1.5), None),
        (lambda a: np.round(a, 2), None),
        (lambda a: np.matmul(a, B), None),
        (lambda a: np.vecdot(a, B), None),
    ]
    for f, _ in checks:
        assert_same(traced(f, A), f(A), check_type=False)

    def inspect(a):
        assert np.result_type(a, np.float32) == np.float64
        assert np.shape(a) == (2, 3) and np.ndim(a) == 2 and np.size(a) == 6
        assert np.can_cast(a, np.float32, "same_kind")
        return a

    xform.vmap(inspect, in_axes=1)(np.ones((2, 4, 3)))
    assert xform.grad(lambda x: np.sin(x))(0.0) == 1.0
    assert_same(xform.grad(lambda a: np.sum(np.cos(a)))(A), -np.sin(A))


def test_missing_numpy_functions_are_clear_errors():
    with pytest.raises(TypeError, match=r"numpy\.shares_memory has no xform implementation yet"):
        xform.vmap(lambda x: np.shares_memory(x, x))(A)
    with pytest.raises(TypeError, match=r"numpy\.linalg\.cross has no xform implementation yet"):
        xform.vmap(lambda x: np.linalg.cross(x, x))(np.ones((2, 2, 3)))
    with pytest.raises(TypeError, match=r"numpy\.linalg\.cross has no xform implementation yet"):
        xform.grad(lambda x: np.linalg.cross(x, x).sum())(np.ones(3))
    with pytest.raises(TypeError, match=r"numpy\.add\.at: numpy's in-place ufunc\.at"):
        xform.vmap(lambda x: np.add.at(x, [0], 1.0))(A)
    with pytest.raises(TypeError, match="out="):
        xform.vmap(lambda x: np.sin(x, out=x))(A)
    with pytest.raises(TypeError, match="cannot be converted"):
        xform.vmap(lambda x: np.asarray(x))(A)


def test_array_of_traced_values_is_stacked():
    def f(x):
        a = xnp.array([x[0], 2.0 * x[1], 3.0])
        b = xnp.asarray([[x[0], 1.0], [x[1], x[0] * x[1]]])
        return a.sum() + (b @ b).sum()

    x = np.array([0.5, 1.5])
    assert_same(xform.jvp(f, (x,), (x,))[0], np.float64(f(x)), check_type=False)
    xform.check_grads(f, (x,), order=2)
    assert xform.vmap(lambda v: xnp.array([v, v + 1]))(np.arange(3.0)).shape == (3, 2)
    assert xform.vmap(lambda v: xnp.array([v, 1], dtype=np.float32))(np.arange(3.0)).dtype == np.float32


def test_namespace():
    for name in ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                 "uint32", "bool_", "complex64", "complex128", "int_"]:
        # numpy's types as dtypes (subclasses that also convert traced values when called)
        t, ref = getattr(xnp, name), getattr(np, name)
        assert issubclass(t, ref) and np.dtype(t) == np.dtype(ref)
        assert type(t(1)) is ref
    assert xnp.pi == np.pi and xnp.e == np.e and xnp.inf == np.inf and np.isnan(xnp.nan)
    assert xnp.newaxis is None
    assert xnp.zeros(2, dtype=xnp.float32).dtype == np.float32


def test_results_outside_transformations_are_numpy():
    assert type(xnp.sum(np.ones(3))) is np.float64
    assert type(xnp.mean(np.arange(3))) is np.float64
    assert type(xnp.argmax(np.arange(3))) is np.int64
    assert type(xnp.dot(np.ones(2), np.ones(2))) is np.float64
    # arrays are xform.Arrays: numpy arrays with JAX's .at (docs/arrays.md)
    assert type(xnp.reshape(np.ones(2), (2, 1))) is xform.Array
    assert type(xnp.einsum("i,i", np.ones(2), np.ones(2))) is np.float64


@pytest.mark.parametrize("module", ["_ufuncs", "_reductions", "_creation", "_manipulation",
                                    "_indexing_routines", "_sorting", "_logic", "_dot",
                                    "_indexing", "_dispatch", "linalg", "__init__"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module("xform.numpy" + ("" if module == "__init__" else "." + module))
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
