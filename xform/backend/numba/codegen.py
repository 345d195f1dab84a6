"""Code generation core: names, typed literals, the line emitter and ``emit_jaxpr``.

Conventions of the generated code (see the package docstring for the rule API):

- every jaxpr value has a *name* (a Python identifier or, for literals, a typed
  constant expression) in the generated function;
- 0-d values are numba **scalars**, all others numpy **arrays** (C-contiguous when
  produced by a kernel; inputs and views such as transposes/slices may be strided);
- constants are typed (``np.float32(0.5)``), and every elementwise result is cast to
  its dtype, so float32/int32 programs keep their precision and wrap-around semantics.
"""
from __future__ import annotations

import contextlib
import itertools
import math

import numpy as np

from ...core.ir import Jaxpr, Literal

INDENT = "    "


def np_type(dtype) -> str:
    """The numba-usable name of a dtype's scalar type, e.g. ``np.float32``."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return "np.bool_"
    return f"np.{dt.name}"


def _float_text(f: float) -> str:
    if f != f:
        return "np.nan"
    if f == math.inf:
        return "np.inf"
    if f == -math.inf:
        return "(-np.inf)"
    s = repr(float(f))
    return f"({s})" if s.startswith("-") else s


def literal_expr(val, dtype) -> str:
    """A typed constant expression for a scalar value of ``dtype``."""
    dt = np.dtype(dtype)
    v = np.asarray(val).astype(dt)[()] if np.ndim(val) == 0 else np.asarray(val).reshape(())
    if dt.kind == "b":
        return "True" if bool(v) else "False"
    if dt.kind == "f":
        s = _float_text(float(v))
        return s if dt == np.float64 else f"{np_type(dt)}({s})"
    if dt.kind in "iu":
        i = int(v)
        if dt == np.int64:
            return f"({i})" if i < 0 else str(i)
        return f"{np_type(dt)}({i})"
    if dt.kind == "c":
        c = complex(v)
        return f"{np_type(dt)}(complex({_float_text(c.real)}, {_float_text(c.imag)}))"
    raise TypeError(f"jit: cannot write a constant of dtype {dt}")


def cast(expr: str, dtype) -> str:
    return f"{np_type(dtype)}({expr})"


def shape_text(shape) -> str:
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(map(str, shape)) + ")"


def index_text(idx) -> str:
    idx = list(idx)
    if not idx:
        return "()"
    if len(idx) == 1:
        return idx[0]
    return ", ".join(idx)


class Module:
    """State shared by all emitters of one generated module."""

    def __init__(self, name: str):
        self.name = name
        self._ids = itertools.count()
        self.const_args: list[tuple[str, object]] = []
        self.helpers: list[str] = []      # source of auxiliary njit functions
        self.runtime_imports: set[str] = {"to_scalar"}
        self.vector_calls: set[str] = set()  # routines imported from vector_calls.py
        self.linalg_imports: set[str] = set()  # names imported from linalg_runtime.py
        self.contig: set[str] = set()     # names known to be C-contiguous arrays
        self.inputs: set[str] = set()     # kernel arguments (any layout)
        self.parallel = False
        self._labels: dict = {}           # jaxpr var id -> label in comments
        self.segment_budget = None        # chunked vector-math segments left (fusion.py)

    def label(self, v) -> str:
        """A label for jaxpr variable ``v`` in comments, numbered in order of use."""
        return self.label_of(v.id)

    def label_of(self, vid) -> str:
        lab = self._labels.get(vid)
        if lab is None:
            lab = self._labels[vid] = f"v{len(self._labels)}"
        return lab

    def fresh(self, hint: str = "t") -> str:
        return f"{hint}{next(self._ids)}"


class Emitter:
    """Appends indented source lines; rules receive one (see the package docstring)."""

    def __init__(self, mod: Module, depth: int = 1):
        self.mod = mod
        self.lines: list[str] = []
        self.depth = depth

    # -- text ------------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append(INDENT * self.depth + text)

    def comment(self, text: str) -> None:
        for part in text.splitlines():
            self.line("# " + part)

    @contextlib.contextmanager
    def indented(self, n: int = 1):
        self.depth += n
        try:
            yield
        finally:
            self.depth -= n

    def fresh(self, hint: str = "t") -> str:
        return self.mod.fresh(hint)

    # -- values ----------------------------------------------------------------------
    def mark_contig(self, name: str) -> str:
        self.mod.contig.add(name)
        return name

    def is_contig(self, name: str) -> bool:
        return name in self.mod.contig

    def contiguous(self, name: str, aval) -> str:
        """A C-contiguous version of array ``name`` (a loop copy unless known contiguous)."""
        if name in self.mod.contig:
            return name
        if name in self.mod.inputs:  # C-layout input arrays are used as they are
            out = self.fresh("c")
            self.line(f"{out} = {self.use_runtime('as_c')}({name})")
            return self.mark_contig(out)
        return self.copy_permuted(name, aval.shape, aval.dtype)

    def copy_permuted(self, name: str, shape, dtype, perm=None) -> str:
        """A fresh C-contiguous array ``transpose(name, perm)`` written by a loop nest
        (numba's own transpose/ascontiguousarray cost far more compile time)."""
        shape = tuple(shape)
        perm = tuple(range(len(shape))) if perm is None else tuple(perm)
        oshape = [shape[p] for p in perm]
        out = self.alloc(oshape, dtype, hint="c")
        idx = [self.fresh("j") for _ in oshape]
        for i, n in zip(idx, oshape):
            self.line(f"for {i} in range({n}):")
            self.depth += 1
        src = [idx[perm.index(d)] for d in range(len(shape))]
        self.line(f"{out}[{index_text(idx)}] = {name}[{index_text(src)}]")
        self.depth -= len(idx)
        return out

    def reshape(self, name: str, shape) -> str:
        """The expression ``name.reshape(shape)``, through ``runtime.reshape_c`` (a view
        built at the call site: numba's reshape compiles a helper once per process)."""
        return f"{self.use_runtime('reshape_c')}({name}, {shape_text(shape)})"

    def as_array(self, expr: str, aval) -> str:
        """Array name for a value; 0-d values (scalars) become 0-d arrays."""
        if aval.ndim > 0:
            return expr
        return self.alloc((), aval.dtype, hint="z", fill=expr)

    def alloc(self, shape, dtype, hint: str = "o", fill: str | None = None) -> str:
        """A fresh C-contiguous array (``runtime.alloc_empty/alloc_full``: numba's own
        np.empty/np.full compile once per process and signature)."""
        out = self.fresh(hint)
        if fill is None:
            self.line(f"{out} = {self.use_runtime('alloc_empty')}({shape_text(shape)}, {np_type(dtype)})")
        else:
            self.line(f"{out} = {self.use_runtime('alloc_full')}({shape_text(shape)}, {fill}, "
                      f"{np_type(dtype)})")
        return self.mark_contig(out)

    def const(self, value) -> str:
        """Name of a constant: scalars become typed literals, arrays extra arguments."""
        arr = np.asarray(value)
        if arr.ndim == 0:
            return literal_expr(arr[()], arr.dtype)
        for name, v in self.mod.const_args:
            if v is value:
                return name
        name = self.mod.fresh("k")
        self.mod.const_args.append((name, value))
        self.mod.contig.add(name)  # passed as np.ascontiguousarray(value)
        return name

    def use_vector_call(self, name: str) -> str:
        """Import routine ``name`` (e.g. ``"vm_vexp"``) from ``vector_calls.py``."""
        self.mod.vector_calls.add(name)
        return name

    def use_runtime(self, name: str) -> str:
        """Import ``name`` from the runtime module (cached generic kernels)."""
        self.mod.runtime_imports.add(name)
        return name

    def use_linalg(self, name: str) -> str:
        """Import ``name`` from the LAPACK helpers (``linalg_runtime.py``)."""
        self.mod.linalg_imports.add(name)
        return name

    def sub(self, depth: int = 1) -> "Emitter":
        return Emitter(self.mod, depth)

    # -- recursion ---------------------------------------------------------------------
    def emit_jaxpr(self, jaxpr: Jaxpr, in_names, consts=()) -> list[str]:
        """Emit ``jaxpr`` inline at the current indentation; returns its output names."""
        return emit_jaxpr_into(self, jaxpr, in_names, consts)


def read_operand(env: dict, v) -> str:
    if type(v) is Literal:
        return literal_expr(v.val, v.aval.dtype)
    return env[v.id]


def emit_jaxpr_into(em: Emitter, jaxpr: Jaxpr, in_names, consts=()) -> list[str]:
    from .fusion import plan

    env: dict = {}
    consts = list(consts)
    if len(consts) != len(jaxpr.constvars):
        raise ValueError("emit_jaxpr: wrong number of constants")
    for v, c in zip(jaxpr.constvars, consts):
        env[v.id] = c if isinstance(c, str) else em.const(c)
    in_names = list(in_names)
    if len(in_names) != len(jaxpr.invars):
        raise ValueError(f"emit_jaxpr: expected {len(jaxpr.invars)} inputs, got {len(in_names)}")
    for v, n in zip(jaxpr.invars, in_names):
        env[v.id] = n
    for node in plan(jaxpr):
        node.emit(em, env)
    return [read_operand(env, v) for v in jaxpr.outvars]


def emit_jaxpr(em: Emitter, jaxpr: Jaxpr, input_names, consts=()) -> tuple[list[str], list[str]]:
    """Emit ``jaxpr`` as a block of lines (indentation 0) for a rule to place.

    ``input_names`` are names of the jaxpr's inputs in the generated function (scalars
    for 0-d values), ``consts`` the values (or names) of its constvars. Returns
    ``(lines, output_names)``. Names are unique in the whole module, so the block can be
    emitted in a loop or branch body of the enclosing function.
    """
    sub = em.sub(depth=0)
    outs = emit_jaxpr_into(sub, jaxpr, input_names, consts)
    return sub.lines, outs
