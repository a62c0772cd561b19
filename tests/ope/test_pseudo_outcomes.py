"""Shrinkage of importance weights in the pseudo-outcomes: from DM to DR."""

import numpy as np
import pytest

from skroute.ope import (
    SHRINKAGE_GRID,
    pseudo_outcomes,
    select_shrinkage,
    shrunk_weights,
)


def test_shrunk_weights_span_direct_method_to_doubly_robust():
    weight = np.array([1.0, 4.0, 100.0])
    np.testing.assert_allclose(shrunk_weights(weight, 0.0), 0.0)
    np.testing.assert_allclose(shrunk_weights(weight, np.inf), weight)
    np.testing.assert_allclose(
        shrunk_weights(weight, 16.0), weight * 16 / (weight**2 + 16)
    )
    np.testing.assert_allclose(
        shrunk_weights(weight, 10.0, "switch-dr"), [1.0, 4.0, 0.0]
    )


@pytest.mark.parametrize("method", ["dr-shrink", "switch-dr"])
def test_shrunk_pseudo_outcomes_reach_dm_and_dr_at_the_ends(method):
    rng = np.random.default_rng(0)
    target, action = rng.uniform(size=40), rng.integers(3, size=40)
    propensity, mu = rng.uniform(0.1, 1, size=40), rng.uniform(size=(40, 3))
    args = (target, action, propensity, mu)
    np.testing.assert_allclose(
        pseudo_outcomes(*args, method=method, shrinkage=0.0),
        pseudo_outcomes(*args, method="dm"),
    )
    np.testing.assert_allclose(
        pseudo_outcomes(*args, method=method, shrinkage=np.inf),
        pseudo_outcomes(*args, method="dr"),
    )
    # One level per arm: arm 0 direct method, the others doubly robust.
    mixed = pseudo_outcomes(*args, method=method, shrinkage=[0.0, np.inf, np.inf])
    np.testing.assert_allclose(mixed[:, 0], mu[:, 0])
    np.testing.assert_allclose(mixed[:, 1:], pseudo_outcomes(*args, method="dr")[:, 1:])


def test_shrunk_pseudo_outcomes_need_a_level():
    with pytest.raises(ValueError, match="needs shrinkage >= 0"):
        pseudo_outcomes(
            np.zeros(2), np.zeros(2, int), np.ones(2), np.zeros((2, 2)), "dr-shrink"
        )


def test_shrinkage_is_none_for_a_biased_model_and_full_for_wild_weights():
    rng = np.random.default_rng(0)
    n = 4000
    action = rng.integers(2, size=n)
    # Arm 0: well explored, and its outcome model is off by 0.5 -> keep DR.
    # Arm 1: rare (propensity 0.01 on most rows), noisy outcomes, and an
    # unbiased outcome model -> the correction is all variance: shrink fully.
    propensity = np.where(action == 0, 0.5, 0.01)
    # Residuals of +-3 that cancel: variance without any visible bias.
    signs = np.where(np.cumsum(action == 1) % 2 == 0, 3.0, -3.0)
    if (action == 1).sum() % 2:
        signs[np.flatnonzero(action == 1)[-1]] = 0.0
    target = np.where(action == 0, 1.0, signs)
    mu = np.column_stack([np.full(n, 0.5), np.zeros(n)])
    tau, errors = select_shrinkage(target, action, propensity, mu)
    assert errors.shape == (len(SHRINKAGE_GRID), 2)
    assert tau[0] >= 16
    assert tau[1] <= 1
    np.testing.assert_array_equal(tau, np.asarray(SHRINKAGE_GRID)[errors.argmin(0)])
