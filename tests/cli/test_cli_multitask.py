"""Tasks files (TOML and YAML) and `headstart multitask` on real reviews and news articles."""

import csv
import json

import pytest
from typer.testing import CliRunner

from headstart.cli import app
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import DataError, HeadstartError
from headstart.multitask import load_multitask, read_tasks_file

TOML = """
method = "probe"
hidden = 32
weighting = "uncertainty"
epochs = 2
head_lr = 0.01
backbone_options = { max_length = 64 }

[[tasks]]
name = "sentiment"
data = "reviews.csv"

[[tasks]]
name = "topic"
data = "news.csv"
label_col = "topic"
weight = 0.5
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """reviews.csv (text, label) and news.csv (text, topic) of real examples, and tasks.toml naming them."""
    root = tmp_path_factory.mktemp("multitask")
    for name, dataset, column, k in (("reviews", "rotten_tomatoes", "label", 6), ("news", "bbc_news", "topic", 3)):
        data = sample_shots(load_dataset(dataset, "train"), k, seed=0)
        with open(root / f"{name}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", column])
            writer.writerows((t[:400], data.classes[y]) for t, y in zip(data.inputs, data.labels))
    (root / "tasks.toml").write_text(TOML)
    return root


def test_tasks_file_resolves_paths_next_to_it(folder):
    specs, settings = read_tasks_file(folder / "tasks.toml")
    assert [s.name for s in specs] == ["sentiment", "topic"]
    assert specs[0].data == folder / "reviews.csv" and specs[1].label_col == "topic" and specs[1].weight == 0.5
    assert settings == {"method": "probe", "hidden": 32, "weighting": "uncertainty", "epochs": 2, "head_lr": 0.01,
                        "backbone_options": {"max_length": 64}}


def test_yaml_tasks_file(folder):
    path = folder / "tasks.yaml"
    path.write_text("method: probe\ntasks:\n  - name: sentiment\n    data: reviews.csv\n    shots: 2\n")
    specs, settings = read_tasks_file(path)
    assert specs[0].shots == 2 and specs[0].data == folder / "reviews.csv" and settings == {"method": "probe"}


@pytest.mark.parametrize(
    "content, message",
    [
        ('[[tasks]]\nname = "a"\ndata = "x.csv"\ncolour = "red"\n', "task 1 unknown keys colour"),
        ('[[tasks]]\ndata = "x.csv"\n', "task 1 needs 'name' and 'data'"),
        ('method = "probe"\n', "expected one [[tasks]] table per task"),
        ("tasks = [\n", "not valid TOML"),
    ],
)
def test_bad_tasks_files_are_explained(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_tasks_file(path)


def test_command_trains_and_writes_a_loadable_artifact(folder, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["multitask", str(folder / "tasks.toml"), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "sentiment" in result.stdout and "topic" in result.stdout and "artifact" in result.stdout
    model = load_multitask(out)
    assert model.options.hidden == 32 and [t.weight for t in model.tasks] == [1.0, 0.5]
    assert model.predict(["Interest rates rose again."], task="topic").labels[0] in model.tasks[1].classes


def test_command_prints_its_rows_as_json(folder, tmp_path):
    result = CliRunner().invoke(app, ["multitask", str(folder / "tasks.toml"), "--out", str(tmp_path / "run"), "--no-progress", "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    weights = load_multitask(tmp_path / "run").task_weights()  # learnt (uncertainty weighting)
    assert {row["task"]: row["weight"] for row in outcome["tasks"]} == {name: round(w, 4) for name, w in weights.items()}
    assert all(row["validation score"]["metric"] == "accuracy" for row in outcome["tasks"] if row["validation"])


def test_command_rejects_unknown_settings(folder, tmp_path):
    result = CliRunner().invoke(app, ["multitask", str(folder / "tasks.toml"), "--out", str(tmp_path / "x"),
                                      "--set", "colour=red"])
    assert isinstance(result.exception, HeadstartError) and "unknown option(s) colour" in str(result.exception)


def test_fit_with_a_tasks_file_is_the_multitask_command(folder, tmp_path):
    out = tmp_path / "fit"
    result = CliRunner().invoke(app, ["fit", "--tasks", str(folder / "tasks.toml"), "--out", str(out), "--no-progress", "--seed", "1"])
    assert result.exit_code == 0, result.output
    model = load_multitask(out)
    assert [t.name for t in model.tasks] == ["sentiment", "topic"] and model.recipe.seed == 1
    both = CliRunner().invoke(app, ["fit", "bbc_news:train", "--tasks", str(folder / "tasks.toml"), "--out", str(out)])
    assert isinstance(both.exception, HeadstartError) and "not both" in str(both.exception)
    neither = CliRunner().invoke(app, ["fit", "--out", str(out)])
    assert isinstance(neither.exception, HeadstartError) and "DATA is missing" in str(neither.exception)
