"""Every gallery example runs to completion, as the documentation build runs it."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[1] / "examples").glob("*/plot_*.py")
)


def test_the_gallery_has_its_examples():
    names = {path.stem for path in EXAMPLES}
    assert {
        "plot_quick_start",
        "plot_routerbench",
        "plot_interval_budget",
        "plot_model_selection",
        "plot_why_dr",
        "plot_overlap",
        "plot_text_to_route",
        "plot_export_serving",
    } <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path):
    pytest.importorskip("matplotlib")
    runpy.run_path(str(path), run_name="__main__")
    import matplotlib.pyplot as plt

    # Each example draws at least one figure.
    assert plt.get_fignums(), f"{path.name} drew no figure"
