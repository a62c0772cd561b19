"""Predict throughput of every deployed policy, in Python and from its router file.

Fits, on logs of --fit-rows rows (1,024-d embeddings, 11 models by default),
a ``BestSingleModelRouter``, a ``DecoupledRouter`` (the direct method) and a
``CausalRouterClassifier`` whose learned network is deployed
(``safety_check="off"``), then times ``predict`` on --rows rows, and one row
at a time, both for the fitted router and for its router file read back by
``load_router``. Medians of --repeats; rows per second.

    python benchmarks/bench_predict.py [--rows 200000] [--features 1024]
        [--threads 2] [--repeats 3]
"""

import argparse
import os
import statistics
import tempfile
import time
import warnings

import numpy as np
from _common import embedding_logs, print_table  # noqa: I001


def _median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--fit-rows", type=int, default=4_000)
    parser.add_argument("--features", type=int, default=1_024)
    parser.add_argument("--models", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    from skroute import CausalRouterClassifier, DecoupledRouter
    from skroute.persistence import load_router
    from skroute.routers import BestSingleModelRouter

    X, logs = embedding_logs(args.fit_rows, args.features, args.models)
    fit = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
    routers = {
        "best single model": BestSingleModelRouter(cost_sensitivity=0.05),
        "direct method": DecoupledRouter(cost_sensitivity=0.05),
        "learned network": CausalRouterClassifier(
            cost_sensitivity=0.05, safety_check="off", random_state=0
        ),
    }
    rng = np.random.default_rng(1)
    queries = X[rng.integers(0, X.shape[0], args.rows)]
    rows = []
    with threadpool_limits(args.threads), tempfile.TemporaryDirectory() as folder:
        for name, router in routers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                router.fit(X, logs.action, **fit)
            path = os.path.join(folder, "router.npz")
            router.export(path)
            served = load_router(path)
            sample = queries[:2000]
            assert (served.predict(sample) == router.predict(sample)).all()
            for where, model in (("fitted router", router), ("router file", served)):
                predict = model.predict
                predict(queries[:1000])  # warm-up
                batch = _median_seconds(lambda p=predict: p(queries), args.repeats)
                one = _median_seconds(
                    lambda p=predict: [p(queries[i : i + 1]) for i in range(200)],
                    args.repeats,
                )
                rows.append(
                    [
                        name,
                        where,
                        f"{args.rows / batch:,.0f}",
                        f"{one / 200 * 1e3:.2f}",
                    ]
                )
    print(
        f"predict on {args.rows:,} x {args.features} rows, {args.models} models, "
        f"{args.threads} threads, median of {args.repeats}"
    )
    print_table(["deployed policy", "as", "rows/s", "one row, ms"], rows)


if __name__ == "__main__":
    main()
