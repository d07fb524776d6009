"""The Python API: ``fit`` a transfer method on data, then predict, evaluate and save.

>>> import headstart
>>> model = headstart.fit("bbc_news:train", backbone="minilm-l6", method="probe", shots=8)
>>> model.evaluate("bbc_news:test")["accuracy"] > 0.8
True
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.data.readers import load_data, require_labels
from headstart.data.splits import sample_shots, stratified_split
from headstart.errors import HeadstartError
from headstart.features import extract_features
from headstart.heads import linear_head
from headstart.methods import get_method
from headstart.methods.probe import fit_linear_head
from headstart.model import TransferModel
from headstart.fitted import FittedModel, Inputs, Prediction, Transferred  # noqa: F401  (re-exported)
from headstart.recipe import Recipe
from headstart.zoo import default_backbone, load_backbone


def fit(
    data: Dataset | str | Path,
    backbone: str | None = None,
    method: str = "probe",
    *,
    val: Dataset | str | Path | None = None,
    shots: int | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    **options: Any,
) -> FittedModel:
    """Transfer ``backbone`` to ``data`` with ``method`` and return the trained model.

    ``data`` is a ``Dataset``, an image folder, a CSV/TSV/JSONL file or a catalogue name;
    ``backbone`` defaults to ``minilm-l6`` for text and ``efficientnet-lite0`` for images;
    ``shots=K`` keeps K examples per class; ``options`` are ``Recipe`` fields (``unfreeze=2``,
    ``epochs=10``, ``lr=5e-5``, ``l2sp=0.01`` …). With ``out`` the run writes checkpoints and logs
    there (and ``resume`` continues from a checkpoint); the artifact is written by ``save``.
    ``method="auto"`` chooses backbone, method and depth itself and may return the no-transfer
    baseline instead, when transfer does not beat it (``headstart.select.auto.fit_auto``); a named
    ``backbone`` is then its only candidate.

    >>> fit("digits", backbone="efficientnet-lite0", method="probe", shots=4).info["n_train"]
    40
    """
    if method == "auto":
        from headstart.select.auto import fit_auto

        candidates = [backbone] if backbone else None
        return fit_auto(data, candidates=candidates, val=val, shots=shots, out=out, progress=progress,
                        text_col=text_col, label_col=label_col, **options)
    train_data = _load(data, text_col, label_col, options.get("task", "classification"))
    options.setdefault("task", train_data.task)
    recipe = Recipe.build(backbone=backbone or default_backbone(train_data.modality), method=method, **options)
    require_labels(train_data)
    if shots:
        train_data = sample_shots(train_data, shots, seed=recipe.seed)
    val_data = _load(val, text_col, label_col, recipe.task) if val is not None else None
    if val_data is None and (fraction := _val_fraction(train_data, recipe)) > 0:
        train_data, val_data = stratified_split(train_data, fraction, seed=recipe.seed)

    started = time.perf_counter()
    net = load_backbone(recipe.backbone, **recipe.backbone_options)
    if net.modality != train_data.modality:
        raise HeadstartError(f"{train_data.name} holds {train_data.modality} data but {net.name} is a {net.modality} backbone")
    transfer = get_method(recipe.method)(recipe)
    model = TransferModel(net, linear_head(net.feature_dim, tasks.output_dim(recipe.task, train_data.classes, train_data.labels)))
    if transfer.pretrained and (not transfer.trains or recipe.head_init == "probe"):
        features = extract_features(net, train_data, bf16=recipe.bf16, progress=progress)
        model.head = fit_linear_head(features, train_data.labels, recipe.task, model.head.out_features, recipe.seed)
    transfer.prepare(model)
    info: dict[str, Any] = {"n_train": len(train_data), "n_val": len(val_data) if val_data else 0, "history": []}
    if transfer.trains:
        from headstart.engine import train

        result = train(model, transfer, train_data, val_data, run_dir=Path(out) if out else None,
                       resume=Path(resume) if resume else None, progress=progress)
        info.update(epochs=result.epochs_run, history=result.history, prefix_cached=result.prefix_cached,
                    world_size=result.world_size)
    else:
        model.set_trainable(net.num_groups)
    model.eval()
    info["train_seconds"] = time.perf_counter() - started
    info["trainable_params"] = sum(p.numel() for g in transfer.parameter_groups(model) for p in g["params"])
    info["class_counts"] = train_data.class_counts()
    fitted = Transferred(model, transfer, train_data.classes, info)
    if val_data is not None:
        info["val_metrics"] = fitted.evaluate(val_data)
    return fitted


def _load(data: Dataset | str | Path, text_col: str, label_col: str, task: str) -> Dataset:
    return data if isinstance(data, Dataset) else load_data(data, text_col=text_col, label_col=label_col, task=task)


def _val_fraction(data: Dataset, recipe: Recipe) -> float:
    """The recipe's validation share; by default 0.2 for trained methods when every class has >= 10
    examples (fewer leaves too few to early-stop on; the run then trains for a fixed budget)."""
    if recipe.val_fraction is not None:
        return recipe.val_fraction
    if not get_method(recipe.method).trains:
        return 0.0
    counts = data.class_counts()
    enough = min(counts.values()) >= 10 if counts else len(data) >= 50
    return 0.2 if enough else 0.0
