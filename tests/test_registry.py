"""The rule tables are whole: every primitive of xform.lax has the rules each
interpreter needs (or is exempt, with the reason), and every backend fact names a real
primitive."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import xform.lax
from xform.backend.numba import rules, traits
from xform.core.primitive import Primitive


def _lax_primitives() -> dict:
    found = {}
    for info in pkgutil.walk_packages(xform.lax.__path__, "xform.lax."):
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, Primitive):
                found[id(value)] = value
    return found


PRIMITIVES = _lax_primitives()
BY_NAME = {p.name: p for p in PRIMITIVES.values()}

# rule -> {primitive name: why it needs none}
EXEMPT = {
    "jvp": {"iota": "no operands: its JVP is never asked for (the result is a constant)"},
    "batch": {
        "iota": "no operands: vmap never sees it batched",
        "custom_lin": "only in linear programs, which vmap never sees: they are transposed "
                      "(reverse mode) before anything else runs them",
    },
    "lowering": {
        "custom_lin": "only in linear programs, which are transposed before jit compiles "
                      "them",
    },
}


def _has_lowering(p) -> bool:
    if p.elementwise and getattr(p, "numba_scalar", None) is not None:
        return True
    fused = traits.REDUCERS | traits.UNIT_RESHAPES | traits.SHIFTED | traits.FUSED_STRUCTURAL
    return p in rules.RULES or p in fused


def test_primitive_names_are_unique():
    names = [p.name for p in PRIMITIVES.values()]
    assert len(names) == len(set(names)) and len(names) > 90


@pytest.mark.parametrize("rule", ["impl", "abstract_eval", "jvp", "batch", "lowering"])
def test_every_primitive_has_the_rule_or_is_exempt(rule):
    missing = []
    for p in PRIMITIVES.values():
        has = _has_lowering(p) if rule == "lowering" else getattr(p, rule) is not None
        if not has and p.name not in EXEMPT.get(rule, {}):
            missing.append(p.name)
    assert not missing, f"primitives without a {rule} rule: {sorted(missing)}"


def test_exemptions_name_real_primitives_that_need_them():
    for rule, names in EXEMPT.items():
        for name in names:
            p = BY_NAME[name]
            has = _has_lowering(p) if rule == "lowering" else getattr(p, rule) is not None
            assert not has, f"{name} has a {rule} rule: remove its exemption"


def test_backend_facts_name_real_primitives():
    tables = {name: getattr(traits, name) for name in dir(traits) if name.isupper()}
    tables["rules.RULES"] = rules.RULES
    assert len(tables) >= 10
    for name, table in tables.items():
        for key in table:
            assert isinstance(key, Primitive) and id(key) in PRIMITIVES, (name, key)


def test_elementwise_scalar_rules_are_on_elementwise_primitives():
    for p in PRIMITIVES.values():
        if getattr(p, "numba_scalar", None) is not None:
            assert p.elementwise, p.name


def test_linear_primitives_have_transposes():
    # the primitives that reverse mode meets in linear programs
    for name in ["add", "add_any", "sub", "neg", "mul", "div", "convert_element_type",
                 "reduce_sum", "broadcast_in_dim", "reshape", "transpose", "slice", "pad",
                 "concatenate", "rev", "squeeze", "expand_dims", "dot_general", "gather",
                 "scatter_add", "dynamic_slice", "dynamic_update_slice", "cumsum",
                 "select", "jit", "cond", "scan", "custom_lin", "real", "imag", "complex",
                 "conj"]:
        assert BY_NAME[name].transpose is not None, name
