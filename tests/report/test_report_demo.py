"""`headstart demo --quick` end to end on BBC News: a scratch control that learns, the paired
bootstrap intervals, the progress lines, `headstart report` on its artifact, and the verdict."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

import headstart
from headstart.cli import app
from headstart.data.sources import load_data
from headstart.data.splits import sample_shots
from headstart.demo import DIFFERENCE, NOTE, comparison_table, verdict
from headstart.significance import Difference

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
    for header in ("method", "accuracy", "macro-F1", "time", "params"):
        assert header in printed
    lines = [line.strip() for line in printed.splitlines()]
    for method in METHODS:
        assert any(line.startswith(method) for line in lines)
    flowing = " ".join(printed.split())  # the console may wrap long lines wherever its width falls
    assert "bbc_news:train:8-shot: 40 training examples (8 per class), validated on 40, 100 test examples" in flowing
    for step, method in enumerate(("baseline", "probe", "scratch", "finetune"), 1):
        assert f"[{step}/4] {method}: expected about " in flowing  # one line per run, before it starts
    assert "best − this, 95 % CI" in flowing and "(95 % CI " in flowing and "points" in flowing
    assert "does not count" not in flowing  # the scratch control learnt something
    assert f"report: {out / 'report.html'}" in flowing


@pytest.mark.slow
def test_quick_demo_saves_the_best_run_with_its_report(quick_demo):
    out, _ = quick_demo
    model = headstart.load(out)
    rows = model.info["comparison"]
    assert [row["method"] for row in rows] == list(METHODS)
    best = max(rows[1:], key=lambda row: row["accuracy"])
    assert model.recipe.method == best["method"]
    scratch = rows[1]
    assert scratch[NOTE] is None and scratch["accuracy"] > 0.5  # a fair control: 5 topics, it learns (measured 68 %)
    assert scratch["trainable_params"] < 5_000_000  # the small encoder, not MiniLM's 22.7 M from random weights
    assert DIFFERENCE in rows[0] and DIFFERENCE in scratch and DIFFERENCE not in rows[2]
    assert model.info["eval_data"] == "bbc_news:test"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<tr") >= 5 and '<tr class="this-run">' in page
    assert "<blockquote>" in page  # the confidently wrong articles, as text snippets
    assert all(f"{method}</td>" in page for method in METHODS)
    assert "(95 % CI " in page and "best transfer - this [95 % CI]" in page  # the verdict and the intervals


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


def row(method: str, accuracy: float, note: str | None = None) -> dict:
    return {"method": method, "accuracy": accuracy, "macro_f1": accuracy, "train_seconds": 1.0, "trainable_params": 100, NOTE: note}


BASELINE = "TF-IDF + logistic regression"


def test_verdict_gives_the_differences_with_their_intervals():
    rows = [row(BASELINE, 0.835), row("scratch", 0.30), row("probe", 0.925), row("finetune", 0.91)]
    differences = {BASELINE: Difference(0.09, 0.05, 0.13), "scratch": Difference(0.625, 0.55, 0.70)}
    assert verdict(rows, differences, 400) == (
        f"Transfer helped: probe reached 92.5 % accuracy, 9.0 points above the {BASELINE} baseline (95 % CI +5.0 to +13.0) "
        "and 62.5 points above training from scratch (95 % CI +55.0 to +70.0)."
    )


def test_verdict_says_when_a_small_test_set_cannot_tell():
    rows = [row(BASELINE, 0.50), row("scratch", 0.50), row("probe", 0.75), row("finetune", 0.70)]
    differences = {BASELINE: Difference(0.25, -0.083, 0.583), "scratch": Difference(0.25, -0.083, 0.583)}
    sentence = verdict(rows, differences, 12)
    assert sentence.startswith("No significant difference: probe reached 75.0 % accuracy, 25.0 points above")
    assert "with 12 test examples the difference from the TF-IDF + logistic regression baseline and training from scratch " \
           "is not significant" in sentence


def test_verdict_does_not_count_a_collapsed_control():
    rows = [row(BASELINE, 0.835), row("scratch", 0.173, "collapsed: predicts one class"), row("probe", 0.9), row("finetune", 0.9)]
    differences = {BASELINE: Difference(0.065, 0.03, 0.10), "scratch": Difference(0.727, 0.68, 0.77)}
    sentence = verdict(rows, differences, 445)
    assert sentence.startswith("Transfer helped: probe reached 90.0 % accuracy, 6.5 points above the TF-IDF")
    assert "72.7" not in sentence and sentence.endswith("training from scratch does not count, it is collapsed: predicts one class.")


def test_verdict_says_plainly_when_transfer_lost():
    rows = [row("pixels + logistic regression", 0.92), row("scratch", 0.50), row("probe", 0.72), row("finetune", 0.70)]
    differences = {"pixels + logistic regression": Difference(-0.20, -0.26, -0.14), "scratch": Difference(0.22, 0.15, 0.29)}
    assert verdict(rows, differences, 300).startswith(
        "Transfer lost to the pixels + logistic regression baseline: probe reached 72.0 % accuracy, 20.0 points below")


def test_comparison_table_stays_readable_at_80_columns():
    from rich.console import Console

    rows = [row(BASELINE, 0.84) | {DIFFERENCE: "+4.0 [-3.0, +12.0]"}, row("scratch", 0.36) | {DIFFERENCE: "+52.0 [+42.0, +63.0]"},
            row("probe", 0.87), row("finetune", 0.88, "at chance")]
    console = Console(width=80, record=True)
    console.print(comparison_table(rows, "finetune"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "+52.0 [+42.0, +63.0]" in text and "+4.0 [-3.0, +12.0]" in text  # intervals are never cut
    assert "…" not in text and "finetune: at chance" in text
