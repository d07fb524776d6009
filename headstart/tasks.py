"""What differs between tasks: targets, loss, output activation and metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn import metrics as skm
from torch import Tensor
from torch.nn import functional as F


def output_dim(task: str, classes: list[str] | None, targets: np.ndarray) -> int:
    """Number of head outputs: classes (or labels) for classification, target columns for regression."""
    if task == "regression":
        return 1 if targets.ndim == 1 else targets.shape[1]
    return len(classes or [])


def target_tensor(task: str, targets: np.ndarray) -> Tensor:
    if task == "classification":
        return torch.as_tensor(targets, dtype=torch.long)
    return torch.as_tensor(targets, dtype=torch.float32).reshape(len(targets), -1)


def loss(task: str, logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy, per-label binary cross-entropy, or mean squared error."""
    if task == "classification":
        return F.cross_entropy(logits.float(), targets)
    if task == "multilabel":
        return F.binary_cross_entropy_with_logits(logits.float(), targets)
    return F.mse_loss(logits.float(), targets)


def activate(task: str, logits: Tensor) -> Tensor:
    """Probabilities (softmax / per-label sigmoid) or, for regression, the raw outputs."""
    if task == "classification":
        return logits.float().softmax(-1)
    if task == "multilabel":
        return logits.float().sigmoid()
    return logits.float()


def evaluate(task: str, outputs: np.ndarray, targets: np.ndarray, classes: list[str] | None) -> dict[str, Any]:
    """Metrics from activated outputs: accuracy, macro-F1 (over the classes the targets hold) and a
    per-class report, or regression errors."""
    if task == "classification":
        pred = outputs.argmax(1)
        labels = list(range(len(classes or [])))
        present = sorted(set(np.asarray(targets).astype(int).tolist()))
        metrics = {
            "accuracy": float(skm.accuracy_score(targets, pred)),
            "macro_f1": float(skm.f1_score(targets, pred, labels=present, average="macro", zero_division=0)),
            "per_class": skm.classification_report(
                targets, pred, labels=labels, target_names=classes, output_dict=True, zero_division=0
            ),
            "n": int(len(targets)),
        }
        absent = [c for i, c in enumerate(classes or []) if i not in present]
        return metrics | ({"absent_classes": absent} if absent else {})
    if task == "multilabel":
        pred = (outputs >= 0.5).astype(int)
        return {
            "subset_accuracy": float(skm.accuracy_score(targets, pred)),
            "micro_f1": float(skm.f1_score(targets, pred, average="micro", zero_division=0)),
            "macro_f1": float(skm.f1_score(targets, pred, average="macro", zero_division=0)),
            "n": int(len(targets)),
        }
    outputs = outputs.reshape(targets.shape)
    return {
        "mae": float(skm.mean_absolute_error(targets, outputs)),
        "rmse": float(np.sqrt(skm.mean_squared_error(targets, outputs))),
        "r2": float(skm.r2_score(targets, outputs)),
        "n": int(len(targets)),
    }


def headline(task: str, metrics: dict[str, Any]) -> tuple[str, float]:
    """The one number to compare runs by (higher is better)."""
    key = {"classification": "accuracy", "multilabel": "macro_f1", "regression": "r2"}[task]
    return key, float(metrics[key])
