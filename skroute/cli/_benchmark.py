"""``skroute benchmark``: routers and baselines on simulated logs of a full table."""

import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skroute.datasets import load_wide_table, make_routing_problem, simulate_logging
from skroute.metrics import regret
from skroute.routers import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    RandomRouter,
)


def _routers(cost_sensitivity, seed, models):
    return {
        "causal DR-softmax": CausalRouterClassifier(
            cost_sensitivity=cost_sensitivity, classes=models, random_state=seed
        ),
        "causal DR-classification": CausalRouterClassifier(
            "classification",
            cost_sensitivity=cost_sensitivity,
            classes=models,
            random_state=seed,
        ),
        "decoupled": DecoupledRouter(cost_sensitivity=cost_sensitivity, classes=models),
        "best single model": BestSingleModelRouter(
            cost_sensitivity=cost_sensitivity, classes=models, random_state=seed
        ),
        "random": RandomRouter(classes=models, random_state=seed),
    }


def _find_embeddings(table_path):
    """The ``.npy`` embeddings beside a table: ``<stem>_emb*.npy``, or the only one."""
    folder, stem = table_path.parent, table_path.stem
    named = sorted(folder.glob(f"{stem}_emb*.npy"))
    candidates = named or sorted(folder.glob("*.npy"))
    if len(candidates) != 1:
        raise ValueError(
            f"{table_path}: cannot tell which embeddings to use "
            f"({len(candidates)} .npy files beside it); pass --embeddings PATH."
        )
    return candidates[0]


def load_problem(data, embeddings=None, cost_scale=1.0, topic_column=None):
    """A full-feedback problem from a RouterBench-layout table."""
    path = Path(data)
    table = load_wide_table(
        path,
        embeddings=_find_embeddings(path) if embeddings is None else embeddings,
        task_column=topic_column,
    )
    if table.cost is None:
        raise ValueError(f"{path}: the table has no '<model>|total_cost' columns.")
    return Bunch(
        X=table.X,
        reward=table.reward,
        expected_reward=table.reward,
        cost=table.cost * cost_scale,
        models=table.models,
        topic=table.task,
    )


def run_benchmark(
    n_samples,
    seeds,
    cost_sensitivity,
    *,
    data=None,
    embeddings=None,
    cost_scale=1.0,
    logging_policy="linear",
    topic_column=None,
    err=None,
):
    """Fit every router on simulated logs and return ``{name: [metrics per seed]}``.

    Without ``data``, each seed generates a problem of ``2 * n_samples`` rows
    and logs its first half; with a table, each seed logs a random half of it.
    The other half, with full feedback, measures the true regret.
    """
    err = sys.stderr if err is None else err
    table = None
    if data is not None:
        table = load_problem(data, embeddings, cost_scale, topic_column)
    results = {}
    for seed in seeds:
        if table is None:
            problem = make_routing_problem(n_samples=2 * n_samples, random_state=seed)
            order = np.arange(2 * n_samples)
        else:
            problem = table
            order = np.random.default_rng(seed).permutation(len(table.X))
        half = len(order) // 2
        train, test = order[:half], order[half:]
        policy = logging_policy
        groups = None
        if logging_policy == "topic":
            groups = (problem.cluster if table is None else problem.topic)[train]
        logs = simulate_logging(
            problem.X[train],
            problem.reward[train],
            problem.cost[train],
            logging_policy=policy,
            groups=groups,
            models=problem.models,
            random_state=seed,
        )
        column = {model: t for t, model in enumerate(problem.models.tolist())}
        for name, router in _routers(cost_sensitivity, seed, problem.models).items():
            print(f"seed {seed}: fitting {name}", file=err, flush=True)
            start = time.perf_counter()
            router.fit(
                logs.X,
                logs.action,
                reward=logs.reward,
                cost=logs.cost,
                propensity=logs.propensity,
            )
            elapsed = time.perf_counter() - start
            chosen = np.array(
                [column[model] for model in router.predict(problem.X[test]).tolist()]
            )
            rows = np.arange(chosen.size)
            results.setdefault(name, []).append(
                {
                    "seed": int(seed),
                    "regret": regret(
                        problem.expected_reward[test],
                        chosen,
                        cost=problem.cost[test],
                        cost_sensitivity=cost_sensitivity,
                    ),
                    "quality": float(
                        problem.expected_reward[test][rows, chosen].mean()
                    ),
                    "cost": float(problem.cost[test][rows, chosen].mean()),
                    "fit_seconds": elapsed,
                }
            )
    return results


def write_results(results, path):
    """Write per-seed results as JSON or CSV, by the file's extension."""
    path = Path(path)
    records = [
        {"router": name, **run} for name, runs in results.items() for run in runs
    ]
    if path.suffix == ".json":
        path.write_text(json.dumps(records, indent=2))
    elif path.suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    else:
        raise ValueError(f"--out must end in .json or .csv; got {path.name!r}.")


def format_results(
    results, cost_sensitivity, n_seeds, source="Generated routing problem"
):
    def cell(values, digits):
        values = np.asarray(values)
        spread = values.std(ddof=1) if values.size > 1 else 0.0
        return f"{values.mean():.{digits}f} ± {spread:.{digits}f}"

    header = ["router", "test regret", "quality", "cost", "fit s"]
    rows = [
        [
            name,
            cell([r["regret"] for r in runs], 4),
            cell([r["quality"] for r in runs], 3),
            cell([r["cost"] for r in runs], 3),
            f"{np.mean([r['fit_seconds'] for r in runs]):.1f}",
        ]
        for name, runs in results.items()
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [
        f"{source}, cost_sensitivity={cost_sensitivity:g}, "
        f"mean ± std over {n_seeds} seeds (lower regret is better)",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)
