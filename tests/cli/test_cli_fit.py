"""`headstart fit` as a user runs it: finetune, LoRA, scratch, auto, and a wrong column."""

import json

import pytest

from tests.cli.helpers import invoke, run, write_catalogue_csv


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
    predicted = invoke("predict", str(out), "A triumph of acting and writing.")
    assert predicted.stdout.splitlines()[1].split(",")[-2] in ("fresh", "rotten")  # CSV: input,label,probability


def test_wrong_column_names_the_column(reviews):
    done = run("fit", str(reviews), "--text-col", "review", "--out", "x", check=False)
    assert done.returncode == 2 and "review" in done.stderr


@pytest.mark.slow
def test_fit_auto_then_predict(tmp_path):
    """40 BBC articles: 4 per topic train, the other 20 validate and make the report."""
    out = tmp_path / "auto"
    news = write_catalogue_csv(tmp_path, "bbc_news", 8)
    fitted = run("fit", str(news), "--method", "auto", "--shots", "4", "--out", str(out), "--no-progress", check=False)
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["info"]["decision"].startswith(("Transfer helps", "Negative transfer"))
    predicted = invoke("predict", str(out), "Shares fell sharply after the profit warning.")
    assert predicted.stdout.splitlines()[1].split(",")[-2] in ("business", "entertainment", "politics", "sports", "tech")


def test_shots_means_k_training_examples_validated_on_the_rest_of_the_pool(tmp_path):
    """`fit digits --shots 5`: the bare name is the training split, 5 per class train, 5 more validate,
    and the report is evaluated on unused examples of the pool, at most 500."""
    out = tmp_path / "digits"
    done = run("fit", "digits", "--backbone", "efficientnet-lite0", "--shots", "5", "--out", str(out), "--no-progress")
    assert "training on its training split digits:train" in done.stdout
    assert "trained on 50 examples, validated on 50," in " ".join(done.stdout.split())
    info = json.loads((out / "config.json").read_text())["info"]
    assert (info["n_train"], info["n_val"], info["shots"]) == (50, 50, 5)
    assert info["columns"] == {"text_col": "text", "label_col": "label"} and info["eval_data"] == "digits:test"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h1>Evaluated on 500 held-out examples of digits:train (unused examples, never trained on)</h1>" in page
    assert "(500 examples)" in page
    rerun = invoke("report", str(out))  # the recorded held-out data: the catalogue's test split
    assert "report:" in rerun.stdout and "on digits:test (360 examples)" in (out / "report.html").read_text(encoding="utf-8")


def test_fit_without_held_out_data_says_so(reviews, tmp_path):
    out = tmp_path / "probe"
    done = run("fit", str(reviews), "--set", 'backbone_options={"max_length": 32}', "--text-col", "text",
               "--out", str(out), "--no-progress")
    assert "trained on 24 examples, no validation data" in done.stdout
    assert "validated on 0" not in done.stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "the training examples (no held-out data: pass --val for held-out numbers)" in page
    assert "no validation data" in page and "validated on 0" not in page


@pytest.mark.slow
def test_auto_keeping_the_baseline_explains_itself_and_writes_a_report(tmp_path):
    out = tmp_path / "auto"
    done = run("fit", "digits:train", "--method", "auto", "--backbone", "efficientnet-lite0", "--shots", "5",
               "--out", str(out), "--no-progress")
    printed = " ".join(done.stdout.split())
    assert "auto: what was compared" in printed and "LogME" in printed and "chosen by 5-fold cross-validation on 50" in printed
    assert "pixels + logistic regression" in printed and "efficientnet-lite0" in printed
    warning = [line for line in done.stdout.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and warning[0].startswith("warning: Negative transfer: a probe on efficientnet-lite0")
    assert "NegativeTransferWarning" not in done.stderr and "api.py" not in done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Negative transfer" in page and "LogME" in page and "pixels + logistic regression</td>" in page
    (out / "report.html").unlink()
    assert "report:" in invoke("report", str(out)).stdout and (out / "report.html").is_file()
