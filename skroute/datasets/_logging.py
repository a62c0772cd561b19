"""Turn a full-feedback table into logged data under a known logging policy."""

import numpy as np
from scipy.special import softmax
from sklearn.utils import Bunch, check_random_state

from skroute.utils import (
    check_finite,
    check_full_feedback,
    check_model_names,
    check_number,
    check_numeric,
)


def simulate_logging(
    X,
    reward,
    cost=None,
    *,
    logging_policy="linear",
    temperature=1.0,
    exploration=0.05,
    models=None,
    groups=None,
    random_state=None,
):
    """Simulate the logs of a deployed router on a full-feedback table.

    The logging policy is ``(1 - exploration) * softmax(score(x) / temperature)
    + exploration / T``: it depends on the query, and every model keeps a
    probability of at least ``exploration / T``. Each row reveals the quality
    and cost of the one model drawn; the exact propensities are returned.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    reward : array-like of shape (n_samples, n_models)
        Full-feedback quality table.
    cost : array-like of shape (n_samples, n_models), default=None
    logging_policy : "linear", "topic", "uniform" or array-like
        ``"linear"``: scores from a random linear map of the standardised
        features (seeded by ``random_state``); ``"topic"``: a random
        preference over models per value of ``groups`` (the query's topic or
        task); ``"uniform"``: every model with equal probability; an array of
        shape (n_samples, n_models): the scores themselves.
    temperature : float, default=1.0
    exploration : float in [0, 1], default=0.05
    models : array-like of shape (n_models,), default=None
        Model names used as labels of ``action``; ``0 .. T-1`` when None.
    groups : array-like of shape (n_samples,), default=None
        Topic of each query, for ``logging_policy="topic"``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    Bunch
        ``X``, ``action`` (model label per row), ``action_index`` (its column),
        ``reward`` and ``cost`` of the logged model (n_samples,),
        ``propensity`` of the logged model, ``logging_proba`` (n_samples,
        n_models).

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.datasets import simulate_logging
    >>> rng = np.random.default_rng(0)
    >>> logs = simulate_logging(rng.normal(size=(5, 3)), rng.uniform(size=(5, 4)),
    ...                         random_state=0)
    >>> logs.propensity.shape, bool((logs.propensity >= 0.05 / 4).all())
    ((5,), True)
    """
    X, reward, cost = check_full_feedback(X, reward, cost)
    n_samples, n_models = reward.shape
    check_number(exploration, "exploration", low=0, high=1)
    check_number(temperature, "temperature", low=0, closed="neither")
    models = check_model_names(models, n_models)
    rng = check_random_state(random_state)

    if isinstance(logging_policy, str) and logging_policy == "linear":
        spread = X.std(axis=0)
        standardised = (X - X.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
        weights = rng.normal(size=(X.shape[1], n_models)) / np.sqrt(X.shape[1])
        scores = standardised @ weights
    elif isinstance(logging_policy, str) and logging_policy == "topic":
        shape = None if groups is None else np.shape(groups)
        if shape != (n_samples,):
            raise ValueError(
                "logging_policy='topic' needs groups, one topic label per row "
                f"(shape ({n_samples},)); got {shape}."
            )
        try:
            _, topic = np.unique(np.asarray(groups), return_inverse=True)
        except TypeError as exc:
            raise TypeError(
                "groups must hold topic labels of one type (e.g. all strings or "
                f"all ints); sorting them failed: {exc}"
            ) from None
        preferences = rng.normal(scale=2.0, size=(topic.max() + 1, n_models))
        scores = preferences[topic]
    elif isinstance(logging_policy, str) and logging_policy == "uniform":
        scores = np.zeros((n_samples, n_models))
    elif isinstance(logging_policy, str):
        raise ValueError(
            "logging_policy must be 'linear', 'topic', 'uniform' or an (n_samples, "
            "n_models) "
            f"array of scores; got {logging_policy!r}."
        )
    else:
        scores = check_numeric(logging_policy, "logging_policy scores")
        check_finite(scores, "logging_policy scores")
        if scores.shape != reward.shape:
            raise ValueError(
                f"logging_policy scores must have shape {reward.shape}; got "
                f"{scores.shape}."
            )
    proba = (1 - exploration) * softmax(scores / temperature, axis=1)
    proba += exploration / n_models
    cumulative = np.cumsum(proba, axis=1)
    draws = rng.uniform(size=(n_samples, 1)) * cumulative[:, -1:]
    action_index = np.minimum((cumulative < draws).sum(axis=1), n_models - 1)
    rows = np.arange(n_samples)
    return Bunch(
        X=X,
        action=models[action_index],
        action_index=action_index,
        reward=reward[rows, action_index],
        cost=None if cost is None else cost[rows, action_index],
        propensity=proba[rows, action_index],
        logging_proba=proba,
    )
