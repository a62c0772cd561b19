"""Variance of the pseudo-outcomes on real data, and the choices that control it.

On a real table of BENCHMARKS.md (RouterBench subset by default: 0/1 quality,
costs spanning a factor of 60), logs are simulated on a random half as there
(exploration floor 0.05). For each variant of the DR-softmax router, prints the
mean variance of the utility pseudo-outcomes ``Gamma(lambda)`` across rows
(averaged over the models) and the true test regret, mean ± std over the seeds.

    python benchmarks/bench_variance.py [--seeds 5] [--logging-policy linear]
        [--dataset routerbench_subset|llmrouter_9models] [--variants NAME ...]
        [--data-dir DIR]
"""

import argparse
import warnings

import numpy as np
from _common import (
    REAL_TABLES,
    add_data_dir_argument,
    load_real_table,
    logged_outcomes,
    mean_std,
    print_table,
    set_torch_threads,
    simulate_rows,
    split_halves,
)
from sklearn.linear_model import LogisticRegression

# Router parameters of each variant; the nuisance options among them also
# give the pseudo-outcomes whose variance is reported.
VARIANTS = {
    "DR (default: clip 0.01)": {},
    "DR, clip 0.05": {"min_propensity": 0.05},
    "DR, clip 0.1": {"min_propensity": 0.1},
    "SNDR": {"pseudo_outcome": "sndr"},
    "DR quality, DM cost": {"cost_pseudo_outcome": "dm"},
    "SNDR quality, DM cost": {"pseudo_outcome": "sndr", "cost_pseudo_outcome": "dm"},
    "DR, logistic quality model": {"reward_model": LogisticRegression(C=1.0)},
    "DM (no correction)": {"pseudo_outcome": "dm"},
    "DR, no early stopping": {"early_stopping": False},
    "DR, weight decay 0.1": {"weight_decay": 0.1},
}
_NUISANCE = ("pseudo_outcome", "cost_pseudo_outcome", "min_propensity", "reward_model")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--logging-policy", default="linear")
    parser.add_argument(
        "--dataset", choices=list(REAL_TABLES), default="routerbench_subset"
    )
    add_data_dir_argument(parser)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS))
    args = parser.parse_args()
    lambdas = REAL_TABLES[args.dataset]["cost_sensitivities"]
    variants = {name: VARIANTS[name] for name in args.variants or VARIANTS}
    set_torch_threads(1)

    from skroute import CausalRouterClassifier
    from skroute.causal import OverlapWarning, cross_fit_pseudo_outcomes
    from skroute.metrics import regret

    problem = load_real_table(args.dataset, args.data_dir)
    if not np.isin(problem.reward, (0.0, 1.0)).all():
        # A classifier as outcome model needs 0/1 quality.
        variants.pop("DR, logistic quality model", None)
    variance = {name: {lam: [] for lam in lambdas} for name in variants}
    regrets = {name: {lam: [] for lam in lambdas} for name in variants}
    warnings.simplefilter("ignore", OverlapWarning)  # clipping is studied here
    for seed in range(args.seeds):
        train, test = split_halves(len(problem.X), seed)
        logs = simulate_rows(problem, train, args.logging_policy, seed)
        action = logs.action_index
        for name, params in variants.items():
            nuisance = {k: v for k, v in params.items() if k in _NUISANCE}
            gamma = cross_fit_pseudo_outcomes(
                logs.X,
                action,
                logs.reward,
                logs.cost,
                logs.propensity,
                n_classes=problem.models.size,
                method=nuisance.pop("pseudo_outcome", "dr"),
                cost_method=nuisance.pop("cost_pseudo_outcome", None),
                random_state=seed,
                warn_overlap=False,
                **nuisance,
            )
            for lam in lambdas:
                variance[name][lam].append(gamma.utility(lam).var(axis=0).mean())
                router = CausalRouterClassifier(
                    cost_sensitivity=lam,
                    classes=problem.models,
                    random_state=seed,
                    **params,
                ).fit(logs.X, logs.action, **logged_outcomes(logs))
                regrets[name][lam].append(
                    regret(
                        problem.reward[test],
                        router.predict(problem.X[test]),
                        cost=problem.cost[test],
                        cost_sensitivity=lam,
                        classes=problem.models,
                    )
                )
            print(f"seed {seed}: {name}", flush=True)
    header = ["variant"]
    header += [f"var Γ, λ={lam:g}" for lam in lambdas]
    header += [f"regret, λ={lam:g}" for lam in lambdas]
    rows = [
        [name]
        + [f"{np.mean(variance[name][lam]):.2f}" for lam in lambdas]
        + [mean_std(regrets[name][lam]) for lam in lambdas]
        for name in variants
    ]
    print(
        f"\n{args.dataset}, {args.logging_policy} logging, {args.seeds} seeds "
        "(regret: lower is better)"
    )
    print_table(header, rows)


if __name__ == "__main__":
    main()
