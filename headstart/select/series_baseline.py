"""The series baselines (MiniRocket + ridge, 1-NN) as models that predict, evaluate, save and load.

Both are deterministic functions of their training examples and seed: MiniRocket draws its
kernels' dilations from the seed and fits its biases to quantiles of the training series'
convolutions, the ridge picks its penalty by leave-one-out on them, and 1-NN *is* its training
set. The artifact therefore stores the training panel ``(n, C, T)`` (``series_panel``: equal
lengths, gaps interpolated) and labels in ``model.safetensors`` and refits on load, which gives the
same predictions without pickling aeon's or scikit-learn's objects. The ridge and 1-NN decide
without probabilities: the predicted class gets probability 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from headstart import baselines
from headstart.artifacts import Artifact, expect_format, read_artifact, register_format, write_artifact
from headstart.data.dataset import Dataset
from headstart.fitted import Inputs, PredictsFromFeatures, as_batch

FORMAT = "headstart-series-baseline/1"
KINDS = ("minirocket", "nn1")


@dataclass
class SeriesBaselineModel(PredictsFromFeatures):
    """``kind`` (``minirocket`` or ``nn1``) fitted with ``seed`` on ``panel`` and ``labels``."""

    kind: str
    classes: list[str]
    panel: np.ndarray  # (n, C, T) float64, the training series as the baseline saw them
    labels: np.ndarray  # (n,) class codes
    seed: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    pipeline: Any = None  # the fitted pipeline; None: refit from ``panel`` (as on load)
    modality = "series"
    task = "classification"

    def __post_init__(self) -> None:
        if self.pipeline is not None:
            return
        build = baselines.BASELINES[self.kind][1]
        with threadpool_limits(1):
            self.pipeline = build(2, self.seed).fit(list(self.panel), self.labels.astype(int))

    @property
    def name(self) -> str:
        return baselines.BASELINES[self.kind][0]

    def describe(self) -> dict[str, Any]:
        return {"method": self.name, "backbone": None, "features": self.kind, "task": self.task}

    def features(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        """What the decision step sees: MiniRocket features (standardised) or z-normalised series."""
        with threadpool_limits(1):
            return np.asarray(self.pipeline[:-1].transform(list(as_batch(inputs, self.modality))), dtype=np.float64)

    def outputs_from(self, features: np.ndarray) -> np.ndarray:
        predicted = self.pipeline[-1].predict(features).astype(int)
        probabilities = np.zeros((len(predicted), len(self.classes)))
        probabilities[np.arange(len(predicted)), predicted] = 1.0
        return probabilities

    def save(self, path: str | Path) -> Path:
        config = {"kind": self.kind, "classes": self.classes, "seed": self.seed, "info": self.info}
        return write_artifact(path, FORMAT, config, {"panel": self.panel, "labels": self.labels.astype(np.int64)})


def series_baseline_model(fitted: baselines.Baseline, train: Dataset, seed: int, kind: str,
                          info: dict[str, Any]) -> SeriesBaselineModel:
    """The fitted ``kind`` baseline of ``train`` as a model (its pipeline kept, not refit)."""
    return SeriesBaselineModel(kind, list(train.classes or []), baselines.series_panel(train.inputs),
                               train.labels.astype(np.int64), seed, info, fitted.estimator)


def load_series_baseline(source: str | Path | Artifact) -> SeriesBaselineModel:
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    config = artifact.config
    return SeriesBaselineModel(config["kind"], config["classes"], artifact.tensors["panel"].numpy(),
                               artifact.tensors["labels"].numpy(), config["seed"], config.get("info", {}))


register_format(FORMAT, load_series_baseline)
