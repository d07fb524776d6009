"""``Forecaster``: a fitted forecasting model (a series backbone and its quantile head) with the
``FittedModel`` contract: ``predict`` the next ``horizon`` points of each series, ``evaluate`` the
forecast of each series' last ``horizon`` points, ``save`` / ``headstart.load``. No pickles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from headstart.artifacts import Artifact, expect_format, read_artifact, register_format, write_artifact
from headstart.data.series import SeriesCollection
from headstart.errors import BackboneError
from headstart.forecast.metrics import MEDIAN, QUANTILES, aggregate, series_metrics
from headstart.methods.lora import merged
from headstart.zoo import load_backbone
from headstart.zoo.series import SeriesBackbone

FORMAT = "headstart-forecast/1"


class SeriesForecasts:
    """``predict`` and ``evaluate`` of any forecaster from its ``quantiles(contexts)``: the
    ``(len(contexts), horizon, 9)`` quantiles of each context's next ``horizon`` points."""

    horizon: int

    def quantiles(self, contexts: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, collection: SeriesCollection) -> pd.DataFrame:
        """The next ``horizon`` points of each series: ``series_id``, ``timestamp`` (or ``step``),
        ``point`` (the median) and ``q0.1`` … ``q0.9``."""
        q = self.quantiles(list(collection.values))
        frames = []
        for i, sid in enumerate(collection.ids):
            if collection.timestamps is not None and collection.freq:
                last = pd.Timestamp(collection.timestamps[i][-1])
                frame = pd.DataFrame({"series_id": sid, "timestamp": pd.date_range(last, periods=self.horizon + 1, freq=collection.freq)[1:]})
            else:
                frame = pd.DataFrame({"series_id": sid, "step": np.arange(len(collection.values[i]), len(collection.values[i]) + self.horizon)})
            frame["point"] = q[i, :, MEDIAN]
            for j, level in enumerate(QUANTILES):
                frame[f"q{level:g}"] = q[i, :, j]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def evaluate(self, collection: SeriesCollection) -> dict[str, Any]:
        """MASE, sMAPE, mean quantile loss and coverage of forecasting each series' last ``horizon``
        points from the points before them; per series under ``per_series``."""
        return held_out_metrics(collection, self.quantiles(list(collection.truncated(self.horizon).values)))


def held_out_metrics(collection: SeriesCollection, quantiles: np.ndarray) -> dict[str, Any]:
    """``evaluate``'s metrics of ``quantiles`` ``(n, H, 9)``, forecasts of each series' last ``H`` points."""
    horizon = quantiles.shape[1]
    history, truth = collection.truncated(horizon), collection.tail(horizon)
    per = {sid: series_metrics(truth.values[i], quantiles[i], history.values[i], collection.season)
           for i, sid in enumerate(collection.ids)}
    return {**aggregate(list(per.values())), "per_series": per}


@dataclass
class Forecaster(SeriesForecasts):
    """``backbone`` + ``head`` (features → scaled ``(B, horizon, Q)`` quantiles) for ``horizon`` steps."""

    backbone: SeriesBackbone
    head: nn.Module
    horizon: int
    method: str
    info: dict[str, Any] = field(default_factory=dict)
    classes: list[str] | None = None
    task: str = "forecast"
    modality: str = "series"

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "backbone": self.backbone.name, "horizon": self.horizon}

    @torch.no_grad()
    def quantiles(self, contexts: list[np.ndarray]) -> np.ndarray:
        """``(len(contexts), horizon, 9)`` quantiles in each series' units (each context alone scales its forecast)."""
        self.backbone.eval()
        self.head.eval()
        batch = self.backbone.prepare_inputs([np.asarray(c, dtype=np.float32) for c in contexts])
        q = batch.denormalise(self.head(self.backbone.forward_features(batch))).numpy().astype(np.float64)
        return np.sort(q, axis=-1)  # a trained head's quantiles can cross; sorting them never raises the pinball loss

    def save(self, path: str | Path) -> Path:
        """``config.json`` (backbone identity, horizon, method, info) and the backbone's and head's tensors."""
        config = {"backbone": self.backbone.describe(), "backbone_name": self.backbone.name, "horizon": self.horizon,
                  "method": self.method, "info": self.info}
        tensors = {f"backbone.{k}": v for k, v in merged(self.backbone).state_dict().items()}  # LoRA folded in
        tensors |= {f"head.{k}": v for k, v in self.head.state_dict().items()}
        return write_artifact(path, FORMAT, config, tensors)


def load_forecaster(source: str | Path | Artifact) -> Forecaster:
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    config = artifact.config
    net = load_backbone(config["backbone_name"])
    if net.weights_hash != config["backbone"]["weights_hash"]:
        raise BackboneError(f"{artifact.folder}: trained on other {config['backbone_name']} weights than the installed ones")
    head = net.forecast_head(config["horizon"], pretrained=False)
    net.load_state_dict({k.removeprefix("backbone."): v for k, v in artifact.tensors.items() if k.startswith("backbone.")})
    head.load_state_dict({k.removeprefix("head."): v for k, v in artifact.tensors.items() if k.startswith("head.")})
    return Forecaster(net, head, config["horizon"], config["method"], config["info"])


register_format(FORMAT, load_forecaster)
