"""Vector math called as compiled routines from fused loops (vector_calls.py, fusion.py):
chunk and segment boundaries, outer-loop values, reductions across segments, the
segment budget, the parallel path, and the canonical kernel source."""
import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform.backend.numba import fusion, vector_calls
from tests._tolerance import unit_roundoff

RNG = np.random.default_rng(11)
U = unit_roundoff(np.float64)

NUMPY_OF = {"vexp": np.exp, "vlog": np.log, "vtanh": np.tanh, "vsin": np.sin, "vcos": np.cos,
            "vlogistic": lambda x: 1.0 / (1.0 + np.exp(-x))}
SPECIALS = np.array([0.0, -0.0, 1e-310, -1e-310, 0.5, -0.5, 3.0, 700.0, -745.0, 1e300,
                     -1e300, 2.0 ** 20, np.inf, -np.inf, np.nan])


def _close(got, ref, ulps=8):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    same_nan = np.isnan(got) == np.isnan(ref)
    assert same_nan.all()
    with np.errstate(invalid="ignore"):
        ok = np.isnan(ref) | (got == ref) | (np.abs(got - ref) <= ulps * U * np.abs(ref) + 1e-300)
    assert ok.all(), (got[~ok], ref[~ok])


def _within(got, ref, bound):
    """|got - ref| <= bound: a sum's error bound is relative to its terms."""
    assert np.all(np.abs(np.asarray(got) - ref) <= bound)


@pytest.mark.parametrize("name", sorted(NUMPY_OF))
def test_routines_match_numpy(name):
    # the routines themselves, called from a small numba function on both paths
    import numba

    vm = getattr(vector_calls, "vm_" + name)
    vs = getattr(vector_calls, "vs_" + name)

    @numba.njit
    def run(x):
        y = np.empty_like(x)
        vm(x, y, x.size)
        z = np.empty_like(x)
        for i in range(x.size):
            z[i] = vs(x[i])
        return y, z

    x = np.concatenate([SPECIALS, RNG.standard_normal(300) * 30.0])
    if name == "vlog":
        x = np.abs(x)
    with np.errstate(all="ignore"):
        ref = NUMPY_OF[name](x)
    y, z = run(x)
    _close(y, ref)
    _close(z, ref)


def _mixed(x):
    return xnp.tanh(xnp.exp(x * 0.25) * 0.5 + xnp.sin(x)) - xnp.log(x * x + 1.0) * xnp.cos(x)


def _mixed_np(x):
    return np.tanh(np.exp(x * 0.25) * 0.5 + np.sin(x)) - np.log(x * x + 1.0) * np.cos(x)


_MIXED = xform.jit(_mixed)


@pytest.mark.parametrize("n", [3, 7, 8, 511, 512, 513, 1537])
def test_chunk_boundaries(n):
    x = RNG.standard_normal(n) * 4.0
    out = _MIXED(x)
    # error bound of a difference of two terms: relative to the terms, not the result
    scale = np.abs(np.tanh(np.exp(x * 0.25) * 0.5 + np.sin(x))) + np.abs(
        np.log(x * x + 1.0) * np.cos(x))
    _within(out, _mixed_np(x), 64 * U * scale)
    src = _MIXED.lower(x).source
    # short innermost loops call the scalar routines, longer ones the chunked ones
    assert ("vm_vtanh(" in src) == (n >= fusion.CHUNK_MIN)


def test_two_dims_broadcast_and_outer_values():
    # exp of a value broadcast along the inner axis is computed in the outer loop (the
    # scalar routine); tanh(x + b) in the chunked innermost loop
    def f(x, a, b):
        return xnp.exp(xnp.broadcast_to(a[:, None], x.shape)) * xnp.tanh(x + b) + xnp.sin(b)

    x, a, b = RNG.standard_normal((37, 600)), RNG.standard_normal(37), RNG.standard_normal(600)
    src = xform.jit(f).lower(x, a, b).source
    assert "vs_vexp(" in src and "vm_vtanh(" in src
    t1, t2 = np.exp(a[:, None]) * np.tanh(x + b), np.sin(b)
    _within(xform.jit(f)(x, a, b), t1 + t2, 32 * U * (np.abs(t1) + np.abs(t2)))


def test_reductions_across_segments():
    # the sums accumulate values of different segments of the same chunked loop
    def f(x):
        y = xnp.tanh(x) * xnp.exp(-x * x)
        return [xnp.sum(y, axis=-1), xnp.sum(xnp.sin(y) * x, axis=0), xnp.max(xnp.log1p(y * y))]

    x = RNG.standard_normal((19, 1100))
    y = np.tanh(x) * np.exp(-x * x)
    ref = [y.sum(-1), (np.sin(y) * x).sum(0), np.log1p(y * y).max()]
    out = xform.jit(f)(x)
    for o, r in zip(out, ref):
        np.testing.assert_allclose(o, r, rtol=1e-12, atol=1e-12)


def test_float32_values():
    x = (RNG.standard_normal(1000) * 3).astype(np.float32)
    out = xform.jit(lambda x: xnp.exp(x) * xnp.sin(x) + xnp.tanh(x))(x)
    assert out.dtype == np.float32
    ref = (np.exp(x.astype(np.float64)) * np.sin(x.astype(np.float64))).astype(np.float32)
    ref = ref + np.tanh(x.astype(np.float64)).astype(np.float32)
    # float64 routines rounded to float32 at each operation, as the un-jitted program
    np.testing.assert_allclose(out, ref, rtol=4 * unit_roundoff(np.float32), atol=1e-37)


def test_segment_budget_falls_back_to_scalar_calls():
    # more vector-math calls than the budget: one loop calling the scalar routines
    k = fusion.SEGMENT_BUDGET + 4

    def f(x):
        for _ in range(k):
            x = xnp.tanh(x) * 1.5 + 0.1
        return x

    x = RNG.standard_normal(1000)
    src = xform.jit(f).lower(x).source
    assert "vs_vtanh(" in src and "vm_vtanh(" not in src
    ref = x
    for _ in range(k):
        ref = np.tanh(ref) * 1.5 + 0.1
    _close(xform.jit(f)(x), ref, ulps=256)


def test_parallel_groups(monkeypatch):
    monkeypatch.setenv("XFORM_PARALLEL", "1")
    monkeypatch.setenv("XFORM_PARALLEL_MIN_SIZE", "4096")
    x1 = RNG.standard_normal(20_000)
    x2 = RNG.standard_normal((30, 700))
    f = xform.jit(lambda x: xnp.exp(xnp.sin(x)) - x)
    for x in (x1, x2):
        src = f.lower(x).source
        assert "prange" in src and "vm_vsin(" in src
        _within(f(x), np.exp(np.sin(x)) - x, 16 * U * (np.exp(np.sin(x)) + np.abs(x)))


def test_source_is_canonical():
    # the comments label variables per kernel: what the process traced before does not
    # change the source (the memory and disk caches key on it)
    def f(x):
        return xnp.sin(x) * 2.0

    first = xform.jit(f).lower(np.ones(5)).source
    for k in range(3):
        xform.jit(lambda x: xnp.cos(x) + k).lower(np.ones(4))
    assert xform.jit(lambda x: xnp.sin(x) * 2.0).lower(np.ones(5)).source.replace(
        "`<lambda>`", "`f`") == first
