"""The ``headstart`` command. Every sub-command's ``--help`` shows an example that runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from headstart.errors import HeadstartError

app = typer.Typer(
    help="Offline-first transfer learning: choose a pre-trained model, transfer it, prove it helped.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


@app.command()
def backbones() -> None:
    """List the pre-trained backbones: modality, size, features, where the weights come from.

    Example: headstart backbones
    """
    from headstart.zoo import list_backbones

    entries = list_backbones()
    rows = [[e.name, e.modality, f"{e.num_params / 1e6:.1f} M", str(e.feature_dim), e.source, "yes" if e.installed() else "no"]
            for e in entries]
    _print_table("Backbones", ["name", "modality", "parameters", "features", "weights from", "installed"], rows)


@app.command()
def datasets() -> None:
    """List the catalogue of real datasets (fetched from the package registry on first use).

    Example: headstart datasets
    """
    from headstart.data.catalogue import list_datasets

    rows = [[d.name, d.modality, str(d.size), str(len(d.classes)), d.licence, d.source] for d in list_datasets()]
    _print_table("Catalogue datasets", ["name", "modality", "examples", "classes", "licence", "source"], rows)


def _print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table whose first column (the name to type) never wraps; the others fold."""
    table = Table(title=title)
    table.add_column(columns[0], no_wrap=True, min_width=max(len(r[0]) for r in rows))
    for column in columns[1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _parse_set(pairs: list[str]) -> dict[str, Any]:
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


@app.command()
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
    text_col: str = typer.Option("text", help="Text column of a CSV/TSV/JSONL file."),
    label_col: str = typer.Option("label", help="Label column of a CSV/TSV/JSONL file."),
    seed: int = typer.Option(0, help="Random seed: the same seed gives the same model."),
    bf16: bool = typer.Option(False, help="bfloat16 autocast (about 2x faster on CPU)."),
    devices: int = typer.Option(1, help="Processes for data-parallel training (DDP over gloo on CPU)."),
    resume: Optional[Path] = typer.Option(None, help="Continue from a checkpoint (e.g. RUN/checkpoints/last.ckpt)."),
    set_: list[str] = typer.Option([], "--set", help="Any other recipe option as key=value, e.g. --set l2sp=0.01 --set gradual=2."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Train a transfer model and write its artifact folder.

    Example: headstart fit bbc_news:train --backbone minilm-l6 --method probe --shots 8 --out runs/bbc

    Several tasks on one backbone: headstart fit --tasks tasks.toml --method finetune --out runs/multi
    """
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    import headstart

    options = _parse_set(set_)
    options.update({k: v for k, v in dict(unfreeze=unfreeze, epochs=epochs, lr=lr).items() if v is not None})
    if tasks_file is not None:
        if data is not None:
            raise HeadstartError("give DATA for one task or --tasks FILE for several, not both")
        from headstart.multitask.cli import run_multitask

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
        _print_metrics(info["val_metrics"], "validation")
    console.print(f"artifact: {out}")
    if isinstance(model, headstart.Transferred) and model.task == "classification":  # auto may keep a baseline
        from headstart.data.readers import load_data
        from headstart.report import write_report

        held_out = val is not None
        data_spec = val if held_out else data
        report_data = load_data(data_spec, text_col=text_col, label_col=label_col, task=task)
        title = None if held_out else f"Evaluated on {data}, training examples included (pass --val for held-out numbers)"
        console.print(f"report: {write_report(model, report_data, out, title=title)}")


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit`."),
    data: str = typer.Argument(..., help="Labelled data: image folder, CSV/TSV/JSONL file or catalogue name."),
    json_out: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Evaluate a trained model on labelled data: accuracy, macro-F1, per-class report.

    Example: headstart evaluate runs/bbc bbc_news:test
    """
    import headstart

    metrics = headstart.load(run).evaluate(data, progress=True)
    if json_out:
        console.print_json(json.dumps(metrics))
    else:
        _print_metrics(metrics, str(data))


@app.command()
def predict(
    run: Path = typer.Argument(..., help="Artifact folder written by `headstart fit`."),
    inputs: list[str] = typer.Argument(..., help="Image files, texts, or one CSV/TSV/JSONL/TXT file of texts."),
    text_col: str = typer.Option("text", help="Text column when INPUT is a CSV/TSV/JSONL file."),
) -> None:
    """Predict labels (with their probability) for images, texts or a file of texts.

    Example: headstart predict runs/bbc "Shares fell sharply after the results" "The striker scored twice"
    """
    import headstart

    model = headstart.load(run)
    items = _read_inputs(inputs, model.modality, text_col)
    prediction = model.predict(items)
    for item, label, probs in zip(items, prediction.labels, prediction.probabilities):
        shown = str(item) if len(str(item)) <= 60 else str(item)[:57] + "..."
        score = f"{probs.max():.3f}" if model.task == "classification" else ""
        typer.echo(f"{label}\t{score}\t{shown}")  # tab-separated: easy to pipe


def _read_inputs(inputs: list[str], modality: str, text_col: str) -> list[Any]:
    from headstart.data.readers import TABLE_SUFFIXES, read_table

    if modality == "image":
        missing = [p for p in inputs if not Path(p).is_file()]
        if missing:
            raise HeadstartError(f"no such image file: {missing[0]}")
        return [Path(p) for p in inputs]
    if len(inputs) == 1 and Path(inputs[0]).is_file():
        path = Path(inputs[0])
        if path.suffix.lower() in TABLE_SUFFIXES:
            return list(read_table(path, text_col, None, allow_unlabelled=True).inputs)
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return inputs


def _print_metrics(metrics: dict[str, Any], title: str) -> None:
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


def main() -> None:
    """Entry point: user errors print one line and exit with status 2."""
    try:
        app()
    except HeadstartError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


from headstart.demo import demo_command  # noqa: E402  (commands written in their own modules)
from headstart.report.cli import EVAL_DATA_KEY, report_command  # noqa: E402
from headstart.select.cli import rank_command  # noqa: E402
from headstart.zeroshot.cli import zeroshot_command  # noqa: E402
from headstart.multitask.cli import multitask_command  # noqa: E402
from headstart.adapt.cli import adapt_command  # noqa: E402

app.command("demo")(demo_command)
app.command("report")(report_command)
app.command("rank")(rank_command)
app.command("zeroshot")(zeroshot_command)
app.command("multitask")(multitask_command)
app.command("adapt")(adapt_command)
