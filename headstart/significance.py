"""How sure a comparison on one test set is: paired bootstrap intervals, and runs that learnt nothing.

Two models evaluated on the same ``n`` test examples give per-example correctness ``a_i, b_i`` in
{0, 1}. The paired bootstrap draws ``n`` indices with replacement ``R`` times and takes the
difference of accuracies on each draw, ``mean(a_I) - mean(b_I)``; the 2.5th and 97.5th
percentiles of those ``R`` differences are the 95 % interval. Pairing (the same draw for both)
keeps the examples' difficulty out of the spread. An interval that contains 0 means the test set
cannot tell the two apart.

A run has *collapsed* when it predicts a single class, or when its accuracy is no better than
always predicting the test set's most frequent class (share ``m``) beyond sampling noise:
``accuracy <= m + 1.96 * sqrt(m (1 - m) / n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLES = 1000
LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """Accuracy of one model minus another's on the same examples, with its bootstrap interval."""

    value: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0."""
        return self.low > 0 or self.high < 0


def paired_difference(correct_a: np.ndarray, correct_b: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> Difference:
    """``accuracy(a) - accuracy(b)`` and its paired-bootstrap ``LEVEL`` interval (see the module docstring)."""
    a, b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError("paired_difference needs two equally long, non-empty vectors of per-example correctness")
    draws = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    spread = (a - b)[draws].mean(axis=1)
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(spread, [tail, 100 - tail])
    return Difference(float(a.mean() - b.mean()), float(low), float(high))


def collapse(predicted: np.ndarray, labels: np.ndarray) -> str | None:
    """Why a run's test predictions show it learnt nothing (one class predicted, or accuracy at the
    majority-class rate within noise), else ``None``."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if len(np.unique(predicted)) == 1:
        return "collapsed: predicts one class"
    n = len(labels)
    majority = np.bincount(labels.astype(int)).max() / n
    if (predicted == labels).mean() <= majority + 1.96 * np.sqrt(majority * (1 - majority) / n):
        return f"at chance: not above always predicting the majority class ({majority:.0%}) beyond noise"
    return None
