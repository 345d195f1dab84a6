"""Pytree utilities (JAX's ``jax.tree_util`` names): flattening, mapping, key paths,
registration of containers (classes, dataclasses, ``Partial``)."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Iterable

from .core.pytree import (  # noqa: F401
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
    flatten_up_to,
    keystr,
    register_pytree_node,
    register_pytree_with_keys,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_leaves_with_path,
    tree_map,
    tree_map_with_path,
    tree_structure,
    tree_unflatten,
    treedef_children,
    treedef_is_leaf,
)

_NO_INITIALIZER = object()


def tree_reduce(function: Callable, tree, initializer: Any = _NO_INITIALIZER,
                is_leaf: Callable | None = None) -> Any:
    """``functools.reduce`` over the leaves of ``tree``.

    >>> import xform
    >>> xform.tree_util.tree_reduce(lambda a, b: a + b, {'x': 1, 'y': (2, 3)})
    6
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree, *, is_leaf: Callable | None = None) -> bool:
    """Whether every leaf of ``tree`` is truthy.

    >>> import xform
    >>> xform.tree_util.tree_all([True, {'a': 1}]), xform.tree_util.tree_all([True, 0])
    (True, False)
    """
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None,
                   pytree_to_transpose) -> Any:
    """Turn a tree of structure ``outer(inner)`` into one of structure ``inner(outer)``;
    ``inner_treedef=None`` takes the structure of the first outer leaf.

    >>> import xform
    >>> tu = xform.tree_util
    >>> tu.tree_transpose(tu.tree_structure([0, 0]), tu.tree_structure((0, 0)),
    ...                   [(1, 2), (3, 4)])
    ([1, 3], [2, 4])
    """
    subtrees = flatten_up_to(outer_treedef, pytree_to_transpose)
    if inner_treedef is None:
        inner_treedef = tree_structure(subtrees[0]) if subtrees else tree_structure(None)
    inner_leaves = []
    for i, sub in enumerate(subtrees):
        try:
            inner_leaves.append(flatten_up_to(inner_treedef, sub))
        except ValueError as e:
            raise TypeError(f"tree_transpose: outer leaf {i} does not have the inner "
                            f"structure {inner_treedef}: {e}") from None
    n_inner = inner_treedef.num_leaves
    columns = [[leaves[j] for leaves in inner_leaves] for j in range(n_inner)]
    return tree_unflatten(inner_treedef, [tree_unflatten(outer_treedef, c) for c in columns])


def register_pytree_node_class(cls: type) -> type:
    """Class decorator: register ``cls`` using its ``tree_flatten()`` method and
    ``tree_unflatten(aux, children)`` classmethod.

    >>> import xform
    >>> @xform.tree_util.register_pytree_node_class
    ... class Box:
    ...     def __init__(self, v): self.v = v
    ...     def tree_flatten(self): return (self.v,), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children): return cls(*children)
    >>> xform.tree_util.tree_leaves([Box(1), Box(2)])
    [1, 2]
    """
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def register_dataclass(nodetype: type | None = None, data_fields: Iterable[str] | None = None,
                       meta_fields: Iterable[str] | None = None,
                       drop_fields: Iterable[str] = ()) -> Any:
    """Register a dataclass as a pytree: ``data_fields`` are children (arrays),
    ``meta_fields`` static data kept in the tree structure. Without field lists they are
    inferred: fields with ``metadata={'static': True}`` are meta, the others data. Usable
    as a decorator; returns the class.

    >>> import dataclasses, numpy as np, xform, xform.numpy as xnp
    >>> @xform.tree_util.register_dataclass
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: np.ndarray
    ...     name: str = dataclasses.field(default="p", metadata={"static": True})
    >>> xform.grad(lambda p: xnp.sum(p.w ** 2))(Params(np.array([1.0, 2.0]))).w
    array([2., 4.])
    """
    if nodetype is None:  # register_dataclass(data_fields=..., meta_fields=...) as a decorator
        return functools.partial(register_dataclass, data_fields=data_fields,
                                 meta_fields=meta_fields, drop_fields=drop_fields)
    drop = set(drop_fields)
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(f"register_dataclass: {nodetype.__name__} is not a dataclass; pass "
                            f"data_fields and meta_fields explicitly.")
        data, meta = [], []
        for f in dataclasses.fields(nodetype):
            if f.name in drop or not f.init:
                continue
            (meta if f.metadata.get("static", False) else data).append(f.name)
    elif data_fields is None or meta_fields is None:
        raise TypeError("register_dataclass: pass both data_fields and meta_fields, or neither "
                        "(then they are inferred from the dataclass fields).")
    else:
        data, meta = list(data_fields), list(meta_fields)
        if dataclasses.is_dataclass(nodetype):
            init = {f.name for f in dataclasses.fields(nodetype) if f.init} - drop
            listed = set(data) | set(meta)
            if init != listed:
                raise ValueError(
                    f"register_dataclass: the init fields of {nodetype.__name__} "
                    f"{sorted(init)} must each be listed once in data_fields or meta_fields "
                    f"(or drop_fields); got {sorted(listed)}.")
    data, meta = tuple(data), tuple(meta)

    def flatten_with_keys(x):
        return (tuple((GetAttrKey(n), getattr(x, n)) for n in data),
                tuple(getattr(x, n) for n in meta))

    def flatten(x):
        return tuple(getattr(x, n) for n in data), tuple(getattr(x, n) for n in meta)

    def unflatten(aux, children):
        return nodetype(**dict(zip(data, children)), **dict(zip(meta, aux)))

    register_pytree_with_keys(nodetype, flatten_with_keys, unflatten, flatten)
    return nodetype


class _CallableShim:
    """Holds a ``functools.partial`` as ``Partial``'s function, so that
    ``functools.partial`` does not merge its arguments into the new pytree's children."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __eq__(self, other):
        return isinstance(other, _CallableShim) and self.fn == other.fn

    def __hash__(self):
        return hash(self.fn)


class Partial(functools.partial):
    """A ``functools.partial`` that is a pytree: its bound arguments are children (so it
    can be passed through ``jit``, ``vmap``, ``grad``), its function is static.

    >>> import numpy as np, xform, xform.numpy as xnp
    >>> scale = xform.tree_util.Partial(xnp.multiply, np.array([1.0, 2.0]))
    >>> xform.jit(lambda f, x: f(x))(scale, 3.0)
    array([3., 6.])
    """

    def __new__(cls, func, *args, **kw):
        if isinstance(func, functools.partial):
            func = _CallableShim(func)
        return super().__new__(cls, func, *args, **kw)


register_pytree_node(Partial, lambda p: ((p.args, p.keywords), p.func),
                     lambda func, c: Partial(func, *c[0], **c[1]))


def all_leaves(iterable: Iterable, is_leaf: Callable | None = None) -> bool:
    """Whether every element of ``iterable`` is a leaf.

    >>> import xform
    >>> xform.tree_util.all_leaves([1, 2.0]), xform.tree_util.all_leaves([(1,)])
    (True, False)
    """
    return all(treedef_is_leaf(tree_structure(x, is_leaf)) for x in iterable)


__all__ = [
    "DictKey", "FlattenedIndexKey", "GetAttrKey", "Partial", "PyTreeDef", "SequenceKey",
    "all_leaves", "flatten_up_to", "keystr", "register_dataclass", "register_pytree_node",
    "register_pytree_node_class", "register_pytree_with_keys", "tree_all", "tree_flatten",
    "tree_flatten_with_path", "tree_leaves", "tree_leaves_with_path", "tree_map",
    "tree_map_with_path", "tree_reduce", "tree_structure", "tree_transpose", "tree_unflatten",
    "treedef_children", "treedef_is_leaf",
]
