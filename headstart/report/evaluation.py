"""One pass of a trained model over labelled data, kept whole for the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.data.readers import require_labels
from headstart.errors import HeadstartError
from headstart.fitted import FittedModel

SPARSE_COMPONENTS = 50  # sparse features (TF-IDF) are reduced to this many dimensions for the feature map


@dataclass
class RunEvaluation:
    """The features the head saw, its class probabilities and the resulting metrics, on ``data``."""

    data: Dataset
    features: np.ndarray  # (n, feature_dim): what the output layer saw (sparse ones reduced, see dense_features)
    probabilities: np.ndarray  # (n, classes)
    metrics: dict[str, Any]  # headstart.tasks.evaluate's: accuracy, macro_f1, per_class, n

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels.astype(int)

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(1)


def evaluate_run(fitted: FittedModel, data: Dataset, *, progress: bool = False) -> RunEvaluation:
    """Run ``fitted`` once over ``data``: features, probabilities and metrics from the same pass.

    Features of the untouched pre-trained backbone (the probe) come from the on-disk cache.
    For one task of a multi-task run, pass its view (``headstart.load(run, task=name)``).
    """
    if fitted.task != "classification":
        raise HeadstartError(f"the report covers classification runs; this run's task is {fitted.task}")
    require_labels(data, min_classes=1)
    if data.classes != fitted.classes:
        raise HeadstartError(f"{data.name}: its classes {data.classes} differ from the model's {fitted.classes}")
    features = fitted.features(data, progress=progress)
    probabilities = fitted.outputs_from(features)
    metrics = tasks.evaluate(fitted.task, probabilities, data.labels, fitted.classes)
    return RunEvaluation(data, dense_features(features, seed=int(fitted.describe().get("seed", 0))), probabilities, metrics)


def dense_features(features: object, seed: int = 0) -> np.ndarray:
    """``features`` as a dense array; a sparse matrix (TF-IDF) through a truncated SVD."""
    if not sparse.issparse(features):
        return np.asarray(features)
    components = min(SPARSE_COMPONENTS, features.shape[1] - 1, features.shape[0])
    return TruncatedSVD(components, random_state=seed).fit_transform(features)
