"""Regenerate ``jax_random_reference.npz``: values of ``jax.random`` / ``jax.nn`` for the
bit-compatibility tests of ``tests/test_random.py`` and ``tests/test_nn.py`` (which then
run without JAX).

    python tests/data/make_jax_random_reference.py

Generated with jax/jaxlib 0.10.2 on x86-64 CPU (the version is stored in the file as
``jax_version``), JAX's default configuration (``jax_threefry_partitionable=True``); the
``x64/`` entries with ``jax_enable_x64`` switched on afterwards. Entries are named
``<what>/<case>``; every array is small.
"""
from __future__ import annotations

import os

import numpy as np

import jax
import jax.numpy as jnp

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jax_random_reference.npz")
SEEDS = (0, 1, 42, 2 ** 31 - 1)


def x32_entries(out: dict) -> None:
    assert not jax.config.jax_enable_x64 and jax.config.jax_threefry_partitionable
    f32, f16 = np.float32, np.float16
    for s in SEEDS:
        k = jax.random.PRNGKey(s)
        out[f"key/{s}"] = np.asarray(k)
        out[f"typed_key/{s}"] = np.asarray(jax.random.key_data(jax.random.key(s)))
        out[f"split/{s}"] = np.asarray(jax.random.split(k, 3))
        out[f"split2d/{s}"] = np.asarray(jax.random.split(k, (2, 3)))
        out[f"fold_in/{s}"] = np.asarray(jax.random.fold_in(k, 7))
        out[f"bits32/{s}"] = np.asarray(jax.random.bits(k, (4, 5), np.uint32))
        out[f"bits16/{s}"] = np.asarray(jax.random.bits(k, (9,), np.uint16))
        out[f"bits8/{s}"] = np.asarray(jax.random.bits(k, (9,), np.uint8))
        out[f"bits32_scalar/{s}"] = np.asarray(jax.random.bits(k, (), np.uint32))
        out[f"uniform_f32/{s}"] = np.asarray(jax.random.uniform(k, (64,), f32))
        out[f"uniform_f32_bounds/{s}"] = np.asarray(jax.random.uniform(k, (64,), f32, 0.1, 0.7))
        out[f"uniform_f16/{s}"] = np.asarray(jax.random.uniform(k, (64,), f16))
        out[f"normal_f32/{s}"] = np.asarray(jax.random.normal(k, (8, 8), f32))
        out[f"normal_f16/{s}"] = np.asarray(jax.random.normal(k, (64,), f16))
        out[f"truncated_normal_f32/{s}"] = np.asarray(
            jax.random.truncated_normal(k, -2.0, 2.0, (64,), f32))
        out[f"truncated_normal_f32_asym/{s}"] = np.asarray(
            jax.random.truncated_normal(k, 0.5, 3.0, (64,), f32))
        out[f"truncated_normal_f32_odd/{s}"] = np.asarray(
            jax.random.truncated_normal(k, -1.5, 0.5, (64,), f32))
        out[f"exponential_f32/{s}"] = np.asarray(jax.random.exponential(k, (64,), f32))
        out[f"laplace_f32/{s}"] = np.asarray(jax.random.laplace(k, (64,), f32))
        out[f"gumbel_f32/{s}"] = np.asarray(jax.random.gumbel(k, (64,), f32))
        out[f"gumbel_f32_high/{s}"] = np.asarray(jax.random.gumbel(k, (64,), f32, mode="high"))
        out[f"bernoulli_f32/{s}"] = np.asarray(jax.random.bernoulli(k, f32(0.3), (64,)))
        out[f"randint_i32/{s}"] = np.asarray(jax.random.randint(k, (64,), -5, 100, np.int32))
        out[f"randint_i8/{s}"] = np.asarray(jax.random.randint(k, (64,), 0, 256, np.uint8))
        out[f"permutation_10/{s}"] = np.asarray(jax.random.permutation(k, 10))
        x = np.arange(24, dtype=f32).reshape(4, 6)
        out[f"permutation_rows/{s}"] = np.asarray(jax.random.permutation(k, x))
        out[f"permutation_indep/{s}"] = np.asarray(jax.random.permutation(k, x, 1, True))
        out[f"choice_noreplace/{s}"] = np.asarray(jax.random.choice(k, x, (3,), replace=False))
        p = np.array([0.1, 0.2, 0.3, 0.4], f32)
        out[f"choice_p/{s}"] = np.asarray(jax.random.choice(k, 4, (20,), p=p))
        logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], f32))
        out[f"categorical/{s}"] = np.asarray(jax.random.categorical(k, logits, shape=(5, 2)))
        out[f"gamma_f32_a10/{s}"] = np.asarray(jax.random.gamma(k, np.full(16, 10.0, f32)))
        for name in ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
                     "lecun_normal"):
            init = getattr(jax.nn.initializers, name)()
            out[f"init_{name}/{s}"] = np.asarray(init(jax.random.key(s), (6, 5), f32))
        out[f"init_normal/{s}"] = np.asarray(
            jax.nn.initializers.normal(0.5)(jax.random.key(s), (6, 5), f32))
    # float32 log/log1p/erf/erf_inv as JAX's samplers compute them on CPU
    rng = np.random.default_rng(0)
    special = np.array([0, -0.0, -1, 1, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 2, -2,
                        0.41421354, -0.41421354, 0.41421357, 1e-30, 1.17549435e-38,
                        0.99999994, -0.99999994, 0.5, 1e-4, -1e-4], f32)
    xs = {"log": np.concatenate([special, rng.random(400, dtype=f32),
                                 np.exp(rng.uniform(-87, 88, 400)).astype(f32)]),
          "log1p": np.concatenate([special, -rng.random(400, dtype=f32),
                                   (rng.random(400, dtype=f32) * 3 - 1).astype(f32)]),
          "erf": np.concatenate([special, (rng.standard_normal(400) * 2).astype(f32),
                                 np.array([3.8325066, 3.8325069, -3.9], f32)]),
          "erf_inv": np.concatenate([special, (rng.random(400, dtype=f32) * 2 - 1).astype(f32),
                                     (1 - rng.random(100, dtype=f32) * 1e-5).astype(f32)])}
    fns = {"log": jnp.log, "log1p": jnp.log1p, "erf": jax.lax.erf, "erf_inv": jax.lax.erf_inv}
    for name, x in xs.items():
        out[f"xla_f32/{name}/x"] = x
        out[f"xla_f32/{name}/y"] = np.asarray(jax.jit(fns[name])(x))


def x64_entries(out: dict) -> None:
    jax.config.update("jax_enable_x64", True)
    f64 = np.float64
    for s in SEEDS:
        k = jax.random.PRNGKey(s)
        out[f"x64/bits64/{s}"] = np.asarray(jax.random.bits(k, (9,), np.uint64))
        out[f"x64/uniform_f64/{s}"] = np.asarray(jax.random.uniform(k, (64,), f64))
        out[f"x64/uniform_f64_bounds/{s}"] = np.asarray(jax.random.uniform(k, (64,), f64, -3, 5))
        out[f"x64/randint_i64/{s}"] = np.asarray(jax.random.randint(k, (64,), -5, 100))
        out[f"x64/choice/{s}"] = np.asarray(jax.random.choice(k, 10, (20,)))
        out[f"x64/permutation_1000/{s}"] = np.asarray(jax.random.permutation(k, 1000))
        out[f"x64/bernoulli_f64/{s}"] = np.asarray(jax.random.bernoulli(k, 0.3, (64,)))
    for seed in (2 ** 40 + 5, -1, 2 ** 63 - 1):
        out[f"x64/key/{seed}"] = np.asarray(jax.random.PRNGKey(seed))


def main() -> None:
    out: dict = {"jax_version": np.array(jax.__version__)}
    x32_entries(out)
    x64_entries(out)
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} entries to {OUT} (jax {jax.__version__})")


if __name__ == "__main__":
    main()
