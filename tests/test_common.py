"""scikit-learn's common estimator checks over every public router.

sklearn's checks call ``fit(X, y)`` with plain classification data and no
logged outcomes. The routers require ``reward``, so each check runs on a
subclass that supplies the one reading of classification data as routing
logs: full feedback in which the labelled model has quality 1 and every other
model 0. Everything else (validation, fitted state, cloning, pickling,
predictions) is the router's own code.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from skroute import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    IntervalCostRouter,
    RandomRouter,
)


def _label_rewards(y):
    """Full-feedback quality: 1 for the labelled model, 0 for the others."""
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.ravel()
    if labels.ndim != 1:
        return None
    try:
        classes = np.unique(labels)
    except TypeError:
        return None  # mixed label types: let the router raise its own error
    return (labels[:, None] == classes[None, :]).astype(float)


class _LabelRewards:
    """Supplies label rewards when sklearn's checks call fit or score without them."""

    def fit(self, X, y, *, reward=None, **logged):
        if reward is None and y is not None:
            reward = _label_rewards(y)
        return super().fit(X, y, reward=reward, **logged)

    def score(self, X, y, *, reward=None, **logged):
        if reward is None:
            labels = _label_rewards(y)
            # Columns must follow the fitted classes_, not the labels seen here.
            if labels is not None and labels.shape[1] == self.classes_.size:
                reward = labels
        return super().score(X, y, reward=reward, **logged)


class CheckedCausalRouter(_LabelRewards, CausalRouterClassifier):
    pass


class CheckedIntervalRouter(_LabelRewards, IntervalCostRouter):
    pass


class CheckedDecoupledRouter(_LabelRewards, DecoupledRouter):
    pass


class CheckedBestSingleModelRouter(_LabelRewards, BestSingleModelRouter):
    pass


class CheckedRandomRouter(_LabelRewards, RandomRouter):
    pass


# The neural routers train a network in every check: their checks are slow.
NEURAL_ROUTERS = [
    CheckedCausalRouter(max_epochs=30, lr=1e-2, random_state=0),
    CheckedIntervalRouter(n_intervals=2, max_epochs=30, lr=1e-2, random_state=0),
]
BASELINE_ROUTERS = [
    CheckedDecoupledRouter(),
    CheckedBestSingleModelRouter(cv=2, random_state=0),
    CheckedRandomRouter(random_state=0),
]
ROUTERS = NEURAL_ROUTERS + BASELINE_ROUTERS

# Every check expected to fail, with its reason, in one place.
EXPECTED_FAILURES = {
    RandomRouter: {
        "check_classifiers_one_label_sample_weights": (
            "routes uniformly over every candidate model in classes_, including "
            "models whose logged rows all have zero weight"
        ),
    },
}


# The checks that fail on the routers themselves (not the subclasses above),
# all for one reason: they call fit(X, y) without the logged reward that every
# router needs. Any other failure of check_estimator on a router is a bug.
NEEDS_REWARD = frozenset(
    {
        "check_all_zero_sample_weights_error",
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_one_label",
        "check_classifiers_one_label_sample_weights",
        "check_classifiers_train",
        "check_decision_proba_consistency",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weights_list",
        "check_sample_weights_not_an_array",
        "check_sample_weights_not_overwritten",
        "check_sample_weights_pandas_series",
        "check_sample_weights_shape",
        "check_supervised_y_2d",
    }
)


def _expected_failed_checks(estimator):
    for router_class, failures in EXPECTED_FAILURES.items():
        if isinstance(estimator, router_class):
            return failures
    return {}


def test_at_most_three_expected_failures():
    distinct = {check for failures in EXPECTED_FAILURES.values() for check in failures}
    assert len(distinct) <= 3


@parametrize_with_checks(
    BASELINE_ROUTERS, expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_router(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(NEURAL_ROUTERS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_neural_router(estimator, check):
    check(estimator)


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__)
def test_routers_request_logged_arrays_by_default(router):
    requests = router.get_metadata_routing()
    for method in ("fit", "score"):
        request = getattr(requests, method).requests
        for name in ("reward", "cost", "propensity"):
            assert request[name] is True


def _needs_reward(error):
    """Whether a check failed because fit was called without ``reward``."""
    while error is not None:
        if isinstance(error, TypeError) and "reward is required" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


@pytest.mark.parametrize(
    "router",
    [
        CausalRouterClassifier(max_epochs=3, random_state=0),
        IntervalCostRouter(n_intervals=2, max_epochs=3, random_state=0),
        DecoupledRouter(),
        BestSingleModelRouter(cv=2, random_state=0),
        RandomRouter(random_state=0),
    ],
    ids=lambda r: type(r).__name__,
)
def test_check_estimator_fails_only_for_the_missing_reward(router):
    results = check_estimator(router, on_fail=None)
    failed = {
        r["check_name"]: r["exception"] for r in results if r["status"] == "failed"
    }
    other = sorted(name for name, error in failed.items() if not _needs_reward(error))
    assert other == []
    assert set(failed) == NEEDS_REWARD
