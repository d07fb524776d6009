"""``headstart export RUN --data DATA --out model.onnx [--int8]``: one ONNX graph, parity-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import TASK
from headstart.errors import HeadstartError


def export(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit` (or multitask, adapt)."),
    data: str = typer.Option(..., "--data", help="Evaluation data parity (and accuracy) is checked on: a path or "
                             "catalogue split, e.g. bbc_news:test."),
    out: Path = typer.Option(Path("model.onnx"), "--out", help="The .onnx file to write; its .json, "
                             ".parity.json and preprocessing files go beside it."),
    fmt: str = typer.Option("onnx", "--format", help="Export format (onnx)."),
    int8: bool = typer.Option(False, "--int8", help="Also write MODEL.int8.onnx (dynamic for text, static "
                              "calibrated for images, audio frames and series; neural graphs only, refused for "
                              "ge2e-speaker) and report its accuracy and speed-up."),
    calibration: Optional[str] = typer.Option(None, "--calibration", help="Data to calibrate int8 on "
                                              "(default: --data)."),
    task: Optional[str] = TASK,
) -> None:
    """Export a fitted model (the kept baseline too) to ONNX, checking parity with it (fails above 1e-3).

    Example: headstart export runs/bbc --data bbc_news:test --out exported/bbc.onnx --int8
    """
    import headstart
    from headstart.export import export_onnx

    if fmt != "onnx":
        raise HeadstartError(f"unknown format {fmt!r}; headstart exports onnx")
    report = export_onnx(headstart.load(run, task=task), out, data=data, int8=int8, calibration=calibration)
    typer.echo(json.dumps(report, indent=1))


def predict_onnx(path: Path, inputs: list[str], text_col: Optional[str], json_out: bool, task: Optional[str]) -> None:
    """``headstart predict model.onnx INPUT...`` through onnxruntime (the hook `headstart predict` calls)."""
    from headstart.cli.console import print_predictions
    from headstart.data.sources import read_inputs
    from headstart.export import OnnxModel

    model = OnnxModel(path, task)
    named = read_inputs(inputs, model.modality, text_col or "text")
    print_predictions(named.names, model.predict(named.items), model.task, json_out)
