"""Saving routers and Pipelines as router files, and reading them back."""

import math

import numpy as np

# Reading needs numpy alone: scikit-learn and the steps' writers are imported
# when a file is written.
from skroute.serving import load_exported
from skroute.serving._file import ROUTER_FILE_FORMAT, dump_router_file


def router_file_payload(estimator, *, cost_scale=1.0, cost_unit=None):
    """The metadata and arrays of ``estimator``'s router file."""
    from sklearn.pipeline import Pipeline

    from skroute.persistence._steps import step_data

    if isinstance(estimator, Pipeline):
        named = [
            (name, step)
            for name, step in estimator.steps[:-1]
            if step is not None and step != "passthrough"
        ]
        final = estimator.steps[-1][1]
    else:
        named, final = [], estimator
    if not hasattr(final, "_router_file"):
        raise TypeError(
            "save_router writes skroute routers, and Pipelines that end with one; "
            f"got {type(final).__name__}."
        )
    meta, arrays = final._router_file()
    if not named:
        meta["n_features_in"] = meta["n_features"]
    else:
        steps = []
        for k, (name, step) in enumerate(named):
            settings, step_arrays = step_data(name, step)
            steps.append(settings)
            arrays.update({f"step/{k}/{key}": v for key, v in step_arrays.items()})
        meta["steps"] = steps
        arrays.pop("feature_names", None)
        first = named[0][1]
        if steps[0]["kind"] != "prompt_embedder":
            meta["n_features_in"] = int(first.n_features_in_)
            names = getattr(first, "feature_names_in_", None)
            if names is not None:
                arrays["feature_names"] = np.asarray(names).astype(str)
    cost_scale = float(cost_scale)
    if not (math.isfinite(cost_scale) and cost_scale > 0):
        raise ValueError(f"cost_scale must be a positive number; got {cost_scale!r}.")
    meta["cost_scale"] = cost_scale
    if cost_unit is not None:
        meta["cost_unit"] = str(cost_unit)
    meta["format"] = ROUTER_FILE_FORMAT
    return meta, arrays


def save_router(estimator, path, *, cost_scale=1.0, cost_unit=None):
    """Write a fitted router, or a Pipeline ending in one, as a router file.

    A router file is data: the deployed policy's arrays, the outcome models',
    the linear preprocessing steps of a Pipeline (StandardScaler,
    RobustScaler, MaxAbsScaler, MinMaxScaler, Normalizer, PCA, TruncatedSVD)
    and a :class:`~skroute.text.PromptEmbedder` by its settings, with JSON
    metadata (classes, feature names, the fitted ``lambda`` or its range,
    cost units). Nothing in it is code, so :func:`load_router` and
    ``skroute route`` read it without trusting it, and without torch. A step
    of another kind is refused with an error that names it.

    The file is written to a temporary file beside ``path``, flushed to disk
    and renamed over ``path``: an interrupted or failed write leaves any
    previous file as it was.

    Parameters
    ----------
    estimator : fitted router or Pipeline
        A skroute router (or :class:`~skroute.BudgetRouter`), or a Pipeline of
        the steps above that ends with one.
    path : str or Path
        Conventionally ``.npz``.
    cost_scale : float, default=1.0
        The factor the logged costs were multiplied by before ``fit`` (as
        ``skroute fit --cost-scale``): ``skroute evaluate`` applies it to new
        logs, so that ``lambda`` keeps its meaning.
    cost_unit : str, default=None
        The unit of the costs, in words (e.g. ``"USD per 1,000 queries"``),
        kept for whoever reads the file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.persistence import load_router, save_router
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> pipeline = make_pipeline(StandardScaler(), PCA(4), DecoupledRouter())
    >>> pipeline = pipeline.fit(
    ...     logs.X, logs.action, decoupledrouter__reward=logs.reward)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "router.npz"
    >>> save_router(pipeline, path)
    >>> served = load_router(path)
    >>> served.steps
    ['standard_scaler', 'pca']
    >>> bool((served.predict(logs.X) == pipeline.predict(logs.X)).all())
    True
    """
    from skroute.utils import atomic_write

    meta, arrays = router_file_payload(
        estimator, cost_scale=cost_scale, cost_unit=cost_unit
    )
    atomic_write(path, lambda file: dump_router_file(file, meta, arrays))


class _PromptEmbedding:
    """Embeds prompts with the embedder a router file names, loaded on first use."""

    def __init__(self, settings, device):
        self.settings = settings
        self.device = device
        self._embedder = None

    def __call__(self, texts):
        if self._embedder is None:
            from skroute.text import PromptEmbedder

            options = {
                key: value
                for key, value in self.settings.items()
                if key not in ("kind", "dimension")
            }
            embedder = PromptEmbedder(**options, device=self.device).fit(["prompt"])
            if embedder.embedding_dimension_ != self.settings["dimension"]:
                raise ValueError(
                    f"the embedding model {options['model'] or 'all-MiniLM-L6-v2'} "
                    f"gives {embedder.embedding_dimension_} features here; the "
                    f"router was fitted on {self.settings['dimension']}."
                )
            self._embedder = embedder
        return self._embedder.transform(texts)


def load_router(path, *, device="cpu", text_model=None):
    """Read a router file: a router that routes with numpy, without trusting the file.

    Every member, array header, metadata key and dtype of the file is checked
    (sizes against the file's own size before anything is read); a file that
    fails any check raises one :class:`~skroute.serving.RouterFileError` that
    names it. Nothing in the file runs. For a Pipeline that starts with a
    :class:`~skroute.text.PromptEmbedder`, ``predict`` takes prompts and
    embeds them with the model the file names (loaded on first use, which
    needs the text extra).

    Parameters
    ----------
    path : str or Path
    device : str, default="cpu"
        Where a prompt embedder runs.
    text_model : str, default=None
        For a file whose prompt embedder names a model other than the bundled
        all-MiniLM-L6-v2: that model's name, given by you. A router file does
        not choose on its own which model (a hub name or a folder) is loaded
        on the machine that reads it.

    Returns
    -------
    ExportedRouter
        With ``predict`` and ``predict_proba``, ``classes_``,
        ``feature_names_in_``, ``cost_sensitivity`` (the fitted ``lambda``),
        ``cost_range``, ``cost_scale`` and ``cost_unit``.

    Raises
    ------
    RouterFileError
        (a ValueError) For a file that is not a skroute router file.

    See Also
    --------
    save_router : write a router or a Pipeline as a router file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from skroute import DecoupledRouter
    >>> from skroute.persistence import load_router, save_router
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> router = DecoupledRouter(cost_sensitivity=0.1).fit(
    ...     X, ["small", "large"] * 30, reward=rng.uniform(size=60),
    ...     cost=np.tile([0.1, 1.0], 30))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "router.npz"
    >>> save_router(router, path)
    >>> served = load_router(path)
    >>> served
    ExportedRouter(DecoupledRouter, 2 models, 3 features)
    >>> served.cost_sensitivity
    0.1
    >>> bool((served.predict(X) == router.predict(X)).all())
    True
    """
    served = load_exported(path)
    settings = served.embedder_settings
    if settings is not None:
        named = settings["model"]
        if named is not None and named != text_model:
            raise ValueError(
                f"{path} embeds prompts with the model {named!r}, which is loaded "
                f"only when you name it: load_router(path, text_model={named!r}) "
                f"(skroute route: --text-model {named!r}), if you trust that model."
            )
        served.set_embedder(_PromptEmbedding(settings, device))
    return served
