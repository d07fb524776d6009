"""``headstart fit DATA --out RUN``: train a transfer model (or, with ``--tasks``, a multi-task one)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

import typer
from rich.markup import escape
from rich.table import Table

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

if TYPE_CHECKING:
    from headstart.data.dataset import Dataset
    from headstart.fitted import FittedModel


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
    task: str = typer.Option("classification", help="classification | multilabel | regression | forecast (series: "
                             "give --horizon)"),
    horizon: Optional[int] = typer.Option(None, help="forecast: future points to forecast per series."),
    freq: Optional[str] = typer.Option(None, help="forecast: the series' frequency as a pandas alias (D, W, MS, QS, YS…); "
                                       "default inferred from the timestamps."),
    origins: int = typer.Option(3, help="forecast: rolling origins held out for back-testing (the last ORIGINS x HORIZON points)."),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    seed: int = SEED,
    bf16: bool = typer.Option(False, help="bfloat16 autocast (about 2x faster on CPU)."),
    devices: int = typer.Option(1, help="Processes for data-parallel training (DDP over gloo on CPU)."),
    resume: Optional[Path] = typer.Option(None, help="Continue a run that stopped: its run folder (RUN, its latest checkpoint) or a checkpoint file."),
    set_: list[str] = typer.Option([], "--set", help="Any other recipe option as key=value, e.g. --set l2sp=0.01 --set gradual=2."),
    progress: bool = PROGRESS,
) -> None:
    """Train a transfer model and write its artifact folder.

    Example: headstart fit bbc_news:train --backbone minilm-l6 --method probe --shots 8 --out runs/bbc

    Several tasks on one backbone: headstart fit --tasks tasks.toml --method finetune --out runs/multi

    Forecasting: headstart fit series.csv --task forecast --horizon 14 --method auto --out runs/sales
    """
    import headstart
    from headstart.data.sources import training_spec
    from headstart.errors import NegativeTransferWarning
    from headstart.select.auto import explanation_rows

    options = parse_set(set_)
    options.update({k: v for k, v in dict(unfreeze=unfreeze, epochs=epochs, lr=lr).items() if v is not None})
    if tasks_file is not None:
        if data is not None:
            raise HeadstartError("give DATA for one task or --tasks FILE for several, not both")
        run_multitask(tasks_file, out, backbone, method, {"seed": seed, "bf16": bf16, **options}, progress)
        return
    if data is None:
        raise HeadstartError("DATA is missing: an image folder, a CSV/TSV/JSONL file or a catalogue name (or --tasks FILE)")
    if task == "forecast":
        from headstart.cli.forecast import fit_forecast_run

        fit_forecast_run(data, out, backbone, method or "finetune", horizon, freq, origins,
                         {"seed": seed, **options}, progress)
        return
    method = method or "probe"
    spec = training_spec(data)
    if spec != data:
        console.print(f"{data} is a catalogue dataset: training on its training split {spec} (its test split stays held out)",
                      markup=False, highlight=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NegativeTransferWarning)
        model = headstart.fit(
            spec, backbone=backbone, method=method, val=val, shots=shots, out=out, resume=resume, progress=progress,
            text_col=text_col, label_col=label_col, task=task, seed=seed, bf16=bf16, devices=devices, **options,
        )
    from lightning.fabric.utilities.rank_zero import rank_zero_only  # after fit: a bad input is refused without importing Lightning

    if rank_zero_only.rank != 0:  # DDP workers re-run this command; only rank 0 writes and prints
        return
    report_on = _report_data(spec, val, model, seed, text_col, label_col, task) if model.task == "classification" else None
    if report_on is not None and report_on.spec is not None:
        model.info[EVAL_DATA_KEY] = report_on.spec  # `headstart report RUN` re-evaluates on it
    model.save(out)
    _print_summary(model)
    if "auto" in model.info:
        console.print(auto_table(model.info))
    for warning in caught:
        if issubclass(warning.category, NegativeTransferWarning):
            console.print(f"warning: {warning.message}", style="yellow", markup=False, highlight=False)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    if "val_metrics" in model.info:
        print_metrics(model.info["val_metrics"], "validation")
    console.print(f"artifact: {out}", markup=False, highlight=False)
    if report_on is not None:
        from headstart.report import evaluate_run, write_report

        evaluation = evaluate_run(model, report_on.data, progress=progress)
        note = model.info.get("decision")
        comparison = explanation_rows(model.info) if "auto" in model.info else None
        path = write_report(model, report_on.data, out, title=report_on.title, evaluation=evaluation, comparison=comparison, note=note)
        console.print(f"report: {path}", markup=False, highlight=False)


class ReportData(NamedTuple):
    """What a run's report is evaluated on, its title, and the ``load_data`` spec of held-out data
    that ``headstart report RUN`` re-evaluates on (a catalogue test split, the given ``--val``)."""

    data: Dataset
    title: str | None
    spec: str | None


def _report_data(spec: str, val: str | None, model: FittedModel, seed: int, text_col: str, label_col: str, task: str) -> ReportData:
    """Held-out data for the report, never the examples trained on when there is any: the given
    ``--val``; else the unused rest of a K-shot pool (at most ``HELD_OUT_LIMIT`` drawn at random);
    else a catalogue training split's test split (as many); else the run's validation split; else,
    said in the title, the training data."""
    from headstart.data.catalogue import catalogue_names
    from headstart.data.sources import load_data
    from headstart.data.splits import bounded_sample
    from headstart.transfer import HELD_OUT_LIMIT, held_out_examples

    def load(what: str) -> Dataset:
        return load_data(what, text_col=text_col, label_col=label_col, task=task)

    if val is not None:
        return ReportData(load(val), None, val)
    name, _, split = spec.partition(":")
    test_split = f"{name}:test" if split == "train" and name in catalogue_names() and not Path(spec).exists() else None
    info = model.info
    if info.get("shots") or (info.get("val_fraction") and test_split is None):
        held_out = held_out_examples(load(spec), info, seed)
        if held_out is not None:
            kind = "unused examples" if info.get("shots") else "validation split"
            return ReportData(held_out, f"Evaluated on {len(held_out):,} held-out examples of {spec} ({kind}, never trained on)",
                              test_split)
    if test_split is not None:
        test = bounded_sample(load(test_split), HELD_OUT_LIMIT, seed)
        return ReportData(test, f"Evaluated on {len(test):,} examples of {test_split} (at most {HELD_OUT_LIMIT})", test_split)
    return ReportData(load(spec), f"Evaluated on {spec}, the training examples (no held-out data: pass --val for held-out numbers)", None)


def _print_summary(model: FittedModel) -> None:
    """One line: what was trained, on how many examples, validated on how many, its size and time."""
    import headstart

    info = model.info
    chosen = f"{model.recipe.method} on {model.recipe.backbone}" if isinstance(model, headstart.Transferred) else model.name
    validated = f"validated on {info['n_val']:,}" if info.get("n_val") else "no validation data"
    if "auto" in info:
        validation = info["auto"]["validation"]
        validated = f"chosen by {validation['protocol']} on {validation['n_validated']:,}"
    console.print(f"{chosen}: trained on {info['n_train']:,} examples, {validated}, "
                  f"{info['trainable_params']:,} trainable parameters, {info['train_seconds']:.1f} s",
                  style="bold", markup=False, highlight=False)


def auto_table(info: dict[str, Any]) -> Table:
    """``auto``'s reasoning (``explanation_rows``) as a table that stays readable at 80 columns."""
    from headstart.select.auto import explanation_caption, explanation_rows

    table = Table(title="auto: what was compared", caption=explanation_caption(info), caption_justify="left")
    rows = explanation_rows(info)
    for key in rows[0]:
        table.add_column(key, justify="left" if key in ("method", "backbone") else "right", overflow="fold")
    for row in rows:
        table.add_row(*(escape(value) for value in row.values()), style="bold" if row["kept"] else None)
    return table
