"""An IR verifier: ``check_jaxpr`` raises ``JaxprTypeError`` on a malformed program.

Checked, for a jaxpr and (recursively) every jaxpr held in its equations' parameters:

- scoping: every variable an equation or the jaxpr's outputs read is defined before
  (constvars, invars, outputs of earlier equations; literals are always fine); no
  variable is defined twice (invars/constvars included); binders are ``Var``s;
- a ``ClosedJaxpr``'s constants: one per constvar, each of its constvar's shape/dtype;
- literals: scalars whose value agrees with their aval (shape, and dtype for numpy ones);
- types: each equation's primitive's ``abstract_eval`` is re-run on the operands' avals
  with the equation's params, exactly as staging calls it, and must give the results'
  shapes and dtypes (weak types are not compared). A single-result primitive has
  exactly one result;
- held programs: verified in their own scope; for the well-known higher-order
  primitives (call-like ``jit``/``checkpoint``/``custom_*_call``, ``cond``, ``while``,
  ``scan``) their signatures must agree with the equation's operands and results
  (the primitive's ``check_signature`` rule, set next to its definition from the
  rules below: ``call_signature(param)``, ``cond_signature``, ``while_signature``,
  ``scan_signature``).

Skipped (not errors): primitives without ``abstract_eval``; an ``abstract_eval`` that
cannot run on avals alone (it needs concrete values, or fails with anything other than
the ``TypeError``/``ValueError`` that rules raise for bad operands); and exceptions from
the ``abstract_eval`` of a primitive with a custom ``stage`` rule (staging never calls
it, so it is not known to apply; a result it does compute is still compared).

The check is linear in the size of the program (a held program reached several times
is checked once per call) and copies nothing. This module depends only on
``xform.core``, numpy and the standard library.
"""
from __future__ import annotations

import numpy as np

from .. import config

from .abstract import ShapedArray
from .ir import ClosedJaxpr, Jaxpr, Literal, Var, sub_jaxprs
from .trace import ConcretizationTypeError, get_aval

__all__ = ["JaxprTypeError", "check_jaxpr", "check_after", "call_signature", "cond_signature",
           "while_signature", "scan_signature"]


class JaxprTypeError(TypeError):
    """A malformed jaxpr. ``eqn_index``, ``primitive`` (name) and ``eqn`` locate the
    offending equation (None for errors of the jaxpr itself: binders, outputs,
    constants); ``where`` is the path of held programs leading to it."""

    def __init__(self, message: str, *, eqn_index=None, primitive=None, eqn=None, where=""):
        super().__init__(message)
        self.eqn_index = eqn_index
        self.primitive = primitive
        self.eqn = eqn
        self.where = where


def check_jaxpr(jaxpr) -> None:
    """Verify a ``Jaxpr`` or ``ClosedJaxpr`` (see the module docstring); raise
    ``JaxprTypeError`` naming the first problem found."""
    checker = _Checker()
    if isinstance(jaxpr, ClosedJaxpr):
        checker.check(jaxpr.jaxpr, jaxpr.consts, ())
    elif isinstance(jaxpr, Jaxpr):
        checker.check(jaxpr, None, ())
    else:
        raise TypeError(f"check_jaxpr: expected a Jaxpr or ClosedJaxpr, got {type(jaxpr).__name__}")


def check_after(jaxpr, stage: str) -> None:
    """``check_jaxpr`` when ``xform.config.check_jaxprs`` is on (env ``XFORM_CHECK_JAXPR=1``;
    the test suite turns it on): called after tracing and after every compiler pass,
    with ``stage`` naming the pass in the error."""
    if not config.check_jaxprs:
        return
    try:
        check_jaxpr(jaxpr)
    except JaxprTypeError as e:
        raise JaxprTypeError(f"after {stage}: {e}", eqn_index=e.eqn_index, primitive=e.primitive,
                             eqn=e.eqn, where=e.where) from None


# -- signature rules of higher-order primitives ----------------------------------------------
#
# A primitive's ``check_signature`` attribute, set next to its definition in lax (the
# primitives live in higher layers, which core must not import). A rule is called as
# ``rule(eqn, fail)`` after the held programs have been verified; ``fail(message)``
# raises the error for the equation. A rule returns quietly
# when the params do not have the layout it knows (so a renamed param skips the check
# rather than reporting a false error); the generic checks still apply.


def _program(x):
    if isinstance(x, ClosedJaxpr):
        return x.jaxpr
    if isinstance(x, Jaxpr):
        return x
    return None


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _avals(vs) -> list:
    return [v.aval for v in vs]


def _same(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype


def _fmt(avals) -> str:
    return "(" + ", ".join(_short(a) for a in avals) + ")"


def _match(fail, what: str, got, want) -> None:
    if len(got) != len(want):
        fail(f"{what}: {len(got)} values {_fmt(got)}, expected {len(want)} {_fmt(want)}")
    for k, (a, b) in enumerate(zip(got, want)):
        if not _same(a, b):
            both = f" (got {_fmt(got)}, expected {_fmt(want)})" if len(got) > 1 else ""
            fail(f"{what}: value {k} is {_short(a)}, expected {_short(b)}{both}")


def _call_rule(param: str):
    """A call-like primitive: ``outs = params[param](*operands)``."""

    def rule(eqn, fail):
        sub = _program(eqn.params.get(param))
        if sub is None:
            return
        _match(fail, f"the inputs of `{param}` vs the equation's operands",
               _avals(sub.invars), _avals(eqn.invars))
        _match(fail, f"the outputs of `{param}` vs the equation's results",
               _avals(sub.outvars), _avals(eqn.outvars))

    return rule


def _cond_rule(eqn, fail):
    branches = eqn.params.get("branches")
    if not isinstance(branches, (tuple, list)) or not eqn.invars:
        return
    progs = [_program(b) for b in branches]
    if any(p is None for p in progs):
        return
    if not progs:
        fail("cond has no branches")
    idx = eqn.invars[0].aval
    if idx.shape != () or idx.dtype.kind not in "iu":
        fail(f"the branch index must be an integer scalar, got {_short(idx)}")
    ops, outs = _avals(eqn.invars[1:]), _avals(eqn.outvars)
    for k, p in enumerate(progs):
        _match(fail, f"the inputs of branches[{k}] vs the operands", _avals(p.invars), ops)
        _match(fail, f"the outputs of branches[{k}] vs the equation's results",
               _avals(p.outvars), outs)


def _while_rule(eqn, fail):
    p = eqn.params
    cj, bj = _program(p.get("cond_jaxpr")), _program(p.get("body_jaxpr"))
    cn, bn = p.get("cond_nconsts"), p.get("body_nconsts")
    if cj is None or bj is None or not _is_int(cn) or not _is_int(bn):
        return
    ops = _avals(eqn.invars)
    if cn < 0 or bn < 0 or cn + bn > len(ops):
        fail(f"cond_nconsts={cn} and body_nconsts={bn} do not fit {len(ops)} operands")
    cc, bc, carry = ops[:cn], ops[cn:cn + bn], ops[cn + bn:]
    _match(fail, "the inputs of body_jaxpr vs (body consts, carry)", _avals(bj.invars), bc + carry)
    _match(fail, "the body carry: body_jaxpr outputs vs carry inputs", _avals(bj.outvars), carry)
    _match(fail, "the inputs of cond_jaxpr vs (cond consts, carry)", _avals(cj.invars), cc + carry)
    cond_out = _avals(cj.outvars)
    if len(cond_out) != 1 or cond_out[0].shape != () or cond_out[0].dtype != np.bool_:
        fail(f"cond_jaxpr must return one boolean scalar, returns {_fmt(cond_out)}")
    _match(fail, "the equation's results vs the carry", _avals(eqn.outvars), carry)


def _scan_rule(eqn, fail):
    p = eqn.params
    j = _program(p.get("jaxpr"))
    nc, nk, length = p.get("num_consts"), p.get("num_carry"), p.get("length")
    if j is None or not _is_int(nc) or not _is_int(nk) or not _is_int(length):
        return
    ops = _avals(eqn.invars)
    if nc < 0 or nk < 0 or nc + nk > len(ops):
        fail(f"num_consts={nc} and num_carry={nk} do not fit {len(ops)} operands")
    consts, carry, xs = ops[:nc], ops[nc:nc + nk], ops[nc + nk:]
    slices = []
    for k, x in enumerate(xs):
        if x.shape[:1] != (length,):
            fail(f"xs operand {k} is {_short(x)}: its leading axis is not length={length}")
        slices.append(ShapedArray(x.shape[1:], x.dtype))
    _match(fail, "the inputs of the scan body vs (consts, carry, x slices)",
           _avals(j.invars), consts + carry + slices)
    body_out = _avals(j.outvars)
    if len(body_out) < nk:
        fail(f"the scan body returns {len(body_out)} values, fewer than num_carry={nk}")
    _match(fail, "the scan carry: body carry outputs vs carry inputs", body_out[:nk], carry)
    ys = [ShapedArray((length,) + y.shape, y.dtype) for y in body_out[nk:]]
    _match(fail, "the equation's results vs (carry, stacked body ys)", _avals(eqn.outvars), carry + ys)


call_signature = _call_rule
cond_signature = _cond_rule
while_signature = _while_rule
scan_signature = _scan_rule


# -- the checker -------------------------------------------------------------------------------


def _is_aval(a) -> bool:
    return isinstance(a, ShapedArray) or (
        isinstance(getattr(a, "shape", None), tuple) and isinstance(getattr(a, "dtype", None), np.dtype))


def _short(a) -> str:
    s = getattr(a, "str_short", None)
    return s() if callable(s) else repr(a)


class _Checker:
    def __init__(self):
        self.seen: set = set()  # ids of the jaxprs already verified (held programs are shared)

    def check(self, jaxpr: Jaxpr, consts, where: tuple) -> None:
        if id(jaxpr) not in self.seen:
            self.seen.add(id(jaxpr))
            self._scope(jaxpr, where)
        if consts is not None:
            self._consts(jaxpr, consts, where)

    def _consts(self, jaxpr: Jaxpr, consts, where):
        cvs = jaxpr.constvars
        if len(consts) != len(cvs):
            raise self.error(jaxpr, where, None, f"the ClosedJaxpr has {len(consts)} constants "
                             f"for {len(cvs)} constvars")
        for k, (c, v) in enumerate(zip(consts, cvs)):
            try:
                a = get_aval(c, "check_jaxpr")
            except (TypeError, ValueError, OverflowError):
                raise self.error(jaxpr, where, None, f"constant {k} (for constvar "
                                 f"{_var_str(jaxpr, v)}) is a {type(c).__name__}, not an "
                                 f"array value") from None
            if not _same(a, v.aval):
                raise self.error(jaxpr, where, None, f"constant {k} is {_short(a)} but its "
                                 f"constvar is {_var_str(jaxpr, v)}")

    def _scope(self, jaxpr: Jaxpr, where: tuple) -> None:
        defined: set = set()
        add = defined.add
        for kind, vs in (("constvar", jaxpr.constvars), ("input", jaxpr.invars)):
            for k, v in enumerate(vs):
                if not isinstance(v, Var):
                    raise self.error(jaxpr, where, None, f"{kind} {k} is a {type(v).__name__}, "
                                     f"not a Var")
                if v in defined:
                    raise self.error(jaxpr, where, None, f"variable {_var_str(jaxpr, v)} is "
                                     f"defined twice ({kind} {k} is already a constvar or input)")
                if not _is_aval(v.aval):
                    raise self.error(jaxpr, where, None, f"{kind} {k} has no valid aval: "
                                     f"{v.aval!r}")
                add(v)
        for i, eqn in enumerate(jaxpr.eqns):
            for k, v in enumerate(eqn.invars):
                if isinstance(v, Var):
                    if v not in defined:
                        raise self.error(jaxpr, where, i, f"operand {k}, variable "
                                         f"{_var_str(jaxpr, v)}, is used before it is defined")
                elif isinstance(v, Literal):
                    msg = _literal_problem(v)
                    if msg is not None:
                        raise self.error(jaxpr, where, i, f"operand {k}: {msg}")
                else:
                    raise self.error(jaxpr, where, i, f"operand {k} is a {type(v).__name__}, "
                                     f"not a Var or Literal")
            prim = eqn.primitive
            if not getattr(prim, "multiple_results", False) and len(eqn.outvars) != 1:
                raise self.error(jaxpr, where, i, f"`{prim.name}` has a single result, but the "
                                 f"equation defines {len(eqn.outvars)}")
            for k, v in enumerate(eqn.outvars):
                if not isinstance(v, Var):
                    raise self.error(jaxpr, where, i, f"result {k} is a {type(v).__name__}, "
                                     f"not a Var")
                if v in defined:
                    raise self.error(jaxpr, where, i, f"result {k}, variable {_var_str(jaxpr, v)}, "
                                     f"is defined twice (it is already defined before)")
                if not _is_aval(v.aval):
                    raise self.error(jaxpr, where, i, f"result {k} has no valid aval: {v.aval!r}")
            if eqn.params:
                self._held(jaxpr, where, i, eqn)
            self._types(jaxpr, where, i, eqn)
            for v in eqn.outvars:
                if v in defined:  # the same Var twice among this equation's results
                    raise self.error(jaxpr, where, i, f"variable {_var_str(jaxpr, v)} is defined "
                                     f"twice (twice among the equation's results)")
                add(v)
        for k, v in enumerate(jaxpr.outvars):
            if isinstance(v, Var):
                if v not in defined:
                    raise self.error(jaxpr, where, None, f"output {k}, variable "
                                     f"{_var_str(jaxpr, v)}, is not defined")
            elif isinstance(v, Literal):
                msg = _literal_problem(v)
                if msg is not None:
                    raise self.error(jaxpr, where, None, f"output {k}: {msg}")
            else:
                raise self.error(jaxpr, where, None, f"output {k} is a {type(v).__name__}, "
                                 f"not a Var or Literal")

    def _held(self, jaxpr, where, i, eqn):
        """Verify the programs held in the equation's params and their signatures."""
        subs = list(sub_jaxprs(eqn))
        if not subs:
            return
        labels: dict = {}  # id(jaxpr) -> (param label, ClosedJaxpr or None)
        _label_programs(eqn.params, labels)
        name = eqn.primitive.name
        for sub in subs:
            label, closed = labels.get(id(sub), ("<held program>", None))
            self.check(sub, None if closed is None else closed.consts,
                       where + (f"equation {i} (`{name}`), param {label}",))
        rule = eqn.primitive.check_signature
        if rule is not None:
            def fail(msg):
                raise self.error(jaxpr, where, i, msg)

            rule(eqn, fail)

    def _types(self, jaxpr, where, i, eqn):
        """Re-run the primitive's abstract_eval as staging does and compare."""
        prim = eqn.primitive
        rule = getattr(prim, "abstract_eval", None)
        if rule is None:
            return
        try:
            out = rule(*[v.aval for v in eqn.invars], **eqn.params)
        except ConcretizationTypeError:  # needs concrete values: cannot check abstractly
            return
        except (TypeError, ValueError) as e:
            if getattr(prim, "stage", None) is not None:
                return  # staged by its own rule, which need not call abstract_eval
            raise self.error(jaxpr, where, i, f"`{prim.name}`'s abstract_eval rejects the "
                             f"operands {_fmt(_avals(eqn.invars))} with these params: "
                             f"{type(e).__name__}: {e}") from e
        except Exception:  # a rule that cannot run on avals alone: skipped
            return
        if getattr(prim, "multiple_results", False):
            if not isinstance(out, (list, tuple)):
                return
            outs = out
        else:
            outs = (out,)
        if not all(_is_aval(a) for a in outs):
            return
        res = eqn.outvars
        if len(outs) != len(res):
            raise self.error(jaxpr, where, i, f"the equation has {len(res)} results, but "
                             f"`{prim.name}`'s abstract_eval gives {len(outs)}: {_fmt(outs)}")
        for k, (a, v) in enumerate(zip(outs, res)):
            b = v.aval
            if a.shape != b.shape or a.dtype != b.dtype:
                raise self.error(jaxpr, where, i, f"result {k}, {_var_str(jaxpr, v)}, has type "
                                 f"{_short(b)}, but `{prim.name}`'s abstract_eval gives "
                                 f"{_short(a)} for operands {_fmt(_avals(eqn.invars))}")

    @staticmethod
    def error(jaxpr, where, i, msg) -> JaxprTypeError:
        path = " -> ".join(("jaxpr",) + tuple(where))
        if i is None:
            return JaxprTypeError(f"check_jaxpr: {msg}\n  in: {path}", where=path)
        eqn = jaxpr.eqns[i]
        name = getattr(eqn.primitive, "name", repr(eqn.primitive))
        text = _pp_eqn(eqn, _pp_names(jaxpr))
        return JaxprTypeError(
            f"check_jaxpr: equation {i} (`{name}`): {msg}\n  equation: {text}\n  in: {path}",
            eqn_index=i, primitive=name, eqn=eqn, where=path)


def _label_programs(params: dict, out: dict) -> None:
    def visit(label, v):
        if isinstance(v, ClosedJaxpr):
            out.setdefault(id(v.jaxpr), (label, v))
        elif isinstance(v, Jaxpr):
            out.setdefault(id(v), (label, None))
        elif isinstance(v, (tuple, list)):
            for k, x in enumerate(v):
                visit(f"{label}[{k}]", x)

    for key, val in params.items():
        visit(key, val)


def _literal_problem(lit: Literal):
    a = lit.aval
    if not _is_aval(a):
        return f"literal {lit.val!r} has no valid aval: {a!r}"
    val = lit.val
    shape = getattr(val, "shape", ())
    if shape != a.shape:
        return f"literal {val!r} of shape {shape} has aval {_short(a)}"
    dt = getattr(val, "dtype", None)
    if isinstance(dt, np.dtype) and dt != a.dtype:
        return f"literal {val!r} of dtype {dt} has aval {_short(a)}"
    return None


# -- printing (error path only) ---------------------------------------------------------------


def _letters(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


def _pp_names(jaxpr: Jaxpr) -> dict:
    """Var id -> the name ``print(jaxpr)`` gives it (the printer names variables in
    order of first appearance, held programs included)."""
    names: dict = {}

    def see(v):
        if isinstance(v, Var) and v.id not in names:
            names[v.id] = _letters(len(names))

    def param(val):
        if isinstance(val, ClosedJaxpr):
            walk(val.jaxpr)
        elif isinstance(val, Jaxpr):
            walk(val)
        elif isinstance(val, (tuple, list)) and val and all(
                isinstance(x, (ClosedJaxpr, Jaxpr)) for x in val):
            for x in val:
                param(x)

    def walk(j):
        for v in j.constvars:
            see(v)
        for v in j.invars:
            see(v)
        for e in j.eqns:
            for v in e.outvars:
                see(v)
            for _, val in sorted(e.params.items()):
                param(val)
            for v in e.invars:
                see(v)
        for v in j.outvars:
            see(v)

    walk(jaxpr)
    return names


def _var_str(jaxpr: Jaxpr, v) -> str:
    name = _pp_names(jaxpr).get(getattr(v, "id", None), "?")
    return f"{name}:{_short(getattr(v, 'aval', None))}"


def _pp_atom(v, names) -> str:
    if isinstance(v, Literal):
        val = v.val
        return repr(val.item() if isinstance(val, np.generic) else val)
    if isinstance(v, Var):
        return names.get(v.id, f"?{v.id}")
    return f"<{type(v).__name__}>"


def _pp_param(val) -> str:
    p = _program(val)
    if p is not None:
        return f"{{jaxpr {_fmt(_avals(p.invars))} -> {_fmt(_avals(p.outvars))}, {len(p.eqns)} eqns}}"
    if isinstance(val, (tuple, list)) and val and all(_program(x) is not None for x in val):
        return "(" + ", ".join(_pp_param(x) for x in val) + ")"
    if isinstance(val, np.dtype):
        return val.name
    if callable(val) and hasattr(val, "__name__"):
        return val.__name__
    s = repr(val)
    return s if len(s) <= 80 else s[:77] + "..."


def _pp_eqn(eqn, names) -> str:
    outs = " ".join(f"{_pp_atom(v, names)}:{_short(getattr(v, 'aval', None))}" for v in eqn.outvars)
    params = " ".join(f"{k}={_pp_param(v)}" for k, v in sorted(eqn.params.items()))
    name = getattr(eqn.primitive, "name", repr(eqn.primitive))
    head = name + (f"[{params}]" if params else "")
    args = " ".join(_pp_atom(v, names) for v in eqn.invars)
    return f"{outs} = {head} {args}"
