"""The examples run and reach their goals (small sizes)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))

import mlp_training  # noqa: E402
import newton_rosenbrock  # noqa: E402
import rnn_scan  # noqa: E402


def test_newton_methods_reach_the_minimum():
    x0 = np.linspace(-1.0, 0.5, 6)
    for method in (newton_rosenbrock.newton, newton_rosenbrock.newton_cg):
        x, steps = method(x0.copy())
        np.testing.assert_allclose(x, np.ones(6), atol=1e-8)
        assert steps < 100


def test_mlp_training_learns():
    assert mlp_training.main(steps=150) > 0.95


def test_rnn_scan_example_runs():
    result = rnn_scan.main(steps=50, hidden=4)
    assert result["losses"][-1] < 0.1 * result["losses"][0]
    # the 50 steps are a loop in the kernel (forward and reverse), not unrolled copies
    assert "for " in result["kernel_source"] and result["kernel_lines"] < 400
