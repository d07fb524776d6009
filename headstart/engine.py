"""Lightning glue shared by every trainable method.

The engine turns (backbone, head, method, recipe, data) into a trained ``TransferModel``:
it caches frozen-prefix activations, builds parameter groups and the learning-rate schedule,
applies the method's freeze schedule each epoch (saved in checkpoints, so a resumed run ends
exactly like an uninterrupted one), and hands the loop to ``lightning.Trainer`` (checkpoints,
resume, early stopping, CSV logs, bf16, rich progress bars, multi-process DDP).
"""

from __future__ import annotations

import copy
import csv
import logging
import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import CSVLogger
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.features import extract_states
from headstart.methods.base import Method
from headstart.model import TransferModel

TARGET_STEPS = 150  # optimiser steps the automatic epoch count aims for

# Frozen groups are in eval mode on purpose (BatchNorm statistics stay pre-trained); and the
# accelerator banner and tips say nothing on a CPU-only tool.
warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
warnings.filterwarnings("ignore", message=r".*does not have many workers")
logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)


@dataclass
class TrainingResult:
    model: TransferModel
    epochs_run: int
    history: list[dict[str, float]]
    prefix_cached: bool
    world_size: int


def auto_epochs(n_train: int, batch_size: int) -> int:
    """Enough epochs for about ``TARGET_STEPS`` optimiser steps, between 3 and 40."""
    steps_per_epoch = math.ceil(n_train / batch_size)
    return int(np.clip(math.ceil(TARGET_STEPS / steps_per_epoch), 3, 40))


class _Indices(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class _Collate:
    """Builds a batch from example indices: cached states, or raw inputs through ``preprocess``."""

    def __init__(self, model: TransferModel, items: Sequence[Any], targets: torch.Tensor, *, states: bool, augment: bool, seed: int) -> None:
        self.backbone, self.items, self.targets = model.backbone, items, targets
        self.states, self.augment = states, augment
        self.rng = np.random.default_rng(seed)

    def __call__(self, indices: list[int]) -> tuple[Any, torch.Tensor]:
        rows = [self.items[i] for i in indices]
        if self.states:
            x = self.backbone.merge_states(rows)
        else:
            x = self.backbone.prepare_inputs(rows, self.rng if self.augment else None)
        return x, self.targets[indices]


class FreezeSchedule(Callback):
    """Applies the method's trainable set at every epoch start; its state travels in checkpoints.

    The set is a function of the epoch, so a resumed run recomputes exactly the set an
    uninterrupted run has (Lightning's ``BackboneFinetuning`` instead grows optimiser groups as it
    goes and loses them on resume). Every parameter that is ever trained is in the optimiser
    from the start; frozen ones simply get no gradient.
    """

    def __init__(self, method: Method) -> None:
        self.method = method
        self.first_trainable: int | None = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: TransferModule) -> None:
        first = self.method.trainable_at(trainer.current_epoch, pl_module.model.backbone.num_groups)
        self.first_trainable = pl_module.first_trainable = first
        self.method.configure_trainable(pl_module.model, first)
        pl_module.train(pl_module.training)

    def state_dict(self) -> dict[str, Any]:
        return {"first_trainable": self.first_trainable}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.first_trainable = state_dict["first_trainable"]


class TransferModule(L.LightningModule):
    """One training step for every method: task loss + the method's penalties."""

    def __init__(self, model: TransferModel, method: Method, start: int, total_steps: int) -> None:
        super().__init__()
        self.model, self.method, self.start = model, method, start
        self.task, self.recipe = method.recipe.task, method.recipe
        self.total_steps = total_steps
        self.first_trainable = model.backbone.num_groups
        self.best_loss = math.inf
        self.best_state: dict[str, torch.Tensor] | None = None

    def train(self, mode: bool = True) -> TransferModule:
        """Lightning calls ``train()`` every epoch: keep frozen groups (and BatchNorm stats) in eval."""
        super().train(mode)
        if mode:
            frozen = self.model.backbone.num_groups if not self.method.backbone_train_mode else self.first_trainable
            for group in self.model.backbone.groups[:frozen]:
                group.eval()
            if self.method.frozen_batchnorm:  # affine weights still train; statistics stay pre-trained
                for module in self.model.backbone.modules():
                    if isinstance(module, nn.modules.batchnorm._BatchNorm):
                        module.eval()
        return self

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """Dropout masks depend only on (seed, step), so a resumed run draws the same ones."""
        torch.manual_seed(self.recipe.seed * 1_000_003 + self.global_step)

    def training_step(self, batch: tuple[Any, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        features = self.model.features(x, self.start)
        loss = tasks.loss(self.task, self.model.head(features), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        penalty = self.method.penalty(self.model, features)
        if penalty is not None:
            self.log("penalty", penalty, on_step=False, on_epoch=True, batch_size=len(y), sync_dist=True)
            loss = loss + penalty
        return loss

    def validation_step(self, batch: tuple[Any, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        logits = self.model(x, self.start)
        self.log("val_loss", tasks.loss(self.task, logits, y), prog_bar=True, batch_size=len(y), sync_dist=True)
        if self.task == "classification":
            acc = (logits.argmax(-1) == y).float().mean()
            self.log("val_accuracy", acc, prog_bar=True, batch_size=len(y), sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        loss = float(self.trainer.callback_metrics.get("val_loss", math.inf))
        if loss < self.best_loss:
            self.best_loss = loss
            self.best_state = copy.deepcopy(self.model.state_dict())

    def configure_optimizers(self) -> dict[str, Any]:
        groups = []
        for g in self.method.parameter_groups(self.model):
            decay = 0.0 if (self.recipe.l2sp > 0 and g["name"] != "head") else self.recipe.weight_decay
            matrices = [p for p in g["params"] if p.ndim > 1]
            vectors = [p for p in g["params"] if p.ndim <= 1]  # biases and norms: no decay
            groups += [{"params": matrices, "lr": g["lr"], "weight_decay": decay}, {"params": vectors, "lr": g["lr"], "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self._schedule(optimizer), "interval": "step"}}

    def _schedule(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        total, r = max(self.total_steps, 1), self.recipe
        if r.schedule == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total, pct_start=max(r.warmup, 0.05)
            )
        warm = max(1, int(r.warmup * total))

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            if r.schedule == "constant":
                return 1.0
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def fit_trainer(
    module: L.LightningModule,
    method: Method,
    train_loader: DataLoader,
    val_loaders: DataLoader | list[DataLoader] | None,
    *,
    run_dir: Path | None,
    max_epochs: int,
    progress: bool,
    stop_on: tuple[str, str] | None,
    devices: int | None = None,
    resume: Path | None = None,
) -> tuple[list[dict[str, float]], int, int]:
    """Fit ``module`` with the Lightning ``Trainer`` every trainable method shares; return its
    per-epoch history, the epochs run and the world size.

    Callbacks: the method's freeze schedule, early stopping on ``stop_on = (metric, "min" | "max")``
    with the recipe's patience, checkpoints (``last.ckpt``, for
    resume) and logs in ``run_dir`` when there is one (else in a temporary folder, removed
    afterwards), and a rich progress bar.
    """
    r = method.recipe
    devices = r.devices if devices is None else devices
    callbacks: list[Callback] = [FreezeSchedule(method)]
    if stop_on is not None:
        callbacks.append(EarlyStopping(stop_on[0], patience=r.patience, mode=stop_on[1]))
    if run_dir is not None:
        callbacks.append(ModelCheckpoint(dirpath=Path(run_dir) / "checkpoints", save_last=True, save_top_k=0))
    if progress:
        callbacks.append(RichProgressBar(leave=True))
    world = devices * r.num_nodes
    with tempfile.TemporaryDirectory(prefix="headstart-") as scratch:
        log_dir = Path(run_dir) if run_dir is not None else Path(scratch)
        trainer = L.Trainer(
            accelerator="cpu",
            devices=devices,
            num_nodes=r.num_nodes,
            strategy="ddp_find_unused_parameters_true" if world > 1 else "auto",  # frozen groups get no grads
            precision="bf16-mixed" if r.bf16 else "32-true",
            max_epochs=max_epochs,
            logger=CSVLogger(str(log_dir), name="logs", version=""),
            callbacks=callbacks,
            enable_checkpointing=run_dir is not None,
            enable_progress_bar=progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=1,
            default_root_dir=str(log_dir),
        )
        trainer.fit(module, train_loader, val_loaders, ckpt_path=str(resume) if resume else None)
        return _history(log_dir / "logs" / "metrics.csv"), trainer.current_epoch, trainer.world_size


def _loader(collate: _Collate, n: int, batch_size: int, *, shuffle: bool, seed: int) -> DataLoader:
    sampler = DistributedSampler(_Indices(n), num_replicas=1, rank=0, shuffle=shuffle, seed=seed) if shuffle else None
    return DataLoader(_Indices(n), batch_size=batch_size, sampler=sampler, collate_fn=collate, num_workers=0)


def train(
    model: TransferModel,
    method: Method,
    train_data: Dataset,
    val_data: Dataset | None,
    *,
    run_dir: Path | None = None,
    resume: Path | None = None,
    progress: bool = True,
) -> TrainingResult:
    """Train ``model`` with ``method`` on the shared Lightning loop and return it with its history."""
    r = method.recipe
    L.seed_everything(r.seed, workers=True, verbose=False)
    n_groups = model.backbone.num_groups
    lowest = method.first_trainable(n_groups)
    method.configure_trainable(model, lowest)
    method.setup_penalties(model)
    start = lowest if (lowest > 0 and not r.augment) else 0
    epochs = r.epochs or auto_epochs(len(train_data), r.batch_size)

    def collate(ds: Dataset) -> _Collate:
        items = extract_states(model.backbone, ds, start - 1, bf16=r.bf16, progress=progress) if start else ds.inputs
        targets = tasks.target_tensor(r.task, ds.labels)
        return _Collate(model, items, targets, states=bool(start), augment=r.augment and not start, seed=r.seed)

    world = r.devices * r.num_nodes
    steps = epochs * math.ceil(len(train_data) / (r.batch_size * world))
    module = TransferModule(model, method, start, steps)
    train_loader = _loader(collate(train_data), len(train_data), r.batch_size, shuffle=True, seed=r.seed)
    val_loader = _loader(collate(val_data), len(val_data), 64, shuffle=False, seed=r.seed) if val_data else None

    history, epochs_run, world_size = fit_trainer(
        module, method, train_loader, val_loader, run_dir=run_dir, max_epochs=epochs, progress=progress,
        stop_on=("val_loss", "min") if val_loader is not None else None, resume=resume,
    )
    if module.best_state is not None:
        model.load_state_dict(module.best_state)
    model.eval()
    return TrainingResult(model, epochs_run, history, bool(start), world_size)


def _history(path: Path) -> list[dict[str, float]]:
    """Per-epoch metrics from the CSV log (train and validation rows merged by epoch)."""
    if not path.exists():
        return []
    merged: dict[int, dict[str, float]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            epoch = int(float(row["epoch"]))
            merged.setdefault(epoch, {"epoch": epoch}).update({k: float(v) for k, v in row.items() if v and k not in ("epoch", "step")})
    return [merged[e] for e in sorted(merged)]
