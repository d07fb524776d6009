"""The callbacks every run uses: keep the best epoch, the method's freeze schedule, the epoch
history, checkpoints that a full disk cannot turn into a lost run, and the progress bar.

KeepBest, FreezeSchedule and History keep their state in checkpoints, so a resumed run ends exactly like an uninterrupted one.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, RichProgressBar
from torch import Tensor

from headstart.methods.base import Method
from headstart.training.module import TransferModule


class KeepBest(Callback):
    """Keeps, in memory, the module's ``kept_state`` at the best value of ``monitor`` (``mode`` =
    ``"min"`` or ``"max"``) and that epoch's validation metrics; ``restore`` puts them back."""

    def __init__(self, monitor: str, mode: str) -> None:
        self.monitor, self.sign = monitor, 1.0 if mode == "max" else -1.0
        self.best_score = -math.inf  # sign * monitor
        self.best_state: dict[str, Tensor] | None = None
        self.best_metrics: dict[str, float] = {}

    def on_validation_end(self, trainer: L.Trainer, pl_module: TransferModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None:
            return
        if self.sign * float(value) > self.best_score:
            self.best_score = self.sign * float(value)
            self.best_state = {k: v.detach().clone() for k, v in pl_module.kept_state().items()}
            self.best_metrics = {**pl_module.validation_metrics, "epoch": trainer.current_epoch}

    def restore(self, module: TransferModule) -> None:
        if self.best_state is not None:
            module.restore_kept(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "best_state": self.best_state, "best_metrics": self.best_metrics}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_score, self.best_state = state_dict["best_score"], state_dict["best_state"]
        self.best_metrics = state_dict["best_metrics"]


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


class History(Callback):
    """Each epoch's metrics (training means and validation) and its training time (``train_seconds``
    of wall time and ``train_cpu_seconds`` of this process's CPU time, from the epoch's start to its
    last optimiser step, data loading included and validation not, over ``train_batches`` batches),
    kept in checkpoints so that a resumed run reports every epoch,
    including those logged just before a crash."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.started = self.last_step = self.cpu_started = self.cpu_last_step = 0.0
        self.batches = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: TransferModule) -> None:
        self.started, self.cpu_started, self.batches = time.perf_counter(), time.process_time(), 0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: TransferModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.last_step, self.cpu_last_step, self.batches = time.perf_counter(), time.process_time(), self.batches + 1

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: TransferModule) -> None:
        if trainer.is_global_zero:  # as the CSV log: process 0 records
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
            timing = {"train_seconds": self.last_step - self.started, "train_cpu_seconds": self.cpu_last_step - self.cpu_started,
                      "train_batches": self.batches} if self.batches else {}
            self.rows.append({"epoch": trainer.current_epoch, **metrics, **timing})

    def state_dict(self) -> dict[str, Any]:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = list(state_dict["rows"])


class SafeCheckpoint(ModelCheckpoint):
    """``last.ckpt`` at every epoch's end (and every ``every_n_train_steps``), written atomically by
    Lightning (fsspec's transaction: a temporary file renamed into place). A write that fails (a
    full disk, a read-only folder) costs that checkpoint, never the run: one warning says why and
    how much space a checkpoint needs, the previous checkpoint stays, and training goes on."""

    def __init__(self, dirpath: str, every_n_train_steps: int = 0) -> None:
        when = {"every_n_train_steps": every_n_train_steps} if every_n_train_steps else {"every_n_epochs": 1}
        super().__init__(dirpath=dirpath, save_last=True, save_top_k=0, **when)
        self.failures = 0
        self.written_at = -1  # the global step of the last write

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Tensor]) -> None:
        """No top-k files; ``last.ckpt`` instead, whenever the trigger fires (Lightning writes
        ``last`` only after a top-k save, so with ``save_top_k=0`` it would wait for the end)."""
        self._save_last_checkpoint(trainer, monitor_candidates)

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Tensor]) -> None:
        if self.written_at != trainer.global_step:
            self.written_at = trainer.global_step
            super()._save_last_checkpoint(trainer, monitor_candidates)

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        try:
            super()._save_checkpoint(trainer, filepath)
        except OSError as exc:
            self.failures += 1
            if self.failures == 1:
                needed = sum(p.numel() * p.element_size() for p in trainer.lightning_module.parameters()) * 3  # weights + AdamW moments
                folder = Path(self.dirpath or ".")
                while not folder.exists():
                    folder = folder.parent
                free = shutil.disk_usage(folder).free
                logging.getLogger("headstart").warning(
                    "checkpoint not written (%s): about %.0f MB needed, %.0f MB free; training goes on without checkpoints",
                    exc.strerror or exc, needed / 1e6, free / 1e6)


class EpochProgressBar(RichProgressBar):
    """Lightning's rich progress bar, counting epochs from 1: "Epoch 1/3" … "Epoch 3/3"."""

    def _get_train_description(self, current_epoch: int) -> str:
        description = f"Epoch {current_epoch + 1}"
        if self.trainer.max_epochs is not None and self.trainer.max_epochs > 0:
            description += f"/{self.trainer.max_epochs}"
        return f"{description:{len(self.validation_description)}}"  # as wide as "Validation": no flicker
