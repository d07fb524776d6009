"""``method="auto"`` for forecasting and its guard: back-test the statsforecast baselines and the
transferred candidates on the held-out origins, keep the best by MASE; when no transferred model
beats the best baseline, keep the baseline (``BaselineForecaster``) and say so. A candidate that
cannot train (series too short before their held-out origins) is skipped, the reason under
``info["skipped"]``; zero-shot always runs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from headstart.artifacts import Artifact, expect_format, read_artifact, register_format, write_artifact
from headstart.data.series import SeriesCollection
from headstart.errors import DataError
from headstart.forecast.api import fit_forecast
from headstart.forecast.backtest import backtest, baseline_table
from headstart.forecast.baselines import baseline_forecasts
from headstart.forecast.fitted import SeriesForecasts
from headstart.errors import NegativeTransferWarning

FORMAT = "headstart-forecast-baseline/1"
CANDIDATES = ("zeroshot", "finetune")


@dataclass
class BaselineForecaster(SeriesForecasts):
    """A statsforecast baseline, refitted on each series' own history at every forecast."""

    name: str
    horizon: int
    season: int
    info: dict[str, Any] = field(default_factory=dict)
    classes: list[str] | None = None
    task: str = "forecast"
    modality: str = "series"

    def describe(self) -> dict[str, Any]:
        return {"method": f"baseline:{self.name}", "backbone": None, "horizon": self.horizon}

    def quantiles(self, contexts: list[np.ndarray]) -> np.ndarray:
        return np.stack(baseline_forecasts(self.name, contexts, self.horizon, self.season))

    def save(self, path: str | Path) -> Path:
        return write_artifact(path, FORMAT, {"name": self.name, "horizon": self.horizon, "season": self.season, "info": self.info}, {})


def load_baseline_forecaster(source: str | Path | Artifact) -> BaselineForecaster:
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    c = artifact.config
    return BaselineForecaster(c["name"], c["horizon"], c["season"], c["info"])


register_format(FORMAT, load_baseline_forecaster)


def fit_auto_forecast(data: SeriesCollection, backbone: str | None, *, horizon: int, origins: int = 3, **options: Any) -> Any:
    """The best of the baselines and the transferred candidates by back-test MASE (see the module docstring)."""
    table: dict[str, dict[str, float]] = {f"baseline:{k}": v for k, v in baseline_table(data.values, data.season, horizon, origins).items()}
    models: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for method in CANDIDATES:
        try:
            model = fit_forecast(data, backbone, method, horizon=horizon, origins=origins, **options)
        except DataError as error:  # series too short to train on before their held-out origins
            skipped[method] = str(error)
            continue
        models[method] = model
        table[method] = backtest(data.values, data.season, horizon, lambda h, H, m=model: list(m.quantiles(h)), origins)
    best_baseline = min((k for k in table if k.startswith("baseline:")), key=lambda k: table[k]["mase"])
    best_transfer = min(models, key=lambda k: table[k]["mase"])
    if table[best_transfer]["mase"] < table[best_baseline]["mase"]:
        chosen: Any = models[best_transfer]
        decision = (f"Transfer helps: {best_transfer} back-tests at MASE {table[best_transfer]['mase']:.3f}, "
                    f"the best baseline ({best_baseline}) at {table[best_baseline]['mase']:.3f}")
    else:
        chosen = BaselineForecaster(best_baseline.removeprefix("baseline:"), horizon, data.season)
        decision = (f"Transfer does not help: the best baseline ({best_baseline}) back-tests at MASE "
                    f"{table[best_baseline]['mase']:.3f}, the best transferred model ({best_transfer}) at "
                    f"{table[best_transfer]['mase']:.3f}; keeping the baseline")
        warnings.warn(decision, NegativeTransferWarning, stacklevel=2)
    chosen.info.update(decision=decision, backtest=table, skipped=skipped)
    return chosen
