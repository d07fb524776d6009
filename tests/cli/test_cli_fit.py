"""`headstart fit` as a user runs it: finetune, LoRA, scratch, auto, and a wrong column."""

import json

import pytest

from tests.cli.helpers import run


def test_finetune_from_the_cli_with_set_options(reviews, tmp_path):
    out = tmp_path / "ft"
    run("fit", str(reviews), "--method", "finetune", "--unfreeze", "1", "--epochs", "1", "--set", "l2sp=0.01",
        "--set", 'backbone_options={"max_length": 32}', "--out", str(out), "--no-progress")
    assert '"l2sp": 0.01' in (out / "config.json").read_text()


@pytest.mark.parametrize("method", ["lora", "scratch"])
def test_lora_and_scratch_from_the_cli(reviews, tmp_path, method):
    out = tmp_path / method
    run("fit", str(reviews), "--method", method, "--epochs", "1", "--set", 'backbone_options={"max_length": 32}',
        "--out", str(out), "--no-progress")
    assert f'"method": "{method}"' in (out / "config.json").read_text()
    predicted = run("predict", str(out), "A triumph of acting and writing.")
    assert predicted.stdout.splitlines()[1].split(",")[-2] in ("fresh", "rotten")  # CSV: input,label,probability


def test_wrong_column_names_the_column(reviews):
    done = run("fit", str(reviews), "--text-col", "review", "--out", "x", check=False)
    assert done.returncode == 2 and "review" in done.stderr


@pytest.mark.slow
def test_fit_auto_then_predict(tmp_path):
    out = tmp_path / "auto"
    fitted = run("fit", "bbc_news:train", "--method", "auto", "--shots", "4", "--out", str(out), "--no-progress", check=False)
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["info"]["decision"].startswith(("Transfer helps", "Negative transfer"))
    predicted = run("predict", str(out), "Shares fell sharply after the profit warning.", check=False)
    assert predicted.returncode == 0 and predicted.stdout.splitlines()[1].split(",")[-2] in ("business", "entertainment", "politics", "sports", "tech")
