"""The `headstart` command as a user runs it: fit, evaluate, predict, listings, errors, --help."""

import csv
import subprocess
import sys

import pytest


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "headstart", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """A small CSV of real Rotten Tomatoes snippets with `text` and `label` columns."""
    from headstart.data.catalogue import load_dataset
    from headstart.data.splits import sample_shots

    data = sample_shots(load_dataset("rotten_tomatoes", "train"), 12, seed=0)
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows((t, data.classes[y]) for t, y in zip(data.inputs, data.labels))
    return path


def test_fit_evaluate_predict_round_trip(reviews, tmp_path):
    out = tmp_path / "run"
    fitted = run("fit", str(reviews), "--backbone", "minilm-l6", "--method", "probe", "--out", str(out), "--no-progress")
    assert "artifact" in fitted.stdout and (out / "config.json").exists()
    evaluated = run("evaluate", str(out), str(reviews), "--json")
    assert '"accuracy"' in evaluated.stdout
    predicted = run("predict", str(out), "A triumph of acting and writing.", "Tedious and painfully long.")
    lines = predicted.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.split("\t")[0] in ("fresh", "rotten") for line in lines)
    from_file = run("predict", str(out), str(reviews))
    assert len(from_file.stdout.strip().splitlines()) == 24


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
    assert predicted.stdout.split("\t")[0] in ("fresh", "rotten")


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "no/such/file.csv", "--out", "x"], "no such file"),
        (["fit", "digits", "--method", "nonsense", "--out", "x"], "unknown method"),
        (["fit", "digits", "--backbone", "nonsense", "--out", "x"], "unknown backbone"),
        (["fit", "digits", "--set", "bogus=1", "--out", "x"], "unknown option"),
        (["evaluate", "no/such/run", "digits"], "not a headstart artifact"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(args, message):
    done = run(*args, check=False)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_wrong_column_names_the_column(reviews):
    done = run("fit", str(reviews), "--text-col", "review", "--out", "x", check=False)
    assert done.returncode == 2 and "review" in done.stderr


@pytest.mark.parametrize("command", ["fit", "evaluate", "predict", "backbones", "datasets"])
def test_help_shows_a_runnable_example(command):
    assert "Example: headstart" in run(command, "--help").stdout


def test_listings():
    listing = run("backbones").stdout
    assert all(name in listing for name in ("minilm-l6", "efficientnet-lite0", "efficientnet-lite2"))
    assert all(name in run("datasets").stdout for name in ("digits", "mnist5k", "rotten_tomatoes", "bbc_news"))
