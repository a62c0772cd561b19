"""Helpers shared by the test modules."""

import numpy as np
import sklearn
from sklearn.pipeline import make_pipeline

from skroute import CausalRouterClassifier


def fit_kwargs(logs):
    """The logged arrays of ``logs`` as keyword arguments of ``fit`` and ``score``.

    ``logs`` is what :func:`skroute.datasets.simulate_logging` or
    :func:`skroute.datasets.load_logs` return: ``router.fit(logs.X, logs.action,
    **fit_kwargs(logs))``.
    """
    return {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}


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
