"""Build the HTML documentation outside the source tree.

Usage: ``python docs/build.py [OUTPUT]`` (default ``build/docs``).

The sources in ``docs/`` are copied to ``OUTPUT/source``, and Sphinx builds
``OUTPUT/html`` from the copy with warnings as errors (``-W``), so that
autosummary's stubs and the gallery's pages are written there and never
among the sources. The gallery runs every example.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def main(argv):
    output = Path(argv[0]) if argv else DOCS.parent / "build" / "docs"
    source = output / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("build.py"))
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "-d",
        str(output / "doctrees"),
        str(source),
        str(output / "html"),
    ]
    # The copy may be anywhere: it finds the examples and the package by this.
    env = dict(os.environ, SKROUTE_CHECKOUT=str(DOCS.parent))
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
