"""Robustness suite: the default router against its baselines on varied logs.

Every cell is a (dataset, logging policy, lambda) triple. Cells were split
into **dev** cells (for every design decision about defaults) and **test**
cells (run once, at the end, and reported as they come out) before any
tuning; the split is the ``SPLIT`` table below and must not change after a
test run. Dev and test use different seeds as well, so even a dataset that
appears in both is drawn afresh.

For each (dataset, logging policy, seed) the script simulates logs on a
training part, fits every router on them for each lambda of the dataset's
grid, and measures the true regret on a held-out full-feedback test part.
The default ``CausalRouterClassifier`` is fitted with several
``random_state`` values per seed, to measure its spread.

Routers: ``default`` (``CausalRouterClassifier()``), ``decoupled``
(``DecoupledRouter()``), ``best_single`` (``BestSingleModelRouter()``),
``random`` and ``reference`` (the default router fitted on the full quality
and cost matrices of the training part: what routing from these queries can
reach).

    python benchmarks/bench_robustness.py --cells dev --out dev.json
    python benchmarks/bench_robustness.py --cells test --out test.json
    python benchmarks/bench_robustness.py --summary dev.json test.json

``--params '{"pseudo_outcome": "dr"}'`` fits the default router with other
settings (for dev studies of one choice). Runs on 2 cores in about 10-15
minutes per split with ``--jobs 2``.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EMBEDDING = "emb_all-MiniLM-L6-v2.f16.npy"

# (dataset, logging policy) -> "dev" or "test". Fixed before any tuning.
SPLIT = {
    ("routerbench", "topic_prior"): "test",
    ("routerbench", "linear"): "dev",
    ("routerbench", "deployed_0.05"): "test",
    ("routerbench", "deployed_0.2"): "dev",
    ("llmrouter", "topic_prior"): "dev",
    ("llmrouter", "linear"): "test",
    ("llmrouter", "deployed_0.05"): "dev",
    ("llmrouter", "floor_0.02"): "test",
    ("mmlu", "topic_prior"): "test",
    ("mmlu", "deployed_0.2"): "dev",
    ("mmlu", "floor_0.02"): "test",
    ("unscaled", "linear"): "dev",
    ("unscaled", "deployed_0.05"): "test",
    ("unscaled", "floor_0.02"): "test",
    ("heavy_cost", "topic_prior"): "test",
    ("heavy_cost", "linear"): "test",
    ("heavy_cost", "deployed_0.2"): "dev",
    ("many_models", "linear"): "test",
    ("many_models", "floor_0.02"): "dev",
    ("many_models", "deployed_0.2"): "test",
}
SEEDS = {"dev": (0, 1, 2, 3, 4), "test": (100, 101, 102, 103, 104)}
RANDOM_STATES = (0, 1, 2)
# Lambda as a multiple of the dataset's exchange rate: the spread of the
# models' mean quality over the spread of their mean cost. 0 ignores cost,
# 1.5 makes it dominant.
LAMBDA_FACTORS = (0.0, 0.25, 1.5)


# --------------------------------------------------------------------------
# Datasets: X, full-feedback reward and cost, topic per row, train/test split.
# --------------------------------------------------------------------------


def _routerbench(rng):
    from skroute.datasets import load_wide_table

    folder = DATA / "routerbench_subset"
    data = load_wide_table(
        folder / "routerbench_subset.csv",
        embeddings=folder / f"query_{EMBEDDING}",
        id_column="sample_id",
    )
    train = data.frame["routerdc_split"].to_numpy() == "train"
    return dict(
        X=data.X,
        reward=data.reward,
        cost=data.cost * 1000.0,  # USD per 1k queries
        topic=data.frame["eval_name"].to_numpy(),
        train=np.flatnonzero(train),
        test=np.flatnonzero(~train),
    )


def _llmrouter(rng):
    import pandas as pd

    from skroute.datasets import costs_from_token_prices, load_model_prices

    folder = DATA / "llmrouter_9models"
    frame = pd.read_csv(folder / "llmrouter_9models.csv", keep_default_na=False)
    prices = load_model_prices(folder / "model_prices.json")
    models = list(prices)
    X = np.load(folder / f"query_{EMBEDDING}").astype(np.float32)
    cost = costs_from_token_prices(frame["query"].to_numpy(), prices, models=models)
    order = rng.permutation(len(frame))
    return dict(
        X=X,
        reward=frame[models].to_numpy(dtype=float),
        cost=cost * 1000.0,
        topic=frame["task_name"].to_numpy(),
        train=order[:2000],
        test=order[2000:3000],
    )


def _mmlu(rng):
    import pandas as pd

    folder = DATA / "routellm_mmlu_gsm8k"
    frame = pd.read_csv(folder / "mmlu.csv", keep_default_na=False)
    models = ["gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"]
    X = np.load(folder / f"mmlu_{EMBEDDING}").astype(np.float32)
    # Constant per-model costs from blended list prices (USD per 1M tokens)
    # times an assumed 500 tokens per query, in USD per 1k queries.
    price = np.array([24.7, 0.24]) * 500 / 1e6 * 1000
    order = rng.permutation(len(frame))
    return dict(
        X=X,
        reward=frame[models].to_numpy(dtype=float),
        cost=np.tile(price, (len(frame), 1)),
        topic=frame["subject"].to_numpy(),
        train=order[:2000],
        test=order[2000:3000],
    )


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _unscaled(rng):
    """5 models, raw 24-d features on scales 0.01-100, clustered, 0/1 quality."""
    n, d, k, t = 4000, 24, 12, 5
    centres = rng.normal(scale=2.0, size=(k, d))
    cluster = rng.integers(k, size=n)
    Z = centres[cluster] + rng.normal(size=(n, d))
    scales = 10.0 ** rng.uniform(-2, 2, size=d)
    X = Z * scales + rng.normal(scale=5.0, size=d)
    skill = rng.normal(scale=1.2, size=(k, t))
    weights = rng.normal(scale=0.4, size=(d, t))
    ability = np.linspace(-0.5, 1.0, t)
    expected = _sigmoid(ability + skill[cluster] + Z @ weights / np.sqrt(d) * 2)
    price = np.geomspace(0.08, 5.0, t)
    cost = price * rng.lognormal(sigma=0.5, size=(n, 1))
    order = rng.permutation(n)
    return dict(
        X=X,
        reward=(rng.uniform(size=(n, t)) < expected).astype(float),
        expected_reward=expected,
        cost=cost,
        topic=cluster,
        train=order[:2800],
        test=order[2800:],
    )


def _heavy_cost(rng):
    """6 models, 300x price spread, heavy-tailed per-query costs."""
    from skroute.datasets import make_routing_problem

    seed = int(rng.integers(2**31))
    problem = make_routing_problem(
        n_samples=3500,
        n_models=6,
        n_features=16,
        price_range=(0.02, 6.0),
        n_clusters=8,
        random_state=seed,
    )
    n, t = problem.reward.shape
    # Pareto tails, per query and model: long answers, retries, tool calls.
    tail = 1.0 + rng.pareto(2.5, size=(n, t))
    prices = problem.cost.mean(axis=0)
    cost = prices * tail * rng.lognormal(sigma=0.3, size=(n, 1))
    order = rng.permutation(n)
    return dict(
        X=problem.X * 3.0,
        reward=problem.reward,
        expected_reward=problem.expected_reward,
        cost=cost,
        topic=problem.cluster,
        train=order[:2000],
        test=order[2000:],
    )


def _many_models(rng):
    """16 models, about 75 logged rows each, graded quality in [0, 1]."""
    n, d, k, t = 2400, 32, 10, 16
    centres = rng.normal(size=(k, d))
    cluster = rng.integers(k, size=n)
    X = centres[cluster] + 0.7 * rng.normal(size=(n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    skill = rng.normal(scale=0.8, size=(k, t))
    weights = rng.normal(scale=1.0, size=(d, t))
    ability = rng.normal(scale=0.5, size=t)
    expected = _sigmoid(ability + skill[cluster] + X @ weights)
    reward = np.clip(expected + rng.normal(scale=0.15, size=(n, t)), 0, 1)
    price = np.exp(rng.uniform(np.log(0.05), np.log(5.0), size=t))
    cost = price * rng.lognormal(sigma=0.4, size=(n, 1))
    order = rng.permutation(n)
    return dict(
        X=X,
        reward=reward,
        expected_reward=expected,
        cost=cost,
        topic=cluster,
        train=order[:1200],
        test=order[1200:],
    )


DATASETS = {
    "routerbench": _routerbench,
    "llmrouter": _llmrouter,
    "mmlu": _mmlu,
    "unscaled": _unscaled,
    "heavy_cost": _heavy_cost,
    "many_models": _many_models,
}


# --------------------------------------------------------------------------
# Logging policies: (scores, temperature, exploration) on the training rows.
# --------------------------------------------------------------------------


def _exchange_rate(reward, cost):
    quality, price = reward.mean(axis=0), cost.mean(axis=0)
    return float(np.ptp(quality) / max(np.ptp(price), 1e-12))


def _logging_scores(policy, data, train, pool, rng):
    X, reward, cost, topic = data["X"], data["reward"], data["cost"], data["topic"]
    t = reward.shape[1]
    if policy == "linear":
        Z = X[train]
        Z = (Z - Z.mean(axis=0)) / np.where(Z.std(axis=0) > 0, Z.std(axis=0), 1)
        return Z @ rng.normal(size=(X.shape[1], t)) / np.sqrt(X.shape[1]), 1.0, 0.05
    if policy == "floor_0.02":
        Z = X[train]
        Z = (Z - Z.mean(axis=0)) / np.where(Z.std(axis=0) > 0, Z.std(axis=0), 1)
        scores = Z @ rng.normal(size=(X.shape[1], t)) / np.sqrt(X.shape[1])
        return scores, 0.5, 0.02
    if policy == "topic_prior":
        # Per topic, a softmax of 10 (accuracy on the topic - 0.3 normalised cost),
        # from a labelled pool, as a team that knows its models by task would log.
        price = cost[pool].mean(axis=0)
        normalised = (price - price.min()) / max(np.ptp(price), 1e-12)
        scores = np.zeros((train.size, t))
        overall = reward[pool].mean(axis=0)
        for value in np.unique(topic[train]):
            rows = pool[topic[pool] == value]
            accuracy = reward[rows].mean(axis=0) if rows.size >= 5 else overall
            scores[topic[train] == value] = 10 * (accuracy - 0.3 * normalised)
        return scores, 1.0, 0.05
    if policy.startswith("deployed_"):
        # Greedy on a noisy decoupled model fitted on a small labelled sample.
        from sklearn.linear_model import Ridge

        epsilon = float(policy.split("_")[1])
        labelled = rng.choice(pool, size=min(150, pool.size), replace=False)
        rate = 0.25 * _exchange_rate(reward[pool], cost[pool])
        target = reward[labelled] - rate * cost[labelled]
        model = Ridge(alpha=1.0).fit(X[labelled], target)
        scores = model.predict(X[train])
        scores += rng.normal(scale=0.5 * scores.std(), size=scores.shape)
        return scores, 1e-3, epsilon
    raise ValueError(policy)


# --------------------------------------------------------------------------
# One (dataset, policy, seed) unit: logs, fits, regrets.
# --------------------------------------------------------------------------


def _routers(cost_sensitivity, seed, params):
    from skroute import CausalRouterClassifier
    from skroute.routers import BestSingleModelRouter, DecoupledRouter, RandomRouter

    yield "decoupled", None, DecoupledRouter(cost_sensitivity=cost_sensitivity)
    yield (
        "best_single",
        None,
        BestSingleModelRouter(cost_sensitivity=cost_sensitivity, random_state=seed),
    )
    yield "random", None, RandomRouter(random_state=seed)
    for state in RANDOM_STATES:
        router = CausalRouterClassifier(
            cost_sensitivity=cost_sensitivity, random_state=state, **params
        )
        yield "default", state, router


def _candidate_regrets(router, X, regret_of):
    """True regrets of the network and of the best single model of a fitted router."""
    import torch

    with torch.inference_mode():
        scores = router.net_.module_(torch.as_tensor(X, dtype=torch.float32))
    network = router.classes_[scores.argmax(dim=1).numpy()]
    single = np.full(X.shape[0], router.safety_report_["best_single_model"])
    return {
        "network_regret": regret_of(network),
        "single_regret": regret_of(single),
    }


def _plain(value):
    """JSON-ready copy of a safety report."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def policy_logs(policy, data, rows, pool, rng):
    """Logs of ``rows`` by one of the logging policies (draws from ``rng``)."""
    from skroute.datasets import simulate_logging

    scores, temperature, exploration = _logging_scores(policy, data, rows, pool, rng)
    return simulate_logging(
        data["X"][rows],
        data["reward"][rows],
        data["cost"][rows],
        logging_policy=scores,
        temperature=temperature,
        exploration=exploration,
        random_state=int(rng.integers(2**31)),
    )


def unit_logs(dataset, policy, seed):
    """The data of one (dataset, policy, seed) unit, its labelled pool, its logs."""
    rng = np.random.default_rng([seed, sorted(DATASETS).index(dataset)])
    data = DATASETS[dataset](rng)
    if data["topic"] is None:
        data["topic"] = np.zeros(data["X"].shape[0], dtype=int)
    train, test = data["train"], data["test"]
    # The labelled pool of the policies that use one: rows outside both parts
    # where there are any, else the training rows themselves.
    rest = np.setdiff1d(np.arange(data["X"].shape[0]), np.union1d(train, test))
    pool = rest if rest.size >= 150 else train
    return data, pool, policy_logs(policy, data, train, pool, rng)


def run_unit(dataset, policy, seed, params):
    import warnings

    import torch
    from threadpoolctl import threadpool_limits

    from skroute import CausalRouterClassifier
    from skroute.metrics import regret

    torch.set_num_threads(1)
    data, pool, logs = unit_logs(dataset, policy, seed)
    train, test = data["train"], data["test"]
    X, reward, cost = data["X"], data["reward"], data["cost"]
    truth = data.get("expected_reward", reward)[test]
    rate = _exchange_rate(reward[train], cost[train])
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factor in LAMBDA_FACTORS:
            cost_sensitivity = factor * rate
            fitted = list(_routers(cost_sensitivity, seed, params))
            reference = CausalRouterClassifier(
                cost_sensitivity=cost_sensitivity, random_state=0
            )
            fitted.append(("reference", None, reference))
            for name, state, router in fitted:
                start = time.perf_counter()
                if name == "reference":
                    router.fit(
                        X[train], logs.action, reward=reward[train], cost=cost[train]
                    )
                else:
                    router.fit(
                        X[train],
                        logs.action,
                        reward=logs.reward,
                        cost=logs.cost,
                        propensity=logs.propensity,
                    )
                elapsed = time.perf_counter() - start

                def regret_of(chosen, cost_sensitivity=cost_sensitivity):
                    return regret(
                        truth,
                        chosen,
                        cost=cost[test],
                        cost_sensitivity=cost_sensitivity,
                        classes=np.arange(reward.shape[1]),
                    )

                value = regret_of(router.predict(X[test]))
                diagnostics = {}
                report = getattr(router, "safety_report_", None)
                if name == "default" and report is not None:
                    # What each candidate of the safety check would have given:
                    # for dev studies of its decision rule without refitting.
                    diagnostics = _candidate_regrets(router, X[test], regret_of)
                    diagnostics["report"] = _plain(report)
                rows.append(
                    dict(
                        dataset=dataset,
                        policy=policy,
                        split=SPLIT[dataset, policy],
                        seed=seed,
                        lambda_factor=factor,
                        cost_sensitivity=cost_sensitivity,
                        router=name,
                        random_state=state,
                        regret=value,
                        fit_time=elapsed,
                        choice=getattr(router, "deployed_policy_", None),
                        **diagnostics,
                    )
                )
    return rows


# --------------------------------------------------------------------------
# Summary.
# --------------------------------------------------------------------------


def summarise(rows, split=None):
    """Markdown lines: the per-cell table and the summary of the default router.

    A cell is a (dataset, logging policy, lambda) triple; its regrets are means
    over seeds (and, for the default router, over ``random_state`` values).
    """
    from collections import defaultdict

    from _common import markdown_table

    rows = [r for r in rows if split is None or r["split"] == split]
    cells = defaultdict(lambda: defaultdict(list))
    spread = defaultdict(list)
    by_seed = defaultdict(dict)
    for r in rows:
        cell = (r["dataset"], r["policy"], r["lambda_factor"])
        cells[cell][r["router"]].append(r["regret"])
        if r["router"] == "default":
            by_seed[cell, r["seed"]][r["random_state"]] = r["regret"]
        if r["router"] == "random":
            by_seed[cell, r["seed"]]["random"] = r["regret"]
    table, stats = [], defaultdict(list)
    worse_than_random = n_fits = 0
    for (cell, _seed), values in by_seed.items():
        fits = [v for k, v in values.items() if k != "random"]
        spread[cell].append((max(fits), min(fits)))
        worse_than_random += sum(v > values["random"] for v in fits)
        n_fits += len(fits)
    for cell in sorted(cells):
        mean = {name: float(np.mean(v)) for name, v in cells[cell].items()}
        better = min(mean["decoupled"], mean["best_single"])
        ratio = mean["default"] / better if better > 0 else 1.0
        reference = mean["default"] / max(mean["reference"], 1e-12)
        # Worst seed: max/min regret over random_state, 1 where within 0.01.
        worst_spread = max(
            (high / low if low > 0 else np.inf) if high - low > 0.01 else 1.0
            for high, low in spread[cell]
        )
        stats["vs_decoupled"].append(mean["default"] <= mean["decoupled"])
        stats["vs_best_single"].append(mean["default"] <= mean["best_single"])
        stats["vs_better"].append(ratio)
        stats["vs_reference"].append((cell[0], reference))
        stats["spread_ok"].append(worst_spread <= 1.25)
        table.append(
            [
                cell[0],
                cell[1],
                f"{cell[2]:g}",
                f"{mean['default']:.4f}",
                f"{mean['decoupled']:.4f}",
                f"{mean['best_single']:.4f}",
                f"{mean['reference']:.4f}",
                f"{mean['random']:.4f}",
                f"{ratio:.3f}",
                f"{reference:.2f}",
                f"{worst_spread:.2f}",
            ]
        )
    header = [
        "dataset",
        "logging",
        "λ factor",
        "default",
        "decoupled",
        "best single",
        "reference",
        "random",
        "÷ better baseline",
        "÷ reference",
        "rs spread",
    ]
    lines = markdown_table(header, table)
    n = len(table)
    if not n:
        return lines
    ratios = np.array(stats["vs_better"])
    lines += [
        "",
        f"- cells: {n}",
        f"- default ≤ decoupled: {sum(stats['vs_decoupled'])}/{n}",
        f"- default ≤ best single: {sum(stats['vs_best_single'])}/{n}",
        f"- default ÷ the better of the two: median {np.median(ratios):.3f}, worst "
        f"{ratios.max():.3f}; cells above 1.05: {int((ratios > 1.05).sum())}",
    ]
    for name in sorted({d for d, _ in stats["vs_reference"]}):
        values = [v for d, v in stats["vs_reference"] if d == name]
        lines.append(
            f"- default ÷ full-feedback reference on {name}: mean {np.mean(values):.3f}"
        )
    lines += [
        "- cells whose spread over random_state is within 1.25× (or 0.01) in "
        f"every seed: {sum(stats['spread_ok'])}/{n}",
        f"- default fits worse than the random router: {worse_than_random} of {n_fits}",
    ]
    times = [r["fit_time"] for r in rows if r["router"] == "default"]
    lines.append(f"- default fit time: median {np.median(times):.2f} s")
    choices = [r["choice"] for r in rows if r["router"] == "default" and r["choice"]]
    if choices:
        values, counts = np.unique(choices, return_counts=True)
        lines.append(
            "- deployed policies: "
            + ", ".join(f"{v} {c}" for v, c in zip(values, counts))
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", choices=("dev", "test"), default="dev")
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--params", default="{}", help="JSON, for the default router")
    parser.add_argument("--out", default=None, help="write the rows to this JSON")
    parser.add_argument(
        "--summary",
        nargs="*",
        default=None,
        help="print the summary of earlier JSON outputs and exit",
    )
    args = parser.parse_args()

    if args.summary:
        rows = [r for path in args.summary for r in json.loads(Path(path).read_text())]
        for split in ("dev", "test"):
            if any(r["split"] == split for r in rows):
                print(f"\n## {split} cells\n")
                print("\n".join(summarise(rows, split)))
        return

    from joblib import Parallel, delayed

    params = json.loads(args.params)
    units = [
        (dataset, policy, seed)
        for (dataset, policy), split in SPLIT.items()
        if split == args.cells and (args.datasets is None or dataset in args.datasets)
        for seed in SEEDS[split][: args.seeds]
    ]
    start = time.perf_counter()
    results = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(run_unit)(*unit, params) for unit in units
    )
    rows = [r for unit_rows in results for r in unit_rows]
    print(f"\n{len(units)} units in {time.perf_counter() - start:.0f} s\n")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    print("\n".join(summarise(rows)))


if __name__ == "__main__":
    main()
