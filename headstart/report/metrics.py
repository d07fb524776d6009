"""What the report measures beyond accuracy: confusions, calibration and confident mistakes.

All functions take integer labels ``y`` (n,) and class probabilities ``p`` (n, classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix as _sk_confusion_matrix


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of class ``i`` predicted as ``j`` (every class has a row)."""
    return _sk_confusion_matrix(labels, predicted, labels=np.arange(num_classes))


@dataclass
class ReliabilityBins:
    """Equal-width confidence bins ``(lo, hi]`` over ``[0, 1]`` (the first also holds 0).

    ``confidence[b]`` and ``accuracy[b]`` are the mean top-class probability and the accuracy of
    the ``count[b]`` predictions in bin ``b`` (both 0 for an empty bin).
    """

    edges: np.ndarray  # (bins + 1,)
    confidence: np.ndarray  # (bins,)
    accuracy: np.ndarray  # (bins,)
    count: np.ndarray  # (bins,)

    @property
    def expected_calibration_error(self) -> float:
        """``ECE = sum_b (n_b / n) |acc_b - conf_b|``: the gap between confidence and accuracy."""
        total = self.count.sum()
        return float((self.count * np.abs(self.accuracy - self.confidence)).sum() / total) if total else 0.0

    @property
    def confidence_gap(self) -> float:
        """Mean confidence minus accuracy over all predictions: above 0 over-confident, below under."""
        total = self.count.sum()
        return float((self.count * (self.confidence - self.accuracy)).sum() / total) if total else 0.0

    @property
    def direction(self) -> str:
        """``"over-confident"``, ``"under-confident"`` or, within half a point, ``"calibrated on average"``."""
        gap = self.confidence_gap
        return "calibrated on average" if abs(gap) < 0.005 else "over-confident" if gap > 0 else "under-confident"


def reliability_bins(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> ReliabilityBins:
    """Bin each prediction by its confidence ``max_k p_k``; correct means ``argmax_k p_k == y``."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    filled = np.maximum(count, 1)
    return ReliabilityBins(
        edges=edges,
        confidence=np.bincount(index, weights=confidence, minlength=n_bins) / filled,
        accuracy=np.bincount(index, weights=correct.astype(float), minlength=n_bins) / filled,
        count=count,
    )


@dataclass(frozen=True)
class Mistake:
    """A wrong prediction: the example's position, its true and predicted class, the confidence."""

    index: int
    true: int
    predicted: int
    confidence: float


def confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, k: int = 8) -> list[Mistake]:
    """The ``k`` wrong predictions made with the highest confidence, most confident first."""
    predicted = probabilities.argmax(1)
    confidence = probabilities.max(1)
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:k]
    return [Mistake(int(i), int(labels[i]), int(predicted[i]), float(confidence[i])) for i in order]
