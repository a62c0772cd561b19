"""Helpers shared by the test modules."""

import warnings

import numpy as np
import sklearn
from sklearn.pipeline import make_pipeline

from skroute import CausalRouterClassifier
from skroute.routers import PolicyFallbackWarning


def fit_kwargs(logs, rows=None):
    """The logged arrays of ``logs`` as keyword arguments of ``fit`` and ``score``.

    ``logs`` is what :func:`skroute.datasets.simulate_logging` or
    :func:`skroute.datasets.load_logs` return: ``router.fit(logs.X, logs.action,
    **fit_kwargs(logs))``. ``rows`` (a slice or an index array) keeps those rows.
    """
    logged = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
    if rows is None:
        return logged
    return {name: values[rows] for name, values in logged.items()}


def fit_logged(router, logs, *, quiet=False, **extra):
    """``router`` fitted on ``logs``, with ``extra`` passed on to ``fit``.

    ``quiet=True`` ignores the :class:`~skroute.routers.PolicyFallbackWarning` of
    the safety check, for tests about something else.
    """
    if not quiet:
        return router.fit(logs.X, logs.action, **fit_kwargs(logs), **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PolicyFallbackWarning)
        return router.fit(logs.X, logs.action, **fit_kwargs(logs), **extra)


# Prompts of two topics and logs of a model right on each: a text pipeline's data.
def topic_prompts(n_per_topic, seed):
    """Arithmetic questions and coding requests, shuffled; labels 0 and 1."""
    rng = np.random.default_rng(seed)
    things = ["list", "string", "dictionary", "matrix", "tree", "graph", "array"]
    verbs = ["sorts", "reverses", "flattens", "counts the items of", "searches"]
    prompts = [
        f"What is {a} plus {b}? Answer with a number."
        for a, b in rng.integers(1, 1000, size=(n_per_topic, 2))
    ] + [
        f"Write a Python function that {rng.choice(verbs)} a {rng.choice(things)}."
        for _ in range(n_per_topic)
    ]
    topic = np.repeat([0, 1], n_per_topic)
    order = rng.permutation(topic.size)
    return [prompts[i] for i in order], topic[order]


def topic_logs(topic, seed):
    """Uniform logs of two models: "math-model" is right on topic 0 only."""
    rng = np.random.default_rng(seed)
    models = np.array(["math-model", "code-model"])
    action = rng.integers(0, 2, size=topic.size)
    return models[action], (action == topic).astype(float), np.full(topic.size, 0.5)


def fit_router_pipeline(embedder, prompts, topic):
    action, reward, propensity = topic_logs(topic, seed=0)
    pipeline = make_pipeline(
        embedder,
        CausalRouterClassifier(max_epochs=30, lr=2e-2, cv=3, random_state=0),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline.fit(prompts, action, reward=reward, propensity=propensity)
    return pipeline
