"""The forecasting side of ``headstart fit``, ``predict`` and ``evaluate`` (``--task forecast``).

A forecasting run reads a collection of series (a catalogue name such as ``airline``, or a CSV /
Parquet file in long ``series_id,timestamp,value`` or wide layout), back-tests on the last
``--origins`` windows of ``--horizon`` points and saves a forecaster that ``predict`` and
``evaluate`` open like any other run.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from rich.table import Table

from headstart.cli.console import console, print_json
from headstart.errors import HeadstartError

if TYPE_CHECKING:
    from headstart.fitted import FittedModel

SCORES = ("mase", "smape", "quantile_loss", "coverage")


def fit_forecast_run(data: str, out: Path, backbone: Optional[str], method: str, horizon: Optional[int],
                     freq: Optional[str], origins: int, options: dict[str, Any], progress: bool) -> None:
    """Train a forecaster of the series in ``data`` and write its artifact to ``out``."""
    import headstart
    from headstart.data.series import load_series
    from headstart.errors import NegativeTransferWarning

    if horizon is None or horizon < 1:
        raise HeadstartError("--task forecast needs --horizon H, the number of future points to forecast (H >= 1)")
    series = load_series(data, freq=freq) if freq else load_series(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NegativeTransferWarning)
        model = headstart.fit(series, backbone=backbone, method=method, task="forecast", horizon=horizon,
                              origins=origins, progress=progress, **options)
    model.save(out)
    console.print(f"{method} forecaster of {len(series)} series ({series.name}), horizon {horizon}: "
                  f"back-tested on the last {origins} origins", style="bold", markup=False, highlight=False)
    if "backtest" in model.info:
        console.print(backtest_table(model.info["backtest"]))
    for warning in caught:
        console.print(f"warning: {warning.message}", style="yellow", markup=False, highlight=False)
    console.print(f"artifact: {out}", markup=False, highlight=False)
    from headstart.report.forecast import write_forecast_report

    report = write_forecast_report(model, series, out)
    console.print(f"report: {report}", markup=False, highlight=False)


def backtest_table(rows: dict[str, dict[str, float]]) -> Table:
    """The back-test of ``auto`` (candidate → scores): one row per candidate."""
    table = Table(title="back-test (lower MASE is better)")
    table.add_column("model")
    for key in SCORES:
        table.add_column(key, justify="right")
    for name, scores in rows.items():
        table.add_row(str(name), *(f"{scores[key]:.3f}" if isinstance(scores.get(key), float) else "" for key in SCORES))
    return table


def predict_forecast(model: FittedModel, inputs: list[str], out_file: Optional[Path], freq: Optional[str]) -> None:
    """The next ``horizon`` points of every series in ``inputs[0]`` as CSV on stdout or in ``out_file``."""
    frame = model.predict(_series(inputs, freq))
    if out_file is None:
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_csv(out_file, index=False)
        console.print(f"{len(frame):,} forecast rows written to {out_file}", markup=False, highlight=False)


def evaluate_forecast(model: FittedModel, data: str, freq: Optional[str], json_out: bool) -> None:
    """MASE, sMAPE, mean quantile loss and 80 % coverage of forecasting each series' last
    ``horizon`` points from the points before them."""
    metrics = model.evaluate(_series([data], freq))
    if json_out:
        print_json(metrics)
        return
    table = Table(title=f"Forecast of the last {model.horizon} points of each series in {data}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in SCORES:
        table.add_row(key, f"{metrics[key]:.4f}")
    console.print(table)


def _series(inputs: list[str], freq: Optional[str]) -> Any:
    from headstart.data.series import load_series

    if len(inputs) != 1:
        raise HeadstartError(f"a forecaster reads one file or catalogue name of series, not {len(inputs)} inputs")
    return load_series(inputs[0], freq=freq) if freq else load_series(inputs[0])
