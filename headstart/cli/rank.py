"""``headstart rank``: which backbone, or which depth of one backbone, fits the data best."""

from __future__ import annotations

from typing import Optional

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from headstart.cli.console import (
    LABEL_COL,
    PROGRESS,
    TEXT_COL,
    console,
    print_json,
    say,
)
from headstart.errors import HeadstartError

SCORE_NOTE = "Every score: higher is better (its rank in brackets, 1 = best); rows are ordered by the first."
NOT_APPLICABLE_NOTE = ("n/a: NCE and LEEP score the predictions of the backbone's own pre-trained classifier, at its "
                       "last layer group; a backbone without one (a text encoder such as minilm-l6) has none to score.")


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
        candidate_backbones,
        labelled_data,
        rank_backbones,
        rank_depths,
    )

    dataset = labelled_data(data, shots, seed, text_col, label_col)
    names = split_names(backbones) or candidate_backbones(dataset.modality, dataset)
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
        print_json(payload)
        return
    rows = table.to_rows()
    title = f"Transferability of {names[0]}'s layer groups" if depth else "Transferability"
    console.print(rich_table(rows, table.score_names, f"{title} on {dataset.name} ({table.n_examples} examples)", depth))
    say(SCORE_NOTE)
    if any(row[s] is None for row in rows for s in table.score_names):
        say(NOT_APPLICABLE_NOTE)
    if table.suggested_unfreeze is not None:
        say(f"suggested unfreeze: {table.suggested_unfreeze} layer group(s): {table.reason}")
    say(f"{table.seconds:.1f} s in all (features are cached for the next run)")


def rich_table(rows: list[dict], score_names: tuple[str, ...], title: str, depth: bool) -> Table:
    """Scores with their ranks in brackets; ``n/a`` where a score does not apply. The candidate's
    name (a backbone, or a depth) is never cut; a score's rank may go under its value."""
    table = Table(title=Text(title), box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("depth" if depth else "backbone", no_wrap=True)
    table.add_column("dim", justify="right", no_wrap=True)
    for name in score_names:
        table.add_column(name.replace("_", " "), justify="right", overflow="fold")
    table.add_column("seconds", justify="right", no_wrap=True)
    for row in rows:
        cells = [f"{row[s]:.3g} ({row[f'{s}_rank']})" if row[s] is not None else "n/a" for s in score_names]
        table.add_row(Text(str(row["depth"] if depth else row["backbone"])), str(row["feature_dim"]), *cells,
                      f"{row['seconds']:.2f}")
    return table


def split_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
