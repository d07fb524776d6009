"""`headstart fit`, `evaluate` and `predict` in turn, on texts given as arguments, in a file and in folders."""

import csv
import io
import json

from PIL import Image
from typer.testing import CliRunner

import headstart
from headstart.cli import app
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from tests.cli.helpers import invoke, run


def rows_of(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


def test_fit_evaluate_predict_round_trip(reviews, tmp_path):
    out = tmp_path / "run"
    fitted = run("fit", str(reviews), "--backbone", "minilm-l6", "--method", "probe", "--out", str(out), "--no-progress")
    assert "artifact" in fitted.stdout and (out / "config.json").exists()
    evaluated = invoke("evaluate", str(out), str(reviews), "--json")
    assert json.loads(evaluated.stdout)["n"] == 24
    texts = ["A triumph of acting, and of writing.", "Tedious and painfully long."]
    predicted = rows_of(invoke("predict", str(out), *texts).stdout)
    assert [r["input"] for r in predicted] == texts  # CSV quoting keeps the comma inside the text
    assert all(r["label"] in ("fresh", "rotten") and 0.5 <= float(r["probability"]) <= 1 for r in predicted)
    from_file = rows_of(invoke("predict", str(out), str(reviews)).stdout)
    assert len(from_file) == 24


def test_a_folder_of_text_files_is_predicted_file_by_file(reviews, tmp_path):
    """Every .txt file under the folder, sub-folders included, is one text; other files are ignored."""
    model = headstart.fit(str(reviews), backbone="minilm-l6", method="probe")
    model.save(tmp_path / "run")
    folder = tmp_path / "new"
    (folder / "more").mkdir(parents=True)
    (folder / "a.txt").write_text("A moving, beautifully acted film.\n")
    (folder / "more" / "b.txt").write_text("A dull mess that drags on\nforever.\n")
    (folder / "notes.md").write_text("not a review")
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "run"), str(folder), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["input"] for r in rows] == [str(folder / "a.txt"), str(folder / "more" / "b.txt")]
    expected = model.predict(["A moving, beautifully acted film.", "A dull mess that drags on\nforever."])
    assert [r["label"] for r in rows] == expected.labels
    assert [r["probability"] for r in rows] == [round(float(p.max()), 4) for p in expected.probabilities]


def test_a_folder_of_images_is_predicted_image_by_image(tmp_path):
    train = sample_shots(load_dataset("digits", "train"), 3, seed=0)
    headstart.fit(train, backbone="efficientnet-lite0", method="probe").save(tmp_path / "run")
    test = sample_shots(load_dataset("digits", "test"), 1, seed=0)
    folder = tmp_path / "new"
    for i, image in enumerate(test.inputs[:4]):
        (folder / f"batch{i % 2}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"batch{i % 2}" / f"{i}.png")
    (folder / "readme.txt").write_text("not an image")
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "run"), str(folder)])
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert [r["input"] for r in rows] == [str(folder / "batch0" / "0.png"), str(folder / "batch0" / "2.png"),
                                          str(folder / "batch1" / "1.png"), str(folder / "batch1" / "3.png")]
    assert all(r["label"] in train.classes for r in rows)
