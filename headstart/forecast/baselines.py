"""Statsforecast baselines (SeasonalNaive, Naive, AutoETS, AutoARIMA) with nine quantiles.

Prediction intervals at levels 20, 40, 60 and 80 % give quantiles 0.1 … 0.9 (the 80 % interval's
bounds are q0.1 and q0.9; the median is the mean forecast).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from headstart.errors import HeadstartError
from headstart.forecast.metrics import QUANTILES

BASELINES = ("seasonal_naive", "naive", "ets", "arima")
LEVELS = (20, 40, 60, 80)


def _model(name: str, season: int):
    from statsforecast.models import AutoARIMA, AutoETS, Naive, SeasonalNaive

    models = {"seasonal_naive": lambda: SeasonalNaive(season_length=season), "naive": Naive,
              "ets": lambda: AutoETS(season_length=season), "arima": lambda: AutoARIMA(season_length=season)}
    if name not in models:
        raise HeadstartError(f"unknown baseline {name!r}; available: {', '.join(BASELINES)}")
    return models[name]()


def baseline_forecast(name: str, history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """``(horizon, 9)`` quantiles of baseline ``name`` fitted on ``history`` alone (season 1 when
    the history holds fewer than two seasons)."""
    y = np.asarray(history, dtype=np.float64)
    y = y[np.isfinite(y)]
    m = season if season > 1 and len(y) >= 2 * season else 1
    out = _model(name, m).forecast(y=y, h=horizon, level=list(LEVELS))
    mean = np.asarray(out["mean"], dtype=np.float64)
    columns = [out[f"lo-{lv}"] for lv in reversed(LEVELS)] + [mean] + [out[f"hi-{lv}"] for lv in LEVELS]
    quantiles = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)
    quantiles = np.where(np.isfinite(quantiles), quantiles, mean[:, None])
    return np.sort(quantiles, axis=1)


def baseline_forecasts(name: str, histories: Sequence[np.ndarray], horizon: int, season: int) -> list[np.ndarray]:
    return [baseline_forecast(name, h, horizon, season) for h in histories]


assert len(QUANTILES) == 2 * len(LEVELS) + 1
