import pickle

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.metrics import make_policy_value_scorer, regret

RANGE = (0.0, 0.2)


def _logged(logs):
    return {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}


@pytest.fixture(scope="module")
def fitted_interval(routing_logs):
    _, logs, _, _ = routing_logs
    router = IntervalCostRouter(cost_range=RANGE, n_intervals=4, random_state=0)
    return router.fit(logs.X, logs.action, **_logged(logs))


def test_scores_are_linear_between_grid_points(routing_logs, fitted_interval):
    problem, _, _, test = routing_logs
    X = problem.X[test][:50]
    left, right = fitted_interval.cost_grid_[1], fitted_interval.cost_grid_[2]
    at_left = fitted_interval.decision_function(X, cost_sensitivity=left)
    at_right = fitted_interval.decision_function(X, cost_sensitivity=right)
    inside = left + 0.3 * (right - left)
    np.testing.assert_allclose(
        fitted_interval.decision_function(X, cost_sensitivity=inside),
        0.7 * at_left + 0.3 * at_right,
        atol=1e-10,
    )


def test_per_row_cost_sensitivity_matches_scalar_calls(routing_logs, fitted_interval):
    problem, _, _, test = routing_logs
    X = problem.X[test][:40]
    values = np.linspace(*RANGE, 40)
    per_row = fitted_interval.predict(X, cost_sensitivity=values)
    one_by_one = [
        fitted_interval.predict(X[i : i + 1], cost_sensitivity=values[i])[0]
        for i in range(40)
    ]
    np.testing.assert_array_equal(per_row, one_by_one)


def test_default_cost_sensitivity_drives_predict_and_score(routing_logs):
    problem, logs, _, test = routing_logs
    router = IntervalCostRouter(
        cost_range=RANGE, n_intervals=4, cost_sensitivity=0.1, random_state=0
    ).fit(logs.X, logs.action, **_logged(logs))
    np.testing.assert_array_equal(
        router.predict(problem.X[test]),
        router.predict(problem.X[test], cost_sensitivity=0.1),
    )
    assert np.isfinite(router.score(logs.X, logs.action, **_logged(logs)))


def test_routing_path_agrees_with_predict(routing_logs, fitted_interval):
    problem, _, _, test = routing_logs
    X = problem.X[test][:100]
    probe = np.linspace(*RANGE, 401)[1:-1] + 1.7e-7
    paths = fitted_interval.routing_path(X)
    from_paths = np.array([path.model_at(probe) for path in paths])
    from_predict = np.array(
        [fitted_interval.predict(X, cost_sensitivity=value) for value in probe]
    ).T
    np.testing.assert_array_equal(from_paths, from_predict)
    for path in paths:
        assert np.all(np.diff(path.breakpoints) > 0)
        assert len(path.models) == len(path.breakpoints) + 1


def test_affine_heads_route_to_lower_cost_scores_as_lambda_rises(routing_logs):
    # By construction the scores are q(x) - position * c(x): along lambda the
    # upper envelope can only move to models with a lower learned cost c(x).
    import torch

    problem, logs, _, test = routing_logs
    router = IntervalCostRouter(
        cost_range=RANGE, n_intervals=4, heads="affine", random_state=0
    ).fit(logs.X, logs.action, **_logged(logs))
    X = problem.X[test]
    module = router.net_.module_
    with torch.no_grad():
        features = torch.as_tensor(X, dtype=torch.float32)
        cost_score = module.cost(module.trunk(features)).numpy()
    column = {model: t for t, model in enumerate(router.classes_.tolist())}
    chosen = np.array(
        [
            cost_score[
                np.arange(len(X)),
                [column[m] for m in router.predict(X, cost_sensitivity=value)],
            ]
            for value in np.linspace(*RANGE, 81)
        ]
    )
    assert np.all(np.diff(chosen, axis=0) <= 1e-9)
    # In true cost, the router spends less when cost matters more.
    true_cost = [
        problem.cost[test][
            np.arange(len(X)),
            [column[m] for m in router.predict(X, cost_sensitivity=value)],
        ].mean()
        for value in RANGE
    ]
    assert true_cost[1] < true_cost[0]


def test_one_interval_router_competes_with_a_router_per_lambda(routing_logs):
    problem, logs, _, test = routing_logs
    router = IntervalCostRouter(cost_range=RANGE, n_intervals=4, random_state=0).fit(
        logs.X, logs.action, **_logged(logs)
    )
    for value in (0.05, 0.15):
        single = CausalRouterClassifier(cost_sensitivity=value, random_state=0).fit(
            logs.X, logs.action, **_logged(logs)
        )

        def true_regret(routes, value=value):
            return regret(
                problem.expected_reward[test],
                routes,
                cost=problem.cost[test],
                cost_sensitivity=value,
                classes=problem.models,
            )

        interval_regret = true_regret(
            router.predict(problem.X[test], cost_sensitivity=value)
        )
        # Same data and seed; a loose factor, the benchmark measures the ratio.
        assert interval_regret <= 1.5 * true_regret(single.predict(problem.X[test]))


def test_geometric_and_linear_grids():
    geometric = IntervalCostRouter(cost_range=(0.0, 0.2), n_intervals=4)._cost_grid()
    np.testing.assert_allclose(geometric, [0.0, 0.025, 0.05, 0.1, 0.2])
    positive = IntervalCostRouter(cost_range=(0.01, 1.0), n_intervals=2)._cost_grid()
    np.testing.assert_allclose(positive, [0.01, 0.1, 1.0])
    linear = IntervalCostRouter(cost_range=(0.0, 0.2), n_intervals=4, spacing="linear")
    np.testing.assert_allclose(linear._cost_grid(), [0.0, 0.05, 0.1, 0.15, 0.2])


def test_budget_calibration_meets_the_estimated_budget(routing_logs, fitted_interval):
    problem, logs, _, _ = routing_logs
    path = fitted_interval.cost_quality_path(logs.X, logs.action, **_logged(logs))
    assert np.all(np.isfinite(path.cost)) and path.cost.shape == (101,)
    budget = float(np.median(path.cost))
    result = fitted_interval.cost_sensitivity_for_budget(
        logs.X, logs.action, **_logged(logs), budget=budget
    )
    assert result.estimated_cost <= budget
    assert RANGE[0] <= result.cost_sensitivity <= RANGE[1]
    # No point of the path lies between the chosen estimate and the budget.
    between = (path.cost > result.estimated_cost) & (path.cost <= budget)
    assert not between.any()
    with pytest.raises(ValueError, match="meets the budget"):
        fitted_interval.cost_sensitivity_for_budget(
            logs.X, logs.action, **_logged(logs), budget=1e-9
        )


@pytest.mark.parametrize(
    "value, error, message",
    [
        (np.nan, ValueError, "NaN or infinity"),
        (-0.1, ValueError, "must be >= 0"),
        (0.5, ValueError, "outside the router's range [0, 0.2]"),
        (np.zeros(3), ValueError, "one value per row, shape (5,)"),
        (np.zeros((5, 1)), ValueError, "one value per row"),
        ("high", TypeError, "must be a number"),
    ],
)
def test_bad_cost_sensitivity_at_predict(
    routing_logs, fitted_interval, value, error, message
):
    problem, _, _, test = routing_logs
    with pytest.raises(error) as info:
        fitted_interval.predict(problem.X[test][:5], cost_sensitivity=value)
    assert message in str(info.value)


def test_out_of_range_clip_uses_the_nearest_end(routing_logs, fitted_interval):
    problem, _, _, test = routing_logs
    clipping = pickle.loads(pickle.dumps(fitted_interval)).set_params(
        out_of_range="clip"
    )
    np.testing.assert_array_equal(
        clipping.predict(problem.X[test], cost_sensitivity=0.9),
        fitted_interval.predict(problem.X[test], cost_sensitivity=0.2),
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cost_range": (0.2, 0.1)}, "cost_range must be (lambda_min, lambda_max)"),
        ({"cost_range": (-1, 0.1)}, "cost_range must be"),
        ({"grid": [0.0, 0.1, 0.05]}, "grid must be a strictly increasing"),
        ({"cost_range": (0.1, 0.2)}, "cost_sensitivity=0.0 lies outside the range"),
        ({"n_intervals": 0}, "'n_intervals' parameter"),
        ({"out_of_range": "wrap"}, "'out_of_range' parameter"),
    ],
)
def test_bad_range_parameters(routing_logs, params, message):
    _, logs, _, _ = routing_logs
    with pytest.raises(ValueError) as info:
        IntervalCostRouter(max_epochs=1, **params).fit(
            logs.X, logs.action, **_logged(logs)
        )
    assert message in str(info.value)


def test_pickle_round_trip(routing_logs, fitted_interval):
    problem, _, _, test = routing_logs
    restored = pickle.loads(pickle.dumps(fitted_interval))
    np.testing.assert_array_equal(
        restored.decision_function(problem.X[test], cost_sensitivity=0.07),
        fitted_interval.decision_function(problem.X[test], cost_sensitivity=0.07),
    )


def test_grid_search_in_a_pipeline(routing_logs):
    _, logs, _, _ = routing_logs
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            make_pipeline(
                StandardScaler(),
                IntervalCostRouter(
                    cost_range=RANGE, n_intervals=2, max_epochs=5, random_state=0
                ),
            ),
            {"intervalcostrouter__hidden_layer_sizes": [(), (32,)]},
            scoring=make_policy_value_scorer(cost_sensitivity=0.05),
            cv=KFold(3),
        )
        search.fit(logs.X, logs.action, **_logged(logs))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
