"""``skroute benchmark``: routers and baselines on a generated routing problem."""

import sys
import time

import numpy as np

from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import regret
from skroute.routers import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    RandomRouter,
)


def _routers(cost_sensitivity, seed):
    return {
        "causal DR-softmax": CausalRouterClassifier(
            cost_sensitivity=cost_sensitivity, random_state=seed
        ),
        "causal DR-classification": CausalRouterClassifier(
            "classification", cost_sensitivity=cost_sensitivity, random_state=seed
        ),
        "decoupled": DecoupledRouter(cost_sensitivity=cost_sensitivity),
        "best single model": BestSingleModelRouter(
            cost_sensitivity=cost_sensitivity, random_state=seed
        ),
        "random": RandomRouter(random_state=seed),
    }


def run_benchmark(n_samples, seeds, cost_sensitivity, out=sys.stdout, err=sys.stderr):
    """Fit every router on simulated logs and return ``{name: [metrics per seed]}``."""
    results = {}
    for seed in seeds:
        problem = make_routing_problem(n_samples=2 * n_samples, random_state=seed)
        train, test = slice(0, n_samples), slice(n_samples, None)
        logs = simulate_logging(
            problem.X[train],
            problem.reward[train],
            problem.cost[train],
            models=problem.models,
            random_state=seed,
        )
        for name, router in _routers(cost_sensitivity, seed).items():
            print(f"seed {seed}: fitting {name}", file=err, flush=True)
            start = time.perf_counter()
            router.fit(
                logs.X,
                logs.action,
                reward=logs.reward,
                cost=logs.cost,
                propensity=logs.propensity,
            )
            elapsed = time.perf_counter() - start
            column = {model: t for t, model in enumerate(problem.models.tolist())}
            chosen = np.array(
                [column[model] for model in router.predict(problem.X[test]).tolist()]
            )
            rows = np.arange(chosen.size)
            results.setdefault(name, []).append(
                {
                    "regret": regret(
                        problem.expected_reward[test],
                        chosen,
                        cost=problem.cost[test],
                        cost_sensitivity=cost_sensitivity,
                    ),
                    "quality": problem.expected_reward[test][rows, chosen].mean(),
                    "cost": problem.cost[test][rows, chosen].mean(),
                    "fit_seconds": elapsed,
                }
            )
    return results


def format_results(results, cost_sensitivity, n_seeds):
    def cell(values, digits):
        values = np.asarray(values)
        spread = values.std(ddof=1) if values.size > 1 else 0.0
        return f"{values.mean():.{digits}f} ± {spread:.{digits}f}"

    header = ["router", "test regret", "quality", "cost", "fit s"]
    rows = [
        [
            name,
            cell([r["regret"] for r in runs], 4),
            cell([r["quality"] for r in runs], 3),
            cell([r["cost"] for r in runs], 3),
            f"{np.mean([r['fit_seconds'] for r in runs]):.1f}",
        ]
        for name, runs in results.items()
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [
        f"Generated routing problem, cost_sensitivity={cost_sensitivity:g}, "
        f"mean ± std over {n_seeds} seeds (lower regret is better)",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)
