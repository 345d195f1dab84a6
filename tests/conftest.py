"""pytest configuration shared by the test suite.

Marker ``codegen_portable``: a small, representative set of numerically sensitive tests
(BLAS products, reductions, jitted loops with fast-math reductions and vector math,
float16 under jit) whose tolerances are derived from error bounds rather than from one
machine's rounding. ``.ci/run`` runs them a second time with Numba generating code for
a generic x86-64 CPU (``NUMBA_CPU_NAME=generic``: no AVX, no FMA) and fresh caches, so
that a tolerance that only holds for the host's code generation is caught:

    NUMBA_CPU_NAME=generic XFORM_CACHE_DIR=$(mktemp -d) NUMBA_CACHE_DIR=$(mktemp -d) \\
        python -m pytest -q -p no:cacheprovider -m codegen_portable tests
"""
from __future__ import annotations

import sys

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "codegen_portable: numerically sensitive test whose tolerance must hold for any CPU "
        "and code generation (run again under NUMBA_CPU_NAME=generic by .ci/run)")


def pytest_sessionstart(session):
    # Verify every traced program and every compiler pass's result (xform.core.check_jaxpr);
    # the environment variable reaches the subprocesses that tests start too.
    import os

    os.environ["XFORM_CHECK_JAXPR"] = "1"
    import xform.config

    xform.config.check_jaxprs = True


@pytest.fixture(autouse=True)
def _restore_jax_x64():
    """Tests that compare with JAX may switch on its x64 mode; the next test sees JAX's
    default configuration again (the JAX comparisons assume it)."""
    jax = sys.modules.get("jax")
    prev = bool(jax.config.jax_enable_x64) if jax is not None else False
    yield
    jax = sys.modules.get("jax")
    if jax is not None and bool(jax.config.jax_enable_x64) != prev:
        jax.config.update("jax_enable_x64", prev)
