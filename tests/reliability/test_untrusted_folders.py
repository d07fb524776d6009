"""No code runs from an untrusted folder, and an artifact never reaches outside itself for model files."""

import json
import shutil

import numpy as np
import pytest

import headstart
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from tests.reliability.tiny_bert import save_tiny_bert

TEXTS = ["shares fell", "the film was a triumph", "a goal won", "shares fell the", "the film", "goal won a"] * 2
DATA = Dataset(TEXTS, np.arange(12) % 3, ["business", "film", "sport"], "text", name="news")


def test_fit_on_a_hostile_folder_runs_none_of_its_code_and_stores_a_copy_without_it(tmp_path):
    marker = tmp_path / "code-ran"
    folder = save_tiny_bert(tmp_path / "hostile", marker)
    model = headstart.fit(DATA, backbone=str(folder), method="probe")
    saved = model.save(tmp_path / "run")
    assert not marker.exists()
    stored = saved / "backbone"
    assert (stored / "config.json").is_file() and not (stored / "custom.py").exists()
    shutil.rmtree(folder)  # the artifact needs nothing outside itself
    reloaded = headstart.load(saved)
    assert np.array_equal(reloaded.outputs(TEXTS[:3]), model.outputs(TEXTS[:3]))
    assert not marker.exists()


@pytest.mark.parametrize("backbone", ["hostile", "org/some-model"])
def test_a_config_naming_an_outside_folder_or_a_hub_id_is_refused_before_loading(backbone, fitted_kinds, tmp_path):
    marker = tmp_path / "code-ran"
    hostile = save_tiny_bert(tmp_path / "hostile", marker)
    saved = fitted_kinds["text_probe"][0].save(tmp_path / "run")
    config = json.loads((saved / "config.json").read_text())
    config["recipe"]["backbone"] = str(hostile) if backbone == "hostile" else backbone
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(HeadstartError, match="neither registered nor stored in the artifact"):
        headstart.load(saved)
    assert not marker.exists()


def test_a_stored_backbone_folder_is_verified_by_the_manifest(tmp_path):
    folder = save_tiny_bert(tmp_path / "bert")
    saved = headstart.fit(DATA, backbone=str(folder), method="probe").save(tmp_path / "run")
    weights = saved / "backbone" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8:] = bytes(8)  # the last floats of the last tensor
    weights.write_bytes(bytes(data))
    with pytest.raises(HeadstartError, match="backbone/model.safetensors: missing or changed"):
        headstart.load(saved)


def test_the_hostile_folder_really_runs_its_code_when_trusted(tmp_path):
    """The control: the folder the tests above use does run its code when a loader trusts it."""
    from transformers import AutoModel

    marker = tmp_path / "code-ran"
    AutoModel.from_pretrained(save_tiny_bert(tmp_path / "hostile", marker), trust_remote_code=True)
    assert marker.exists()
