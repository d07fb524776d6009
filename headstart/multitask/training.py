"""Multi-task training on the shared Lightning loop.

``MultiTaskModule`` extends the engine's ``TransferModule`` (frozen groups kept in eval mode,
per-step dropout seeds, the method's parameter groups and learning-rate schedule, penalties)
with one task per batch: the batch's task picks the head, the loss and the loss weight. The
method's ``FreezeSchedule`` is used unchanged. What the backbone sees is cached as in single-task
training: the pooled features when the backbone is frozen, the frozen prefix's activations when
only its top groups train.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.engine import TrainingResult, TransferModule, _Collate, auto_epochs, fit_trainer
from headstart.errors import HeadstartError
from headstart.features import extract_features, extract_states
from headstart.methods import Method
from headstart.model import TransferModel
from headstart.multitask.sampling import TaskBatchSampler, sequential_batches, task_offsets, task_probabilities
from headstart.multitask.spec import MultiTaskOptions
from headstart.recipe import Recipe

EVAL_BATCH_SIZE = 64
Batch = tuple[int, Any, Tensor]  # (task index, backbone input or cached features/states, targets)


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

    def __init__(self, builders: Sequence[Callable[[list[int]], tuple[Any, Tensor]]], sizes: Sequence[int],
                 task_ids: Sequence[int]) -> None:
        self.builders, self.offsets, self.task_ids = builders, task_offsets(sizes), task_ids

    def __call__(self, indices: list[int]) -> Batch:
        k = int(np.searchsorted(self.offsets, indices[0], side="right") - 1)
        x, y = self.builders[k]([i - int(self.offsets[k]) for i in indices])
        return self.task_ids[k], x, y


class FeatureRows:
    """Batches of cached pooled features (the backbone is frozen entirely)."""

    def __init__(self, features: Tensor, targets: Tensor) -> None:
        self.features, self.targets = features, targets

    def __call__(self, indices: list[int]) -> tuple[Tensor, Tensor]:
        return self.features[indices], self.targets[indices]


class MultiTaskModule(TransferModule):
    """A training step on one task's batch: its head, its loss, its weight, plus the method's penalties.

    Validation computes each task's mean loss (and accuracy for classification); early stopping
    and the best-state snapshot follow ``val_loss``, the unweighted mean over tasks.
    """

    def __init__(self, model: TransferModel, method: Method, start: int, total_steps: int, data: Sequence[TaskData]) -> None:
        super().__init__(model, method, start, total_steps)
        self.names, self.kinds = [d.name for d in data], [d.kind for d in data]
        self.features_cached = start == model.backbone.num_groups
        self.val_sums = np.zeros((len(data), 3))  # per task: summed loss, correct, examples

    def shared_features(self, x: Any) -> Tensor:
        return x if self.features_cached else self.model.features(x, self.start)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        task, x, y = batch
        name, features = self.names[task], self.shared_features(x)
        loss = tasks.loss(self.kinds[task], self.model.head(features, name), y)
        self.log(f"train_loss_{name}", loss, on_step=False, on_epoch=True, batch_size=len(y))
        objective = self.model.head.weighting(name, loss)
        penalty = self.method.penalty(self.model, features)
        if penalty is not None:
            objective = objective + penalty
        self.log("train_objective", objective, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y))
        return objective

    def on_validation_epoch_start(self) -> None:
        self.val_sums[:] = 0

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        task, x, y = batch
        logits = self.model.head(self.shared_features(x), self.names[task])
        loss = float(tasks.loss(self.kinds[task], logits, y))
        correct = float((logits.argmax(-1) == y).sum()) if self.kinds[task] == "classification" else 0.0
        self.val_sums[task] += (loss * len(y), correct, len(y))

    def on_validation_epoch_end(self) -> None:
        losses = []
        for (loss, correct, n), name, kind in zip(self.val_sums, self.names, self.kinds):
            if n:
                losses.append(loss / n)
                self.log(f"val_loss_{name}", loss / n)
                if kind == "classification":
                    self.log(f"val_accuracy_{name}", correct / n)
        mean = float(np.mean(losses))
        self.log("val_loss", mean, prog_bar=True)
        if mean < self.best_loss:  # snapshot only what trains (not a frozen backbone's weights)
            self.best_loss = mean
            self.best_state = {k: v.detach().clone() for k, v in self.method.changed_state(self.model).items()}


def train_multitask(
    model: TransferModel,
    method: Method,
    data: Sequence[TaskData],
    options: MultiTaskOptions,
    *,
    run_dir: Path | None = None,
    resume: Path | None = None,
    progress: bool = False,
) -> TrainingResult:
    """Train the shared backbone (as far as ``method`` says) and every task's head jointly.

    An epoch has as many batches as the tasks' examples fill (sum of ``ceil(n_t / batch)``),
    each from a task drawn by ``options.sampling``; the epoch count defaults as for one task.
    """
    r = method.recipe
    if r.devices * r.num_nodes > 1:
        raise HeadstartError("multi-task training runs in one process; set devices=1 and num_nodes=1")
    L.seed_everything(r.seed, workers=True, verbose=False)
    n_groups = model.backbone.num_groups
    lowest = method.first_trainable(n_groups)
    method.configure_trainable(model, lowest)
    method.setup_penalties(model)
    start = lowest if (lowest > 0 and not r.augment) else 0

    sizes = [len(d.train) for d in data]
    batches_per_epoch = sum(math.ceil(n / r.batch_size) for n in sizes)
    epochs = r.epochs or auto_epochs(sum(sizes), r.batch_size)
    sampler = TaskBatchSampler(sizes, r.batch_size, task_probabilities(sizes, options.sampling, options.sampling_temperature),
                               batches_per_epoch, r.seed)
    collate = TaskCollate([_batch_builder(model, d.train, d.kind, start, r, progress) for d in data], sizes, range(len(data)))
    train_loader = DataLoader(range(sum(sizes)), batch_sampler=sampler, collate_fn=collate)
    val_loader = _validation_loader(model, data, start, r, progress)

    module = MultiTaskModule(model, method, start, epochs * batches_per_epoch, data)
    history, epochs_run, _ = fit_trainer(
        module, method, train_loader, val_loader, run_dir=Path(run_dir) if run_dir is not None else None, max_epochs=epochs,
        progress=progress, stop_on=("val_loss", "min") if val_loader is not None else None, devices=1, resume=resume,
    )
    if module.best_state is not None:
        model.load_state_dict(module.best_state, strict=False)
    model.eval()
    return TrainingResult(model=model, epochs_run=epochs_run, history=history, prefix_cached=bool(start), world_size=1)


def _batch_builder(
    model: TransferModel, data: Dataset, kind: str, start: int, recipe: Recipe, progress: bool
) -> Callable[[list[int]], tuple[Any, Tensor]]:
    """Batches of pooled features (frozen backbone), frozen-prefix states, or raw inputs."""
    targets = tasks.target_tensor(kind, data.labels)
    net = model.backbone
    if start == net.num_groups:
        return FeatureRows(torch.from_numpy(extract_features(net, data, bf16=recipe.bf16, progress=progress)), targets)
    if start:
        states = extract_states(net, data, start - 1, bf16=recipe.bf16, progress=progress)
        return _Collate(model, states, targets, states=True, augment=False, seed=recipe.seed)
    return _Collate(model, data.inputs, targets, states=False, augment=recipe.augment, seed=recipe.seed)


def _validation_loader(
    model: TransferModel, data: Sequence[TaskData], start: int, recipe: Recipe, progress: bool
) -> DataLoader | None:
    """Every held-out example once, task after task (tasks without held-out data are skipped)."""
    held_out = [(i, d.val, d.kind) for i, d in enumerate(data) if d.val is not None]
    if not held_out:
        return None
    builders = [_batch_builder(model, val, kind, start, recipe, progress) for _, val, kind in held_out]
    sizes = [len(val) for _, val, _ in held_out]
    collate = TaskCollate(builders, sizes, [i for i, _, _ in held_out])
    return DataLoader(range(sum(sizes)), batch_sampler=sequential_batches(sizes, EVAL_BATCH_SIZE), collate_fn=collate)
