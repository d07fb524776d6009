import json

import numpy as np
import pytest
from short_text import TEXT_OPTIONS

import headstart
from headstart.errors import BackboneError, HeadstartError


@pytest.mark.parametrize("method, options", [("probe", {}), ("finetune", {"unfreeze": 1, "epochs": 1}), ("scratch", {"epochs": 1})])
def test_reloaded_predictions_equal_the_originals(method, options, digits_train, digits_test, tmp_path):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method=method, **options)
    folder = model.save(tmp_path / method)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    reloaded = headstart.load(folder)
    assert np.array_equal(reloaded.outputs(digits_test), model.outputs(digits_test))
    assert reloaded.predict(digits_test).labels == model.predict(digits_test).labels
    config = json.loads((folder / "config.json").read_text())
    assert config["recipe"]["method"] == method and config["classes"] == digits_train.classes
    assert {"torch", "transformers", "headstart"} <= set(config["versions"])


def test_artifact_stores_only_what_changed(bbc_train, tmp_path):
    from safetensors import safe_open

    model = headstart.fit(bbc_train, backbone="minilm-l6", method="finetune", unfreeze=1, epochs=1, **TEXT_OPTIONS)
    with safe_open(str(model.save(tmp_path / "ft") / "model.safetensors"), "pt") as fh:
        keys = list(fh.keys())
    assert all(k.startswith(("backbone.groups.6.", "head.")) for k in keys)
    assert any(k.startswith("backbone.groups.6.") for k in keys)


def test_load_refuses_different_backbone_weights(bbc_train, tmp_path):
    folder = headstart.fit(bbc_train, backbone="minilm-l6", method="probe").save(tmp_path / "probe")
    config = json.loads((folder / "config.json").read_text())
    config["backbone"]["weights_hash"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(BackboneError, match="weights"):
        headstart.load(folder)


def test_load_rejects_a_folder_that_is_not_an_artifact(tmp_path):
    with pytest.raises(HeadstartError, match="not a headstart artifact"):
        headstart.load(tmp_path)
