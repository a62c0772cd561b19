"""Bias, RMSE and interval coverage of the off-policy estimators over simulated logs.

For a fixed full-feedback table (the generated problem and the RouterBench
subset) and a fixed query-dependent logging policy (random linear scores of
the embedding, exploration floor 0.05), 100 logs are drawn; each is used to
estimate the utility ``quality - lambda * cost`` of four fixed policies with
every estimator (true propensities; ridge outcome models cross-fitted on the
log). The truth is the policy's mean utility on the full table.

    python benchmarks/bench_ope.py [--replicates 100] [--data-dir DIR]
"""

import argparse

import numpy as np
from _common import (
    add_data_dir_argument,
    load_routerbench,
    print_table,
    set_torch_threads,
)

LAMBDA = 0.05


def draw_actions(rng, logging_proba):
    cumulative = logging_proba.cumsum(axis=1)
    draws = rng.uniform(size=(logging_proba.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative < draws).sum(axis=1), logging_proba.shape[1] - 1)


def fixed_policies(X, reward, cost):
    """Four policies that do not depend on the logs."""
    from skroute import DecoupledRouter

    n, n_models = reward.shape
    utility = reward - LAMBDA * cost
    router = DecoupledRouter(cost_sensitivity=LAMBDA).fit(
        X, np.arange(n) % n_models, reward=reward, cost=cost
    )
    return {
        "cheapest model": np.full(n, int(np.argmin(cost.mean(axis=0)))),
        "best single model": np.full(n, int(np.argmax(utility.mean(axis=0)))),
        "decoupled router": router.predict(X),
        "uniform (stochastic)": np.full((n, n_models), 1.0 / n_models),
    }


def run(name, X, reward, cost, replicates, rows):
    from skroute.causal import cross_fit_outcomes, make_folds
    from skroute.datasets import simulate_logging
    from skroute.ope import OPE_METHODS, estimate_policy_value, policy_matrix

    n, n_models = reward.shape
    utility = reward - LAMBDA * cost
    logging_proba = simulate_logging(X, reward, cost, random_state=0).logging_proba
    policies = fixed_policies(X, reward, cost)
    truth = {
        label: float((policy_matrix(p, n, n_models) * utility).sum(axis=1).mean())
        for label, p in policies.items()
    }
    estimates = {}
    rng = np.random.default_rng(1)
    for replicate in range(replicates):
        action = draw_actions(rng, logging_proba)
        logged = np.arange(n), action
        propensity = logging_proba[logged]
        folds = make_folds(action, 5, replicate)
        mu_reward, mu_cost = cross_fit_outcomes(
            X,
            action,
            [reward[logged], cost[logged]],
            folds,
            n_classes=n_models,
            models=[None, None],
            sample_weight=np.ones(n),
        )
        for label, policy in policies.items():
            for method in OPE_METHODS:
                result = estimate_policy_value(
                    policy,
                    action,
                    utility[logged],
                    propensity=propensity,
                    outcome_estimates=mu_reward - LAMBDA * mu_cost,
                    method=method,
                    warn=False,
                )
                estimates.setdefault((label, method), []).append(
                    (
                        result.estimate,
                        result.standard_error,
                        *result.confidence_interval,
                    )
                )
    for (label, method), values in estimates.items():
        values = np.asarray(values)
        error = values[:, 0] - truth[label]
        covered = (values[:, 2] <= truth[label]) & (truth[label] <= values[:, 3])
        rows.append(
            [
                name,
                label,
                method,
                f"{truth[label]:.4f}",
                f"{error.mean():+.4f}",
                f"{np.sqrt(np.mean(error**2)):.4f}",
                f"{values[:, 1].mean():.4f}",
                f"{covered.mean():.2f}",
            ]
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicates", type=int, default=100)
    add_data_dir_argument(parser)
    args = parser.parse_args()
    set_torch_threads(1)
    from skroute.datasets import make_routing_problem

    rows = []
    problem = make_routing_problem(n_samples=2000, random_state=0)
    run("generated", problem.X, problem.reward, problem.cost, args.replicates, rows)
    data = load_routerbench(args.data_dir)
    run("routerbench", data.X, data.reward, data.cost, args.replicates, rows)
    print(
        f"\n{args.replicates} simulated logs per dataset (generated n=2000, "
        f"RouterBench n=3150), utility at λ={LAMBDA}, nominal 95% intervals"
    )
    print_table(
        ["data", "policy", "estimator", "truth", "bias", "RMSE", "mean SE", "coverage"],
        rows,
    )


if __name__ == "__main__":
    main()
