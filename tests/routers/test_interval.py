import copy
import pickle

import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs, fit_logged
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.metrics import make_policy_value_scorer, regret
from skroute.routers import PolicyFallbackWarning

RANGE = (0.0, 0.2)


_FITTED = {}


def _fitted(routing_logs, **params):
    """The router with ``params``, fitted once per module: read it, never change it."""
    _, logs, _, _ = routing_logs
    router = IntervalCostRouter(cost_range=RANGE, n_intervals=4, random_state=0)
    router.set_params(**params)
    key = repr(sorted(router.get_params().items()))
    if key not in _FITTED:
        _FITTED[key] = fit_logged(router, logs, quiet=True)
    return _FITTED[key]


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


def test_default_cost_sensitivity_drives_predict_and_score(
    routing_logs, fitted_interval
):
    problem, logs, _, test = routing_logs
    # The default lambda is the one fitted: a copy set to 0.1 after fit routes
    # as before, and predict takes any lambda of the range as an argument.
    router = copy.deepcopy(fitted_interval).set_params(cost_sensitivity=0.1)
    fitted_default = fitted_interval.cost_sensitivity_
    assert router.cost_sensitivity_ == fitted_default != 0.1
    np.testing.assert_array_equal(
        router.predict(problem.X[test]),
        fitted_interval.predict(problem.X[test], cost_sensitivity=fitted_default),
    )
    assert np.isfinite(router.score(logs.X, logs.action, **fit_kwargs(logs)))


@pytest.mark.parametrize("heads", ["quality", "independent"])
def test_routing_path_agrees_with_predict(routing_logs, fitted_interval, heads):
    problem, _, _, test = routing_logs
    router = fitted_interval
    if heads != "quality":
        # The path follows from the scores whatever the training: a short one.
        router = _fitted(routing_logs, heads=heads, safety_check="off", max_epochs=5)
    X = problem.X[test][:100]
    probe = np.linspace(*RANGE, 401)[1:-1] + 1.7e-7
    paths = router.routing_path(X)
    from_paths = np.array([path.model_at(probe) for path in paths])
    from_predict = np.array(
        [router.predict(X, cost_sensitivity=value) for value in probe]
    ).T
    np.testing.assert_array_equal(from_paths, from_predict)
    for path in paths:
        assert np.all(np.diff(path.breakpoints) > 0)
        assert len(path.models) == len(path.breakpoints) + 1 == len(path.costs)


@pytest.mark.parametrize(
    "params",
    [
        {"safety_check": "off"},
        {"heads": "affine", "safety_check": "off"},
        {"safety_check": "fallback"},
    ],
    ids=["quality", "affine", "fallback"],
)
def test_estimated_cost_never_rises_along_the_path(
    routing_logs, fitted_interval, params
):
    problem, _, _, test = routing_logs
    if params == {"safety_check": "off"}:
        router = fitted_interval  # the same router, fitted once for every module
    else:
        router = _fitted(routing_logs, **params)
    X = problem.X[test]
    paths = router.routing_path(X)
    assert sum(len(path.breakpoints) for path in paths) > 0
    for path in paths:
        assert np.all(np.diff(path.costs) <= 1e-12 * (1 + np.abs(path.costs[:-1])))
    # The same through predict: the chosen model's estimated cost, read off
    # the slope of its score, at increasing lambda.
    column = {model: t for t, model in enumerate(router.classes_.tolist())}
    values = np.linspace(*RANGE, 41)
    step = 1e-3 * (RANGE[1] - RANGE[0])
    slopes = (
        router.decision_function(X, cost_sensitivity=0.1)
        - router.decision_function(X, cost_sensitivity=0.1 + step)
    ) / step
    estimated = np.array(
        [
            slopes[
                np.arange(len(X)),
                [column[m] for m in router.predict(X, cost_sensitivity=value)],
            ]
            for value in values
        ]
    )
    assert np.all(np.diff(estimated, axis=0) <= 1e-8)
    # In true cost, the router spends less when cost matters more.
    true_cost = [
        problem.cost[test][
            np.arange(len(X)),
            [column[m] for m in router.predict(X, cost_sensitivity=value)],
        ].mean()
        for value in RANGE
    ]
    assert true_cost[1] < true_cost[0]


def test_deployed_policies_and_their_report(routing_logs):
    checked = _fitted(routing_logs)
    assert checked.deployed_policy_ in {"network", "direct_method", "best_single"}
    report = checked.safety_report_
    assert report["choice"] == checked.deployed_policy_
    assert checked.n_epochs_ in report["epoch_lower_bounds"]
    assert len(checked.training_epochs_) == checked.policy_cv
    with pytest.warns(PolicyFallbackWarning, match="could not be shown better"):
        _, logs, _, _ = routing_logs
        IntervalCostRouter(
            cost_range=RANGE, n_intervals=4, max_epochs=1, random_state=0
        ).fit(logs.X, logs.action, **fit_kwargs(logs))


@pytest.mark.slow
def test_one_interval_router_competes_with_a_router_per_lambda(routing_logs):
    problem, logs, _, test = routing_logs
    router = _fitted(routing_logs)
    for value in (0.05, 0.15):
        single = CausalRouterClassifier(cost_sensitivity=value, random_state=0).fit(
            logs.X, logs.action, **fit_kwargs(logs)
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
    geometric = IntervalCostRouter(
        cost_range=(0.0, 0.2), n_intervals=4, spacing="geometric"
    )._cost_grid()
    np.testing.assert_allclose(geometric, [0.0, 0.025, 0.05, 0.1, 0.2])
    positive = IntervalCostRouter(
        cost_range=(0.01, 1.0), n_intervals=2, spacing="geometric"
    )._cost_grid()
    np.testing.assert_allclose(positive, [0.01, 0.1, 1.0])
    linear = IntervalCostRouter(cost_range=(0.0, 0.2), n_intervals=4, spacing="linear")
    np.testing.assert_allclose(linear._cost_grid(), [0.0, 0.05, 0.1, 0.15, 0.2])


def test_auto_grid_follows_where_routes_change():
    # Two models whose routes all switch near lambda = 0.1 of a [0, 1] range.
    rng = np.random.default_rng(0)
    quality = np.column_stack([np.full(500, 0.6), np.full(500, 0.5)])
    cost = np.column_stack([np.full(500, 1.0), np.zeros(500)])
    quality[:, 0] += rng.uniform(-0.02, 0.02, 500)
    router = IntervalCostRouter(cost_range=(0.0, 1.0), n_intervals=8)
    grid = router._cost_grid(quality, cost)
    assert grid[0] == 0.0 and grid[-1] == 1.0 and np.all(np.diff(grid) > 0)
    # Half the draws go where routes change: about half the points near 0.1.
    assert np.sum((grid > 0.05) & (grid < 0.15)) >= 3
    # No interval is wider than twice an even one.
    assert np.diff(grid).max() <= 2 / 8 + 1e-9
    even = router._cost_grid()
    np.testing.assert_allclose(even, np.linspace(0, 1, 9))


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
        ({"cost_range": (0.1, 0.2)}, "cost_sensitivity=0 lies outside the range"),
        ({"n_intervals": 0}, "'n_intervals' parameter"),
        ({"out_of_range": "wrap"}, "'out_of_range' parameter"),
    ],
)
def test_bad_range_parameters(routing_logs, params, message):
    _, logs, _, _ = routing_logs
    with pytest.raises(ValueError) as info:
        IntervalCostRouter(max_epochs=1, **params).fit(
            logs.X, logs.action, **fit_kwargs(logs)
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
        search.fit(logs.X, logs.action, **fit_kwargs(logs))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
