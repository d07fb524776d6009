"""``run``: one training run of any kind on Lightning's ``Trainer``.

Seed, set what trains, set up the method's penalties, choose the epoch count, build the rows
(frozen groups run once: their output is cached), the ``TransferModule`` and the callbacks, fit
(checkpoints every epoch and resume, early stopping, CSV logs, bf16, rich progress bars,
multi-process / multi-node DDP), and put the best epoch's state back.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
)
from lightning.pytorch.loggers import CSVLogger

from headstart.artifacts import process_alive
from headstart.errors import HeadstartError
from headstart.methods.base import Method
from headstart.model import TransferModel
from headstart.training.callbacks import (
    EpochProgressBar,
    FreezeSchedule,
    History,
    KeepBest,
    SafeCheckpoint,
)
from headstart.training.data import RunData
from headstart.training.module import TransferModule
from headstart.training.objective import Objective

TARGET_STEPS = 150  # optimiser steps the automatic epoch count aims for
SCRATCH_PREFIX = "headstart-"  # a run's scratch folder in the system temporary folder: headstart-<pid>-<random>
STALE_SECONDS = 24 * 3600


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
    part: tuple[int, int] = (0, 1),
    budget: float = 1.0,
) -> RunResult:
    """Train ``model`` with ``method`` towards ``objective`` on ``data(start)`` (the rows of a model
    run from group ``start``) and return it at its best epoch, with the run's history.

    The best epoch is the one ``objective.monitor`` prefers (``objective.mode``); early stopping
    watches the same metric with the recipe's patience. With ``run_dir`` the checkpoints
    (``checkpoints/last.ckpt``, written every epoch) and logs go there (else to a temporary
    folder, removed afterwards); ``resume`` (a checkpoint, or a run folder: its latest checkpoint)
    continues from there, and the run's metrics log keeps the epochs before it. ``part=(i, n)``
    makes this run the ``i``-th (from 0) of ``n`` alike that together make one (a federated
    client's rounds): the learning-rate schedule spans all ``n`` and this run follows its ``i``-th
    stretch, and the data order and dropout masks move on with ``i``. ``budget`` scales the epoch
    count (the recipe's, or the automatic one; at least one epoch): self-training's rounds share one.
    """
    r = method.recipe
    index, parts = part
    L.seed_everything(r.seed + index, workers=True, verbose=False)
    lowest = method.first_trainable(model.backbone.num_groups)
    method.configure_trainable(model, lowest)
    method.setup_penalties(model)
    start = lowest if (lowest > 0 and not r.augment) else 0
    rows = data(start)
    epochs = max(1, math.ceil(budget * (r.epochs or auto_epochs(rows.n_train, r.batch_size))))
    world = r.devices * r.num_nodes
    steps = epochs * rows.steps_per_epoch(world)
    module = TransferModule(model, method, objective, start, parts * steps, first_step=index * steps)
    keep = KeepBest(objective.monitor, objective.mode)
    history = History()
    callbacks: list[Callback] = [FreezeSchedule(method), keep, history]
    if rows.val:
        callbacks.append(EarlyStopping(objective.monitor, patience=r.patience, mode=objective.mode))
    if run_dir is not None:
        callbacks.append(SafeCheckpoint(str(Path(run_dir) / "checkpoints"), r.checkpoint_steps))
    checkpoint = checkpoint_to_resume(resume) if resume is not None else None
    if progress:
        callbacks.append(EpochProgressBar(leave=True))
    clean_stale_scratch()
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as scratch:
        log_dir = Path(run_dir) if run_dir is not None else Path(scratch)
        metrics = log_dir / "logs" / "metrics.csv"
        earlier = _rows(metrics) if checkpoint is not None else []  # Lightning's logger starts the file afresh
        trainer = L.Trainer(
            accelerator="cpu",
            devices=r.devices,
            num_nodes=r.num_nodes,
            strategy="ddp_find_unused_parameters_true" if world > 1 else "auto",  # frozen groups get no grads
            precision="bf16-mixed" if r.bf16 else "32-true",
            max_epochs=epochs,
            logger=CSVLogger(str(log_dir), name="logs", version="", flush_logs_every_n_steps=1),  # a killed run keeps its log
            callbacks=callbacks,
            enable_checkpointing=run_dir is not None,
            enable_progress_bar=progress,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=1,
            use_distributed_sampler=False,  # the batch samplers shard themselves (headstart.training.data)
            default_root_dir=str(log_dir),
        )
        trainer.fit(module, datamodule=rows, ckpt_path=str(checkpoint) if checkpoint else None, weights_only=True)
        if earlier and trainer.is_global_zero:
            _prepend(metrics, earlier)
    keep.restore(module)
    model.eval()
    return RunResult(model, trainer.current_epoch, history.rows, bool(start), trainer.world_size, keep.best_metrics)


def checkpoint_to_resume(resume: Path) -> Path:
    """``resume`` itself if it is a checkpoint file, else the latest checkpoint of the run folder ``resume``."""
    if resume.is_file():
        return resume
    candidates = [resume / "checkpoints" / "last.ckpt", resume / "last.ckpt"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise HeadstartError(
            f"--resume {resume}: no checkpoint there (a run with --out writes RUN/checkpoints/last.ckpt after each epoch)")
    return found


def clean_stale_scratch(directory: str | Path | None = None) -> list[Path]:
    """Remove the scratch folders that killed runs left in ``directory`` (the system temporary
    folder): those whose owning process is gone, and unowned ones older than a day. Returns them."""
    removed = []
    for path in Path(directory or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        owner, dash, _ = path.name.removeprefix(SCRATCH_PREFIX).partition("-")
        try:
            if dash and owner.isdigit():
                stale = not process_alive(int(owner))
            else:  # named by an older headstart, without its owner
                stale = time.time() - path.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if stale and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _prepend(path: Path, earlier: list[dict[str, str]]) -> None:
    """Put the metrics rows of the epochs before a resume back in front of the resumed run's."""
    later = _rows(path)
    first = min((int(float(r["epoch"])) for r in later if r.get("epoch")), default=None)
    kept = [r for r in earlier if first is None or (r.get("epoch") and int(float(r["epoch"])) < first)]
    columns = list(dict.fromkeys(k for r in kept + later for k in r))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(kept + later)
