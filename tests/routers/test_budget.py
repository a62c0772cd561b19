"""BudgetRouter: an interval router held to a budget on the mean cost per query."""

import copy
import pickle

import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.utils import get_tags

from skroute import BudgetRouter, CausalRouterClassifier, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import policy_value
from skroute.serving import load_exported

# Small logs: the estimates of some routes rest on few rows, and say so.
pytestmark = pytest.mark.filterwarnings("ignore::skroute.ope.UnreliableEstimateWarning")

RANGE = (0.0, 0.05)
FIT, CALIBRATION = slice(0, 400), slice(400, None)


def _router(**params):
    settings = dict(
        cost_range=RANGE,
        n_intervals=4,
        max_epochs=3,
        cv=2,
        policy_cv=2,
        safety_check="off",
        random_state=0,
    )
    return IntervalCostRouter(**{**settings, **params})


@pytest.fixture(scope="module")
def logs():
    problem = make_routing_problem(n_samples=600, random_state=0)
    return simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=0
    )


def _data(logs, rows=slice(None)):
    return logs.X[rows], logs.action[rows]


@pytest.fixture(scope="module")
def fitted(logs):
    return _router().fit(*_data(logs, FIT), **fit_kwargs(logs, FIT))


@pytest.fixture(scope="module")
def path(logs, fitted):
    return fitted.cost_quality_path(
        *_data(logs, CALIBRATION), **fit_kwargs(logs, CALIBRATION)
    )


def _prefit(logs, router, budget, **params):
    budgeted = BudgetRouter(router, budget=budget, cv="prefit", **params)
    return budgeted.fit(*_data(logs, CALIBRATION), **fit_kwargs(logs, CALIBRATION))


def test_budget_is_met_by_the_estimate(logs, fitted, path):
    assert np.all(np.isfinite(path.cost)) and path.cost.shape == (101,)
    budget = float(np.median(path.cost))
    budgeted = _prefit(logs, fitted, budget)
    result = budgeted.budget_result_
    assert budgeted.router_ is fitted
    assert budgeted.cost_sensitivity_ == result.cost_sensitivity
    assert result.estimated_cost <= budget
    assert RANGE[0] <= result.cost_sensitivity <= RANGE[1]
    assert result.n_samples == 200 and budgeted.mixture_ is None
    # No point of the path lies between the chosen estimate and the budget.
    between = (path.cost > result.estimated_cost) & (path.cost <= budget)
    assert not between.any()
    X = logs.X[CALIBRATION]
    at_lambda = {"cost_sensitivity": budgeted.cost_sensitivity_}
    np.testing.assert_array_equal(budgeted.predict(X), fitted.predict(X, **at_lambda))
    np.testing.assert_array_equal(
        budgeted.predict_proba(X), fitted.predict_proba(X, **at_lambda)
    )
    np.testing.assert_array_equal(
        budgeted.decision_function(X), fitted.decision_function(X, **at_lambda)
    )
    np.testing.assert_array_equal(budgeted.classes_, fitted.classes_)
    assert budgeted.n_features_in_ == fitted.n_features_in_


def test_conservative_budget_meets_the_upper_bound(logs, fitted, path):
    budget = float(path.cost.min() + path.cost.max()) / 2
    plain = _prefit(logs, fitted, budget).budget_result_
    careful = _prefit(logs, fitted, budget, conservative=True)
    result = careful.budget_result_
    assert result.cost_upper_bound <= budget
    assert result.cost_upper_bound > result.estimated_cost
    assert result.cost_sensitivity >= plain.cost_sensitivity
    assert careful.mixture_ is None and result.mixture is None


def test_mixture_meets_the_budget_in_expectation(logs, fitted, path, tmp_path):
    budget = float(np.median(path.cost))
    budgeted = _prefit(logs, fitted, budget, mixture=True)
    mixture = budgeted.mixture_
    assert budgeted.budget_result_.mixture is mixture
    assert mixture.low <= mixture.high == budgeted.cost_sensitivity_
    assert 0 <= mixture.high_probability <= 1
    assert mixture.estimated_cost == pytest.approx(budget, rel=1e-6) or (
        mixture.high_probability in (0.0, 1.0)
    )
    # Each query at one of the two cost sensitivities, whatever its batch.
    X = logs.X
    routes = budgeted.predict(X)
    at_low = fitted.predict(X, cost_sensitivity=mixture.low)
    at_high = fitted.predict(X, cost_sensitivity=mixture.high)
    assert np.all((routes == at_low) | (routes == at_high))
    np.testing.assert_array_equal(budgeted.predict(X[::-1])[::-1], routes)
    # The export carries the mixture, and serving draws the same routes.
    budgeted.export(tmp_path / "budget.npz")
    served = load_exported(tmp_path / "budget.npz")
    np.testing.assert_array_equal(served.predict(X), routes)
    assert served.router == "IntervalCostRouter"
    assert served.cost_sensitivity == budgeted.cost_sensitivity_


def test_export_without_mixture_routes_at_the_chosen_lambda(
    logs, fitted, path, tmp_path
):
    budgeted = _prefit(logs, fitted, float(np.median(path.cost)))
    budgeted.export(tmp_path / "plain.npz")
    served = load_exported(tmp_path / "plain.npz")
    assert served.cost_sensitivity == budgeted.cost_sensitivity_
    np.testing.assert_array_equal(served.predict(logs.X), budgeted.predict(logs.X))
    # The router's own export keeps its own default lambda.
    fitted.export(tmp_path / "own.npz")
    assert load_exported(tmp_path / "own.npz").cost_sensitivity == 0.0


def test_prefit_leaves_the_router_as_it_was(logs, fitted, path):
    router = pickle.loads(pickle.dumps(fitted))
    params = copy.deepcopy(router.get_params())
    state = sorted(vars(router))
    X = logs.X
    before = router.predict(X), router.predict_proba(X)
    for options in ({}, {"mixture": True}, {"conservative": True}):
        _prefit(logs, router, float(path.cost.max()), **options)
    assert sorted(vars(router)) == state
    assert router.get_params() == params
    np.testing.assert_array_equal(router.predict(X), before[0])
    np.testing.assert_array_equal(router.predict_proba(X), before[1])


def test_a_share_of_rows_calibrates_a_clone(logs, path):
    router = _router()
    budget = float(path.cost.max())
    budgeted = BudgetRouter(router, budget=budget, random_state=0)
    budgeted.fit(*_data(logs), **fit_kwargs(logs))
    assert not hasattr(router, "classes_")  # the router given stays unfitted
    assert budgeted.router_ is not router
    assert budgeted.budget_result_.n_samples == 150  # a quarter of 600 rows
    # The same as fitting on the larger part and calibrating on the rest.
    from sklearn.model_selection import train_test_split

    fit_rows, held_out = train_test_split(
        np.arange(600), test_size=0.25, random_state=0, stratify=logs.action
    )
    by_hand = _router().fit(*_data(logs, fit_rows), **fit_kwargs(logs, fit_rows))
    again = BudgetRouter(by_hand, budget=budget, cv="prefit")
    again.fit(*_data(logs, held_out), **fit_kwargs(logs, held_out))
    assert again.budget_result_ == budgeted.budget_result_


def test_clone_and_params(fitted):
    budgeted = BudgetRouter(_router(), budget=1.5, mixture=True, cv=0.3)
    params = budgeted.get_params()
    assert params["budget"] == 1.5 and params["router__max_epochs"] == 3
    copied = clone(budgeted)
    assert copied.get_params()["router"] is not budgeted.router
    assert copied.get_params(deep=False).keys() == params.keys() - {
        k for k in params if k.startswith("router__")
    }
    copied.set_params(router__max_epochs=2, budget=2.0)
    assert copied.router.max_epochs == 2 and copied.budget == 2.0
    assert budgeted.router.max_epochs == 3
    tags = get_tags(BudgetRouter(fitted, budget=1.0))
    assert tags.estimator_type == "classifier"
    assert tags.input_tags == get_tags(fitted).input_tags


def test_score_is_the_value_at_the_chosen_lambda(logs, fitted, path):
    budgeted = _prefit(logs, fitted, float(np.median(path.cost)))
    X, y = _data(logs, CALIBRATION)
    expected = policy_value(
        budgeted.predict(X),
        y,
        **fit_kwargs(logs, CALIBRATION),
        cost_sensitivity=budgeted.cost_sensitivity_,
        X=X,
        classes=fitted.classes_,
        method="dr",
        **fitted._evaluation_settings(),
        min_propensity=fitted.min_propensity,
    ).estimate
    assert budgeted.score(X, y, **fit_kwargs(logs, CALIBRATION)) == pytest.approx(
        expected
    )
    # The interval router was fitted at its own default lambda: setting
    # another after fit changes neither its routes nor its score.
    before = fitted.score(X, y, **fit_kwargs(logs, CALIBRATION))
    moved = pickle.loads(pickle.dumps(fitted))
    moved.set_params(cost_sensitivity=budgeted.cost_sensitivity_)
    assert moved.score(X, y, **fit_kwargs(logs, CALIBRATION)) == before
    np.testing.assert_array_equal(moved.predict(X), fitted.predict(X))


def test_model_selection_routes_the_logged_arrays(logs, path):
    budgets = [float(path.cost.max()), float(np.quantile(path.cost, 0.8))]
    budgeted = BudgetRouter(_router(), budget=budgets[0], random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(budgeted, {"budget": budgets}, cv=KFold(2))
        search.fit(*_data(logs), **fit_kwargs(logs))
        scores = cross_validate(
            budgeted, *_data(logs), params=fit_kwargs(logs), cv=KFold(2)
        )
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.budget in budgets
    assert np.isfinite(scores["test_score"]).all()


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"budget": -1.0}, ValueError, "'budget' parameter of BudgetRouter"),
        ({"budget": 0.0}, ValueError, "'budget' parameter of BudgetRouter"),
        ({"budget": "1"}, ValueError, "'budget' parameter of BudgetRouter"),
        ({"budget": [1.0, 2.0]}, ValueError, "'budget' parameter of BudgetRouter"),
        ({"budget": np.nan}, ValueError, "'budget' parameter of BudgetRouter"),
        ({"budget": np.inf}, ValueError, "'budget' parameter of BudgetRouter"),
        ({"budget": 1e-9}, ValueError, "meets the budget 1e-09"),
        ({"confidence_level": 1.5}, ValueError, "'confidence_level' parameter"),
        ({"n_points": 1}, ValueError, "'n_points' parameter"),
        ({"cv": 1.5}, ValueError, "'cv' parameter"),
        ({"cv": 5}, ValueError, "'cv' parameter"),
        ({"router": CausalRouterClassifier()}, ValueError, "'router' parameter"),
        ({"router": _router()}, NotFittedError, "With cv='prefit', router must be"),
    ],
)
def test_bad_budget_input(logs, fitted, params, error, message):
    settings = {"router": fitted, "budget": 1.0, "cv": "prefit", **params}
    with pytest.raises(error, match=message):
        BudgetRouter(**settings).fit(
            *_data(logs, CALIBRATION), **fit_kwargs(logs, CALIBRATION)
        )


def test_budget_needs_the_cost(logs, fitted):
    logged = {**fit_kwargs(logs, CALIBRATION), "cost": None}
    with pytest.raises(ValueError, match="cost is required to meet a budget"):
        BudgetRouter(fitted, budget=1.0, cv="prefit").fit(
            *_data(logs, CALIBRATION), **logged
        )


def test_unfitted_budget_router_refuses_to_predict(logs):
    with pytest.raises(NotFittedError):
        BudgetRouter(_router(), budget=1.0).predict(logs.X)
