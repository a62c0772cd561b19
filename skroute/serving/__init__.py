"""Serving router files with numpy alone: no torch, skorch or scikit-learn.

A router file (``router.export(path)``, :func:`skroute.persistence.save_router`,
``skroute fit --out``) holds arrays and JSON metadata: the weights of the
deployed policy and of the outcome models, the classes, the feature names,
the cost units and the linear steps of a Pipeline. Reading it runs no code
from it. :func:`load_exported` reads it into an :class:`ExportedRouter`, whose
``predict`` gives the same routes as the router's.

Examples
--------
>>> import numpy as np
>>> from skroute.routers import DecoupledRouter
>>> from skroute.serving import load_exported
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 3))
>>> y = np.array(["small", "large"] * 20)
>>> router = DecoupledRouter().fit(X, y, reward=rng.uniform(size=40))
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "router.npz"
>>> router.export(path)
>>> served = load_exported(path)
>>> bool((served.predict(X) == router.predict(X)).all())
True
"""

from skroute.serving._file import ROUTER_FILE_FORMAT, RouterFileError
from skroute.serving._router import ExportedRouter, load_exported

# The name this module gave the format before router files held Pipelines.
EXPORT_FORMAT = ROUTER_FILE_FORMAT

__all__ = [
    "EXPORT_FORMAT",
    "ROUTER_FILE_FORMAT",
    "ExportedRouter",
    "RouterFileError",
    "load_exported",
]
