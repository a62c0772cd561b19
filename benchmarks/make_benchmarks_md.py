"""Write BENCHMARKS.md: every router on two real full-feedback tables.

For each table (RouterBench subset, LLMRouter 9 models) and each simulated
logging policy (topic: per-task preferences; linear: a random linear score of
the embedding), runs the same code as ``skroute benchmark`` over 5 seeds and a
grid of cost sensitivities, stores the per-seed records in
``benchmarks/results/`` and the regret plots in ``benchmarks/figures/``, and
writes the tables into ``BENCHMARKS.md`` with the discussion kept in
``benchmarks/benchmarks_discussion.md``.

    python benchmarks/make_benchmarks_md.py [--seeds 5] [--reuse]

``--reuse`` reads the stored records of a run instead of fitting again (the
set-up then reports the versions installed now). ``--data-dir`` is the folder
holding ``routerbench_subset/`` and ``llmrouter_9models/`` (default:
``../shared/data`` beside the repository).
"""

import argparse
import json
import platform
import time
from pathlib import Path

from _common import set_torch_threads

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data"
RESULTS = HERE / "results"
FIGURES = HERE / "figures"

DATASETS = {
    "routerbench_subset": {
        "title": "RouterBench subset (3,150 queries, 11 LLMs, 0/1 quality, real USD)",
        "data": SHARED / "routerbench_subset" / "routerbench_subset.csv",
        "topic_column": "eval_name",
        "cost_sensitivities": (0.0, 0.02, 0.05, 0.2),
        "options": {},
    },
    "llmrouter_9models": {
        "title": "LLMRouter (6,108 queries, 9 LLMs, scores in [0, 1], costs "
        "from token prices)",
        "data": SHARED / "llmrouter_9models" / "llmrouter_9models.csv",
        "topic_column": "task_name",
        "cost_sensitivities": (0.0, 0.1, 0.3, 1.0),
        "options": {
            "prices": SHARED / "llmrouter_9models" / "model_prices.json",
            "text_column": "query",
            "output_tokens": 256,
        },
    },
}
POLICIES = {
    "topic": "topic-dependent (each task prefers its own models)",
    "linear": "random-linear in the embedding",
}
LOGGED = ("causal DR-softmax", "causal DR-classification", "interval DR-softmax")


def run(name, policy, seeds, reuse):
    from skroute.cli._benchmark import plot_results, run_benchmark

    path = RESULTS / f"{name}_{policy}.json"
    config = DATASETS[name]
    if reuse and path.exists():
        records = json.loads(path.read_text())
    else:
        start = time.perf_counter()
        records = run_benchmark(
            None,
            range(seeds),
            config["cost_sensitivities"],
            data=config["data"],
            cost_scale=1000.0,
            logging_policy=policy,
            topic_column=config["topic_column"],
            **config["options"],
        )
        print(f"{name}, {policy}: {time.perf_counter() - start:.0f} s")
        RESULTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(records, indent=1))
    FIGURES.mkdir(exist_ok=True)
    plot_results(
        records,
        FIGURES / f"{name}_{policy}.png",
        title=f"{name}, {policy} logging policy",
    )
    return records


def section(name, policy, records):
    from skroute.cli._benchmark import FULL_FEEDBACK, summarise

    summary = summarise(records)
    n_seeds = len({r["seed"] for r in records})
    lines = [
        f"### {DATASETS[name]['title']}: {POLICIES[policy]} logging",
        "",
        f"![regret against lambda](benchmarks/figures/{name}_{policy}.png)",
        "",
        f"Mean ± std over {n_seeds} seeds; regret, quality and cost are true "
        "values on the held-out half; the DR estimate and its 95% interval "
        "come from logs simulated on that half.",
        "",
    ]
    for lam, routers in summary.items():
        lines += [
            f"λ = {lam:g}",
            "",
            "| router | test regret | quality | cost | DR estimate of utility "
            "[95% CI] (true) | fit s |",
            "|---|---|---|---|---|---|",
        ]
        for router, stats in sorted(routers.items(), key=lambda r: r[1]["regret"]):

            def cell(metric, digits, stats=stats):
                mean, spread = stats[metric]
                return f"{mean:.{digits}f} ± {spread:.{digits}f}"

            lines.append(
                f"| {router} | {cell('regret', 4)} | {cell('quality', 3)} | "
                f"{cell('cost', 3)} | {stats['utility_dr'][0]:.3f} "
                f"[{stats['utility_dr_low'][0]:.3f}, "
                f"{stats['utility_dr_high'][0]:.3f}] "
                f"({stats['utility'][0]:.3f}) | {stats['fit_seconds'][0]:.1f} |"
            )
        lines.append("")
    # Head-to-head: the DR routers against the two baselines, per lambda.
    lines += [
        "DR-trained routers against the baselines (mean regret; ✓ where lower "
        "than both the decoupled router and the best single model), and their "
        "ratio to the full-feedback reference:",
        "",
        "| λ | " + " | ".join(LOGGED) + " | decoupled | best single | "
        "DR-softmax ÷ full feedback |",
        "|---" * (len(LOGGED) + 4) + "|",
    ]
    for lam, routers in summary.items():
        baseline = min(
            routers["decoupled"]["regret"][0],
            routers["best single model"]["regret"][0],
        )
        cells = []
        for router in LOGGED:
            value = routers[router]["regret"][0]
            cells.append(f"{value:.4f} {'✓' if value < baseline else '✗'}")
        ratio = (
            routers["causal DR-softmax"]["regret"][0]
            / routers[FULL_FEEDBACK]["regret"][0]
        )
        lines.append(
            f"| {lam:g} | "
            + " | ".join(cells)
            + f" | {routers['decoupled']['regret'][0]:.4f} | "
            f"{routers['best single model']['regret'][0]:.4f} | {ratio:.2f} |"
        )
    lines.append("")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args()
    for config in DATASETS.values():
        for key in ("data", "prices"):
            where = config["options"] if key == "prices" else config
            if key in where:
                where[key] = args.data_dir / where[key].relative_to(SHARED)
    set_torch_threads(1)
    import sklearn
    import torch

    import skroute

    body = []
    for name in DATASETS:
        for policy in POLICIES:
            records = run(name, policy, args.seeds, args.reuse)
            body += section(name, policy, records)
    discussion = (HERE / "benchmarks_discussion.md").read_text().strip()
    header = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/make_benchmarks_md.py` (tables, "
        "figures) from `benchmarks/benchmarks_discussion.md` (the discussion). "
        "The tables come from the code behind `skroute benchmark`.",
        "",
        "## Set-up",
        "",
        "- Each seed splits a full-feedback table in random halves. Logs are "
        "simulated on the first half: a logging policy picks one model per "
        "query (mixing 5% of uniform exploration in, so every model keeps a "
        "probability of at least 0.05 / number of models), and only that "
        "model's quality and cost are kept, with its propensity. Every router "
        "is fitted on these logs; the **full-feedback reference** is the same "
        "causal router fitted on the complete quality and cost matrices of the "
        "first half, an upper bound on what routing from these queries can "
        "reach. The **interval router** is fitted once per seed for the whole "
        "λ grid.",
        "- The utility is `quality − λ · cost`, with costs in USD per 1,000 "
        "queries. **Regret** is the mean gap to the best model of each query "
        "on the held-out half, measured with its full feedback (lower is "
        "better; the best single model is the best fixed choice on the "
        "training logs, estimated off policy).",
        "- Logging policies: **topic** — each task (RouterBench `eval_name`, "
        "LLMRouter `task_name`) draws its own random preference over the "
        "models; **linear** — softmax of a random linear score of the "
        "embedding.",
        "- LLMRouter has no costs: each query's cost is the model's token "
        "price × (prompt characters / 4 + 256 assumed output tokens), see "
        "`skroute.datasets.costs_from_token_prices`; its models differ in "
        "price by a factor of 9, RouterBench's by a factor of 60.",
        "- Router settings are the defaults (e.g. `CausalRouterClassifier()`: "
        "DR pseudo-outcomes with Ridge outcome models, a logistic propensity "
        "model when none is logged — here they are logged —, propensities "
        "clipped at 0.01, a 128-unit hidden layer, early stopping on a 10% "
        "held-out off-policy surrogate).",
        f"- Machine: {platform.machine()}, 2 cores, one torch thread; Python "
        f"{platform.python_version()}, skroute "
        f"{skroute.__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}. Fit times are indicative only.",
        "",
        discussion,
        "",
        "## Results",
        "",
    ]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(header + body))
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()
