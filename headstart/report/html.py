"""The run report: one self-contained HTML file (figures inline as base64 PNG, no scripts, no
network) plus every figure as a PNG next to it.

>>> from headstart.report import write_report
>>> write_report(model, load_data("bbc_news:test"), "runs/bbc")   # doctest: +SKIP
PosixPath('runs/bbc/report.html')
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.fitted import FittedModel
from headstart.recipe import Recipe
from headstart.report import plots
from headstart.report.evaluation import RunEvaluation, dense_features, evaluate_run
from headstart.report.metrics import (
    Mistake,
    ReliabilityBins,
    confident_mistakes,
    confusion_matrix,
    reliability_bins,
)
from headstart.zoo import input_family

REPORT_FILE = "report.html"
MISTAKES_SHOWN = 8
SNIPPET_CHARS = 300
THUMBNAIL_PX = 96
IDENTITY_OPTIONS = ("backbone", "method", "task", "seed")  # shown even at their default values
COLUMN_LABELS = {
    "method": "method",
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "train_seconds": "training time",
    "trainable_params": "trainable parameters",
}
STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; background: #f6f7f9; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 2px solid #e3e6eb; padding-bottom: 4px; margin-top: 40px; }
.headline { font-size: 18px; color: #38414f; } .muted { color: #6a7383; font-size: 13px; }
nav a { margin-right: 12px; font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border-bottom: 1px solid #e3e6eb; padding: 4px 12px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.this-run td { font-weight: 600; background: #eef5ff; }
img.figure { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.mistakes { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }
.mistake { border: 1px solid #e3e6eb; border-radius: 6px; padding: 8px 10px; font-size: 13px; }
.mistake img { image-rendering: pixelated; display: block; margin-top: 6px; }
.mistake blockquote { margin: 6px 0 0; color: #38414f; }
.recipe { columns: 2; } .recipe table { margin: 0; } summary { cursor: pointer; color: #38414f; }
"""


def write_report(
    fitted: FittedModel,
    eval_data: Dataset,
    out_dir: str | Path,
    *,
    comparison: list[dict[str, Any]] | None = None,
    title: str | None = None,
    source: Dataset | None = None,
    evaluation: RunEvaluation | None = None,
    note: str | None = None,
) -> Path:
    """Evaluate ``fitted`` on ``eval_data`` and write ``out_dir/report.html`` and its PNG figures.

    ``comparison``: rows (``method``, ``accuracy``, ``macro_f1``, ``train_seconds``,
    ``trainable_params``, any other key) of runs on the same split, e.g. a baseline and scratch.
    ``source``: an adaptation run's source-domain data; the feature map then also shows domains.
    ``evaluation``: a ready ``evaluate_run(fitted, eval_data)``, to avoid a second pass.
    ``note``: a paragraph shown above the comparison (e.g. the demo's verdict, ``auto``'s decision).
    """
    evaluation = evaluation or evaluate_run(fitted, eval_data)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bins = reliability_bins(evaluation.probabilities, evaluation.labels)
    figures = _figures(fitted, evaluation, bins, source)
    images = {name: _save_png(fig, out / f"{name}.png") for name, fig in figures.items()}
    sections = [
        ("Recipe", _recipe_section(fitted)),
        ("Data", _data_section(fitted, evaluation.data)),
        ("Learning curves", _figure_or_note(images, "learning_curves", _no_curves_note(fitted))),
        ("Confusion matrix", _figure(images, "confusion_matrix")),
        ("Per-class precision, recall and F1", _per_class_section(evaluation, images)),
        ("Calibration", _calibration_section(bins, images)),
        ("Comparison", _note(note) + _comparison_section(comparison, fitted.describe()["method"])),
        ("Feature map", _figure(images, "projection")),
        ("Most confidently wrong", _mistakes_section(evaluation, fitted.classes or [])),
    ]
    path = out / REPORT_FILE
    described = fitted.describe()
    heading = title or " on ".join(str(described[k]) for k in ("method", "backbone") if described.get(k))
    path.write_text(_page(heading, _headline(evaluation, bins), sections), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- figures


def _figures(fitted: FittedModel, evaluation: RunEvaluation, bins: ReliabilityBins, source: Dataset | None) -> dict[str, Figure]:
    classes = fitted.classes or []
    labels = evaluation.labels
    figures: dict[str, Figure] = {}
    if fitted.info.get("history"):
        figures["learning_curves"] = plots.learning_curves(fitted.info["history"])
    matrix = confusion_matrix(labels, evaluation.predicted, len(classes))
    figures["confusion_matrix"] = plots.confusion_matrix_figure(matrix, classes)
    figures["per_class"] = plots.per_class_bars(evaluation.metrics["per_class"], classes)
    figures["reliability"] = plots.reliability_diagram(bins)
    figures["projection"] = _projection(fitted, evaluation, source)
    return figures


def _projection(fitted: FittedModel, evaluation: RunEvaluation, source: Dataset | None) -> Figure:
    classes, seed = fitted.classes or [], int(fitted.describe().get("seed", 0))
    if source is None:
        return plots.feature_projection(evaluation.features, evaluation.labels, classes, seed=seed)
    if source.is_labelled and source.classes != classes:
        raise HeadstartError(f"{source.name}: its classes {source.classes} differ from the model's {classes}")
    source_features = dense_features(fitted.features(source), seed)
    source_labels = source.labels.astype(int) if source.is_labelled else np.full(len(source), -1)
    return plots.feature_projection(
        np.concatenate([source_features, evaluation.features]),
        np.concatenate([source_labels, evaluation.labels]),
        classes,
        domains=np.repeat([0, 1], [len(source), len(evaluation.data)]),
        domain_names=[f"source: {source.name}", f"target: {evaluation.data.name}"],
        seed=seed,
    )


def _save_png(fig: Figure, path: Path) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def _img(png: bytes, alt: str, css_class: str = "figure") -> str:
    return f'<img class="{css_class}" alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _figure(images: dict[str, bytes], name: str) -> str:
    return _img(images[name], name.replace("_", " "))


def _figure_or_note(images: dict[str, bytes], name: str, note: str) -> str:
    return _figure(images, name) if name in images else f'<p class="muted">{html.escape(note)}</p>'


# ----------------------------------------------------------------------------- sections


def _headline(evaluation: RunEvaluation, bins: ReliabilityBins) -> str:
    m = evaluation.metrics
    return (
        f"Accuracy <b>{_pct(m['accuracy'])}</b>, macro-F1 <b>{_pct(m['macro_f1'])}</b>, "
        f"ECE {_pct(bins.expected_calibration_error)} ({_calibration_note(bins)}) on {html.escape(evaluation.data.name)} ({m['n']:,} examples)"
    )


def _recipe_section(fitted: FittedModel) -> str:
    """The options that define this run (identity + everything not left at its default), the run's
    facts, and every option in a collapsed table."""
    info, recipe = fitted.info, fitted.describe()
    defaults = Recipe().to_dict()
    chosen = {k: v for k, v in recipe.items() if k in IDENTITY_OPTIONS or k not in defaults or v != defaults[k]}
    weights = getattr(getattr(getattr(fitted, "model", None), "backbone", None), "weights_hash", None)
    facts = {
        "backbone weights (SHA-256)": weights[:16] + "…" if weights else "none (no backbone)",
        "trainable parameters": f"{info.get('trainable_params', 0):,}",
        "training time": f"{info.get('train_seconds', 0.0):.1f} s",
        "epochs run": info.get("epochs", "none (closed-form fit)"),
    }
    rows = [[k, str(v)] for k, v in {**chosen, **facts}.items()]
    everything = _table(["option", "value"], [[k, str(v)] for k, v in recipe.items()])
    return (
        _table(["option", "value"], rows)
        + f'<details><summary>All recipe options (defaults included)</summary><div class="recipe">{everything}</div></details>'
    )


def _data_section(fitted: FittedModel, data: Dataset) -> str:
    info = fitted.info
    train_counts: dict[str, int] = info.get("class_counts", {})
    eval_counts = data.class_counts()
    shots = set(train_counts.values())
    shot_note = f"{shots.pop()} per class" if len(shots) == 1 else "class counts vary"
    summary = (
        f"<p>{len(fitted.classes or [])} classes. Trained on {info.get('n_train', 0):,} examples ({shot_note}), "
        f"{_validated(info.get('n_val', 0))}; evaluated on {html.escape(data.name)} ({len(data):,} examples).</p>"
    )
    rows = [[c, train_counts.get(c, 0), eval_counts.get(c, 0)] for c in fitted.classes or []]
    return summary + _table(["class", "training examples", "evaluation examples"], rows)


def _validated(n_val: int) -> str:
    return f"validated on {n_val:,}" if n_val else "no validation data"


def _no_curves_note(fitted: FittedModel) -> str:
    if "epochs" not in fitted.info:
        on = " on cached features" if getattr(fitted, "pretrained_features", False) else ""
        return f"{fitted.describe()['method']} is a closed-form fit{on}: there are no epochs to plot."
    return "This run logged no per-epoch history."


def _per_class_section(evaluation: RunEvaluation, images: dict[str, bytes]) -> str:
    report = evaluation.metrics["per_class"]
    classes = evaluation.data.classes or []
    rows = [[c, *(f"{report[c][k]:.3f}" for k in ("precision", "recall", "f1-score")), int(report[c]["support"])] for c in classes]
    return _table(["class", "precision", "recall", "F1", "support"], rows) + _figure(images, "per_class")


def _calibration_note(bins: ReliabilityBins) -> str:
    """Which way the model errs, e.g. "over-confident: mean confidence 4.2 points above accuracy"."""
    gap = bins.confidence_gap
    if bins.direction == "calibrated on average":
        return "calibrated on average: mean confidence within 0.5 points of accuracy"
    return f"{bins.direction}: mean confidence {100 * abs(gap):.1f} points {'above' if gap > 0 else 'below'} accuracy"


def _calibration_section(bins: ReliabilityBins, images: dict[str, bytes]) -> str:
    text = (
        f"<p>Expected calibration error: <b>{_pct(bins.expected_calibration_error)}</b>, the average gap between the model's confidence and "
        "its accuracy (predictions binned by confidence, each bin weighted by its size). A calibrated model's bars "
        "follow the diagonal; bars below it mean over-confidence, bars above it under-confidence.</p>"
    )
    return text + _figure(images, "reliability")


def _note(note: str | None) -> str:
    return f"<p>{html.escape(note)}</p>" if note else ""


def _comparison_section(rows: list[dict[str, Any]] | None, this_method: str) -> str:
    if not rows:
        return '<p class="muted">No other runs were given to compare with (the demo compares with a baseline and scratch).</p>'
    keys = list(dict.fromkeys(k for row in rows for k in row))
    body = "".join(
        ('<tr class="this-run">' if row.get("method") == this_method else "<tr>")
        + "".join(_cell(key, row.get(key)) for key in keys)
        + "</tr>"
        for row in rows
    )
    head = "".join(f"<th>{html.escape(COLUMN_LABELS.get(k, k))}</th>" for k in keys)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "<td></td>"
    if key in ("accuracy", "macro_f1"):
        return f'<td class="num">{_pct(value)}</td>'
    if key == "train_seconds":
        return f'<td class="num">{value:.1f} s</td>'
    if isinstance(value, int):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _mistakes_section(evaluation: RunEvaluation, classes: Sequence[str]) -> str:
    mistakes = confident_mistakes(evaluation.probabilities, evaluation.labels, MISTAKES_SHOWN)
    if not mistakes:
        return '<p class="muted">No mistakes on this data.</p>'
    cards = "".join(_mistake_card(m, evaluation.data, classes) for m in mistakes)
    return f'<p>The wrong predictions the model was surest of: often mislabelled or ambiguous examples.</p><div class="mistakes">{cards}</div>'


def _mistake_card(mistake: Mistake, data: Dataset, classes: Sequence[str]) -> str:
    preview = input_family(data.modality).preview(data.inputs[mistake.index])
    if isinstance(preview, Image.Image):
        shown = _img(_thumbnail(preview), f"example {mistake.index}", css_class="thumb")
    else:
        text = str(preview)
        shown = f"<blockquote>{html.escape(text[:SNIPPET_CHARS] + ('…' if len(text) > SNIPPET_CHARS else ''))}</blockquote>"
    return (
        f'<div class="mistake">predicted <b>{html.escape(classes[mistake.predicted])}</b> ({_pct(mistake.confidence)}), '
        f"truly <b>{html.escape(classes[mistake.true])}</b> "
        f'<span class="muted">#{mistake.index}</span>{shown}</div>'
    )


def _thumbnail(image: Image.Image) -> bytes:
    """A PNG at most ``THUMBNAIL_PX`` on a side; tiny images (8x8 digits) are enlarged pixel by pixel."""
    scale = THUMBNAIL_PX / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------- page


def _page(title: str, headline: str, sections: list[tuple[str, str]]) -> str:
    anchors = [heading.lower().replace(" ", "-").replace(",", "") for heading, _ in sections]
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, (t, _) in zip(anchors, sections))
    body = "".join(f'<section id="{a}"><h2>{html.escape(t)}</h2>{content}</section>' for a, (t, content) in zip(anchors, sections))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><main><h1>{html.escape(title)}</h1>"
        f'<p class="headline">{headline}</p><p class="muted">headstart run report, {stamp}</p>'
        f"<nav>{nav}</nav>{body}</main></body></html>\n"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{v:,}</td>' if isinstance(v, int) and not isinstance(v, bool) else f"<td>{html.escape(str(v))}</td>"
            for v in row
        ) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"
