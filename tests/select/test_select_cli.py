"""`headstart rank` and `headstart fit --method auto` as a user runs them."""

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headstart", *args], capture_output=True, text=True, timeout=600)


def test_rank_prints_scores_ranks_and_time():
    done = run("rank", "bbc_news:train", "--backbones", "minilm-l6", "--shots", "8", "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Transferability on bbc_news:train:8-shot (40 examples)" in done.stdout
    assert "minilm-l6" in done.stdout and "n/a" in done.stdout and " s in all" in done.stdout


def test_rank_depth_as_json_suggests_an_unfreeze_depth():
    done = run("rank", "bbc_news:train", "--backbones", "minilm-l6", "--depth", "--shots", "8", "--json", "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    table = json.loads(done.stdout)
    assert [row["logme_rank"] for row in table["rows"]] == list(range(1, 8))
    assert table["suggested_unfreeze"] == 0 and table["n_examples"] == 40


def test_rank_errors_are_one_line():
    done = run("rank", "bbc_news:train", "--backbones", "minilm-l6", "--scores", "logme,nope", "--shots", "2")
    assert done.returncode == 2 and done.stderr.strip().startswith("error: unknown transferability score 'nope'")


@pytest.mark.slow
def test_fit_auto_then_predict(tmp_path):
    out = tmp_path / "auto"
    fitted = run("fit", "bbc_news:train", "--method", "auto", "--shots", "4", "--out", str(out), "--no-progress")
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["info"]["decision"].startswith(("Transfer helps", "Negative transfer"))
    predicted = run("predict", str(out), "Shares fell sharply after the profit warning.")
    assert predicted.returncode == 0 and predicted.stdout.split("\t")[0] in ("business", "entertainment", "politics", "sports", "tech")
