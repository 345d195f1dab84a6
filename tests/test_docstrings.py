"""The runnable examples in the public API's docstrings (xform.numpy's are run in
test_numpy_dispatch.py)."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["xform.jit", "xform.ad", "xform.vmap", "xform.custom_derivatives",
           "xform.checkpoint", "xform.lax.control_flow", "xform.core.pytree"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
