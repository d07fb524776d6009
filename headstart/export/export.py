"""``export_onnx``: a fitted model as one ONNX graph, its metadata and preprocessing spec beside it,
parity with the model's own outputs (PyTorch, or scikit-learn's for the kept baseline) checked (and
stored) at export time, optionally an int8 copy of a neural graph."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from headstart.data import load_data
from headstart.data.dataset import Dataset
from headstart.data.series import SeriesCollection
from headstart.errors import HeadstartError
from headstart.export.baseline import export_baseline
from headstart.export.forecast import export_forecaster
from headstart.export.graph import Output, export_graph
from headstart.export.policy import export_policy
from headstart.export.quantize import quantize
from headstart.export.record import onnx_target, write_metadata, write_parity
from headstart.export.runner import OnnxModel, metadata_path
from headstart.fitted import FittedModel, Transferred, as_batch, data_columns
from headstart.forecast.fitted import Forecaster
from headstart.multitask.model import MultiTaskTransferred
from headstart.rl.policy_io import Policy
from headstart.select.baseline_model import BaselineModel
from headstart.zoo import Backbone

TOLERANCE = 1e-3  # the largest |probability difference| an export may have (fp32 reordering; AdaBN-adapted
# BatchNorm statistics with tiny variances amplify it to ~2e-4)
EXAMPLE_BATCH = 4  # inputs the graph is traced on


def parts(model: FittedModel) -> tuple[Backbone, list[nn.Module], list[Output], list[Transferred]]:
    """The backbone, the heads, the graph outputs and the single-task PyTorch views of ``model``."""
    if isinstance(model, MultiTaskTransferred):
        views = [model.for_task(name) for name in model.task_names]
        outputs = [Output(name, v.task, v.classes) for name, v in zip(model.task_names, views)]
    elif isinstance(model, Transferred):
        views, outputs = [model], [Output("probabilities" if model.task != "regression" else "values", model.task,
                                          model.classes)]
    else:
        raise HeadstartError(
            f"{model.describe()['method']} cannot be exported to ONNX (exportable: transfer, adapted and multi-task "
            "runs, forecasters, RL policies and the TF-IDF, pixel and MFCC baselines); serve it with `headstart serve RUN --runtime torch`")
    return views[0].model.backbone, [v.model.head for v in views], outputs, views


def example_items(model: FittedModel, data: Dataset | str | Path | list[Any]) -> tuple[list[Any], Dataset | None]:
    """The raw inputs parity is checked on, and the labelled ``Dataset`` they came from (if any)."""
    if isinstance(data, (str, Path)):
        text_col, label_col = data_columns(model)
        data = load_data(data, text_col=text_col, label_col=label_col, task=None if model.task == "multitask" else model.task)
    if isinstance(data, Dataset):
        return list(data.inputs), data if data.labels is not None else None
    return as_batch(data, model.modality), None


def trace_batch(net: Backbone, items: list[Any]) -> Any:
    """A small batch to trace the graph on: the shortest and longest inputs, so it is padded."""
    lengths = net.input_lengths(items)
    order = np.argsort(lengths, kind="stable") if lengths is not None else np.arange(len(items))
    chosen = sorted({int(order[0]), int(order[-1]), *map(int, order[: EXAMPLE_BATCH - 2])})
    return net.prepare_inputs([items[i] for i in chosen])


def parity(views: list[FittedModel], exported: OnnxModel, items: list[Any]) -> dict[str, Any]:
    """Max |Δ| of every output and the agreement of the predicted labels, the model (one single-task
    view per output) vs onnxruntime."""
    onnx_out = exported.all_outputs_of(items)
    per_output = {}
    for view, output in zip(views, exported.all_outputs):
        torch_out, onnx = view.outputs(items), onnx_out[output["name"]]
        agree = (torch_out.argmax(1) == onnx.argmax(1)) if output["task"] == "classification" else (
            (torch_out >= 0.5) == (onnx >= 0.5)).all(1) if output["task"] == "multilabel" else np.ones(len(items), bool)
        per_output[output["name"]] = {"max_abs_diff": float(np.abs(torch_out - onnx).max()),
                                      "label_agreement": float(agree.mean())}
    return {"examples": len(items), "max_abs_diff": max(p["max_abs_diff"] for p in per_output.values()),
            "label_agreement": min(p["label_agreement"] for p in per_output.values()), "outputs": per_output}


def seconds_per_pass(model: OnnxModel, items: list[Any], repeats: int = 3) -> float:
    """Best wall time of ``repeats`` passes over ``items``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.all_outputs_of(items)
        times.append(time.perf_counter() - started)
    return min(times)


def int8_advice(quantised: OnnxModel, speedup: float) -> dict[str, str]:
    """How the int8 graph runs here and, when it is no faster than fp32, the advice to serve fp32."""
    advice = {"kernels": quantised.int8_kernels} if quantised.int8_kernels else {}
    if quantised.int8_kernels == "reference":
        advice["note"] = ("this CPU has no VNNI, so its fused int8 kernels saturate; the int8 graph runs "
                          "dequantised here (right answers, no speed-up)")
    if speedup < 1:
        advice["warning"] = f"int8 runs {1 / speedup:.1f}x slower than fp32 on this machine: serve the fp32 model here"
    return advice


def accuracy(model: OnnxModel, labelled: Dataset | None) -> float | None:
    if labelled is None or model.task != "classification":
        return None
    return float(model.evaluate(labelled)["accuracy"])


def neural_graph(net: Backbone, heads: list[nn.Module], outputs: list[Output], path: Path,
                 items: list[Any]) -> dict[str, Any]:
    """Write the graph of a transfer model (its ``parts``) traced on ``items``; return its metadata
    entries (backbone, preprocessing, outputs, inputs)."""
    example = trace_batch(net, items)
    meta = {"backbone": net.describe(), "preprocessing": net.export_preprocessing(path.parent),
            "outputs": [o.__dict__ for o in outputs], "inputs": export_graph(net, heads, outputs, example, path)}
    return meta


def export_onnx(model: FittedModel | Forecaster | Policy, path: str | Path, *,
                data: Dataset | SeriesCollection | str | Path | list[Any] | None = None, int8: bool = False,
                calibration: Dataset | str | Path | list[Any] | None = None,
                tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Write ``path`` (``model.onnx``), ``model.json`` (outputs, preprocessing spec, recipe, info),
    the files the spec names (``tokenizer.json``) and ``model.parity.json``; return the parity report.
    Each kind of model has its module: transfer runs ``export_transfer``, the kept baseline
    ``headstart.export.baseline``, forecasters ``headstart.export.forecast`` (parity relative to each
    series' scale), RL policies ``headstart.export.policy`` (parity on rollouts of their dynamics;
    ``data`` optional). ``int8`` applies to transfer runs only."""
    path = onnx_target(path)
    if isinstance(model, (Forecaster, Policy)):
        if int8:
            raise HeadstartError("--int8 applies to transfer runs; forecasters and RL policies export fp32 only (int8 "
                                 "would move fracast-0's detected periods; a policy's small MLP gains no speed)")
        if isinstance(model, Forecaster):
            return export_forecaster(model, path, data, tolerance)
        return export_policy(model, path, data, tolerance)
    if data is None:
        raise HeadstartError("exporting a fitted model needs --data: inputs to check the graph's outputs on")
    return export_transfer(model, path, data=data, int8=int8, calibration=calibration, tolerance=tolerance)


def export_transfer(model: FittedModel, path: Path, *, data: Dataset | str | Path | list[Any], int8: bool = False,
                    calibration: Dataset | str | Path | list[Any] | None = None,
                    tolerance: float = TOLERANCE) -> dict[str, Any]:
    """``export_onnx`` of a transfer, adapted or multi-task run or the kept baseline; with ``int8``,
    also ``model.int8.onnx`` (+ its ``.json``), quantised and calibrated on ``calibration`` (default
    ``data``; neural graphs only). Parity is measured on ``data`` (labelled: accuracy too); raises
    ``HeadstartError`` if any probability differs from the model's own by more than ``tolerance``.
    """
    if int8 and isinstance(model, BaselineModel):
        raise HeadstartError("--int8 applies to neural graphs; the kept baseline's graph is one linear map already")
    neural = None if isinstance(model, BaselineModel) else parts(model)
    int8_how = neural[0].int8_quantisation() if int8 and neural else None  # a family without int8 refuses before any work
    items, labelled = example_items(model, data)
    if neural is None:
        views, graph_meta = [model], export_baseline(model, path)
    else:
        net, heads, outputs, views = neural
        graph_meta = neural_graph(net, heads, outputs, path, items)
    meta = write_metadata(path, {"modality": model.modality, "describe": model.describe(), **graph_meta,
                                 "info": model.info})
    fp32 = OnnxModel(path)
    report: dict[str, Any] = {"model": path.name, "tolerance": tolerance, **parity(views, fp32, items)}
    report["accuracy"] = accuracy(fp32, labelled)
    if int8:
        target = path.with_name(f"{path.stem}.int8.onnx")
        calibration_items = example_items(model, calibration)[0] if calibration is not None else items
        how = quantize(path, target, int8_how, fp32.prepare, calibration_items)
        metadata_path(target).write_text(json.dumps(meta | {"quantisation": how}, indent=1, default=str))
        quantised = OnnxModel(target)
        fp32_s, int8_s = seconds_per_pass(fp32, items), seconds_per_pass(quantised, items)
        report["int8"] = {"model": target.name, "quantisation": how, **parity(views, quantised, items),
                          "accuracy": accuracy(quantised, labelled), "fp32_seconds": fp32_s, "int8_seconds": int8_s,
                          "speedup": fp32_s / int8_s, **int8_advice(quantised, fp32_s / int8_s)}
    return write_parity(path, report, "max_abs_diff", tolerance, "max |Δprob|")
