"""The IR verifier (xform.core.check.check_jaxpr): real programs verify cleanly, and
corrupted copies of them are rejected with an error naming the offending equation.

Corruptions are built from new Eqn/Jaxpr/ClosedJaxpr objects only: the programs held
by traced jaxprs can be shared with jit's and the transformations' caches."""
import sys

import numpy as np
import pytest

import xform
import xform.numpy as xnp
from xform import lax
from xform.core.abstract import ShapedArray
from xform.core.check import JaxprTypeError, check_jaxpr
from xform.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from xform.core.primitive import Primitive

F64 = np.dtype(np.float64)
F32 = np.dtype(np.float32)
X3 = np.linspace(0.1, 0.9, 3)


# -- helpers -----------------------------------------------------------------------------------


def _prim(name: str) -> Primitive:
    """A primitive of xform by name (found wherever the refactored package defines it)."""
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith("xform") or mod is None:
            continue
        p = getattr(mod, f"{name}_p", None)
        if isinstance(p, Primitive) and p.name == name:
            return p
    raise LookupError(name)


def find(closed, name: str):
    """(index, eqn) of the first top-level equation of primitive ``name``."""
    for i, e in enumerate(closed.jaxpr.eqns):
        if e.primitive.name == name:
            return i, e
    raise AssertionError(f"no `{name}` equation in\n{closed}")


def with_eqn(closed: ClosedJaxpr, i: int, eqn: Eqn, outvars=None) -> ClosedJaxpr:
    """A new ClosedJaxpr with equation ``i`` replaced."""
    j = closed.jaxpr
    eqns = list(j.eqns)
    eqns[i] = eqn
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars if outvars is None else outvars, eqns),
                       closed.consts)


def with_params(eqn: Eqn, **params) -> Eqn:
    return Eqn(eqn.primitive, eqn.invars, eqn.outvars, {**eqn.params, **params})


def retyped_tail(closed: ClosedJaxpr, aval: ShapedArray) -> ClosedJaxpr:
    """The last equation's (single) result replaced by a new variable of type ``aval``,
    which the program then returns."""
    j = closed.jaxpr
    last = j.eqns[-1]
    v = Var(aval)
    outvars = [v if o is last.outvars[0] else o for o in j.outvars]
    return with_eqn(closed, len(j.eqns) - 1, Eqn(last.primitive, last.invars, [v], last.params), outvars)


def rejects(closed, *fragments, eqn_index="any", primitive=None) -> JaxprTypeError:
    with pytest.raises(JaxprTypeError) as info:
        check_jaxpr(closed)
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in the message:\n{msg}"
    if eqn_index != "any":
        assert info.value.eqn_index == eqn_index, msg
    if primitive is not None:
        assert info.value.primitive == primitive, msg
    return info.value


# -- real programs verify ----------------------------------------------------------------------


def _cond_prog(x):
    return lax.cond(xnp.sum(x) > 0.0, lambda y: xnp.sin(y) * 2.0, lambda y: -y, x)


def _while_prog(x):
    return lax.while_loop(lambda c: xnp.sum(c) < 10.0, lambda c: c * 2.0 + 1.0, x)


def _scan_prog(x):
    def body(c, xi):
        return c * xi + 1.0, xnp.sin(c) * xi

    c, ys = lax.scan(body, x[0], x)
    return c + xnp.sum(ys)


def _fori_static(x):
    return lax.fori_loop(0, 4, lambda i, c: c * 1.5 + xnp.cos(c), x)


def _fori_dynamic(x, n):
    return lax.fori_loop(0, n, lambda i, c: c * 1.5, x)


@xform.custom_jvp
def _cj(x):
    return xnp.sin(x)


@_cj.defjvp
def _cj_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _cj(x), xnp.cos(x) * t


@xform.custom_vjp
def _cv(x):
    return xnp.tanh(x)


def _cv_fwd(x):
    y = xnp.tanh(x)
    return y, (y,)


def _cv_bwd(res, g):
    (y,) = res
    return ((1.0 - y * y) * g,)


_cv.defvjp(_cv_fwd, _cv_bwd)

_CONST = np.arange(6.0).reshape(2, 3)

PROGRAMS = {
    "elementwise": (lambda x: xnp.exp(xnp.sin(x) * 2.0 - x / 3.0) ** 2, (X3,)),
    "mixed_dtypes": (lambda x, i: x * i + xnp.float32(1.0), (X3.astype(np.float32), np.arange(3))),
    "reductions": (lambda x: xnp.sum(x) + xnp.max(x) * xnp.mean(x ** 2), (X3,)),
    "dot": (lambda a, b: xnp.dot(a, b) @ b.T, (np.ones((2, 3)), np.ones((4, 3)).T)),
    "indexing": (lambda x: x[1:] * x[::-1][:2] + x[np.array([0, 2])].sum(), (X3,)),
    "closure_const": (lambda x: _CONST @ x + x[0], (X3,)),
    "cond": (_cond_prog, (X3,)),
    "while": (_while_prog, (X3,)),
    "scan": (_scan_prog, (X3,)),
    "fori_static": (_fori_static, (X3,)),
    "fori_dynamic": (_fori_dynamic, (X3, 3)),
    "grad": (xform.grad(lambda x: xnp.sum(xnp.tanh(x) ** 2)), (X3,)),
    "grad_cond_scan": (xform.grad(lambda x: xnp.sum(_cond_prog(x)) + _scan_prog(x)
                                  + xnp.sum(_fori_static(x))), (X3,)),
    "vmap": (xform.vmap(lambda x: xnp.dot(x, x) + _cond_prog(x)), (np.ones((4, 3)),)),
    "vmap_while": (xform.vmap(_while_prog), (np.ones((2, 3)),)),
    "jvp": (lambda x, t: xform.jvp(lambda y: _while_prog(y) * _scan_prog(y), (x,), (t,)), (X3, X3)),
    "custom_jvp": (xform.grad(lambda x: xnp.sum(_cj(x) * x)), (X3,)),
    "custom_jvp_plain": (lambda x: _cj(x) + 1.0, (X3,)),
    "custom_vjp": (xform.grad(lambda x: xnp.sum(_cv(x) ** 2)), (X3,)),
    "checkpoint": (xform.grad(lambda x: xnp.sum(xform.checkpoint(lambda y: xnp.sin(xnp.sin(y)))(x))), (X3,)),
    "checkpoint_plain": (xform.checkpoint(lambda y: xnp.sin(y) * y), (X3,)),
    "nested_jit": (xform.jit(lambda x: xform.jit(lambda y: xnp.sin(y) * 2.0)(x) + 1.0), (X3,)),
    "grad_of_jit": (xform.grad(xform.jit(lambda x: xnp.sum(_scan_prog(x) * x))), (X3,)),
    "hessian": (xform.hessian(lambda x: xnp.sum(xnp.sin(x) * x[0])), (X3,)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_real_programs_verify(name):
    f, args = PROGRAMS[name]
    closed = xform.make_jaxpr(f)(*args)
    assert isinstance(closed, ClosedJaxpr)
    check_jaxpr(closed)
    check_jaxpr(closed.jaxpr)  # a bare Jaxpr too


def test_float0_tangents_verify():
    closed = xform.make_jaxpr(lambda x, i, t, ti: xform.jvp(lambda a, b: a * b, (x, i), (t, ti)))(
        X3, np.arange(3), X3, np.zeros(3, xform.float0))
    check_jaxpr(closed)


def test_the_optimized_program_of_jit_verifies():
    f = xform.jit(lambda x: _cond_prog(x) + _fori_static(x) * _scan_prog(x))
    check_jaxpr(f.lower(X3).jaxpr)


def test_a_program_closing_over_an_outer_tracer_verifies():
    # make_jaxpr under grad: the closed-over tracer stays a constant (a tracer const)
    def outer(x):
        closed = xform.make_jaxpr(lambda y: y * x)(1.0)
        check_jaxpr(closed)
        return x * 2.0

    xform.grad(outer)(1.5)


def test_literal_outputs_and_input_outputs_verify():
    check_jaxpr(xform.make_jaxpr(lambda x, y: (x, 2.0, y))(X3, 1.0))


def test_weak_type_differences_are_ignored():
    closed = xform.make_jaxpr(lambda x: x * 2.0)(1.0)
    out = closed.jaxpr.eqns[-1].outvars[0].aval
    check_jaxpr(retyped_tail(closed, ShapedArray(out.shape, out.dtype, not out.weak_type)))


def test_rejects_what_is_not_a_jaxpr():
    with pytest.raises(TypeError, match="expected a Jaxpr or ClosedJaxpr"):
        check_jaxpr(lambda x: x)


# -- scoping -------------------------------------------------------------------------------------


def test_undefined_variable():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(X3)
    i, mul = find(closed, "mul")
    ghost = Var(ShapedArray((3,), F64))
    bad = with_eqn(closed, i, Eqn(mul.primitive, [ghost, mul.invars[1]], mul.outvars, mul.params))
    err = rejects(bad, "equation 1 (`mul`)", "used before it is defined", "= mul ",
                  eqn_index=1, primitive="mul")
    assert err.eqn.primitive.name == "mul"
    check_jaxpr(closed)  # the original is untouched


def test_use_before_definition():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(X3)
    j = closed.jaxpr
    swapped = ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars, j.eqns[::-1]), closed.consts)
    rejects(swapped, "equation 0 (`mul`)", "used before it is defined", eqn_index=0)


def test_variable_defined_twice_by_equations():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(X3)
    j = closed.jaxpr
    twice = ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars, list(j.eqns) + [j.eqns[-1]]), [])
    rejects(twice, f"equation {len(j.eqns)} (`mul`)", "defined twice", eqn_index=len(j.eqns))


def test_variable_defined_twice_by_binders():
    closed = xform.make_jaxpr(lambda x, y: x * y)(X3, X3)
    j = closed.jaxpr
    a = j.invars[0]
    rejects(ClosedJaxpr(Jaxpr([], [a, a], j.outvars, j.eqns), []), "defined twice", eqn_index=None)
    rejects(Jaxpr([a], [a, j.invars[1]], j.outvars, j.eqns), "defined twice")
    e = j.eqns[0]
    rejects(Jaxpr([], j.invars, j.outvars, [Eqn(e.primitive, e.invars, [a], e.params)]),
            "defined twice", eqn_index=0)


def test_undefined_output():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x))(X3)
    j = closed.jaxpr
    rejects(Jaxpr([], j.invars, [Var(ShapedArray((3,), F64))], j.eqns), "output 0", "is not defined")
    rejects(Jaxpr([], j.invars, j.outvars, []), "output 0", "is not defined")  # its equation dropped


def test_binders_must_be_vars():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x))(X3)
    j = closed.jaxpr
    lit = Literal(1.0, ShapedArray((), F64, True))
    rejects(Jaxpr([], [lit], [], []), "input 0 is a Literal")
    e = j.eqns[0]
    rejects(Jaxpr([], j.invars, [], [Eqn(e.primitive, e.invars, [lit], e.params)]),
            "result 0 is a Literal", eqn_index=0)


def test_single_result_primitive_with_two_results():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x))(X3)
    (e,) = closed.jaxpr.eqns
    extra = Var(ShapedArray((3,), F64))
    rejects(with_eqn(closed, 0, Eqn(e.primitive, e.invars, [e.outvars[0], extra], e.params)),
            "`sin` has a single result", eqn_index=0)


def test_bad_literal():
    closed = xform.make_jaxpr(lambda x: x * 2.0)(X3)
    i, e = find(closed, "mul")
    lit = Literal(np.float32(2.0), ShapedArray((), F64))
    rejects(with_eqn(closed, i, Eqn(e.primitive, [e.invars[0], lit], e.outvars, e.params)),
            "literal", "dtype float32", eqn_index=i)


# -- constants ---------------------------------------------------------------------------------


def test_constants():
    closed = xform.make_jaxpr(lambda x: _CONST @ x)(X3)
    assert len(closed.jaxpr.constvars) == 1
    check_jaxpr(closed)
    rejects(ClosedJaxpr(closed.jaxpr, []), "0 constants for 1 constvars")
    rejects(ClosedJaxpr(closed.jaxpr, [np.zeros((3, 2))]), "constant 0 is f64[3,2]", "f64[2,3]")
    rejects(ClosedJaxpr(closed.jaxpr, [_CONST.astype(np.float32)]), "constant 0 is f32[2,3]")
    rejects(ClosedJaxpr(closed.jaxpr, ["a string"]), "constant 0", "not an array value")


def test_constants_of_held_programs_are_checked():
    closed = xform.make_jaxpr(lambda x: lax.cond(x[0] > 0.0, lambda y: _CONST @ y, lambda y: y[:2], x))(X3)
    i, e = find(closed, "cond")
    b0, b1 = e.params["branches"]
    assert b0.jaxpr.constvars or b1.jaxpr.constvars
    held = b0 if b0.jaxpr.constvars else b1
    dropped = ClosedJaxpr(held.jaxpr, [])
    branches = tuple(dropped if b is held else b for b in (b0, b1))
    rejects(with_eqn(closed, i, with_params(e, branches=branches)), "0 constants for 1 constvars",
            "param branches[")


# -- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize("aval", [ShapedArray((4,), F64), ShapedArray((3,), F32), ShapedArray((), F64)])
def test_result_type_differs_from_abstract_eval(aval):
    closed = xform.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(X3)
    bad = retyped_tail(closed, aval)
    rejects(bad, "equation 1 (`mul`)", f"has type {aval.str_short()}", "abstract_eval gives f64[3]",
            eqn_index=1, primitive="mul")


def test_operand_types_rejected_by_abstract_eval():
    closed = xform.make_jaxpr(lambda x, y: xnp.sin(x) + y)(X3, X3)
    i, add = find(closed, "add")
    y4 = Var(ShapedArray((4,), F64))
    j = closed.jaxpr
    bad = Jaxpr([], [j.invars[0], y4], j.outvars,
                [e if e is not add else Eqn(add.primitive, [add.invars[0], y4], add.outvars, add.params)
                 for e in j.eqns])
    rejects(bad, f"equation {i} (`add`)", "abstract_eval rejects the operands (f64[3], f64[4])",
            "cannot be broadcast", eqn_index=i)


def test_wrong_params_are_rejected():
    closed = xform.make_jaxpr(lambda x: xnp.reshape(x, (3, 1)))(X3)
    i, e = find(closed, "reshape")
    rejects(with_eqn(closed, i, with_params(e, new_sizes=(1, 3))), "(`reshape`)", "f64[3,1]",
            "abstract_eval gives f64[1,3]", eqn_index=i)


def test_multiple_results_count():
    closed = xform.make_jaxpr(_scan_prog)(X3)
    i, e = find(closed, "scan")
    rejects(with_eqn(closed, i, Eqn(e.primitive, e.invars, e.outvars[:1], e.params)),
            f"equation {i} (`scan`)", eqn_index=i)


def test_rules_that_cannot_run_are_skipped():
    a3 = ShapedArray((3,), F64)
    x, y = Var(a3), Var(ShapedArray((7,), F32))

    no_rule = Primitive("test_no_rule")
    check_jaxpr(Jaxpr([], [x], [y], [Eqn(no_rule, [x], [y], {})]))

    odd = Primitive("test_odd_rule")

    def needs_values(*avals):
        raise NotImplementedError("needs concrete values")

    odd.abstract_eval = needs_values
    check_jaxpr(Jaxpr([], [x], [y], [Eqn(odd, [x], [y], {})]))

    picky = Primitive("test_picky")

    def picky_rule(a):
        raise TypeError("picky: bad operand")

    picky.abstract_eval = picky_rule
    rejects(Jaxpr([], [x], [y], [Eqn(picky, [x], [y], {})]), "picky: bad operand", eqn_index=0)
    # a primitive with a custom staging rule: staging never calls its abstract_eval
    picky.stage = lambda trace, tracers, params: None
    check_jaxpr(Jaxpr([], [x], [y], [Eqn(picky, [x], [y], {})]))


def test_held_programs_are_checked_once():
    calls = []
    counted = Primitive("test_counted")

    def rule(a):
        calls.append(1)
        return a

    counted.abstract_eval = rule
    a3 = ShapedArray((3,), F64)
    u, w = Var(a3), Var(a3)
    body = ClosedJaxpr(Jaxpr([], [u], [w], [Eqn(counted, [u], [w], {})]), [])
    jit_p = _prim("jit")
    x = Var(a3)
    cur, eqns = x, []
    for _ in range(50):
        nxt = Var(a3)
        eqns.append(Eqn(jit_p, [cur], [nxt], dict(jaxpr=body, name="body")))
        cur = nxt
    check_jaxpr(ClosedJaxpr(Jaxpr([], [x], [cur], eqns), []))
    assert len(calls) == 1


# -- held programs -------------------------------------------------------------------------------


def test_call_signature():
    a3, a4 = ShapedArray((3,), F64), ShapedArray((4,), F64)
    inner = xform.make_jaxpr(lambda y: xnp.sin(y))(X3)
    jit_p = _prim("jit")
    x, out = Var(a3), Var(a3)
    good = Jaxpr([], [x], [out], [Eqn(jit_p, [x], [out], dict(jaxpr=inner, name="f"))])
    check_jaxpr(good)
    x4, out4 = Var(a4), Var(a4)
    rejects(Jaxpr([], [x4], [out], [Eqn(jit_p, [x4], [out], dict(jaxpr=inner, name="f"))]),
            "equation 0 (`jit`)", "inputs of `jaxpr`", eqn_index=0, primitive="jit")
    rejects(Jaxpr([], [x], [out4], [Eqn(jit_p, [x], [out4], dict(jaxpr=inner, name="f"))]),
            "equation 0 (`jit`)", "outputs of `jaxpr`", eqn_index=0)


def test_call_like_primitives_from_real_programs():
    for name, prog, param in [("checkpoint", PROGRAMS["checkpoint_plain"], "jaxpr"),
                              ("custom_jvp_call", PROGRAMS["custom_jvp_plain"], "call_jaxpr")]:
        f, args = prog
        closed = xform.make_jaxpr(f)(*args)
        i, e = find(closed, name)
        other = xform.make_jaxpr(lambda y: y[:2])(X3)  # same input, other output type
        rejects(with_eqn(closed, i, with_params(e, **{param: other})), f"equation {i} (`{name}`)",
                f"outputs of `{param}`", eqn_index=i)


def test_cond_branch_output_type():
    closed = xform.make_jaxpr(_cond_prog)(X3)
    i, e = find(closed, "cond")
    b0, b1 = e.params["branches"]
    f32_branch = xform.make_jaxpr(lambda y: lax.convert_element_type(-y, np.float32))(X3)
    # the second branch (whose types abstract_eval does not read)
    rejects(with_eqn(closed, i, with_params(e, branches=(b0, f32_branch))),
            f"equation {i} (`cond`)", "outputs of branches[1]", "f32[3]", eqn_index=i, primitive="cond")
    rejects(with_eqn(closed, i, with_params(e, branches=(f32_branch, b1))), "outputs of branches[0]")
    short = xform.make_jaxpr(lambda y: -y[:2])(X3)
    rejects(with_eqn(closed, i, with_params(e, branches=(b0, short))), "outputs of branches[1]", "f64[2]")
    other_in = xform.make_jaxpr(lambda y: -y[:3])(np.ones(4))
    rejects(with_eqn(closed, i, with_params(e, branches=(b0, other_in))), "inputs of branches[1]")


def test_unclosed_held_jaxpr_is_checked():
    holder = Primitive("test_holder")
    a3 = ShapedArray((3,), F64)
    u, w, ghost = Var(a3), Var(a3), Var(a3)
    sin_p = find(xform.make_jaxpr(xnp.sin)(X3), "sin")[1].primitive
    body = Jaxpr([], [u], [w], [Eqn(sin_p, [ghost], [w], {})])
    x, y = Var(a3), Var(a3)
    rejects(Jaxpr([], [x], [y], [Eqn(holder, [x], [y], dict(body=body))]),
            "used before it is defined", "equation 0 (`test_holder`), param body", primitive="sin")


def test_error_inside_a_branch_names_the_path():
    closed = xform.make_jaxpr(_cond_prog)(X3)
    i, e = find(closed, "cond")
    b0, b1 = e.params["branches"]
    bj = b1.jaxpr if b1.jaxpr.eqns else b0.jaxpr
    k = 0 if b1.jaxpr.eqns else 1
    first = bj.eqns[0]
    ghost = Var(first.invars[0].aval)
    broken_eqn = Eqn(first.primitive, [ghost] + first.invars[1:], first.outvars, first.params)
    broken = ClosedJaxpr(Jaxpr(bj.constvars, bj.invars, bj.outvars, [broken_eqn] + bj.eqns[1:]), [])
    branches = (b0, broken) if k == 0 else (broken, b1)
    err = rejects(with_eqn(closed, i, with_params(e, branches=branches)), "used before it is defined",
                  f"equation {i} (`cond`), param branches[{1 - k}]", eqn_index=0)
    assert err.primitive == first.primitive.name


def test_scan_body_carry_type():
    closed = xform.make_jaxpr(_scan_prog)(X3)
    i, e = find(closed, "scan")
    f32_carry = xform.make_jaxpr(
        lambda c, x: (lax.convert_element_type(c * x, np.float32), xnp.sin(c) * x))(1.0, 1.0)
    rejects(with_eqn(closed, i, with_params(e, jaxpr=f32_carry)), f"equation {i} (`scan`)",
            "scan carry", "f32[]", eqn_index=i, primitive="scan")
    wrong_xs = xform.make_jaxpr(lambda c, x: (c * x[0], c * x[1]))(1.0, np.ones(2))
    rejects(with_eqn(closed, i, with_params(e, jaxpr=wrong_xs)), "inputs of the scan body")
    rejects(with_eqn(closed, i, with_params(e, length=4)), "leading axis is not length=4")


def test_while_body_carry_type():
    closed = xform.make_jaxpr(_while_prog)(X3)
    i, e = find(closed, "while")
    f32_body = xform.make_jaxpr(lambda c: lax.convert_element_type(c * 2.0, np.float32))(X3)
    rejects(with_eqn(closed, i, with_params(e, body_jaxpr=f32_body)), f"equation {i} (`while`)",
            "body carry", "f32[3]", eqn_index=i, primitive="while")
    short_body = xform.make_jaxpr(lambda c: c[:2])(X3)
    rejects(with_eqn(closed, i, with_params(e, body_jaxpr=short_body)), "body carry")
    non_bool = xform.make_jaxpr(lambda c: xnp.sum(c))(X3)
    rejects(with_eqn(closed, i, with_params(e, cond_jaxpr=non_bool)), "boolean scalar")
    other_cond = xform.make_jaxpr(lambda c: xnp.sum(c) < 1.0)(np.ones(4))
    rejects(with_eqn(closed, i, with_params(e, cond_jaxpr=other_cond)), "inputs of cond_jaxpr")


def test_fori_loop_with_dynamic_bounds_carry():
    closed = xform.make_jaxpr(_fori_dynamic)(X3, 3)
    i, e = find(closed, "while")
    bj = e.params["body_jaxpr"]
    # the body with its carry outputs reversed: (i, x) -> (x, i)
    swapped = ClosedJaxpr(Jaxpr(bj.jaxpr.constvars, bj.jaxpr.invars, bj.jaxpr.outvars[::-1],
                                bj.jaxpr.eqns), bj.consts)
    rejects(with_eqn(closed, i, with_params(e, body_jaxpr=swapped)), "body carry", eqn_index=i)


def test_error_message_prints_the_equation_with_printer_names():
    closed = xform.make_jaxpr(lambda x: xnp.sin(x) * 2.0)(X3)
    # printed: { lambda ; a:f64[3]. let b:f64[3] = sin a; c:f64[3] = mul b 2.0 in (c,) }
    err = rejects(retyped_tail(closed, ShapedArray((3,), F32)), "equation: c:f32[3] = mul b 2.0")
    assert "in: jaxpr" in str(err)


def test_the_verifier_depends_only_on_core():
    import ast
    import importlib

    src = importlib.import_module("xform.core.check").__file__
    tree = ast.parse(open(src).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):  # relative (within xform.core), xform.config, stdlib
            if node.level == 2 and node.module is None:
                assert [a.name for a in node.names] == ["config"]
                continue
            assert node.level == 1 or (node.level == 0 and node.module in sys.stdlib_module_names
                                       | {"__future__"}) or node.module.startswith("xform.core"), node.module
        elif isinstance(node, ast.Import):
            assert all(a.name == "numpy" or a.name in sys.stdlib_module_names for a in node.names)


def test_the_suite_verifies_every_compiler_pass(monkeypatch):
    """With ``xform.config.check_jaxprs`` on (the test suite's setting), a pass that
    breaks the program is named in the error."""
    import xform.config
    from xform.backend.numba import optimize
    from xform.core.check import JaxprTypeError as Err
    from xform.core.ir import Jaxpr

    assert xform.config.check_jaxprs
    real = optimize.simplify

    def broken(jaxpr):
        j, changed = real(jaxpr)
        return Jaxpr(j.constvars, j.invars, j.outvars, list(reversed(j.eqns))), changed

    monkeypatch.setattr(optimize, "simplify", broken)
    with pytest.raises(Err, match="after simplify"):
        xform.jit(lambda x: xform.numpy.sin(x) * 3.0 + 1.0)(np.ones(3))
