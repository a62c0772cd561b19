"""Serving: exported routers with numpy alone, ``skroute route``, cost units."""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import fit_logged

from skroute import CausalRouterClassifier, IntervalCostRouter, load_exported
from skroute.cli import main
from skroute.datasets import make_routing_problem
from skroute.persistence import save_router
from skroute.routers import (
    BestSingleModelRouter,
    CostScaleWarning,
    DecoupledRouter,
    RandomRouter,
)


@pytest.fixture(scope="module")
def problem_and_logs(routing_logs):
    # The shared logs, and queries from the same generator: 10,000 rows beyond 2,000.
    problem = make_routing_problem(n_samples=12000, random_state=0)
    return problem, routing_logs[1]


@pytest.fixture(scope="module")
def checked_interval(problem_and_logs):
    """The interval router with its safety check, fitted once for this module."""
    _, logs = problem_and_logs
    return fit_logged(
        IntervalCostRouter(cost_range=(0, 0.2), random_state=0), logs, quiet=True
    )


# A router, or the name of the fixture of a fitted one (see also conftest.py).
ROUTERS = [
    "fitted_causal",
    CausalRouterClassifier(cost_sensitivity=0.05, random_state=0),
    "fitted_interval",
    "checked_interval",
    "fitted_decoupled",
    BestSingleModelRouter(cost_sensitivity=0.05, random_state=0),
    RandomRouter(random_state=0),
]


@pytest.mark.parametrize(
    "router",
    ROUTERS,
    ids=[
        "causal-network",
        "causal-checked",
        "interval-network",
        "interval-checked",
        "decoupled",
        "best-single",
        "random",
    ],
)
def test_exported_routes_equal_predict_on_10000_rows(
    router, problem_and_logs, tmp_path, request
):
    problem, logs = problem_and_logs
    if isinstance(router, str):
        router = request.getfixturevalue(router)
    else:
        router = fit_logged(router, logs, quiet=True)
    path = tmp_path / "router.npz"
    router.export(path)
    served = load_exported(path)
    X = problem.X[2000:]
    assert X.shape[0] == 10000
    np.testing.assert_array_equal(served.classes_, router.classes_)
    if isinstance(router, IntervalCostRouter):
        for value in (0.0, 0.037, 0.2):
            np.testing.assert_array_equal(
                served.predict(X, cost_sensitivity=value),
                router.predict(X, cost_sensitivity=value),
            )
            np.testing.assert_allclose(
                served.predict_proba(X, cost_sensitivity=value),
                router.predict_proba(X, cost_sensitivity=value),
                atol=1e-5,
            )
    else:
        np.testing.assert_array_equal(served.predict(X), router.predict(X))
        np.testing.assert_allclose(
            served.predict_proba(X), router.predict_proba(X), atol=1e-5
        )


def test_the_served_path_imports_neither_torch_nor_sklearn(
    problem_and_logs, checked_interval, tmp_path
):
    problem, _ = problem_and_logs
    router = checked_interval
    path = tmp_path / "router.npz"
    router.export(path)
    np.save(tmp_path / "X.npy", problem.X[2000:2100])
    script = (
        "import sys, numpy as np\n"
        "from skroute.serving import load_exported\n"
        f"served = load_exported({str(path)!r})\n"
        f"routes = served.predict(np.load({str(tmp_path / 'X.npy')!r}), 0.1)\n"
        "assert not {'torch', 'skorch', 'sklearn'} & set(sys.modules), sys.modules\n"
        "print(','.join(map(str, routes)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    expected = router.predict(problem.X[2000:2100], cost_sensitivity=0.1)
    assert result.stdout.strip().split(",") == [str(m) for m in expected]


def test_exported_files_are_checked(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz: not a skroute router file"):
        load_exported(path)
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="no metadata"):
        load_exported(tmp_path / "other.npz")


def test_route_command_with_a_saved_and_an_exported_router(
    problem_and_logs, checked_interval, tmp_path
):
    problem, _ = problem_and_logs
    router = checked_interval
    save_router(router, tmp_path / "saved.npz")
    router.export(tmp_path / "router.npz")
    X = problem.X[2000:2500]
    np.save(tmp_path / "queries.npy", X)
    expected = router.predict(X, cost_sensitivity=0.1)
    for name in ("saved.npz", "router.npz"):
        out = tmp_path / f"routes-{name}.csv"
        argv = ["route", str(tmp_path / name), str(tmp_path / "queries.npy")]
        assert main([*argv, "--cost-sensitivity", "0.1", "--out", str(out)]) == 0
        routes = pd.read_csv(out, dtype=str)["model"].to_numpy()
        np.testing.assert_array_equal(routes, expected)


def test_route_refuses_lambda_for_a_router_fitted_at_one(problem_and_logs, tmp_path):
    _, logs = problem_and_logs
    save_router(fit_logged(DecoupledRouter(), logs, quiet=True), tmp_path / "r.npz")
    np.save(tmp_path / "q.npy", logs.X[:5])
    argv = ["route", str(tmp_path / "r.npz"), str(tmp_path / "q.npy")]
    with pytest.raises(SystemExit, match="fitted at lambda = 0 and routes at it"):
        main([*argv, "--cost-sensitivity", "0.1", "--out", str(tmp_path / "o.csv")])
    with pytest.raises(SystemExit, match="no such file"):
        main(["route", str(tmp_path / "r.npz"), "nowhere.npy", "--out", "o.csv"])


def test_a_negligible_cost_term_is_warned_about(problem_and_logs):
    _, logs = problem_and_logs
    router = DecoupledRouter(cost_sensitivity=0.05)
    # Costs in dollars per query: lambda * cost is nothing beside quality.
    with pytest.warns(CostScaleWarning, match="makes cost negligible"):
        router.fit(logs.X, logs.action, reward=logs.reward, cost=logs.cost * 1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostScaleWarning)
        router.fit(logs.X, logs.action, reward=logs.reward, cost=logs.cost)
        DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward, cost=logs.cost)
    with pytest.warns(CostScaleWarning, match="makes quality negligible"):
        DecoupledRouter(cost_sensitivity=1e4).fit(
            logs.X, logs.action, reward=logs.reward, cost=logs.cost
        )


def test_cli_cost_scale_and_file_messages(problem_and_logs, tmp_path):
    _, logs = problem_and_logs
    frame = pd.DataFrame(
        {"model": logs.action, "quality": logs.reward, "cost": logs.cost * 1e-4}
    )
    frame.to_csv(tmp_path / "logs.csv", index=False)
    np.save(tmp_path / "logs_emb.npy", logs.X)
    argv = ["fit", str(tmp_path / "logs.csv"), "--cost-column", "cost"]
    argv += ["--router", "decoupled", "--cost-sensitivity", "0.05"]
    argv += ["--out", str(tmp_path / "r.npz")]
    with pytest.warns(CostScaleWarning):
        assert main(argv) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostScaleWarning)
        assert main([*argv, "--cost-scale", "10000"]) == 0
    with pytest.raises(SystemExit, match="no such file"):
        main(["fit", str(tmp_path / "nothere.csv"), "--out", str(tmp_path / "x.npz")])
    with pytest.raises(SystemExit, match="Name it with --quality-column"):
        main([*argv[:2], "--quality-column", "score", "--out", str(tmp_path / "x.npz")])
