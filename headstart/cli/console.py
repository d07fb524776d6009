"""What the commands share: the rich consoles, tables of metrics, ``--set key=value`` parsing and
the options that read the same everywhere.

User data and names (paths, class names, dataset names like ``digits:train``) are printed as they
are: no console turns ``:train:`` into an emoji, and data goes to tables and lines as ``Text`` or
with ``markup=False``, so ``[x]`` is never read as markup."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from headstart.errors import HeadstartError

if TYPE_CHECKING:
    from headstart.fitted import Prediction

console = Console(emoji=False)  # data names like 'digits:train:10-shot' hold :train:, not emoji codes
err_console = Console(stderr=True, emoji=False)
plain_console = console  # the name headstart.cli.demo prints with (one console for all)

TEXT_COL = typer.Option("text", help="Text column of a CSV/TSV/JSONL file.")
LABEL_COL = typer.Option("label", help="Label column of a CSV/TSV/JSONL file.")
# Commands that read data for a saved model: default to the columns it was trained on.
RUN_TEXT_COL = typer.Option(None, "--text-col", help="Text column of a CSV/TSV/JSONL file (default: the model's, else text).")
RUN_LABEL_COL = typer.Option(None, "--label-col", help="Label column of a CSV/TSV/JSONL file (default: the model's, else label).")
PROGRESS = typer.Option(True, help="Show progress bars.")
SEED = typer.Option(0, help="Random seed: the same seed gives the same model.")
TASK = typer.Option(None, "--task", help="Multi-task runs: the task to use (default: the only one, or for evaluate the one whose classes match the data).")


def print_table(title: str, rows: list[dict[str, Any]], wrap: tuple[str, ...] = (), json_out: bool = False) -> None:
    """Rows (column -> JSON value) as a table, or with ``json_out`` as a JSON list for machines.

    Columns never wrap (names are printed whole, headers never break), except those in ``wrap``:
    free text that wraps at spaces, breaking a word only when it is longer than the column."""
    if json_out:
        print_json(rows)
        return
    table = Table(title=Text(title), box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for column in rows[0] if rows else ():
        table.add_column(column, overflow="fold", no_wrap=column not in wrap, ratio=1 if column in wrap else None)
    for row in rows:
        table.add_row(*(Text(str(value)) for value in row.values()))
    console.print(table)


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout, whatever the terminal."""
    typer.echo(json.dumps(value, indent=2))


def print_predictions(names: list[str], prediction: Prediction, task: str, json_out: bool = False) -> None:
    """One row per input (its name, the label, the label's probability) as CSV on stdout, or as JSON.

    Multilabel labels are joined by ``|``; the probability is empty unless the task is classification."""
    rows = [{"input": name, "label": label, "probability": round(float(probs.max()), 4) if task == "classification" else None}
            for name, label, probs in zip(names, prediction.labels, prediction.probabilities)]
    if json_out:
        print_json(rows)
        return
    writer = csv.DictWriter(sys.stdout, ["input", "label", "probability"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        label = "|".join(row["label"]) if isinstance(row["label"], list) else row["label"]
        writer.writerow(row | {"label": label, "probability": "" if row["probability"] is None else f"{row['probability']:.4f}"})


def say(line: str) -> None:
    """Print one line of plain text: no markup, emoji or highlighting."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


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
    table = Table(title=Text(f"Metrics on {title}"))
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
                detail.add_row(Text(name), f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1-score']:.3f}", str(int(row["support"])))
        console.print(detail)
    if metrics.get("absent_classes"):
        console.print(f"no examples of {', '.join(metrics['absent_classes'])} in {title}: macro-F1 averages the classes present",
                      markup=False, highlight=False)
