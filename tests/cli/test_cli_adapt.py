"""``headstart adapt`` from a folder of labelled MNIST digits to a flat folder of unlabelled digits."""

import csv
import json
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

import headstart
from headstart.adapt import ALGORITHMS
from headstart.cli import app, main
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots

SIX = ["dann", "cdan", "mmd", "coral", "self_training", "adabn"]
OPTIONS = ["--unfreeze", "1", "--epochs", "1", "--no-progress", "--set", 'backbone_options={"resize": "stretch"}']


def write_images(data, folder: Path, by_class: bool) -> None:
    for i, (image, label) in enumerate(zip(data.inputs, data.labels)):
        parent = folder / data.classes[label] if by_class else folder
        parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(parent / f"{i:02d}.png")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """``source/<digit>/<i>.png`` (6 MNIST digits per class) and ``target/<i>.png`` (40 digits, no labels)."""
    root = tmp_path_factory.mktemp("domains")
    write_images(sample_shots(load_dataset("mnist5k"), 6, seed=0), root / "source", by_class=True)
    write_images(sample_shots(load_dataset("digits"), 4, seed=0), root / "target", by_class=False)
    return root / "source", root / "target"


@pytest.mark.parametrize("method", SIX)
def test_every_algorithm_runs_from_the_command_line(method, folders, tmp_path):
    source, target = folders
    weights = ["--weight", "1.0"] if ALGORITHMS[method].aligns else ["--set", "rounds=1"] if method == "self_training" else []
    command = ["adapt", "--source", str(source), "--target", str(target), "--method", method, "--out", str(tmp_path)]
    result = CliRunner().invoke(app, command + OPTIONS + weights)
    assert result.exit_code == 0, result.output
    assert "proxy A-distance" in result.output and "selection criterion" in result.output
    assert (tmp_path / "feature_map.png").stat().st_size > 10_000
    images = sorted(target.iterdir())[:3]
    prediction = headstart.load(tmp_path).predict(images)
    assert len(prediction.labels) == 3 and set(prediction.labels) <= {str(d) for d in range(10)}


def test_a_labelled_target_gets_accuracy_and_a_report(folders, tmp_path):
    source, _ = folders
    write_images(sample_shots(load_dataset("digits"), 4, seed=0), tmp_path / "target", by_class=True)
    command = ["adapt", "--source", str(source), "--target", str(tmp_path / "target"), "--method", "mmd", "--weight", "1",
               "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, command + OPTIONS)
    assert result.exit_code == 0, result.output
    assert "target accuracy" in result.output
    report = (tmp_path / "run" / "report.html").read_text()
    assert "mmd adaptation" in report and "Feature map" in report


def test_a_bad_target_is_one_line_and_exit_status_2(folders, tmp_path, monkeypatch, capsys):
    source, _ = folders
    (tmp_path / "empty").mkdir()
    argv = ["headstart", "adapt", "--source", str(source), "--target", str(tmp_path / "empty"), "--out", str(tmp_path / "run")]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error:") and "no images" in error and len(error.splitlines()) == 1


def test_text_domains_get_the_text_backbone_by_default(tmp_path):
    """No --backbone: the source's modality picks it, as `fit` does (minilm-l6 for texts)."""
    from tests.cli.helpers import write_reviews_csv

    source, target = write_reviews_csv(tmp_path), tmp_path / "target.csv"
    with open(target, "w", newline="") as fh:  # unlabelled news texts
        csv.writer(fh).writerows([["text"], *([t] for t in sample_shots(load_dataset("bbc_news", "test"), 2, seed=0).inputs)])
    command = ["adapt", "--source", str(source), "--target", str(target), "--method", "dann", "--weight", "1.0",
               "--epochs", "1", "--unfreeze", "1", "--no-progress", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    adapted = headstart.load(tmp_path / "run")
    assert adapted.describe()["backbone"] == "minilm-l6"
    assert adapted.info["columns"] == {"text_col": "text", "label_col": "label"}


def test_the_outcome_as_json(folders, tmp_path):
    source, target = folders
    command = ["adapt", "--source", str(source), "--target", str(target), "--method", "coral", "--weight", "1.0",
               "--out", str(tmp_path), "--json"]
    result = CliRunner().invoke(app, command + OPTIONS)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["method"] == "coral" and outcome["n_target"] == 40
    assert set(outcome["proxy_a_distance"]) == {"before", "after"} and Path(outcome["feature_map"]).is_file()
