"""Links from the HTML representation of skroute's estimators to their docs."""

import importlib
import itertools

DOCS_URL = "https://skroute.readthedocs.io/en/latest/"


class DocLinkMixin:
    """Point the ``?`` of an estimator's HTML repr at its page of the API reference.

    The page is named after the shortest public path of the class, for
    instance ``skroute.CausalRouterClassifier`` or
    ``skroute.text.PromptEmbedder``, as the API reference's autosummary
    writes it.
    """

    _doc_link_module = "skroute"
    _doc_link_template = DOCS_URL + "generated/{public_name}.html"

    def _doc_link_url_param_generator(self):
        cls = type(self)
        public = itertools.takewhile(
            lambda part: not part.startswith("_"), cls.__module__.split(".")
        )
        module = ".".join(public)
        top = importlib.import_module("skroute")
        if getattr(top, cls.__name__, None) is cls:
            module = "skroute"
        return {"public_name": f"{module}.{cls.__name__}"}
