"""The report of a forecasting run: the held-out forecast of each series against the statistical
baselines, plotted with its 80 % interval, in one self-contained HTML file.

Each series' last ``horizon`` points are forecast from the points before them (they were held out
of training by the back-test split); seasonal naive, ETS and AutoARIMA forecast the same points
from the same history, so the table compares like with like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headstart.data.series import SeriesCollection
from headstart.forecast.backtest import baseline_table
from headstart.forecast.fitted import held_out_metrics
from headstart.forecast.metrics import HIGH, LOW, MEDIAN
from headstart.report import plots
from headstart.report.html import REPORT_FILE, _figure, _page, _recipe_section, _save_png, _table

SCORES = ("mase", "smape", "quantile_loss", "coverage")


def write_forecast_report(model: Any, series: SeriesCollection, out_dir: str | Path, *, title: str | None = None) -> Path:
    """Forecast each series' last ``model.horizon`` points, compare with the baselines and write
    ``out_dir/report.html`` (and ``forecasts.png``)."""
    horizon = model.horizon
    history, truth = series.truncated(horizon), series.tail(horizon)
    q = model.quantiles(list(history.values))
    ours = held_out_metrics(series, q)  # the same forecasts as the plot: one pass
    baselines = baseline_table(series.values, series.season, horizon, origins=1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figure = plots.forecast_panels(series.ids, history.values, truth.values, q, LOW, MEDIAN, HIGH)
    images = {"forecasts": _save_png(figure, out / "forecasts.png")}
    described = model.describe()
    rows = [[f"{described['method']} ({described.get('backbone') or 'baseline'})", *(f"{ours[k]:.3f}" for k in SCORES)]]
    rows += [[name, *(f"{scores[k]:.3f}" for k in SCORES)] for name, scores in baselines.items()]
    best = min(baselines, key=lambda name: baselines[name]["mase"])
    change = ours["mase"] / baselines[best]["mase"] - 1
    headline = (f"MASE {ours['mase']:.3f} on the last {horizon} points of {len(series)} series: "
                f"{abs(change):.0%} {'better' if change < 0 else 'worse'} than the best baseline ({best}, {baselines[best]['mase']:.3f}).")
    per_series = [[sid, *(f"{m[k]:.3f}" for k in SCORES)] for sid, m in list(ours["per_series"].items())[:50]]
    sections = [
        ("Forecasts", _figure(images, "forecasts")),
        ("Against the baselines", _table(["model", *SCORES], rows)
         + "<p>MASE: mean absolute error over the in-sample seasonal naive error (below 1 beats it); quantile loss: "
           "mean pinball loss of the nine quantiles; coverage: share of truths inside the 80 % interval.</p>"),
        ("Per series", _table(["series", *SCORES], per_series)),
        ("Recipe", _recipe_section(model)),
    ]
    if "backtest" in model.info:
        sections.insert(2, ("Back-test of auto", _table(["model", *SCORES], [
            [name, *(f"{s[k]:.3f}" if isinstance(s.get(k), float) else "" for k in SCORES)] for name, s in model.info["backtest"].items()])))
    path = out / REPORT_FILE
    path.write_text(_page(title or f"{described['method']} forecaster of {series.name}", headline, sections), encoding="utf-8")
    return path
