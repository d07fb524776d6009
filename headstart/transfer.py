"""The single-method pipeline behind ``headstart.fit``: load, split, prepare, train, evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headstart import tasks
from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.data.splits import bounded_sample, few_shot_split, stratified_split
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

HELD_OUT_LIMIT = 500  # examples a report is evaluated on when the run had no test data


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
    given_val = _load(val, text_col, label_col, recipe.task) if val is not None else None
    if given_val is not None and recipe.task == "classification":
        given_val = given_val.encoded_as(train_data.classes or [])  # same codes as training, or a one-line refusal
    if resume is not None:
        from headstart.training.run import checkpoint_to_resume

        checkpoint_to_resume(Path(resume))
    train_data, val_data, fraction = split_training_data(train_data, given_val, shots, recipe)

    out_dim = tasks.output_dim(recipe.task, train_data.classes, train_data.labels)

    def warm_start(prepared: Prepared, keep: bool) -> None:
        if keep:
            prepared.model.head = probe_head(prepared.model, train_data, recipe.task, out_dim, recipe, progress)

    prepared = prepare(recipe, {train_data.name: train_data}, lambda net: linear_head(net.feature_dim, out_dim), warm_start)
    model, transfer = prepared.model, prepared.method
    info: dict[str, Any] = {"n_train": len(train_data), "n_val": len(val_data) if val_data else 0, "history": [],
                            "shots": shots, "val_fraction": fraction}
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


def split_training_data(
    data: Dataset, val: Dataset | None, shots: int | None, recipe: Recipe
) -> tuple[Dataset, Dataset | None, float]:
    """``(train, val, fraction)``: with ``shots=K``, exactly K training examples per class and, unless
    ``val`` is given, up to K validation examples per class from the rest of the pool
    (``few_shot_split``); without, all of ``data`` or, for a trained run with enough examples and no
    ``val``, a stratified ``fraction`` of it held out for validation (``val_fraction``)."""
    if shots:
        train, pool_val, _ = few_shot_split(data, shots, seed=recipe.seed)
        return train, val if val is not None else pool_val, 0.0
    if val is None and (fraction := val_fraction(data, recipe, get_method(recipe.method).trains)) > 0:
        train, split_val = stratified_split(data, fraction, seed=recipe.seed)
        return train, split_val, fraction
    return data, val, 0.0


def held_out_examples(data: Dataset, info: dict[str, Any], seed: int, limit: int = HELD_OUT_LIMIT) -> Dataset | None:
    """Labelled examples of ``data`` that the run recorded in ``info`` neither trained nor
    validated on (the rest of a K-shot pool), at most ``limit`` of them drawn at random; else
    its validation split, when it made one; else ``None``."""
    if info.get("shots"):
        unused = few_shot_split(data, info["shots"], seed=seed)[2]
        return bounded_sample(unused, limit, seed) if unused is not None else None
    if info.get("val_fraction"):
        return bounded_sample(stratified_split(data, info["val_fraction"], seed=seed)[1], limit, seed)
    return None


def _load(data: Dataset | str | Path, text_col: str, label_col: str, task: str) -> Dataset:
    return data if isinstance(data, Dataset) else load_data(data, text_col=text_col, label_col=label_col, task=task)
