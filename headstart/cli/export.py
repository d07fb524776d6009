"""``headstart export RUN --data DATA --out model.onnx [--int8]``: one ONNX graph, parity-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from headstart.cli.console import TASK
from headstart.errors import HeadstartError


def export(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit` (or multitask, adapt)."),
    data: Optional[str] = typer.Option(None, "--data", help="Evaluation data parity (and accuracy) is checked on: a "
                                       "path or catalogue split, e.g. bbc_news:test; series for a forecaster; for an "
                                       "RL policy, observations (.npy, .csv; default: rollouts of its dynamics)."),
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
    """Export a fitted model (the kept baseline, a forecaster, an RL policy too) to ONNX, checking parity
    with it (fails above 1e-3; a forecaster's quantiles relative to each series' scale).

    Example: headstart export runs/bbc --data bbc_news:test --out exported/bbc.onnx --int8
    """
    import headstart
    from headstart.export import export_onnx

    if fmt != "onnx":
        raise HeadstartError(f"unknown format {fmt!r}; headstart exports onnx")
    report = export_onnx(headstart.load(run, task=task), out, data=data, int8=int8, calibration=calibration)
    typer.echo(json.dumps(report, indent=1))


def predict_onnx(path: Path, inputs: list[str], text_col: Optional[str], json_out: bool, task: Optional[str],
                 out_file: Optional[Path] = None, freq: Optional[str] = None) -> None:
    """``headstart predict model.onnx INPUT...`` through onnxruntime (the hook `headstart predict` calls):
    labels, a forecaster's forecast table, or a policy's actions."""
    from headstart.cli.console import print_predictions
    from headstart.data.sources import read_inputs
    from headstart.export.runner import OnnxForecaster, OnnxPolicy, open_exported

    model = open_exported(path, task)
    if isinstance(model, OnnxForecaster):
        from headstart.cli.forecast import predict_forecast

        return predict_forecast(model, inputs, out_file, freq)
    if isinstance(model, OnnxPolicy):
        return print_actions(model, inputs, json_out)
    named = read_inputs(inputs, model.modality, text_col or "text")
    print_predictions(named.names, model.predict(named.items), model.task, json_out)


def print_actions(model: Any, inputs: list[str], json_out: bool) -> None:
    """A policy's action for each observation (a row of ``inputs[0]``: .npy or .csv) as CSV (or JSON) on stdout."""
    from headstart.cli.console import print_json
    from headstart.export.runner import read_observations

    if len(inputs) != 1:
        raise HeadstartError(f"a policy reads one file of observations (.npy or .csv), not {len(inputs)} inputs")
    actions = model.predict(read_observations(inputs[0]))
    if json_out:
        return print_json([{"observation": i, "action": a.tolist()} for i, a in enumerate(actions)])
    width = 1 if actions.ndim == 1 else int(np.prod(actions.shape[1:]))
    typer.echo(",".join(["observation", *(["action"] if width == 1 else [f"action_{j}" for j in range(width)])]))
    for i, action in enumerate(actions.reshape(len(actions), width)):
        typer.echo(",".join([str(i), *(str(a) for a in action.tolist())]))
