"""``fit_multitask``: one backbone, one head per task, trained jointly with any single-task method.

>>> from headstart.multitask import TaskSpec, fit_multitask
>>> model = fit_multitask([TaskSpec("sentiment", "rotten_tomatoes:train", shots=16),
...                        TaskSpec("topic", "bbc_news:train", shots=16)], method="finetune", unfreeze=1)  # doctest: +SKIP
>>> model.predict(["A triumph."], task="sentiment").labels  # doctest: +SKIP
['fresh']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots, stratified_split
from headstart.errors import HeadstartError
from headstart.methods import get_method
from headstart.multitask.model import MultiTaskTransferred, build_model
from headstart.multitask.objective import MultiTask, TaskData, task_sampled
from headstart.multitask.spec import (
    MultiTaskOptions,
    TaskInfo,
    TaskSpec,
    read_tasks_file,
)
from headstart.recipe import Recipe
from headstart.training.prepare import Prepared, prepare, probe_head, val_fraction
from headstart.training.run import run


def fit_multitask(
    tasks: Sequence[TaskSpec] | str | Path,
    backbone: str | None = None,
    method: str | None = None,
    *,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool = False,
    **settings: Any,
) -> MultiTaskTransferred:
    """Train one backbone on several tasks at once and return the model with all heads.

    ``tasks`` is a list of ``TaskSpec`` or the path of a tasks file (whose settings the arguments
    here override). ``backbone`` and ``method`` (default ``minilm-l6`` and ``probe``) work as in
    ``headstart.fit``: ``probe`` freezes the backbone, ``finetune`` trains its top ``unfreeze``
    groups, ``lora`` adapts it. ``settings`` are ``MultiTaskOptions`` (``sampling``,
    ``sampling_temperature``, ``weighting``, ``hidden``) and ``Recipe`` fields (``epochs``, ``lr`` …).

    A frozen backbone without a shared hidden layer shares nothing between tasks: each head is
    then its task's closed-form probe (loss weights cannot change independent optima), as with
    ``headstart.fit``. Otherwise the heads start from those probes (``head_init="probe"``, no
    hidden layer) and everything trains jointly, one task per batch.
    """
    specs, file_settings = read_tasks_file(tasks) if isinstance(tasks, (str, Path)) else (list(tasks), {})
    chosen = {"backbone": backbone, "method": method}
    settings = {**file_settings, **settings, **{k: v for k, v in chosen.items() if v is not None}}
    options, recipe_values = MultiTaskOptions.split(settings)
    recipe = Recipe.build(**recipe_values)
    _check_names(specs)
    trains = get_method(recipe.method).trains or options.hidden is not None
    data = [_prepare(spec, recipe, trains) for spec in specs]
    infos = [TaskInfo(d.name, d.kind, d.train.classes, d.out_dim, d.weight) for d in data]

    def warm_start(prepared: Prepared, keep: bool) -> None:
        if keep and options.hidden is None:
            for d in data:
                prepared.model.head.heads[d.name] = probe_head(prepared.model, d.train, d.kind, d.out_dim, recipe, progress)

    prepared = prepare(recipe, {f"task {d.name}": d.train for d in data}, lambda net: build_model(net, infos, options).head,
                       warm_start, trains=trains)
    model, transfer = prepared.model, prepared.method
    info: dict[str, Any] = {"n_train": {d.name: len(d.train) for d in data},
                            "n_val": {d.name: len(d.val) if d.val else 0 for d in data}, "history": []}
    if trains:
        result = run(model, transfer, MultiTask(data), lambda start: task_sampled(model, data, options, start, recipe, progress),
                     run_dir=Path(out) if out else None, resume=Path(resume) if resume else None, progress=progress)
        info.update(epochs=result.epochs_run, history=result.history, prefix_cached=result.prefix_cached)
    else:
        model.set_trainable(model.backbone.num_groups)
    model.eval()
    info["train_seconds"] = prepared.seconds()
    fitted = MultiTaskTransferred(model, transfer, infos, options, info)
    info["task_weights"] = fitted.task_weights()
    info["val_metrics"] = {d.name: fitted.evaluate(d.val, task=d.name) for d in data if d.val is not None}
    return fitted


def _check_names(specs: Sequence[TaskSpec]) -> None:
    names = [s.name for s in specs]
    if not names:
        raise HeadstartError("a multi-task run needs at least one task")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise HeadstartError(f"task name {repeated[0]!r} is used more than once")


def _prepare(spec: TaskSpec, recipe: Recipe, trains: bool) -> TaskData:
    """Load a task's data, keep ``shots`` per class, and hold out validation data for trained runs."""
    train = _load(spec, spec.data)
    if spec.shots:
        train = sample_shots(train, spec.shots, seed=recipe.seed)
    val = _load(spec, spec.val) if spec.val is not None else None
    if val is None and (fraction := val_fraction(train, recipe, trains)) > 0:
        train, val = stratified_split(train, fraction, seed=recipe.seed)
    return TaskData(spec.name, spec.task, train, val, spec.weight)


def _load(spec: TaskSpec, source: Dataset | str | Path) -> Dataset:
    data = source if isinstance(source, Dataset) else load_data(
        source, text_col=spec.text_col, label_col=spec.label_col, task=spec.task)
    if data.task != spec.task:
        raise HeadstartError(f"task {spec.name}: its data {data.name} is {data.task}, but the task says {spec.task}")
    require_labels(data)
    return data
