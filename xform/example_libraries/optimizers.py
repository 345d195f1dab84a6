"""``xform.example_libraries.optimizers`` (JAX's ``jax.example_libraries.optimizers``).

An optimizer is a triple ``(init_fun, update_fun, get_params)``:

- ``opt_state = init_fun(params)`` for any pytree of parameter arrays;
- ``opt_state = update_fun(step, grads, opt_state)`` with ``grads`` of the parameters'
  structure (``step`` is the iteration index, used by step-size schedules and Adam's bias
  correction);
- ``params = get_params(opt_state)``.

The state is an ``OptimizerState`` pytree, so it passes through ``jit`` (and
``lax.fori_loop``/``scan``). Each optimizer is written for one array and lifted to
pytrees by the ``optimizer`` decorator; step sizes are numbers or schedules
(functions of the step).

>>> import numpy as np, xform
>>> from xform.example_libraries import optimizers
>>> opt_init, opt_update, get_params = optimizers.sgd(0.5)
>>> state = opt_init({"w": np.array([1.0, 2.0])})
>>> state = opt_update(0, {"w": np.array([1.0, 1.0])}, state)
>>> get_params(state)["w"]
array([0.5, 1.5])
"""
from __future__ import annotations

import functools
from collections import namedtuple
from typing import Any, Callable, NamedTuple

from .. import numpy as jnp
from .. import tree_util

__all__ = ["Optimizer", "OptimizerState", "optimizer", "sgd", "momentum", "nesterov",
           "adagrad", "rmsprop", "rmsprop_momentum", "adam", "adamax", "sm3", "constant",
           "exponential_decay", "inverse_time_decay", "polynomial_decay",
           "piecewise_constant", "make_schedule", "l2_norm", "clip_grads", "JoinPoint",
           "unpack_optimizer_state", "pack_optimizer_state"]

Params = Any
Schedule = Callable[[int], Any]

# The flattened parameter tree: one state pytree per parameter leaf, flattened
# (``packed_state``, a tuple of lists of arrays), with the parameter treedef and the tuple
# of the leaf states' treedefs as static (hashable) data: JAX's layout, which code
# serializing optimizer states relies on.
OptimizerState = namedtuple("OptimizerState", ["packed_state", "tree_def", "subtree_defs"])
tree_util.register_pytree_node(
    OptimizerState,
    lambda s: ((s.packed_state,), (s.tree_def, s.subtree_defs)),
    lambda aux, children: OptimizerState(children[0], aux[0], aux[1]))


class Optimizer(NamedTuple):
    """The ``(init_fn, update_fn, params_fn)`` triple an optimizer constructor returns."""

    init_fn: Callable
    update_fn: Callable
    params_fn: Callable


def optimizer(opt_maker: Callable) -> Callable[..., Optimizer]:
    """Decorator lifting an optimizer written for one array to pytrees of arrays.

    ``opt_maker(*args)`` returns ``(init, update, get_params)`` acting on one array (the
    state of one array may be any pytree); the decorated constructor returns the triple
    acting on pytrees, with an ``OptimizerState`` as the state.

    >>> import numpy as np
    >>> @optimizer
    ... def halve():
    ...     return (lambda x: x), (lambda i, g, x: x / 2), (lambda x: x)
    >>> init, update, get = halve()
    >>> get(update(0, [np.ones(2)], init([np.ones(2)])))[0]
    array([0.5, 0.5])
    """
    @functools.wraps(opt_maker)
    def tree_opt_maker(*args, **kwargs):
        init, update, get_params = opt_maker(*args, **kwargs)

        @functools.wraps(init)
        def tree_init(x0_tree):
            x0_flat, tree = tree_util.tree_flatten(x0_tree)
            flat = [tree_util.tree_flatten(init(x0)) for x0 in x0_flat]
            return OptimizerState(tuple(f[0] for f in flat), tree, tuple(f[1] for f in flat))

        @functools.wraps(update)
        def tree_update(i, grad_tree, opt_state):
            states_flat, tree, subtrees = opt_state
            grad_flat, tree2 = tree_util.tree_flatten(grad_tree)
            if tree2 != tree:
                raise TypeError(f"optimizer update function was passed a gradient tree that "
                                f"did not match the parameter tree structure with which it "
                                f"was initialized: parameter tree {tree} and grad tree {tree2}.")
            states = [tree_util.tree_unflatten(t, s) for t, s in zip(subtrees, states_flat)]
            new = [tree_util.tree_flatten(update(i, g, s)) for g, s in zip(grad_flat, states)]
            for (_, t2), t in zip(new, subtrees):
                if t2 != t:
                    raise TypeError(f"optimizer update function produced an output structure "
                                    f"that did not match its input structure: input {t} and "
                                    f"output {t2}.")
            return OptimizerState(tuple(n[0] for n in new), tree, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state):
            states_flat, tree, subtrees = opt_state
            states = [tree_util.tree_unflatten(t, s) for t, s in zip(subtrees, states_flat)]
            return tree_util.tree_unflatten(tree, [get_params(s) for s in states])

        return Optimizer(tree_init, tree_update, tree_get_params)

    return tree_opt_maker


def _zero_slots(n: int):
    """The ``init`` of an optimizer whose state is ``x0`` and ``n`` zero arrays like it."""
    return lambda x0: (x0,) + tuple(jnp.zeros_like(x0) for _ in range(n))


def _first(state):
    return state[0]


@optimizer
def sgd(step_size):
    """Stochastic gradient descent: ``x -= step_size(i) * g``.

    >>> import numpy as np
    >>> init, update, get = sgd(0.1)
    >>> get(update(0, np.array([1.0]), init(np.array([2.0]))))
    array([1.9])
    """
    step_size = make_schedule(step_size)
    return (lambda x0: x0), (lambda i, g, x: x - step_size(i) * g), (lambda x: x)


@optimizer
def momentum(step_size, mass: float):
    """SGD with momentum: ``v = mass * v + g; x -= step_size(i) * v``.

    >>> import numpy as np
    >>> init, update, get = momentum(0.1, 0.9)
    >>> get(update(1, np.array([1.0]), update(0, np.array([1.0]), init(np.array([0.0])))))
    array([-0.29])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = mass * velocity + g
        return x - step_size(i) * velocity, velocity

    return _zero_slots(1), update, _first


@optimizer
def nesterov(step_size, mass: float):
    """SGD with Nesterov momentum: ``v = mass * v + g; x -= step_size(i) * (mass * v + g)``.

    >>> import numpy as np
    >>> init, update, get = nesterov(0.1, 0.9)
    >>> get(update(0, np.array([1.0]), init(np.array([0.0]))))
    array([-0.19])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = mass * velocity + g
        return x - step_size(i) * (mass * velocity + g), velocity

    return _zero_slots(1), update, _first


@optimizer
def adagrad(step_size, momentum=0.9):
    """Adagrad (Duchi et al., 2011) with momentum on the scaled gradient.

    >>> import numpy as np
    >>> init, update, get = adagrad(0.1)
    >>> get(update(0, np.array([2.0]), init(np.array([0.0]))))
    array([-0.01])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, g_sq, m = state
        g_sq = g_sq + jnp.square(g)
        # the inverse root, 0 where no gradient was seen yet
        g_sq_inv_sqrt = jnp.where(g_sq > 0, 1.0 / jnp.sqrt(jnp.where(g_sq > 0, g_sq, 1.0)), 0.0)
        m = (1.0 - momentum) * (g * g_sq_inv_sqrt) + momentum * m
        return x - step_size(i) * m, g_sq, m

    return _zero_slots(2), update, _first


@optimizer
def rmsprop(step_size, gamma=0.9, eps=1e-8):
    """RMSProp: a running average of squared gradients scales the step.

    >>> import numpy as np
    >>> init, update, get = rmsprop(0.1)
    >>> get(update(0, np.array([1.0]), init(np.array([0.0])))).round(6)
    array([-0.316228])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq_grad = state
        avg_sq_grad = avg_sq_grad * gamma + jnp.square(g) * (1.0 - gamma)
        return x - step_size(i) * g / jnp.sqrt(avg_sq_grad + eps), avg_sq_grad

    return _zero_slots(1), update, _first


@optimizer
def rmsprop_momentum(step_size, gamma=0.9, eps=1e-8, momentum=0.9):
    """RMSProp with momentum on the scaled step.

    >>> import numpy as np
    >>> init, update, get = rmsprop_momentum(0.1)
    >>> get(update(0, np.array([1.0]), init(np.array([0.0])))).round(6)
    array([-0.316228])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq_grad, mom = state
        avg_sq_grad = avg_sq_grad * gamma + jnp.square(g) * (1.0 - gamma)
        mom = momentum * mom + step_size(i) * g / jnp.sqrt(avg_sq_grad + eps)
        return x - mom, avg_sq_grad, mom

    return _zero_slots(2), update, _first


@optimizer
def adam(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma and Ba, 2015) with bias-corrected moment estimates.

    >>> import numpy as np
    >>> init, update, get = adam(0.1)
    >>> get(update(0, np.array([3.0]), init(np.array([0.0])))).round(6)
    array([-0.1])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, m, v = state
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * jnp.square(g) + b2 * v
        mhat = m / (1 - jnp.asarray(b1, m.dtype) ** (i + 1))
        vhat = v / (1 - jnp.asarray(b2, m.dtype) ** (i + 1))
        return x - step_size(i) * mhat / (jnp.sqrt(vhat) + eps), m, v

    return _zero_slots(2), update, _first


@optimizer
def adamax(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax: Adam with the infinity norm of past gradients.

    >>> import numpy as np
    >>> init, update, get = adamax(0.1)
    >>> get(update(0, np.array([3.0]), init(np.array([0.0])))).round(6)
    array([-0.1])
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, m, u = state
        m = (1 - b1) * g + b1 * m
        u = jnp.maximum(b2 * u, jnp.abs(g))
        x = x - (step_size(i) / (1 - jnp.asarray(b1, m.dtype) ** (i + 1))) * m / (u + eps)
        return x, m, u

    return _zero_slots(2), update, _first


@optimizer
def sm3(step_size, momentum=0.9):
    """SM3 (Anil et al., 2019): memory-efficient Adagrad keeping one accumulator vector
    per axis of each parameter.

    >>> import numpy as np
    >>> init, update, get = sm3(0.1)
    >>> get(update(0, np.array([[2.0, 4.0]]), init(np.zeros((1, 2)))))
    array([[-0.01, -0.01]])
    """
    step_size = make_schedule(step_size)

    def along(ndim, v, axis):  # v (1-d) broadcastable against an ndim array along axis
        idx = [None] * ndim
        idx[axis] = slice(None)
        return v[tuple(idx)]

    def init(x0):
        x_shape = jnp.shape(x0)
        x0 = jnp.atleast_1d(x0)
        vs = [jnp.zeros(n, dtype=x0.dtype) for n in x0.shape]
        return x0, jnp.zeros_like(x0), vs, x_shape

    def update(i, g, state):
        x, m, vs, x_shape = state
        vs = [along(g.ndim, v, k) for k, v in enumerate(vs)]
        accum = functools.reduce(jnp.minimum, vs) + jnp.square(g)
        accum_inv_sqrt = jnp.where(accum > 0, 1.0 / jnp.sqrt(jnp.where(accum > 0, accum, 1.0)), 0)
        m = (1.0 - momentum) * (g * accum_inv_sqrt) + momentum * m
        x = x - step_size(i) * m
        vs = [accum.max(axis=tuple(a for a in range(x.ndim) if a != k)) for k in range(x.ndim)]
        return x, m, vs, x_shape

    def get_params(state):
        x, _, _, x_shape = state
        return x.reshape(x_shape)

    return init, update, get_params


# -- step-size schedules --------------------------------------------------------------


def constant(step_size) -> Schedule:
    """The schedule ``i -> step_size``.

    >>> constant(0.1)(7)
    0.1
    """
    def schedule(i):
        return step_size
    return schedule


def exponential_decay(step_size, decay_steps, decay_rate) -> Schedule:
    """``i -> step_size * decay_rate ** (i / decay_steps)``.

    >>> float(exponential_decay(1.0, 10, 0.5)(20))
    0.25
    """
    def schedule(i):
        return step_size * decay_rate ** (i / decay_steps)
    return schedule


def inverse_time_decay(step_size, decay_steps, decay_rate, staircase=False) -> Schedule:
    """``i -> step_size / (1 + decay_rate * i / decay_steps)`` (``floor(i / decay_steps)``
    with ``staircase``).

    >>> float(inverse_time_decay(1.0, 10, 1.0, staircase=True)(15))
    0.5
    """
    if staircase:
        def schedule(i):
            return step_size / (1 + decay_rate * jnp.floor(i / decay_steps))
    else:
        def schedule(i):
            return step_size / (1 + decay_rate * i / decay_steps)
    return schedule


def polynomial_decay(step_size, decay_steps, final_step_size, power=1.0) -> Schedule:
    """From ``step_size`` to ``final_step_size`` over ``decay_steps`` steps along
    ``(1 - i / decay_steps) ** power``, then constant.

    >>> float(polynomial_decay(1.0, 10, 0.0)(5)), float(polynomial_decay(1.0, 10, 0.1)(50))
    (0.5, 0.1)
    """
    def schedule(step_num):
        step_num = jnp.minimum(step_num, decay_steps)
        step_mult = (1 - step_num / decay_steps) ** power
        return step_mult * (step_size - final_step_size) + final_step_size
    return schedule


def piecewise_constant(boundaries: Any, values: Any) -> Schedule:
    """``values[k]`` for steps after ``k`` boundaries (``len(values) == len(boundaries) + 1``).

    >>> s = piecewise_constant([10, 20], [1.0, 0.5, 0.1])
    >>> float(s(5)), float(s(15)), float(s(25))
    (1.0, 0.5, 0.1)
    """
    boundaries = jnp.array(boundaries)
    values = jnp.array(values)
    if not boundaries.ndim == values.ndim == 1:
        raise ValueError("piecewise_constant: boundaries and values must be sequences")
    if not boundaries.shape[0] == values.shape[0] - 1:
        raise ValueError("piecewise_constant: boundaries length must be one shorter than "
                         "values length")

    def schedule(i):
        return values[jnp.sum(i > boundaries)]
    return schedule


def make_schedule(scalar_or_schedule) -> Schedule:
    """A schedule as is, a scalar as ``constant(scalar)``.

    >>> make_schedule(0.3)(100)
    0.3
    """
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if jnp.ndim(scalar_or_schedule) == 0:
        return constant(scalar_or_schedule)
    raise TypeError(f"make_schedule: expected a scalar step size or a schedule (a function "
                    f"of the step), got {type(scalar_or_schedule).__name__}")


# -- utilities ------------------------------------------------------------------------


def l2_norm(tree):
    """The l2 norm of all the leaves of a pytree together.

    >>> import numpy as np
    >>> float(l2_norm({"a": np.array([3.0]), "b": np.array([4.0])}))
    5.0
    """
    leaves = tree_util.tree_leaves(tree)
    return jnp.sqrt(sum(jnp.vdot(x, x) for x in leaves))


def clip_grads(grad_tree, max_norm):
    """Scale a gradient pytree down to l2 norm ``max_norm`` if its norm is larger.

    >>> import numpy as np
    >>> clip_grads([np.array([3.0, 4.0])], 1.0)[0]
    array([0.6, 0.8])
    """
    norm = l2_norm(grad_tree)
    return tree_util.tree_map(lambda g: jnp.where(norm < max_norm, g, g * (max_norm / norm)),
                              grad_tree)


class JoinPoint:
    """Marks the boundary between the parameter tree and a leaf's state tree in
    ``unpack_optimizer_state``'s result (a leaf: it is not registered as a pytree)."""

    def __init__(self, subtree):
        self.subtree = subtree

    def __iter__(self):
        yield self.subtree


def unpack_optimizer_state(opt_state: OptimizerState):
    """An ``OptimizerState`` as the parameter pytree with a ``JoinPoint`` holding each
    leaf's state (for serialization); ``pack_optimizer_state`` inverts it.

    >>> import numpy as np
    >>> init, update, get = momentum(0.1, 0.9)
    >>> marked = unpack_optimizer_state(init({"w": np.ones(2)}))
    >>> type(marked["w"]).__name__, len(marked["w"].subtree)
    ('JoinPoint', 2)
    """
    states_flat, tree_def, subtree_defs = opt_state
    subtrees = [tree_util.tree_unflatten(t, s) for t, s in zip(subtree_defs, states_flat)]
    return tree_util.tree_unflatten(tree_def, [JoinPoint(s) for s in subtrees])


def pack_optimizer_state(marked_pytree) -> OptimizerState:
    """The ``OptimizerState`` of an ``unpack_optimizer_state`` result.

    >>> import numpy as np
    >>> init, update, get = adam(0.1)
    >>> state = init([np.ones(2)])
    >>> get(pack_optimizer_state(unpack_optimizer_state(state)))[0]
    array([1., 1.])
    """
    sentinels, tree_def = tree_util.tree_flatten(marked_pytree)
    if not all(isinstance(s, JoinPoint) for s in sentinels):
        raise TypeError("pack_optimizer_state: every leaf must be a JoinPoint (the result of "
                        "unpack_optimizer_state)")
    flat = [tree_util.tree_flatten(s.subtree) for s in sentinels]
    return OptimizerState(tuple(f[0] for f in flat), tree_def, tuple(f[1] for f in flat))
