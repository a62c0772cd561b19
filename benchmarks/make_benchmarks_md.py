"""Write BENCHMARKS.md from the robustness suite and the speed benchmarks.

The robustness suite's dev and test cells (``bench_robustness.py``) give the
main tables. With ``--real-tables``, it also runs the code of ``skroute
benchmark`` on two real tables (RouterBench subset, LLMRouter 9 models) under
two simulated logging policies (topic: per-task preferences; linear: a random
linear score of the embedding) over 5 seeds and a grid of cost sensitivities,
stores the per-seed records in ``benchmarks/results/`` and the regret plots in
``benchmarks/figures/``, and adds their tables. The discussion is kept in
``benchmarks/benchmarks_discussion.md``.

    python benchmarks/make_benchmarks_md.py [--robustness DEV TEST] [--speed F ...]
    python benchmarks/make_benchmarks_md.py --real-tables [--seeds 5] [--reuse]

``--reuse`` reads the stored records of a run instead of fitting again, and
keeps the figures that run drew (the set-up then reports the versions
installed now). ``--data-dir`` is the folder holding ``routerbench_subset/``
and ``llmrouter_9models/`` (default: ``$SKROUTE_DATA_DIR``, else
``../shared/data`` beside the repository).
"""

import argparse
import contextlib
import io
import json
import platform
import time
from pathlib import Path

from _common import (
    FULL_FEEDBACK,
    REAL_TABLES,
    SPLIT,
    add_data_dir_argument,
    real_table_paths,
    set_torch_threads,
    summarise_records,
    summarise_robustness,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
FIGURES = HERE / "figures"
# Outputs of the speed benchmarks in RESULTS, by file stem, with their titles.
SPEED = {
    "fit_time": "Fit time at 36,000 x 1,024 (`bench_fit_time.py`)",
    "scale": "Growth with the number of rows (`bench_scale.py`)",
    "memory": "Peak memory (`bench_memory.py`)",
    "peers": "Beside other off-policy learners (`bench_peers.py`)",
}
POLICIES = {
    "topic": "topic-dependent (each task prefers its own models)",
    "linear": "random-linear in the embedding",
}
LOGGED = ("causal DR-softmax", "causal DR-classification", "interval DR-softmax")


def run(name, policy, seeds, reuse, data_dir):
    """Per-seed records of ``skroute benchmark`` on one table and logging policy.

    The command writes the records to ``benchmarks/results/`` and its regret
    plot beside them, which is moved to ``benchmarks/figures/``.
    """
    from skroute.cli import main as skroute_main

    path = RESULTS / f"{name}_{policy}.json"
    if reuse and path.exists():
        return json.loads(path.read_text())
    config = REAL_TABLES[name]
    table, prices = real_table_paths(name, data_dir)
    argv = ["benchmark", "--data", str(table), "--seeds", str(seeds)]
    argv += ["--cost-sensitivity", *map(str, config["cost_sensitivities"])]
    argv += ["--cost-scale", "1000", "--logging-policy", policy]
    argv += ["--topic-column", config["topic_column"], "--out", str(path)]
    if prices is not None:
        options = config["options"]
        argv += ["--prices", str(prices), "--text-column", options["text_column"]]
        argv += ["--output-tokens", str(options["output_tokens"])]
    RESULTS.mkdir(exist_ok=True)
    start = time.perf_counter()
    # The command prints its own tables; BENCHMARKS.md gets them from the records.
    with contextlib.redirect_stdout(io.StringIO()):
        status = skroute_main(argv)
    if status:
        raise SystemExit(f"skroute benchmark failed on {name}, {policy}")
    print(f"{name}, {policy}: {time.perf_counter() - start:.0f} s")
    FIGURES.mkdir(exist_ok=True)
    figure = path.with_suffix(".png")
    if figure.exists():
        figure.replace(FIGURES / figure.name)
    return json.loads(path.read_text())


def section(name, policy, records):
    summary = summarise_records(records)
    n_seeds = len({r["seed"] for r in records})
    lines = [
        f"### {REAL_TABLES[name]['title']}: {POLICIES[policy]} logging",
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


def robustness_sections(dev, test):
    """The robustness suite's tables: test cells first, as they came out."""
    lines = []
    for split, path in (("test", test), ("dev", dev)):
        rows = json.loads(Path(path).read_text())
        combos = sorted({(d, p) for (d, p), s in SPLIT.items() if s == split})
        lines += [
            f"### {split.capitalize()} cells",
            "",
            "(dataset, logging policy) pairs: "
            + ", ".join(f"{d} × {p}" for d, p in combos)
            + f"; seeds {', '.join(map(str, sorted({r['seed'] for r in rows})))}.",
            "",
            *summarise_robustness(rows, split),
            "",
        ]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    add_data_dir_argument(parser)
    parser.add_argument(
        "--robustness",
        nargs=2,
        type=Path,
        default=(RESULTS / "robustness_dev.json", RESULTS / "robustness_test.json"),
        metavar=("DEV", "TEST"),
        help="outputs of bench_robustness.py --cells dev / test",
    )
    parser.add_argument(
        "--speed",
        type=Path,
        nargs="*",
        default=[RESULTS / f"{name}.md" for name in SPEED],
        help="outputs of the speed benchmarks (bench_fit_time, bench_scale, "
        "bench_memory, bench_peers), included as they are where they exist",
    )
    parser.add_argument(
        "--real-tables",
        action="store_true",
        help="also run `skroute benchmark` on the RouterBench and LLMRouter tables",
    )
    args = parser.parse_args()
    set_torch_threads(1)
    import sklearn
    import torch

    import skroute

    body = ["## Robustness suite", "", *robustness_sections(*args.robustness)]
    speed = [path for path in args.speed if path.exists()]
    if speed:
        body += ["## Speed and scale", ""]
        for path in speed:
            body += [f"### {SPEED.get(path.stem, path.stem)}", ""]
            body += [path.read_text().strip(), ""]
    if args.real_tables:
        body += ["## `skroute benchmark` on real tables", ""]
        for name in REAL_TABLES:
            for policy in POLICIES:
                records = run(name, policy, args.seeds, args.reuse, args.data_dir)
                body += section(name, policy, records)
    discussion = (HERE / "benchmarks_discussion.md").read_text().strip()
    header = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/make_benchmarks_md.py` from the outputs "
        "of `benchmarks/bench_robustness.py` (dev and test cells) and "
        "the speed benchmarks (`bench_fit_time.py`, `bench_scale.py`, "
        "`bench_memory.py`, `bench_peers.py`), with the discussion kept in "
        "`benchmarks/benchmarks_discussion.md`.",
        "",
        f"Machine: {platform.machine()}, 2 cores, one torch thread per worker; "
        f"Python {platform.python_version()}, skroute {skroute.__version__}, "
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}. Fit "
        "times are indicative only.",
        "",
        discussion,
        "",
    ]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(header + body))
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()
