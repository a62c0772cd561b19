"""skroute beside other off-policy learners, on the same logs and the same lambda.

Peers (not dependencies of skroute; install them in the benchmark's own
environment, see ``benchmarks/peers-requirements.txt``):

- Open Bandit Pipeline ``NNPolicyLearner(off_policy_objective="dr")`` and
  ``IPWLearner`` (logistic-regression base classifier);
- EconML ``DRPolicyForest``;
- Vowpal Wabbit ``--cb_adf --cb_type dr``, the query crossed with the model
  (``-q sa``), one pass over the logs.

Every learner sees the same simulated logs (one model per query, its quality
and cost, the logging propensity) and learns from the utility
``quality - lambda * cost``, with its own defaults. EconML estimates the
propensities itself, so skroute is run twice: with the logged propensities
(the peers that take them: OBP, VW) and with estimated ones (EconML). The true
regret of each learner is measured on held-out rows against the full-feedback
table. Fit time includes what the learner needs to read the logs (VW's text
examples). All learners get the same threads (``--threads``).

Cells: ``generated`` (``make_routing_problem``, 11 models, 384-d, ``--n-samples``
logged rows and as many test rows) and ``routerbench`` (RouterBench subset, 11
models, RouterDC's split, USD per 1k queries). Medians over ``--seeds``.

    python benchmarks/bench_peers.py [--seeds 3] [--n-samples 10000] [--data-dir DIR]
"""

import argparse
import os
import statistics
import time

import numpy as np
from _common import (  # noqa: I001
    add_data_dir_argument,
    load_routerbench,
    print_table,
    routerbench_path,
    set_torch_threads,
)


def utility(logs, cost_sensitivity):
    return logs.reward - cost_sensitivity * logs.cost


def fit_skroute(logs, cost_sensitivity, seed, n_actions, *, logged_propensity):
    from skroute import CausalRouterClassifier

    router = CausalRouterClassifier(
        cost_sensitivity=cost_sensitivity, random_state=seed
    )
    router.fit(
        logs.X,
        logs.action,
        reward=logs.reward,
        cost=logs.cost,
        propensity=logs.propensity if logged_propensity else None,
    )
    return lambda X: router.classes_.searchsorted(router.predict(X))


def fit_obp_nn(logs, cost_sensitivity, seed, n_actions):
    from obp.policy import NNPolicyLearner

    learner = NNPolicyLearner(
        n_actions=n_actions,
        dim_context=logs.X.shape[1],
        off_policy_objective="dr",
        random_state=seed,
    )
    learner.fit(
        context=logs.X.astype(np.float64),
        action=logs.action_index,
        reward=utility(logs, cost_sensitivity),
        pscore=logs.propensity,
    )
    return lambda X: learner.predict(X.astype(np.float64))[:, :, 0].argmax(axis=1)


def fit_obp_ipw(logs, cost_sensitivity, seed, n_actions):
    from obp.policy import IPWLearner
    from sklearn.linear_model import LogisticRegression

    value = utility(logs, cost_sensitivity)
    # IPWLearner refuses negative rewards; a shift changes no decision.
    value = value - min(value.min(), 0.0)
    learner = IPWLearner(
        n_actions=n_actions,
        base_classifier=LogisticRegression(random_state=seed),
    )
    learner.fit(
        context=logs.X,
        action=logs.action_index,
        reward=value,
        pscore=logs.propensity,
    )
    return lambda X: learner.predict(X)[:, :, 0].argmax(axis=1)


def fit_econml(logs, cost_sensitivity, seed, n_actions, *, n_jobs):
    from econml.policy import DRPolicyForest

    learner = DRPolicyForest(random_state=seed, n_jobs=n_jobs)
    learner.fit(utility(logs, cost_sensitivity), logs.action_index, X=logs.X)
    return lambda X: np.asarray(learner.predict(X), dtype=np.intp)


def _vw_shared(row):
    return "shared |s " + " ".join(f"{j}:{v:.6g}" for j, v in enumerate(row) if v)


def fit_vw(logs, cost_sensitivity, seed, n_actions):
    import vowpalwabbit

    cost = -utility(logs, cost_sensitivity)
    pscore = logs.propensity
    workspace = vowpalwabbit.Workspace(
        f"--cb_adf --cb_type dr -q sa --random_seed {seed} --quiet"
    )
    actions = [f"|a m{k}" for k in range(n_actions)]
    for i, row in enumerate(logs.X):
        lines = [_vw_shared(row), *actions]
        chosen = logs.action_index[i]
        lines[1 + chosen] = f"0:{cost[i]:.6g}:{pscore[i]:.6g} {actions[chosen]}"
        workspace.learn(lines)

    def predict(X):
        choice = np.empty(X.shape[0], dtype=np.intp)
        for i, row in enumerate(X):
            scores = workspace.predict([_vw_shared(row), *actions])
            choice[i] = int(np.argmin(scores))
        return choice

    return predict


def cells(args):
    from skroute.datasets import make_routing_problem

    for seed in range(args.seeds):
        problem = make_routing_problem(
            n_samples=2 * args.n_samples,
            n_models=11,
            n_features=384,
            random_state=seed,
        )
        X = (problem.X / np.linalg.norm(problem.X, axis=1, keepdims=True)).astype(
            np.float32
        )
        train = np.arange(args.n_samples)
        test = np.arange(args.n_samples, 2 * args.n_samples)
        yield (
            "generated",
            seed,
            X,
            problem.reward,
            problem.expected_reward,
            problem.cost,
            np.asarray(problem.models),
            train,
            test,
            args.generated_lambda,
        )
    path = routerbench_path(args.data_dir)
    if not path.exists():
        print(f"{path} not found: the routerbench cell is skipped")
        return
    data = load_routerbench(args.data_dir)
    split = data.split
    for seed in range(args.seeds):
        yield (
            "routerbench",
            seed,
            np.asarray(data.X, dtype=np.float32),
            data.reward,
            data.reward,
            data.cost,
            np.asarray(data.models),
            np.flatnonzero(split == "train"),
            np.flatnonzero(split == "test"),
            args.routerbench_lambda,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--generated-lambda", type=float, default=0.05)
    parser.add_argument("--routerbench-lambda", type=float, default=0.05)
    add_data_dir_argument(parser)
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads")
    parser.add_argument(
        "--peers",
        default="obp-nn,obp-ipw,econml,vw",
        help="comma-separated peers to run",
    )
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    from threadpoolctl import threadpool_limits

    from skroute.datasets import simulate_logging
    from skroute.metrics import regret

    set_torch_threads(args.threads)
    peers = {
        "obp-nn": ("OBP NNPolicyLearner (dr)", fit_obp_nn, "logged"),
        "obp-ipw": ("OBP IPWLearner", fit_obp_ipw, "logged"),
        "econml": (
            "EconML DRPolicyForest",
            lambda *fit_args: fit_econml(*fit_args, n_jobs=args.threads),
            "estimated",
        ),
        "vw": ("VW --cb_adf --cb_type dr", fit_vw, "logged"),
    }
    chosen = [name.strip() for name in args.peers.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(peers))
    if unknown:
        parser.error(f"unknown peers {unknown}; choose among {sorted(peers)}")

    learners = {
        "skroute (logged propensities)": (
            lambda *fit_args: fit_skroute(*fit_args, logged_propensity=True),
            None,
        ),
        "skroute (estimated propensities)": (
            lambda *fit_args: fit_skroute(*fit_args, logged_propensity=False),
            None,
        ),
    }
    for name in chosen:
        label, fit, propensity = peers[name]
        learners[label] = (fit, propensity)

    results = {}  # (cell, learner) -> list of (regret, seconds)
    lambdas = {}
    with threadpool_limits(args.threads):
        for cell, seed, X, reward, truth, cost, models, train, test, lam in cells(args):
            lambdas[cell] = lam
            logs = simulate_logging(
                X[train], reward[train], cost[train], models=models, random_state=seed
            )
            for label, (fit, _) in learners.items():
                start = time.perf_counter()
                predict = fit(logs, lam, seed, models.size)
                seconds = time.perf_counter() - start
                value = regret(
                    truth[test],
                    models[predict(X[test])],
                    cost=cost[test],
                    cost_sensitivity=lam,
                    classes=models,
                )
                results.setdefault((cell, label), []).append((value, seconds))
                print(
                    f"{cell} seed {seed} {label}: regret {value:.4f}, "
                    f"fit {seconds:.1f} s",
                    flush=True,
                )

    header = [
        "cell",
        "learner",
        "true regret",
        "fit s",
        "regret ÷ skroute",
        "fit time ÷ skroute",
    ]
    rows = []
    for cell in lambdas:
        for label, (_, propensity) in learners.items():
            if (cell, label) not in results:
                continue
            regrets, seconds = zip(*results[(cell, label)])
            reference = "skroute (logged propensities)"
            if propensity == "estimated" or label.endswith("(estimated propensities)"):
                reference = "skroute (estimated propensities)"
            ref_regrets, ref_seconds = zip(*results[(cell, reference)])
            regret_, seconds_ = statistics.median(regrets), statistics.median(seconds)
            rows.append(
                [
                    f"{cell} (λ={lambdas[cell]:g})",
                    label,
                    f"{regret_:.4f}",
                    f"{seconds_:.1f}",
                    f"{regret_ / statistics.median(ref_regrets):.2f}",
                    f"{seconds_ / statistics.median(ref_seconds):.2f}",
                ]
            )
    print(
        f"\nTrue test regret (lower is better) and fit time, medians over "
        f"{args.seeds} seeds, {args.threads} threads; ratios are to skroute with "
        "the same propensities (logged for OBP and VW, estimated for EconML)"
    )
    print_table(header, rows)


if __name__ == "__main__":
    main()
