"""Multi-task runs on the shared training path: one task per batch.

The ``MultiTask`` objective takes the batch's task head, loss and loss weight; validation scores
each task's mean loss (and accuracy for classification) and watches ``val_loss``, the unweighted
mean over tasks. ``task_sampled`` builds the run's data: batches drawn by ``TaskBatchSampler``,
rows cached as in single-task runs (pooled features when the backbone is frozen, the frozen
prefix's activations when only its top groups train).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import Tensor, nn

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.model import TransferModel
from headstart.multitask.sampling import (
    TaskBatchSampler,
    sequential_batches,
    task_offsets,
    task_probabilities,
)
from headstart.multitask.spec import MultiTaskOptions
from headstart.recipe import Recipe
from headstart.training.data import (
    EVAL_BATCH_SIZE,
    LabelledRows,
    RunData,
    labelled_rows,
    sharded,
)
from headstart.training.objective import Objective, accuracy_metric, mean_metric

if TYPE_CHECKING:
    from headstart.training.module import TransferModule

Batch = tuple[int, Any, Tensor]  # (task index, rows, targets)


@dataclass
class TaskData:
    """A task ready to train: its examples, held-out examples and loss weight."""

    name: str
    kind: str
    train: Dataset
    val: Dataset | None
    weight: float

    @property
    def out_dim(self) -> int:
        return tasks.output_dim(self.kind, self.train.classes, self.train.labels)


class TaskCollate:
    """Turns global example indices (all from one task) into that task's batch.

    ``builders[k]`` makes batches of the k-th listed task, which is the run's task ``task_ids[k]``.
    """

    def __init__(self, builders: Sequence[LabelledRows], task_ids: Sequence[int]) -> None:
        self.builders, self.offsets, self.task_ids = builders, task_offsets([len(b.rows) for b in builders]), task_ids

    def __call__(self, indices: list[int]) -> Batch:
        k = int(np.searchsorted(self.offsets, indices[0], side="right") - 1)
        x, y = self.builders[k]([i - int(self.offsets[k]) for i in indices])
        return self.task_ids[k], x, y


class MultiTask(Objective):
    """A batch's task head, loss and weight; per-task validation losses and accuracies."""

    def __init__(self, data: Sequence[TaskData]) -> None:
        super().__init__()
        self.names, self.kinds = [d.name for d in data], [d.kind for d in data]
        self.val_losses = nn.ModuleList([mean_metric() for _ in data])
        self.val_accuracies = nn.ModuleList(
            [accuracy_metric(d.out_dim) if d.kind == "classification" else nn.Identity() for d in data])
        self.seen = [False] * len(data)

    def loss(self, module: TransferModule, batch: Batch) -> tuple[Tensor, Tensor]:
        task, x, y = batch
        name, features = self.names[task], module.features(x)
        loss = tasks.loss(self.kinds[task], module.model.head(features, name), y)
        module.log_epoch(f"train_loss_{name}", loss, len(y))
        objective = module.model.head.weighting(name, loss)
        module.log_epoch("train_objective", objective, len(y), prog_bar=True)
        return objective, features

    def update(self, module: TransferModule, batch: Batch, dataloader_idx: int) -> None:
        task, x, y = batch
        logits = module.model.head(module.features(x), self.names[task])
        self.val_losses[task].update(tasks.loss(self.kinds[task], logits, y).float(), len(y))
        if self.kinds[task] == "classification":
            self.val_accuracies[task].update(logits.argmax(-1), y)
        self.seen[task] = True

    def compute(self) -> dict[str, float]:
        metrics, losses = {}, []
        for task, name in enumerate(self.names):
            if not self.seen[task]:
                continue
            metrics[f"val_loss_{name}"] = float(self.val_losses[task].compute())
            losses.append(metrics[f"val_loss_{name}"])
            self.val_losses[task].reset()
            if self.kinds[task] == "classification":
                metrics[f"val_accuracy_{name}"] = float(self.val_accuracies[task].compute())
                self.val_accuracies[task].reset()
        self.seen = [False] * len(self.names)
        return {**metrics, "val_loss": float(np.mean(losses))}


def task_sampled(
    model: TransferModel, data: Sequence[TaskData], options: MultiTaskOptions, start: int, recipe: Recipe, progress: bool
) -> RunData:
    """Batches of one task each, drawn by ``options.sampling``: an epoch has as many batches as the
    tasks' examples fill (sum of ``ceil(n_t / batch)``). Validation: every held-out example once."""
    sizes = [len(d.train) for d in data]
    builders = [labelled_rows(model, d.train, d.kind, start, recipe, progress, augment=recipe.augment) for d in data]
    probabilities = task_probabilities(sizes, options.sampling, options.sampling_temperature)
    per_epoch = sum(math.ceil(n / recipe.batch_size) for n in sizes)
    held_out = [(i, d) for i, d in enumerate(data) if d.val is not None]
    val = []
    if held_out:
        rows = [labelled_rows(model, d.val, d.kind, start, recipe, progress) for _, d in held_out]
        collate = TaskCollate(rows, [i for i, _ in held_out])
        val = [(collate, sequential_batches([len(d.val) for _, d in held_out], EVAL_BATCH_SIZE))]
    batches = sharded(lambda: TaskBatchSampler(sizes, recipe.batch_size, probabilities, per_epoch, recipe.seed))
    return RunData(TaskCollate(builders, range(len(data))), batches, val, sum(sizes))
