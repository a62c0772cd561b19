"""Overlap of the logging policy: diagnostics and the warning."""

import warnings

import numpy as np
import pytest

from skroute.causal import (
    OverlapWarning,
    overlap_diagnostics,
)


def test_overlap_diagnostics_values_and_warning():
    action = np.array([0, 0, 1, 1])
    propensity = np.array([0.5, 0.5, 0.5, 0.001])
    with pytest.warns(OverlapWarning, match="clipped"):
        diagnostics = overlap_diagnostics(
            action, propensity, n_classes=2, min_propensity=0.01
        )
    np.testing.assert_array_equal(diagnostics["n_logged"], [2, 2])
    # Model 0: equal weights, ESS = 2. Model 1: weights 2 and 100.
    np.testing.assert_allclose(
        diagnostics["effective_sample_size"], [2.0, 102**2 / (4 + 100**2)]
    )
    assert diagnostics["clipped_fraction"] == 0.25
    assert diagnostics["max_weight"] == pytest.approx(100.0)


def test_no_overlap_warning_under_uniform_logging():
    action = np.repeat([0, 1, 2], 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverlapWarning)
        diagnostics = overlap_diagnostics(
            action, np.full(150, 1 / 3), n_classes=3, min_propensity=0.01
        )
    np.testing.assert_allclose(diagnostics["ess_ratio"], 1.0)
