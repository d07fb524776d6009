"""Forecast metrics: MASE, sMAPE, mean quantile (pinball) loss and the 80 % interval's coverage.

Forecasts are ``(H, Q)`` arrays of quantiles ``QUANTILES`` (0.1 … 0.9); the point forecast is the
median. MASE is scaled by the in-sample seasonal naive error of each series' training part.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

QUANTILES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MEDIAN = QUANTILES.index(0.5)
LOW, HIGH = QUANTILES.index(0.1), QUANTILES.index(0.9)


def naive_scale(history: np.ndarray, season: int) -> float:
    """Mean absolute error of the in-sample seasonal naive forecast; season 1 when the series has
    no more than ``season`` observed points. NaNs are ignored."""
    history = np.asarray(history, dtype=np.float64)
    m = season if season > 1 and len(history) > season else 1
    diffs = np.abs(history[m:] - history[:-m])
    diffs = diffs[np.isfinite(diffs)]
    return float(diffs.mean()) if len(diffs) else float("nan")


def mase(truth: np.ndarray, point: np.ndarray, history: np.ndarray, season: int) -> float:
    scale = naive_scale(history, season)
    return float(np.nanmean(np.abs(np.asarray(truth) - np.asarray(point))) / scale) if scale > 0 else float("nan")


def smape(truth: np.ndarray, point: np.ndarray) -> float:
    """Symmetric MAPE in percent (200 |y - f| / (|y| + |f|)); terms with 0/0 count as 0."""
    truth, point = np.asarray(truth, dtype=np.float64), np.asarray(point, dtype=np.float64)
    denominator = np.abs(truth) + np.abs(point)
    terms = np.where(denominator > 0, 200 * np.abs(truth - point) / np.where(denominator > 0, denominator, 1), 0.0)
    return float(np.nanmean(terms))


def quantile_loss(truth: np.ndarray, quantiles: np.ndarray, levels: Sequence[float] = QUANTILES) -> float:
    """Mean pinball loss over horizon steps and quantile levels (``quantiles``: ``(H, Q)``)."""
    diff = np.asarray(truth, dtype=np.float64)[:, None] - np.asarray(quantiles, dtype=np.float64)
    tau = np.asarray(levels)[None, :]
    return float(np.nanmean(np.maximum(tau * diff, (tau - 1) * diff)))


def coverage(truth: np.ndarray, quantiles: np.ndarray) -> float:
    """Share of truths inside the 80 % interval [q0.1, q0.9]."""
    truth = np.asarray(truth, dtype=np.float64)
    inside = (truth >= quantiles[:, LOW]) & (truth <= quantiles[:, HIGH])
    return float(inside[np.isfinite(truth)].mean())


def series_metrics(truth: np.ndarray, quantiles: np.ndarray, history: np.ndarray, season: int) -> dict[str, float]:
    """All four metrics of one series' forecast ``quantiles`` (``(H, Q)``) of ``truth`` (``(H,)``)."""
    point = quantiles[:, MEDIAN]
    return {"mase": mase(truth, point, history, season), "smape": smape(truth, point),
            "quantile_loss": quantile_loss(truth, quantiles), "coverage": coverage(truth, quantiles)}


def aggregate(per_series: Sequence[dict[str, float]]) -> dict[str, float]:
    """The mean of each metric over series (series whose metric is undefined left out)."""
    names = per_series[0].keys() if per_series else []
    return {k: float(np.nanmean([s[k] for s in per_series])) for k in names}
