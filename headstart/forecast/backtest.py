"""Rolling-origin back-testing of any forecaster on arrays: each held-out origin is forecast from
the points before it alone, and scored with ``metrics.series_metrics``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from headstart.forecast.baselines import BASELINES, baseline_forecasts
from headstart.forecast.metrics import aggregate, series_metrics
from headstart.forecast.windows import backtest_origins

# contexts (each the full history before an origin), horizon -> (H, Q) quantiles per context
ForecastFn = Callable[[list[np.ndarray], int], Sequence[np.ndarray]]


def backtest(values: Sequence[np.ndarray], season: int, horizon: int, forecast: ForecastFn, origins: int = 3) -> dict[str, float]:
    """Mean metrics of ``forecast`` over every series' last ``origins`` origins (stepping by ``horizon``;
    fewer for short series, see ``windows.backtest_origins``)."""
    histories, truths = [], []
    for series in values:
        for o in backtest_origins(len(series), horizon, origins):
            histories.append(np.asarray(series[:o], dtype=np.float64))
            truths.append(np.asarray(series[o:o + horizon], dtype=np.float64))
    predicted = forecast(histories, horizon)
    return aggregate([series_metrics(t, q, h, season) for t, q, h in zip(truths, predicted, histories)])


def baseline_table(values: Sequence[np.ndarray], season: int, horizon: int, origins: int = 3) -> dict[str, dict[str, float]]:
    """The back-test metrics of every statsforecast baseline."""
    return {name: backtest(values, season, horizon, lambda h, H, n=name: baseline_forecasts(n, h, H, season), origins)
            for name in BASELINES}
