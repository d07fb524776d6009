"""``headstart multitask TASKS.toml --out RUN``: train one backbone on several tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from headstart.cli.console import PROGRESS, console, parse_set, print_json, say


def multitask(
    tasks_file: Path = typer.Argument(..., help="TOML (or YAML) file: run settings, then one [[tasks]] table per task."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: the artifact, checkpoints and logs go here."),
    backbone: Optional[str] = typer.Option(None, help="Backbone (overrides the file; default minilm-l6)."),
    method: Optional[str] = typer.Option(None, help="probe | finetune | lora | scratch (overrides the file; default probe)."),
    set_: list[str] = typer.Option([], "--set", help="Any other setting as key=value, e.g. --set weighting=uncertainty."),
    progress: bool = PROGRESS,
    json_out: bool = typer.Option(False, "--json", help="Print the per-task rows as JSON."),
) -> None:
    """Train one shared backbone with one head per task and write the multi-task artifact.

    The file lists the tasks ([[tasks]] with name, data, and optionally task, text_col,
    label_col, shots, val, weight) and settings such as sampling, weighting, hidden, epochs.
    Load the result with headstart.multitask.load_multitask(RUN) and predict with task=NAME.

    Example: headstart multitask tasks.toml --out runs/multitask --method finetune --set unfreeze=2
    """
    run_multitask(tasks_file, out, backbone, method, parse_set(set_), progress, json_out)


def run_multitask(
    tasks_file: Path, out: Path, backbone: str | None, method: str | None, options: dict[str, Any], progress: bool,
    json_out: bool = False,
) -> None:
    """Train, save to ``out`` and print one row per task (``headstart multitask`` and ``fit --tasks``)."""
    from headstart import tasks
    from headstart.multitask.api import fit_multitask

    fitted = fit_multitask(tasks_file, backbone, method, out=out, progress=progress, **options)
    fitted.save(out)
    rows = []
    for task in fitted.tasks:
        metrics = fitted.info["val_metrics"].get(task.name)
        score = dict(zip(("metric", "value"), tasks.headline(task.kind, metrics))) if metrics else {}
        rows.append({"task": task.name, "kind": task.kind, "train": fitted.info["n_train"][task.name],
                     "validation": fitted.info["n_val"][task.name], "weight": round(fitted.task_weights()[task.name], 4),
                     "validation score": score})
    if json_out:
        print_json({"method": fitted.recipe.method, "backbone": fitted.recipe.backbone, "tasks": rows, "artifact": str(out)})
        return
    table = Table(title=Text(f"{fitted.recipe.method} on {fitted.recipe.backbone}: {fitted.info['train_seconds']:.1f} s"))
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        score = row["validation score"]
        table.add_row(Text(row["task"]), row["kind"], str(row["train"]), str(row["validation"]), f"{row['weight']:.3f}",
                      f"{score['metric']} {score['value']:.3f}" if score else "")
    console.print(table)
    say(f"artifact: {out}")
