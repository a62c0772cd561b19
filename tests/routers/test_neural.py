"""Faults during fit: divergence, interrupts, and what a refit starts from."""

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from tiny_routers import (
    assert_same_outputs,
    fit,
    make_logs,
    outputs,
    router_id,
    tiny_routers,
)

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.causal import RidgeOutcomeModel

NEURAL_ROUTERS = [
    CausalRouterClassifier(hidden_layer_sizes=(4,), early_stopping=False, cv=2),
    IntervalCostRouter(n_intervals=2, hidden_layer_sizes=(4,), early_stopping=False),
]


@pytest.mark.parametrize("router", NEURAL_ROUTERS, ids=router_id)
def test_divergence_is_a_clear_error_not_a_nan_model(router, tiny_logs):
    # With lr = 1e10 AdamW's steps overflow the weights within a few epochs.
    diverging = clone(router).set_params(lr=1e10, max_epochs=20, random_state=0)
    with pytest.raises(ValueError) as info:
        fit(diverging, tiny_logs)
    message = str(info.value)
    assert "Training diverged" in message
    assert "lr=1e+10" in message and "min_propensity=0.01" in message
    with pytest.raises(NotFittedError):
        diverging.predict(tiny_logs["X"])


@pytest.mark.parametrize("router", NEURAL_ROUTERS, ids=router_id)
def test_divergence_keeps_the_previous_fit(router, tiny_logs):
    fitted = fit(clone(router).set_params(max_epochs=2, random_state=0), tiny_logs)
    before = outputs(fitted, tiny_logs["X"])
    with pytest.raises(ValueError, match="Training diverged"):
        fit(fitted.set_params(lr=1e10, max_epochs=20), tiny_logs)
    assert_same_outputs(outputs(fitted, tiny_logs["X"]), before)
    assert all(torch.isfinite(p).all() for p in fitted.net_.module_.parameters())


class _InterruptAfter:
    """A global forward hook that raises KeyboardInterrupt on its n-th call."""

    def __init__(self, calls):
        self.calls = calls

    def __call__(self, module, args, output):
        self.calls -= 1
        if self.calls == 0:
            raise KeyboardInterrupt


def _fit_interrupted(router, tiny_logs, calls):
    handle = torch.nn.modules.module.register_module_forward_hook(
        _InterruptAfter(calls)
    )
    try:
        with pytest.raises(KeyboardInterrupt):
            fit(router, tiny_logs)
    finally:
        handle.remove()


@pytest.mark.parametrize("router", NEURAL_ROUTERS, ids=router_id)
def test_interrupt_during_training_leaves_an_unfitted_router_unfitted(
    router, tiny_logs
):
    # skorch ends training quietly on a KeyboardInterrupt and keeps the
    # half-trained module; the interrupt must instead reach the caller.
    router = clone(router).set_params(max_epochs=50, random_state=0)
    params = router.get_params()
    _fit_interrupted(router, tiny_logs, calls=5)
    with pytest.raises(NotFittedError):
        router.predict(tiny_logs["X"])
    assert not [key for key in vars(router) if key.endswith("_")]
    assert router.get_params() == params


@pytest.mark.parametrize("router", NEURAL_ROUTERS, ids=router_id)
def test_interrupt_during_training_keeps_the_previous_fit(router, tiny_logs):
    router = fit(clone(router).set_params(max_epochs=2, random_state=0), tiny_logs)
    before = outputs(router, tiny_logs["X"])
    _fit_interrupted(router.set_params(max_epochs=50), tiny_logs, calls=5)
    assert_same_outputs(outputs(router, tiny_logs["X"]), before)


class _InterruptingRegressor(RegressorMixin, BaseEstimator):
    """An outcome model whose fit is interrupted (as by Ctrl-C)."""

    def fit(self, X, y, sample_weight=None):
        raise KeyboardInterrupt


@pytest.mark.parametrize("router", tiny_routers()[:4], ids=router_id)
def test_interrupt_during_cross_fitting_keeps_the_previous_fit(router, tiny_logs):
    router = fit(clone(router), tiny_logs)
    before = outputs(router, tiny_logs["X"])
    router.set_params(reward_model=_InterruptingRegressor())
    with pytest.raises(KeyboardInterrupt):
        fit(router, tiny_logs)
    assert_same_outputs(outputs(router, tiny_logs["X"]), before)


def test_early_stopping_still_ends_training_quietly(tiny_logs):
    # Early stopping signals the end of training with an interrupt of its own.
    router = CausalRouterClassifier(
        hidden_layer_sizes=(4,),
        lr=0.05,
        max_epochs=300,
        n_iter_no_change=2,
        policy_cv=2,
        cv=2,
        random_state=0,
    )
    fit(router, tiny_logs)
    assert max(router.training_epochs_) < 300
    assert router.n_epochs_ <= max(router.training_epochs_)
    assert router.predict(tiny_logs["X"]).shape == (60,)


@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_no_warm_start_each_fit_starts_from_scratch(router, tiny_logs):
    # No router offers warm_start or partial_fit: fit always retrains.
    assert not hasattr(router, "partial_fit")
    assert "warm_start" not in router.get_params()
    other = make_logs(seed=1)
    refitted = fit(fit(clone(router), tiny_logs), other)
    fresh = fit(clone(router), other)
    assert_same_outputs(outputs(refitted, other["X"]), outputs(fresh, other["X"]))


def test_temperature_below_float32_is_a_clear_error(tiny_logs):
    router = CausalRouterClassifier(temperature=1e-300, max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="temperature=1e-300 is below"):
        fit(router, tiny_logs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_fit_on_cuda_without_a_gpu_is_a_clear_error(tiny_logs):
    router = CausalRouterClassifier(device="cuda", max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="device='cuda', but torch .* no such CUDA"):
        fit(router, tiny_logs)


def test_unknown_device_is_a_clear_error(tiny_logs):
    router = CausalRouterClassifier(device="gpu0", max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="device='gpu0' is not a torch device"):
        fit(router, tiny_logs)


def test_scores_overflowing_at_prediction_are_a_clear_error(tiny_logs):
    router = CausalRouterClassifier(
        max_epochs=1, cv=2, safety_check="off", random_state=0
    )
    router = fit(router, tiny_logs)
    huge = np.full((2, 3), 3e38)
    with pytest.raises(ValueError, match="scores are not finite for rows"):
        router.predict_proba(huge)


# predict works through the rows a block at a time (skroute.routers._base):
# these inputs span three blocks.
_BLOCK = 16_384


@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_predict_over_several_blocks_agrees_with_the_scores(router, tiny_logs):
    router = clone(router)
    if "safety_check" in router.get_params():
        # The network's scores, not a fallback's.
        router.set_params(safety_check="off")
    router = fit(router, tiny_logs)
    X = np.random.default_rng(1).normal(size=(2 * _BLOCK + 7, tiny_logs["X"].shape[1]))
    scores = router.decision_function(X)
    np.testing.assert_array_equal(
        router.predict(X), router.classes_[np.argmax(scores, axis=1)]
    )
    if isinstance(router, IntervalCostRouter):
        # One cost sensitivity per row: each block reads its own rows' values.
        values = np.random.default_rng(2).uniform(*router.cost_grid_[[0, -1]], len(X))
        np.testing.assert_array_equal(
            router.predict(X, cost_sensitivity=values),
            router.classes_[
                np.argmax(router.decision_function(X, cost_sensitivity=values), axis=1)
            ],
        )


@pytest.mark.parametrize("router", NEURAL_ROUTERS, ids=router_id)
def test_a_non_finite_score_past_the_first_block_names_its_row(router, tiny_logs):
    router = fit(
        clone(router).set_params(safety_check="off", random_state=0), tiny_logs
    )
    X = np.random.default_rng(1).normal(size=(2 * _BLOCK + 7, tiny_logs["X"].shape[1]))
    X[_BLOCK + 3] = 3e38
    for method in (router.predict, router.predict_proba, router.decision_function):
        with pytest.raises(ValueError, match=rf"not finite for rows \[{_BLOCK + 3}\]"):
            method(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_features_are_the_standardised_features_of_prediction(dtype):
    # The policy's folds train on features standardised per batch from X and
    # the deployed ensemble standardises its queries: were the two to differ,
    # features in other units and at other offsets would give another router.
    logs = make_logs(n=300, n_features=7)
    units = np.array([1, 10, 1e3, 1e-3, 5, 1, 2])
    moved = ((logs["X"] + np.arange(7)) * units).astype(dtype)
    # Outcome models that standardise too (the default may choose isotropic
    # scaling, which keeps the features' units by design).
    outcome = RidgeOutcomeModel(scaling="standard")
    router = CausalRouterClassifier(
        reward_model=outcome,
        cost_model=outcome,
        hidden_layer_sizes=(8,),
        max_epochs=5,
        early_stopping=False,
        cv=2,
        safety_check="off",
        random_state=0,
    )
    reference = fit(clone(router), logs)
    moved_router = fit(clone(router), logs, X=moved)
    np.testing.assert_allclose(
        moved_router.predict_proba(moved), reference.predict_proba(logs["X"]), atol=1e-5
    )
    np.testing.assert_array_equal(
        moved_router.predict(moved), reference.predict(logs["X"])
    )
