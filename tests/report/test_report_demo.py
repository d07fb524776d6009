"""`headstart demo --quick` end to end on BBC News, `headstart report` on its artifact, and the
one-sentence verdict."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

import headstart
from headstart.cli import app
from headstart.data.sources import load_data
from headstart.data.splits import sample_shots
from headstart.demo import verdict

METHODS = ("TF-IDF + logistic regression", "scratch", "probe", "finetune")


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory: pytest.TempPathFactory):
    """The whole quick demo, run once (about a minute of CPU time, hence the tests' ``slow`` mark)."""
    out = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner(env={"COLUMNS": "160"}).invoke(app, ["demo", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.mark.slow
def test_quick_demo_prints_the_comparison_and_where_it_wrote(quick_demo):
    out, printed = quick_demo
    for header in ("method", "accuracy", "macro-F1", "training time", "trainable parameters"):
        assert header in printed
    for method in METHODS:
        assert f"│ {method}" in printed
    assert "bbc_news:train:8-shot: 40 training examples" in printed
    assert "Transfer" in printed and "points" in printed
    assert f"report: {out / 'report.html'}" in printed


@pytest.mark.slow
def test_quick_demo_saves_the_best_run_with_its_report(quick_demo):
    out, _ = quick_demo
    model = headstart.load(out)
    rows = model.info["comparison"]
    assert [row["method"] for row in rows] == list(METHODS)
    best = max(rows[1:], key=lambda row: row["accuracy"])
    assert model.recipe.method == best["method"]
    assert model.info["eval_data"] == "bbc_news:test"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<tr") >= 5 and '<tr class="this-run">' in page
    assert "<blockquote>" in page  # the confidently wrong articles, as text snippets
    assert all(f"{method}</td>" in page for method in METHODS)


@pytest.mark.slow
def test_report_command_rewrites_the_report_on_given_data(quick_demo, tmp_path):
    out, _ = quick_demo
    articles = sample_shots(load_data("bbc_news:test"), 3, seed=1)
    table = tmp_path / "news.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows((text, articles.classes[code]) for text, code in zip(articles.inputs, articles.labels))
    (out / "report.html").unlink()
    result = CliRunner().invoke(app, ["report", str(out), "--data", str(table)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "(15 examples)" in page
    assert "TF-IDF + logistic regression</td>" in page  # the comparison recorded in the artifact


def test_report_command_without_recorded_data_asks_for_it(digits_run, tmp_path):
    fitted, _, _ = digits_run
    fitted.save(tmp_path)
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code != 0
    assert "pass it with --data" in str(result.exception)


def row(method: str, accuracy: float) -> dict:
    return {"method": method, "accuracy": accuracy}


def test_verdict_says_how_much_transfer_helped():
    rows = [row("TF-IDF + logistic regression", 0.835), row("scratch", 0.30), row("probe", 0.925), row("finetune", 0.91)]
    assert verdict(rows) == (
        "Transfer helped: probe reached 92.5 % accuracy, 9.0 points above the TF-IDF + logistic regression "
        "baseline and 62.5 points above training from scratch."
    )


def test_verdict_says_plainly_when_transfer_lost():
    rows = [row("pixels + logistic regression", 0.92), row("scratch", 0.50), row("probe", 0.72), row("finetune", 0.70)]
    assert verdict(rows).startswith("Transfer lost to the simple baseline: probe reached 72.0 % accuracy, 20.0 points below")
    rows[1] = row("scratch", 0.95)
    assert verdict(rows).startswith("Transfer did not help:")
