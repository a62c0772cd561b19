import copy
import pickle

import joblib
import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs, fit_logged
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    RandomRouter,
)
from skroute.causal import OverlapWarning
from skroute.datasets import simulate_logging
from skroute.metrics import policy_value, regret, utility

LAMBDA = 0.05


def _test_regret(router, problem, test):
    return regret(
        problem.expected_reward[test],
        router.predict(problem.X[test]),
        cost=problem.cost[test],
        cost_sensitivity=LAMBDA,
        classes=problem.models,
    )


def test_causal_router_beats_simple_baselines(routing_logs, fitted_causal):
    # The comparison with the decoupled router needs several seeds to be
    # meaningful; benchmarks/bench_generated.py makes it.
    problem, logs, _, test = routing_logs
    causal = _test_regret(fitted_causal, problem, test)
    baselines = {
        "best single": BestSingleModelRouter(cost_sensitivity=LAMBDA, random_state=0),
        "random": RandomRouter(random_state=0),
    }
    for name, router in baselines.items():
        assert causal < _test_regret(fit_logged(router, logs), problem, test), name


@pytest.mark.slow
def test_full_feedback_reference_beats_logged_training(routing_logs, fitted_causal):
    problem, logs, train, test = routing_logs
    oracle_fed = CausalRouterClassifier(cost_sensitivity=LAMBDA, random_state=0).fit(
        logs.X, logs.action, reward=problem.reward[train], cost=problem.cost[train]
    )
    assert oracle_fed.overlap_ is None
    assert _test_regret(oracle_fed, problem, test) < _test_regret(
        fitted_causal, problem, test
    )


@pytest.mark.parametrize(
    "params",
    [
        {"surrogate": "classification"},
        {"surrogate": "classification", "gap_weighted": True},
        {"pseudo_outcome": "ipw"},
        {"pseudo_outcome": "dm"},
        {"pseudo_outcome": "sndr"},
        {"cost_pseudo_outcome": "dm"},
        {"hidden_layer_sizes": ()},
    ],
)
def test_variants_fit_and_predict_valid_routes(routing_logs, params):
    problem, logs, _, test = routing_logs
    router = fit_logged(
        CausalRouterClassifier(max_epochs=5, random_state=0, **params), logs
    )
    proba = router.predict_proba(problem.X[test])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(router.predict(problem.X[test])) <= set(problem.models)


def test_prediction_outputs_are_consistent(routing_logs, fitted_causal):
    problem, _, _, test = routing_logs
    X = problem.X[test]
    proba = fitted_causal.predict_proba(X)
    scores = fitted_causal.decision_function(X)
    assert proba.shape == scores.shape == (len(X), len(problem.models))
    np.testing.assert_array_equal(
        fitted_causal.classes_[proba.argmax(axis=1)], fitted_causal.predict(X)
    )
    np.testing.assert_array_equal(np.argmax(scores, axis=1), np.argmax(proba, axis=1))
    assert list(fitted_causal.classes_) == list(problem.models)


def test_temperature_sharpens_predict_proba(routing_logs, fitted_causal):
    problem, _, _, test = routing_logs
    cold = copy.deepcopy(fitted_causal).set_params(temperature=0.1)
    from scipy.special import softmax

    # predict_proba is softmax(g / temperature) of the network's outputs g,
    # which rank the models as decision_function does (in units of utility).
    warm = fitted_causal.predict_proba(problem.X[test])
    np.testing.assert_allclose(
        cold.predict_proba(problem.X[test]),
        softmax(np.log(warm) / 0.1, axis=1),
        atol=1e-9,
    )
    scores = fitted_causal.decision_function(problem.X[test])
    np.testing.assert_array_equal(warm.argmax(axis=1), scores.argmax(axis=1))


def test_score_is_exact_under_full_feedback(routing_logs, fitted_causal):
    problem, _, _, test = routing_logs
    X = problem.X[test]
    value = fitted_causal.score(
        X,
        problem.models[np.zeros(len(X), int)],
        reward=problem.reward[test],
        cost=problem.cost[test],
    )
    expected = utility(
        problem.reward[test],
        fitted_causal.predict(X),
        cost=problem.cost[test],
        cost_sensitivity=LAMBDA,
        classes=problem.models,
    )
    assert value == pytest.approx(expected)


def test_dr_score_estimates_true_value(routing_logs, fitted_causal):
    problem, _, _, test = routing_logs
    test_logs = simulate_logging(
        problem.X[test],
        problem.reward[test],
        problem.cost[test],
        models=problem.models,
        random_state=5,
    )
    logged = {
        "reward": test_logs.reward,
        "cost": test_logs.cost,
        "propensity": test_logs.propensity,
    }
    estimate = fitted_causal.score(test_logs.X, test_logs.action, **logged)
    same = policy_value(
        fitted_causal.predict(test_logs.X),
        test_logs.action,
        X=test_logs.X,
        cost_sensitivity=LAMBDA,
        classes=fitted_causal.classes_,
        min_propensity=fitted_causal.min_propensity,
        random_state=fitted_causal.random_state,
        **logged,
    )
    assert estimate == same.estimate
    truth = utility(
        problem.reward[test],
        fitted_causal.predict(problem.X[test]),
        cost=problem.cost[test],
        cost_sensitivity=LAMBDA,
        classes=problem.models,
    )
    assert abs(estimate - truth) < 4 * same.standard_error


def test_cost_is_optional(routing_logs):
    problem, logs, _, test = routing_logs
    a = CausalRouterClassifier(cost_sensitivity=0.0, max_epochs=5, random_state=0)
    b = CausalRouterClassifier(cost_sensitivity=9.0, max_epochs=5, random_state=0)
    a.fit(logs.X, logs.action, reward=logs.reward, propensity=logs.propensity)
    b.fit(logs.X, logs.action, reward=logs.reward, propensity=logs.propensity)
    np.testing.assert_array_equal(
        a.predict(problem.X[test]), b.predict(problem.X[test])
    )


def test_same_random_state_gives_identical_fits(routing_logs):
    problem, logs, _, test = routing_logs
    router = CausalRouterClassifier(max_epochs=8, random_state=3)
    first = fit_logged(clone(router), logs).decision_function(problem.X[test])
    second = fit_logged(clone(router), logs).decision_function(problem.X[test])
    np.testing.assert_array_equal(first, second)


def test_fit_leaves_global_torch_rng_untouched(routing_logs):
    import torch

    _, logs, _, _ = routing_logs
    state = torch.random.get_rng_state()
    fit_logged(CausalRouterClassifier(max_epochs=2, random_state=0), logs)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_keeps_predictions(routing_logs, fitted_causal, dump, tmp_path):
    problem, _, _, test = routing_logs
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(fitted_causal))
    else:
        joblib.dump(fitted_causal, tmp_path / "router.joblib")
        restored = joblib.load(tmp_path / "router.joblib")
    np.testing.assert_array_equal(
        restored.decision_function(problem.X[test]),
        fitted_causal.decision_function(problem.X[test]),
    )


def test_overlap_warning_and_diagnostics(routing_logs):
    problem, logs, _, _ = routing_logs
    skewed = logs.propensity.copy()
    skewed[::4] = 1e-4
    with pytest.warns(OverlapWarning, match="clipped"):
        router = CausalRouterClassifier(max_epochs=2, random_state=0).fit(
            logs.X, logs.action, reward=logs.reward, propensity=skewed
        )
    assert router.overlap_["clipped_fraction"] == pytest.approx(0.25, abs=0.01)
    assert router.overlap_["effective_sample_size"].shape == (len(problem.models),)


@pytest.mark.slow
def test_sample_weight_zero_rows_do_not_change_full_feedback_fit(routing_logs):
    problem, logs, train, test = routing_logs
    weight = np.ones(2000)
    reward = problem.reward[train].copy()
    # Corrupt rows that carry no weight: the loss must ignore them.
    weight[:500] = 0.0
    reward[:500] = 1.0 - reward[:500]
    router = CausalRouterClassifier(max_epochs=40, early_stopping=False, random_state=0)
    weighted = clone(router).fit(
        logs.X,
        logs.action,
        reward=reward,
        cost=problem.cost[train],
        sample_weight=weight,
    )
    clean = clone(router).fit(
        logs.X,
        logs.action,
        reward=problem.reward[train],
        cost=problem.cost[train],
        sample_weight=weight,
    )
    agreement = np.mean(
        weighted.predict(problem.X[test]) == clean.predict(problem.X[test])
    )
    assert agreement > 0.95


# --- scikit-learn integration -------------------------------------------------


@pytest.fixture
def metadata_routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_pipeline_with_metadata_routing(routing_logs, metadata_routing):
    problem, logs, _, test = routing_logs
    pipe = make_pipeline(
        StandardScaler(),
        CausalRouterClassifier(cost_sensitivity=LAMBDA, max_epochs=10, random_state=0),
    )
    pipe.fit(logs.X, logs.action, **fit_kwargs(logs))
    assert pipe.predict(problem.X[test]).shape == (1000,)
    assert np.isfinite(pipe.score(logs.X, logs.action, **fit_kwargs(logs)))


def test_grid_search_slices_logged_arrays_per_fold(routing_logs, metadata_routing):
    problem, logs, _, _ = routing_logs
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(), CausalRouterClassifier(max_epochs=5, random_state=0)
        ),
        {"causalrouterclassifier__cost_sensitivity": [0.0, LAMBDA]},
        cv=KFold(3),
    )
    search.fit(logs.X, logs.action, **fit_kwargs(logs))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["causalrouterclassifier__cost_sensitivity"] in (
        0.0,
        LAMBDA,
    )


def test_cross_validate_with_params(routing_logs, metadata_routing):
    _, logs, _, _ = routing_logs
    result = cross_validate(
        DecoupledRouter(cost_sensitivity=LAMBDA),
        logs.X,
        logs.action,
        params=fit_kwargs(logs),
        cv=3,
    )
    assert result["test_score"].shape == (3,)


def test_missing_routing_gives_a_clear_error(routing_logs):
    _, logs, _, _ = routing_logs
    with sklearn.config_context(enable_metadata_routing=False):
        search = GridSearchCV(
            DecoupledRouter(), {"cost_sensitivity": [0.0]}, cv=2, error_score="raise"
        )
        with pytest.raises(TypeError, match="enable_metadata_routing=True"):
            search.fit(logs.X, logs.action, reward=logs.reward)


def test_scores_do_not_depend_on_the_batch(routing_logs, fitted_causal):
    problem, _, _, test = routing_logs
    X = problem.X[test]
    # The network's part is computed in fixed blocks, bit for bit the same in
    # any batch; the outcome models' lines are matrix products whose last bit
    # may depend on the number of rows (BLAS), as a DecoupledRouter's do.
    whole = fitted_causal.decision_function(X)
    routes = fitted_causal.predict(X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(
        fitted_causal.decision_function(X[order]), whole[order], rtol=1e-12
    )
    np.testing.assert_array_equal(fitted_causal.predict(X[order]), routes[order])
    for row in (0, 17, 999):
        np.testing.assert_allclose(
            fitted_causal.decision_function(X[row : row + 1])[0],
            whole[row],
            rtol=1e-12,
        )
        assert fitted_causal.predict(X[row : row + 1])[0] == routes[row]


def test_anchored_policy_starts_at_the_direct_method(routing_logs):
    # The correction's last layer starts at zero: with a learning rate too
    # small to move it, the learned policy is the direct method, which
    # DecoupledRouter deploys with the same outcome models.
    problem, logs, train, test = routing_logs
    router = CausalRouterClassifier(
        cost_sensitivity=0.05,
        max_epochs=1,
        early_stopping=False,
        lr=1e-12,
        safety_check="off",
        random_state=0,
    )
    fit_logged(router, logs, quiet=True)
    decoupled = DecoupledRouter(cost_sensitivity=0.05).fit(
        logs.X, logs.action, **fit_kwargs(logs)
    )
    X = problem.X[test]
    np.testing.assert_allclose(
        router.learned_policy_.scores(X, 0.05),
        decoupled.decision_function(X),
        rtol=1e-5,
        atol=1e-6,
    )
    assert router.deployed_ is router.learned_policy_
    assert (router.predict(X) == decoupled.predict(X)).mean() > 0.99


def test_free_network_is_kept_as_an_option(routing_logs):
    problem, logs, train, test = routing_logs
    router = CausalRouterClassifier(
        cost_sensitivity=0.05,
        anchored=False,
        max_epochs=5,
        safety_check="off",
        random_state=0,
    )
    fit_logged(router, logs, quiet=True)
    assert router.learned_policy_.lines(problem.X[test]) is None
    with pytest.raises(ValueError, match="anchored"):
        CausalRouterClassifier(anchored="yes").fit(
            logs.X, logs.action, reward=logs.reward
        )
