"""xform.random: JAX's bits (stored reference values, and live against JAX when it is
installed), the Threefry primitive and its Numba lowering, the samplers' distributions
(moments, Kolmogorov-Smirnov and chi-square tests with scipy), transformations (jit
with traced keys, vmap over keys, loops, derivatives) and errors."""
from __future__ import annotations

import importlib.util
import math
import os

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st
from hypothesis import given, settings, strategies as hst

import xform
import xform.numpy as xnp
import xform.random as xr
from xform import lax
from xform.lax import random_bits as rb
from xform.lax import random_math as rm

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "jax_random_reference.npz"))
SEEDS = (0, 1, 42, 2 ** 31 - 1)
F32, F16, F64 = np.float32, np.float16, np.float64


def assert_bits_equal(actual, expected):
    """Same dtype, shape and bits (NaNs equal)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(actual, expected)
    if actual.dtype.kind == "f":  # signed zeros too (the sign of a NaN means nothing)
        num = ~np.isnan(expected)
        np.testing.assert_array_equal(np.signbit(actual[num]), np.signbit(expected[num]))


# -- Threefry-2x32: known answers, primitive rules, lowering ---------------------------------

# Random123's known-answer tests for threefry2x32_20: (key, counter) -> output
KAT = [((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6b200159, 0x99ba4efe)),
       ((0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff), (0x1cb996fc, 0xbb002be7)),
       ((0x13198a2e, 0x03707344), (0x243f6a88, 0x85a308d3), (0xc4923a9c, 0x483df7a0))]


@pytest.mark.parametrize("key,ctr,expected", KAT)
def test_threefry_known_answers(key, ctr, expected):
    out = rb.threefry2x32(*(np.uint32(v) for v in key + ctr))
    assert [int(v) for v in out] == list(expected)


_jit_threefry = xform.jit(rb.threefry2x32)


def test_threefry_lowering_matches_impl_with_broadcasting():
    rng = np.random.default_rng(0)
    k1 = rng.integers(0, 2 ** 32, (3, 1), dtype=np.uint32)
    k2 = np.uint32(0xDEADBEEF)
    x1 = rng.integers(0, 2 ** 32, (4,), dtype=np.uint32)
    x2 = rng.integers(0, 2 ** 32, (3, 4), dtype=np.uint32)
    eager = rb.threefry2x32(k1, k2, x1, x2)
    jitted = _jit_threefry(k1, k2, x1, x2)
    for e, j in zip(eager, jitted):
        assert_bits_equal(j, e)
    # each element is the hash of its own operands (the scalar known answer)
    i, j = 2, 3
    single = rb.threefry2x32(k1[i, 0], k2, x1[j], x2[i, j])
    assert [int(e[i, j]) for e in eager] == [int(v) for v in single]


def test_threefry_vmap_and_jvp():
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 2 ** 32, (5, 3), dtype=np.uint32)
    key = np.uint32(7), np.uint32(9)
    batched = xform.vmap(lambda x: rb.threefry2x32(key[0], key[1], x, x[::-1]), in_axes=1)(xs)
    loop = [rb.threefry2x32(key[0], key[1], xs[:, c], xs[::-1, c]) for c in range(3)]
    for w in range(2):
        assert_bits_equal(batched[w], np.stack([lp[w] for lp in loop]))
    # integer results have symbolic zero tangents: samplers do not differentiate the bits
    g = xform.grad(lambda m: xnp.sum(xr.uniform(xr.PRNGKey(0), (3,), F64, m, 2.0)))(0.5)
    floats = xr.uniform(xr.PRNGKey(0), (3,), F64)
    np.testing.assert_allclose(g, np.sum(1 - floats), rtol=1e-15)


def test_threefry_rejects_other_dtypes():
    with pytest.raises(TypeError, match="uint32"):
        rb.threefry2x32_p.bind(np.int32(1), np.uint32(1), np.uint32(1), np.uint32(1))
    with pytest.raises(TypeError, match="uint32"):
        xform.make_jaxpr(lambda x: rb.threefry2x32_p.bind(x, x, x, x))(np.float32(1))


def _big(k, x):
    return (rb.threefry_random_bits(k, 32, (300_001,)),
            xform.vmap(lambda kk: rb.threefry_random_bits(kk, 64, (100_000,)))(
                rb.threefry_split(k, (3,))),
            rm.fma_f32_xla(x, x[::-1], F32(0.1)), rm.erf_inv_f32_xla(x))


_jit_big = xform.jit(_big)


@pytest.fixture(autouse=True)
def _parallel_from_2_18(monkeypatch):
    # these tests exercise the parallel (prange) path at 2**18-2**19 elements, below the
    # default XFORM_PARALLEL_MIN_SIZE (2**20); the setting is read when compiling
    monkeypatch.setenv("XFORM_PARALLEL_MIN_SIZE", str(1 << 18))


def test_parallel_loops():
    # sizes above config.parallel_min_size() run in parallel (prange) helpers (one each
    # here: the samplers built on these primitives are tested at small sizes)
    k = np.array([5, 6], np.uint32)
    x = xr.uniform(xr.PRNGKey(3), (300, 1001), F32, -1.0, 1.0)
    for g, e in zip(_jit_big(k, x), _big(k, x)):
        assert_bits_equal(g, e)
    keys = rb.threefry_split(k, (3,))
    assert_bits_equal(_big(k, x)[1][2], rb.threefry_random_bits(keys[2], 64, (100_000,)))


def test_random_bits_batched_keys_and_wide_counters():
    keys = rb.threefry_split(np.zeros(2, np.uint32), (3,))
    batched = rb.random_bits_p.bind(keys, bit_width=32, shape=(2, 2))
    for i in range(3):
        assert_bits_equal(batched[i], rb.threefry_random_bits(keys[i], 32, (2, 2)))
    # counters with a high word: the 64-bit path of the counter split
    hi, lo = rb.iota_2x32_shape((3, 2), _split_at=4)
    assert hi.tolist() == [[0] * 2] * 3 and lo.tolist() == [[0, 1], [2, 3], [4, 5]]
    y = rb.threefry2x32(np.uint32(1), np.uint32(2), np.uint32(1), np.uint32(5))
    full = (np.uint64(1) << np.uint64(32)) + np.uint64(5)
    h = np.asarray((np.arange(2, dtype=np.uint64) + full) >> np.uint64(32), np.uint32)
    lw = np.asarray((np.arange(2, dtype=np.uint64) + full) & np.uint64(0xFFFFFFFF), np.uint32)
    assert [int(v) for v in y] == [int(v[0]) for v in rb.threefry2x32(
        np.uint32(1), np.uint32(2), h, lw)]


# -- bits equal to JAX's: stored reference values ----------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_keys_split_fold_in_bits_match_jax(seed):
    k = xr.PRNGKey(seed)
    assert_bits_equal(k, REF[f"key/{seed}"])
    assert_bits_equal(xr.key_data(xr.key(seed)), REF[f"typed_key/{seed}"])
    assert_bits_equal(xr.split(k, 3), REF[f"split/{seed}"])
    assert_bits_equal(xr.split(k, (2, 3)), REF[f"split2d/{seed}"])
    assert_bits_equal(xr.fold_in(k, 7), REF[f"fold_in/{seed}"])
    assert_bits_equal(xr.bits(k, (4, 5), np.uint32), REF[f"bits32/{seed}"])
    assert_bits_equal(xr.bits(k, (9,), np.uint16), REF[f"bits16/{seed}"])
    assert_bits_equal(xr.bits(k, (9,), np.uint8), REF[f"bits8/{seed}"])
    assert_bits_equal(xr.bits(k, (), np.uint32), REF[f"bits32_scalar/{seed}"][()])
    assert_bits_equal(xr.bits(k, (9,), np.uint64), REF[f"x64/bits64/{seed}"])


@pytest.mark.parametrize("seed", [2 ** 40 + 5, -1, 2 ** 63 - 1])
def test_64_bit_seeds_match_jax_x64(seed):
    assert_bits_equal(xr.PRNGKey(seed), REF[f"x64/key/{seed}"])
    # numpy int32 seeds give JAX's default-config keys: the high word is 0
    assert xr.PRNGKey(np.int32(-1)).tolist() == [0, 2 ** 32 - 1]


def _samplers_f32(k):
    """The float32 samplers of the reference file (one key): name -> value."""
    x = np.arange(24, dtype=F32).reshape(4, 6)
    p = np.array([0.1, 0.2, 0.3, 0.4], F32)
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], F32))
    return {
        "uniform_f32": xr.uniform(k, (64,), F32),
        "uniform_f32_bounds": xr.uniform(k, (64,), F32, 0.1, 0.7),
        "uniform_f16": xr.uniform(k, (64,), F16),
        "normal_f32": xr.normal(k, (8, 8), F32),
        "normal_f16": xr.normal(k, (64,), F16),
        "truncated_normal_f32": xr.truncated_normal(k, -2.0, 2.0, (64,), F32),
        "truncated_normal_f32_asym": xr.truncated_normal(k, 0.5, 3.0, (64,), F32),
        "truncated_normal_f32_odd": xr.truncated_normal(k, -1.5, 0.5, (64,), F32),
        "exponential_f32": xr.exponential(k, (64,), F32),
        "laplace_f32": xr.laplace(k, (64,), F32),
        "gumbel_f32": xr.gumbel(k, (64,), F32),
        "gumbel_f32_high": xr.gumbel(k, (64,), F32, mode="high"),
        "bernoulli_f32": xr.bernoulli(k, F32(0.3), (64,)),
        "randint_i32": xr.randint(k, (64,), -5, 100, np.int32),
        "randint_i8": xr.randint(k, (64,), 0, 256, np.uint8),
        "permutation_rows": xr.permutation(k, x),
        "permutation_indep": xr.permutation(k, x, 1, True),
        "choice_noreplace": xr.choice(k, x, (3,), replace=False),
        "choice_p": xr.choice(k, 4, (20,), p=p),
        "categorical": xr.categorical(k, logits, shape=(5, 2)),
    }


_INT_AS_JAX_X32 = {"permutation_10", "choice_p", "categorical"}  # JAX x32 returns int32


@pytest.mark.parametrize("seed", SEEDS)
def test_float32_samplers_match_jax(seed):
    got = _samplers_f32(xr.PRNGKey(seed))
    got["permutation_10"] = xr.permutation(xr.PRNGKey(seed), 10)
    for name, value in got.items():
        ref = REF[f"{name}/{seed}"]
        if name in _INT_AS_JAX_X32:
            value = np.asarray(value).astype(ref.dtype)  # int64 by default here
        assert_bits_equal(value, ref)


@pytest.mark.parametrize("seed", SEEDS)
def test_float64_samplers_match_jax_x64(seed):
    k = xr.PRNGKey(seed)
    assert_bits_equal(xr.uniform(k, (64,)), REF[f"x64/uniform_f64/{seed}"])
    assert_bits_equal(xr.uniform(k, (64,), F64, -3, 5), REF[f"x64/uniform_f64_bounds/{seed}"])
    assert_bits_equal(xr.randint(k, (64,), -5, 100), REF[f"x64/randint_i64/{seed}"])
    assert_bits_equal(xr.choice(k, 10, (20,)), REF[f"x64/choice/{seed}"])
    assert_bits_equal(xr.permutation(k, 1000), REF[f"x64/permutation_1000/{seed}"])
    assert_bits_equal(xr.bernoulli(k, 0.3, (64,)), REF[f"x64/bernoulli_f64/{seed}"])


@pytest.mark.parametrize("seed", SEEDS)
def test_gamma_matches_jax_to_rounding(seed):
    # JAX's float32 gamma uses the CPU's reciprocal-square-root estimate: equal values
    # here (alpha = 10), but only to rounding in general
    got = xr.gamma(xr.PRNGKey(seed), np.full(16, 10.0, F32), dtype=F32)
    np.testing.assert_allclose(got, REF[f"gamma_f32_a10/{seed}"], rtol=4 * 2.0 ** -23)


@pytest.mark.parametrize("name", ["log", "log1p", "erf", "erf_inv"])
def test_xla_float32_math_matches_jax(name):
    x, y = REF[f"xla_f32/{name}/x"], REF[f"xla_f32/{name}/y"]
    fn = getattr(rm, f"{name}_f32_xla")
    assert_bits_equal(fn(x), y)


_jit_xla_math = xform.jit(lambda x: (rm.log_f32_xla(x), rm.log1p_f32_xla(x), rm.erf_f32_xla(x),
                                     rm.erf_inv_f32_xla(x)))


def test_fused_multiply_add_is_correctly_rounded():
    # a * b + c = 1 + 2**-24 + 2**-70: the float64 sum rounds to the float32 midpoint
    # 1 + 2**-24, which rounds (to even) to 1; the correctly rounded result is 1 + 2**-23
    a, b = F32(2 ** -12 * (1 + 2 ** -23)), F32(-(2 ** -12) * (1 - 2 ** -23))
    c = F32(1 + 2 ** -23)
    assert F32(np.float64(a) * np.float64(b) + np.float64(c)) == 1.0
    jit_fma = xform.jit(rm.fma_f32_xla)
    for fn in (rm.fma_f32_xla, jit_fma):
        assert fn(a, b, c) == F32(1 + 2 ** -23)
    # random operands (broadcasting), jit == eager == an exact rational reference
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((2, 300)).astype(F32)
    z = rng.standard_normal(1).astype(F32)
    got = rm.fma_f32_xla(x, y, z)
    assert_bits_equal(jit_fma(x, y, z), got)
    from fractions import Fraction
    for i in range(0, 300, 7):
        exact = Fraction(float(x[i])) * Fraction(float(y[i])) + Fraction(float(z[0]))
        r = got[i]
        neighbours = [np.nextafter(r, F32(-np.inf)), r, np.nextafter(r, F32(np.inf))]
        errs = [abs(Fraction(float(v)) - exact) for v in neighbours]
        assert errs[1] == min(errs)
    # derivatives and batching
    g = xform.grad(lambda p, q, s: rm.fma_f32_xla(p, q, s), argnums=(0, 1, 2))(a, b, c)
    assert [float(v) for v in g] == [float(b), float(a), 1.0]
    v = xform.vmap(rm.fma_f32_xla, in_axes=(0, None, 0))(x, y[0], y)
    assert_bits_equal(v, rm.fma_f32_xla(x, y[0], y))


def test_xla_float32_math_jit_and_accuracy():
    for name, idx in [("log", 0), ("log1p", 1), ("erf", 2), ("erf_inv", 3)]:
        x = REF[f"xla_f32/{name}/x"]
        assert_bits_equal(_jit_xla_math(x)[idx], REF[f"xla_f32/{name}/y"])
    # against float64 references: within a few float32 ulps where the value is normal
    x = REF["xla_f32/erf_inv/x"]
    x = x[np.isfinite(x) & (np.abs(x) < 1) & (np.abs(x) > 1e-30)]
    ref = sps.erfinv(x.astype(F64))
    ulp = np.spacing(np.abs(ref).astype(F32)).astype(F64)
    assert np.max(np.abs(rm.erf_inv_f32_xla(x) - ref) / ulp) < 8
    x = np.exp(np.linspace(-80, 80, 1001)).astype(F32)
    ref = np.log(x.astype(F64))
    assert np.max(np.abs(rm.log_f32_xla(x) - ref) / np.spacing(np.abs(ref).astype(F32))) <= 2


def test_xla_float32_math_derivatives():
    x = np.array([0.3, 0.7, 2.5], F32)
    for fn, deriv in [(rm.log_f32_xla, lambda v: 1 / v),
                      (rm.log1p_f32_xla, lambda v: 1 / (1 + v)),
                      (rm.erf_inv_f32_xla, lambda v: math.sqrt(math.pi) / 2
                       * np.exp(sps.erfinv(np.minimum(v, 0.99)) ** 2))]:
        v = x if fn is not rm.erf_inv_f32_xla else np.array([0.1, -0.5, 0.9], F32)
        g = xform.vmap(xform.grad(fn))(v)
        np.testing.assert_allclose(g, deriv(v.astype(F64)), rtol=2e-6)
    with pytest.raises(TypeError, match="float32"):
        rm.log_f32_xla(np.array([1.0]))


# -- live comparison with JAX (skipped without it) --------------------------------------------

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="JAX is not installed (the stored values are compared)")
# (inside, importorskip also skips when the installed JAX cannot be imported)


@needs_jax

@pytest.mark.parametrize("n", [0, 1, 17])
@settings(max_examples=8, deadline=None)
@given(seed=hst.integers(0, 2 ** 31 - 1))
def test_live_jax_bits_and_samplers(n, seed):
    jax = pytest.importorskip("jax")
    jr = jax.random
    kj, kx = jr.PRNGKey(seed), xr.PRNGKey(seed)
    assert_bits_equal(xr.split(kx, n), np.asarray(jr.split(kj, n)))
    assert_bits_equal(xr.fold_in(kx, n), np.asarray(jr.fold_in(kj, n)))
    assert_bits_equal(xr.bits(kx, (n, 3), np.uint32), np.asarray(jr.bits(kj, (n, 3), np.uint32)))
    assert_bits_equal(xr.uniform(kx, (n,), F32, -2.5, 0.25),
                      np.asarray(jr.uniform(kj, (n,), F32, -2.5, 0.25)))
    assert_bits_equal(xr.normal(kx, (n,), F32), np.asarray(jr.normal(kj, (n,), F32)))
    assert_bits_equal(xr.randint(kx, (n,), -3, 1000, np.int32),
                      np.asarray(jr.randint(kj, (n,), -3, 1000, np.int32)))
    assert_bits_equal(xr.truncated_normal(kx, -1.5, 0.5, (n,), F32),
                      np.asarray(jr.truncated_normal(kj, -1.5, 0.5, (n,), F32)))


@needs_jax
def test_live_jax_permutation_and_categorical():
    jax = pytest.importorskip("jax")
    jr = jax.random
    for seed in (3, 11):
        kj, kx = jr.PRNGKey(seed), xr.PRNGKey(seed)
        x = np.arange(60, dtype=F32).reshape(5, 12)
        assert_bits_equal(xr.permutation(kx, x, 1), np.asarray(jr.permutation(kj, x, 1)))
        lg = np.log(np.array([0.2, 0.3, 0.5], F32))
        assert_bits_equal(xr.categorical(kx, lg, shape=(7,)).astype(np.int32),
                          np.asarray(jr.categorical(kj, lg, shape=(7,))))
        assert_bits_equal(xr.exponential(kx, (9,), F32), np.asarray(jr.exponential(kj, (9,), F32)))
        assert_bits_equal(xr.laplace(kx, (9,), F32), np.asarray(jr.laplace(kj, (9,), F32)))
        assert_bits_equal(xr.gumbel(kx, (9,), F32), np.asarray(jr.gumbel(kj, (9,), F32)))
        assert_bits_equal(xr.bernoulli(kx, F32(0.7), (9,)),
                          np.asarray(jr.bernoulli(kj, F32(0.7), (9,))))
        np.testing.assert_allclose(xr.beta(kx, F32(2), F32(3), (9,), F32),
                                   np.asarray(jr.beta(kj, F32(2), F32(3), (9,), F32)),
                                   rtol=1e-5)


# -- keys --------------------------------------------------------------------------------------


def test_typed_and_raw_keys():
    k = xr.key(3)
    assert isinstance(k, xr.PRNGKeyArray) and k.shape == () and k.dtype == "key<fry>"
    assert_bits_equal(xr.key_data(k), xr.PRNGKey(3))
    ks = xr.split(k, 4)
    assert isinstance(ks, xr.PRNGKeyArray) and ks.shape == (4,) and len(ks) == 4
    assert_bits_equal(xr.key_data(ks), xr.split(xr.PRNGKey(3), 4))
    assert bool(xr.wrap_key_data(xr.key_data(ks))[2] == ks[2])
    assert (ks == ks).tolist() == [True] * 4 and not bool(ks[0] != ks[0])
    assert [bool(v) for v in ks[1] == ks] == [False, True, False, False]
    assert xr.key_impl(k) == "threefry2x32" and xr.key_impl(xr.PRNGKey(0)) == "threefry2x32"
    assert_bits_equal(xr.normal(k, (3,)), xr.normal(xr.PRNGKey(3), (3,)))
    assert ks.reshape(2, 2).shape == (2, 2) and [kk.shape for kk in ks][0] == ()
    with pytest.raises(TypeError, match="key_data"):
        np.asarray(k)
    # traced seeds (a batch of keys from a batch of seeds)
    seeds = np.array([0, 7, 2 ** 40 + 5], np.int64)
    batch = xform.vmap(lambda s: xr.key_data(xr.key(s)))(seeds)
    assert_bits_equal(batch, np.stack([xr.PRNGKey(int(s)) for s in seeds]))


def test_fold_in_is_a_split_index():
    k = xr.PRNGKey(5)
    ks = xr.split(k, 6)
    for i in range(6):
        assert_bits_equal(xr.fold_in(k, i), ks[i])
    assert_bits_equal(xr.fold_in(k, np.int64(2 ** 32 + 3)), ks[3])  # 32 bits of data


def test_key_errors():
    with pytest.raises(TypeError, match="PRNGKey"):
        xr.normal(0, (3,))
    with pytest.raises(TypeError, match="uint32 array of shape"):
        xr.normal(np.zeros(2, np.int32), (3,))
    with pytest.raises(TypeError, match="uint32 array of shape"):
        xr.uniform(np.zeros(3, np.uint32))
    with pytest.raises(ValueError, match="vmap"):
        xr.normal(xr.split(xr.PRNGKey(0), 2))
    with pytest.raises(ValueError, match="vmap"):
        xr.normal(xr.split(xr.key(0), 2))
    with pytest.raises(TypeError, match="integer"):
        xr.PRNGKey(1.5)
    with pytest.raises(TypeError, match="scalar seed"):
        xr.key(np.arange(2))
    with pytest.raises(OverflowError, match="int64"):
        xr.PRNGKey(2 ** 64)
    with pytest.raises(ValueError, match="unknown PRNG implementation"):
        xr.key(0, impl="rbg")
    with pytest.raises(ValueError, match="float"):
        xr.uniform(xr.PRNGKey(0), (2,), np.int32)
    with pytest.raises(ValueError, match="broadcast to the shape argument"):
        xr.uniform(xr.PRNGKey(0), (3,), F64, np.zeros(4))
    with pytest.raises(TypeError, match="float dtype"):
        xr.bernoulli(xr.PRNGKey(0), 1)


# -- distributions ----------------------------------------------------------------------------

N = 20000
K = xr.PRNGKey(2024)


def _ks(sample, cdf):
    return st.kstest(np.asarray(sample, F64).ravel(), cdf).pvalue


@pytest.mark.parametrize("dtype", [F32, F64])
def test_uniform_normal_distributions(dtype):
    u = xr.uniform(K, (N,), dtype, -1.0, 3.0)
    assert u.dtype == dtype and u.min() >= -1 and u.max() < 3
    assert _ks(u, st.uniform(-1, 4).cdf) > 1e-3
    z = xr.normal(K, (N,), dtype)
    assert z.dtype == dtype and _ks(z, st.norm.cdf) > 1e-3
    assert abs(z.mean()) < 4 / math.sqrt(N) and abs(z.var() - 1) < 6 * math.sqrt(2 / N)
    c = xr.normal(K, (N,), np.complex64 if dtype == F32 else np.complex128)
    assert abs(np.mean(np.abs(c) ** 2) - 1) < 0.05 and abs(np.mean(c.real * c.imag)) < 0.02
    assert _ks(c.real * math.sqrt(2), st.norm.cdf) > 1e-3


@pytest.mark.parametrize("lo,hi", [(-2.0, 2.0), (0.5, 3.0), (-np.inf, -1.0)])
def test_truncated_normal_distribution(lo, hi):
    x = xr.truncated_normal(K, lo, hi, (N,))
    assert x.min() > lo and x.max() < hi
    assert _ks(x, st.truncnorm(lo, hi).cdf) > 1e-3


def test_exponential_laplace_gumbel_distributions():
    assert _ks(xr.exponential(K, (N,)), st.expon.cdf) > 1e-3
    assert _ks(xr.laplace(K, (N,)), st.laplace.cdf) > 1e-3
    assert _ks(xr.gumbel(K, (N,)), st.gumbel_r.cdf) > 1e-3
    assert _ks(xr.gumbel(K, (N,), mode="high"), st.gumbel_r.cdf) > 1e-3
    assert _ks(xr.exponential(K, (N,), F32), st.expon.cdf) > 1e-3


def _chi2_p(counts, probs):
    counts = np.asarray(counts, F64)
    return st.chisquare(counts, counts.sum() * np.asarray(probs, F64)).pvalue


def test_bernoulli_and_categorical_distributions():
    b = xr.bernoulli(K, np.array([0.1, 0.5, 0.9]), (N, 3))
    assert b.dtype == np.bool_
    for j, p in enumerate([0.1, 0.5, 0.9]):
        assert st.binomtest(int(b[:, j].sum()), N, p).pvalue > 1e-3
    tiny = xr.bernoulli(K, 1e-9, (N,), mode="high")
    assert not tiny.any()
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    s = xr.categorical(K, logits, shape=(N, 2))
    for row in range(2):
        probs = sps.softmax(logits[row])
        assert _chi2_p(np.bincount(s[:, row], minlength=3), probs) > 1e-3
    # without replacement: distinct categories per row
    s = xr.categorical(K, np.zeros((4, 6)), shape=(5, 4), replace=False)
    assert all(len(set(s[:, r].tolist())) == 5 for r in range(4))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64])
def test_randint_distribution(dtype):
    r = xr.randint(K, (N,), 3, 13, dtype)
    assert r.dtype == dtype and r.min() >= 3 and r.max() < 13
    assert _chi2_p(np.bincount(r.astype(int) - 3, minlength=10), np.full(10, 0.1)) > 1e-3
    assert (xr.randint(K, (5,), 7, 7, dtype) == 7).all()  # empty range: minval


def test_permutation_and_choice():
    x = np.arange(30).reshape(10, 3)
    p = xr.permutation(K, x)
    assert sorted(p[:, 0].tolist()) == list(range(0, 30, 3)) and (p[:, 1] == p[:, 0] + 1).all()
    q = xr.permutation(K, x, axis=1, independent=True)
    assert (np.sort(q, axis=1) == x).all()
    # position of element 0 over many permutations: uniform
    keys = xr.split(K, 2000)
    pos = [int(np.argmax(xr.permutation(k, 5) == 0)) for k in keys[:500]]
    assert _chi2_p(np.bincount(pos, minlength=5), np.full(5, 0.2)) > 1e-3
    c = xr.choice(K, 5, (N,), p=np.array([0.1, 0.2, 0.3, 0.4, 0.0]))
    assert _chi2_p(np.bincount(c, minlength=5)[:4], [0.1, 0.2, 0.3, 0.4]) > 1e-3
    assert (c != 4).all()
    c = xr.choice(K, np.arange(10.0), (6,), replace=False)
    assert len(set(c.tolist())) == 6
    c = xr.choice(K, 7, (3,), replace=False, p=np.full(7, 1 / 7))
    assert len(set(c.tolist())) == 3
    assert xr.choice(K, x, (2, 4), axis=0).shape == (2, 4, 3)
    assert xr.choice(K, x, (), axis=1).shape == (10,)
    with pytest.raises(ValueError, match="larger sample"):
        xr.choice(K, 3, (4,), replace=False)


@pytest.mark.parametrize("a", [0.05, 0.6, 1.0, 3.7, 40.0])
def test_gamma_distribution(a):
    x = xr.gamma(K, a, (4000,))
    assert (x >= 0).all() and _ks(x, st.gamma(a).cdf) > 1e-3
    lx = xr.loggamma(K, a, (4000,))
    assert _ks(np.exp(lx), st.gamma(a).cdf) > 1e-3


def test_loggamma_small_alpha_and_beta_dirichlet():
    # a = 1e-3: most samples underflow as gamma values; loggamma keeps them: log G(a) is
    # distributed as log(U)/a + log G(a + 1), so a * log G(a) is close to log(U)
    lx = xr.loggamma(K, 1e-3, (4000,))
    assert np.isfinite(lx).all() and _ks(np.exp(1e-3 * lx), st.uniform.cdf) > 1e-3
    b = xr.beta(K, 2.0, 5.0, (N,))
    assert _ks(b, st.beta(2, 5).cdf) > 1e-3
    b = xr.beta(K, 0.01, 0.02, (2000,))
    assert np.isfinite(b).all() and ((b >= 0) & (b <= 1)).all()
    alpha = np.array([0.5, 2.0, 3.5])
    d = xr.dirichlet(K, alpha, (N,))
    np.testing.assert_allclose(d.sum(-1), 1, rtol=1e-12)
    np.testing.assert_allclose(d.mean(0), alpha / alpha.sum(), atol=0.01)
    assert _ks(d[:, 1], st.beta(2.0, 4.0).cdf) > 1e-3  # a marginal


def test_multivariate_normal_and_orthogonal():
    cov = np.array([[2.0, 0.6, 0.1], [0.6, 1.0, 0.2], [0.1, 0.2, 0.5]])
    mean = np.array([1.0, -2.0, 0.5])
    for method in ("cholesky", "eigh", "svd"):
        x = xr.multivariate_normal(K, mean, cov, (N,), method=method)
        assert x.shape == (N, 3)
        np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
        np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)
        white = np.linalg.solve(np.linalg.cholesky(cov), (x - mean).T)
        assert _ks(white[0], st.norm.cdf) > 1e-3
    assert xr.multivariate_normal(K, np.zeros((4, 2)), np.eye(2)).shape == (4, 2)
    with pytest.raises(ValueError, match="cov must have shape"):
        xr.multivariate_normal(K, np.zeros(2), np.eye(3))
    q = xr.orthogonal(K, 4, (500,))
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(4), q.shape),
                               atol=1e-12)
    # Haar measure: each entry has mean 0 and variance 1/n, the determinant is +-1 evenly
    assert abs(q[:, 0, 0].mean()) < 0.1 and abs(q[:, 0, 0].var() - 0.25) < 0.05
    dets = np.linalg.det(q)
    assert 0.4 < np.mean(dets > 0) < 0.6
    wide = xr.orthogonal(K, 2, (), m=5)
    np.testing.assert_allclose(wide @ wide.T, np.eye(2), atol=1e-12)


# -- transformations ---------------------------------------------------------------------------

# A representative subset (one compilation): the others are compositions of the same
# primitives, whose lowerings are tested above.
_JITTED = ("uniform_f32_bounds", "normal_f32", "truncated_normal_f32_odd", "bernoulli_f32",
           "randint_i32", "permutation_rows")
_jit_samplers = xform.jit(lambda k: {n: v for n, v in _samplers_f32(k).items() if n in _JITTED})


def test_jit_with_traced_keys_matches_eager_and_jax():
    for seed in (0, 42):
        k = xr.PRNGKey(seed)
        got = _jit_samplers(k)
        eager = _samplers_f32(k)
        assert sorted(got) == sorted(_JITTED)
        for name, value in got.items():
            assert_bits_equal(value, eager[name])
            assert_bits_equal(value, REF[f"{name}/{seed}"])


_jit_vmap_normal = xform.jit(xform.vmap(lambda k: xr.normal(k, (3, 2), F32)))


def test_vmap_over_keys_matches_a_loop():
    keys = xr.split(xr.PRNGKey(9), 5)
    loop = np.stack([xr.normal(k, (3, 2), F32) for k in keys])
    assert_bits_equal(xform.vmap(lambda k: xr.normal(k, (3, 2), F32))(keys), loop)
    assert_bits_equal(_jit_vmap_normal(keys), loop)
    typed = xr.split(xr.key(9), 5)
    assert_bits_equal(xform.vmap(lambda k: xr.normal(k, (3, 2), F32))(typed), loop)
    out = xform.vmap(lambda k: xr.split(k))(typed)  # typed keys out of vmap
    assert isinstance(out, xr.PRNGKeyArray) and out.shape == (5, 2)
    assert_bits_equal(xr.key_data(out)[3], xr.split(keys[3]))
    # vmap over distribution parameters too
    lo = np.array([-1.0, 0.0, 1.0])
    tn = xform.vmap(lambda k, a: xr.truncated_normal(k, a, a + 1, (4,)))(keys[:3], lo)
    for i in range(3):
        assert_bits_equal(tn[i], xr.truncated_normal(keys[i], lo[i], lo[i] + 1, (4,)))


def _loop_body(i, carry):
    key, total = carry
    key, sub = xr.split(key)
    return key, total + xnp.sum(xr.uniform(sub, (4,)))


_jit_loop = xform.jit(lambda k: lax.fori_loop(0, 6, _loop_body, (k, 0.0)))


def test_keys_in_loops():
    key, total = xr.PRNGKey(4), 0.0
    for i in range(6):
        key, total = _loop_body(i, (key, total))
    jk, jt = _jit_loop(xr.PRNGKey(4))
    assert_bits_equal(jk, key)
    np.testing.assert_allclose(jt, total, rtol=1e-15)
    ek, et = lax.fori_loop(0, 6, _loop_body, (xr.PRNGKey(4), 0.0))
    assert_bits_equal(ek, key)
    sk, xs = lax.scan(lambda k, _: (xr.split(k)[0], xr.normal(xr.split(k)[1], (2,))),
                      xr.key(1), None, length=3)
    assert isinstance(sk, xr.PRNGKeyArray) and xs.shape == (3, 2)


_jit_typed = xform.jit(lambda k, a: (xr.split(k), xr.gamma(k, a)))


def test_jit_typed_keys_and_gamma():
    k, a = xr.key(2), np.array([0.3, 1.0, 4.0])
    keys, g = _jit_typed(k, a)
    assert isinstance(keys, xr.PRNGKeyArray)
    assert_bits_equal(xr.key_data(keys), xr.key_data(xr.split(k)))
    np.testing.assert_allclose(g, xr.gamma(k, a), rtol=1e-13)


def test_uniform_and_truncated_normal_gradients():
    k = xr.PRNGKey(1)
    floats = xr.uniform(k, (5,))
    g_lo, g_hi = xform.grad(lambda lo, hi: xnp.sum(xr.uniform(k, (5,), F64, lo, hi)),
                            argnums=(0, 1))(-1.0, 2.0)
    np.testing.assert_allclose([g_lo, g_hi], [np.sum(1 - floats), np.sum(floats)], rtol=1e-14)
    f = lambda lo, hi: xr.truncated_normal(k, lo, hi, (5,))  # noqa: E731
    xform.check_grads(f, (-0.5, 1.5), order=2, modes=("fwd", "rev"))
    # the inverse-CDF map: d x / d lo = (1 - F(x)) / ... in closed form
    x = f(-0.5, 1.5)
    lo_, hi_ = -0.5, 1.5
    cdf = (st.norm.cdf(x) - st.norm.cdf(lo_)) / (st.norm.cdf(hi_) - st.norm.cdf(lo_))
    dlo = (1 - cdf) * st.norm.pdf(lo_) / st.norm.pdf(x)
    np.testing.assert_allclose(xform.jacfwd(f)(lo_, hi_), dlo, rtol=1e-9)


def test_gamma_implicit_gradient():
    a = np.array([0.2, 0.9, 2.5, 7.0, 60.0])
    k = xr.PRNGKey(8)
    x = xr.gamma(k, a)
    g = xform.jacfwd(lambda a: xr.gamma(k, a))(a)
    g_rev = xform.jacrev(lambda a: xr.gamma(k, a))(a)
    # reference: the derivative of the quantile at the sample's CDF value (scipy)
    q = sps.gammainc(a, x)
    h = 1e-6 * a
    ref = (sps.gammaincinv(a + h, q) - sps.gammaincinv(a - h, q)) / (2 * h)
    np.testing.assert_allclose(np.diag(g), ref, rtol=1e-6)
    np.testing.assert_allclose(g_rev, g, rtol=1e-12, atol=1e-300)
    # pathwise gradients are unbiased: E[dx/da] = dE[x]/da = 1
    many = xform.grad(lambda a: xnp.mean(xr.gamma(k, a, (4000,))))(1.7)
    assert abs(many - 1.0) < 0.06
    lg = xform.grad(lambda a: xnp.mean(xr.loggamma(k, a, (4000,))))(1.7)
    assert abs(lg - sps.polygamma(1, 1.7)) < 0.04  # d E[log x] / da = trigamma(a)


def test_beta_dirichlet_multivariate_gradients():
    k = xr.PRNGKey(3)
    ga, gb = xform.grad(lambda a, b: xnp.mean(xr.beta(k, a, b, (4000,))), argnums=(0, 1))(2.0, 3.0)
    assert abs(ga - 3 / 25) < 0.015 and abs(gb + 2 / 25) < 0.015  # d/da a/(a+b), d/db
    alpha = np.array([1.0, 2.0, 3.0])
    g = xform.jacfwd(lambda al: xnp.mean(xr.dirichlet(k, al, (4000,)), axis=0))(alpha)
    exact = (np.eye(3) * alpha.sum() - alpha[:, None]) / alpha.sum() ** 2
    np.testing.assert_allclose(g, exact, atol=0.02)
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    f = lambda m, c: xr.multivariate_normal(k, m, c, (3,))  # noqa: E731
    xform.check_grads(f, (np.array([0.5, -1.0]), cov), order=1, modes=("fwd", "rev"))


# -- numpy's global random functions on traced values -------------------------------------------


def test_numpy_random_on_a_tracer_is_a_clear_error():
    with pytest.raises(TypeError, match=r"numpy\.random\.normal was called with a traced.*"
                                        r"xform\.random"):
        xform.grad(lambda x: np.random.normal(loc=x))(1.0)
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator\.normal.*xform\.random"):
        xform.vmap(lambda x: rng.normal(x, 1.0))(np.ones(3))
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator\.uniform.*xform\.random"):
        xform.vmap(lambda x: np.random.default_rng(0).uniform(x))(np.ones(3))
    with pytest.raises(TypeError, match="cannot be converted to a concrete numpy array"):
        xform.grad(lambda x: np.asarray(x).sum())(1.0)  # other conversions: the usual error
