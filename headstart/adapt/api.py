"""``adapt``: transfer a model trained on a labelled source domain to an unlabelled target domain.

>>> from headstart.adapt import adapt
>>> model = adapt("mnist5k", "digits", backbone="efficientnet-lite0", method="dann", unfreeze=1)  # doctest: +SKIP
>>> model.info["adaptation"]["proxy_a_distance"]                                                  # doctest: +SKIP
{'before': 1.97, 'after': 1.41}
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from headstart import tasks
from headstart.adapt.algorithms import AdaptConfig
from headstart.adapt.feature_map import feature_map
from headstart.adapt.metrics import proxy_a_distance
from headstart.adapt.objective import Labelled, selection_subset
from headstart.adapt.procedures import (
    Outcome,
    Problem,
    Snapshot,
    head_probabilities,
    run_procedure,
)
from headstart.data import encode_labels, load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.data.images import is_image_file
from headstart.data.splits import sample_shots, stratified_split
from headstart.errors import DataError, HeadstartError
from headstart.fitted import COLUMNS_KEY, Transferred
from headstart.heads import linear_head
from headstart.methods.probe import fit_linear_head
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.training.prepare import (
    DEFAULT_VAL_FRACTION,
    Prepared,
    prepare,
    trainable_params,
)
from headstart.zoo import default_backbone

MIN_TARGET = 4  # the proxy A-distance holds out half of each domain and needs two rows per half


def adapt(
    source: Dataset | str | Path,
    target: Dataset | str | Path,
    backbone: str | None = None,
    method: str = "dann",
    *,
    target_labels: Sequence[Any] | None = None,
    target_shots: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    target_label_col: str = "label",
    **options: Any,
) -> Transferred:
    """Adapt ``backbone`` (default: the one ``headstart.fit`` picks for the source's modality) from
    labelled ``source`` data to ``target`` data with ``method``.

    ``method``: ``dann``, ``cdan``, ``mmd``, ``coral``, ``self_training``, ``adabn`` or
    ``source_only`` (the baseline). The target needs no labels; labels it has (or
    ``target_labels``, class names in the target's order) are used only to report target accuracy
    before and after, unless ``target_shots=K`` asks for K labelled target examples per class in
    training. ``options`` are ``Recipe`` fields of the base method (``unfreeze=1``, ``epochs=5``,
    ``lr=1e-4``, ...) and ``AdaptConfig`` fields (``base="lora"``, ``weights=[0.1, 1.0]``,
    ``rounds=3``, ...). The result is an ordinary model: ``.save(dir)``, then
    ``headstart.load(dir).predict(...)``; ``info["adaptation"]`` records what happened. With
    ``out`` each training run writes logs and checkpoints to ``out/<run>/`` (``out/dann-w1/`` …),
    and ``resume=True`` continues each run from its last checkpoint there.
    """
    source_data = data_of(source, text_col, label_col)
    config, recipe = _settings(backbone or default_backbone(source_data.modality), method, options)
    if target_shots and config.method == "adabn":
        raise HeadstartError("adabn adapts without labels; drop target_shots (or use another method)")
    require_labels(source_data)
    target_data = load_target(target, text_col=text_col, label_col=target_label_col)
    if target_labels is not None:
        target_data = _labelled(target_data, target_labels, source_data.classes or [])
    target_data = check_domains(source_data, target_data)
    train, val = _source_split(source_data, recipe)
    shots = shot_rows(target_data, target_shots, recipe.seed) if target_shots else None

    problem: Problem | None = None
    before: Snapshot | None = None

    def new_problem(prepared: Prepared) -> Problem:
        return Problem(prepared.model, prepared.method, config, train, val, target_data.without_labels(), source_data.inputs,
                       shots, progress, Path(out) if out else None, resume)

    def warm_start(prepared: Prepared, keep: bool) -> None:
        nonlocal problem, before
        problem = new_problem(prepared)
        before = _source_probe(problem, keep)

    domains = {f"the source {source_data.name}": source_data, f"the target {target_data.name}": target_data}
    prepared = prepare(recipe, domains, lambda net: linear_head(net.feature_dim, source_data.num_classes), warm_start)
    problem = problem or new_problem(prepared)
    outcome = run_procedure(problem)
    model, base = outcome.model, prepared.method
    info = _info(problem, outcome, before, target_data)
    info["trainable_params"] = trainable_params(base, model)
    model.set_trainable(model.backbone.num_groups)
    model.eval()
    info["train_seconds"] = prepared.seconds()
    info[COLUMNS_KEY] = {"text_col": text_col, "label_col": label_col}  # evaluate/predict/report default to them
    return Transferred(model, base, source_data.classes, info, state=_stored_state(config))


def data_of(data: Dataset | str | Path, text_col: str, label_col: str) -> Dataset:
    return data if isinstance(data, Dataset) else load_data(data, text_col=text_col, label_col=label_col)


def load_target(target: Dataset | str | Path, *, text_col: str = "text", label_col: str = "label") -> Dataset:
    """The target domain: a ``Dataset``, a catalogue name, a table (the label column may be
    missing), a folder of class sub-folders, or a flat folder of images (unlabelled)."""
    if isinstance(target, Dataset):
        return target
    path = Path(target)
    if path.is_dir() and not any(child.is_dir() and not child.name.startswith((".", "__")) for child in path.iterdir()):
        images = sorted(p for p in path.iterdir() if is_image_file(p))
        if not images:
            raise DataError(f"{path}: no images (expected image files, or one sub-folder of images per class)")
        return Dataset(images, None, None, "image", name=path.name, meta={"source": str(path)})
    return load_data(target, text_col=text_col, label_col=label_col, allow_unlabelled=True)


def check_domains(source: Dataset, target: Dataset) -> Dataset:
    """Raise unless the target can be adapted to from the source; the target with its labels (if
    any) encoded like the source's."""
    if len(target) < MIN_TARGET:
        raise DataError(f"{target.name}: the target has {len(target)} examples; adaptation needs at least {MIN_TARGET}")
    if source.task != "classification" or target.task != "classification":
        raise HeadstartError("domain adaptation supports classification only")
    if target.labels is None:
        return target
    source_classes, target_classes = source.classes or [], target.classes or []
    if set(source_classes) != set(target_classes):
        raise DataError(
            f"the target {target.name} has classes {', '.join(target_classes)} but the source {source.name} has "
            f"{', '.join(source_classes)}; both domains need the same label set"
        )
    codes, _ = encode_labels([target_classes[c] for c in target.labels], source_classes)
    return replace(target, labels=codes, classes=list(source_classes))


def shot_rows(target: Dataset, k: int, seed: int) -> Labelled:
    """``k`` labelled target examples per class (``sample_shots``'s choice), as target row indices."""
    if target.labels is None:
        raise DataError(f"{target.name}: target_shots={k} needs target labels (is the target label column missing?)")
    positions = np.asarray(sample_shots(replace(target, inputs=np.arange(len(target))), k, seed).inputs)
    return Labelled(positions, target.labels[positions])


def _settings(backbone: str, method: str, options: dict[str, Any]) -> tuple[AdaptConfig, Recipe]:
    """Split ``options`` into the adaptation settings and the base method's recipe."""
    adapt_names = AdaptConfig.names() - {"method"}
    recipe_names = {f.name for f in fields(Recipe)} - {"backbone", "method"}
    unknown = sorted(set(options) - adapt_names - recipe_names)
    if unknown:
        raise HeadstartError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(adapt_names | recipe_names))}")
    config = AdaptConfig.build(method, **{k: v for k, v in options.items() if k in adapt_names})
    recipe_options = {k: v for k, v in {"batchnorm": "train", **options}.items() if k in Recipe.valid_keys(config.base)}
    # BatchNorm statistics follow the mixed source and target batches while aligning, unless asked otherwise
    recipe = Recipe.build(backbone=backbone, method=config.base, **recipe_options)
    if recipe.task != "classification":
        raise HeadstartError("domain adaptation supports classification only")
    return config, recipe


def _labelled(target: Dataset, labels: Sequence[Any], classes: list[str]) -> Dataset:
    if len(labels) != len(target):
        raise DataError(f"{target.name}: {len(target)} target inputs but {len(labels)} target_labels")
    codes, _ = encode_labels([str(label) for label in labels], classes)
    return replace(target, labels=codes, classes=list(classes))


def _source_split(source: Dataset, recipe: Recipe) -> tuple[Dataset, Dataset]:
    """Training and held-out validation parts of the source (the selection criterion needs both)."""
    fraction = recipe.val_fraction if recipe.val_fraction is not None else DEFAULT_VAL_FRACTION
    if not 0 < fraction < 1:
        raise HeadstartError(
            f"adaptation holds out part of the source for model selection: val_fraction must be in (0, 1), not {fraction}"
        )
    return stratified_split(source, fraction, seed=recipe.seed)


def _source_probe(problem: Problem, keep: bool) -> Snapshot:
    """Fit a linear probe on the source's pre-trained features; with ``keep`` the model's head
    starts from it (LP-FT). Returns the probe seen from both domains: "before"."""
    model = problem.model
    source, val, target = problem.pretrained_features()
    head = fit_linear_head(source, problem.source.labels, "classification", problem.num_classes, problem.seed)
    probe = TransferModel(model.backbone, head)
    if keep:
        model.head = head
    return Snapshot(source[problem.source_sample], target, head_probabilities(probe, val), head_probabilities(probe, target))


def _info(problem: Problem, outcome: Outcome, before: Snapshot | None, target: Dataset) -> dict[str, Any]:
    """The run's facts, as ``fit`` records them, plus ``adaptation`` (and ``target_metrics`` when the
    target has labels: scored on every target example not used as a few-shot label)."""
    source, val, snapshot = problem.source, problem.val, outcome.snapshot
    info: dict[str, Any] = {
        "n_train": len(source),
        "n_val": len(val),
        "n_target": len(target),
        "history": outcome.history,
        "class_counts": source.class_counts(),
        "val_metrics": tasks.evaluate("classification", snapshot.val_probabilities, val.labels, source.classes),
        "adaptation": _report(problem, outcome, before, target),
    }
    if target.labels is not None:
        scored = _scored_rows(target, problem.shots)
        info["target_metrics"] = tasks.evaluate(
            "classification", snapshot.target_probabilities[scored], target.labels[scored], source.classes
        )
    return info


def _report(problem: Problem, outcome: Outcome, before: Snapshot | None, target: Dataset) -> dict[str, Any]:
    """``info["adaptation"]``: settings, the criterion's choice and values, proxy A-distances, and
    target accuracy before and after when the target has labels (never used for training)."""
    config = problem.config
    subset = selection_subset(len(target), config.selection_size, problem.seed)

    def distance(snapshot: Snapshot | None) -> float | None:
        return None if snapshot is None else proxy_a_distance(snapshot.source_features, snapshot.target_features[subset], problem.seed)

    report: dict[str, Any] = {
        "method": config.method,
        "base": config.base,
        "settings": {"weights": config.weights, "rounds": config.rounds, "threshold": config.threshold,
                     "max_fraction": config.max_fraction, "selection_size": config.selection_size},
        "target_shots": None if problem.shots is None else len(problem.shots.indices),
        "chosen": outcome.chosen,
        "selection": outcome.selection,
        "candidates": outcome.candidates,
        "proxy_a_distance": {"before": distance(before), "after": distance(outcome.snapshot)},
        "feature_map": {stage: _map(snapshot, problem, target) for stage, snapshot in (("before", before), ("after", outcome.snapshot))},
    }
    if target.labels is not None:
        scored = _scored_rows(target, problem.shots)

        def accuracy(snapshot: Snapshot | None) -> float | None:
            if snapshot is None:
                return None
            return float((snapshot.target_probabilities[scored].argmax(1) == target.labels[scored]).mean())

        report["target_accuracy"] = {"before": accuracy(before), "after": accuracy(outcome.snapshot)}
    return report


def _map(snapshot: Snapshot | None, problem: Problem, target: Dataset) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    source_labels = problem.source.labels[problem.source_sample]
    return feature_map(snapshot.source_features, snapshot.target_features, source_labels, target.labels, problem.seed)


def _scored_rows(target: Dataset, shots: Labelled | None) -> np.ndarray:
    """Target rows to report accuracy on: all but the few-shot examples trained on."""
    keep = np.ones(len(target), dtype=bool)
    if shots is not None:
        keep[shots.indices] = False
    return np.flatnonzero(keep)


def _stored_state(config: AdaptConfig) -> str:
    """What the artifact stores: AdaBN re-estimates every BatchNorm layer's statistics, so its
    artifact holds every layer group (``"all"``); other algorithms change what their base method does."""
    return "all" if config.method == "adabn" else "method"
