"""The single-method pipeline behind ``headstart.fit``: load, split, prepare, train, evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headstart import tasks
from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots, stratified_split
from headstart.fitted import Transferred
from headstart.heads import linear_head
from headstart.methods import get_method
from headstart.recipe import Recipe
from headstart.training.prepare import (
    Prepared,
    prepare,
    probe_head,
    trainable_params,
    val_fraction,
)
from headstart.zoo import default_backbone


def transfer(
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
) -> Transferred:
    """One transfer run: ``backbone`` trained on ``data`` with one ``method`` (see ``headstart.fit``,
    which adds ``method="auto"``)."""
    train_data = _load(data, text_col, label_col, options.get("task", "classification"))
    options.setdefault("task", train_data.task)
    recipe = Recipe.build(backbone=backbone or default_backbone(train_data.modality), method=method, **options)
    require_labels(train_data)
    if shots:
        train_data = sample_shots(train_data, shots, seed=recipe.seed)
    val_data = _load(val, text_col, label_col, recipe.task) if val is not None else None
    trains = get_method(recipe.method).trains
    if val_data is None and (fraction := val_fraction(train_data, recipe, trains)) > 0:
        train_data, val_data = stratified_split(train_data, fraction, seed=recipe.seed)

    out_dim = tasks.output_dim(recipe.task, train_data.classes, train_data.labels)

    def warm_start(prepared: Prepared, keep: bool) -> None:
        if keep:
            prepared.model.head = probe_head(prepared.model, train_data, recipe.task, out_dim, recipe, progress)

    prepared = prepare(recipe, {train_data.name: train_data}, lambda net: linear_head(net.feature_dim, out_dim), warm_start)
    model, transfer = prepared.model, prepared.method
    info: dict[str, Any] = {"n_train": len(train_data), "n_val": len(val_data) if val_data else 0, "history": []}
    if transfer.trains:  # Lightning is imported only when something trains
        from headstart.training.data import single_task
        from headstart.training.objective import SingleTask
        from headstart.training.run import run

        objective = SingleTask(recipe.task, out_dim)
        result = run(model, transfer, objective, lambda start: single_task(model, train_data, val_data, start, recipe, progress),
                     run_dir=Path(out) if out else None, resume=Path(resume) if resume else None, progress=progress)
        info.update(epochs=result.epochs_run, history=result.history, prefix_cached=result.prefix_cached,
                    world_size=result.world_size)
    else:
        model.set_trainable(model.backbone.num_groups)
    model.eval()
    info["train_seconds"] = prepared.seconds()
    info["trainable_params"] = trainable_params(transfer, model)
    info["class_counts"] = train_data.class_counts()
    fitted = Transferred(model, transfer, train_data.classes, info)
    if val_data is not None:
        info["val_metrics"] = fitted.evaluate(val_data)
    return fitted


def _load(data: Dataset | str | Path, text_col: str, label_col: str, task: str) -> Dataset:
    return data if isinstance(data, Dataset) else load_data(data, text_col=text_col, label_col=label_col, task=task)
