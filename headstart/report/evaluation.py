"""One pass of a trained model over labelled data, kept whole for the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.data.readers import require_labels
from headstart.errors import HeadstartError
from headstart.features import extract_features
from headstart.fitted import Transferred


@dataclass
class RunEvaluation:
    """The features the head saw, its class probabilities and the resulting metrics, on ``data``."""

    data: Dataset
    features: np.ndarray  # (n, feature_dim)
    probabilities: np.ndarray  # (n, classes)
    metrics: dict[str, Any]  # headstart.tasks.evaluate's: accuracy, macro_f1, per_class, n

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels.astype(int)

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(1)


def evaluate_run(fitted: Transferred, data: Dataset, *, progress: bool = False) -> RunEvaluation:
    """Run ``fitted`` once over ``data``: features, probabilities and metrics from the same pass.

    Features of the untouched pre-trained backbone (the probe) come from the on-disk cache.
    """
    if fitted.task != "classification":
        raise HeadstartError(f"the report covers classification runs; this run's task is {fitted.task}")
    require_labels(data, min_classes=1)
    if data.classes != fitted.classes:
        raise HeadstartError(f"{data.name}: its classes {data.classes} differ from the model's {fitted.classes}")
    model = fitted.model
    features = extract_features(
        model.backbone, data, bf16=fitted.recipe.bf16, cache=not fitted.method.trains, progress=progress
    )
    with torch.inference_mode():
        probabilities = tasks.activate(fitted.task, model.head(torch.from_numpy(features))).numpy()
    metrics = tasks.evaluate(fitted.task, probabilities, data.labels, fitted.classes)
    return RunEvaluation(data, features, probabilities, metrics)
