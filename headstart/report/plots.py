"""The report's figures. Each function returns a ``matplotlib.figure.Figure``.

Figures are built without ``pyplot`` (no global state, no GUI backend): ``fig.savefig`` renders
them with the Agg canvas, so they work headless and in threads.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

from headstart.report.metrics import ReliabilityBins

TSNE_MAX_POINTS = 2000  # above this, t-SNE gets slow on 2 cores: project with PCA instead


def learning_curves(history: Sequence[dict[str, float]]) -> Figure:
    """Train/validation loss per epoch and, when the run had a validation split, the validation
    accuracy per epoch (epochs counted from 1)."""
    validated = any("val_accuracy" in row for row in history)
    fig = Figure(figsize=(9 if validated else 5, 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 2 if validated else 1))
    for key, style in (("train_loss", "o-"), ("val_loss", "s--")):
        _plot_series(axes[0], history, key, style)
    axes[0].set(title="Loss" if validated else "Training loss (no validation split)", ylabel="cross-entropy")
    if validated:
        _plot_series(axes[1], history, "val_accuracy", "o-")
        axes[1].set(title="Validation accuracy", ylim=(0, 1.02))
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    return fig


def _plot_series(ax: Any, history: Sequence[dict[str, float]], key: str, style: str) -> None:
    points = [(row["epoch"] + 1, row[key]) for row in history if key in row]
    if points:
        epochs, values = zip(*points)
        ax.plot(epochs, values, style, label=key.replace("_", " "), markersize=4)


def confusion_matrix_figure(matrix: np.ndarray, classes: Sequence[str]) -> Figure:
    """Rows = true class, columns = predicted; colour = share of the row, text = counts."""
    k = len(classes)
    side = min(3 + 0.45 * k, 12)
    fig = Figure(figsize=(side + 1, side), layout="constrained")
    ax = fig.subplots()
    shares = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    if k <= 30:
        for i, j in np.ndindex(matrix.shape):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8 if k > 12 else 10,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set(xlabel="predicted class", ylabel="true class", title="Confusion matrix")
    return fig


def per_class_bars(per_class: dict[str, dict[str, float]], classes: Sequence[str]) -> Figure:
    """Precision, recall and F1 of every class side by side (scikit-learn's report dict)."""
    fig = Figure(figsize=(max(6, 0.7 * len(classes) + 2), 3.6), layout="constrained")
    ax = fig.subplots()
    x, width = np.arange(len(classes)), 0.27
    for offset, key in zip((-width, 0, width), ("precision", "recall", "f1-score")):
        ax.bar(x + offset, [per_class[c][key] for c in classes], width, label=key)
    ax.set_xticks(x, classes, rotation=45 if len(classes) > 6 else 0, ha="right" if len(classes) > 6 else "center")
    ax.set(ylim=(0, 1.05))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=3, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def reliability_diagram(bins: ReliabilityBins) -> Figure:
    """Accuracy against confidence per bin (a calibrated model follows the diagonal), and how
    many predictions fall in each bin."""
    fig = Figure(figsize=(5.2, 5.2), layout="constrained")
    acc_ax, count_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    widths = np.diff(bins.edges)
    filled = bins.count > 0
    left = bins.edges[:-1]
    acc_ax.bar(left[filled], bins.accuracy[filled], widths[filled], align="edge", edgecolor="black", label="accuracy")
    gap = bins.confidence[filled] - bins.accuracy[filled]
    acc_ax.bar(left[filled], np.abs(gap), widths[filled], bottom=np.minimum(bins.accuracy, bins.confidence)[filled],
               align="edge", facecolor="none", edgecolor="tab:red", hatch="//", label="gap to mean confidence")
    acc_ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    acc_ax.set(ylim=(0, 1), ylabel="accuracy", title=f"Reliability diagram (ECE = {100 * bins.expected_calibration_error:.1f} %)")
    fig.legend(*acc_ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    count_ax.bar(left, bins.count, widths, align="edge", color="gray", edgecolor="black")
    count_ax.set(xlim=(0, 1), xlabel="confidence (top-class probability)", ylabel="predictions")
    return fig


def feature_projection(
    features: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    *,
    domains: np.ndarray | None = None,
    domain_names: Sequence[str] = (),
    seed: int = 0,
) -> Figure:
    """A 2-D map of the features coloured by class and, with ``domains`` (codes into
    ``domain_names``), a second panel coloured by domain. t-SNE up to ``TSNE_MAX_POINTS``, else PCA."""
    coords, how = project_2d(features, seed)
    panels = 1 if domains is None else 2
    fig = Figure(figsize=(5.6 * panels + 1.6, 5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, panels))
    _scatter(axes[0], coords, labels, classes, "class")
    if domains is not None:
        _scatter(axes[1], coords, domains, domain_names, "domain")
    for ax in axes:
        ax.set(xticks=[], yticks=[], xlabel=f"{how} 1", ylabel=f"{how} 2")
    fig.suptitle(f"Features in 2-D ({how})")
    return fig


def project_2d(features: np.ndarray, seed: int = 0) -> tuple[np.ndarray, str]:
    """``(n, 2)`` coordinates and the method's name: t-SNE (on at most 50 PCA components) for up to
    ``TSNE_MAX_POINTS`` points, PCA beyond (and for fewer than 5 points)."""
    n = len(features)
    with threadpool_limits(1):  # for a few hundred points, extra threads cost far more than they save
        reduced = PCA(n_components=min(50, n, features.shape[1]), random_state=seed).fit_transform(features)
        if n < 5 or n > TSNE_MAX_POINTS:
            return _pad_columns(reduced[:, :2], 2), "PCA"
        tsne = TSNE(n_components=2, perplexity=min(30.0, (n - 1) / 3), init="pca", random_state=seed)
        return tsne.fit_transform(reduced), "t-SNE"


def _pad_columns(x: np.ndarray, width: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, width - x.shape[1])))


def _scatter(ax: Any, coords: np.ndarray, codes: np.ndarray, names: Sequence[str], legend_title: str) -> None:
    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    for code, name in enumerate(names):
        members = codes == code
        if members.any():
            ax.scatter(*coords[members].T, s=12, alpha=0.75, color=palette(code % palette.N), label=name)
    ax.legend(title=legend_title, frameon=False, fontsize=8, markerscale=1.5, loc="center left", bbox_to_anchor=(1, 0.5))


def forecast_panels(ids: Sequence[str], histories: Sequence[np.ndarray], truths: Sequence[np.ndarray],
                    quantiles: np.ndarray, low: int, median: int, high: int, shown: int = 4) -> Figure:
    """One panel per series (at most ``shown`` of them): the last points of its history, the held-out
    truth, the median forecast and the ``quantiles[..., low]``–``[..., high]`` band."""
    n = min(shown, len(ids))
    columns = 2 if n > 1 else 1
    rows = -(-n // columns)
    fig = Figure(figsize=(5 * columns, 2.8 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, sid, history, truth, q in zip(axes, ids, histories, truths, quantiles):
        horizon = len(truth)
        past = history[-4 * horizon:]
        t_past = np.arange(len(history) - len(past), len(history))
        t_future = np.arange(len(history), len(history) + horizon)
        ax.plot(t_past, past, color="#38414f", lw=1.2, label="history")
        ax.plot(t_future, truth, color="#38414f", lw=1.2, ls="--", label="held-out truth")
        ax.fill_between(t_future, q[:, low], q[:, high], color="#4c78a8", alpha=0.25, label="80 % interval")
        ax.plot(t_future, q[:, median], color="#4c78a8", lw=1.6, label="median forecast")
        ax.set_title(str(sid), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(frameon=False, fontsize=8)
    return fig


def return_curves(series: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]], spread: str) -> Figure:
    """Return against target steps per method, ``(steps, mean, std)``, shaded by one ``std``; a method
    with one point (zero-shot) is a dashed level."""
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    for method, (steps, mean, std) in series.items():
        mean, std = np.asarray(mean, float), np.asarray(std, float)
        if len(mean) == 1:
            ax.axhline(mean[0], color="grey", linestyle="--", label=method)
            continue
        ax.plot(steps, mean, "o-", markersize=3, label=method)
        ax.fill_between(steps, mean - std, mean + std, alpha=0.15)
    ax.set(xlabel="target steps", ylabel=f"return (mean ± std over {spread})", title="Return on the target")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    return fig
