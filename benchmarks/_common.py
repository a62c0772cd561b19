"""Helpers shared by the benchmark scripts: thread limits, generated logs, tables."""

import os

# One BLAS/torch thread per process: the benchmarks run side by side with other
# work on small machines, where oversubscription costs far more than it gains.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def set_torch_threads(n_threads):
    import torch

    torch.set_num_threads(n_threads)


def embedding_logs(n_samples, n_features, n_models=11):
    """Generated logs with unit-norm float32 features, the scale of embeddings.

    Returns ``(X, logs)``: ``logs`` from ``simulate_logging`` (logged
    propensities included) on the rows of ``X``.
    """
    from skroute.datasets import make_routing_problem, simulate_logging

    problem = make_routing_problem(
        n_samples=n_samples, n_models=n_models, n_features=n_features, random_state=0
    )
    X = problem.X / np.linalg.norm(problem.X, axis=1, keepdims=True)
    X = X.astype(np.float32)
    logs = simulate_logging(
        X, problem.reward, problem.cost, models=problem.models, random_state=0
    )
    return X, logs


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std(ddof=1) if values.size > 1 else 0.0:.4f}"


def markdown_table(header, rows):
    """Lines of a markdown table with padded columns."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return [line(header), rule, *(line(row) for row in rows)]


def print_table(header, rows):
    print("\n".join(markdown_table(header, rows)))
