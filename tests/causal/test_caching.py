"""``memory``: nuisances fitted once, shared by the fits and scores that need them."""

import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.causal import OverlapWarning, cross_fit_pseudo_outcomes
from skroute.metrics import make_policy_value_scorer, policy_value
from skroute.routers import BestSingleModelRouter


class CountingRidge(Ridge):
    """Ridge that counts its fits (on the class: the instance's hash is unchanged)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def counting():
    CountingRidge.fits = 0
    yield CountingRidge
    CountingRidge.fits = 0


def _router(**params):
    return CausalRouterClassifier(
        reward_model=CountingRidge(),
        cost_model=CountingRidge(),
        max_epochs=3,
        random_state=0,
        **params,
    )


def test_a_second_fit_reads_the_nuisances_and_matches_an_uncached_fit(
    routing_logs, counting, tmp_path
):
    _, logs, _, _ = routing_logs
    first = _router(cost_sensitivity=0.0, memory=str(tmp_path))
    first.fit(logs.X, logs.action, **fit_kwargs(logs))
    fitted = counting.fits
    assert fitted > 0
    # Another lambda: the policy changes, the nuisances do not.
    cached = _router(cost_sensitivity=0.05, memory=str(tmp_path))
    cached.fit(logs.X, logs.action, **fit_kwargs(logs))
    assert counting.fits == fitted
    plain = _router(cost_sensitivity=0.05).fit(logs.X, logs.action, **fit_kwargs(logs))
    assert counting.fits > fitted
    np.testing.assert_array_equal(cached.predict(logs.X), plain.predict(logs.X))
    assert cached.deployed_policy_ == plain.deployed_policy_
    np.testing.assert_allclose(
        cached.safety_report_["estimates"]["network"],
        plain.safety_report_["estimates"]["network"],
    )


def test_the_cache_is_keyed_on_the_logs_and_the_seed(routing_logs, counting, tmp_path):
    _, logs, _, _ = routing_logs
    params = fit_kwargs(logs)
    _router(memory=str(tmp_path)).fit(logs.X, logs.action, **params)
    fitted = counting.fits
    # Other quality values, or another seed (other folds): fitted again. (The
    # counts may differ by the direct method's models, fitted where deployed.)
    changed = dict(params, reward=1.0 - logs.reward)
    _router(memory=str(tmp_path)).fit(logs.X, logs.action, **changed)
    assert counting.fits > fitted
    before = counting.fits
    _router(memory=str(tmp_path)).set_params(random_state=1).fit(
        logs.X, logs.action, **params
    )
    assert counting.fits > before
    # The first settings again: read, not fitted.
    before = counting.fits
    _router(memory=str(tmp_path)).fit(logs.X, logs.action, **params)
    assert counting.fits == before


def test_overlap_is_still_checked_when_the_nuisances_are_cached(routing_logs, tmp_path):
    _, logs, _, _ = routing_logs
    action = np.unique(logs.action, return_inverse=True)[1]
    for _ in range(2):
        # A high clipping floor clips most propensities: poor overlap.
        with pytest.warns(OverlapWarning, match="clipped"):
            cross_fit_pseudo_outcomes(
                logs.X,
                action,
                logs.reward,
                logs.cost,
                logs.propensity,
                n_classes=action.max() + 1,
                min_propensity=0.9,
                random_state=0,
                memory=str(tmp_path),
            )


def test_a_search_fits_each_folds_nuisances_once(routing_logs, counting, tmp_path):
    _, logs, _, _ = routing_logs
    scorer = make_policy_value_scorer(
        cost_sensitivity=0.05,
        reward_model=CountingRidge(),
        cost_model=CountingRidge(),
        memory=str(tmp_path / "scores"),
    )

    def search(grid):
        counting.fits = 0
        with sklearn.config_context(enable_metadata_routing=True):
            result = GridSearchCV(
                # The network is always deployed: no direct-method models
                # fitted for some candidates and not for others.
                _router(memory=str(tmp_path / "fits"), safety_check="off"),
                {"cost_sensitivity": grid},
                scoring=scorer,
                cv=KFold(3),
                refit=False,
            ).fit(logs.X, logs.action, **fit_kwargs(logs))
        return counting.fits, result.cv_results_["mean_test_score"]

    one, _ = search([0.0])
    # The first candidate's fits and scores filled the caches; two more
    # candidates on the same splits fit no nuisance model.
    more, scores = search([0.0, 0.05, 0.2])
    assert one > 0 and more == 0
    assert np.isfinite(scores).all()


def test_policy_value_with_memory_gives_the_same_estimate(routing_logs, tmp_path):
    _, logs, _, _ = routing_logs
    policy = np.full(logs.action.shape, logs.action[0])
    options = dict(reward=logs.reward, cost=logs.cost, X=logs.X, cost_sensitivity=0.05)
    # No propensity: the cached nuisances include the estimated propensities.
    plain = policy_value(policy, logs.action, **options)
    for _ in range(2):
        cached = policy_value(policy, logs.action, memory=str(tmp_path), **options)
        assert cached.estimate == pytest.approx(plain.estimate, rel=1e-12)
        assert cached.standard_error == pytest.approx(plain.standard_error, rel=1e-12)


@pytest.mark.parametrize("router_class", [IntervalCostRouter, BestSingleModelRouter])
def test_other_routers_share_their_nuisances(
    routing_logs, counting, tmp_path, router_class
):
    _, logs, _, _ = routing_logs
    params = {"reward_model": CountingRidge(), "cost_model": CountingRidge()}
    if router_class is IntervalCostRouter:
        params.update(cost_range=(0.0, 0.2), max_epochs=3)
    router = router_class(memory=str(tmp_path), random_state=0, **params)
    router.fit(logs.X, logs.action, **fit_kwargs(logs))
    fitted = counting.fits
    expected = router.predict(logs.X[:50])
    router.fit(logs.X, logs.action, **fit_kwargs(logs))
    assert fitted > 0 and counting.fits == fitted
    np.testing.assert_array_equal(router.predict(logs.X[:50]), expected)


def test_memory_of_the_wrong_type_is_refused(routing_logs):
    _, logs, _, _ = routing_logs
    with pytest.raises(ValueError, match="memory"):
        _router(memory=3).fit(logs.X, logs.action, **fit_kwargs(logs))
