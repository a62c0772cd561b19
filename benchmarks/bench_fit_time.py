"""Fit time and predict throughput at RouterBench's size (36,000 x 1,024, 11 models).

Prints one table: time of the cross-fitted nuisances, of the policy training
(with its cross-fitted selection and safety check) and of the whole fit, with
logged and with estimated propensities, and predict throughput on 200,000
rows. Medians over --repeats runs.

    python benchmarks/bench_fit_time.py [--repeats 3] [--threads 2]
        [--propensity {logged,estimated,both}]

Side by side, two source trees of skroute (say a clone of an older commit and
this checkout), fits interleaved so that both see the same machine load; one
fresh process per fit, medians per tree:

    python benchmarks/bench_fit_time.py --trees OLD_TREE . --propensity logged
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from _common import embedding_logs, print_table  # noqa: I001


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-samples", type=int, default=36_000)
    parser.add_argument("--n-features", type=int, default=1_024)
    parser.add_argument("--n-models", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads")
    parser.add_argument(
        "--propensity", choices=["logged", "estimated", "both"], default="both"
    )
    parser.add_argument(
        "--trees",
        nargs="+",
        default=None,
        help="source trees to time side by side (whole fits, interleaved)",
    )
    parser.add_argument("--one-fit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trees:
        return side_by_side(args)
    if args.one_fit:
        return one_fit(args)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    from skroute import CausalRouterClassifier
    from skroute.causal import cross_fit_pseudo_outcomes

    X, logs = embedding_logs(args.n_samples, args.n_features, args.n_models)
    rows = []
    with threadpool_limits(args.threads):
        for label, propensity in (("logged", logs.propensity), ("estimated", None)):
            if args.propensity not in (label, "both"):
                continue
            nuisance, total, epochs = [], [], []
            for repeat in range(args.repeats):
                start = time.perf_counter()
                cross_fit_pseudo_outcomes(
                    X,
                    logs.action_index,
                    logs.reward,
                    logs.cost,
                    propensity,
                    n_classes=args.n_models,
                    random_state=repeat,
                    warn_overlap=False,
                )
                nuisance.append(time.perf_counter() - start)
                router = CausalRouterClassifier(
                    cost_sensitivity=0.05, random_state=repeat
                )
                start = time.perf_counter()
                router.fit(
                    X,
                    logs.action,
                    reward=logs.reward,
                    cost=logs.cost,
                    propensity=propensity,
                )
                total.append(time.perf_counter() - start)
                # Epochs trained, over every fold network (one net before the
                # cross-fitted selection).
                epochs.append(
                    sum(getattr(router, "training_epochs_", None) or [])
                    or len(router.net_.history)
                )
            n = statistics.median(nuisance)
            t = statistics.median(total)
            rows.append(
                [
                    f"fit, propensity {label}",
                    f"{n:.1f}",
                    f"{t - n:.1f}",
                    f"{t:.1f}",
                    f"{statistics.median(epochs):.0f}",
                ]
            )
        big = np.tile(X, (int(np.ceil(200_000 / len(X))), 1))[:200_000]
        router.predict(big[:1000])  # warm-up
        timings = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            router.predict(big)
            timings.append(time.perf_counter() - start)
        throughput = len(big) / statistics.median(timings)

    print(
        f"{args.n_samples} x {args.n_features}, {args.n_models} models, "
        f"{args.threads} threads, median of {args.repeats}"
    )
    print_table(
        ["step", "nuisances s", "policy and selection s", "total s", "epochs trained"],
        rows,
    )
    print(f"\npredict throughput: {throughput:,.0f} rows/s on {len(big):,} rows")


def one_fit(args):
    """Time one default fit (logged propensities) and print it as JSON."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    from skroute import CausalRouterClassifier

    X, logs = embedding_logs(args.n_samples, args.n_features, args.n_models)
    router = CausalRouterClassifier(cost_sensitivity=0.05, random_state=0)
    with threadpool_limits(args.threads):
        start = time.perf_counter()
        router.fit(
            X,
            logs.action,
            reward=logs.reward,
            cost=logs.cost,
            propensity=logs.propensity,
        )
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "deployed": router.deployed_policy_}))


def side_by_side(args):
    """Whole default fits of each tree, interleaved, one process each."""
    times = {tree: [] for tree in args.trees}
    deployed = {tree: [] for tree in args.trees}
    for repeat in range(args.repeats):
        for tree in args.trees:
            env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
            command = [
                sys.executable,
                os.path.abspath(__file__),
                "--one-fit",
                f"--n-samples={args.n_samples}",
                f"--n-features={args.n_features}",
                f"--n-models={args.n_models}",
                f"--threads={args.threads}",
            ]
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, check=True
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            times[tree].append(result["seconds"])
            deployed[tree].append(result["deployed"])
            print(f"repeat {repeat}, {tree}: {result['seconds']:.1f} s", flush=True)
    print(
        f"\n{args.n_samples} x {args.n_features}, {args.n_models} models, logged "
        f"propensities, {args.threads} threads, median of {args.repeats} "
        "interleaved fits"
    )
    print_table(
        ["source tree", "fit s (median)", "runs", "deployed"],
        [
            [
                tree,
                f"{statistics.median(times[tree]):.1f}",
                " ".join(f"{t:.1f}" for t in times[tree]),
                ", ".join(sorted(set(deployed[tree]))),
            ]
            for tree in args.trees
        ],
    )


if __name__ == "__main__":
    main()
