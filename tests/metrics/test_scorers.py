import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import CausalRouterClassifier, DecoupledRouter
from skroute.metrics import (
    cost_quality_curve,
    cost_to_reach,
    make_policy_value_scorer,
    make_regret_scorer,
    normalised_area,
    policy_value,
    quality_gap_recovered,
    regret,
    routing_summary,
)

LAMBDA = 0.05


@pytest.fixture
def metadata_routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.mark.parametrize("method", ["ipw", "snipw", "dr", "sndr"])
def test_policy_value_tracks_the_truth(routing_logs, method):
    problem, logs, train, _ = routing_logs
    router = DecoupledRouter(cost_sensitivity=LAMBDA).fit(
        logs.X, logs.action, **fit_kwargs(logs)
    )
    chosen = router.predict(logs.X)
    estimate = policy_value(
        chosen,
        logs.action,
        X=logs.X,
        cost_sensitivity=LAMBDA,
        method=method,
        classes=problem.models,
        **fit_kwargs(logs),
    )
    truth = policy_value(
        chosen,
        logs.action,
        reward=problem.reward[train],
        cost=problem.cost[train],
        cost_sensitivity=LAMBDA,
        classes=problem.models,
    )
    assert truth.method == "full_feedback"
    assert abs(estimate.estimate - truth.estimate) < 4 * estimate.standard_error


def test_policy_value_estimates_propensity_when_missing(routing_logs):
    problem, logs, train, _ = routing_logs
    chosen = np.full(len(logs.X), problem.models[-1])
    estimate = policy_value(
        chosen, logs.action, reward=logs.reward, X=logs.X, classes=problem.models
    )
    truth = problem.reward[train][:, -1].mean()
    assert abs(estimate.estimate - truth) < 4 * estimate.standard_error


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y_pred": ["nope"] * 4}, "y_pred holds a model that is not among classes"),
        ({"y": ["a", "b", "z", "a"]}, "not in classes"),
        ({"propensity": [0.5, 0.0, 0.5, 0.5]}, "propensity must be in (0, 1]"),
        ({"reward": [1.0, 0.0]}, "reward has 2 rows but X has 4"),
        ({"X": None, "propensity": None}, "needs X to fit its nuisance models"),
        ({"y_pred": np.full((4, 2), 0.3)}, "must sum to 1"),
    ],
)
def test_policy_value_bad_input(kwargs, message):
    arguments = {
        "y_pred": ["a", "b", "a", "b"],
        "y": ["a", "b", "b", "a"],
        "reward": [1.0, 0.0, 1.0, 0.0],
        "propensity": [0.5, 0.5, 0.5, 0.5],
        "X": np.zeros((4, 2)),
        "classes": ["a", "b"],
        "method": "ipw",
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError) as info:
        policy_value(arguments.pop("y_pred"), arguments.pop("y"), **arguments)
    assert message in str(info.value)


def test_grid_search_with_dr_scorer_in_a_pipeline(routing_logs, metadata_routing):
    problem, logs, _, test = routing_logs
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(), CausalRouterClassifier(max_epochs=5, random_state=0)
        ),
        {"causalrouterclassifier__cost_sensitivity": [0.0, LAMBDA]},
        scoring=make_policy_value_scorer(cost_sensitivity=LAMBDA),
        cv=KFold(3),
    )
    search.fit(logs.X, logs.action, **fit_kwargs(logs))
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and scores.shape == (2,)


def test_cross_validate_with_several_scorers(routing_logs, metadata_routing):
    _, logs, _, _ = routing_logs
    result = cross_validate(
        CausalRouterClassifier(cost_sensitivity=LAMBDA, max_epochs=5, random_state=0),
        logs.X,
        logs.action,
        params=fit_kwargs(logs),
        scoring={
            "dr": make_policy_value_scorer("dr"),
            "snipw": make_policy_value_scorer("snipw"),
            "stochastic": make_policy_value_scorer(response_method="predict_proba"),
        },
        cv=3,
    )
    for name in ("dr", "snipw", "stochastic"):
        assert np.isfinite(result[f"test_{name}"]).all()


def test_scorer_without_routing_explains_how_to_enable_it(routing_logs):
    _, logs, _, _ = routing_logs
    router = DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward)
    with (
        pytest.warns(UserWarning, match="enable metadata routing"),
        pytest.raises(TypeError, match="enable_metadata_routing=True"),
    ):
        make_policy_value_scorer()(router, logs.X, logs.action)


def test_grid_search_without_routing_warns_instead_of_failing_silently(routing_logs):
    _, logs, _, _ = routing_logs
    search = GridSearchCV(
        DecoupledRouter(),
        {"cost_sensitivity": [0.0, 0.1]},
        scoring=make_policy_value_scorer(cost_sensitivity=0.1),
        cv=2,
    )
    with pytest.warns(UserWarning, match="enable metadata routing"):
        search.fit(logs.X, logs.action, **fit_kwargs(logs))


def test_lambda_without_cost_is_an_error(routing_logs):
    _, logs, _, _ = routing_logs
    with pytest.raises(ValueError, match="needs cost"):
        policy_value(
            logs.action,
            logs.action,
            reward=logs.reward,
            propensity=logs.propensity,
            cost_sensitivity=0.1,
            method="ipw",
        )


def test_regret_scorer_under_full_feedback(routing_logs, metadata_routing):
    problem, logs, train, _ = routing_logs
    scorer = make_regret_scorer(cost_sensitivity=LAMBDA)
    result = cross_validate(
        DecoupledRouter(cost_sensitivity=LAMBDA),
        logs.X,
        logs.action,
        params={"reward": problem.reward[train], "cost": problem.cost[train]},
        scoring={"neg_regret": scorer},
        cv=3,
    )
    assert (result["test_neg_regret"] <= 0).all()
    router = DecoupledRouter(cost_sensitivity=LAMBDA).fit(
        logs.X, logs.action, reward=problem.reward[train], cost=problem.cost[train]
    )
    expected = regret(
        problem.reward[train],
        router.predict(logs.X),
        cost=problem.cost[train],
        cost_sensitivity=LAMBDA,
        classes=router.classes_,
    )
    value = scorer(
        router,
        logs.X,
        logs.action,
        reward=problem.reward[train],
        cost=problem.cost[train],
    )
    assert value == pytest.approx(-expected)
    with pytest.raises(ValueError, match="needs full-feedback reward"):
        scorer(router, logs.X, logs.action, reward=logs.reward)


def test_scorer_reads_cost_sensitivity_from_a_pipelines_router(routing_logs):
    _, logs, _, _ = routing_logs
    pipe = make_pipeline(StandardScaler(), DecoupledRouter(cost_sensitivity=0.2))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(logs.X, logs.action, **fit_kwargs(logs))
    default = make_policy_value_scorer()(pipe, logs.X, logs.action, **fit_kwargs(logs))
    fixed = make_policy_value_scorer(cost_sensitivity=0.2)(
        pipe, logs.X, logs.action, **fit_kwargs(logs)
    )
    assert default == fixed


def test_scorer_uses_the_routers_cost_sensitivity_by_default(routing_logs):
    _, logs, _, _ = routing_logs
    router = DecoupledRouter(cost_sensitivity=0.2).fit(
        logs.X, logs.action, **fit_kwargs(logs)
    )
    default = make_policy_value_scorer(random_state=0)(
        router, logs.X, logs.action, **fit_kwargs(logs)
    )
    fixed = make_policy_value_scorer(cost_sensitivity=0.2, random_state=0)(
        router, logs.X, logs.action, **fit_kwargs(logs)
    )
    assert default == fixed


def test_cost_quality_hull_and_summaries():
    curve = cost_quality_curve([1.0, 2.0, 3.0, 4.0, 2.5], [0.5, 0.6, 0.9, 0.8, 0.4])
    np.testing.assert_array_equal(curve.hull_costs, [1.0, 3.0])
    np.testing.assert_array_equal(curve.hull_qualities, [0.5, 0.9])
    assert curve.quality_at(2.0) == pytest.approx(0.7)
    assert curve.quality_at(0.5) == -np.inf
    assert cost_to_reach(curve, 0.7) == pytest.approx(2.0)
    assert cost_to_reach(curve, 0.95) == np.inf
    assert quality_gap_recovered(curve, 2.0, weak_quality=0.5, strong_quality=0.9) == (
        pytest.approx(0.5)
    )
    # Hull from (1, 0.5) to (3, 0.9) then flat to 5: mean quality over [1, 5] is
    # (2 * 0.7 + 2 * 0.9) / 4 = 0.8; normalised between 0.5 and 1.0 gives 0.6.
    area = normalised_area(curve, cheapest=(1.0, 0.5), oracle_quality=1.0, max_cost=5.0)
    assert area == pytest.approx(0.6, abs=1e-6)


def test_routing_summary_hand_computed():
    reward = np.array([[1.0, 0.5], [0.0, 1.0], [1.0, 1.0]])
    cost = np.array([[2.0, 0.0], [1.0, 1.0], [1.0, 0.5]])
    summary = routing_summary(reward, [0, 1, 1], cost=cost, cost_sensitivity=0.5)
    np.testing.assert_allclose(summary["share"], [1 / 3, 2 / 3])
    assert summary["quality"] == pytest.approx(1.0)
    assert summary["cost"] == pytest.approx(3.5 / 3)
    # Utilities [[0, .5], [-.5, .5], [.5, .75]]: the second and third routes are best.
    assert summary["oracle_agreement"] == pytest.approx(2 / 3)
    assert summary["regret"] == pytest.approx(0.5 / 3)


def test_cost_quality_values_of_several_policies(routing_logs):
    from skroute.metrics import cost_quality_values

    problem, logs, train, _ = routing_logs
    policies = [np.full(len(logs.X), model) for model in problem.models[[0, -1]]]
    qualities, costs = cost_quality_values(
        policies, logs.action, X=logs.X, classes=problem.models, **fit_kwargs(logs)
    )
    for column, quality, cost in zip((0, -1), qualities, costs):
        true_quality = problem.reward[train][:, column].mean()
        true_cost = problem.cost[train][:, column].mean()
        assert abs(quality.estimate - true_quality) < 4 * quality.standard_error
        assert abs(cost.estimate - true_cost) < 4 * cost.standard_error
    exact_quality, exact_cost = cost_quality_values(
        policies,
        logs.action,
        reward=problem.reward[train],
        cost=problem.cost[train],
        classes=problem.models,
    )
    assert exact_cost[1].estimate == pytest.approx(problem.cost[train][:, -1].mean())


def test_a_search_warns_once_about_weak_scores(routing_logs, metadata_routing):
    import warnings

    from skroute.ope import UnreliableEstimateWarning

    _, logs, _, _ = routing_logs
    rows = slice(0, 300)  # 60 rows per validation fold: most scores are weak
    params = {key: value[rows] for key, value in fit_kwargs(logs).items()}
    lambdas = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    scorer = make_policy_value_scorer(cost_sensitivity=LAMBDA, cv=2)
    search = GridSearchCV(
        DecoupledRouter(),
        {"cost_sensitivity": lambdas},
        scoring=scorer,
        cv=KFold(5, shuffle=True, random_state=0),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(logs.X[rows], logs.action[rows], **params)
    weak = [w for w in caught if issubclass(w.category, UnreliableEstimateWarning)]
    assert len(weak) == 1
    assert "warns once" in str(weak[0].message)
    assert scorer._n_scored == len(lambdas) * 5
    # The condition it reports holds on several of the 40 scores, not one.
    n_weak = 0
    for train, test in KFold(5, shuffle=True, random_state=0).split(logs.X[rows]):
        router = DecoupledRouter(cost_sensitivity=0.0).fit(
            logs.X[rows][train],
            logs.action[rows][train],
            **{key: value[train] for key, value in params.items()},
        )
        value = policy_value(
            router.predict(logs.X[rows][test]),
            logs.action[rows][test],
            **{key: value[test] for key, value in params.items()},
            cost_sensitivity=LAMBDA,
            X=logs.X[rows][test],
            classes=router.classes_,
            cv=2,
            warn=False,
        )
        n_weak += value.diagnostics["effective_sample_size"] < 30
    assert n_weak >= 2


def test_cv_as_a_list_of_splits_matches_the_splitter(routing_logs, metadata_routing):
    from skroute.causal import cross_fit_pseudo_outcomes

    _, logs, _, _ = routing_logs
    splitter = KFold(3, shuffle=True, random_state=0)
    splits = list(splitter.split(logs.X))
    action = np.searchsorted(np.unique(logs.action), logs.action)
    arrays = (logs.X, action, logs.reward, logs.cost, logs.propensity)
    by_splitter, by_list, other = (
        cross_fit_pseudo_outcomes(*arrays, n_classes=6, cv=cv, random_state=0)
        for cv in (splitter, splits, list(KFold(3).split(logs.X)))
    )
    np.testing.assert_array_equal(by_splitter.dr_reward, by_list.dr_reward)
    assert not np.allclose(by_list.dr_reward, other.dr_reward)  # folds matter
    # A router takes the list too, through clone.
    router = sklearn.clone(CausalRouterClassifier(max_epochs=2, cv=splits))
    router.fit(logs.X, logs.action, **fit_kwargs(logs))
    assert router.predict(logs.X).shape == (2000,)
    bad = [(splits[0][0], splits[0][1] + len(logs.X))] + splits[1:]
    with pytest.raises(ValueError, match="outside 0..1999"):
        CausalRouterClassifier(max_epochs=3, cv=bad).fit(
            logs.X, logs.action, **fit_kwargs(logs)
        )
