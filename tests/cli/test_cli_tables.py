"""Tables stay readable at 80 columns and in pipes: names whole, headers unbroken; --json for machines."""

import json
import os
import subprocess
import sys

import pytest

from headstart.data.catalogue import list_datasets
from headstart.zoo import list_backbones


def run_at_80(*args: str) -> str:
    """``headstart ARGS`` on an 80-column terminal, its output piped (as ``| less`` would)."""
    env = dict(os.environ, COLUMNS="80")
    done = subprocess.run([sys.executable, "-m", "headstart", *args], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def table_lines(output: str) -> list[str]:
    """The lines of the first table (up to its last row): the notes under it are free text."""
    return [line for line in output.splitlines() if line.strip() and not line.startswith(("Every score", "n/a:", "suggested"))
            and " s in all" not in line]


@pytest.mark.parametrize("command, names, headers", [
    ("backbones", [e.name for e in list_backbones()], ["name", "modality", "params", "dim", "installed", "weights from"]),
    ("datasets", [d.name for d in list_datasets()], ["name", "modality", "examples", "classes", "licence", "source"]),
])
def test_listings_fit_80_columns_with_whole_names_and_headers(command, names, headers):
    output = run_at_80(command)
    assert all(len(line) <= 80 for line in table_lines(output))
    cells = {cell for line in output.splitlines() for cell in line.split()}
    assert set(names) <= cells  # each name whole, on one line
    assert all(header in output for header in headers)


@pytest.mark.parametrize("command, key", [("backbones", "parameters"), ("datasets", "examples")])
def test_listings_as_json(command, key):
    rows = json.loads(run_at_80(command, "--json"))
    assert len(rows) >= 3 and all(isinstance(row[key], int) for row in rows)


def test_rank_names_every_backbone_whole_and_says_which_way_is_better():
    output = run_at_80("rank", "digits:train", "--shots", "5", "--no-progress")
    assert all(len(line) <= 80 for line in table_lines(output))
    rows = [line.split()[0] for line in output.splitlines() if line.startswith("efficientnet")]
    assert sorted(rows) == ["efficientnet-lite0", "efficientnet-lite2"]
    assert "higher is better" in output and "1 = best" in output


def test_rank_explains_why_nce_and_leep_do_not_apply_to_text():
    output = run_at_80("rank", "bbc_news:train", "--backbones", "minilm-l6", "--shots", "4", "--no-progress")
    assert "n/a" in output and "n/a: NCE and LEEP score the predictions of the backbone's own pre-trained classifier" in output
