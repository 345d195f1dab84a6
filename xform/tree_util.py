"""Pytree utilities (JAX's ``tree_util`` names)."""
from .core.pytree import (  # noqa: F401
    PyTreeDef,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)
