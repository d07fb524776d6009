"""A forecaster (``headstart.forecast.fitted.Forecaster``: a series backbone and its quantile head,
``fracast-0`` or an ``hs-tcn`` encoder) as one ONNX graph::

    values, mask (B, 1, L) float32 / bool, loc, scale (B, 1, 1) float64
        -> quantiles (B, horizon, 9) float64, in the series' units, sorted along the last axis

What the graph cannot hold is the ``series`` preprocessing spec's (``headstart.export.preprocess``,
with ``inputs`` naming all four): each series' last ``context_length`` points, left-padded, scaled
by the family's registered scaling, missing points masked, in numpy as the backbone does it. The
graph undoes the scaling in float64 and sorts the quantiles, as ``Forecaster.quantiles`` does;
fracast-0's ``torch.fft.rfft`` and ``nn.RMSNorm`` are traced through ``traceable_ops``.

Parity is **relative**: quantiles are in each series' own units (thousands of passengers, lynx
trappings), so an absolute tolerance would mean different things for different series. The check
is on ``max |Δ| / scale`` (the context's own scale, fracast-0's min-max span or hs-tcn's mean
``|x|``): the difference in the scaled space the network computes in. ``max |Δ|`` in the series'
units is reported beside it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from headstart.data.series import SeriesCollection, load_series
from headstart.errors import HeadstartError
from headstart.export.graph import write_onnx
from headstart.export.preprocess import preprocessor
from headstart.export.record import write_metadata, write_parity
from headstart.export.runner import OnnxModel
from headstart.forecast.fitted import Forecaster
from headstart.methods.lora import merged

OUTPUT = "quantiles"
INPUTS = ("values", "mask", "loc", "scale")
TRACE_BATCH = 4


class ForecastGraph(nn.Module):
    """``(values, mask, loc, scale) -> sorted quantiles``: ``Forecaster.quantiles`` after preprocessing."""

    def __init__(self, model: Forecaster) -> None:
        super().__init__()
        self.backbone, self.head = merged(model.backbone), model.head

    def forward(self, values: Tensor, mask: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        batch = replace(self.backbone.graph_batch({"values": values, "mask": mask}), loc=loc.flatten(0, 1),
                        scale=scale.flatten(0, 1))
        return torch.sort(batch.denormalise(self.head(self.backbone.forward_features(batch))), dim=-1).values


def contexts_of(model: Forecaster, data: SeriesCollection | str | Path | list[Any]) -> list[np.ndarray]:
    """The contexts parity is checked on: each series whole (what ``predict`` reads) and without its
    last ``horizon`` points (what ``evaluate`` reads), or the arrays given."""
    if isinstance(data, (str, Path)):
        data = load_series(str(data))
    if isinstance(data, SeriesCollection):
        return list(data.values) + list(data.truncated(model.horizon).values)
    return [np.asarray(x) for x in data]


def forecast_parity(model: Forecaster, exported: OnnxModel, contexts: list[np.ndarray]) -> dict[str, Any]:
    """Max |Δ| of the quantiles, PyTorch vs onnxruntime, in the series' units and over each context's scale."""
    difference = np.abs(model.quantiles(contexts) - exported.outputs(contexts))
    scale = exported.prepare(contexts)["scale"].reshape(-1)
    return {"examples": len(contexts), "max_abs_diff": float(difference.max()),
            "max_scaled_diff": float((difference / scale[:, None, None]).max())}


def export_forecaster(model: Forecaster, path: Path, data: SeriesCollection | str | Path | list[Any] | None,
                      tolerance: float) -> dict[str, Any]:
    """Write ``model``'s graph, metadata and parity report (on ``data``'s series) beside ``path``;
    raise ``HeadstartError`` if a quantile differs by more than ``tolerance`` times its context's scale."""
    if data is None:
        raise HeadstartError("exporting a forecaster needs --data: series to check the graph's forecasts on")
    contexts = contexts_of(model, data)
    net = model.backbone
    spec = net.export_preprocessing(path.parent) | {"inputs": list(INPUTS)}
    feeds = preprocessor(spec, path.parent)(contexts[:TRACE_BATCH])
    if feeds["values"].shape[1] != 1:
        raise HeadstartError("a forecaster exports for univariate series: give each channel as its own series")
    axes = {name: {0: "batch"} for name in (*INPUTS, OUTPUT)}
    write_onnx(ForecastGraph(model), [torch.from_numpy(feeds[n]) for n in INPUTS], INPUTS, [OUTPUT], axes, path)
    write_metadata(path, {"modality": "series", "describe": model.describe(), "backbone": net.describe(),
                          "preprocessing": spec, "inputs": list(INPUTS), "info": model.info,
                          "outputs": [{"name": OUTPUT, "task": "forecast", "classes": None, "horizon": model.horizon,
                                       "quantiles": list(net.quantiles)}]})
    report = {"model": path.name, "tolerance": tolerance, "tolerance_of": "max_scaled_diff",
              **forecast_parity(model, OnnxModel(path), contexts)}
    return write_parity(path, report, "max_scaled_diff", tolerance, "max |Δquantile| / scale")
