"""``headstart fit DATA --out RUN``: train a transfer model (or, with ``--tasks``, a multi-task one)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from headstart.cli.console import (
    LABEL_COL,
    PROGRESS,
    SEED,
    TEXT_COL,
    console,
    parse_set,
    print_metrics,
)
from headstart.cli.multitask import run_multitask
from headstart.errors import HeadstartError
from headstart.report import EVAL_DATA_KEY


def fit(
    data: Optional[str] = typer.Argument(None, help="Image folder, CSV/TSV/JSONL file, or catalogue name (e.g. bbc_news:train)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: the artifact, checkpoints and logs go here."),
    tasks_file: Optional[Path] = typer.Option(
        None, "--tasks", help="Multi-task run instead of DATA: a TOML or YAML file of [[tasks]] (see `headstart multitask --help`)."),
    backbone: Optional[str] = typer.Option(
        None, help="Registered backbone (see `headstart backbones`) or a local model folder; default minilm-l6 for text, "
        "efficientnet-lite0 for images (with --method auto: the only candidate)."),
    method: Optional[str] = typer.Option(None, help="probe (default) | finetune | lora | scratch | auto"),
    unfreeze: Optional[str] = typer.Option(None, help="finetune: train the last K layer groups, or 'all'."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (default: chosen from the data size)."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate of the backbone (default per method and modality)."),
    shots: Optional[int] = typer.Option(None, help="Keep K examples per class (few-shot run)."),
    val: Optional[str] = typer.Option(None, help="Validation data (default: a stratified 20% split when there is enough)."),
    task: str = typer.Option("classification", help="classification | multilabel | regression"),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    seed: int = SEED,
    bf16: bool = typer.Option(False, help="bfloat16 autocast (about 2x faster on CPU)."),
    devices: int = typer.Option(1, help="Processes for data-parallel training (DDP over gloo on CPU)."),
    resume: Optional[Path] = typer.Option(None, help="Continue from a checkpoint (e.g. RUN/checkpoints/last.ckpt)."),
    set_: list[str] = typer.Option([], "--set", help="Any other recipe option as key=value, e.g. --set l2sp=0.01 --set gradual=2."),
    progress: bool = PROGRESS,
) -> None:
    """Train a transfer model and write its artifact folder.

    Example: headstart fit bbc_news:train --backbone minilm-l6 --method probe --shots 8 --out runs/bbc

    Several tasks on one backbone: headstart fit --tasks tasks.toml --method finetune --out runs/multi
    """
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    import headstart

    options = parse_set(set_)
    options.update({k: v for k, v in dict(unfreeze=unfreeze, epochs=epochs, lr=lr).items() if v is not None})
    if tasks_file is not None:
        if data is not None:
            raise HeadstartError("give DATA for one task or --tasks FILE for several, not both")
        run_multitask(tasks_file, out, backbone, method, {"seed": seed, "bf16": bf16, **options}, progress)
        return
    if data is None:
        raise HeadstartError("DATA is missing: an image folder, a CSV/TSV/JSONL file or a catalogue name (or --tasks FILE)")
    method = method or "probe"
    model = headstart.fit(
        data, backbone=backbone, method=method, val=val, shots=shots, out=out, resume=resume, progress=progress,
        text_col=text_col, label_col=label_col, task=task, seed=seed, bf16=bf16, devices=devices, **options,
    )
    if rank_zero_only.rank != 0:  # DDP workers re-run this command; only rank 0 writes and prints
        return
    if val is not None:
        model.info[EVAL_DATA_KEY] = val  # `headstart report RUN` re-evaluates on it
    model.save(out)
    info = model.info
    chosen = f"{model.recipe.method}[/] on {model.recipe.backbone}" if isinstance(model, headstart.Transferred) else f"{model.name}[/]"
    console.print(f"[bold]{chosen}: {info['n_train']} training examples, "
                  f"{info['trainable_params']:,} trainable parameters, {info['train_seconds']:.1f} s")
    if "val_metrics" in info:
        print_metrics(info["val_metrics"], "validation")
    console.print(f"artifact: {out}")
    if isinstance(model, headstart.Transferred) and model.task == "classification":  # auto may keep a baseline
        from headstart.data.sources import load_data
        from headstart.report import write_report

        held_out = val is not None
        data_spec = val if held_out else data
        report_data = load_data(data_spec, text_col=text_col, label_col=label_col, task=task)
        title = None if held_out else f"Evaluated on {data}, training examples included (pass --val for held-out numbers)"
        console.print(f"report: {write_report(model, report_data, out, title=title)}")
