"""A DR-scored GridSearchCV over cost_sensitivity, with and without ``memory``.

On generated logs (11 models, unit-norm float32 embeddings, logged
propensities), ``GridSearchCV`` tunes ``cost_sensitivity`` of a
``CausalRouterClassifier`` over ``--grid`` with ``KFold(3)``, scored by the
doubly robust policy-value scorer at lambda = 0.05. The nuisances do not
depend on the candidate: with ``memory`` the router and the scorer fit them
once per split. Prints the search's wall time with and without the cache
(median of ``--repeats``, the two run alternately, each with a fresh cache
directory) and checks that both searches give the same scores.

    python benchmarks/bench_search_cache.py [--n-samples 10000] [--repeats 3]
"""

import argparse
import statistics
import tempfile
import time
import warnings

import numpy as np
from _common import embedding_logs, print_table, set_torch_threads


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=384)
    parser.add_argument("--grid", type=float, nargs="+", default=[0.0, 0.05, 0.2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads")
    args = parser.parse_args()
    set_torch_threads(args.threads)

    import sklearn
    from sklearn.model_selection import GridSearchCV, KFold
    from threadpoolctl import threadpool_limits

    from skroute import CausalRouterClassifier
    from skroute.metrics import make_policy_value_scorer

    X, logs = embedding_logs(args.n_samples, args.n_features)
    logged = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}

    def search(memory):
        scorer = make_policy_value_scorer(cost_sensitivity=0.05, memory=memory)
        router = CausalRouterClassifier(random_state=0, memory=memory)
        grid = GridSearchCV(
            router,
            {"cost_sensitivity": args.grid},
            scoring=scorer,
            cv=KFold(3),
            refit=False,
        )
        start = time.perf_counter()
        with sklearn.config_context(enable_metadata_routing=True):
            grid.fit(X, logs.action, **logged)
        return time.perf_counter() - start, grid.cv_results_["mean_test_score"]

    times = {"no cache": [], "memory": []}
    scores = {}
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(args.repeats):
            seconds, scores["no cache"] = search(None)
            times["no cache"].append(seconds)
            with tempfile.TemporaryDirectory() as directory:
                seconds, scores["memory"] = search(directory)
            times["memory"].append(seconds)
    plain = statistics.median(times["no cache"])
    rows = [
        [label, f"{statistics.median(t):.1f}", f"{statistics.median(t) / plain:.2f}"]
        for label, t in times.items()
    ]
    print(
        f"{args.n_samples} x {args.n_features}, 11 models, {len(args.grid)} "
        f"candidates x 3 folds, {args.threads} threads, median of {args.repeats}"
    )
    print_table(["search", "wall s", "÷ no cache"], rows)
    same = np.allclose(scores["no cache"], scores["memory"], rtol=1e-9, atol=0)
    print(f"mean test scores identical with and without the cache: {same}")
    print(f"scores: {np.round(scores['memory'], 5).tolist()}")


if __name__ == "__main__":
    main()
