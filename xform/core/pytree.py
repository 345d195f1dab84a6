"""Pytrees: nested containers (tuples, lists, dicts, None, namedtuples, registered
classes) flattened to a list of leaves and a hashable tree structure."""
from __future__ import annotations

import collections
from typing import Any, Callable

_registry: dict[type, tuple[Callable, Callable]] = {}
# Types registered with key paths: type -> flatten_with_keys(x) -> (((key, child), ...), aux).
_key_registry: dict[type, Callable] = {}


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
    _key_registry.pop(nodetype, None)
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

    @property
    def num_nodes(self) -> int:
        """The number of nodes, leaves and ``None`` included (JAX's ``num_nodes``).

        >>> from xform.tree_util import tree_structure
        >>> tree_structure((1, (2, 3))).num_nodes, tree_structure({"a": 1, "b": [2, None]}).num_nodes
        (5, 5)
        """
        return 1 + sum(c.num_nodes for c in self.children)

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

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` at this structure's leaves (see ``flatten_up_to``)."""
        return flatten_up_to(self, tree)


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
    """Rebuild a pytree from its structure and leaves (inverse of tree_flatten).

    >>> from xform.tree_util import tree_structure, tree_unflatten
    >>> tree_unflatten(tree_structure({'a': 1, 'b': (2, 3)}), [10, 20, 30])
    {'a': 10, 'b': (20, 30)}
    """
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
    """The structure of a pytree (its ``PyTreeDef``), without the leaves.

    >>> from xform.tree_util import tree_structure
    >>> tree_structure({'a': 1, 'b': (2, 3)})
    PyTreeDef({'a': *, 'b': (*, *)})
    """
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
    """The structures of a node's children.

    >>> from xform.tree_util import tree_structure, treedef_children
    >>> treedef_children(tree_structure({'a': 1, 'b': (2, 3)}))
    [PyTreeDef(*), PyTreeDef((*, *))]
    """
    return list(treedef.children)


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether a structure is a single leaf.

    >>> from xform.tree_util import tree_structure, treedef_is_leaf
    >>> treedef_is_leaf(tree_structure(1.0)), treedef_is_leaf(tree_structure((1.0,)))
    (True, False)
    """
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


# -- key paths (JAX's tree_util key classes) ------------------------------------------


class _Key:
    __slots__ = ()

    def _value(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self._value() == other._value()

    def __hash__(self):
        return hash((type(self).__name__, self._value()))

    def __repr__(self):
        return f"{type(self).__name__}({self._value()!r})"


class SequenceKey(_Key):
    """The position of a child of a tuple or list: ``[i]``."""

    __slots__ = ("idx",)

    def __init__(self, idx: int):
        self.idx = idx

    def _value(self):
        return self.idx

    def __str__(self):
        return f"[{self.idx!r}]"


class DictKey(_Key):
    """The key of a child of a dict: ``['name']``."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def _value(self):
        return self.key

    def __str__(self):
        return f"[{self.key!r}]"


class GetAttrKey(_Key):
    """The attribute holding a child (namedtuples, dataclasses): ``.name``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def _value(self):
        return self.name

    def __str__(self):
        return f".{self.name}"


class FlattenedIndexKey(_Key):
    """The position of a child of a node registered without keys:
    ``[<flat index i>]`` (JAX's text)."""

    __slots__ = ("key",)

    def __init__(self, key: int):
        self.key = key

    def _value(self):
        return self.key

    def __str__(self):
        return f"[<flat index {self.key}>]"


def register_pytree_with_keys(nodetype: type, flatten_with_keys: Callable,
                              unflatten_func: Callable, flatten_func: Callable | None = None):
    """Register a container type whose children have key paths.

    ``flatten_with_keys(x) -> (((key, child), ...), aux_data)``; ``flatten_func`` (the
    plain flattening) defaults to dropping the keys.

    >>> class Point:
    ...     def __init__(self, x, y): self.x, self.y = x, y
    >>> register_pytree_with_keys(
    ...     Point, lambda p: (((GetAttrKey("x"), p.x), (GetAttrKey("y"), p.y)), None),
    ...     lambda _, c: Point(*c))
    >>> [keystr(k) for k, _ in tree_flatten_with_path(Point(1, 2))[0]]
    ['.x', '.y']
    """
    if flatten_func is None:
        def flatten_func(x):
            pairs, aux = flatten_with_keys(x)
            return [c for _, c in pairs], aux
    register_pytree_node(nodetype, flatten_func, unflatten_func)
    _key_registry[nodetype] = flatten_with_keys


def _children_with_keys(x, is_leaf):
    """(keys, children) of a container node, or None for a leaf."""
    if is_leaf is not None and is_leaf(x):
        return None
    t = type(x)
    if x is None:
        return [], []
    if t is tuple or t is list:
        return [SequenceKey(i) for i in range(len(x))], list(x)
    if t is dict:
        keys = sorted(x.keys(), key=_sort_key)
        return [DictKey(k) for k in keys], [x[k] for k in keys]
    if t in _key_registry:
        pairs, _ = _key_registry[t](x)
        return [k for k, _ in pairs], [c for _, c in pairs]
    if t in _registry:
        children, _ = _registry[t][0](x)
        children = list(children)
        return [FlattenedIndexKey(i) for i in range(len(children))], children
    if _is_namedtuple(x):
        return [GetAttrKey(f) for f in type(x)._fields], list(x)
    return None


def tree_flatten_with_path(tree, is_leaf=None) -> tuple[list, PyTreeDef]:
    """Like ``tree_flatten``, with each leaf's key path: ``([(path, leaf), ...], treedef)``.

    >>> tree_flatten_with_path({'a': [1, 2]})[0]
    [((DictKey('a'), SequenceKey(0)), 1), ((DictKey('a'), SequenceKey(1)), 2)]
    """
    out: list = []

    def go(x, path):
        kc = _children_with_keys(x, is_leaf)
        if kc is None:
            out.append((path, x))
            return
        for k, c in zip(*kc):
            go(c, path + (k,))

    go(tree, ())
    treedef = tree_structure(tree, is_leaf)
    return out, treedef


def tree_leaves_with_path(tree, is_leaf=None) -> list:
    """``[(path, leaf), ...]`` in flattening order.

    >>> [(keystr(p), v) for p, v in tree_leaves_with_path((3, {'b': 4}))]
    [('[0]', 3), ("[1]['b']", 4)]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(f: Callable, tree, *rest, is_leaf=None) -> Any:
    """``tree_map`` where ``f`` also receives the key path: ``f(path, leaf, *others)``.

    >>> tree_map_with_path(lambda p, x: f"{keystr(p)}={x}", {'a': 1, 'b': (2,)})
    {'a': "['a']=1", 'b': ("['b'][0]=2",)}
    """
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    all_leaves = [[v for _, v in pairs]]
    for r in rest:
        all_leaves.append(flatten_up_to(treedef, r))
    paths = [p for p, _ in pairs]
    return tree_unflatten(treedef, [f(p, *xs) for p, *xs in zip(paths, *all_leaves)])


def keystr(keys, *, simple: bool = False, separator: str = "") -> str:
    """A key path as text: ``"['a'][0].x"``; ``simple=True`` writes only the keys
    (``"a/0/x"`` with ``separator="/"``).

    >>> keystr((DictKey('a'), SequenceKey(0), GetAttrKey('x')))
    "['a'][0].x"
    >>> keystr((DictKey('a'), SequenceKey(0)), simple=True, separator='/')
    'a/0'
    """
    if simple:
        return separator.join(str(k._value()) if isinstance(k, _Key) else str(k) for k in keys)
    return separator.join(str(k) for k in keys)


def flatten_up_to(treedef: PyTreeDef, tree) -> list:
    """The subtrees of ``tree`` at the leaves of ``treedef`` (a prefix of its structure).

    >>> flatten_up_to(tree_structure((0, 0)), ([1, 2], {'a': 3}))
    [[1, 2], {'a': 3}]
    """
    out: list = []

    def go(t: PyTreeDef, x):
        if t.kind == "leaf":
            out.append(x)
            return
        if t.kind == "none":
            if x is not None:
                raise ValueError(f"flatten_up_to: expected None, got {type(x).__name__}")
            return
        if type(x) is not t.kind:
            raise ValueError(f"flatten_up_to: expected a {getattr(t.kind, '__name__', t.kind)} "
                             f"node, got {type(x).__name__} ({_str(t)} is not a prefix of the "
                             f"tree's structure)")
        if t.kind is dict:
            if tuple(sorted(x.keys(), key=_sort_key)) != t.aux:
                raise ValueError(f"flatten_up_to: dict keys {sorted(x)} differ from {list(t.aux)}")
            children = [x[k] for k in t.aux]
        elif t.kind is tuple or t.kind is list or _is_namedtuple(x):
            children = list(x)
        else:
            children, aux = _registry[t.kind][0](x)
            children = list(children)
            if aux != t.aux:
                raise ValueError(f"flatten_up_to: node data {aux!r} differs from {t.aux!r}")
        if len(children) != len(t.children):
            raise ValueError(f"flatten_up_to: a {type(x).__name__} of {len(children)} children "
                             f"does not match {_str(t)}")
        for ct, c in zip(t.children, children):
            go(ct, c)

    go(treedef, tree)
    return out


# OrderedDict and defaultdict are containers too (keys in insertion order, as JAX).
register_pytree_with_keys(
    collections.OrderedDict,
    lambda d: (tuple((DictKey(k), v) for k, v in d.items()), tuple(d.keys())),
    lambda keys, children: collections.OrderedDict(zip(keys, children)),
    lambda d: (tuple(d.values()), tuple(d.keys())))
register_pytree_with_keys(
    collections.defaultdict,
    lambda d: (tuple((DictKey(k), v) for k, v in d.items()), (d.default_factory, tuple(d.keys()))),
    lambda aux, children: collections.defaultdict(aux[0], zip(aux[1], children)),
    lambda d: (tuple(d.values()), (d.default_factory, tuple(d.keys()))))
