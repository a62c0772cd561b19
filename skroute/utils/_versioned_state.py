"""Versioned pickled state: what a saved estimator records and how it loads.

Routers and prompt embedders pickle through these, so they sit below both;
:mod:`skroute.persistence` re-exports the public names.
"""

import inspect
import sys

from skroute.utils._warnings import warn_at_caller

# Layout of a router's pickled state. A change that older pickles cannot be
# read under, or that older versions would misread, bumps it, with a migration
# or a clear error. 2: the deployed policy is an object, ``deployed_``; routers
# of format 1 are migrated when loaded (``routers._deployed``).
PERSISTENCE_FORMAT = 2


class SkrouteVersionWarning(UserWarning):
    """A router is loaded by another skroute version than the one that saved it.

    Emitted by unpickling a router (a pickle you made yourself: unpickling
    runs code, see docs/persistence.rst) when the pickle was written by
    another skroute version, or by one from before saved
    routers recorded their version. The router loads with its fitted state as
    saved and with default values for constructor parameters added since;
    check its predictions, then refit or re-save it.

    Examples
    --------
    Make unpickling a router pickled by another version an error, so that it
    is refit rather than used; a router pickled by this version loads as
    before:

    >>> import pickle, warnings
    >>> import numpy as np
    >>> from skroute import RandomRouter
    >>> from skroute.persistence import SkrouteVersionWarning
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> router = RandomRouter(random_state=0).fit(X, ["a", "b"] * 10,
    ...                                           reward=np.ones(20))
    >>> data = pickle.dumps(router)  # kept by you, so trusted
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", SkrouteVersionWarning)
    ...     loaded = pickle.loads(data)
    >>> loaded
    RandomRouter(random_state=0)
    """


def skroute_version():
    """The version of skroute, as ``skroute.__version__`` says when called."""
    # The package is imported before any of its modules, so its attribute is
    # read without importing it here (its lazy attributes load the routers).
    return sys.modules["skroute"].__version__


def persisted_state(state):
    """The state to pickle: ``state`` plus the skroute version and pickle format."""
    return {
        **state,
        "_skroute_version": skroute_version(),
        "_skroute_format": PERSISTENCE_FORMAT,
    }


def restored_state(estimator, state):
    """The state to restore from a pickle, checked against this skroute version.

    A pickle of a newer format than this version reads raises a ValueError that
    says which version wrote it. A pickle written by another version (or by a
    version from before pickles recorded one) loads with an
    :class:`SkrouteVersionWarning`; constructor parameters added since it
    was written take their default values.

    Parameters
    ----------
    estimator : BaseEstimator
        The object being unpickled (its class gives the defaults).
    state : dict
        The pickled state.

    Returns
    -------
    dict
    """
    state = dict(state)
    version = state.pop("_skroute_version", None)
    saved_format = state.pop("_skroute_format", 0)
    name = type(estimator).__name__
    current = skroute_version()
    if saved_format > PERSISTENCE_FORMAT:
        raise ValueError(
            f"This {name} was saved by skroute {version} in pickle format "
            f"{saved_format}; skroute {current} reads formats up to "
            f"{PERSISTENCE_FORMAT}. Load it with skroute {version} or later, or "
            "refit it with this version."
        )
    if version != current:
        saved_by = (
            f"skroute {version}"
            if version is not None
            else "a skroute version that did not record itself"
        )
        warn_at_caller(
            f"Loading a {name} saved by {saved_by} with skroute {current}. Its "
            "fitted state is read as saved and parameters added since take their "
            "defaults; check its predictions, then refit or re-save it with this "
            "version.",
            SkrouteVersionWarning,
        )
    signature = inspect.signature(type(estimator).__init__)
    for parameter in signature.parameters.values():
        if parameter.name == "self" or parameter.default is parameter.empty:
            continue
        state.setdefault(parameter.name, parameter.default)
    return state
