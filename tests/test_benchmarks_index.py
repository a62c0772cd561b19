"""The benchmarks folder: every file is indexed, and no script leans on private code.

Reads the files only (``ast``); no benchmark runs here.
"""

import ast
import re
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# Generated outputs and caches, not part of the folder's contents.
NOT_INDEXED = {"README.md", "results", "__pycache__"}
# The one module of shared helpers that every script may import.
SHARED_HELPERS = "_common"


def _entries():
    return sorted(
        path.name
        for path in BENCHMARKS.iterdir()
        if path.name not in NOT_INDEXED and not path.name.startswith(".")
    )


def _scripts():
    return sorted(BENCHMARKS.glob("*.py"))


def _private_names(tree, local_modules):
    """Imports of private skroute names and of other benchmark scripts."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [(node.module or "", [alias.name for alias in node.names])]
        else:
            continue
        for module, names in modules:
            parts = module.split(".")
            if parts[0] == "skroute":
                private = [p for p in parts[1:] if p.startswith("_")]
                private += [n for n in names if n.startswith("_")]
                if private:
                    found.append(f"line {node.lineno}: {module} ({', '.join(private)})")
            elif parts[0] in local_modules and parts[0] != SHARED_HELPERS:
                found.append(f"line {node.lineno}: the script {parts[0]}.py")
    return found


def test_every_file_in_benchmarks_is_indexed():
    index = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    # An entry names the file in backquotes, as `bench_ope.py` or `figures/`.
    named = set(re.findall(r"`([^`\s]+?)/?`", index))
    missing = [name for name in _entries() if name not in named]
    assert missing == [], f"add these to benchmarks/README.md: {missing}"


def test_index_names_only_files_that_exist():
    index = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ `([^`]+?)/?`", index, flags=re.MULTILINE)
    assert headings, "benchmarks/README.md has no entries headed by a file name"
    stale = [name for name in headings if not (BENCHMARKS / name).exists()]
    assert stale == []


@pytest.mark.parametrize("script", _scripts(), ids=lambda path: path.name)
def test_benchmark_imports_only_public_names(script):
    local_modules = {path.stem for path in _scripts()}
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    assert _private_names(tree, local_modules) == []


def test_the_check_sees_private_imports():
    source = (
        "from skroute.cli._benchmark import run_benchmark\n"
        "from skroute.routers import _base\n"
        "import skroute._kernels\n"
        "from bench_robustness import SPLIT\n"
        "from _common import print_table\n"
        "from skroute.datasets import load_wide_table\n"
    )
    found = _private_names(ast.parse(source), {"bench_robustness", "_common"})
    assert [line.split(":")[0] for line in found] == [
        "line 1",
        "line 2",
        "line 3",
        "line 4",
    ]
