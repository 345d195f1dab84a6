"""JAX/numpy API conformance (issue 16): the names client code calls, run in their JAX
spelling and compared with numpy/scipy, closed forms or central finite differences, and
with JAX itself where it is installed (``pytest.importorskip``).

Covers: numpy's bit routines, ``copyto``/``putmask``, ``einsum_path`` and optimized
einsum, ``isdtype`` and the I/O and printing names, ufunc objects and their methods,
reductions with ``where=``, ``.at[]`` out-of-bounds modes, scalar types and
``isinstance`` checks; the top-level API (devices, ``ensure_compile_time_eval``,
ahead-of-time ``lower``/``trace``, config contexts, ``dtypes``/``errors``/``typing``,
checkpoint policies, vmap keyword arguments); ``lax`` additions; ``nn`` additions and
``dot_product_attention``; ``random`` samplers; ``scipy.special`` additions; pytree
helpers; and autograd's conventions for integer and complex arguments.
"""
from __future__ import annotations

import io
import math
import operator

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as ss

import xform
import xform.numpy as xnp
from xform import lax
from xform.scipy import special as xsp

RNG = np.random.default_rng(16)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- numpy: bit routines -------------------------------------------------------------------


_JIT_BITS = xform.jit(lambda a, b: (xnp.packbits(a, axis=1), xnp.unpackbits(b, axis=0, count=5),
                                    xnp.bitwise_count(a)))


def test_packbits_unpackbits_bitwise_count_match_numpy():
    a = RNG.integers(-3, 3, size=(3, 11)).astype(np.int16)
    b = RNG.integers(0, 256, size=(2, 3)).astype(np.uint8)
    for axis in (None, 0, 1):
        for order in ("big", "little"):
            np.testing.assert_array_equal(xnp.packbits(a, axis=axis, bitorder=order),
                                          np.packbits(a, axis=axis, bitorder=order))
            for count in (None, 3, 20, -4):
                ax = None if axis is None else min(axis, 1)
                np.testing.assert_array_equal(
                    xnp.unpackbits(b, axis=ax, count=count, bitorder=order),
                    np.unpackbits(b, axis=ax, count=count, bitorder=order))
    for dt in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64):
        v = RNG.integers(np.iinfo(dt).min, np.iinfo(dt).max, size=20, dtype=dt, endpoint=True)
        v[:2] = [np.iinfo(dt).min, np.iinfo(dt).max]
        out = xnp.bitwise_count(v)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, np.bitwise_count(v))
    p, u, c = _JIT_BITS(a, b)
    np.testing.assert_array_equal(p, np.packbits(a, axis=1))
    np.testing.assert_array_equal(u, np.unpackbits(b, axis=0, count=5))
    np.testing.assert_array_equal(c, np.bitwise_count(a))
    with pytest.raises(TypeError, match="packbits: expected an integer or boolean array"):
        xnp.packbits(np.ones(3))
    with pytest.raises(TypeError, match="unpackbits: expected an array of dtype uint8"):
        xnp.unpackbits(np.ones(3, np.int32))


def test_putmask_and_copyto_return_updated_arrays_as_numpy_computes_in_place():
    a = np.arange(7)
    mask = a % 3 == 1
    vals = np.array([-1, -2, -3])
    ref = a.copy()
    np.putmask(ref, mask, vals)
    np.testing.assert_array_equal(xnp.putmask(a, mask, vals, inplace=False), ref)
    dst, src = np.zeros((2, 3)), np.arange(3)
    where = np.array([[True, False, True], [False, True, True]])
    ref = dst.copy()
    np.copyto(ref, src, where=where)
    np.testing.assert_array_equal(xnp.copyto(dst, src, where=where, inplace=False), ref)
    np.testing.assert_array_equal(xform.jit(lambda d, s: xnp.copyto(d, s, inplace=False))(dst, src),
                                  np.broadcast_to(src, (2, 3)))
    for fn in (lambda: xnp.copyto(dst, src), lambda: xnp.putmask(a, mask, vals)):
        with pytest.raises(ValueError, match="cannot modify arrays in-place"):
            fn()
    with pytest.raises(TypeError, match="cannot cast array data from dtype float64 to int64"):
        xnp.copyto(np.zeros(2, np.int64), np.ones(2), inplace=False)
    with pytest.raises(TypeError, match="rule 'same_kind'"):
        xnp.copyto(np.zeros(2, np.int8), 1.5, inplace=False)
    np.testing.assert_array_equal(xnp.copyto(np.zeros(2, np.int8), 5, inplace=False), [5, 5])


def test_einsum_path_and_optimized_contraction_order():
    a, b, c = RNG.normal(size=(2, 30)), RNG.normal(size=(30, 3)), RNG.normal(size=(3, 4))
    path, info = xnp.einsum_path("ij,jk,kl->il", a, b, c)
    ref = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")[0][1:]
    assert path == [tuple(p) for p in ref] and isinstance(info, str)
    assert xnp.einsum_path("ij,jk,kl->il", a, b, c, optimize=False)[0] == [(0, 1), (0, 1)]
    expected = np.einsum("ij,jk,kl->il", a, b, c)
    for opt in ("auto", False, True, "optimal", [(1, 2), (0, 1)], ["einsum_path", (0, 2), (0, 1)]):
        np.testing.assert_allclose(xnp.einsum("ij,jk,kl->il", a, b, c, optimize=opt), expected,
                                   rtol=1e-12)
    # repeated and broadcast labels with a three-operand group (numpy's optimize=False)
    d = RNG.normal(size=(3, 3))
    np.testing.assert_allclose(xnp.einsum("ii,ij,j->", d, d, d[0], optimize=[(0, 1, 2)]),
                               np.einsum("ii,ij,j->", d, d, d[0]), rtol=1e-12)
    xform.check_grads(lambda x, y, z: xnp.einsum("ij,jk,kl->il", x, y, z), (a, b, c), order=1)
    jax = _jax()
    assert path == jax.numpy.einsum_path("ij,jk,kl->il", a, b, c)[0]


def test_dtype_utilities_io_and_printing():
    kinds = ("bool", "signed integer", "unsigned integer", "integral", "real floating",
             "complex floating", "numeric")
    for dt in (np.bool_, np.int8, np.uint32, np.float16, np.float64, np.complex64):
        for kind in kinds + ((("bool", "real floating")),):
            assert xnp.isdtype(dt, kind) == np.isdtype(np.dtype(dt).type, kind), (dt, kind)
    assert xnp.isdtype(xnp.float32, xnp.float32) and not xnp.isdtype(np.float32, np.float64)
    assert xnp.iterable([1]) and not xnp.iterable(1.0)
    assert xnp.array_repr(np.array([1.0, 2.5])) == np.array_repr(np.array([1.0, 2.5]))
    with xnp.printoptions(precision=3):
        assert xnp.array_str(np.array([1 / 3])) == "[0.333]"
    assert xnp.finfo(np.ones(2, np.float32)).eps == np.finfo(np.float32).eps
    assert xnp.iinfo(np.arange(2, dtype=np.int16)).max == 32767
    xform.jit(lambda x: xnp.finfo(x).eps * x)(np.ones(2, np.float32))
    f = io.BytesIO()
    xnp.save(f, np.arange(3.0))
    f.seek(0)
    loaded = xnp.load(f)
    assert isinstance(loaded, xform.Array)
    np.testing.assert_array_equal(loaded, np.arange(3.0))
    f = io.BytesIO()
    xnp.savez(f, a=np.ones(2), b=np.arange(2))
    f.seek(0)
    np.testing.assert_array_equal(xnp.load(f)["b"], np.arange(2))
    np.testing.assert_array_equal(xnp.frombuffer(b"\x01\x02\x03", dtype=np.uint8), [1, 2, 3])
    np.testing.assert_array_equal(xnp.fromstring("1,2", sep=","), [1.0, 2.0])
    np.testing.assert_array_equal(xnp.from_dlpack(np.arange(3)), np.arange(3))
    for fn in (lambda: xnp.fromfile("x"), lambda: xnp.fromiter([1], float)):
        with pytest.raises(NotImplementedError, match="non-pure"):
            fn()
    with pytest.raises(TypeError, match="print it with xform.debug.print"):
        xform.jit(lambda x: xnp.array_str(x))(1.0)


# -- ufunc objects ---------------------------------------------------------------------------

_UFUNCS = ["add", "subtract", "multiply", "maximum", "minimum", "logaddexp", "logaddexp2",
           "true_divide", "hypot", "fmax"]


@pytest.mark.parametrize("name", _UFUNCS)
def test_ufunc_methods_match_numpy(name):
    uf, ref = getattr(xnp, name), getattr(np, name)
    assert isinstance(uf, xnp.ufunc) and uf.nin == 2 and uf.__name__ == name
    x = RNG.uniform(0.5, 2.0, size=(3, 4))
    y = RNG.uniform(0.5, 2.0, size=5)
    np.testing.assert_allclose(uf.outer(x[0], y), ref.outer(x[0], y), rtol=1e-12)
    for axis in (0, 1):
        np.testing.assert_allclose(uf.reduce(x, axis=axis), ref.reduce(x, axis=axis), rtol=1e-12)
        np.testing.assert_allclose(uf.accumulate(x, axis=axis), ref.accumulate(x, axis=axis),
                                   rtol=1e-12)
    np.testing.assert_allclose(uf.reduce(x, axis=1, keepdims=True),
                               ref.reduce(x, axis=1, keepdims=True), rtol=1e-12)
    idx = np.array([0, 2, 1])
    np.testing.assert_allclose(uf.reduceat(x, idx, axis=1), ref.reduceat(x, idx, axis=1),
                               rtol=1e-12)
    a = x[0].copy()
    ref.at(a, np.array([0, 0, 3]), np.array([1.5, 0.7, 1.1]))
    np.testing.assert_allclose(uf.at(x[0], np.array([0, 0, 3]), np.array([1.5, 0.7, 1.1]),
                                     inplace=False), a, rtol=1e-12)


def test_ufunc_reductions_with_where_initial_multiple_axes_and_integers():
    x = RNG.integers(0, 50, size=(3, 4))
    w = RNG.random((3, 4)) > 0.4
    for name in ("add", "multiply", "bitwise_xor", "bitwise_or", "logical_xor", "maximum"):
        uf, ref = getattr(xnp, name), getattr(np, name)
        kw = {"initial": 0} if ref.identity is None else {}
        np.testing.assert_array_equal(uf.reduce(x, axis=(0, 1)), ref.reduce(x, axis=(0, 1)))
        np.testing.assert_array_equal(uf.reduce(x, axis=0, where=w, **kw),
                                      ref.reduce(x, axis=0, where=w, **kw))
        np.testing.assert_array_equal(uf.reduce(x, axis=None), ref.reduce(x, axis=None))
    np.testing.assert_array_equal(xnp.subtract.reduce(x, axis=1, initial=100),
                                  np.subtract.reduce(x, axis=1, initial=100))
    # power and arctan2 fold left, f(f(f(x0, x1), x2), x3) (numpy 2.4's reduce of these
    # over contiguous rows computes something else, so the reference is the fold itself)
    y = RNG.uniform(0.5, 2.0, size=(3, 4))
    for name in ("power", "arctan2"):
        f = getattr(np, name)
        np.testing.assert_allclose(getattr(xnp, name).reduce(y, axis=1),
                                   f(f(f(y[:, 0], y[:, 1]), y[:, 2]), y[:, 3]), rtol=1e-13)
    with pytest.raises(ValueError, match="not reorderable"):
        xnp.subtract.reduce(x, axis=(0, 1))
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        xnp.maximum.reduce(np.zeros((0,)))
    with pytest.raises(ValueError, match="does not have an identity"):
        xnp.maximum.reduce(x, where=w)
    with pytest.raises(NotImplementedError, match="cannot modify arrays in-place"):
        xnp.add.at(x, [0], 1)
    np.testing.assert_array_equal(xnp.negative.at(np.arange(4), np.array([1, 1, 2]),
                                                  inplace=False), [0, 1, -2, 3])


_JIT_UFUNC = xform.jit(lambda x: (xnp.subtract.accumulate(x), xnp.logaddexp.reduce(x),
                                  xnp.multiply.outer(x, x)))


def test_ufunc_methods_trace_differentiate_and_dispatch():
    x = RNG.normal(size=5)
    acc, lse, outer = _JIT_UFUNC(x)
    np.testing.assert_allclose(acc, np.subtract.accumulate(x), rtol=1e-12)
    np.testing.assert_allclose(lse, np.logaddexp.reduce(x), rtol=1e-12)
    np.testing.assert_allclose(outer, np.multiply.outer(x, x), rtol=1e-12)
    for fn in (lambda v: xnp.subtract.reduce(v), lambda v: xnp.logaddexp.accumulate(v),
               lambda v: xnp.hypot.reduce(v), lambda v: xnp.maximum.accumulate(v)):
        xform.check_grads(fn, (x,), order=2)
    np.testing.assert_allclose(xform.vmap(lambda v: np.maximum.accumulate(v))(x[None]),
                               np.maximum.accumulate(x)[None])  # numpy's own method, traced
    np.testing.assert_allclose(xform.grad(lambda v: np.add.reduce(v * v))(x), 2 * x)
    with pytest.raises(TypeError, match="in-place ufunc.at cannot update a traced array"):
        xform.grad(lambda v: np.add.at(v, [0], 1.0))(x)


def test_frompyfunc_and_custom_ufunc():
    hyp = xnp.frompyfunc(lambda a, b: xnp.sqrt(a * a + b * b), 2, 1, identity=0.0)
    x, y = RNG.normal(size=4), RNG.normal(size=3)
    np.testing.assert_allclose(hyp.outer(x, y), np.hypot.outer(x, y), rtol=1e-12)
    np.testing.assert_allclose(hyp.reduce(x), np.hypot.reduce(x), rtol=1e-12)
    np.testing.assert_allclose(hyp.accumulate(x), np.hypot.accumulate(x), rtol=1e-12)
    np.testing.assert_allclose(hyp.reduce(np.zeros((0,))), 0.0)
    clip_add = xnp.ufunc(lambda a, b: xnp.minimum(a + b, 10), 2, 1)
    np.testing.assert_array_equal(clip_add.accumulate(np.array([4, 5, 6])), [4, 9, 10])
    xform.check_grads(lambda v: hyp.reduce(v), (x,), order=1)
    with pytest.raises(ValueError, match="only supported for binary ufuncs"):
        xnp.frompyfunc(xnp.sin, 1, 1).reduce(x)
    jax = _jax()
    jhyp = jax.numpy.frompyfunc(lambda a, b: jax.numpy.sqrt(a * a + b * b), 2, 1)
    np.testing.assert_allclose(hyp.reduceat(x, np.array([0, 2])),
                               np.asarray(jhyp.reduceat(x, np.array([0, 2]))), rtol=1e-12)


# -- reductions with where= -------------------------------------------------------------------


def test_reductions_with_where_match_numpy_and_differentiate():
    x = RNG.normal(size=(3, 5))
    w = RNG.random((3, 5)) > 0.3
    w[:, 0] = True
    for name, kw in [("sum", {}), ("prod", {}), ("mean", {}), ("var", {"ddof": 1}),
                     ("std", {}), ("max", {"initial": -10.0}), ("min", {"initial": 10.0}),
                     ("all", {}), ("any", {}), ("nansum", {}), ("nanmean", {})]:
        for axis in (None, 1, (0, 1)):
            np.testing.assert_allclose(getattr(xnp, name)(x, axis=axis, where=w, **kw),
                                       getattr(np, name)(x, axis=axis, where=w, **kw),
                                       rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(xnp.mean(x, axis=0, where=w[0]), np.mean(x, axis=0, where=w[0]))
    xform.check_grads(lambda v: xnp.var(v, axis=1, where=w), (x,), order=2)
    xform.check_grads(lambda v: xnp.sum(v ** 2, where=w), (x,), order=1)
    with pytest.raises(ValueError, match="where= of shape"):
        xnp.sum(x, where=np.ones(4, bool))


# -- .at[] modes, take modes -----------------------------------------------------------------

_JIT_AT = xform.jit(lambda x, i, j: (x.at[i].set(9.0), x.at[i].add(1.0), x.at[i].multiply(2.0),
                                     x.at[i].min(-5.0), x.at[i].get(mode="fill", fill_value=-1.0),
                                     x.at[i].set(7.0, mode="clip"), x.at[j].get()))


def test_out_of_bounds_updates_are_dropped_and_reads_filled_as_in_jax():
    x = np.arange(5.0)
    i = np.array([1, 7, -2, -9, 1])
    s, a, m, mn, g, c, get = _JIT_AT(x, i, 9)
    np.testing.assert_array_equal(s, [0, 9, 2, 9, 4])
    np.testing.assert_array_equal(a, [0, 3, 2, 4, 4])
    np.testing.assert_array_equal(m, [0, 4, 2, 6, 4])
    np.testing.assert_array_equal(mn, [0, -5, 2, -5, 4])
    np.testing.assert_array_equal(g, [1, -1, 3, -1, 1])
    np.testing.assert_array_equal(c, [7, 7, 2, 7, 7])
    assert get == 4.0  # traced reads clamp (as indexing)
    # eager, concrete out-of-bounds indices: dropped too (numpy would raise)
    np.testing.assert_array_equal(xnp.asarray(x).at[7].set(1.0), x)
    np.testing.assert_array_equal(xnp.at(x)[np.array([0, 12])].add(1.0), [1, 1, 2, 3, 4])
    assert np.isnan(xnp.at(x)[np.array([6])].get(mode="fill")).all()
    np.testing.assert_array_equal(xnp.at(np.arange(3))[np.array([5])].get(mode="fill"),
                                  [np.iinfo(np.int64).min])
    two = np.zeros((2, 3))
    np.testing.assert_array_equal(xnp.at(two)[np.array([0, 5]), np.array([1, 1])].set(1.0),
                                  [[0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(xnp.at(np.arange(4.0))[np.array([1, 1, 3])].apply(
        lambda v: v * 10), [0, 100, 2, 30])
    xform.check_grads(lambda v: xnp.at(v)[np.array([0, 9, 2])].get(mode="fill", fill_value=0.0),
                      (x,), order=1)
    xform.check_grads(lambda v: xnp.at(v)[np.array([0, 9, 2])].multiply(v[1]), (x,), order=1)
    np.testing.assert_array_equal(xnp.take(x, np.array([1, 9]), mode="fill", fill_value=-3.0),
                                  [1, -3])
    np.testing.assert_array_equal(
        xnp.take_along_axis(x, np.array([1, 9]), axis=0, mode="fill", fill_value=0.0), [1, 0])
    np.testing.assert_array_equal(xnp.take_along_axis(x, np.array([1, 9]), axis=0, mode="clip"),
                                  [1, 4])
    with pytest.raises(ValueError, match="mode must be one of"):
        xnp.at(x)[0].set(1.0, mode="wrap")
    jax = _jax()
    jx = jax.numpy.asarray(x)
    for out, ref in zip(_JIT_AT(x, i, 9), jax.jit(
            lambda x, i, j: (x.at[i].set(9.0), x.at[i].add(1.0), x.at[i].multiply(2.0),
                             x.at[i].min(-5.0), x.at[i].get(mode="fill", fill_value=-1.0),
                             x.at[i].set(7.0, mode="clip"), x.at[j].get()))(jx, i, 9)):
        np.testing.assert_array_equal(out, np.asarray(ref))


# -- scalar types, isinstance -----------------------------------------------------------------


def test_scalar_types_convert_traced_values_and_stay_dtypes():
    for name in ("float32", "float64", "int32", "int8", "uint16", "bool_", "complex64", "float_",
                 "int_", "double", "single"):
        t = getattr(xnp, name)
        assert np.dtype(t) == np.dtype(getattr(np, name if name != "float_" else "float64"))
        assert np.zeros(2, dtype=t).dtype == np.dtype(t)
        assert xnp.zeros(2, dtype=t).dtype == np.dtype(t)
    assert issubclass(xnp.float32, np.floating) and np.issubdtype(xnp.int8, np.integer)
    assert type(xnp.float32(3)) is np.float32 and xnp.float32(3) == 3
    out = xnp.float32(np.arange(3))
    assert isinstance(out, xform.Array) and out.dtype == np.float32
    f = xform.jit(lambda x: (xnp.float32(x), xnp.int32(x * 2.7), xnp.bool_(x)))
    a, b, c = f(np.array([1.5, 0.0]))
    assert a.dtype == np.float32 and b.dtype == np.int32 and c.dtype == np.bool_
    np.testing.assert_array_equal(b, [4, 0])
    np.testing.assert_allclose(xform.grad(lambda x: xnp.float64(x) ** 2)(3.0), 6.0)


def test_isinstance_of_traced_values_as_in_jax():
    seen = []

    def f(x):
        seen.append((isinstance(x, xform.Array), isinstance(x, xnp.ndarray)))
        return x

    xform.jit(f)(1.0)
    xform.grad(f)(1.0)
    xform.vmap(f)(np.ones(2))
    assert seen == [(True, True)] * 3
    assert isinstance(xnp.ones(2), xform.Array) and not isinstance(np.ones(2), xform.Array)
    assert isinstance(np.ones(2), xnp.ndarray) and issubclass(xform.Array, xnp.ndarray)
    assert not isinstance(1.0, xnp.ndarray) and not isinstance([1], xform.Array)


# -- top-level API -------------------------------------------------------------------------------


def test_devices_are_one_cpu_and_placement_is_the_identity():
    (d,) = xform.devices()
    assert xform.local_devices() == [d] and d.platform == "cpu" and d.id == 0
    assert repr(d) == "CpuDevice(id=0)" and str(d) == "cpu:0" and isinstance(d, xform.Device)
    assert xform.device_count() == xform.local_device_count() == 1
    assert xform.default_backend() == "cpu" and xform.devices("cpu") == [d]
    assert (xform.process_index(), xform.process_count(), xform.process_indices()) == (0, 1, [0])
    tree = {"w": np.ones(2), "b": 3.0}
    put = xform.device_put(tree, d)
    assert isinstance(put["w"], xform.Array) and isinstance(put["b"], xform.Array)
    assert put["w"].devices() == {d} and put["w"].is_fully_addressable
    got = xform.device_get(xnp.ones(2))
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(xform.jit(lambda x: xform.device_put(x) * 2)(np.ones(2)), 2.0)
    with xform.default_device(d):
        pass
    with pytest.raises(RuntimeError, match="xform runs on the CPU only"):
        xform.devices("gpu")


@xform.jit
def _compile_time(x):
    with xform.ensure_compile_time_eval():
        n = xnp.sum(xnp.arange(4.0))
        assert not isinstance(n, xform.core.trace.Tracer)  # computed while tracing
        k = int(n)
    return x * k


def test_ensure_compile_time_eval_and_named_scope():
    np.testing.assert_array_equal(_compile_time(np.ones(2)), [6.0, 6.0])
    jaxpr = xform.make_jaxpr(_compile_time.fun)(np.ones(2))
    assert "reduce_sum" not in str(jaxpr) and "iota" not in str(jaxpr)

    def layer(x):
        with xform.named_scope("dense"):
            return xnp.tanh(x)

    assert xform.grad(layer)(0.0) == 1.0
    np.testing.assert_allclose(xform.jacobian(xnp.sin)(np.ones(2)), np.diag(np.cos(np.ones(2))))


def test_ahead_of_time_api_and_make_jaxpr_return_shape():
    f = xform.jit(lambda x, y: (x * y, xnp.sum(x)))
    x, y = np.ones(3), np.arange(3.0)
    traced = f.trace(x, y)
    assert traced.out_info[0] == xform.ShapeDtypeStruct((3,), np.float64)
    assert "mul" in str(traced.jaxpr)
    compiled = traced.lower().compile()
    np.testing.assert_array_equal(compiled(x, y)[0], x * y)
    assert "numba" in f.lower(x, y).as_text().lower() or f.lower(x, y).source
    with pytest.raises(TypeError, match="another signature"):
        compiled(np.ones(4), np.ones(4))
    assert f.eval_shape(x, y)[1] == xform.ShapeDtypeStruct((), np.float64)
    closed, shapes = xform.make_jaxpr(lambda a: {"s": a.sum(), "a": a}, return_shape=True)(x)
    assert shapes == {"s": xform.ShapeDtypeStruct((), np.float64),
                      "a": xform.ShapeDtypeStruct((3,), np.float64)}
    with pytest.raises(NotImplementedError, match="axis_env"):
        xform.make_jaxpr(lambda a: a, axis_env=[("i", 2)])


def test_auxiliary_outputs_may_hold_any_python_objects():
    g, aux = xform.grad(lambda x: (x ** 2, {"tag": "loss", "n": 3, "x": x}), has_aux=True)(2.0)
    assert g == 4.0 and aux["tag"] == "loss" and aux["n"] == 3 and aux["x"] == 2.0
    out, t, aux = xform.jvp(lambda x: (x * 2, ("a", x)), (1.0,), (1.0,), has_aux=True)
    assert aux[0] == "a" and aux[1] == 1.0 and t == 2.0


def test_vmap_keyword_arguments_axis_name_and_spmd_axis_name():
    f = xform.vmap(lambda a, b=1.0: a * b, axis_name="batch", spmd_axis_name="data")
    np.testing.assert_array_equal(f(np.ones(3), b=np.arange(3.0)), np.arange(3.0))
    with pytest.raises(TypeError, match="got a dict"):
        xform.vmap(lambda p: p, in_axes={"a": 0})({"a": np.ones(2)})
    jax = _jax()
    ref = jax.vmap(lambda a, b=1.0: a * b)(np.ones(3), b=np.arange(3.0))
    np.testing.assert_array_equal(f(np.ones(3), b=np.arange(3.0)), np.asarray(ref))


def test_config_contexts():
    with xform.debug_nans(True):
        with pytest.raises(FloatingPointError):
            xnp.log(np.array([-1.0]))
    assert not xform.config.debug_nans
    with xform.enable_checks(True):
        assert xform.config.check_jaxprs
    for ctx in (xform.numpy_rank_promotion("allow"), xform.numpy_dtype_promotion("standard"),
                xform.default_matmul_precision("highest"), xform.transfer_guard("disallow"),
                xform.checking_leaks(), xform.enable_x64(True), xform.log_compiles(False)):
        with ctx:
            pass
    with pytest.raises(NotImplementedError, match="only 'allow' is supported"):
        with xform.numpy_rank_promotion("raise"):
            pass
    with pytest.raises(ValueError, match="always has 64-bit types"):
        with xform.experimental.enable_x64(False):
            pass


def test_dtypes_errors_typing_and_checkpoint_policies():
    from xform import checkpoint_policies as cp
    from xform import dtypes, errors

    assert dtypes.canonicalize_dtype(np.float64) == np.float64
    assert dtypes.scalar_type_of(np.ones(2, np.float32)) is float
    assert dtypes.itemsize_bits(np.int16) == 16 and dtypes.float0 == xform.float0
    assert dtypes.result_type(np.float32, 1.0) == np.float32
    with pytest.raises(errors.TracerBoolConversionError):
        xform.jit(lambda x: 1.0 if x > 0 else 0.0)(1.0)
    with pytest.raises(errors.ConcretizationTypeError):
        xform.jit(lambda x: int(x))(1.0)
    with pytest.raises(errors.NonConcreteBooleanIndexError):
        xform.jit(lambda x: x[x > 0])(np.ones(2))
    assert isinstance(np.ones(2), xform.typing.ArrayLike)
    f = lambda x: xnp.sum(xnp.sin(x @ x.T) ** 2)  # noqa: E731
    x = RNG.normal(size=(3, 3))
    ref = xform.grad(f)(x)
    for policy in (cp.nothing_saveable, cp.everything_saveable, cp.dots_saveable,
                   cp.dots_with_no_batch_dims_saveable,
                   cp.save_from_both_policies(cp.dots_saveable, cp.nothing_saveable)):
        np.testing.assert_allclose(xform.grad(xform.checkpoint(f, policy=policy))(x), ref,
                                   rtol=1e-12)


# -- lax additions --------------------------------------------------------------------------------


def test_lax_additions_match_numpy():
    x = RNG.normal(size=(3, 4))
    np.testing.assert_array_equal(lax.broadcast(x, (2,)), np.broadcast_to(x, (2, 3, 4)))
    assert lax.broadcast_to_rank(x, 4).shape == (1, 1, 3, 4)
    assert lax.broadcast_shapes((3, 1), (4,)) == (3, 4)
    assert lax.collapse(np.ones((2, 3, 4)), 0, 2).shape == (6, 4)
    np.testing.assert_allclose(lax.exp2(x), np.exp2(x), rtol=1e-14)
    np.testing.assert_array_equal(lax.full_like(x, 2, np.int8), np.full((3, 4), 2, np.int8))
    i8 = np.array([-128, -8, -1, 0, 1, 127], np.int8)
    np.testing.assert_array_equal(lax.shift_right_logical(i8, np.int8(2)),
                                  (i8.view(np.uint8) >> 2).view(np.int8))
    u8 = i8.view(np.uint8)
    np.testing.assert_array_equal(lax.shift_right_arithmetic(u8, np.uint8(3)),
                                  (i8 >> 3).view(np.uint8))
    np.testing.assert_array_equal(lax.population_count(i8), np.bitwise_count(u8).astype(np.int8))
    for dt in (np.int16, np.uint32, np.int64):
        v = RNG.integers(0, np.iinfo(dt).max, size=10, dtype=dt)
        bits = 8 * np.dtype(dt).itemsize
        ref = [bits - int(t).bit_length() for t in v]
        np.testing.assert_array_equal(lax.clz(v), ref)
    np.testing.assert_array_equal(lax.select_n(np.array([2, 0, 1]), *np.eye(3)), [0, 0, 0])
    vals, idx = lax.top_k(np.array([[3.0, 1.0, 3.0, 5.0]]), 3)
    np.testing.assert_array_equal(vals, [[5.0, 3.0, 3.0]])
    np.testing.assert_array_equal(idx, [[3, 0, 2]])
    parts = lax.split(np.arange(10), (3, 7))
    np.testing.assert_array_equal(parts[1], np.arange(3, 10))
    np.testing.assert_array_equal(lax.tile(np.array([[1, 2]]), (2, 3)), np.tile([[1, 2]], (2, 3)))
    np.testing.assert_array_equal(lax.stack([x[0], x[1]], 1), np.stack([x[0], x[1]], 1))
    assert len(lax.unstack(x, 1)) == 4
    np.testing.assert_allclose(lax.reduce(x, 0.0, lax.add, (1,)), x.sum(1), rtol=1e-14)
    np.testing.assert_allclose(lax.reduce(x, 1.0, lambda a, b: a * b - 0.5, (0,)),
                               ((x[0] - 0.5) * x[1] - 0.5) * x[2] - 0.5, rtol=1e-14)
    np.testing.assert_array_equal(lax.reduce_xor(np.array([[5, 3], [1, 1]]), (1,)), [6, 0])
    xform.check_grads(lambda v: lax.top_k(v, 2)[0], (x,), order=2)
    xform.check_grads(lambda v: lax.reduce(v, 1.0, lambda a, b: a * b - 0.5, (0,)), (x,), order=2)
    assert lax.dtype(1.0) == np.float64 and lax.Precision.HIGHEST.name == "HIGHEST"
    jax = _jax()
    np.testing.assert_array_equal(lax.clz(i8), np.asarray(jax.lax.clz(i8)))
    np.testing.assert_array_equal(lax.top_k(x, 2)[1], np.asarray(jax.lax.top_k(x, 2)[1]))


def test_lax_bessel_and_zeta_match_scipy_with_derivatives():
    x = np.array([-3.0, -0.4, 0.0, 0.7, 5.0, 60.0])
    np.testing.assert_allclose(lax.bessel_i0e(x), sps.i0e(x), rtol=1e-14)
    np.testing.assert_allclose(lax.bessel_i1e(x), sps.i1e(x), rtol=1e-14)
    np.testing.assert_allclose(lax.zeta(3.0, np.array([0.5, 2.0])), sps.zeta(3.0, [0.5, 2.0]),
                               rtol=1e-14)
    xs = np.array([-2.0, 0.3, 4.0])
    xform.check_grads(lax.bessel_i0e, (xs,), order=2)
    xform.check_grads(lax.bessel_i1e, (xs,), order=2)
    xform.check_grads(lambda q: lax.zeta(3.0, q), (np.array([0.5, 2.0]),), order=2)
    # at 0: i1e'(0) = 1/2 (its limit)
    assert xform.grad(lax.bessel_i1e)(0.0) == 0.5
    jit_vm = xform.jit(xform.vmap(xform.grad(lax.bessel_i0e)))
    np.testing.assert_allclose(jit_vm(xs), sps.i1e(xs) - np.sign(xs) * sps.i0e(xs), rtol=1e-13)


# -- nn additions ---------------------------------------------------------------------------------


def test_nn_activations_match_their_definitions():
    x = np.linspace(-4.0, 4.0, 17)
    sp = np.logaddexp(0, x)
    refs = {"identity": x, "tanh": np.tanh(x), "mish": x * np.tanh(sp),
            "squareplus": (x + np.sqrt(x * x + 4)) / 2,
            "hard_sigmoid": np.clip(x + 3, 0, 6) / 6, "hard_silu": x * np.clip(x + 3, 0, 6) / 6,
            "hard_swish": x * np.clip(x + 3, 0, 6) / 6, "soft_sign": x / (1 + np.abs(x)),
            "sparse_plus": np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
            "sparse_sigmoid": np.clip((x + 1) / 2, 0, 1)}
    for name, ref in refs.items():
        np.testing.assert_allclose(getattr(xform.nn, name)(x), ref, rtol=1e-14, atol=1e-15)
    smooth = np.array([-2.5, -0.3, 0.4, 2.2])
    for name in ("mish", "squareplus", "soft_sign", "sparse_plus", "tanh"):
        xform.check_grads(getattr(xform.nn, name), (smooth,), order=2)
    y = np.array([1e-12, 1e-3, 0.5, 0.69, 0.7, 3.0, 40.0])
    # the reference in the accurate form of each regime (log(-expm1(-y)) is 0 at y = 40)
    ref = np.where(y < np.log(2), np.log(-np.expm1(-y)), np.log1p(-np.exp(-y)))
    np.testing.assert_allclose(xform.nn.log1mexp(y), ref, rtol=1e-14)
    xform.check_grads(xform.nn.log1mexp, (y[1:6],), order=2)
    a = RNG.normal(size=(3, 4)) * 300
    w = RNG.random((3, 4)) > 0.3
    w[:, 0] = True
    ref = np.log(np.sum(np.exp(a - a.max(1, keepdims=True)) * w, 1) / w.sum(1)) + a.max(1)
    np.testing.assert_allclose(xform.nn.logmeanexp(a, axis=1, where=w), ref, rtol=1e-12)


def _attention_reference(q, k, v, bias=None, mask=None, causal=False, scale=None):
    """The definition, in numpy: per batch and head, softmax(q k^T * scale + bias) v with
    masked logits at the dtype's minimum (grouped heads share a key/value head)."""
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    scale = 1 / math.sqrt(H) if scale is None else scale
    out = np.zeros_like(q)
    for b in range(B):
        for n in range(N):
            kk, vv = k[b, :, n // (N // K)], v[b, :, n // (N // K)]
            logits = q[b, :, n] @ kk.T * scale
            if bias is not None:
                logits = logits + np.broadcast_to(bias, (B, N, T, S))[b, n]
            allowed = np.ones((T, S), bool)
            if mask is not None:
                allowed &= np.broadcast_to(mask, (B, N, T, S))[b, n]
            if causal:
                allowed &= np.tril(np.ones((T, S), bool))
            logits = np.where(allowed, logits, np.finfo(q.dtype).min)
            p = np.exp(logits - logits.max(1, keepdims=True))
            out[b, :, n] = (p / p.sum(1, keepdims=True)) @ vv
    return out


def test_dot_product_attention_matches_its_definition_and_jax():
    q = RNG.normal(size=(2, 4, 4, 3))
    k, v = RNG.normal(size=(2, 5, 2, 3)), RNG.normal(size=(2, 5, 2, 3))
    bias, mask = RNG.normal(size=(2, 4, 4, 5)), RNG.random((2, 1, 4, 5)) > 0.2
    for kw in ({}, {"causal": True}, {"bias": bias, "mask": mask}, {"scale": 0.3}):
        args = dict(kw)
        is_causal = args.pop("causal", False)
        out = xform.nn.dot_product_attention(q, k, v, is_causal=is_causal, **args)
        np.testing.assert_allclose(out, _attention_reference(q, k, v, causal=is_causal, **args),
                                   rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(xform.nn.dot_product_attention(q[0], k[0], v[0]),
                               _attention_reference(q[:1], k[:1], v[:1])[0], rtol=1e-12)
    xform.check_grads(lambda a, b, c: xform.nn.dot_product_attention(a, b, c, is_causal=True),
                      (q[:1, :3], k[:1, :3], v[:1, :3]), order=1)
    jax = _jax()
    lens = np.array([3, 4], np.int32)
    for kw in ({"is_causal": True}, {"local_window_size": (1, 2)},
               {"query_seq_lengths": lens, "key_value_seq_lengths": lens}):
        ref = jax.nn.dot_product_attention(q, k, v, **kw)
        # JAX computes logits and softmax in float32: compare at float32's precision
        np.testing.assert_allclose(xform.nn.dot_product_attention(q, k, v, **kw), np.asarray(ref),
                                   rtol=1e-5, atol=1e-6)


# -- random --------------------------------------------------------------------------------------


_N = 4000


@pytest.mark.parametrize("name,args,dist", [
    ("cauchy", (), ss.cauchy()), ("logistic", (), ss.logistic()),
    ("lognormal", (0.5,), ss.lognorm(0.5)), ("pareto", (3.0,), ss.pareto(3.0)),
    ("rayleigh", (2.0,), ss.rayleigh(scale=2.0)), ("wald", (1.5,), ss.invgauss(1.5)),
    ("maxwell", (), ss.maxwell()), ("generalized_normal", (1.5,), ss.gennorm(1.5)),
    ("chisquare", (3.0,), ss.chi2(3.0)), ("f", (3.0, 6.0), ss.f(3.0, 6.0)),
    ("t", (4.0,), ss.t(4.0)), ("weibull_min", (2.0, 1.5), ss.weibull_min(1.5, scale=2.0)),
    ("triangular", (0.0, 0.3, 1.0), ss.triang(0.3)),
])
def test_continuous_samplers_follow_their_distribution(name, args, dist):
    sample = getattr(xform.random, name)(xform.random.key(7), *args, shape=(_N,))
    assert sample.shape == (_N,) and sample.dtype == np.float64
    assert ss.kstest(sample, dist.cdf).pvalue > 1e-4


def test_discrete_samplers_and_jax_bits():
    k = xform.random.key(3)
    for lam in (0.0, 2.5, 40.0):
        x = xform.random.poisson(k, lam, (_N,))
        assert x.dtype == np.int64
        assert abs(x.mean() - lam) < 5 * math.sqrt(lam / _N) + 1e-12
    for n, p in ((10.0, 0.3), (500.0, 0.6)):
        x = xform.random.binomial(k, n, p, (_N,))
        assert abs(x.mean() - n * p) < 5 * math.sqrt(n * p * (1 - p) / _N)
    assert np.isnan(xform.random.binomial(k, -1.0, 0.5)) and np.isnan(
        xform.random.binomial(k, 5.0, 1.5))
    g = xform.random.geometric(k, 0.25, (_N,))
    assert g.min() >= 1 and abs(g.mean() - 4.0) < 0.3
    r = xform.random.rademacher(k, (_N,))
    assert set(np.unique(r)) == {-1, 1}
    c = xform.random.multinomial(k, 20.0, np.array([0.2, 0.3, 0.5]), shape=(50, 3))
    np.testing.assert_array_equal(c.sum(-1), 20.0)
    b = xform.random.ball(k, 3, p=1.0, shape=(200,))
    assert (np.abs(b).sum(-1) <= 1).all()
    assert xform.random.double_sided_maxwell(k, 0.0, 1.0, (4,)).shape == (4,)
    assert xform.random.clone(k) is k
    # under jit and vmap over keys
    keys = xform.random.split(k, 3)
    out = xform.jit(xform.vmap(lambda kk: xform.random.poisson(kk, 3.0, (5,))))(keys)
    assert out.shape == (3, 5)
    np.testing.assert_array_equal(out[1], xform.random.poisson(keys[1], 3.0, (5,)))
    jax = _jax()
    jk, xk = jax.random.PRNGKey(3), xform.random.PRNGKey(3)
    f32 = np.float32
    for name, args in [("logistic", ((6,), f32)), ("rayleigh", (f32(2.0), (6,), f32)),
                       ("maxwell", ((6,), f32)), ("t", (f32(4.0), (6,), f32)),
                       ("rademacher", ((8,), np.int32)), ("geometric", (f32(0.3), (8,), np.int32)),
                       ("poisson", (np.array([0.0, 2.0, 15.0, 100.0]), None, np.int32)),
                       ("binomial", (np.array([5.0, 200.0]), f32(0.3), None, f32))]:
        np.testing.assert_array_equal(getattr(xform.random, name)(xk, *args),
                                      np.asarray(getattr(jax.random, name)(jk, *args)), name)


# -- scipy.special additions ----------------------------------------------------------------------

_UNARY = {"i0": (sps.i0, [-2.0, 0.5, 3.0]), "i1": (sps.i1, [-2.0, 0.5, 3.0]),
          "exp1": (sps.exp1, [0.3, 1.0, 4.0]), "expi": (sps.expi, [-1.0, 0.4, 3.0]),
          "erfcx": (sps.erfcx, [-1.0, 0.5, 30.0]), "dawsn": (sps.dawsn, [-1.0, 0.5, 3.0]),
          "spence": (sps.spence, [0.3, 1.0, 2.5]), "gammasgn": (sps.gammasgn, [-1.5, -0.5, 2.0]),
          "rgamma": (sps.rgamma, [0.5, 2.0, 4.5]), "psi": (sps.psi, [0.5, 2.0, 4.5]),
          "j0": (sps.j0, [0.5, 2.0, 9.0]), "j1": (sps.j1, [0.5, 2.0, 9.0]),
          "y0": (sps.y0, [0.5, 2.0, 9.0]), "y1": (sps.y1, [0.5, 2.0, 9.0]),
          "erfcinv": (sps.erfcinv, [1e-10, 0.5, 1.7]),
          "loggamma": (sps.loggamma, [0.5, 2.0, 40.0])}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_special_unary_values_and_derivatives(name):
    ref, pts = _UNARY[name]
    x = np.array(pts)
    np.testing.assert_allclose(getattr(xsp, name)(x), ref(x), rtol=1e-12)
    if name != "gammasgn":
        xform.check_grads(getattr(xsp, name), (x[1:],), order=2)


def test_special_functions_of_several_arguments():
    x = np.array([0.5, 1.3, 2.2])
    cases = [("jv", sps.jv, (1.5, x)), ("yv", sps.yv, (0.5, x)), ("iv", sps.iv, (2.0, x)),
             ("ive", sps.ive, (2.0, x)), ("kv", sps.kv, (0.5, x)), ("kve", sps.kve, (0.5, x)),
             ("jn", sps.jn, (2, x)), ("yn", sps.yn, (1, x)), ("expn", sps.expn, (0, x)),
             ("expn", sps.expn, (3, x)), ("owens_t", sps.owens_t, (x, 0.7)),
             ("hyp1f1", sps.hyp1f1, (0.7, 1.9, x)), ("hyp2f1", sps.hyp2f1, (0.7, 1.3, 2.2, x / 3)),
             ("poch", sps.poch, (x, 1.7)), ("beta", sps.beta, (x, 2.5))]
    for name, ref, args in cases:
        np.testing.assert_allclose(getattr(xsp, name)(*args), ref(*args), rtol=1e-12, err_msg=name)
        k = len(args) - 1  # the derivative in the last argument (others below)
        fn, fixed = getattr(xsp, name), args[:k]
        xform.check_grads(lambda t, f=fn, a=fixed: f(*a, t), (args[k],), order=2)
    xform.check_grads(lambda h: xsp.owens_t(h, 0.7), (x,), order=2)
    xform.check_grads(lambda a: xsp.owens_t(0.4, a), (x,), order=2)
    xform.check_grads(lambda z: xsp.poch(z, 1.7), (x,), order=1)
    # parameter derivatives of hypergeometric functions: central differences (see module)
    xform.check_grads(lambda a: xsp.hyp1f1(a, 1.9, 0.8), (np.array([0.7, 1.5]),), order=1)
    si, ci = xsp.sici(x)
    np.testing.assert_allclose(si, sps.sici(x)[0], rtol=1e-13)
    xform.check_grads(lambda v: xsp.sici(v)[1], (x,), order=2)
    s, c = xsp.fresnel(x)
    np.testing.assert_allclose(c, sps.fresnel(x)[1], rtol=1e-13)
    xform.check_grads(lambda v: xsp.fresnel(v)[0], (x,), order=2)
    z = np.array([1.0 + 1.0j, -0.5 + 2.0j])
    np.testing.assert_allclose(xsp.wofz(z), sps.wofz(z), rtol=1e-13)
    h = 1e-6
    dz = (sps.wofz(z + h) - sps.wofz(z - h)) / (2 * h)
    np.testing.assert_allclose(xform.jvp(xsp.wofz, (z,), (np.ones(2, complex),))[1], dz,
                               rtol=1e-7)


def test_special_combinatorics_entropies_and_transforms():
    n = np.array([-1.0, 0.0, 3.0, 4.5])
    np.testing.assert_allclose(xsp.factorial(n), sps.factorial(n), rtol=1e-13)
    N, k = np.array([5.0, 5.0, 3.0, 6.0]), np.array([2.0, 7.0, -1.0, 3.5])
    np.testing.assert_allclose(xsp.comb(N, k), sps.comb(N, k), rtol=1e-12)
    np.testing.assert_allclose(xsp.comb(N, k, repetition=True), sps.comb(N, k, repetition=True),
                               rtol=1e-12)
    np.testing.assert_allclose(xsp.multigammaln(np.array([3.5, 7.0]), 3),
                               sps.multigammaln(np.array([3.5, 7.0]), 3), rtol=1e-13)
    p, q = np.array([0.0, 0.3, 1.0, -1.0, 0.5]), np.array([1.0, 0.6, 0.0, 1.0, 0.5])
    np.testing.assert_allclose(xsp.rel_entr(p, q), sps.rel_entr(p, q), rtol=1e-13)
    np.testing.assert_allclose(xsp.kl_div(p, q), sps.kl_div(p, q), rtol=1e-13)
    x, lm = np.array([0.5, 2.0, 7.0]), np.array([0.0, 0.5, -1.3])
    np.testing.assert_allclose(xsp.boxcox(x, lm), sps.boxcox(x, lm), rtol=1e-13)
    np.testing.assert_allclose(xsp.boxcox1p(x, lm), sps.boxcox1p(x, lm), rtol=1e-13)
    a = RNG.normal(size=(2, 3))
    np.testing.assert_allclose(xsp.softmax(a), sps.softmax(a), rtol=1e-13)
    np.testing.assert_allclose(xsp.log_softmax(a, axis=1), sps.log_softmax(a, axis=1), rtol=1e-13)
    np.testing.assert_allclose(xsp.bernoulli(6), sps.bernoulli(6), rtol=1e-13)
    np.testing.assert_allclose(xsp.bessel_jn(x, v=3), np.stack([sps.jv(i, x) for i in range(4)]),
                               rtol=1e-13)
    np.testing.assert_allclose(xsp.zeta(np.array([2.0, 3.5])), sps.zeta([2.0, 3.5]), rtol=1e-13)
    xform.check_grads(lambda v: xsp.kl_div(v, 0.4), (np.array([0.2, 0.7]),), order=2)
    xform.check_grads(lambda v: xsp.boxcox(v, 0.3), (x,), order=2)
    jax = _jax()
    js = jax.scipy.special
    for name, args in [("owens_t", (x, 0.7)), ("poch", (x, 1.5)), ("expi", (x,)),
                       ("factorial", (n,)), ("rel_entr", (p, q)), ("kl_div", (p, q)),
                       ("spence", (x,)), ("bessel_jn", (x,))]:
        kw = {"v": 2} if name == "bessel_jn" else {}
        np.testing.assert_allclose(getattr(xsp, name)(*args, **kw),
                                   np.asarray(getattr(js, name)(*args, **kw)), rtol=1e-9,
                                   err_msg=name)


_JIT_SPECIAL = xform.jit(lambda x: (xsp.expi(x), xsp.owens_t(x, 0.5), xsp.sici(x)[0]))


def test_callback_special_functions_under_jit_and_vmap():
    x = np.array([0.4, 1.1, 2.5])
    e, t, s = _JIT_SPECIAL(x)
    np.testing.assert_allclose(e, sps.expi(x), rtol=1e-14)
    np.testing.assert_allclose(t, sps.owens_t(x, 0.5), rtol=1e-14)
    np.testing.assert_allclose(s, sps.sici(x)[0], rtol=1e-14)
    vm = xform.vmap(lambda v, q: xsp.hyp1f1(1.0, q, v), in_axes=(0, None))(x, 2.0)
    np.testing.assert_allclose(vm, sps.hyp1f1(1.0, 2.0, x), rtol=1e-14)
    vm2 = xform.vmap(lambda a: xsp.jv(a, x))(np.array([0.0, 1.0]))
    np.testing.assert_allclose(vm2, sps.jv(np.array([[0.0], [1.0]]), x), rtol=1e-14)


# -- pytrees ---------------------------------------------------------------------------------


def test_tree_util_additions_match_jax():
    from xform import tree_util as tu

    assert tu.tree_broadcast([1, 2], [(3, 4), {"a": 5}]) == [(1, 1), {"a": 2}]
    assert tu.tree_reduce_associative(operator.add, [1, (2, 3), {"a": 4}]) == 10
    assert tu.flatten_one_level({"b": 2, "a": [1]}) == (([1], 2), ("a", "b"))
    assert tu.is_tree_node(dict) and not tu.is_tree_node(float)
    s = tu.tree_structure([1, 2])
    assert tu.treedef_tuple([s, s]) == tu.tree_structure(([1, 2], [3, 4]))
    assert xform.tree.broadcast(0, {"a": 1, "b": (2, 3)}) == {"a": 0, "b": (0, 0)}

    @tu.register_static
    class Cfg:
        def __init__(self, n):
            self.n = n

        def __eq__(self, other):
            return isinstance(other, Cfg) and other.n == self.n

        def __hash__(self):
            return hash(self.n)

    out = xform.jit(lambda c, x: x * c.n)(Cfg(3), 2.0)
    assert out == 6.0 and tu.tree_leaves([Cfg(1), 2.0]) == [2.0]
    jax = _jax()
    jt = jax.tree_util
    for tree in ([1, 2], (1, 2), {"b": 2, "a": [1]}):
        assert tu.flatten_one_level(tree) == jt.flatten_one_level(tree)
    assert tu.tree_broadcast([1, 2], [(3, 4), {"a": 5}]) == jt.tree_broadcast([1, 2],
                                                                            [(3, 4), {"a": 5}])


# -- autograd and JAX conventions for integer and complex arguments -------------------------------


def test_grad_of_integer_and_complex_arguments_as_jax():
    with pytest.raises(TypeError, match="gradients are only defined for floating inputs"):
        xform.grad(lambda x: x * 2)(3)
    g = xform.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert g[0] == 3.0 and g[1].dtype == xform.float0
    z = 1.0 + 2.0j
    np.testing.assert_allclose(xform.grad(lambda w: (w * w.conj()).real)(z), 2 * z.conjugate())
    np.testing.assert_allclose(xform.grad(lambda w: w * w, holomorphic=True)(z), 2 * z)
    with pytest.raises(TypeError, match="holomorphic=True"):
        xform.grad(lambda w: w * w)(z)
    jax = _jax()
    for fn in (lambda: jax.grad(lambda x: x * 2)(3), lambda: jax.grad(lambda w: w * w)(z)):
        with pytest.raises(TypeError):
            fn()
    np.testing.assert_allclose(xform.grad(lambda w: (w * w.conj()).real)(z),
                               np.asarray(jax.grad(lambda w: (w * w.conj()).real)(z)))


# -- named-axis collectives and pmap ---------------------------------------------------------


def _collective_programs(lib):
    lax_ = lib.lax
    x = np.arange(1.0, 7.0).reshape(3, 2)
    v = lambda f: lib.vmap(f, axis_name="i")  # noqa: E731
    return {
        "psum": lambda: v(lambda a: a / lax_.psum(a, "i"))(x),
        "pmean": lambda: v(lambda a: a - lax_.pmean(a, "i"))(x),
        "pmax/pmin": lambda: v(lambda a: lax_.pmax(a, "i") - lax_.pmin(a, "i"))(x),
        "psum of a constant": lambda: v(lambda a: lax_.psum(1.0, "i") + a)(x),
        "axis_index": lambda: v(lambda a: a * lax_.axis_index("i"))(x),
        "all_gather": lambda: v(lambda a: lax_.all_gather(a, "i", axis=1))(x),
        "all_gather tiled": lambda: v(lambda a: lax_.all_gather(a, "i", tiled=True))(x),
        "nested names": lambda: lib.vmap(lib.vmap(lambda a: a / lax_.psum(a, ("i", "j")),
                                                  axis_name="j"), axis_name="i")(x),
        "inner name": lambda: lib.vmap(lib.vmap(lambda a: a / lax_.psum(a, "j"), axis_name="j"),
                                       axis_name="i")(x),
        "jit outside": lambda: lib.jit(v(lambda a: a - lax_.pmean(a, "i")))(x),
        "pmean of grads": lambda: v(lambda a: lax_.pmean(lib.grad(lambda w: (w ** 3).sum())(a),
                                                          "i"))(x),
        "grad through": lambda: lib.grad(lambda y: v(lambda a: (a / lax_.psum(a, "i")).sum() ** 2)
                                         (y).sum())(x),
        "jvp inside": lambda: v(lambda a: lib.jvp(lambda w: lax_.psum(w * w, "i"), (a,),
                                                  (a * 0 + 1,))[1])(x),
        "scan closing over": lambda: v(lambda a: lax_.scan(lambda c, _: (c + lax_.psum(a, "i"),
                                                                         None), a, None,
                                                             length=2)[0])(x),
    }


def test_collectives_values():
    out = {k: np.asarray(f()) for k, f in _collective_programs(xform).items()}
    x = np.arange(1.0, 7.0).reshape(3, 2)
    np.testing.assert_allclose(out["psum"], x / x.sum(0))
    np.testing.assert_allclose(out["pmean"], x - x.mean(0))
    np.testing.assert_allclose(out["pmax/pmin"], np.broadcast_to(x.max(0) - x.min(0), x.shape))
    np.testing.assert_allclose(out["psum of a constant"], x + 3)
    np.testing.assert_allclose(out["axis_index"], x * np.arange(3)[:, None])
    np.testing.assert_allclose(out["all_gather"], np.broadcast_to(x.T, (3, 2, 3)))
    np.testing.assert_allclose(out["nested names"], x / x.sum())
    np.testing.assert_allclose(out["pmean of grads"], np.broadcast_to((3 * x ** 2).mean(0), x.shape))
    grads = np.asarray(xform.pmap(lambda g: lax.pmean(g, "b"), axis_name="b")(x))
    np.testing.assert_allclose(grads, np.broadcast_to(x.mean(0), x.shape))
    np.testing.assert_allclose(xform.pmap(lambda g, k: g * k, static_broadcasted_argnums=1)(x, 3.0),
                               3 * x)
    with pytest.raises(NameError, match="unbound axis name 'z'"):
        xform.vmap(lambda a: lax.psum(a, "z"))(x)
    with pytest.raises(NotImplementedError, match="Apply the collective outside"):
        xform.vmap(xform.grad(lambda a: (a * lax.psum(a, "i")).sum()), axis_name="i")(x)


def test_collectives_against_jax():
    jax = _jax()
    ours = {k: np.asarray(f()) for k, f in _collective_programs(xform).items()}
    for k, f in _collective_programs(jax).items():
        np.testing.assert_allclose(ours[k], np.asarray(f()), rtol=1e-12, err_msg=k)
