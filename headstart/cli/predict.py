"""``headstart predict RUN INPUT...``: labels for images, texts or a file of texts."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import TASK


def predict(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit`."),
    inputs: list[str] = typer.Argument(..., help="Image files, texts, or one CSV/TSV/JSONL/TXT file of texts."),
    text_col: str = typer.Option("text", help="Text column when INPUT is a CSV/TSV/JSONL file."),
    task: Optional[str] = TASK,
) -> None:
    """Predict labels (with their probability) for images, texts or a file of texts.

    Example: headstart predict runs/bbc "Shares fell sharply after the results" "The striker scored twice"
    """
    import headstart
    from headstart.data.sources import read_inputs

    model = headstart.load(run, task=task)
    items = read_inputs(inputs, model.modality, text_col)
    prediction = model.predict(items)
    for item, label, probs in zip(items, prediction.labels, prediction.probabilities):
        shown = str(item) if len(str(item)) <= 60 else str(item)[:57] + "..."
        score = f"{probs.max():.3f}" if model.task == "classification" else ""
        typer.echo(f"{label}\t{score}\t{shown}")  # tab-separated: easy to pipe
