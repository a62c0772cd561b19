"""Every ``pip install`` the project tells a user to run installs this project
or one of its dependencies: never a package of another name."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later

ROOT = Path(__file__).resolve().parents[1]
# Optional engines that pandas names for parquet; the loaders' hint offers one.
_ENGINES = {"pyarrow", "fastparquet"}


def _allowed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    names = {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}
    return project["name"], names | _ENGINES


def _texts():
    """Every place a user reads an install command: docs, examples, hints."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]
    paths += sorted((ROOT / "examples").rglob("*.py"))
    paths += sorted((ROOT / "skroute").rglob("*.py"))
    return {path.relative_to(ROOT): path.read_text() for path in paths}


def _install_commands(text):
    """The requirement words after each ``pip install`` (joined across a
    line break inside a reST literal)."""
    text = text.replace("&&", "\n")
    text = re.sub(r"``\s*\n\s*", "``", text)
    text = re.sub(r"(pip install)\s*\n\s*", r"\1 ", text)
    for match in re.finditer(r"pip install ([^`\n)]*)", text):
        words = []
        for word in match.group(1).split():
            if word in ("&&", "|", ";") or word.startswith(("#", "(")):
                break
            requirement = word.strip("'\"").rstrip(",:;'\"")
            if len(requirement) > 1:
                requirement = requirement.rstrip(".")  # the end of a sentence
            words.append(requirement)
            if re.search(r"['\"][,.:]?$", word):
                break  # the end of a string literal or of a quoted requirement
        yield match.group(0), [w for w in words if w and not w.startswith("-")]


def test_the_distribution_is_named_apart_from_the_import():
    name, _ = _allowed()
    assert name == "scikit-route"


def test_every_install_line_names_this_project_or_a_dependency():
    name, dependencies = _allowed()
    checked, wrong = 0, []
    for where, text in _texts().items():
        for line, requirements in _install_commands(text):
            for requirement in requirements:
                base = re.split(r"[\[<>=!~]", requirement, maxsplit=1)[0].lower()
                checked += 1
                if base == "." or base == name or base in dependencies:
                    continue
                wrong.append(f"{where}: {line!r} installs {base!r}")
    assert checked > 10  # the search finds the README's and the hints' lines
    assert wrong == []


@pytest.mark.parametrize("name", ["skroute", "skroute[text]", "skroute[data]"])
def test_the_old_name_is_not_offered_anywhere(name):
    for where, text in _texts().items():
        assert f"pip install {name}" not in text, where
        assert f'pip install "{name}"' not in text, where
        assert f"pip install '{name}'" not in text, where
