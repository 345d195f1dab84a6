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


def test_rnn_scan_example_runs(capsys):
    rnn_scan.main(steps=50, hidden=4)
    out = capsys.readouterr().out
    assert "loops, not unrolled" in out
