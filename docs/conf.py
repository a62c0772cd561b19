"""Sphinx configuration of the skroute documentation.

Build with ``python docs/build.py``: it copies this folder out of the source
tree and builds there, so that the generated pages (API stubs, the gallery)
never land among the sources.
"""

import os
from pathlib import Path

import skroute


def _repository_root():
    """The checkout: named by ``build.py`` (which may copy this file anywhere),
    or the folder holding ``pyproject.toml`` above this file."""
    named = os.environ.get("SKROUTE_CHECKOUT")
    if named:
        return Path(named)
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "skroute").is_dir():
            return folder
    raise RuntimeError(f"no skroute checkout above {here}")


ROOT = _repository_root()

project = "skroute"
author = "The skroute developers"
release = skroute.__version__
version = ".".join(release.split(".")[:2])
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# Cross-references to numpy, scikit-learn and Python stay plain text: the
# build runs without network, and no offline inventories are kept here.
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "build.py"]
templates_path = ["_templates"]

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "matplotlib_animations": False,
    "remove_config_comments": True,
    # SKROUTE_DOCS_NO_GALLERY=1 builds the pages without running the examples.
    "plot_gallery": os.environ.get("SKROUTE_DOCS_NO_GALLERY") != "1",
}

html_theme = "alabaster"
html_theme_options = {
    "description": "LLM routing policies learned from logs",
    "page_width": "1120px",
    "sidebar_width": "230px",
    "fixed_sidebar": True,
}
html_show_sourcelink = False
