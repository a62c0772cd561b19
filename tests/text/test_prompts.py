"""Truncation of prompts: ``last_block``."""

from pathlib import Path

import pytest

from skroute.text import last_block

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
ROUTERBENCH = SHARED / "routerbench_subset" / "routerbench_subset.csv"
needs_data = pytest.mark.skipif(
    not ROUTERBENCH.exists(), reason="shared data not present"
)


FEW_SHOT = (
    "Q: Capital of Spain?\nA: Madrid\n\n"
    "Q: Capital of Japan?\nA: Tokyo\n\n"
    "Q: What is the capital of Italy?\nA:"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (FEW_SHOT, "Q: What is the capital of Italy?\nA:"),
        ("one block\nover two lines", "one block\nover two lines"),
        ("first\n\nsecond\n\n\n", "second"),  # trailing blank lines ignored
        ("first\n  \t\nsecond", "second"),  # a line of spaces is blank
        ("first\r\n\r\nsecond", "second"),  # Windows line ends
        ("  padded  ", "padded"),
        ("", ""),
        ("\n\n", "\n\n"),  # nothing but blank lines: returned as it is
    ],
)
def test_last_block(text, expected):
    assert last_block(text) == expected


def test_last_block_rejects_non_strings():
    with pytest.raises(TypeError, match="last_block takes a string; got float"):
        last_block(float("nan"))


@needs_data
def test_last_block_is_how_routerbench_queries_were_cut_from_prompts():
    pandas = pytest.importorskip("pandas")
    table = pandas.read_csv(ROUTERBENCH, keep_default_na=False)
    cut = [last_block(prompt) for prompt in table["prompt"]]
    assert cut == table["query"].tolist()
    assert (table["prompt"].str.len() > 2 * table["query"].str.len()).mean() > 0.5
