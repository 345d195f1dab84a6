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


KeyEntry = Any  # one step of a key path (SequenceKey, DictKey, GetAttrKey, ...)
KeyPath = tuple  # a tuple of KeyEntry


def is_tree_node(typ: type) -> bool:
    """Whether ``typ`` is a pytree node type (tuple, list, dict, None's type, a
    namedtuple or a registered class), as JAX's.

    >>> import xform
    >>> xform.tree_util.is_tree_node(dict), xform.tree_util.is_tree_node(float)
    (True, False)
    """
    from .core.pytree import _registry

    if not isinstance(typ, type):
        raise TypeError(f"is_tree_node: expected a type, got {type(typ).__name__}.")
    return (typ in (tuple, list, dict, type(None)) or typ in _registry
            or (issubclass(typ, tuple) and hasattr(typ, "_fields")))


def flatten_one_level(tree) -> tuple[Any, Any]:
    """The direct children of a container node and its static (auxiliary) data, as
    JAX's (a leaf is an error).

    >>> import xform
    >>> xform.tree_util.flatten_one_level({"b": 2, "a": [1]})
    (([1], 2), ('a', 'b'))
    """
    from .core.pytree import _children_with_keys, _is_namedtuple, _registry

    t = type(tree)
    kc = _children_with_keys(tree, None)
    if kc is None:
        raise ValueError(f"flatten_one_level: can't tree-flatten type {t}.")
    if tree is None:
        return (), None
    if t is dict:
        return tuple(kc[1]), tuple(k.key for k in kc[0])
    if t is list:
        return list(tree), None
    if t is tuple:
        return tuple(tree), None
    if t in _registry:
        children, aux = _registry[t][0](tree)
        return children, aux
    if _is_namedtuple(tree):
        return list(tree), t
    return kc[1], None


def flatten_one_level_with_keys(tree) -> tuple[list, Any]:
    """``flatten_one_level`` with each child's key: ``([(key, child), ...], aux)``.

    >>> import xform
    >>> xform.tree_util.flatten_one_level_with_keys((5, 6))[0]
    [(SequenceKey(0), 5), (SequenceKey(1), 6)]
    """
    from .core.pytree import _children_with_keys

    children, aux = flatten_one_level(tree)
    keys = _children_with_keys(tree, None)[0] if tree is not None else []
    return list(zip(keys, children)), aux


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The structure of a tuple of the given structures.

    >>> import xform
    >>> s = xform.tree_util.tree_structure([1, 2])
    >>> xform.tree_util.treedef_tuple([s, s])
    PyTreeDef(([*, *], [*, *]))
    """
    return PyTreeDef(tuple, None, list(treedefs))


def tree_broadcast(prefix_tree, full_tree, is_leaf: Callable | None = None):
    """``prefix_tree`` with each of its leaves repeated over the subtree of
    ``full_tree`` it stands for (``full_tree``'s structure).

    >>> import xform
    >>> xform.tree_util.tree_broadcast([1, 2], [(3, 4), {"a": 5}])
    [(1, 1), {'a': 2}]
    """
    prefix_leaves, prefix_def = tree_flatten(prefix_tree, is_leaf)
    subtrees = flatten_up_to(prefix_def, full_tree)
    return tree_unflatten(prefix_def, [tree_map(lambda _, v=v: v, sub)
                                       for v, sub in zip(prefix_leaves, subtrees)])


def tree_reduce_associative(operation: Callable, tree, *, identity: Any = _NO_INITIALIZER,
                            is_leaf: Callable | None = None) -> Any:
    """Reduce the leaves with an associative ``operation``, pairwise as a balanced tree
    (depth log n; ``identity`` for an empty tree).

    >>> import xform, operator
    >>> xform.tree_util.tree_reduce_associative(operator.add, [1, (2, 3), {"a": 4}])
    10
    """
    leaves = tree_leaves(tree, is_leaf)
    if not leaves:
        if identity is _NO_INITIALIZER:
            raise TypeError("tree_reduce_associative: empty tree and no identity given.")
        return identity
    while len(leaves) > 1:
        pairs = [operation(leaves[i], leaves[i + 1]) for i in range(0, len(leaves) - 1, 2)]
        leaves = pairs + ([leaves[-1]] if len(leaves) % 2 else [])
    return leaves[0]


def register_pytree_with_keys_class(cls: type) -> type:
    """Class decorator: register ``cls`` with its ``tree_flatten_with_keys`` (returning
    ``(((key, child), ...), aux)``) and ``tree_unflatten`` classmethod.

    >>> import xform
    >>> from xform.tree_util import GetAttrKey
    >>> @xform.tree_util.register_pytree_with_keys_class
    ... class P:
    ...     def __init__(self, x): self.x = x
    ...     def tree_flatten_with_keys(self): return ((GetAttrKey("x"), self.x),), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children): return cls(*children)
    >>> xform.tree_util.keystr(xform.tree_util.tree_leaves_with_path(P(1))[0][0])
    '.x'
    """
    flatten = getattr(cls, "tree_flatten", None)
    register_pytree_with_keys(cls, lambda x: x.tree_flatten_with_keys(), cls.tree_unflatten,
                              (lambda x: x.tree_flatten()) if flatten is not None else None)
    return cls


def register_static(cls: type) -> type:
    """Register ``cls`` as a pytree node with no children: its instances are kept as
    static structure (hashable ones compare by value), never traced.

    >>> import xform
    >>> @xform.tree_util.register_static
    ... class Config:
    ...     def __init__(self, n): self.n = n
    ...     def __hash__(self): return hash(self.n)
    ...     def __eq__(self, o): return isinstance(o, Config) and o.n == self.n
    >>> xform.tree_util.tree_leaves([Config(3), 1.0])
    [1.0]
    """
    register_pytree_node(cls, lambda x: ((), x), lambda aux, _: aux)
    return cls


class _DefaultRegistry:
    """JAX's ``default_registry``: the registry of pytree node types (here a read-only
    view: register with the ``register_*`` functions)."""

    def __contains__(self, cls) -> bool:
        from .core.pytree import _registry

        return cls in _registry or cls in (tuple, list, dict, type(None))

    def __repr__(self) -> str:
        return "<xform pytree registry>"


default_registry = _DefaultRegistry()

__all__ = [
    "DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "Partial", "PyTreeDef",
    "SequenceKey", "all_leaves", "default_registry", "flatten_one_level",
    "flatten_one_level_with_keys", "flatten_up_to", "is_tree_node", "keystr",
    "register_dataclass", "register_pytree_node", "register_pytree_node_class",
    "register_pytree_with_keys", "register_pytree_with_keys_class", "register_static",
    "tree_all", "tree_broadcast", "tree_flatten", "tree_flatten_with_path", "tree_leaves",
    "tree_leaves_with_path", "tree_map", "tree_map_with_path", "tree_reduce",
    "tree_reduce_associative", "tree_structure", "tree_transpose", "tree_unflatten",
    "treedef_children", "treedef_is_leaf", "treedef_tuple",
]
