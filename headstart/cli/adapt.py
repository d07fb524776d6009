"""``headstart adapt --source S --target T --out RUN``: domain adaptation from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from headstart.cli.console import PROGRESS, SEED, console, parse_set, print_json, say
from headstart.report import EVAL_DATA_KEY

if TYPE_CHECKING:
    from headstart.data.dataset import Dataset
    from headstart.fitted import Transferred

REPORT_SOURCE_EXAMPLES = 500  # source examples in the report's feature map (each costs a backbone pass)


def adapt(
    source: str = typer.Option(..., "--source", help="Labelled source data: image folder, CSV/TSV/JSONL file or catalogue name."),
    target: str = typer.Option(..., "--target", help="Target data: the same kinds, or a flat folder of images; labels optional."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: the artifact and the training logs go here."),
    backbone: Optional[str] = typer.Option(
        None, help="Registered backbone (see `headstart backbones`); default minilm-l6 for text, efficientnet-lite0 for images."),
    method: str = typer.Option("dann", help="dann | cdan | mmd | coral | self_training | adabn | source_only"),
    base: Optional[str] = typer.Option(None, help="What trains: finetune | lora | scratch | probe (default per method)."),
    weight: list[float] = typer.Option([], "--weight", help="Alignment weight (repeat for a grid, one training run per weight, the selection criterion picks; default: the method's one weight)."),
    target_shots: Optional[int] = typer.Option(None, help="Train with K labelled target examples per class (semi-supervised)."),
    target_label_col: str = typer.Option("label", help="Label column of a target table (used for reporting only, if present)."),
    text_col: str = typer.Option("text", help="Text column of CSV/TSV/JSONL files."),
    label_col: str = typer.Option("label", help="Label column of the source table."),
    unfreeze: Optional[str] = typer.Option(None, help="finetune: train the last K layer groups, or 'all'."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (default: chosen from the data size)."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate of the backbone."),
    seed: int = SEED,
    set_: list[str] = typer.Option([], "--set", help="Any other recipe or adaptation option as key=value, e.g. --set rounds=2."),
    progress: bool = PROGRESS,
    json_out: bool = typer.Option(False, "--json", help="Print the outcome (distances, accuracies, choice, files) as JSON."),
) -> None:
    """Adapt a model from a labelled source domain to an unlabelled target domain and save it.

    Target labels, if any, are only used to report target accuracy before and after, unless
    --target-shots asks for K of them per class in training.

    Example: headstart adapt --source mnist5k --target digits --backbone efficientnet-lite0 --method adabn --out runs/digits
    """
    from headstart.adapt import adapt as adapt_domains
    from headstart.adapt.api import data_of, load_target
    from headstart.artifacts import to_json

    options: dict[str, Any] = parse_set(set_)
    options.update({k: v for k, v in dict(base=base, unfreeze=unfreeze, epochs=epochs, lr=lr).items() if v is not None})
    if weight:
        options["weights"] = weight
    source_data = data_of(source, text_col, label_col)  # read once: for training, then for the report
    target_data = load_target(target, text_col=text_col, label_col=target_label_col)
    model = adapt_domains(
        source_data, target_data, backbone=backbone, method=method, target_shots=target_shots, out=out, progress=progress,
        text_col=text_col, label_col=label_col, target_label_col=target_label_col, seed=seed, **options,
    )
    labelled_target = "target_accuracy" in model.info["adaptation"]
    if labelled_target:
        model.info[EVAL_DATA_KEY] = target  # `headstart report RUN` re-evaluates on it
    model.save(out)
    files = {"artifact": str(out), "feature_map": str(_save_feature_map(model, out))}
    if labelled_target:
        title = f"{model.info['adaptation']['method']} adaptation: {source} -> {target}"
        files["report"] = str(_write_report(model, source_data, target_data, out, title))
    if json_out:
        summary = {k: v for k, v in model.info["adaptation"].items() if k != "feature_map"}
        print_json(to_json(summary) | {"n_train": model.info["n_train"], "n_target": model.info["n_target"]} | files)
        return
    _print_report(model.info)
    for name, path in files.items():
        say(f"{name.replace('_', ' ')}: {path}")


def _save_feature_map(model: Transferred, out: Path) -> Path:
    """``RUN/feature_map.png``: both domains in 2-D before and after adaptation."""
    from headstart.adapt.feature_map import feature_map_figure

    report = model.info["adaptation"]
    path = Path(out) / "feature_map.png"
    feature_map_figure(report["feature_map"], model.classes or [], report["proxy_a_distance"]).savefig(path, dpi=100)
    return path


def _write_report(model: Transferred, source: Dataset, target: Dataset, out: Path, title: str) -> Path:
    """The HTML report on the (labelled) target, its feature map showing both domains: the target
    and at most ``REPORT_SOURCE_EXAMPLES`` source examples."""
    from headstart.report import write_report

    if len(source) > REPORT_SOURCE_EXAMPLES:
        picked = np.random.default_rng(0).choice(len(source), REPORT_SOURCE_EXAMPLES, replace=False)
        source = source.subset(np.sort(picked))
    return write_report(model, target, out, title=title, source=source)


def _print_report(info: dict[str, Any]) -> None:
    report = info["adaptation"]
    table = Table(title=Text(f"{report['method']} ({report['base']}): {info['n_train']} source, {info['n_target']} target examples"))
    for column in ("", "before", "after"):
        table.add_column(column, justify="right")
    rows = {"proxy A-distance": report["proxy_a_distance"]}
    if "target_accuracy" in report:
        rows["target accuracy"] = report["target_accuracy"]
    for name, values in rows.items():
        table.add_row(name, *(f"{values[k]:.3f}" if values[k] is not None else "-" for k in ("before", "after")))
    console.print(table)
    if report["chosen"]:
        say(f"chosen by the selection criterion: {json.dumps(report['chosen'])}")
    selection = report["selection"]
    say(
        f"selection criterion {selection['selection_score']:.3f} = source validation accuracy "
        f"{selection['source_val_accuracy']:.3f} + target information maximisation {selection['target_im']:.3f}"
    )
