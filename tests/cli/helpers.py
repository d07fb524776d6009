"""What the command-line tests share: running ``headstart`` as a user does (or, for later commands, in the
test's process), small real CSVs, one torch thread."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from click.testing import Result


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m headstart ARGS`` in a fresh process; with ``check``, assert that it succeeded."""
    done = subprocess.run([sys.executable, "-m", "headstart", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def invoke(*args: str) -> Result:
    """``headstart ARGS`` in this process, asserting that it succeeded: for a test's later commands,
    which need not pay a fresh interpreter's ~4 s of imports again (the first one runs as a user does)."""
    from typer.testing import CliRunner

    from headstart.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output[-2000:], result.exception)
    return result


def write_reviews_csv(folder: Path) -> Path:
    """A small CSV of real Rotten Tomatoes snippets (12 per class) with `text` and `label` columns."""
    return write_catalogue_csv(folder, "rotten_tomatoes", 12, name="reviews")


def write_catalogue_csv(folder: Path, dataset: str, per_class: int, name: str = "") -> Path:
    """``per_class`` examples per class of a catalogue text dataset's training split, as ``NAME.csv``
    (default: the dataset's name)."""
    from headstart.data.catalogue import load_dataset
    from headstart.data.splits import sample_shots

    data = sample_shots(load_dataset(dataset, "train"), per_class, seed=0)
    path = folder / f"{name or dataset}.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows((t, data.classes[y]) for t, y in zip(data.inputs, data.labels))
    return path
