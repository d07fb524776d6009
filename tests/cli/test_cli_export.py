"""`headstart export` end to end, and the onnxruntime predict hook."""

from __future__ import annotations

import json

import headstart
from tests.cli.helpers import invoke, run


def test_export_command_writes_graph_spec_and_parity(bbc_train, tmp_path):
    headstart.fit(bbc_train, backbone="minilm-l6", method="probe", backbone_options={"max_length": 48}).save(tmp_path / "run")
    out = tmp_path / "exported" / "bbc.onnx"
    result = run("export", str(tmp_path / "run"), "--data", "bbc_news:test", "--out", str(out))
    report = json.loads(result.stdout)
    assert report["examples"] == 445 and report["max_abs_diff"] <= 1e-4
    assert json.loads(out.with_suffix(".json").read_text())["preprocessing"]["kind"] == "tokenizer"
    assert run("export", str(tmp_path / "run"), "--data", "bbc_news:test", "--format", "tflite", check=False).returncode == 2
    lines = invoke("predict", str(out), "Shares fell sharply after the results").stdout.splitlines()
    assert lines[0] == "input,label,probability" and lines[1].split(",")[-2] in bbc_train.classes
