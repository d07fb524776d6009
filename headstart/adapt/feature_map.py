"""Source and target features in 2-D, before and after adaptation: coordinates for ``info`` and a figure."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

MAP_POINTS = 300  # points per domain in a feature map


def feature_map(
    source_features: np.ndarray, target_features: np.ndarray, source_labels: np.ndarray,
    target_labels: np.ndarray | None, seed: int = 0,
) -> dict[str, Any]:
    """Both domains projected together by PCA onto two axes (at most ``MAP_POINTS`` per domain):
    ``{"source": [[x, y], ...], "target": ..., "source_labels": [...], "target_labels": [...] | None}``."""
    rng = np.random.default_rng(seed)
    s = np.sort(rng.choice(len(source_features), min(len(source_features), MAP_POINTS), replace=False))
    t = np.sort(rng.choice(len(target_features), min(len(target_features), MAP_POINTS), replace=False))
    both = np.concatenate([source_features[s], target_features[t]])
    coords = PCA(n_components=2, random_state=seed).fit_transform(both)
    return {
        "source": np.round(coords[: len(s)], 4).tolist(),
        "target": np.round(coords[len(s) :], 4).tolist(),
        "source_labels": source_labels[s].tolist(),
        "target_labels": None if target_labels is None else target_labels[t].tolist(),
    }


def feature_map_figure(maps: dict[str, dict[str, Any]], classes: Sequence[str], distances: dict[str, float | None]) -> Figure:
    """One column per stage (``before``, ``after``): points coloured by domain (top) and by class
    (bottom; target points without labels in grey), titled with the proxy A-distance."""
    stages = [stage for stage in ("before", "after") if maps.get(stage)]
    fig = Figure(figsize=(5 * len(stages), 9), layout="constrained")
    axes = fig.subplots(2, len(stages), squeeze=False)
    colours = [f"C{i % 10}" for i in range(len(classes))]
    for column, stage in enumerate(stages):
        m = maps[stage]
        source, target = np.asarray(m["source"]), np.asarray(m["target"])
        by_domain, by_class = axes[0, column], axes[1, column]
        by_domain.scatter(*source.T, s=8, c="C0", label="source")
        by_domain.scatter(*target.T, s=8, c="C3", marker="x", label="target")
        by_domain.legend(fontsize=8)
        distance = distances.get(stage)
        by_domain.set_title(f"{stage}: proxy A-distance {distance:.2f}" if distance is not None else stage)
        by_class.scatter(*source.T, s=8, c=[colours[c] for c in m["source_labels"]])
        target_colours = ["0.6"] * len(target) if m["target_labels"] is None else [colours[c] for c in m["target_labels"]]
        by_class.scatter(*target.T, s=12, c=target_colours, marker="x")
        by_class.set_title(f"{stage}: by class (o source, x target)")
        for ax in (by_domain, by_class):
            ax.set(xticks=[], yticks=[], xlabel="PCA 1", ylabel="PCA 2")
    return fig
