"""Routing from prompt text on RouterBench rows: PromptEmbedder vs. the TF-IDF fallback.

Logs are simulated exactly as in ``bench_routerbench.py`` (RouterDC's train
split, a query-dependent linear logging policy on the precomputed embeddings,
costs in USD per 1,000 queries), so every router below sees the same logged
models, rewards, costs and propensities per seed, and is scored by its true
regret on the test split. Compared:

(a) ``CausalRouterClassifier`` on the precomputed embeddings shipped with the
    data (all-MiniLM-L6-v2 of the ``query`` column);
(b) ``make_pipeline(PromptEmbedder(), CausalRouterClassifier())`` on the
    ``query`` text. ``PromptEmbedder.fit`` learns nothing and ``transform``
    embeds row by row, so the queries are embedded once (timed, for the
    throughput) and every seed fits the router on those embeddings. Once, the
    literal Pipeline is also fitted on the train texts and predicts the test
    texts (embedding them again), and its routes are compared with (b)'s;
(c) ``make_pipeline(make_tfidf_embedder(), CausalRouterClassifier())`` on the
    ``query`` text, fitted literally on every seed (TF-IDF learns its
    vocabulary and SVD from the train texts); (d) the same with hashing, at
    lambda = 0.05 only (its SVD over 2**18 columns is the slowest fit here).

Also prints the cosine between the embeddings of (b) and the precomputed ones,
and throughput in prompts per second (median over chunks of the shuffled
queries, batch size 32, ``--threads`` torch threads).

    python benchmarks/bench_text.py [--seeds 5] [--threads 1] [--data-dir DIR]
"""

import argparse
import time

import numpy as np
from _common import (
    add_data_dir_argument,
    load_routerbench,
    logged_outcomes,
    mean_std,
    print_table,
    routerbench_arrays,
    set_torch_threads,
)

LAMBDAS = (0.0, 0.05, 0.2)
N_CHUNKS = 5


def embed_in_chunks(embedder, texts, seed=0):
    """Embed every text, timing shuffled chunks; returns embeddings and rates."""
    order = np.random.default_rng(seed).permutation(len(texts))
    embeddings = np.empty((len(texts), embedder.embedding_dimension_), np.float32)
    rates = []
    for chunk in np.array_split(order, N_CHUNKS):
        start = time.perf_counter()
        embeddings[chunk] = embedder.transform(texts[chunk])
        rates.append(chunk.size / (time.perf_counter() - start))
    return embeddings, rates


def text_rate(embedder, texts, seed=0):
    """Median prompts/s of an already fitted transformer over shuffled chunks."""
    order = np.random.default_rng(seed).permutation(len(texts))
    rates = []
    for chunk in np.array_split(order, N_CHUNKS):
        start = time.perf_counter()
        embedder.transform(texts[chunk])
        rates.append(chunk.size / (time.perf_counter() - start))
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    add_data_dir_argument(parser)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_torch_threads(args.threads)

    import sklearn
    from sklearn.pipeline import make_pipeline

    from skroute import CausalRouterClassifier
    from skroute.datasets import simulate_logging
    from skroute.metrics import regret
    from skroute.text import PromptEmbedder, make_tfidf_embedder

    data = load_routerbench(args.data_dir)
    X, reward, cost, models, train, test = routerbench_arrays(data)
    texts = data.text

    # Embeddings of the queries by PromptEmbedder, and their throughput.
    start = time.perf_counter()
    embedder = PromptEmbedder().fit(texts[:1])
    load_seconds = time.perf_counter() - start
    X_text, rates = embed_in_chunks(embedder, texts)
    cosine = (X_text * X).sum(axis=1) / np.linalg.norm(X, axis=1)
    print(
        f"PromptEmbedder: model loaded in {load_seconds:.1f} s; {len(texts)} queries "
        f"embedded at {np.median(rates):.1f} prompts/s (median of {N_CHUNKS} chunks: "
        f"{', '.join(f'{rate:.1f}' for rate in rates)}); cosine with the "
        f"precomputed embeddings: min {cosine.min():.7f}, median "
        f"{np.median(cosine):.7f} (1 - min = {1 - cosine.min():.1e})",
        flush=True,
    )
    tfidf = make_tfidf_embedder(random_state=0).fit(texts[train])
    tfidf_rates = text_rate(tfidf, texts)

    def router(cost_sensitivity, seed):
        return CausalRouterClassifier(
            cost_sensitivity=cost_sensitivity, random_state=seed
        )

    def test_regret(routes, cost_sensitivity):
        return regret(
            reward[test],
            routes,
            cost=cost[test],
            cost_sensitivity=cost_sensitivity,
            classes=models,
        )

    names = {
        "a": "(a) router on precomputed embeddings",
        "b": "(b) PromptEmbedder + router on query text",
        "c": "(c) TF-IDF fallback + router on query text",
        "d": "(d) hashing fallback + router on query text",
    }
    results, fit_seconds, first_routes = {}, {}, {}
    with sklearn.config_context(enable_metadata_routing=True):
        for seed in range(args.seeds):
            logs = simulate_logging(
                X[train], reward[train], cost[train], models=models, random_state=seed
            )
            logged = logged_outcomes(logs)
            for cost_sensitivity in LAMBDAS:
                candidates = {
                    "a": (router(cost_sensitivity, seed), X[train], X[test]),
                    "b": (router(cost_sensitivity, seed), X_text[train], X_text[test]),
                    "c": (
                        make_pipeline(
                            make_tfidf_embedder(random_state=seed),
                            router(cost_sensitivity, seed),
                        ),
                        texts[train],
                        texts[test],
                    ),
                }
                if cost_sensitivity == 0.05:
                    candidates["d"] = (
                        make_pipeline(
                            make_tfidf_embedder(hashing=True, random_state=seed),
                            router(cost_sensitivity, seed),
                        ),
                        texts[train],
                        texts[test],
                    )
                for key, (estimator, X_train, X_test) in candidates.items():
                    start = time.perf_counter()
                    estimator.fit(X_train, logs.action, **logged)
                    fit_seconds.setdefault(key, []).append(time.perf_counter() - start)
                    routes = estimator.predict(X_test)
                    if seed == 0 and cost_sensitivity == 0.05:
                        first_routes[key] = routes
                    results.setdefault((key, cost_sensitivity), []).append(
                        test_regret(routes, cost_sensitivity)
                    )
            print(f"seed {seed} done", flush=True)

        # The literal Pipeline on text, once: embeds train and test texts itself.
        logs = simulate_logging(
            X[train], reward[train], cost[train], models=models, random_state=0
        )
        pipeline = make_pipeline(PromptEmbedder(), router(0.05, 0))
        start = time.perf_counter()
        pipeline.fit(texts[train], logs.action, **logged_outcomes(logs))
        literal_routes = pipeline.predict(texts[test])
        literal_seconds = time.perf_counter() - start
    agreement = (literal_routes == first_routes["b"]).mean()
    print(
        f"\nLiteral Pipeline(PromptEmbedder(), CausalRouterClassifier()) on the text, "
        f"seed 0, λ=0.05: fit + predict {literal_seconds:.0f} s, test regret "
        f"{test_regret(literal_routes, 0.05):.4f} (vs {results[('b', 0.05)][0]:.4f} "
        f"from the embeddings computed once); same route on {agreement:.1%} of "
        f"the test queries"
    )

    print(
        f"\nThroughput ({args.threads} torch thread(s), batch 32, prompts/s, median "
        f"of {N_CHUNKS} chunks of the 3,150 queries)"
    )
    print_table(
        ["transformer", "prompts/s"],
        [
            ["PromptEmbedder (all-MiniLM-L6-v2, CPU)", f"{np.median(rates):.1f}"],
            ["make_tfidf_embedder (transform)", f"{np.median(tfidf_rates):.0f}"],
        ],
    )

    print(
        f"\nRouterBench subset, query text: true test regret (lower is better), cost "
        f"in USD per 1k queries, mean ± std over {args.seeds} seeds; fit s = median "
        f"router (or Pipeline) fit time"
    )
    header = ["features"] + [f"λ={value:g}" for value in LAMBDAS] + ["fit s"]
    rows = []
    for key, name in names.items():
        cells = [
            mean_std(results[(key, value)]) if (key, value) in results else "-"
            for value in LAMBDAS
        ]
        rows.append([name, *cells, f"{np.median(fit_seconds[key]):.1f}"])
    print_table(header, rows)

    print("\nText pipelines against (a): |mean - mean(a)| and whether it is <= std(a)")
    rows = []
    for value in LAMBDAS:
        a = np.asarray(results[("a", value)])
        for key in "bcd":
            if (key, value) not in results:
                continue
            other = np.asarray(results[(key, value)])
            gap = abs(other.mean() - a.mean())
            within = "yes" if gap <= a.std(ddof=1) else "no"
            largest = np.abs(other - a).max()
            rows.append([f"λ={value:g}", key, f"{gap:.2e}", f"{largest:.2e}", within])
    print_table(
        ["λ", "features", "|mean gap|", "max per-seed gap", "within 1 std"], rows
    )


if __name__ == "__main__":
    main()
