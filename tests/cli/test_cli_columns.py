"""Models remember the table columns they were trained on; evaluate, report and predict accept
others; names and data are printed as they are (no emoji codes, no markup)."""

import csv
import json

import pytest
from typer.testing import CliRunner

import headstart
from headstart.cli import app
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import DataError
from tests.cli.helpers import run

runner = CliRunner()
# Class names a rich console would turn into an emoji (":thumbs_up:") and a markup tag ("[neg]").
NAMES = {"fresh": ":thumbs_up:", "rotten": "[neg]"}


def write_table(path, header, data):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows((text, NAMES[data.classes[y]]) for text, y in zip(data.inputs, data.labels))
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Training reviews in columns review/verdict, test reviews in columns body/y, and a run fitted from the command line."""
    root = tmp_path_factory.mktemp("columns")
    train = write_table(root / "train.csv", ["review", "verdict"], sample_shots(load_dataset("rotten_tomatoes", "train"), 12, seed=0))
    test = write_table(root / "test.csv", ["body", "y"], sample_shots(load_dataset("rotten_tomatoes", "test"), 10, seed=0))
    result = runner.invoke(app, ["fit", str(train), "--text-col", "review", "--label-col", "verdict", "--out", str(root / "run"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    return train, test, root / "run"


def test_evaluate_defaults_to_the_columns_trained_on(tables):
    train, _, out = tables
    assert headstart.load(out).info["columns"] == {"text_col": "review", "label_col": "verdict"}
    result = runner.invoke(app, ["evaluate", str(out), str(train), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 24


def test_evaluate_and_report_take_other_columns(tables):
    _, test, out = tables
    result = runner.invoke(app, ["evaluate", str(out), str(test), "--text-col", "body", "--label-col", "y", "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 20
    assert metrics == headstart.load(out).evaluate(test, text_col="body", label_col="y")  # the Python API alike
    report = runner.invoke(app, ["report", str(out), "--data", str(test), "--text-col", "body", "--label-col", "y"])
    assert report.exit_code == 0, report.output
    assert (out / "report.html").stat().st_size > 10_000


def test_the_table_shows_class_names_as_they_are(tables):
    _, test, out = tables
    result = runner.invoke(app, ["evaluate", str(out), str(test), "--text-col", "body", "--label-col", "y"])
    assert result.exit_code == 0, result.output
    assert ":thumbs_up:" in result.stdout and "[neg]" in result.stdout and "\N{THUMBS UP SIGN}" not in result.stdout


def test_a_wrong_column_names_the_options(tables):
    _, test, out = tables
    with pytest.raises(DataError, match=r"no text column 'review'; columns are: body, y \(name the text column with --text-col"):
        headstart.load(out).evaluate(test)
    result = runner.invoke(app, ["evaluate", str(out), str(test), "--text-col", "body"])
    assert isinstance(result.exception, DataError) and "--label-col" in str(result.exception)


def test_errors_print_names_without_emoji_or_markup(tmp_path):
    """The one-line error keeps ':train:' and '[red]' of the user's spelling."""
    done = run("fit", "reviews:train:[red]x", "--out", str(tmp_path / "run"), check=False)
    assert done.returncode == 2 and "reviews:train:[red]x" in done.stderr, done.stderr
