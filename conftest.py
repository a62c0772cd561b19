"""Settings shared by the tests and the doctests."""

import os

import pytest

# Plots render off screen, whatever the machine has.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot = __import__("sys").modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
