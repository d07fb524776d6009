"""``run``: one training run of any kind on Lightning's ``Trainer``.

Seed, set what trains, set up the method's penalties, choose the epoch count, build the rows
(frozen groups run once: their output is cached), the ``TransferModule`` and the callbacks, fit
(checkpoints every epoch and resume, early stopping, CSV logs, bf16, rich progress bars,
multi-process / multi-node DDP), and put the best epoch's state back.
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    ModelCheckpoint,
)
from lightning.pytorch.loggers import CSVLogger

from headstart.methods.base import Method
from headstart.model import TransferModel
from headstart.training.callbacks import EpochProgressBar, FreezeSchedule, KeepBest
from headstart.training.data import RunData
from headstart.training.module import TransferModule
from headstart.training.objective import Objective

TARGET_STEPS = 150  # optimiser steps the automatic epoch count aims for


@dataclass
class RunResult:
    model: TransferModel
    epochs_run: int
    history: list[dict[str, float]]
    prefix_cached: bool
    world_size: int
    best: dict[str, float] = field(default_factory=dict)  # the kept epoch's validation metrics and its number


def auto_epochs(n_train: int, batch_size: int) -> int:
    """Enough epochs for about ``TARGET_STEPS`` optimiser steps, between 3 and 40."""
    steps_per_epoch = math.ceil(n_train / batch_size)
    return int(np.clip(math.ceil(TARGET_STEPS / steps_per_epoch), 3, 40))


def run(
    model: TransferModel,
    method: Method,
    objective: Objective,
    data: Callable[[int], RunData],
    *,
    run_dir: Path | None = None,
    resume: Path | None = None,
    progress: bool = False,
) -> RunResult:
    """Train ``model`` with ``method`` towards ``objective`` on ``data(start)`` (the rows of a model
    run from group ``start``) and return it at its best epoch, with the run's history.

    The best epoch is the one ``objective.monitor`` prefers (``objective.mode``); early stopping
    watches the same metric with the recipe's patience. With ``run_dir`` the checkpoints
    (``checkpoints/last.ckpt``, written every epoch) and logs go there (else to a temporary
    folder, removed afterwards); ``resume`` continues from a checkpoint.
    """
    r = method.recipe
    L.seed_everything(r.seed, workers=True, verbose=False)
    lowest = method.first_trainable(model.backbone.num_groups)
    method.configure_trainable(model, lowest)
    method.setup_penalties(model)
    start = lowest if (lowest > 0 and not r.augment) else 0
    rows = data(start)
    epochs = r.epochs or auto_epochs(rows.n_train, r.batch_size)
    world = r.devices * r.num_nodes
    module = TransferModule(model, method, objective, start, epochs * rows.steps_per_epoch(world))
    keep = KeepBest(objective.monitor, objective.mode)
    callbacks: list[Callback] = [FreezeSchedule(method), keep]
    if rows.val:
        callbacks.append(EarlyStopping(objective.monitor, patience=r.patience, mode=objective.mode))
    if run_dir is not None:
        callbacks.append(ModelCheckpoint(dirpath=Path(run_dir) / "checkpoints", save_last=True, save_top_k=0, every_n_epochs=1))
    if progress:
        callbacks.append(EpochProgressBar(leave=True))
    with tempfile.TemporaryDirectory(prefix="headstart-") as scratch:
        log_dir = Path(run_dir) if run_dir is not None else Path(scratch)
        trainer = L.Trainer(
            accelerator="cpu",
            devices=r.devices,
            num_nodes=r.num_nodes,
            strategy="ddp_find_unused_parameters_true" if world > 1 else "auto",  # frozen groups get no grads
            precision="bf16-mixed" if r.bf16 else "32-true",
            max_epochs=epochs,
            logger=CSVLogger(str(log_dir), name="logs", version=""),
            callbacks=callbacks,
            enable_checkpointing=run_dir is not None,
            enable_progress_bar=progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=1,
            use_distributed_sampler=False,  # the batch samplers shard themselves (headstart.training.data)
            default_root_dir=str(log_dir),
        )
        trainer.fit(module, datamodule=rows, ckpt_path=str(resume) if resume else None, weights_only=True)
        history = _history(log_dir / "logs" / "metrics.csv")
    keep.restore(module)
    model.eval()
    return RunResult(model, trainer.current_epoch, history, bool(start), trainer.world_size, keep.best_metrics)


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
