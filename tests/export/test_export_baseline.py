"""The kept baseline exported to ONNX on real data: TF-IDF (BBC News), pixels (digits), MFCC statistics
(FSDD) each match the saved-and-loaded baseline through OnnxModel, `headstart predict` and the
server; the unsupported cases are refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

import headstart
from headstart.cli import app
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError
from headstart.export import OnnxModel, export_onnx
from headstart.select.baseline_model import BaselineModel, fit_baseline_model
from headstart.select.series_baseline import SeriesBaselineModel
from headstart.serve import ServeSettings, create_app

# texts scikit-learn's tokeniser and a naive ONNX one split differently: one-letter words between words (their
# bigrams), accents, non-Latin scripts, a capital I with a dot, nothing to tokenise at all
AWKWARD_TEXTS = ["It's a film, a b c d of the year's best", "café naïve résumé straße", "İstanbul's ΣΊΣΥΦΟΣ 東京",
                 "", "   !!!", "Shares shares SHARES fell, fell and fell"]


def kept_baseline(train, tmp_path) -> BaselineModel:
    """The baseline as ``method="auto"`` keeps it (``fit_baseline_model``), saved and loaded back."""
    model = headstart.load(fit_baseline_model(train).save(tmp_path / "run"))
    assert isinstance(model, BaselineModel)
    return model


def test_text_baseline_exports_with_scikit_learn_tokenisation(bbc_train, bbc_test, tmp_path):
    model = kept_baseline(bbc_train, tmp_path)
    report = export_onnx(model, tmp_path / "bbc.onnx", data=bbc_test)
    assert report["max_abs_diff"] <= 1e-6 and report["label_agreement"] == 1.0  # measured: 3e-08
    assert report["accuracy"] == pytest.approx(model.evaluate(bbc_test)["accuracy"])
    assert json.loads((tmp_path / "bbc.parity.json").read_text())["max_abs_diff"] == report["max_abs_diff"]
    onnx = OnnxModel(tmp_path / "bbc.onnx")
    assert onnx.meta["preprocessing"] == {"kind": "text", "lowercase": True} and onnx.meta["inputs"] == ["text"]
    texts = list(bbc_test.inputs[:6]) + AWKWARD_TEXTS
    np.testing.assert_allclose(onnx.outputs(texts), model.outputs(texts), atol=1e-6)
    assert onnx.predict(texts).labels == model.predict(texts).labels
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "bbc.onnx"), AWKWARD_TEXTS[-1], "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["label"] == model.predict(AWKWARD_TEXTS[-1]).labels[0]
    with TestClient(create_app(ServeSettings(str(tmp_path / "bbc.onnx")), onnx)) as client:
        served = client.post("/predict", json={"inputs": texts[:3]})
    assert [p["label"] for p in served.json()["predictions"]] == model.predict(texts[:3]).labels


def test_pixel_baseline_exports_through_the_cli(digits_train, digits_test, tmp_path):
    model = kept_baseline(digits_train, tmp_path)
    out = tmp_path / "digits.onnx"
    result = CliRunner().invoke(app, ["export", str(tmp_path / "run"), "--data", "digits:test", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["examples"] == 360 and report["max_abs_diff"] <= 1e-6 and report["label_agreement"] == 1.0  # 4e-07
    onnx = OnnxModel(out)
    assert onnx.meta["preprocessing"] == {"kind": "pixels", "size": 32} and onnx.meta["outputs"][0]["name"] == "probabilities"
    images = list(digits_test.inputs[:8])
    assert onnx.predict(images).labels == model.predict(images).labels
    Image.fromarray(images[0]).save(tmp_path / "digit.png")
    predicted = CliRunner().invoke(app, ["predict", str(out), str(tmp_path / "digit.png"), "--json"])
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.output)[0]["label"] == model.predict(images[:1]).labels[0]
    with pytest.raises(HeadstartError, match="int8 applies to neural graphs"):
        export_onnx(model, tmp_path / "q.onnx", data=digits_test, int8=True)


def test_mfcc_baseline_exports(tmp_path):
    train = sample_shots(load_dataset("fsdd", "train"), 5, seed=0)
    test = sample_shots(load_dataset("fsdd", "test"), 10, seed=0)
    model = kept_baseline(train, tmp_path)
    report = export_onnx(model, tmp_path / "fsdd.onnx", data=test)
    assert report["max_abs_diff"] <= 1e-6 and report["label_agreement"] == 1.0  # measured: 4e-07
    assert OnnxModel(tmp_path / "fsdd.onnx").predict(test).labels == model.predict(test).labels


def test_series_baseline_is_refused_in_one_line(tmp_path):
    train = sample_shots(load_dataset("gunpoint", "train"), 3, seed=0)
    model = SeriesBaselineModel("nn1", list(train.classes), np.stack(train.inputs)[:, None], train.labels)
    with pytest.raises(HeadstartError, match=r"^1-NN on z-normalised series cannot be exported to ONNX .*--runtime torch"):
        export_onnx(model, tmp_path / "nn1.onnx", data=list(train.inputs))
