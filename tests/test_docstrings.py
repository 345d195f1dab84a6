"""Every runnable example (``>>>``) in a docstring of xform runs and prints what it
shows (xform.numpy's examples also run in test_numpy_dispatch.py, with numpy's)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import xform

MODULES = sorted(info.name for info in pkgutil.walk_packages(xform.__path__, "xform."))


def test_every_module_is_collected():
    assert {"xform.jit", "xform.lax.control_flow.loops", "xform.lax.elementwise",
            "xform.numpy._ufuncs", "xform.backend.numba.fusion"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), report=False,
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_examples_exist_where_the_api_is():
    counts = {name: doctest.testmod(importlib.import_module(name), report=False).attempted
              for name in ["xform.jit", "xform.ad", "xform.vmap", "xform.lax.elementwise",
                           "xform.lax.control_flow.loops", "xform.lax.custom_derivatives",
                           "xform.lax.checkpoint", "xform.core.pytree"]}
    assert all(n > 0 for n in counts.values()), counts
