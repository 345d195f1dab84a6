"""Loop bodies reuse their temporary arrays: allocations move in front of the loop.

A loop body emitted inline (``while``/``scan`` lowerings) allocates every temporary it
computes (``X = np.empty((32,), np.float64)``) at every iteration; for the small
arrays of ODE steps and RNN cells the allocation and its release cost as much as the
arithmetic. A temporary whose value does not outlive its iteration can use the same
buffer at every iteration: its allocation line moves in front of the loop.

Which values outlive an iteration: only the loop-carried ones (the carry names the
body assigns at its end, read by the next iteration and after the loop). Everything
else the body computes is consumed within the iteration (stacked outputs and blocked
accumulators are copied element by element). So a buffer stays in the loop when a
carry may refer to it: the names a carry is assigned from, and transitively the names
those were assigned from (views such as ``reshape``/``.T``/slices keep the buffer),
found over-approximately on the body's source: any name on the right-hand side of an
assignment may be referred to by its left-hand side, except for fresh allocations.

Only unconditional allocations with static shapes move (those at the body's own
indentation: not inside branches or nested loops, whose lowerings hoist their own).
Allocations are ``alloc_empty``/``alloc_full`` (``runtime.py``) or numpy's
``np.empty``/``np.full``; filled ones move as empty ones and are refilled in place
(``fill_array(X, v)``).
"""
from __future__ import annotations

import re

_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*,?\s*=(?!=)\s*(.*)$")
_NAME = re.compile(r"[A-Za-z_]\w*")
_SHAPE = r"\((?:\s*\d+\s*,?)*\s*\)"
_EMPTY = re.compile(rf"^(\s*)([A-Za-z_]\w*) = (?:np\.empty|alloc_empty)\(({_SHAPE}), (np\.\w+)\)$")
_FULL = re.compile(rf"^(\s*)([A-Za-z_]\w*) = (?:np\.full|alloc_full)\(({_SHAPE}), (.+), (np\.\w+)\)$")
_FRESH = ("np.empty(", "np.full(", "np.zeros(", "np.ones(", "alloc_empty(", "alloc_full(")


def _escaping(lines, carry_names) -> set:
    """Names the carries may refer to (over-approximated; see the module docstring)."""
    edges: dict = {}
    for ln in lines:
        m = _ASSIGN.match(ln)
        if m is None:
            continue
        rhs = m.group(2)
        if rhs.startswith(_FRESH):
            continue
        srcs = set(_NAME.findall(rhs))
        for name in _NAME.findall(m.group(1)):
            edges.setdefault(name, set()).update(srcs)
    seen, stack = set(), list(carry_names)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(edges.get(n, ()))
    return seen


def hoist_allocations(em, header: int, carry_names) -> None:
    """Move the reusable allocations of the loop whose header line is
    ``em.lines[header]`` (its body: the lines after it, one level deeper) in front of
    the loop. ``carry_names``: the names the body assigns that the next iteration (or
    the code after the loop) reads.

    >>> from xform.backend.numba.codegen import Emitter, Module
    >>> em = Emitter(Module("k"), depth=0)
    >>> for ln in ["for i in range(3):", "    t = alloc_empty((4,), np.float64)",
    ...            "    u = alloc_full((4,), 1.0, np.float64)", "    c = u",
    ...            "    w = alloc_full((2,), 0.5, np.float64)"]:
    ...     em.line(ln)
    >>> hoist_allocations(em, 0, ["c"])
    >>> print("\\n".join(em.lines))
    t = alloc_empty((4,), np.float64)
    w = alloc_empty((2,), np.float64)
    for i in range(3):
        u = alloc_full((4,), 1.0, np.float64)
        c = u
        fill_array(w, 0.5)
    """
    head = em.lines[header]
    indent = head[:len(head) - len(head.lstrip())]
    body_indent = indent + "    "
    body = em.lines[header + 1:]
    escaping = _escaping(body, carry_names)
    moved, kept = [], []
    for ln in body:
        if ln.startswith(body_indent) and ln[len(body_indent):len(body_indent) + 1].strip():
            m = _EMPTY.match(ln)
            if m is not None and m.group(2) not in escaping:
                moved.append(f"{indent}{m.group(2)} = {em.use_runtime('alloc_empty')}({m.group(3)}, "
                             f"{m.group(4)})")
                continue
            m = _FULL.match(ln)
            if m is not None and m.group(2) not in escaping:
                moved.append(f"{indent}{m.group(2)} = {em.use_runtime('alloc_empty')}({m.group(3)}, "
                             f"{m.group(5)})")
                kept.append(f"{body_indent}{em.use_runtime('fill_array')}({m.group(2)}, {m.group(4)})")
                continue
        kept.append(ln)
    if moved:
        em.lines[header:] = moved + [head] + kept
