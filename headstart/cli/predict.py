"""``headstart predict RUN INPUT...``: labels for images, texts, a file of texts or folders of files."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from headstart.cli.console import RUN_TEXT_COL, TASK, print_json


def predict(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit`."),
    inputs: list[str] = typer.Argument(..., help="Image files, texts, one CSV/TSV/JSONL/TXT file of texts, or folders "
                                       "(every image, or every .txt file, under them)."),
    text_col: Optional[str] = RUN_TEXT_COL,
    json_out: bool = typer.Option(False, "--json", help="Print the predictions as JSON instead of CSV."),
    task: Optional[str] = TASK,
) -> None:
    """Predict labels (with their probability) for images, texts, a file of texts or folders.

    Writes CSV to stdout (input, label, probability), one row per input; a file's input is its path.

    Example: headstart predict runs/bbc "Shares fell sharply after the results" "The striker scored twice"
    """
    import headstart
    from headstart.data.sources import read_inputs
    from headstart.fitted import data_columns

    model = headstart.load(run, task=task)
    named = read_inputs(inputs, model.modality, data_columns(model, text_col)[0])
    prediction = model.predict(named.items)
    rows = [{"input": name, "label": label, "probability": _probability(model.task, probs)}
            for name, label, probs in zip(named.names, prediction.labels, prediction.probabilities)]
    if json_out:
        print_json(rows)
        return
    writer = csv.DictWriter(sys.stdout, ["input", "label", "probability"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        label = "|".join(row["label"]) if isinstance(row["label"], list) else row["label"]
        writer.writerow(row | {"label": label, "probability": "" if row["probability"] is None else f"{row['probability']:.4f}"})


def _probability(task: str, probs: Any) -> float | None:
    """The predicted class's probability; ``None`` where there is no single one (multilabel, regression)."""
    return round(float(probs.max()), 4) if task == "classification" else None
