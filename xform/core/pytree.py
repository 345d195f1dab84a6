"""Pytrees: nested containers (tuples, lists, dicts, None, namedtuples, registered
classes) flattened to a list of leaves and a hashable tree structure."""
from __future__ import annotations

import collections
from typing import Any, Callable

_registry: dict[type, tuple[Callable, Callable]] = {}


def register_pytree_node(nodetype: type, flatten_func: Callable, unflatten_func: Callable):
    """Register a container type.

    ``flatten_func(x) -> (children, aux_data)``; ``unflatten_func(aux_data, children) -> x``.

    >>> class Pair:
    ...     def __init__(self, a, b): self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, c: Pair(*c))
    >>> tree_leaves(Pair(1, (2, 3)))
    [1, 2, 3]
    """
    _registry[nodetype] = (flatten_func, unflatten_func)
    _LEAF_TYPES.discard(nodetype)


# Types known to be leaves (not containers, not registered, not namedtuples): a fast
# path for the common single-array arguments and results of transformations.
_LEAF_TYPES: set = set()


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class PyTreeDef:
    """The structure of a pytree (hashable; leaves are ``*``)."""

    __slots__ = ("kind", "aux", "children", "num_leaves", "_hash", "_flat_seq")

    def __init__(self, kind, aux, children):
        self.kind = kind
        self.aux = aux
        self.children = tuple(children)
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in self.children)
        self._hash = None
        # A tuple/list whose children are all leaves (e.g. a function's arguments).
        self._flat_seq = (kind is tuple or kind is list) and all(
            c.kind == "leaf" for c in self.children)

    def _key(self):
        return (self.kind, self.aux, self.children)

    def __eq__(self, other):
        return isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def __repr__(self):
        return f"PyTreeDef({_str(self)})"

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)


def _str(t: PyTreeDef) -> str:
    if t.kind == "leaf":
        return "*"
    if t.kind == "none":
        return "None"
    inner = ", ".join(_str(c) for c in t.children)
    if t.kind is tuple:
        return f"({inner}{',' if len(t.children) == 1 else ''})"
    if t.kind is list:
        return f"[{inner}]"
    if t.kind is dict:
        return "{" + ", ".join(f"{k!r}: {_str(c)}" for k, c in zip(t.aux, t.children)) + "}"
    return f"{getattr(t.kind, '__name__', t.kind)}({inner})"


_LEAF = PyTreeDef("leaf", None, ())
_NONE = PyTreeDef("none", None, ())


def _flatten(x, leaves: list, is_leaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    t = type(x)
    if t in _LEAF_TYPES:
        leaves.append(x)
        return _LEAF
    if x is None:
        return _NONE
    if t is tuple or t is list:
        return PyTreeDef(t, None, [_flatten(c, leaves, is_leaf) for c in x])
    if t is dict:
        keys = sorted(x.keys(), key=_sort_key)
        return PyTreeDef(dict, tuple(keys), [_flatten(x[k], leaves, is_leaf) for k in keys])
    if t in _registry:
        children, aux = _registry[t][0](x)
        return PyTreeDef(t, aux, [_flatten(c, leaves, is_leaf) for c in children])
    if _is_namedtuple(x):
        return PyTreeDef(t, None, [_flatten(c, leaves, is_leaf) for c in x])
    if len(_LEAF_TYPES) < 256:
        _LEAF_TYPES.add(t)
    leaves.append(x)
    return _LEAF


def _sort_key(k):
    return (type(k).__name__, k) if not isinstance(k, (int, float)) else ("", k)


def tree_flatten(tree, is_leaf=None) -> tuple[list, PyTreeDef]:
    """Flatten a pytree into its leaves and structure.

    >>> tree_flatten({'b': 2, 'a': (1, None)})
    ([1, 2], PyTreeDef({'a': (*, None), 'b': *}))
    """
    if is_leaf is None and type(tree) in _LEAF_TYPES:
        return [tree], _LEAF
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves):
    """Rebuild a pytree from its structure and leaves (inverse of tree_flatten)."""
    if type(leaves) is list or type(leaves) is tuple:
        if treedef is _LEAF and len(leaves) == 1:
            return leaves[0]
        if treedef._flat_seq and len(leaves) == len(treedef.children):
            return treedef.kind(leaves)
    it = iter(leaves)
    out = _unflatten(treedef, it)
    rest = list(it)
    if rest:
        raise ValueError(f"tree_unflatten: {len(rest)} leaves too many for {treedef}")
    return out


def _unflatten(t: PyTreeDef, it):
    if t.kind == "leaf":
        try:
            return next(it)
        except StopIteration:
            raise ValueError("tree_unflatten: too few leaves for the tree structure") from None
    if t.kind == "none":
        return None
    children = [_unflatten(c, it) for c in t.children]
    if t.kind is tuple or t.kind is list:
        return t.kind(children)
    if t.kind is dict:
        return dict(zip(t.aux, children))
    if t.kind in _registry:
        return _registry[t.kind][1](t.aux, children)
    return t.kind(*children)  # namedtuple


def tree_leaves(tree, is_leaf=None) -> list:
    """The leaves of a pytree, in flattening order.

    >>> tree_leaves([1, {'x': 2}, None])
    [1, 2]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> PyTreeDef:
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable, tree, *rest, is_leaf=None) -> Any:
    """Apply ``f`` to each leaf (and the matching leaves of ``rest``).

    >>> tree_map(lambda x: x * 2, {'a': 1, 'b': (2, 3)})
    {'a': 2, 'b': (4, 6)}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    all_leaves = [leaves]
    for r in rest:
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            raise ValueError(f"tree_map: tree structures differ: {treedef} vs {r_def}")
        all_leaves.append(r_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(*all_leaves)])


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    return list(treedef.children)


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.kind == "leaf"


def broadcast_prefix(prefix_tree, full_tree, is_leaf=None, what: str = "prefix") -> list:
    """Leaves of ``prefix_tree`` repeated to match the leaves of ``full_tree``.

    Used for vmap's ``in_axes``: a leaf of the prefix applies to a whole subtree.
    """
    out: list = []

    def go(p, full):
        if p is None or not isinstance(p, (tuple, list, dict)) and type(p) not in _registry:
            n = len(tree_leaves(full, is_leaf))
            out.extend([p] * n)
            return
        if type(p) is dict and type(full) is dict:
            if set(p) != set(full):
                raise ValueError(f"{what}: dict keys {sorted(p)} do not match {sorted(full)}")
            for k in sorted(full, key=_sort_key):
                go(p[k], full[k])
            return
        pl, pdef = tree_flatten(p, is_leaf=lambda x: x is not p)
        fl, fdef = tree_flatten(full, is_leaf=lambda x: x is not full)
        if type(p) is not type(full) and not (
            isinstance(p, (tuple, list)) and isinstance(full, (tuple, list))
        ):
            raise ValueError(
                f"{what}: structure {type(p).__name__} does not match {type(full).__name__}"
            )
        if len(pl) != len(fl):
            raise ValueError(
                f"{what}: a {type(p).__name__} of length {len(pl)} does not match the "
                f"argument structure of length {len(fl)}"
            )
        for a, b in zip(pl, fl):
            go(a, b)

    go(prefix_tree, full_tree)
    return out


# OrderedDict and defaultdict are containers too (keys in insertion order, as JAX).
register_pytree_node(collections.OrderedDict,
                     lambda d: (tuple(d.values()), tuple(d.keys())),
                     lambda keys, children: collections.OrderedDict(zip(keys, children)))
register_pytree_node(collections.defaultdict,
                     lambda d: (tuple(d.values()), (d.default_factory, tuple(d.keys()))),
                     lambda aux, children: collections.defaultdict(aux[0], zip(aux[1], children)))
