"""Artifact folders of every kind: exact round trips, format dispatch, the SHA-256 manifest, atomic overwrite."""

import json

import numpy as np
import pytest

import headstart
from headstart import artifacts
from headstart.errors import BackboneError, HeadstartError
from headstart.multitask.model import MultiTaskTransferred
from headstart.select.baseline_model import BaselineModel
from tests.fitted_kinds import KINDS, SHORT

FORMATS = {"image_probe": "headstart-artifact/1", "text_probe": "headstart-artifact/1", "multitask": "headstart-multitask/1",
           "image_baseline": "headstart-baseline/1", "text_baseline": "headstart-baseline/1"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_reloads_through_headstart_load_and_predicts_identically(kind, fitted_kinds, tmp_path):
    model, held_out = fitted_kinds[kind]
    folder = model.save(tmp_path / kind)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == FORMATS[kind] and set(config["files"]) == {"model.safetensors"}
    assert {"torch", "headstart", "python"} <= set(config["versions"])
    loaded = headstart.load(folder)
    assert type(loaded) is type(model)
    assert np.array_equal(loaded.outputs(held_out), model.outputs(held_out))
    assert loaded.predict(held_out).labels == model.predict(held_out).labels
    assert loaded.evaluate(held_out) == model.evaluate(held_out)


@pytest.mark.parametrize("method, options", [("probe", {}), ("finetune", {"unfreeze": 1, "epochs": 1}), ("scratch", {"epochs": 1})])
def test_reloaded_predictions_equal_the_originals(method, options, digits, tmp_path):
    train, test = digits
    model = headstart.fit(train, backbone="efficientnet-lite0", method=method, **options)
    folder = model.save(tmp_path / method)
    reloaded = headstart.load(folder)
    assert np.array_equal(reloaded.outputs(test), model.outputs(test))
    assert reloaded.predict(test).labels == model.predict(test).labels
    config = json.loads((folder / "config.json").read_text())
    assert config["recipe"]["method"] == method and config["classes"] == train.classes
    assert {"torch", "transformers", "headstart"} <= set(config["versions"])


def test_artifact_stores_only_what_changed(reviews, tmp_path):
    from safetensors import safe_open

    model = headstart.fit(reviews[0], backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, **SHORT)
    with safe_open(str(model.save(tmp_path / "ft") / "model.safetensors"), "pt") as fh:
        keys = list(fh.keys())
    assert all(k.startswith(("backbone.groups.6.", "head.")) for k in keys)
    assert any(k.startswith("backbone.groups.6.") for k in keys)


def test_a_multitask_run_loads_whole_or_as_one_task(fitted_kinds, tmp_path):
    model, held_out = fitted_kinds["multitask"]
    folder = model.save(tmp_path / "mt")
    assert isinstance(headstart.load(folder), MultiTaskTransferred)
    view = headstart.load(folder, task="sentiment")
    assert isinstance(view, headstart.Transferred) and view.classes == held_out.classes
    assert np.array_equal(view.outputs(held_out), model.outputs(held_out, task="sentiment"))
    with pytest.raises(HeadstartError, match="no task 'genre'"):
        headstart.load(folder, task="genre")
    with pytest.raises(HeadstartError, match="single-task model"):
        headstart.load(fitted_kinds["text_probe"][0].save(tmp_path / "one"), task="sentiment")


def test_loaders_called_directly_refuse_another_kind(fitted_kinds, tmp_path):
    from headstart.select.baseline_model import load_baseline

    folder = fitted_kinds["text_probe"][0].save(tmp_path / "probe")
    with pytest.raises(HeadstartError, match="is not headstart-baseline/1"):
        load_baseline(folder)
    assert isinstance(load_baseline(fitted_kinds["text_baseline"][0].save(tmp_path / "tfidf")), BaselineModel)


def test_a_changed_weights_file_is_refused_in_one_line(fitted_kinds, tmp_path):
    folder = fitted_kinds["image_baseline"][0].save(tmp_path / "run")
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(HeadstartError) as caught:
        headstart.load(folder)
    message = str(caught.value)
    assert "model.safetensors" in message and "SHA-256" in message and "\n" not in message


def test_an_unknown_format_is_named(fitted_kinds, tmp_path):
    folder = fitted_kinds["text_baseline"][0].save(tmp_path / "run")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | {"format": "headstart-future/9"}))
    with pytest.raises(HeadstartError, match="unknown artifact format 'headstart-future/9'"):
        headstart.load(folder)


def test_a_failed_overwrite_leaves_the_old_artifact_intact(fitted_kinds, tmp_path, monkeypatch):
    old, held_out = fitted_kinds["image_baseline"]
    folder = old.save(tmp_path / "run")
    (folder / "checkpoints").mkdir()  # a run's other entries
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "save_file", broken_save)
    with pytest.raises(HeadstartError, match=r"could not be saved \(disk full\)"):
        fitted_kinds["image_probe"][0].save(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left behind
    assert np.array_equal(headstart.load(folder).outputs(held_out), old.outputs(held_out))


def test_an_overwrite_replaces_the_artifact_whole_and_keeps_the_run_folder(fitted_kinds, tmp_path):
    folder = fitted_kinds["image_baseline"][0].save(tmp_path / "run")
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.ckpt").write_text("checkpoint")
    probe, held_out = fitted_kinds["image_probe"]
    probe.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoints", "config.json", "model.safetensors"]
    assert (folder / "checkpoints" / "last.ckpt").read_text() == "checkpoint"
    assert np.array_equal(headstart.load(folder).outputs(held_out), probe.outputs(held_out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_artifact_gets_the_modes_of_files_the_user_writes(fitted_kinds, tmp_path):
    """Not the private modes of mkdtemp (700) and safetensors (600): the config's, under the user's umask."""
    folder = fitted_kinds["text_probe"][0].save(tmp_path / "run")
    (tmp_path / "plain").write_text("x")
    (tmp_path / "plain_dir").mkdir()

    def mode(path):
        return path.stat().st_mode & 0o777

    assert mode(folder / "model.safetensors") == mode(folder / "config.json") == mode(tmp_path / "plain")
    assert mode(folder) == mode(tmp_path / "plain_dir")


def test_load_refuses_different_backbone_weights(fitted_kinds, tmp_path):
    folder = fitted_kinds["text_probe"][0].save(tmp_path / "probe")
    config = json.loads((folder / "config.json").read_text())
    config["backbone"]["weights_hash"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(BackboneError, match="weights"):
        headstart.load(folder)


def test_load_rejects_a_folder_that_is_not_an_artifact(tmp_path):
    with pytest.raises(HeadstartError, match="not a headstart artifact"):
        headstart.load(tmp_path)


def test_numpy_values_become_json():
    value = {1: np.float32(0.5), "rows": (np.arange(2), [np.int64(3)]), "path": artifacts.Path("runs/x")}
    assert artifacts.to_json(value) == {"1": 0.5, "rows": [[0, 1], [3]], "path": "runs/x"}
