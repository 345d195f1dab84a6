"""Control-flow jit benchmarks: xform (Numba backend) vs JAX (x64, CPU, jax.jit), same run.

    python benchmarks/bench_control_flow.py            # all workloads
    python benchmarks/bench_control_flow.py --quick    # fewer repetitions

Workloads:
 1. jit(grad) of a 1,000-step scan RNN, hidden size 64, input size 64:
    h_t = tanh(W h_{t-1} + U x_t + b); loss = sum of the final h (1a) / of all hs (1b).
    Gradients with respect to (W, U, b). The forward scan stacks residuals; the
    backward pass is a reverse scan.
 2. per-example gradients jit(vmap(grad)) of an MLP 784 -> 256 -> 10 (tanh, softmax
    cross-entropy), 128 examples: outputs 128 per-example copies of every parameter.
 3. compile time (trace + codegen + numba compile, fresh function) of workload 1a for
    scan lengths 10 and 10,000: the generated source differs only in its numbers
    (loop bounds, buffer shapes).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import fmt_time, jax_t, load_jax, print_table, t  # noqa: E402

import xform  # noqa: E402
import xform.numpy as xnp  # noqa: E402
from xform import lax  # noqa: E402

jax, jnp = load_jax()


rows = []
rng = np.random.default_rng(0)

# -- 1. scan RNN -----------------------------------------------------------------------------

T, H, D = 1000, 64, 64


def make_rnn(scan, np_, all_hs):
    def loss(params, xs, h0):
        W, U, b = params

        def step(h, x):
            h = np_.tanh(W @ h + U @ x + b)
            return h, (h if all_hs else None)

        h, hs = scan(step, h0, xs)
        return np_.sum(hs) if all_hs else np_.sum(h)

    return loss


rnn_params = (rng.standard_normal((H, H)) / np.sqrt(H), rng.standard_normal((H, D)) / np.sqrt(D),
              rng.standard_normal(H) * 0.1)
rnn_xs = rng.standard_normal((T, D))
rnn_h0 = np.zeros(H)

for all_hs, label in ((False, "1a jit(grad) scan RNN T=1000 H=64, sum(h_T)"),
                      (True, "1b jit(grad) scan RNN T=1000 H=64, sum(hs)")):
    gx = xform.jit(xform.grad(make_rnn(lax.scan, xnp, all_hs)))
    res = {"xform": t(lambda: gx(rnn_params, rnn_xs, rnn_h0))}
    if jax:
        gj = jax.jit(jax.grad(make_rnn(jax.lax.scan, jnp, all_hs)))
        pj = tuple(jnp.asarray(a) for a in rnn_params)
        xj, hj = jnp.asarray(rnn_xs), jnp.asarray(rnn_h0)
        for a, b in zip(gx(rnn_params, rnn_xs, rnn_h0), gj(pj, xj, hj)):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-8, atol=1e-10)
        res["jax"] = jax_t(lambda: gj(pj, xj, hj))
    rows.append((label, res))

# -- 2. per-example gradients of an MLP --------------------------------------------------------


def mlp_loss(params, x, y, np_=xnp):
    """Softmax cross-entropy of one example x: (784,), y: one-hot (10,)."""
    w1, b1, w2, b2 = params
    h = np_.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    logits = logits - np_.max(logits)
    logp = logits - np_.log(np_.sum(np_.exp(logits)))
    return -np_.sum(logp * y)


mlp_params = (rng.standard_normal((784, 256)) * 0.05, np.zeros(256),
              rng.standard_normal((256, 10)) * 0.05, np.zeros(10))
xb = rng.standard_normal((128, 784))
yb = np.eye(10)[rng.integers(0, 10, 128)]
pe = xform.jit(xform.vmap(xform.grad(mlp_loss), in_axes=(None, 0, 0)))
res = {"xform": t(lambda: pe(mlp_params, xb, yb))}
if jax:
    pej = jax.jit(jax.vmap(jax.grad(lambda p, x, y: mlp_loss(p, x, y, jnp)), in_axes=(None, 0, 0)))
    pj = tuple(jnp.asarray(a) for a in mlp_params)
    xj, yj = jnp.asarray(xb), jnp.asarray(yb)
    for a, b in zip(pe(mlp_params, xb, yb), pej(pj, xj, yj)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-8, atol=1e-12)
    res["jax"] = jax_t(lambda: pej(pj, xj, yj))
rows.append(("2 jit(vmap(grad)) MLP 784-256-10, 128 ex.", res))

print_table("Control flow / per-example gradients (median per call)", rows)

# -- 3. compile time vs scan length --------------------------------------------------------------

print("\ncompile time of jit(grad) scan RNN (sum(h_T)), fresh function (trace+codegen+numba):")
for n in (10, 10_000):
    xs_n = rng.standard_normal((n, D))
    g = xform.jit(xform.grad(make_rnn(lax.scan, xnp, False)))
    src = g.lower(rnn_params, xs_n, rnn_h0).source
    t0 = time.perf_counter()
    g(rnn_params, xs_n, rnn_h0)
    dt = time.perf_counter() - t0
    print(f"  length {n:>6}: {fmt_time(dt):>10}  (generated source: {len(src.splitlines())} lines, "
          f"{len(src)} chars)")
