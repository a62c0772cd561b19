"""The causal router's cross-fitted selection and its safety check."""

import pickle
import warnings

import numpy as np
import pytest
from helpers import fit_kwargs, fit_logged

from skroute import CausalRouterClassifier, DecoupledRouter, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import regret
from skroute.routers import (
    BestSingleModelRouter,
    PolicyFallbackWarning,
    RandomRouter,
)


@pytest.fixture(scope="module")
def flat_logs():
    """One model is better everywhere and nothing depends on the query."""
    rng = np.random.default_rng(0)
    n = 300
    X = rng.normal(size=(n, 4))
    mean = np.array([0.3, 0.7, 0.4])
    reward = (rng.uniform(size=(n, 3)) < mean).astype(float)
    return simulate_logging(
        X,
        reward,
        np.full((n, 3), 1.0),
        logging_policy="uniform",
        models=np.array(["a", "b", "c"]),
        random_state=0,
    )


@pytest.fixture(scope="module")
def linear_logs():
    """Two models whose quality is linear in the query: the outcome models suffice."""
    rng = np.random.default_rng(1)
    n = 240
    X = rng.normal(size=(n, 2))
    expected = np.column_stack([0.5 + 0.3 * X[:, 0], 0.5 - 0.3 * X[:, 0]])
    reward = expected + rng.normal(scale=0.05, size=(n, 2))
    return simulate_logging(
        X, reward, logging_policy="uniform", models=np.array(["p", "q"]), random_state=1
    )


def test_no_signal_falls_back_to_a_simple_policy(flat_logs):
    router = CausalRouterClassifier(max_epochs=20, random_state=0)
    with pytest.warns(PolicyFallbackWarning, match="could not be shown better"):
        fit_logged(router, flat_logs)
    report = router.safety_report_
    estimates = report["estimates"]
    assert set(estimates) == {"network", "direct_method", "best_single"}
    # The direct method, unless the best single model is confidently better.
    direct = report["direct_method_gain"]
    z = 1.2815515655446004  # safety_level 0.9
    single_better = direct["gain"] + z * direct["standard_error"] < 0
    baseline = "best_single" if single_better else "direct_method"
    assert router.deployed_policy_ == report["choice"] == report["baseline"]
    assert report["baseline"] == baseline
    assert report["differences"][baseline]["lower_bound"] <= 0
    assert report["best_single_model"] == "b"
    # Either simple policy sends (nearly) everything to the better model, b,
    # and routes deterministically.
    assert (router.predict(flat_logs.X) == "b").mean() > 0.9
    proba = router.predict_proba(flat_logs.X)
    np.testing.assert_array_equal(proba.max(axis=1), 1.0)
    restored = pickle.loads(pickle.dumps(router))
    np.testing.assert_array_equal(
        restored.predict(flat_logs.X), router.predict(flat_logs.X)
    )


@pytest.mark.parametrize(
    "router",
    [
        CausalRouterClassifier(max_epochs=5, random_state=0),
        IntervalCostRouter(cost_range=(0.0, 0.1), max_epochs=5, random_state=0),
    ],
    ids=["causal", "interval"],
)
def test_the_fallback_warning_points_at_the_callers_fit(flat_logs, router):
    with pytest.warns(PolicyFallbackWarning) as record:
        router.fit(flat_logs.X, flat_logs.action, **fit_kwargs(flat_logs))
    fallback = [w for w in record if w.category is PolicyFallbackWarning]
    assert [w.filename for w in fallback] == [__file__]


def test_a_policy_the_outcome_models_already_find_falls_back_to_them(linear_logs):
    router = CausalRouterClassifier(max_epochs=20, random_state=0)
    with pytest.warns(PolicyFallbackWarning):
        fit_logged(router, linear_logs)
    assert router.deployed_policy_ == "direct_method"
    decoupled = DecoupledRouter().fit(
        linear_logs.X, linear_logs.action, reward=linear_logs.reward
    )
    np.testing.assert_array_equal(
        router.predict(linear_logs.X), decoupled.predict(linear_logs.X)
    )
    np.testing.assert_allclose(
        router.decision_function(linear_logs.X),
        decoupled.decision_function(linear_logs.X),
    )


def test_the_fallback_to_the_direct_method_with_cost_is_the_decoupled_router():
    # The quality and cost models the cross-fitting tuned on every row of each
    # arm are the direct method's: the fallback is DecoupledRouter's policy.
    problem = make_routing_problem(n_samples=1200, random_state=3)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=3
    )
    outcomes = dict(reward=logs.reward, cost=logs.cost, propensity=logs.propensity)
    router = CausalRouterClassifier(cost_sensitivity=0.05, max_epochs=5, random_state=0)
    with pytest.warns(PolicyFallbackWarning):
        router.fit(logs.X, logs.action, **outcomes)
    assert router.deployed_policy_ == "direct_method"
    decoupled = DecoupledRouter(cost_sensitivity=0.05).fit(
        logs.X, logs.action, **outcomes
    )
    np.testing.assert_array_equal(router.predict(logs.X), decoupled.predict(logs.X))
    np.testing.assert_allclose(
        router.decision_function(logs.X), decoupled.decision_function(logs.X)
    )


def test_warn_keeps_the_network_and_off_skips_the_check(flat_logs):
    warned = CausalRouterClassifier(max_epochs=5, safety_check="warn", random_state=0)
    with pytest.warns(PolicyFallbackWarning, match="deployed anyway"):
        fit_logged(warned, flat_logs)
    assert warned.deployed_policy_ == "network"
    assert warned.safety_report_["choice"] != "network"
    off = CausalRouterClassifier(max_epochs=5, safety_check="off", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PolicyFallbackWarning)
        fit_logged(off, flat_logs)
    assert off.deployed_policy_ == "network" and off.safety_report_ is None
    # The same folds and seeds train the same network either way.
    np.testing.assert_array_equal(
        warned.decision_function(flat_logs.X), off.decision_function(flat_logs.X)
    )


@pytest.mark.slow
def test_a_policy_linear_models_cannot_find_deploys_the_network():
    # The better model depends on the sign of x0 * x1: per-model linear outcome
    # models cannot see it, a network can, and the logs show it. (Plain DR:
    # "auto" judges shrinkage by each model's mean, which a flat outcome model
    # gets right here, and would train on the flat direct method.)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(3000, 2))
    better = (X[:, 0] * X[:, 1] > 0).astype(int)
    expected = np.where(np.eye(2)[better] == 1, 0.8, 0.3)
    reward = (rng.uniform(size=expected.shape) < expected).astype(float)
    train, test = slice(0, 2000), slice(2000, None)
    logs = simulate_logging(
        X[train],
        reward[train],
        logging_policy="uniform",
        models=np.array(["p", "q"]),
        random_state=0,
    )
    router = CausalRouterClassifier(pseudo_outcome="dr", random_state=0).fit(
        logs.X, logs.action, reward=logs.reward, propensity=logs.propensity
    )
    assert router.deployed_policy_ == "network"
    report = router.safety_report_
    assert report["differences"][report["baseline"]]["lower_bound"] > 0
    assert 1 <= router.n_epochs_ <= max(router.training_epochs_) <= 100
    assert len(router.net_.module_.members) == 3
    decoupled = DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward)

    def true_regret(model):
        return regret(expected[test], model.predict(X[test]), classes=["p", "q"])

    # Anchored on the flat direct method, whose utility gap sets the
    # correction's step, the network learns the rule more slowly than a free
    # one: 0.54 x the decoupled regret here (a free network: below 0.5 x).
    assert true_regret(router) < 0.6 * true_regret(decoupled)


def test_full_feedback_has_no_safety_check(routing_logs):
    problem, logs, train, _ = routing_logs
    router = CausalRouterClassifier(max_epochs=10, random_state=0).fit(
        problem.X[train], logs.action, reward=problem.reward[train]
    )
    assert router.deployed_policy_ == "network"
    assert router.safety_report_ is None


@pytest.mark.parametrize("method", ["dm", "ipw"])
def test_no_doubly_robust_estimate_means_no_check(flat_logs, method):
    router = CausalRouterClassifier(pseudo_outcome=method, max_epochs=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PolicyFallbackWarning)
        fit_logged(router, flat_logs)
    assert router.deployed_policy_ == "network"
    assert router.safety_report_ is None


def _heavy_tailed_problem(seed):
    """Graded quality, costs spread 400x with heavy tails, 10% exploration."""
    rng = np.random.default_rng(seed)
    problem = make_routing_problem(
        n_samples=1200, n_models=8, price_range=(0.02, 8.0), random_state=seed
    )
    quality = np.clip(
        problem.expected_reward + rng.normal(scale=0.1, size=(1200, 8)), 0, 1
    )
    cost = problem.cost * (1.0 + rng.pareto(1.5, size=(1200, 8)))
    logs = simulate_logging(
        problem.X[:560],
        quality[:560],
        cost[:560],
        exploration=0.1,
        models=problem.models,
        random_state=seed,
    )
    return problem, quality, cost, logs


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_heavy_tailed_costs_never_give_a_router_worse_than_a_safe_policy(seed):
    # Few rows and wild pseudo-utilities: whatever the random_state, the
    # deployed router is no worse than the best single model (the policy it
    # falls back to unless another is shown better) and far better than
    # routing at random.
    problem, quality, cost, logs = _heavy_tailed_problem(seed)
    test, lam = slice(560, None), 0.5

    def true_regret(router):
        return regret(
            quality[test],
            router.predict(problem.X[test]),
            cost=cost[test],
            cost_sensitivity=lam,
            classes=problem.models,
        )

    single = true_regret(
        fit_logged(BestSingleModelRouter(cost_sensitivity=lam, random_state=0), logs)
    )
    uniform = true_regret(fit_logged(RandomRouter(random_state=0), logs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regrets = [
            true_regret(
                fit_logged(
                    CausalRouterClassifier(cost_sensitivity=lam, random_state=state),
                    logs,
                )
            )
            for state in range(3)
        ]
    assert max(regrets) <= 1.1 * single
    assert max(regrets) < 0.5 * uniform


def test_bad_safety_settings_are_clear_errors(flat_logs):
    for params, phrase in (
        ({"safety_check": "maybe"}, "safety_check"),
        ({"safety_level": 1.0}, "safety_level"),
        ({"policy_cv": 1}, "policy_cv"),
    ):
        with pytest.raises(ValueError, match=phrase):
            fit_logged(CausalRouterClassifier(**params), flat_logs)
