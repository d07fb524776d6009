"""Checks shared by the transferability scores: each turns user input into clean arrays or raises
a one-line ``HeadstartError`` that says what is wrong."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from headstart.errors import HeadstartError

PROBABILITY_TOLERANCE = 1e-3


def feature_matrix(features: ArrayLike) -> np.ndarray:
    """``features`` as a finite float64 ``(n, d)`` array with at least two rows."""
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2:
        raise HeadstartError(f"features must be a 2-D (examples, dims) array, got shape {matrix.shape}")
    if len(matrix) < 2:
        raise HeadstartError(f"features need at least 2 examples, got {len(matrix)}")
    bad_rows = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if bad_rows.size:
        raise HeadstartError(f"features row {bad_rows[0]} holds NaN or inf ({bad_rows.size} such rows)")
    return matrix


def probability_matrix(probs: ArrayLike) -> np.ndarray:
    """``probs`` as a float64 ``(n, C)`` array of non-negative rows that sum to 1."""
    matrix = np.asarray(probs, dtype=np.float64)
    if matrix.ndim != 2:
        raise HeadstartError(f"source_probs must be a 2-D (examples, source classes) array, got shape {matrix.shape}")
    if len(matrix) == 0:
        raise HeadstartError("source_probs is empty")
    bad_rows = np.flatnonzero(~np.isfinite(matrix).all(axis=1) | (matrix < 0).any(axis=1))
    if bad_rows.size:
        raise HeadstartError(f"source_probs row {bad_rows[0]} holds a negative, NaN or inf value")
    sums = matrix.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > PROBABILITY_TOLERANCE)
    if off.size:
        raise HeadstartError(
            f"source_probs row {off[0]} sums to {sums[off[0]]:.4g}, not 1 (pass softmax probabilities, not logits)"
        )
    return matrix


def class_codes(labels: ArrayLike, n_rows: int, name: str = "labels") -> tuple[np.ndarray, int]:
    """Class labels of any hashable kind as codes ``0..C-1``, with ``C >= 2``, and ``C``."""
    values = np.asarray(labels)
    if values.ndim != 1:
        raise HeadstartError(f"{name} must be 1-D class labels, got shape {values.shape}")
    check_length(values, n_rows, name)
    classes, codes = np.unique(values, return_inverse=True)
    if len(classes) < 2:
        raise HeadstartError(f"{name} hold {len(classes)} distinct class(es); a score needs at least 2")
    return codes, len(classes)


def regression_targets(targets: ArrayLike, n_rows: int) -> np.ndarray:
    """Regression targets as a finite float64 ``(n, T)`` array (a 1-D target becomes one column)."""
    matrix = np.asarray(targets, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2:
        raise HeadstartError(f"regression targets must be 1-D or 2-D, got shape {matrix.shape}")
    check_length(matrix, n_rows, "targets")
    if not np.isfinite(matrix).all():
        row = np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0]
        raise HeadstartError(f"targets row {row} holds NaN or inf")
    return matrix


def check_length(values: np.ndarray, n_rows: int, name: str) -> None:
    if len(values) != n_rows:
        raise HeadstartError(f"{name} has {len(values)} entries but there are {n_rows} examples")


def one_hot(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, C)`` float64 indicator matrix of the class codes."""
    return np.eye(n_classes)[codes]
