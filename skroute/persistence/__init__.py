"""Router files: saving a router atomically, and loading it without running code.

:func:`save_router` pickles a router to a file beside its target and renames
it into place; :func:`load_router` reads it with an unpickler that resolves
only the names a router is made of. A router loaded by another skroute
version than the one that saved it warns with :class:`SkrouteVersionWarning`.
For serving with numpy alone, export the router instead
(:func:`skroute.serving.load_exported`).
"""

from skroute.persistence._safe_pickle import load_router, save_router
from skroute.utils._versioned_state import PERSISTENCE_FORMAT, SkrouteVersionWarning

__all__ = ["PERSISTENCE_FORMAT", "SkrouteVersionWarning", "load_router", "save_router"]
