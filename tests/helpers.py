"""Helpers shared by the test modules."""


def fit_kwargs(logs):
    """The logged arrays of ``logs`` as keyword arguments of ``fit`` and ``score``.

    ``logs`` is what :func:`skroute.datasets.simulate_logging` or
    :func:`skroute.datasets.load_logs` return: ``router.fit(logs.X, logs.action,
    **fit_kwargs(logs))``.
    """
    return {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
