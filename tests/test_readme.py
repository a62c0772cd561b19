"""The README's example runs, and CI runs the README's test command."""

import re
from pathlib import Path

import numpy as np
import pytest
import sklearn

ROOT = Path(__file__).resolve().parents[1]


def _code_blocks(language):
    text = (ROOT / "README.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_exactly_two_setup_commands():
    commands = _code_blocks("bash")
    assert len(commands) == 2
    for command in commands:
        assert "pip install torch==2.13.0 && pip install -e" in command


def test_ci_runs_the_readme_test_command():
    test_command = _code_blocks("bash")[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_readme_example_runs(capsys):
    (example,) = _code_blocks("python")
    try:
        exec(compile(example, "README.md", "exec"), {})
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    printed = capsys.readouterr().out.split()
    regret_value, value = float(printed[0]), float(printed[1])
    assert 0 <= regret_value < 0.3
    assert np.isfinite(value)


@pytest.mark.slow
def test_cli_benchmark_prints_the_table(capsys):
    from skroute.cli import main

    assert main(["benchmark", "--seeds", "1", "--n-samples", "600"]) == 0
    out = capsys.readouterr().out
    for name in ("causal DR-softmax", "decoupled", "best single model", "random"):
        assert name in out


def test_cli_rejects_negative_cost_sensitivity(capsys):
    from skroute.cli import main

    with pytest.raises(SystemExit):
        main(["benchmark", "--cost-sensitivity", "-1"])
    err = capsys.readouterr().err
    assert (
        "argument --cost-sensitivity" in err and "must be a finite number >= 0" in err
    )
