import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import CausalRouterClassifier, DecoupledRouter
from skroute.metrics import (
    make_policy_value_scorer,
    make_regret_scorer,
    policy_value,
    regret,
)

LAMBDA = 0.05


@pytest.fixture
def metadata_routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


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
