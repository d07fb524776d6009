"""``headstart report RUN``: evaluate a saved run and write its HTML report into the run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import RUN_LABEL_COL, RUN_TEXT_COL, TASK, say
from headstart.errors import HeadstartError
from headstart.report import EVAL_DATA_KEY


def report(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit` or `headstart demo`."),
    data: Optional[str] = typer.Option(
        None, help="Labelled held-out data (image folder, CSV/TSV/JSONL file or catalogue name); "
        "default: the held-out data the run recorded."
    ),
    text_col: Optional[str] = RUN_TEXT_COL,
    label_col: Optional[str] = RUN_LABEL_COL,
    task: Optional[str] = TASK,
) -> None:
    """Write RUN/report.html, a self-contained page on how the saved run does on held-out data.

    Sections: recipe, data, learning curves, confusion matrix, per-class scores, calibration,
    comparison with other runs, feature map, and the most confidently wrong examples.

    Example: headstart report runs/demo --data bbc_news:test
    """
    import headstart
    from headstart.data.sources import load_data
    from headstart.fitted import data_columns
    from headstart.report import write_report

    fitted = headstart.load(run, task=task)
    spec = data or fitted.info.get(EVAL_DATA_KEY)
    if spec is None:
        raise HeadstartError(f"{run}: the run recorded no held-out data; pass it with --data")
    text_col, label_col = data_columns(fitted, text_col, label_col)
    eval_data = load_data(spec, text_col=text_col, label_col=label_col, task=fitted.task)
    path = write_report(fitted, eval_data, run, comparison=fitted.info.get("comparison"))
    say(f"report: {path}")
