"""Export parity on real weights for each artifact kind, int8, and the onnxruntime runner."""

from __future__ import annotations

import json

import numpy as np
import pytest

import headstart
from headstart.adapt import adapt
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError
from headstart.export import OnnxModel, export_onnx
from headstart.export.quantize import saturating_int8_cpu
from headstart.multitask import TaskSpec, fit_multitask

SHORT = {"backbone_options": {"max_length": 48}}


@pytest.fixture(scope="module")
def text_probe(bbc_train):
    return headstart.fit(bbc_train, backbone="minilm-l6", method="probe", **SHORT)


def test_text_probe_export_parity_and_runner(text_probe, bbc_test, tmp_path):
    report = export_onnx(text_probe, tmp_path / "bbc.onnx", data=bbc_test, int8=True)
    assert report["max_abs_diff"] <= 1e-4 and report["label_agreement"] == 1.0
    stored = json.loads((tmp_path / "bbc.parity.json").read_text())
    assert stored["max_abs_diff"] == report["max_abs_diff"] and stored["examples"] == len(bbc_test)
    assert (tmp_path / "tokenizer.json").is_file()
    assert report["int8"]["quantisation"] == "dynamic" and report["int8"]["accuracy"] is not None
    onnx = OnnxModel(tmp_path / "bbc.onnx")
    texts = list(bbc_test.inputs[:5])
    assert onnx.predict(texts).labels == text_probe.predict(texts).labels
    np.testing.assert_allclose(onnx.outputs(texts), text_probe.outputs(texts), atol=1e-4)
    assert onnx.evaluate(bbc_test)["accuracy"] == pytest.approx(text_probe.evaluate(bbc_test)["accuracy"])
    int8 = OnnxModel(tmp_path / "bbc.int8.onnx")
    assert int8.outputs(texts).shape == (5, len(text_probe.classes))


def test_lora_export_merges_adapters(bbc_train, bbc_test, tmp_path):
    model = headstart.fit(bbc_train, backbone="minilm-l6", method="lora", epochs=1, **SHORT)
    report = export_onnx(model, tmp_path / "lora.onnx", data=bbc_test)
    assert report["max_abs_diff"] <= 1e-4
    import onnx

    names = [init.name for init in onnx.load(str(tmp_path / "lora.onnx")).graph.initializer]
    assert not any("lora_" in n for n in names)  # merged into the base weights


def test_image_probe_export_and_static_int8(digits_train, digits_test, tmp_path):
    model = headstart.fit(digits_train, backbone="efficientnet-lite0", method="probe")
    report = export_onnx(model, tmp_path / "digits.onnx", data=digits_test, int8=True, calibration=digits_train)
    assert report["max_abs_diff"] <= 1e-4 and report["label_agreement"] == 1.0
    int8 = report["int8"]
    assert int8["quantisation"] == "static" and int8["kernels"] == ("reference" if saturating_int8_cpu() else "fused")
    assert abs(int8["accuracy"] - report["accuracy"]) <= 0.2
    assert ("warning" in int8) == (int8["speedup"] < 1)
    images = list(digits_test.inputs[:3])
    assert OnnxModel(tmp_path / "digits.onnx").predict(images).labels == model.predict(images).labels


def test_saturating_int8_cpu_reads_the_vnni_flags(tmp_path, monkeypatch):
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    avx2, vnni = tmp_path / "avx2", tmp_path / "vnni"
    avx2.write_text("flags\t\t: fpu sse4_2 avx avx2 fma\n")
    vnni.write_text("flags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert saturating_int8_cpu(avx2) and not saturating_int8_cpu(vnni)
    assert saturating_int8_cpu(tmp_path / "missing")  # unknown flags: keep the answers right
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    assert not saturating_int8_cpu(avx2)


def test_adapted_model_exports_its_adapted_statistics(digits_test, tmp_path):
    """AdaBN rewrites the BatchNorm statistics for the target: the graph must carry the adapted ones."""
    source = sample_shots(load_dataset("mnist5k"), 6, seed=0)
    model = adapt(source, digits_test, backbone="efficientnet-lite0", method="adabn",
                  backbone_options={"resize": "stretch"})
    report = export_onnx(model, tmp_path / "adabn.onnx", data=digits_test)
    assert report["max_abs_diff"] <= 1e-3 and report["label_agreement"] == 1.0
    images = list(digits_test.inputs[:4])
    assert OnnxModel(tmp_path / "adabn.onnx").predict(images).labels == model.predict(images).labels


def test_multitask_exports_one_output_per_task(reviews, bbc_train, tmp_path):
    train, test = reviews
    model = fit_multitask([TaskSpec("sentiment", train), TaskSpec("topic", bbc_train)], method="probe", **SHORT)
    report = export_onnx(model, tmp_path / "mt.onnx", data=list(test.inputs))
    assert set(report["outputs"]) == {"sentiment", "topic"} and report["max_abs_diff"] <= 1e-4
    onnx = OnnxModel(tmp_path / "mt.onnx")
    assert onnx.task == "multitask"
    texts = list(test.inputs[:4])
    assert onnx.for_task("topic").predict(texts).labels == model.predict(texts, task="topic").labels


def test_parity_failure_is_loud(text_probe, bbc_test, tmp_path):
    with pytest.raises(HeadstartError, match="parity failed"):
        export_onnx(text_probe, tmp_path / "strict.onnx", data=bbc_test, tolerance=0.0 - 1.0)
    assert (tmp_path / "strict.parity.json").is_file()
