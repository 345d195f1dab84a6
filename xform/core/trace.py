"""Tracers, traces and the stack of active interpreters.

Every transformation (jvp, staging, batching) is a ``Trace`` subclass. Applying a
transformation pushes a ``MainTrace`` on the stack; its tracers box values of the
level below. ``Primitive.bind`` finds the innermost (highest-level) trace among its
arguments and asks it to process the primitive; values from outer levels are lifted.
A *dynamic* main (make_jaxpr, jit) is the floor of that search, so operations on
constants inside ``jit`` are staged too.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any

from .abstract import ShapedArray, concrete_aval


class UnexpectedTracerError(Exception):
    """A tracer was used after the transformation that created it had finished."""


class ConcretizationTypeError(TypeError):
    """A concrete Python value was needed from an abstract tracer."""


class MainTrace:
    __slots__ = ("level", "trace_type", "payload", "alive", "name", "trace")

    def __init__(self, level: int, trace_type, payload: Any = None, name: str = ""):
        self.level = level
        self.trace_type = trace_type
        self.payload = payload
        self.alive = True
        self.name = name or trace_type.__name__
        self.trace = trace_type(self)  # traces are stateless views of their main

    def __repr__(self) -> str:
        return f"MainTrace({self.level}, {self.name})"


class _State(threading.local):
    def __init__(self):
        from .eval import EvalTrace  # the base interpreter

        base = MainTrace(0, EvalTrace, name="eval")
        self.stack: list[MainTrace] = [base]
        self.dynamic: MainTrace = base


_state_holder: dict = {}


def state() -> _State:
    st = _state_holder.get("s")
    if st is None:
        st = _state_holder["s"] = _State()
    return st


class new_main:
    """``with new_main(trace_type, payload, name, dynamic) as main``: push a new
    interpreter level; ``dynamic`` makes it the floor of trace search.

    (A class rather than a generator-based context manager: entered several times per
    eager autodiff call.)"""

    __slots__ = ("args", "main", "prev_dynamic", "dynamic", "st")

    def __init__(self, trace_type, payload=None, name: str = "", dynamic: bool = False):
        self.args = (trace_type, payload, name)
        self.dynamic = dynamic

    def __enter__(self) -> MainTrace:
        st = self.st = state()
        main = self.main = MainTrace(len(st.stack), *self.args)
        st.stack.append(main)
        self.prev_dynamic = st.dynamic
        if self.dynamic:
            st.dynamic = main
        return main

    def __exit__(self, *exc) -> None:
        st = self.st
        self.main.alive = False
        st.dynamic = self.prev_dynamic
        st.stack.pop()


def _escaped_error(tracer: "Tracer") -> UnexpectedTracerError:
    main = tracer._trace.main
    return UnexpectedTracerError(
        f"Encountered a tracer of {tracer.aval.str_short()} created by the "
        f"`{main.name}` transformation after that transformation had returned. "
        f"A traced value escaped, e.g. it was stored in a global, a closure or an "
        f"attribute inside the transformed function. Return it as an output instead."
    )


def find_top_trace(args) -> "Trace":
    st = state()
    top = st.dynamic
    level = top.level
    for x in args:
        if isinstance(x, Tracer):
            m = x._trace.main
            if not m.alive:
                raise _escaped_error(x)
            if m.level > level:
                top, level = m, m.level
    return top.trace


def full_raise(trace: "Trace", val):
    if not isinstance(val, Tracer):
        return trace.pure(val)
    m = val._trace.main
    if m is trace.main:
        return val
    if not m.alive:
        raise _escaped_error(val)
    if m.level < trace.main.level:
        return trace.lift(val)
    raise UnexpectedTracerError(
        f"A tracer from the inner transformation `{m.name}` leaked into the outer "
        f"transformation `{trace.main.name}`; return traced values instead of storing them."
    )


def full_lower(val):
    if isinstance(val, Tracer):
        return val.full_lower()
    return val


def get_aval(x, where: str = "xform") -> ShapedArray:
    if isinstance(x, Tracer):
        return x.aval
    return concrete_aval(x, where)


class Trace:
    """One interpreter level. Subclasses define pure, lift and process_primitive."""

    __slots__ = ("main",)

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val):
        raise NotImplementedError

    def lift(self, tracer):
        raise NotImplementedError

    def process_primitive(self, primitive, tracers, params):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.main.level})"


def _user_frame() -> str:
    """The innermost stack frame outside xform, as 'function (file:line)'."""
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(pkg + os.sep) and "numpy" not in fn.split(os.sep)[-3:-1]:
            return f"`{f.f_code.co_name}` ({fn}:{f.f_lineno})"
        f = f.f_back
    return "<unknown>"


class Tracer:
    """A boxed value flowing through a transformation; behaves like an array.

    Operators and array methods are attached by ``xform.numpy`` (see
    ``xform/numpy/_methods.py``) so the core stays independent of the numpy layer.
    """

    __slots__ = ("_trace", "__weakref__")
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    def full_lower(self):
        return self

    # -- array-like attributes that need no numpy layer --------------------------
    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return self.aval.ndim

    @property
    def size(self) -> int:
        return self.aval.size

    @property
    def weak_type(self) -> bool:
        return self.aval.weak_type

    def __len__(self) -> int:
        if not self.aval.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.aval.shape[0]))

    # -- conversion to Python values: only possible for concrete tracers ---------
    def _concrete_value(self):
        """The concrete numpy value behind this tracer, or None if it is abstract."""
        return None

    def _concretization_error(self, what: str) -> ConcretizationTypeError:
        return ConcretizationTypeError(
            f"Abstract tracer value encountered where a concrete value is expected: "
            f"{what} of a traced {self.aval.str_short()} inside the "
            f"`{self._trace.main.name}` transformation, in {_user_frame()}. "
            f"Python control flow (if/while/bool/int/float) cannot depend on traced "
            f"values. Use xform.lax.cond / xform.lax.while_loop / xform.numpy.where, "
            f"or mark the argument static with static_argnums."
        )

    def _concrete(self, what: str):
        val = self._concrete_value()
        if val is None:
            raise self._concretization_error(what)
        return val

    def __bool__(self):
        return bool(self._concrete("bool()"))

    def __int__(self):
        return int(self._concrete("int()"))

    def __float__(self):
        return float(self._concrete("float()"))

    def __complex__(self):
        return complex(self._concrete("complex()"))

    def __index__(self):
        return int(self._concrete("an index (__index__)"))

    def __array__(self, dtype=None, copy=None):
        # Always an error, even when the value is concrete: silently converting would
        # drop derivatives / batch dimensions.
        from ._numpy_random import numpy_random_call

        raise TracerArrayConversionError(self, numpy_random_call(sys._getframe(1)))

    def __hash__(self):
        raise TypeError(f"unhashable type: traced array {self.aval.str_short()}")

    def __repr__(self) -> str:
        return f"Traced<{self.aval.str_short()}>with<{type(self._trace).__name__}>"


class TracerArrayConversionError(TypeError):
    def __init__(self, tracer: Tracer, numpy_random: str | None = None):
        if numpy_random is not None:  # e.g. numpy.random.normal(loc=tracer)
            super().__init__(
                f"{numpy_random} was called with a traced {tracer.aval.str_short()} inside "
                f"`{tracer._trace.main.name}` (in {_user_frame()}): numpy's random functions "
                f"cannot be traced (a sample drawn while tracing would be frozen into the "
                f"transformed function). Use xform.random with an explicit key instead, e.g. "
                f"loc + scale * xform.random.normal(key, shape).")
            return
        super().__init__(
            f"A traced {tracer.aval.str_short()} inside `{tracer._trace.main.name}` "
            f"cannot be converted to a concrete numpy array (in {_user_frame()}). "
            f"Use xform.numpy functions instead of numpy functions that have no xform "
            f"version, or compute the value outside the transformation. (Indexing a numpy "
            f"array with a traced index, np_array[i], is such a conversion: use "
            f"xform.numpy.take(np_array, i, axis=0) instead.)"
        )
