"""Common-subexpression elimination with exact canonical forms (``cse``).

Equations with the same primitive, operands and parameters are merged, after putting
each value in a canonical form so that more of them compare equal:

- **commutative operands sorted**: ``add``/``add_any``/``mul`` (not complex ``mul``),
  comparisons ``eq``/``ne`` and the bitwise ``and``/``or``/``xor``. ``a + b`` and
  ``b + a`` (``a * b``, ``b * a``) are the same IEEE operation: exact. ``add_any`` is
  ``add`` of two equal-typed operands and shares its key.
- **signs kept aside** (real floating and signed integer values): a value is
  ``(negated, base)``. ``neg`` only flips the flag (no equation until a reader needs
  the negated value), and the flag passes through the operations whose rounding is
  symmetric in the sign (IEEE round-to-nearest is: ``round(-x) == -round(x)``):

  ======================  =========================  =================================
  operation               becomes                    exact?
  ======================  =========================  =================================
  ``(-a) * b``            ``-(a * b)``               yes: symmetric rounding
  ``(-a) * (-b)``         ``a * b``                  yes
  ``(-a) / b`` (float)    ``-(a / b)``               yes
  ``square(-a)``          ``square(a)``              yes; ``integer_pow`` by its parity
  ``abs(-a)``             ``abs(a)``                 yes
  ``a + (-b)``            ``a - b``                  yes: IEEE defines ``a - b`` so
  ``(-a) + b``            ``b - a``                  yes: ``+`` commutes
  ``a - (-b)``            ``a + b``                  yes
  ``(-a) - (-b)``         ``b - a``                  yes
  ``(-a) + (-b)``,        ``-(a + b)``               integers only: for floats an exact
  ``(-a) - b``                                       zero sum (``a == -b``) is ``+0.0``,
                                                     the rewrite's ``-0.0``; floats keep
                                                     the negations
  ``c * a``, literal      ``-(|c| * a)``             yes
  ``c < 0``
  ``1 * a``, ``-1 * a``   ``a``, ``-a``              yes (the result has ``a``'s type)
  ``a + a``, ``-a - a``   ``2 * a``, ``-(2 * a)``    yes: doubling is exact (both
                                                     overflow to inf alike)
  reshape / transpose /   ``-(op a)``                yes: they only move values
  broadcast / squeeze /
  expand_dims / rev /
  slice of ``-a``
  ======================  =========================  =================================

  Signed integers: the same identities hold in wrapping arithmetic (``/`` excluded: it
  truncates), without signed zeros. Complex values are left alone (a complex product
  is a sum of products: ``(-a) * b`` and ``-(a * b)`` differ in the signs of zero
  parts). Only the sign bit of a NaN may differ, which numpy leaves unspecified.
- **weak-type-only conversions** (``convert_element_type`` to the operand's own dtype,
  changing only ``weak_type``) are their operand for the equations that read them.

A rewrite that leaves its result negated pays when a reader absorbs the sign, and
costs a ``neg`` when the result must be emitted negated while ``-a`` is emitted for
another reader anyway; ``cse`` walks the program again without the rewrites that cost
(see ``cse``), so it never makes a program longer.

Equations with side effects (``Primitive.effectful``) are never merged. A walk is
linear in the program.
"""
from __future__ import annotations

import numpy as np

from ...core.ir import Eqn, Jaxpr, Literal, Var
from ...interpreters.transforms import has_effects
from ...lax import elementwise as ew
from ...lax import structural as st

# Binary primitives whose operands commute exactly (for the dtype kinds allowed).
_COMMUTATIVE = {ew.add_p: "biufc", ew.add_any_p: "biufc", ew.mul_p: "biuf",
                ew.eq_p: "biufc", ew.ne_p: "biufc", ew.and_p: "biu", ew.or_p: "biu",
                ew.xor_p: "biu"}
# Keyed as the same operation (same numpy function on equal-typed operands).
_SAME_AS = {ew.add_any_p: ew.add_p}
# Unary primitives that only move values: ``op(-a) == -op(a)``.
_MOVES = frozenset({st.reshape_p, st.transpose_p, st.broadcast_in_dim_p, st.squeeze_p,
                    st.expand_dims_p, st.rev_p, st.slice_p})
# Dtype kinds whose negation flag is tracked: floats, and signed integers (wrapping).
_SIGNED_KINDS = "fi"


def _freeze(v):
    """A hashable stand-in for a parameter value (by identity for unhashable objects)."""
    if isinstance(v, (list, tuple)):
        return (type(v).__name__,) + tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return ("dict",) + tuple((k, _freeze(x)) for k, x in sorted(v.items()))
    if isinstance(v, np.ndarray):
        return ("arr", id(v))
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    if isinstance(v, float) and v != v:
        return ("nan",)
    if isinstance(v, float):
        return ("f", v, np.copysign(1.0, v))
    return v


def _lit_key(lit: Literal):
    # (not the weak type: after tracing it no longer changes any value's type)
    a = np.asarray(lit.val, dtype=lit.aval.dtype)
    return ("lit", a.dtype.str, a.tobytes())


def _operand_key(x):
    return _lit_key(x) if type(x) is Literal else ("v", x.id)


def _lit_sign(x):
    """For a real literal: ``(negative, |x| as a Literal)``; None if not applicable
    (NaN, complex, unsigned, non-scalar)."""
    if type(x) is not Literal:
        return None
    v = np.asarray(x.val, dtype=x.aval.dtype)
    if v.shape != () or v.dtype.kind not in _SIGNED_KINDS or v != v:
        return None
    neg = bool(np.signbit(v)) if v.dtype.kind == "f" else bool(v < 0)
    if not neg:
        return False, x
    if v.dtype.kind == "i" and v == np.iinfo(v.dtype).min:
        return None  # |INT_MIN| does not exist
    return True, Literal((-v)[()], x.aval)


def _is_one(x) -> bool:
    if type(x) is not Literal:
        return False
    v = np.asarray(x.val)
    return v.shape == () and v.dtype.kind in "biuf" and bool(v == 1)


def _same_type(a, b) -> bool:
    return a.aval.shape == b.aval.shape and a.aval.dtype == b.aval.dtype


class _Numbering:
    """State of one walk: canonical values, the equation table, emitted equations."""

    def __init__(self, jaxpr: Jaxpr, forbidden, canonical: bool = True, signs: bool = True):
        self.canonical, self.signs = canonical, canonical and signs
        self.forbidden = forbidden  # ids of outputs whose negated-result rewrite costs
        self.sites: dict = {}  # out id -> (result base, negated operands consumed)
        self.env: dict = {}  # var id -> (negated, base) of the original variable
        self.seen: dict = {}  # key -> outvars of the equation computing it
        self.negs: dict = {}  # base id -> var holding -base (emitted)
        self.weak: dict = {}  # var id -> its weak-type-only convert_element_type equation
        self.defined: set = set()  # filled by `finish` (only outputs need it)
        self.eqns: list = []
        self.changed = False
        self.finishing = False
        self.jaxpr = jaxpr

    def finish(self):
        """Start on the outputs: from here on ``defined`` is kept."""
        j = self.jaxpr
        self.defined = {v.id for v in (*j.constvars, *j.invars)}
        self.defined.update(o.id for e in self.eqns for o in e.outvars)
        self.finishing = True

    def value(self, x):
        if type(x) is Literal:
            return False, x
        return self.env.get(x.id, (False, x))

    def plain(self, x, hint=None):
        """The operand ``x`` as one variable (its negation emitted if needed; ``hint``:
        the variable to define it in, if still undefined)."""
        neg, base = self.value(x)
        if not neg:
            return base
        have = self.negs.get(base.id)
        if have is None:
            have = hint if hint is not None and hint.id not in self.defined else Var(base.aval)
            self.append(Eqn(ew.neg_p, [base], [have], {}))
            self.negs[base.id] = have
        return have

    def append(self, eqn):
        self.eqns.append(eqn)
        if self.finishing:
            self.defined.update(o.id for o in eqn.outvars)

    def emit(self, prim, ins, outvars, params, commutative=False):
        """``outvars = prim(*ins)`` unless an equal equation exists; returns the
        variables holding the result."""
        ops = [_operand_key(x) for x in ins]
        if commutative:
            ops.sort()
        try:
            key = (_SAME_AS.get(prim, prim), tuple(ops), _freeze(params),
                   tuple((o.aval.shape, o.aval.dtype) for o in outvars))
            hash(key)
        except Exception:
            key = None
        prev = self.seen.get(key) if key is not None else None
        if prev is not None and all(_same_type(a, b) for a, b in zip(prev, outvars)):
            self.changed = True
            return prev
        self.append(Eqn(prim, ins, outvars, params))
        if key is not None:
            self.seen[key] = outvars
        return outvars

    def emit1(self, prim, ins, out, params=None, commutative=False):
        """A fresh single-result equation of ``out``'s type; returns its result."""
        return self.emit(prim, ins, [Var(out.aval)], params or {}, commutative)[0]

    def bind(self, out, neg, base):
        """``out`` is ``-base`` (neg) or ``base``: nothing is emitted for it."""
        self.env[out.id] = (neg, base)


def _signed(aval) -> bool:
    return aval.dtype.kind in _SIGNED_KINDS


def _commutes(p, ins, out) -> bool:
    return (p in _COMMUTATIVE and len(ins) == 2
            and ins[0].aval.dtype.kind in _COMMUTATIVE[p]
            and all(x.aval.shape == out.aval.shape for x in ins))


# Walks of one ``cse`` call at most: each one forbids the negated results that cost a
# ``neg`` in the previous one (see ``cse``).
_MAX_WALKS = 3


def cse(jaxpr: Jaxpr, canonical: bool = True) -> tuple[Jaxpr, bool]:
    """Merge equal equations of ``jaxpr`` after canonicalization (module docstring;
    ``canonical=False``: equal as written only). Returns the new jaxpr and whether
    anything changed.

    A rewrite that leaves its result negated (``(-a) * b -> -(a * b)``) pays when a
    reader absorbs the sign (``c + -(a * b) -> c - a * b``); it costs one ``neg`` when
    the negated result must be emitted while ``-a`` is emitted for another reader
    anyway. Such rewrites are forbidden and the program walked again (at most
    ``_MAX_WALKS`` times); if the result is still longer than the input, it is walked
    once more without sign rewrites. So ``cse`` never lengthens a program."""
    if not canonical:
        return _walk(jaxpr, False, frozenset())
    forbidden: set = set()
    for _ in range(_MAX_WALKS):
        s = _Numbering(jaxpr, forbidden)
        out = _walk_with(s, jaxpr)
        costly = {site for site, (r, ops) in s.sites.items()
                  if r.id in s.negs and (not ops or any(b.id in s.negs for b in ops))}
        if not costly:
            break
        forbidden |= costly
    if len(out[0].eqns) > len(jaxpr.eqns):
        s = _Numbering(jaxpr, forbidden, signs=False)
        out = _walk_with(s, jaxpr)
    # (a rewrite that only moves a negation is no reason for another optimization round)
    return out[0], out[1] or len(out[0].eqns) != len(jaxpr.eqns)


def _walk(jaxpr: Jaxpr, canonical: bool, forbidden) -> tuple[Jaxpr, bool]:
    return _walk_with(_Numbering(jaxpr, forbidden, canonical=canonical), jaxpr)


def _walk_with(s: "_Numbering", jaxpr: Jaxpr) -> tuple[Jaxpr, bool]:
    for e in jaxpr.eqns:
        p, outs = e.primitive, e.outvars
        if has_effects(e):  # two debug.print calls print twice
            s.append(Eqn(p, [s.plain(x) for x in e.invars], outs, e.params))
            continue
        out = outs[0] if len(outs) == 1 and not p.multiple_results else None
        if not s.canonical:
            res = s.emit(p, [s.plain(x) for x in e.invars], outs, e.params)
            for o, r in zip(outs, res if res is not outs else ()):
                s.bind(o, False, r)
            continue
        if s.signs and out is not None and _signed(out.aval):
            if _rewrite(s, p, e.invars, out, e.params):
                continue
        if p is ew.convert_element_type_p and out is not None and type(e.invars[0]) is Var \
                and _same_type(e.invars[0], out):
            # only the weak type changes: readers get the operand (outputs keep it, below)
            s.bind(out, *s.value(e.invars[0]))
            s.weak[out.id] = e
            continue
        comm = out is not None and _commutes(p, e.invars, out)
        res = s.emit(p, [s.plain(x) for x in e.invars], outs, e.params, commutative=comm)
        if res is not outs:
            for o, r in zip(outs, res):
                s.bind(o, False, r)
    outvars = []
    s.finish()
    for v in jaxpr.outvars:
        if type(v) is Literal:
            outvars.append(v)
        elif v.id in s.weak and v.id not in s.defined:
            # a program output keeps its declared weak type: the conversion stays
            e = s.weak[v.id]
            s.append(Eqn(e.primitive, [s.plain(e.invars[0])], [v], e.params))
            outvars.append(v)
        else:
            outvars.append(s.plain(v, hint=v))
    return Jaxpr(jaxpr.constvars, jaxpr.invars, outvars, s.eqns), s.changed


def _rewrite(s: _Numbering, p, ins, out, params):
    """The sign-aware rewrites of the table in the module docstring. Returns None to
    leave the equation to the generic path, else True (``out`` is then bound to a
    canonical value). A rewrite leaving its result negated is a "site" (``s.sites``)
    unless ``cse`` forbade it (``s.forbidden``)."""
    if p is ew.neg_p:
        neg, base = s.value(ins[0])
        if type(base) is Literal:
            return None
        s.bind(out, not neg, base)  # deferred to its first reader
        return True

    def negated_result(prim, operands, consumed, commutative=False):
        if out.id in s.forbidden:
            return None
        r = s.emit1(prim, operands, out, params if prim is p else None, commutative)
        s.sites[out.id] = (r, consumed)
        s.bind(out, True, r)
        return True

    if len(ins) == 1:
        neg, base = s.value(ins[0])
        if not neg:
            return None
        if (p is ew.square_p or p is ew.abs_p) and _same_type(base, out):
            s.bind(out, False, s.emit1(p, [base], out, params))
        elif p is ew.integer_pow_p and int(params["y"]) % 2 == 0:
            s.bind(out, False, s.emit1(p, [base], out, params))
        elif p in _MOVES or p is ew.integer_pow_p:
            return negated_result(p, [base], [base])
        else:
            return None
        return True
    if len(ins) != 2 or any(x.aval.dtype != out.aval.dtype for x in ins):
        return None
    (nx, bx), (ny, by) = s.value(ins[0]), s.value(ins[1])
    if p is ew.mul_p or (p is ew.div_p and out.aval.dtype.kind == "f"):
        consumed = [b for n, b in ((nx, bx), (ny, by)) if n]
        lx, ly = _lit_sign(bx), _lit_sign(by)
        if lx is not None and lx[0]:
            nx, bx = not nx, lx[1]
        if ly is not None and ly[0]:
            ny, by = not ny, ly[1]
        if p is ew.mul_p:
            for one, other in ((bx, by), (by, bx)):
                if _is_one(one) and type(other) is Var and _same_type(other, out):
                    s.bind(out, nx != ny, other)  # +-1 * x: no product (the mul's place)
                    return True
        if not (nx or ny):
            return None
        comm = p is ew.mul_p and bx.aval.shape == by.aval.shape == out.aval.shape
        if nx != ny:
            return negated_result(p, [bx, by], consumed, comm)
        s.bind(out, False, s.emit1(p, [bx, by], out, params, commutative=comm))
        return True
    if p not in (ew.add_p, ew.add_any_p, ew.sub_p):
        return None
    same_shape = bx.aval.shape == by.aval.shape == out.aval.shape
    twice = type(bx) is Var and type(by) is Var and bx.id == by.id and same_shape
    two = Literal(np.asarray(2, out.aval.dtype)[()], bx.aval.update(shape=(), weak_type=True))
    y_negated = ny
    if p is ew.sub_p:
        ny = not ny  # x - y is x + (-y) (IEEE's definition)
    # out = (+-bx) + (+-by)
    if not nx and not ny:
        if twice:
            s.bind(out, False, s.emit1(ew.mul_p, [two, bx], out))  # a + a == 2a exactly
        elif p is ew.sub_p:  # a - (-b)
            s.bind(out, False, s.emit1(ew.add_p, [bx, by], out, commutative=same_shape))
        else:
            return None  # a plain add: the generic path
    elif not nx and ny:
        if p is ew.sub_p and not y_negated:
            return None  # a plain sub
        s.bind(out, False, s.emit1(ew.sub_p, [bx, by], out))
    elif nx and not ny:
        s.bind(out, False, s.emit1(ew.sub_p, [by, bx], out))
    elif twice:
        return negated_result(ew.mul_p, [two, bx], [bx])  # -a - a == -(2a) exactly
    else:
        # (-a) + (-b) -> -(a + b): exact for integers (no signed zero); for floats not
        # when the sum is an exact zero (a == -b gives +0.0 on the left, -0.0 on the
        # right), so floats keep the sum of the negations
        if out.aval.dtype.kind == "f":
            return None
        consumed = [bx] + ([by] if y_negated else [])
        return negated_result(ew.add_p, [bx, by], consumed, same_shape)
    return True
