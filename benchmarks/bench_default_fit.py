"""The default causal fit beside DecoupledRouter's, on RouterBench's training split.

Logs are simulated (query-dependent logging, logged propensities) on RouterDC's
train split of routerbench_subset (2,205 x 384, 11 models). Each round fits
``DecoupledRouter`` and the default ``CausalRouterClassifier`` one after the
other, so both see the same machine load; the table gives median seconds and
the ratio of medians. ``--profile`` prints the causal fit's top functions by
cumulative time instead.

    python benchmarks/bench_default_fit.py [--repeats 5] [--threads 1]
        [--profile] [--data-dir ../shared/data]
"""

import argparse
import statistics
import time

import numpy as np
from _common import (  # noqa: I001
    add_data_dir_argument,
    load_routerbench,
    print_table,
    routerbench_arrays,
    set_torch_threads,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cost-sensitivity", type=float, default=0.05)
    parser.add_argument("--profile", action="store_true")
    add_data_dir_argument(parser)
    args = parser.parse_args()
    set_torch_threads(args.threads)

    from skroute import CausalRouterClassifier, DecoupledRouter
    from skroute.datasets import simulate_logging

    X, reward, cost, models, train, _ = routerbench_arrays(
        load_routerbench(args.data_dir)
    )
    logs = simulate_logging(
        X[train], reward[train], cost[train], models=np.asarray(models), random_state=0
    )
    fit = {
        "X": logs.X,
        "y": logs.action,
        "reward": logs.reward,
        "cost": logs.cost,
        "propensity": logs.propensity,
    }
    lam = args.cost_sensitivity

    def causal():
        return CausalRouterClassifier(cost_sensitivity=lam, random_state=0).fit(**fit)

    def decoupled():
        return DecoupledRouter(cost_sensitivity=lam).fit(**fit)

    if args.profile:
        import cProfile
        import pstats

        causal()  # warm imports
        profiler = cProfile.Profile()
        profiler.enable()
        router = causal()
        profiler.disable()
        print("deployed:", router.deployed_policy_)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return

    times = {"DecoupledRouter": [], "CausalRouterClassifier": []}
    causal(), decoupled()  # warm imports
    deployed = []
    for _ in range(args.repeats):
        pair = [("DecoupledRouter", decoupled), ("CausalRouterClassifier", causal)]
        for name, make in pair:
            start = time.perf_counter()
            router = make()
            times[name].append(time.perf_counter() - start)
        deployed.append(router.deployed_policy_)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"{fit['X'].shape[0]} x {fit['X'].shape[1]}, {len(models)} models, "
        f"λ = {lam}, {args.threads} thread(s), {args.repeats} rounds; causal "
        f"deployed: {sorted(set(deployed))}"
    )
    print_table(
        ["router", "median s", "min s", "max s"],
        [
            [name, f"{medians[name]:.2f}", f"{min(t):.2f}", f"{max(t):.2f}"]
            for name, t in times.items()
        ],
    )
    ratio = medians["CausalRouterClassifier"] / medians["DecoupledRouter"]
    print(f"causal / decoupled (ratio of medians): {ratio:.1f}x")


if __name__ == "__main__":
    main()
