"""``headstart evaluate RUN DATA``: metrics of a saved run on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import RUN_LABEL_COL, RUN_TEXT_COL, TASK, print_json, print_metrics


def evaluate(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit`."),
    data: str = typer.Argument(..., help="Labelled data: image folder, CSV/TSV/JSONL file or catalogue name."),
    json_out: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    text_col: Optional[str] = RUN_TEXT_COL,
    label_col: Optional[str] = RUN_LABEL_COL,
    task: Optional[str] = TASK,
    freq: Optional[str] = typer.Option(None, help="Forecasters: the series' frequency (default inferred)."),
) -> None:
    """Evaluate a trained model on labelled data: accuracy, macro-F1, per-class report.

    A forecaster scores its forecast of each series' last horizon points from the points before
    them: MASE, sMAPE, mean quantile loss and 80 % coverage.

    Example: headstart evaluate runs/bbc bbc_news:test
    """
    import headstart

    model = headstart.load(run, task=task)
    if model.task == "forecast":
        from headstart.cli.forecast import evaluate_forecast

        return evaluate_forecast(model, data, freq, json_out)
    metrics = model.evaluate(data, text_col=text_col, label_col=label_col, progress=True)
    if json_out:
        print_json(metrics)
    else:
        print_metrics(metrics, str(data))
