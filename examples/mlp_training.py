"""Train a small MLP classifier with jit(value_and_grad) and plain SGD with momentum,
and compute per-example gradient norms with vmap(grad).

    python examples/mlp_training.py
"""
from __future__ import annotations

import numpy as np

import xform
import xform.numpy as xnp


def init_params(rng, sizes):
    return [(rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def predict(params, x):
    for w, b in params[:-1]:
        x = xnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def loss(params, x, y):
    logits = predict(params, x)
    logits = logits - xnp.max(logits, axis=-1, keepdims=True)
    logp = logits - xnp.log(xnp.sum(xnp.exp(logits), axis=-1, keepdims=True))
    return -xnp.mean(xnp.sum(logp * y, axis=-1))


def make_data(rng, n, classes=3):
    """Points around three centers in the plane, one-hot labels."""
    centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    labels = rng.integers(0, classes, n)
    x = centers[labels] + 0.7 * rng.standard_normal((n, 2))
    return x, np.eye(classes)[labels]


def main(steps: int = 300, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    x, y = make_data(rng, 512)
    params = init_params(rng, [2, 32, 32, 3])
    step_fn = xform.jit(xform.value_and_grad(loss))
    velocity = xform.tree_util.tree_map(np.zeros_like, params)
    for i in range(steps):
        value, grads = step_fn(params, x, y)
        velocity = xform.tree_util.tree_map(lambda v, g: 0.9 * v - 0.1 * g, velocity, grads)
        params = xform.tree_util.tree_map(lambda p, v: p + v, params, velocity)
        if i % 100 == 0:
            print(f"step {i:4d}  loss {float(value):.4f}")
    accuracy = float(np.mean(np.argmax(predict(params, x), -1) == np.argmax(y, -1)))
    print(f"final loss {float(loss(params, x, y)):.4f}, training accuracy {accuracy:.3f}")

    per_example = xform.jit(xform.vmap(xform.grad(loss), in_axes=(None, 0, 0)))
    g = per_example(params, x[:8, None], y[:8, None])
    norms = np.sqrt(sum(np.sum(leaf.reshape(8, -1) ** 2, axis=1)
                        for leaf in xform.tree_util.tree_leaves(g)))
    print("per-example gradient norms:", np.round(norms, 4))
    return accuracy


if __name__ == "__main__":
    main()
