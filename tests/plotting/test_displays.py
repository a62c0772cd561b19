"""skroute.plotting: the displays' numbers, their drawing, and their errors."""

import numpy as np
import pytest
from helpers import fit_kwargs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import DecoupledRouter, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import routing_summary

matplotlib = pytest.importorskip("matplotlib")

from skroute.plotting import RoutingCurveDisplay, RoutingPathDisplay  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    problem = make_routing_problem(n_samples=900, random_state=0)
    logs = simulate_logging(
        problem.X[:600],
        problem.reward[:600],
        problem.cost[:600],
        models=problem.models,
        random_state=0,
    )
    test_logs = simulate_logging(
        problem.X[600:],
        problem.reward[600:],
        problem.cost[600:],
        models=problem.models,
        random_state=1,
    )
    return problem, logs, test_logs


@pytest.fixture(scope="module")
def interval_router(problem):
    _, logs, _ = problem
    router = IntervalCostRouter(
        cost_range=(0.0, 0.5), max_epochs=5, policy_cv=2, random_state=0
    )
    return router.fit(
        logs.X,
        logs.action,
        **fit_kwargs(logs),
    )


def test_curve_of_a_router_at_one_lambda_is_its_full_feedback_summary(problem):
    problem, logs, _ = problem
    router = DecoupledRouter(cost_sensitivity=0.1).fit(
        logs.X, logs.action, reward=logs.reward, cost=logs.cost
    )
    X, reward, cost = problem.X[600:], problem.expected_reward[600:], problem.cost[600:]
    display = RoutingCurveDisplay.from_estimator(router, X, reward=reward, cost=cost)
    summary = routing_summary(
        reward, router.predict(X), cost=cost, classes=router.classes_
    )
    np.testing.assert_allclose(display.costs, [summary["cost"]])
    np.testing.assert_allclose(display.qualities, [summary["quality"]])
    np.testing.assert_allclose(display.model_qualities, reward.mean(axis=0))
    np.testing.assert_allclose(display.model_costs, cost.mean(axis=0))
    assert display.oracle[1] == pytest.approx(reward.max(axis=1).mean())
    np.testing.assert_array_equal(display.cost_sensitivities, [0.1])
    assert display.name == "DecoupledRouter"
    assert display.ax_.get_xlabel() == "mean cost per query"
    assert display.models_ is not None and display.hull_ is not None
    labels = display.ax_.get_legend_handles_labels()[1]
    assert "single models" in labels and "oracle (best model per query)" in labels


def test_interval_router_curve_and_path_follow_predict(problem, interval_router):
    problem, _, _ = problem
    X, reward, cost = problem.X[600:], problem.expected_reward[600:], problem.cost[600:]
    lambdas = [0.0, 0.1, 0.3]
    curve = RoutingCurveDisplay.from_estimator(
        interval_router, X, reward=reward, cost=cost, cost_sensitivities=lambdas
    )
    path = RoutingPathDisplay.from_estimator(
        interval_router, X, cost_sensitivities=lambdas
    )
    for j, lam in enumerate(lambdas):
        routes = interval_router.predict(X, cost_sensitivity=lam)
        summary = routing_summary(
            reward, routes, cost=cost, classes=interval_router.classes_
        )
        assert curve.costs[j] == pytest.approx(summary["cost"])
        assert curve.qualities[j] == pytest.approx(summary["quality"])
        np.testing.assert_allclose(path.shares[j], summary["share"])
    assert len(path.areas_) == interval_router.classes_.size
    assert path.ax_.get_xlabel() == "cost sensitivity λ"


def test_default_points_spread_over_the_grid(problem, interval_router):
    problem, _, _ = problem
    X = problem.X[600:]
    path = RoutingPathDisplay.from_estimator(interval_router, X, n_points=7)
    grid = interval_router.cost_grid_
    assert path.cost_sensitivities[0] == grid[0]
    assert path.cost_sensitivities[-1] == grid[-1]
    assert 2 <= path.cost_sensitivities.size <= 7
    np.testing.assert_allclose(path.shares.sum(axis=1), 1.0)


def test_off_policy_curve_has_intervals_around_its_estimates(problem, interval_router):
    _, _, test_logs = problem
    display = RoutingCurveDisplay.from_estimator(
        interval_router,
        test_logs.X,
        reward=test_logs.reward,
        cost=test_logs.cost,
        y=test_logs.action,
        propensity=test_logs.propensity,
        n_points=3,
    )
    n_models = interval_router.classes_.size
    assert display.model_qualities.shape == (n_models,)
    assert display.oracle is None and display.oracle_ is None
    for values, intervals in [
        (display.qualities, display.quality_intervals),
        (display.costs, display.cost_intervals),
        (display.model_qualities, display.model_quality_intervals),
    ]:
        assert np.all(intervals[:, 0] <= values) and np.all(values <= intervals[:, 1])


def test_pipeline_is_accepted(problem):
    problem, logs, _ = problem
    pipe = make_pipeline(StandardScaler(), DecoupledRouter(cost_sensitivity=0.0))
    pipe.fit(logs.X, logs.action, decoupledrouter__reward=logs.reward)
    X = problem.X[600:]
    display = RoutingCurveDisplay.from_estimator(
        pipe, X, reward=problem.expected_reward[600:], cost=problem.cost[600:]
    )
    routes = pipe.predict(X)
    expected = routing_summary(
        problem.expected_reward[600:],
        routes,
        cost=problem.cost[600:],
        classes=pipe.classes_,
    )
    assert display.qualities[0] == pytest.approx(expected["quality"])


def test_from_predictions_draws_on_the_given_axes():
    from matplotlib import pyplot as plt

    _, ax = plt.subplots()
    reward = [[0.9, 0.2], [0.4, 0.8], [0.7, 0.6]]
    cost = [[1.0, 0.1], [1.0, 0.1], [1.0, 0.1]]
    display = RoutingCurveDisplay.from_predictions(
        [[0, 1, 0], [0, 1, 1]], reward=reward, cost=cost, ax=ax, name="mine"
    )
    assert display.ax_ is ax
    np.testing.assert_allclose(display.costs, [0.7, 0.4])
    assert display.model_names == ["0", "1"]
    # One array of routes is one point.
    single = RoutingCurveDisplay.from_predictions([0, 1, 0], reward=reward, cost=cost)
    assert single.costs.shape == (1,)


def test_errors_name_the_fix(problem, interval_router):
    problem, logs, _ = problem
    router = DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward)
    X = problem.X[600:]
    with pytest.raises(ValueError, match="from_predictions"):
        RoutingCurveDisplay.from_estimator(
            router,
            X,
            reward=problem.reward[600:],
            cost=problem.cost[600:],
            cost_sensitivities=[0.1],
        )
    with pytest.raises(TypeError, match="needs an IntervalCostRouter"):
        RoutingPathDisplay.from_estimator(router, X)
    with pytest.raises(ValueError, match="finite lambdas"):
        RoutingPathDisplay.from_estimator(interval_router, X, cost_sensitivities=[])
    with pytest.raises(ValueError, match="one value per point"):
        RoutingCurveDisplay(costs=[1.0, 2.0], qualities=[0.5])
    with pytest.raises(ValueError, match="shape"):
        RoutingPathDisplay(cost_sensitivities=[0, 1], shares=[[1.0]], classes=["a"])


def test_displays_leave_the_backend_alone(problem, interval_router):
    backend = matplotlib.get_backend()
    problem, _, _ = problem
    RoutingPathDisplay.from_estimator(interval_router, problem.X[600:], n_points=3)
    assert matplotlib.get_backend() == backend


def test_unreliable_points_are_named_by_their_lambda_and_model():
    from skroute.ope import UnreliableEstimateWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.array(["a", "b", "c"] * 10)
    reward = rng.uniform(size=30)
    propensity = np.where(y == "c", 0.01, 0.9)  # "c" logged rarely, weighted much
    with pytest.warns(UnreliableEstimateWarning) as caught:
        RoutingCurveDisplay.from_predictions(
            [np.full(30, "c"), np.full(30, "a")],
            reward=reward,
            cost=np.ones(30),
            y=y,
            propensity=propensity,
            X=X,
            cost_sensitivities=[0.0, 0.5],
        )
    message = str(caught[0].message)
    assert "the routes at λ = 0," in message or "the routes at λ = 0 " in message
    assert "model c alone" in message
    assert "point 0" not in message
    assert caught[0].filename == __file__


def test_curves_on_one_axes_share_models_hull_oracle_and_legend(problem):
    problem, logs, _ = problem
    X, reward, cost = problem.X[600:], problem.expected_reward[600:], problem.cost[600:]
    router = DecoupledRouter(cost_sensitivity=0.0).fit(
        logs.X, logs.action, reward=logs.reward, cost=logs.cost
    )
    curve = {"reward": reward, "cost": cost}
    first = RoutingCurveDisplay.from_estimator(router, X, name="a", **curve)
    second = RoutingCurveDisplay.from_estimator(
        router, X, name="b", ax=first.ax_, **curve
    )
    ax = first.ax_
    labels = ax.get_legend().get_texts()
    labels = [t.get_text() for t in labels]
    assert sorted(labels) == sorted(
        ["a", "b", "single models", "upper hull", "oracle (best model per query)"]
    )
    hulls = [line for line in ax.lines if line.get_label() == "upper hull"]
    assert len(hulls) == 1 and second.hull_ is hulls[0]
    assert second.models_ is first.models_ and second.oracle_ is first.oracle_
    # The same points, told apart by marker and line style.
    assert first.line_.get_marker() != second.line_.get_marker()
    assert first.line_.get_linestyle() != second.line_.get_linestyle()


def test_legend_sits_outside_the_axes(problem):
    problem, logs, _ = problem
    router = DecoupledRouter(cost_sensitivity=0.1).fit(
        logs.X, logs.action, reward=logs.reward, cost=logs.cost
    )
    display = RoutingCurveDisplay.from_estimator(
        router, problem.X[600:], reward=problem.reward[600:], cost=problem.cost[600:]
    )
    figure = display.figure_
    figure.canvas.draw()
    legend = display.ax_.get_legend().get_window_extent()
    axes = display.ax_.get_window_extent()
    assert legend.x0 >= axes.x1


def test_quality_axis_stays_within_the_rewards_range(problem, interval_router):
    _, _, test_logs = problem
    from skroute.ope import UnreliableEstimateWarning

    rows = slice(0, 60)  # few rows: wide intervals that would pass 1
    with pytest.warns(UnreliableEstimateWarning):
        display = RoutingCurveDisplay.from_estimator(
            interval_router,
            test_logs.X[rows],
            reward=test_logs.reward[rows],
            cost=test_logs.cost[rows],
            y=test_logs.action[rows],
            propensity=test_logs.propensity[rows],
            n_points=3,
        )
    # The estimates' own intervals pass 1; the drawing stops there.
    assert (
        max(display.quality_intervals.max(), display.model_quality_intervals.max())
        > 1.0
    )
    assert set(np.unique(test_logs.reward)) <= {0.0, 1.0}
    assert display.quality_range == (0.0, 1.0)
    bottom, top = display.ax_.get_ylim()
    assert 0.0 <= bottom and top <= 1.0
    caps = display.line_.lines[1]
    assert all(np.max(cap.get_ydata()) <= 1.0 for cap in caps)
    with pytest.raises(ValueError, match="quality_range"):
        RoutingCurveDisplay(costs=[1.0], qualities=[0.5], quality_range=(1, 0))


def test_path_gives_each_model_its_colour_and_leaves_out_unused_ones():
    classes = [f"model-{i}" for i in range(14)]
    lambdas = np.array([0.0, 0.001, 0.01, 0.1, 1.0])
    shares = np.zeros((lambdas.size, len(classes)))
    shares[:, :12] = 1 / 12  # the last two models take no query
    display = RoutingPathDisplay(
        cost_sensitivities=lambdas, shares=shares, classes=classes
    ).plot()
    assert list(display.shown_classes_) == classes[:12]
    assert len(display.areas_) == 12
    colours = {tuple(area.get_facecolor().ravel().round(3)) for area in display.areas_}
    assert len(colours) == 12
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == classes[:12][::-1]  # top of the stack first
    # Tick labels at least a tenth of the axis apart: "0" and "0.001" part.
    display.figure_.canvas.draw()
    positions = [
        tick.get_window_extent().x0
        for tick in display.ax_.get_xticklabels()
        if tick.get_text()
    ]
    width = display.ax_.get_window_extent().width
    assert len(positions) >= 3
    assert np.min(np.diff(sorted(positions))) >= 0.09 * width
