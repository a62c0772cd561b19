"""A generated full-feedback routing problem with a known optimal policy."""

import numpy as np
from scipy.special import expit
from sklearn.utils import Bunch, check_random_state

from skroute.utils import check_number, check_numeric


def make_routing_problem(
    n_samples=4000,
    *,
    n_models=6,
    n_features=20,
    n_clusters=30,
    price_range=(0.05, 5.0),
    skill_spread=1.5,
    random_state=None,
):
    """Generate a full-feedback routing problem: queries, models, quality, cost.

    Queries fall into topic clusters in feature space. Each model has a general
    ability that grows with its price, plus a cluster-specific skill (models
    specialise) and a smooth within-cluster trend. The expected quality is
    ``sigmoid(ability_t + skill[c, t] + (x - centre_c) @ w_t)``; the observed
    quality is a 0/1 draw from it, as in correctness-graded LLM benchmarks.
    Prices are spread log-uniformly over ``price_range`` (two orders of
    magnitude by default, like LLM price lists); each query's cost is its
    model's price times the query's length factor (shared by all models).

    The optimal policy at cost sensitivity ``lambda`` routes query ``i`` to
    ``argmax_t expected_reward[i, t] - lambda * cost[i, t]``.

    Parameters
    ----------
    n_samples : int, default=4000
    n_models : int, default=6
    n_features : int, default=20
    n_clusters : int, default=30
    price_range : (float, float), default=(0.05, 5.0)
        Cheapest and most expensive model's mean cost per query.
    skill_spread : float, default=1.5
        Standard deviation of the cluster-specific skills (logit scale).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    Bunch
        ``X`` (n_samples, n_features), ``reward`` (n_samples, n_models) 0/1
        quality, ``expected_reward`` its expectation, ``cost`` (n_samples,
        n_models), ``models`` (names, cheapest first, sorting in column order),
        ``price`` per model and ``cluster`` per query.

    Examples
    --------
    >>> from skroute.datasets import make_routing_problem
    >>> problem = make_routing_problem(n_samples=100, random_state=0)
    >>> problem.X.shape, problem.reward.shape, problem.cost.shape
    ((100, 20), (100, 6), (100, 6))
    >>> problem.models[:2].tolist()
    ['llm-0', 'llm-1']
    """
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("n_models", n_models, 2),
        ("n_features", n_features, 1),
        ("n_clusters", n_clusters, 1),
    ):
        check_number(value, name, low=low, integer=True, type_error=ValueError)
    bounds = check_numeric(price_range, "price_range")
    if bounds.shape != (2,) or not 0 < bounds[0] <= bounds[1] < np.inf:
        raise ValueError(
            "price_range must be (low, high) with 0 < low <= high; got "
            f"{price_range!r}."
        )
    low_price, high_price = bounds
    check_number(skill_spread, "skill_spread", low=0, type_error=ValueError)
    rng = check_random_state(random_state)
    centres = rng.normal(scale=2.0, size=(n_clusters, n_features))
    cluster = rng.randint(n_clusters, size=n_samples)
    offset = rng.normal(size=(n_samples, n_features))
    X = centres[cluster] + offset

    price = np.geomspace(low_price, high_price, n_models)
    ability = np.linspace(-0.5, 1.5, n_models)
    skill = rng.normal(scale=skill_spread, size=(n_clusters, n_models))
    trend = rng.normal(scale=0.5 / np.sqrt(n_features), size=(n_features, n_models))
    expected_reward = expit(ability + skill[cluster] + offset @ trend)
    reward = (rng.uniform(size=expected_reward.shape) < expected_reward).astype(float)

    length = rng.lognormal(mean=0.0, sigma=0.4, size=(n_samples, 1))
    cost = price * length

    return Bunch(
        X=X,
        reward=reward,
        expected_reward=expected_reward,
        cost=cost,
        # Zero-padded names sort in column order, the order of classes_.
        models=np.array(
            [f"llm-{t:0{len(str(n_models - 1))}d}" for t in range(n_models)]
        ),
        price=price,
        cluster=cluster,
    )
