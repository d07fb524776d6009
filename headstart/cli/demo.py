"""``headstart demo``: baseline, scratch, probe and finetune on the same few labels (``headstart.demo``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import PROGRESS, plain_console
from headstart.demo import DEFAULT_DATASET, comparison_table, run_demo


def demo(
    dataset: str = typer.Option(DEFAULT_DATASET, help="Catalogue dataset (see `headstart datasets`); its fixed test split is used."),
    data: Optional[str] = typer.Option(None, help="Your own image folder or CSV/TSV/JSONL file instead (20% held out for testing)."),
    backbone: Optional[str] = typer.Option(None, help="Backbone (default: minilm-l6 for text, efficientnet-lite0 for images)."),
    shots: int = typer.Option(8, help="Labelled training examples per class."),
    seed: int = typer.Option(0, help="Random seed (which examples are drawn, initial weights)."),
    quick: bool = typer.Option(False, "--quick", help="Fewer epochs, shorter texts and a 100-example test subset: about a minute."),
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Where the best run's artifact and report go."),
    text_col: str = typer.Option("text", help="Text column of your CSV/TSV/JSONL file."),
    label_col: str = typer.Option("label", help="Label column of your CSV/TSV/JSONL file."),
    progress: bool = PROGRESS,
) -> None:
    """Show transfer learning at work: baseline, scratch, probe and finetune on the same few labels.

    Example: headstart demo --quick
    """
    with warnings.catch_warnings():  # libraries' deprecation notices say nothing about the user's data
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"sklearn\.")
        warnings.filterwarnings("ignore", module=r"lightning\.")
        result = run_demo(
            dataset, data=data, backbone=backbone, shots=shots, seed=seed, quick=quick, out=out,
            text_col=text_col, label_col=label_col, progress=progress, say=lambda line: plain_console.print(line, markup=False, highlight=False),
        )
    plain_console.print(comparison_table(result.rows, result.best))
    plain_console.print(result.verdict, markup=False, highlight=False)
    plain_console.print(f"best run ({result.best}): {result.artifact}\nreport: {result.report}", highlight=False)
