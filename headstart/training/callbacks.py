"""The callbacks every run uses: keep the best epoch, the method's freeze schedule, the progress bar.

Both keep their state in checkpoints, so a resumed run ends exactly like an uninterrupted one.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, RichProgressBar
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


class EpochProgressBar(RichProgressBar):
    """Lightning's rich progress bar, counting epochs from 1: "Epoch 1/3" … "Epoch 3/3"."""

    def _get_train_description(self, current_epoch: int) -> str:
        description = f"Epoch {current_epoch + 1}"
        if self.trainer.max_epochs is not None and self.trainer.max_epochs > 0:
            description += f"/{self.trainer.max_epochs}"
        return f"{description:{len(self.validation_description)}}"  # as wide as "Validation": no flicker
