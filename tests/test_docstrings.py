"""numpydoc validation of every public class and function.

The public API is what each public module lists in ``__all__``. Each object
must have a docstring that numpydoc parses, with a summary, documented
parameters that match the signature, and an Examples section.
"""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate")

PUBLIC_MODULES = [
    "skroute",
    "skroute.routers",
    "skroute.causal",
    "skroute.ope",
    "skroute.metrics",
    "skroute.losses",
    "skroute.datasets",
    "skroute.text",
    "skroute.utils",
    "skroute.persistence",
    "skroute.plotting",
    "skroute.serving",
]

# The numpydoc checks that must pass (see numpydoc.validate.ERROR_MSGS):
# GL08 no docstring, SS01 no summary, PR01 parameter not documented, PR02
# documented parameter not in the signature, EX01 no Examples section.
CHECKS = ("GL08", "SS01", "PR01", "PR02", "EX01")


def _public_objects():
    seen = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants
            # One entry per object, under the shortest public path.
            seen.setdefault(id(obj), f"{module_name}.{name}")
    return sorted(seen.values())


PUBLIC = _public_objects()


def test_the_public_api_is_not_empty():
    assert "skroute.CausalRouterClassifier" in PUBLIC
    assert "skroute.plotting.RoutingCurveDisplay" in PUBLIC
    assert len(PUBLIC) > 50


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_validates(name):
    result = validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"]]
    assert [e for e in errors if e[:4] in CHECKS] == []


def _listed_in_api_page():
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
    listed, module = set(), None
    for line in page.read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = importlib.import_module(match.group(1))
        elif (match := re.match(r"   ([A-Za-z_][\w.]*)$", line)) and module:
            obj = module
            for part in match.group(1).split("."):
                obj = getattr(obj, part)
            listed.add(id(obj))
    return listed


def test_the_api_page_lists_every_public_object():
    listed = _listed_in_api_page()

    def resolve(name):
        module_name, _, attribute = name.rpartition(".")
        return getattr(importlib.import_module(module_name), attribute)

    assert [name for name in PUBLIC if id(resolve(name)) not in listed] == []
