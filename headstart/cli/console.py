"""What the commands share: the rich consoles, tables of metrics, ``--set key=value`` parsing and
the options that read the same everywhere."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from headstart.errors import HeadstartError

console = Console()
err_console = Console(stderr=True)
plain_console = Console(emoji=False)  # data names like 'digits:train:10-shot' hold :train:, not emoji codes

TEXT_COL = typer.Option("text", help="Text column of a CSV/TSV/JSONL file.")
LABEL_COL = typer.Option("label", help="Label column of a CSV/TSV/JSONL file.")
PROGRESS = typer.Option(True, help="Show progress bars.")
SEED = typer.Option(0, help="Random seed: the same seed gives the same model.")
TASK = typer.Option(None, "--task", help="Multi-task runs: the task to use (default: the only one, or for evaluate the one whose classes match the data).")


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table whose first column (the name to type) never wraps; the others fold."""
    table = Table(title=title)
    table.add_column(columns[0], no_wrap=True, min_width=max(len(r[0]) for r in rows))
    for column in columns[1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def parse_set(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` options; values parsed as JSON when they can be (numbers, true, lists)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise HeadstartError(f"--set expects key=value, got {pair!r}")
        try:
            options[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.replace("-", "_")] = value
    return options


def print_metrics(metrics: dict[str, Any], title: str) -> None:
    """The scalar metrics, then the per-class report when there is one."""
    table = Table(title=f"Metrics on {title}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.4f}")
    console.print(table)
    per_class = metrics.get("per_class")
    if per_class:
        detail = Table(title="Per class")
        for column in ("class", "precision", "recall", "f1", "support"):
            detail.add_column(column, justify="right")
        for name, row in per_class.items():
            if isinstance(row, dict) and name not in ("macro avg", "weighted avg"):
                detail.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1-score']:.3f}", str(int(row["support"])))
        console.print(detail)
