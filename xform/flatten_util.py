"""``xform.flatten_util`` (JAX's ``jax.flatten_util``): ``ravel_pytree``, a pytree of arrays
as one flat vector and the function that rebuilds the tree from such a vector (optimizers,
``scipy.optimize`` wrappers and Hessians of tree-structured parameters use it)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import numpy as xnp
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Ravel a pytree of arrays and scalars into one 1-d array; returns ``(flat, unravel)``.

    ``flat`` concatenates the raveled leaves (in ``tree_leaves`` order) in the promoted
    dtype of all leaves; ``unravel(v)`` splits a vector of the same length back into the
    tree, each leaf with its original shape and dtype. A tree without leaves gives an
    empty float32 vector (JAX's convention). Works on traced values, so ``grad``, ``jit``
    and ``vmap`` see through both directions.

    >>> import numpy as np
    >>> from xform.flatten_util import ravel_pytree
    >>> flat, unravel = ravel_pytree({"w": np.ones((2, 2)), "b": np.array([5.0, 6.0])})
    >>> flat
    array([5., 6., 1., 1., 1., 1.])
    >>> unravel(2 * flat)["b"]
    array([10., 12.])
    """
    leaves, treedef = tree_flatten(pytree)
    if not leaves:
        return xnp.zeros(0, np.float32), _Unravel(treedef, (), (), (), None)
    from_dtypes = tuple(np.dtype(xnp.result_type(x)) for x in leaves)
    to_dtype = np.dtype(xnp.result_type(*from_dtypes))
    shapes = tuple(tuple(xnp.shape(x)) for x in leaves)
    sizes = tuple(int(np.prod(s, dtype=np.int64)) for s in shapes)
    flat = xnp.concatenate([xnp.ravel(xnp.asarray(x, dtype=to_dtype)) for x in leaves])
    # one dtype: unravel keeps the vector's dtype (JAX: a dtype-polymorphic unravel)
    single = all(d == to_dtype for d in from_dtypes)
    return flat, _Unravel(treedef, sizes, shapes, from_dtypes, None if single else to_dtype)


class _Unravel:
    """The ``unravel`` function of ``ravel_pytree`` (a class so that it prints its layout
    and compares equal for equal layouts, as JAX's ``HashablePartial``)."""

    def __init__(self, treedef, sizes, shapes, from_dtypes, to_dtype):
        self.treedef, self.sizes, self.shapes = treedef, sizes, shapes
        self.from_dtypes, self.to_dtype = from_dtypes, to_dtype

    def _key(self):
        return (self.treedef, self.sizes, self.shapes, self.from_dtypes, self.to_dtype)

    def __eq__(self, other):
        return isinstance(other, _Unravel) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"unravel_pytree({self.treedef}, sizes={self.sizes})"

    def __call__(self, flat):
        total = sum(self.sizes)
        shape = tuple(xnp.shape(flat))
        if shape != (total,):
            raise ValueError(f"unravel_pytree: expected a 1-d array of length {total} (the "
                             f"raveled tree), got shape {shape}")
        if self.to_dtype is not None:
            dt = np.dtype(xnp.result_type(flat))
            if dt != self.to_dtype:
                raise TypeError(f"unravel_pytree: given an array of dtype {dt}, but expected "
                                f"dtype {self.to_dtype} (the dtype ravel_pytree returned)")
        leaves, start = [], 0
        for i, (size, shp) in enumerate(zip(self.sizes, self.shapes)):
            leaf = xnp.reshape(flat[start:start + size], shp)
            if self.to_dtype is not None:
                leaf = leaf.astype(self.from_dtypes[i])
            leaves.append(leaf)
            start += size
        return tree_unflatten(self.treedef, leaves)
