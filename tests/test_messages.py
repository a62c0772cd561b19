"""Messages in the user's words, located at the user's line."""

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import BestSingleModelRouter, CausalRouterClassifier, DecoupledRouter
from skroute.causal import OverlapWarning
from skroute.routers import CostScaleWarning, PolicyFallbackWarning


def _poorly_overlapping_logs():
    """Model "rare-model" logged once with a tiny propensity among many likely rows."""
    rng = np.random.default_rng(0)
    n = 120
    X = rng.normal(size=(n, 3))
    action = np.array(["common-model", "rare-model"] * (n // 2))
    propensity = np.full(n, 0.9)
    propensity[1] = 0.011  # one of rare-model's rows outweighs all its others
    return X, action, rng.uniform(size=n), propensity


def _only(caught, category):
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, f"no {category.__name__}"
    return found[0]


def test_overlap_warnings_name_the_models_and_point_at_the_call():
    X, action, reward, propensity = _poorly_overlapping_logs()
    router = BestSingleModelRouter(random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        router.fit(X, action, reward=reward, propensity=propensity)
    warning = _only(caught, OverlapWarning)
    message = str(warning.message)
    assert "rare-model (" in message and "of 60 rows" in message
    assert "class positions" not in message
    assert warning.filename == __file__


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_a_fallback_warning_points_at_the_users_line(in_pipeline):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    action = np.array(["a", "b"] * 100)
    router = CausalRouterClassifier(max_epochs=2, random_state=0)
    fitted = make_pipeline(StandardScaler(), router) if in_pipeline else router
    prefix = "causalrouterclassifier__" if in_pipeline else ""
    logged = {"reward": rng.uniform(size=200), "propensity": np.full(200, 0.5)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted.fit(X, action, **{prefix + k: v for k, v in logged.items()})
    assert router.deployed_ is not router.learned_policy_  # random rewards
    warning = _only(caught, PolicyFallbackWarning)
    assert warning.filename == __file__


def test_a_cost_scale_warning_points_at_the_users_line():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    action = np.array(["a", "b"] * 30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DecoupledRouter(cost_sensitivity=0.05).fit(
            X, action, reward=rng.uniform(size=60), cost=np.full(60, 1e-6)
        )
    assert _only(caught, CostScaleWarning).filename == __file__


def test_an_embedding_column_of_lists_says_how_to_fix_it(tmp_path):
    from skroute.cli import main

    rows = ["model,quality,embedding"]
    rows += [f'a,1,"[0.1, 0.{j}, 0.3]"' for j in range(5)]
    (tmp_path / "logs.csv").write_text("\n".join(rows) + "\n")
    argv = ["fit", str(tmp_path / "logs.csv"), "--embedding-prefix", "embedding"]
    with pytest.raises(SystemExit, match="holds a whole embedding per row") as info:
        main([*argv, "--out", str(tmp_path / "r.npz")])
    assert "--embeddings" in str(info.value.code)
    assert "non-numeric" not in str(info.value.code)


def test_evaluate_on_logs_with_a_model_the_router_never_saw(tmp_path, capsys):
    import pandas as pd

    from skroute.cli import main

    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 3))
    models = np.array(["a", "b"] * 40 + ["c"] * 10)
    frame = pd.DataFrame({"model": models, "quality": rng.uniform(size=90)})
    frame.iloc[:80].to_csv(tmp_path / "old.csv", index=False)
    np.save(tmp_path / "old_emb.npy", X[:80])
    frame.to_csv(tmp_path / "new.csv", index=False)
    np.save(tmp_path / "new_emb.npy", X)
    router_file = tmp_path / "r.npz"
    argv = ["fit", str(tmp_path / "old.csv"), "--router", "decoupled"]
    assert main([*argv, "--out", str(router_file)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(router_file), str(tmp_path / "new.csv")]) == 0
    captured = capsys.readouterr()
    assert "does not route to: c (10 rows)" in captured.err
    assert "utility" in captured.out


def test_a_budget_is_said_in_the_cost_units(tmp_path, capsys):
    import pandas as pd

    from skroute.cli import main

    rng = np.random.default_rng(4)
    n = 300
    models = np.array(["cheap", "dear"] * (n // 2))
    frame = pd.DataFrame(
        {
            "model": models,
            "quality": rng.uniform(size=n),  # no signal: the router falls back
            "cost": np.where(models == "cheap", 0.0001, 0.002),
        }
    )
    frame.to_csv(tmp_path / "logs.csv", index=False)
    np.save(tmp_path / "logs_emb.npy", rng.normal(size=(n, 4)))
    argv = ["fit", str(tmp_path / "logs.csv"), "--cost-column", "cost"]
    argv += [
        "--cost-scale",
        "1000",
        "--budget",
        "1.0",
        "--out",
        str(tmp_path / "r.npz"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "budget 1 per query, in units of 'cost' x 1000:" in printed


class _RoutesAlike:
    """An interval router whose deployed policy ignores lambda (a fallback to
    the best single model does)."""

    classes_ = np.array(["cheap", "dear"])
    cost_grid_ = np.array([0.0, 0.5, 1.0])

    def predict(self, X, cost_sensitivity):
        return np.full(len(X), "dear")


def test_lambda_that_changes_nothing_is_said(capsys):
    import io

    from skroute.cli._logs import _say_if_lambda_is_idle

    out = io.StringIO()
    _say_if_lambda_is_idle(_RoutesAlike(), np.zeros((4, 2)), out)
    said = out.getvalue()
    assert "alike at every lambda in [0, 1] (cheap: 0%, dear: 100%)" in said
    assert "the budget, change nothing" in said


def test_the_docs_configuration_finds_the_checkout_from_anywhere(tmp_path, monkeypatch):
    # docs/build.py OUTPUT copies the sources to OUTPUT, which may lie
    # outside the checkout: the configuration is told where the checkout is.
    import runpy
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    copy = tmp_path / "source"
    shutil.copytree(root / "docs", copy)
    monkeypatch.setenv("SKROUTE_CHECKOUT", str(root))
    assert runpy.run_path(str(copy / "conf.py"))["ROOT"] == root


def test_a_fit_says_which_stage_is_running(capsys):
    from skroute.routers._training import FitStages

    stages = FitStages(verbose=1, n_folds=2, delay=0)
    for stage in ("targets of fold 1/2", "training the network of fold 2/2"):
        stages.next(stage)
    stages.close()
    shown = capsys.readouterr().err.replace("\r", "\n")
    assert "fit: cross-fitting the outcome and propensity models" in shown
    assert "fit: training the network of fold 2/2 [2/6 stages" in shown
    FitStages(verbose=0, n_folds=2, delay=0).close()
    assert capsys.readouterr().err == ""
