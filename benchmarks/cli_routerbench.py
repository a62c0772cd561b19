"""The command line on logs built from the shared RouterBench rows, as a user runs it.

Builds a log file (one row per query: the logged model, its 0/1 quality, its
USD cost and its logging probability, with the embeddings in an ``.npy``
beside it) by simulating a logging policy on the first 70% of the RouterBench
rows, and a second log file on the rest. Then runs ``skroute fit``,
``evaluate`` and ``route`` as separate processes and prints, for each
command, its exit code, whether a traceback appeared, whether the cost-scale
warning fired, and the last line it printed. The last section compares the
routes of the torch-free export with those of the pickled router.

Run: ``python benchmarks/cli_routerbench.py [--data-dir DIR]`` (about 2 minutes
on 2 cores).
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _common import add_data_dir_argument, load_routerbench

from skroute.datasets import simulate_logging


def write_logs(table, rows, path, seed):
    logs = simulate_logging(
        table.X[rows],
        table.reward[rows],
        table.cost[rows],
        models=table.models,
        random_state=seed,
    )
    pd.DataFrame(
        {
            "model": logs.action,
            "quality": logs.reward,
            "cost": logs.cost,  # USD per query, as RouterBench records it
            "p": logs.propensity,
        }
    ).to_csv(path, index=False)
    np.save(path.with_name(path.stem + "_emb.npy"), logs.X.astype(np.float32))


def run(argv, folder):
    done = subprocess.run(
        [sys.executable, "-m", "skroute", *argv],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    # The answer: what went to stdout, or the one-line error on stderr.
    printed = (done.stdout or done.stderr).strip().splitlines()
    return {
        "command": "skroute " + " ".join(argv),
        "rc": done.returncode,
        "traceback": "Traceback" in done.stderr,
        "cost-scale warning": "CostScaleWarning" in done.stderr,
        "printed": printed[0][:150] if printed else "",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_dir_argument(parser)
    args = parser.parse_args()
    # USD per query, as RouterBench records it: the commands scale it themselves.
    table = load_routerbench(args.data_dir, cost_scale=1.0)
    order = np.random.default_rng(0).permutation(len(table.X))
    cut = int(0.7 * order.size)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_logs(table, order[:cut], folder / "logs.csv", seed=0)
        write_logs(table, order[cut:], folder / "new_logs.csv", seed=1)
        np.save(folder / "queries.npy", table.X[order[cut:]].astype(np.float32))
        columns = ["--cost-column", "cost", "--propensity-column", "p"]
        scaled = [*columns, "--cost-scale", "1000"]
        commands = [
            # USD per query: lambda = 0.05 makes cost negligible, and it warns.
            ["fit", "logs.csv", *columns, "--cost-sensitivity", "0.05"]
            + ["--out", "usd.pkl"],
            # USD per 1,000 queries: lambda = 0.05 weighs cost; no warning.
            ["fit", "logs.csv", *scaled, "--cost-sensitivity", "0.05"]
            + ["--out", "router.pkl", "--export", "router.npz"],
            ["fit", "logs.csv", *scaled, "--budget", "0.5", "--out", "budget.pkl"],
            ["evaluate", "router.pkl", "new_logs.csv", *scaled],
            ["evaluate", "budget.pkl", "new_logs.csv", *scaled],
            ["route", "router.npz", "queries.npy", "--out", "routes_npz.csv"],
            ["route", "router.pkl", "queries.npy", "--out", "routes_pkl.csv"],
            # A user's mistakes: one line each, no traceback.
            ["fit", "nothere.csv", "--out", "x.pkl"],
            ["fit", "logs.csv", "--cost-column", "price", "--out", "x.pkl"],
        ]
        results = [run(argv, folder) for argv in commands]
        for result in results:
            print(f"$ {result.pop('command')}")
            print("  " + ", ".join(f"{k}: {v}" for k, v in result.items()))
        npz = pd.read_csv(folder / "routes_npz.csv", keep_default_na=False)
        pkl = pd.read_csv(folder / "routes_pkl.csv", keep_default_na=False)
        same = (npz.to_numpy() == pkl.to_numpy()).all()
        print(f"\nexported vs pickled routes on {len(npz)} queries: identical={same}")
        print("routed shares:", npz.iloc[:, -1].value_counts(normalize=True).round(3))


if __name__ == "__main__":
    main()
