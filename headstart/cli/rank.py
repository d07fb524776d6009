"""``headstart rank``: which backbone, or which depth of one backbone, fits the data best."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from headstart.cli.console import LABEL_COL, PROGRESS, TEXT_COL, plain_console
from headstart.errors import HeadstartError


def rank(
    data: str = typer.Argument(..., help="Labelled data: image folder, CSV/TSV/JSONL file or catalogue name."),
    backbones: str = typer.Option("", help="Comma-separated backbones (default: every installed one of the data's modality)."),
    depth: bool = typer.Option(False, "--depth", help="Rank the layer groups of one backbone; suggests how many to unfreeze."),
    shots: Optional[int] = typer.Option(None, help="Score K examples per class (faster on large data)."),
    scores: str = typer.Option("", help="Comma-separated scores (default: logme,hscore_shrinkage,nce,leep; with --depth logme,hscore_shrinkage)."),
    seed: int = typer.Option(0, help="Seed of the K-shot sample."),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    json_out: bool = typer.Option(False, "--json", help="Print the table as JSON rows."),
    progress: bool = PROGRESS,
) -> None:
    """Rank backbones (or one backbone's layer groups) by transferability scores, before any training.

    Features are extracted once and cached, so a second ranking of the same data takes seconds.

    Example: headstart rank bbc_news --backbones minilm-l6 --shots 16
    """
    from headstart.select.rank import (
        DEFAULT_SCORES,
        DEPTH_SCORES,
        installed_backbones,
        labelled_data,
        rank_backbones,
        rank_depths,
    )

    dataset = labelled_data(data, shots, seed, text_col, label_col)
    names = split_names(backbones) or installed_backbones(dataset.modality)
    chosen_scores = split_names(scores) or (DEPTH_SCORES if depth else DEFAULT_SCORES)
    if depth:
        if len(names) > 1 and backbones:
            raise HeadstartError(f"--depth ranks the layer groups of one backbone; got {len(names)}: {backbones}")
        table = rank_depths(dataset, names[0], scores=chosen_scores, progress=progress)
    else:
        table = rank_backbones(dataset, names, scores=chosen_scores, progress=progress)
    if json_out:
        payload = {"rows": table.to_rows(), "suggested_unfreeze": table.suggested_unfreeze, "reason": table.reason,
                   "n_examples": table.n_examples, "seconds": table.seconds}
        plain_console.print_json(json.dumps(payload))
        return
    plain_console.print(rich_table(table.to_rows(), table.score_names, f"Transferability on {dataset.name} ({table.n_examples} examples)"))
    if table.suggested_unfreeze is not None:
        plain_console.print(f"suggested unfreeze: {table.suggested_unfreeze} layer group(s): {table.reason}")
    plain_console.print(f"{table.seconds:.1f} s in all (features are cached for the next run)")


def rich_table(rows: list[dict], score_names: tuple[str, ...], title: str) -> Table:
    """Scores with their ranks in brackets; ``n/a`` where a score does not apply."""
    table = Table(title=Text(title))
    for column in ("backbone", "depth", "dim", *score_names, "seconds"):
        table.add_column(column, justify="left" if column == "backbone" else "right")
    for row in rows:
        cells = [f"{row[s]:.4g} ({row[f'{s}_rank']})" if row[s] is not None else "n/a" for s in score_names]
        table.add_row(row["backbone"], str(row["depth"]), str(row["feature_dim"]), *cells, f"{row['seconds']:.2f}")
    return table


def split_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
