"""Trained models: what ``fit`` (and every other kind of run) returns, and ``Prediction``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from headstart import tasks
from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.features import extract_features
from headstart.methods import Method
from headstart.model import TransferModel
from headstart.recipe import Recipe

Inputs = Dataset | Sequence[Any]


@dataclass
class Prediction:
    """Predicted labels (class names, lists of names for multilabel, values for regression) and
    the activated outputs (class probabilities, per-label probabilities, or regression values)."""

    labels: list[Any]
    probabilities: np.ndarray


@dataclass
class Transferred:
    """A trained transfer model: a ``TransferModel`` with its recipe, label names and run facts."""

    model: TransferModel
    method: Method
    classes: list[str] | None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def recipe(self) -> Recipe:
        return self.method.recipe

    @property
    def task(self) -> str:
        return self.recipe.task

    @property
    def modality(self) -> str:
        return self.model.backbone.modality

    def outputs(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        """Activated outputs ``(n, outputs)``: probabilities, or values for regression."""
        items = _as_inputs(inputs, self.model)
        # Cached features are only valid for the untouched pre-trained backbone (the probe).
        features = extract_features(
            self.model.backbone, items, bf16=self.recipe.bf16, cache=not self.method.trains, progress=progress
        )
        with torch.inference_mode():
            logits = self.model.head(torch.from_numpy(features))
        return tasks.activate(self.task, logits).numpy()

    def predict(self, inputs: Inputs, *, progress: bool = False) -> Prediction:
        """Labels and probabilities for texts, images (paths or arrays) or a ``Dataset``."""
        out = self.outputs(inputs, progress=progress)
        names = self.classes or []
        if self.task == "classification":
            labels: list[Any] = [names[i] for i in out.argmax(1)]
        elif self.task == "multilabel":
            labels = [[names[j] for j in np.flatnonzero(row >= 0.5)] for row in out]
        else:
            labels = out.squeeze(1).tolist() if out.shape[1] == 1 else out.tolist()
        return Prediction(labels, out)

    def evaluate(self, data: Dataset | str | Path, *, progress: bool = False) -> dict[str, Any]:
        """Accuracy, macro-F1 and a per-class report (or regression errors) on labelled data."""
        dataset = data if isinstance(data, Dataset) else load_data(data, task=self.task)
        require_labels(dataset, min_classes=1)
        if dataset.classes != self.classes and self.task != "regression":
            raise HeadstartError(f"{dataset.name}: its classes {dataset.classes} differ from the model's {self.classes}")
        return tasks.evaluate(self.task, self.outputs(dataset, progress=progress), dataset.labels, self.classes)

    def save(self, path: str | Path) -> Path:
        """Write the artifact folder (``config.json`` + ``model.safetensors``); see ``headstart.artifacts``."""
        from headstart.artifacts import save

        return save(self, path)


def _as_inputs(inputs: Inputs, model: TransferModel) -> Sequence[Any]:
    if isinstance(inputs, Dataset):
        return inputs.inputs
    return model.backbone.as_inputs(inputs)
