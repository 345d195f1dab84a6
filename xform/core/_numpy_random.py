"""Recognize a call of a numpy.random function, for a clearer error when one is given a
traced value (``numpy.random.normal(loc=tracer)`` converts the tracer to an array,
which is an error): the error then says to use ``xform.random``.

numpy.random's functions are compiled (Cython), so the Python frame that asks for the
conversion is the caller's; its current instruction's source position (Python 3.11+)
gives the call expression, whose callee is resolved from the frame's names (attribute
lookups only, nothing is called).
"""
from __future__ import annotations

import ast
import builtins
import linecache

import numpy as np

_MISSING = object()


def _dotted(node, frame):
    """The object a ``name.attr.attr`` expression denotes in ``frame``, or _MISSING."""
    if isinstance(node, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, vars(builtins)):
            if node.id in scope:
                return scope[node.id]
        return _MISSING
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, frame)
        return _MISSING if base is _MISSING else getattr(base, node.attr, _MISSING)
    return _MISSING


def _random_name(obj) -> str | None:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "?")
    if isinstance(owner, (np.random.RandomState, np.random.Generator)):
        if owner is getattr(np.random.mtrand, "_rand", None):
            return f"numpy.random.{name}"
        return f"numpy.random.{type(owner).__name__}.{name}"
    if (getattr(obj, "__module__", None) or "").startswith("numpy.random"):
        return f"numpy.random.{name}"
    return None


def _call_source(frame) -> str | None:
    code = frame.f_code
    positions = list(code.co_positions())
    k = frame.f_lasti // 2
    if not 0 <= k < len(positions):
        return None
    line, end_line, col, end_col = positions[k]
    if None in (line, end_line, col, end_col):
        return None
    lines = [ln.encode() for ln in linecache.getlines(code.co_filename, frame.f_globals)]
    if end_line > len(lines):
        return None
    if line == end_line:
        seg = lines[line - 1][col:end_col]
    else:
        seg = lines[line - 1][col:] + b"".join(lines[line:end_line - 1]) + lines[end_line - 1][:end_col]
    return seg.decode(errors="replace")


def numpy_random_call(frame) -> str | None:
    """The name of the numpy.random function (or Generator/RandomState method) that
    ``frame`` is calling, or None."""
    try:
        src = _call_source(frame)
        if src is None:
            return None
        node = ast.parse(src.strip(), mode="eval").body
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        found = _dotted(func, frame)
        if found is not _MISSING:
            return _random_name(found)
        # numpy.random.default_rng(seed).normal(...): the generator is made in the call
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            maker = _dotted(func.value.func, frame)
            if maker is _MISSING:
                return None
            if isinstance(maker, type) and issubclass(maker, (np.random.Generator,
                                                              np.random.RandomState)):
                return f"numpy.random.{maker.__name__}.{func.attr}"
            if _random_name(maker):  # default_rng(...)
                return f"numpy.random.Generator.{func.attr}"
    except Exception:  # a hint only: never fail the error it decorates
        return None
    return None
