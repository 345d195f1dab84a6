"""The IR: variables, literals, equations and jaxprs, with a readable printer.

A ``Jaxpr`` is a typed, first-order program in A-normal form::

    { lambda a:f64[3] ; b:f64[3]. let c:f64[3] = mul a b; d:f64[3] = sin c in (d,) }

Constants (``constvars``) come before the semicolon; their values live in the
``ClosedJaxpr`` that pairs a jaxpr with them.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .abstract import ShapedArray

_var_ids = itertools.count()


class Var:
    __slots__ = ("aval", "id")

    def __init__(self, aval: ShapedArray):
        self.aval = aval
        self.id = next(_var_ids)

    def __repr__(self) -> str:
        return f"Var({self.id}:{self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in an equation."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval

    def __repr__(self) -> str:
        return f"Literal({self.val!r})"


class Eqn:
    __slots__ = ("primitive", "invars", "outvars", "params")

    def __init__(self, primitive, invars, outvars, params):
        self.primitive = primitive
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.params = dict(params)

    def __repr__(self) -> str:
        return f"Eqn({self.primitive.name})"


def new_eqn(primitive, invars: list, outvars: list, params: dict) -> Eqn:
    """An ``Eqn`` that takes ownership of its (fresh) lists and params dict, without
    the defensive copies of ``Eqn(...)`` (staging creates one per traced operation)."""
    e = _new_object(Eqn)
    e.primitive = primitive
    e.invars = invars
    e.outvars = outvars
    e.params = params
    return e


_new_object = object.__new__


class Jaxpr:
    __slots__ = ("constvars", "invars", "outvars", "eqns")

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.eqns = list(eqns)

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    def __str__(self) -> str:
        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr together with the values of its constants."""

    __slots__ = ("jaxpr", "consts", "cache")

    def __init__(self, jaxpr: Jaxpr, consts):
        self.jaxpr = jaxpr
        self.consts = list(consts)
        # Per-program memo for derived programs (compiled kernels, jvp/batched jaxprs).
        self.cache: dict = {}

    @property
    def in_avals(self):
        return self.jaxpr.in_avals

    @property
    def out_avals(self):
        return self.jaxpr.out_avals

    @property
    def eqns(self):
        return self.jaxpr.eqns

    def __str__(self) -> str:
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__


def sub_jaxprs(eqn: Eqn):
    """The jaxprs held in an equation's parameters (branches, bodies, called programs)."""
    stack = list(eqn.params.values())
    while stack:
        v = stack.pop()
        if isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, ClosedJaxpr):
            yield v.jaxpr
        elif isinstance(v, Jaxpr):
            yield v


def all_eqns(jaxpr: Jaxpr):
    """Every equation of ``jaxpr`` and, recursively, of the jaxprs its equations hold."""
    for e in jaxpr.eqns:
        yield e
        for sub in sub_jaxprs(e):
            yield from all_eqns(sub)


def use_counts(jaxpr: Jaxpr) -> dict:
    """How many times each variable of ``jaxpr`` is read (by its equations and as an
    output), by variable id; variables never read are absent."""
    counts: dict = {}
    for v in [v for e in jaxpr.eqns for v in e.invars] + list(jaxpr.outvars):
        if type(v) is Var:
            counts[v.id] = counts.get(v.id, 0) + 1
    return counts


# -- printing ------------------------------------------------------------------


class _Namer:
    def __init__(self):
        self.names: dict[int, str] = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            val = v.val
            if isinstance(val, np.generic):
                val = val.item()
            return repr(val)
        name = self.names.get(v.id)
        if name is None:
            name = self.names[v.id] = _letters(len(self.names))
        return name


def _letters(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


def _pp_param(val, namer, indent) -> str:
    if isinstance(val, ClosedJaxpr):
        return _pp(val.jaxpr, namer, indent + 2)
    if isinstance(val, Jaxpr):
        return _pp(val, namer, indent + 2)
    if isinstance(val, (tuple, list)) and val and all(
        isinstance(x, (ClosedJaxpr, Jaxpr)) for x in val
    ):
        return "(" + ", ".join(_pp_param(x, namer, indent) for x in val) + ")"
    if isinstance(val, np.dtype):
        return val.name
    if callable(val) and hasattr(val, "__name__"):
        return val.__name__
    return repr(val)


def _pp(jaxpr: Jaxpr, namer: _Namer, indent: int) -> str:
    def decl(v):
        return f"{namer(v)}:{v.aval.str_short()}"

    pad = " " * indent
    consts = " ".join(decl(v) for v in jaxpr.constvars)
    ins = " ".join(decl(v) for v in jaxpr.invars)
    lines = [f"{{ lambda {consts}{' ' if consts else ''}; {ins}. let"]
    for eqn in jaxpr.eqns:
        outs = " ".join(decl(v) for v in eqn.outvars)
        params = " ".join(
            f"{k}={_pp_param(v, namer, indent + 4)}" for k, v in sorted(eqn.params.items())
        )
        head = eqn.primitive.name + (f"[{params}]" if params else "")
        args = " ".join(namer(v) for v in eqn.invars)
        lines.append(f"{pad}    {outs} = {head} {args}")
    outs = ", ".join(namer(v) for v in jaxpr.outvars)
    lines.append(f"{pad}  in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}")
    return "\n".join(lines)


def pp_jaxpr(jaxpr: Jaxpr) -> str:
    return _pp(jaxpr, _Namer(), 0)


def literal_or_none(x: Any):
    """Return x if it should be written inline as a Literal (Python/numpy scalar)."""
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        return x
    if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0):
        return x
    return None
