"""The public API (xform/__init__.py, xform.numpy, xform.lax) type-checks with the
checker configured in pyproject.toml ([tool.mypy], basic mode)."""
from __future__ import annotations

import os

import pytest


def test_public_api_type_checks():
    api = pytest.importorskip("mypy.api", reason="mypy is in the test extras")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cwd = os.getcwd()
    os.chdir(root)  # mypy reads [tool.mypy] from pyproject.toml in the working directory
    try:
        out, err, status = api.run(["--no-error-summary"])
    finally:
        os.chdir(cwd)
    assert status == 0, out + err
