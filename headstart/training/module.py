"""The one ``LightningModule``: every kind of run's training step, through its ``Objective``."""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from transformers import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
)

from headstart.methods.base import Method
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.training.objective import Objective


class TransferModule(L.LightningModule):
    """``objective.loss(batch)`` + the method's penalties, on the trainable part of ``model``.

    Groups below ``start`` are never run (their output is cached); with ``start == num_groups``
    the rows are the pooled features themselves. The module keeps frozen groups in eval mode,
    seeds dropout per step, and builds the optimiser (the method's parameter groups and the
    objective's own, AdamW without decay on vectors) and the learning-rate schedule.
    """

    def __init__(self, model: TransferModel, method: Method, objective: Objective, start: int, total_steps: int,
                 first_step: int = 0) -> None:
        super().__init__()
        self.model, self.method, self.objective, self.start = model, method, objective, start
        self.recipe: Recipe = method.recipe
        self.total_steps, self.first_step = total_steps, first_step  # the schedule's length, and where this run starts on it
        self.first_trainable = model.backbone.num_groups  # set by the freeze schedule every epoch
        self.validation_metrics: dict[str, float] = {}

    def features(self, x: Any) -> Tensor:
        """Pooled features of a batch of rows."""
        return x if self.start == self.model.backbone.num_groups else self.model.features(x, self.start)

    def log_epoch(self, name: str, value: Tensor | float, batch_size: int, *, prog_bar: bool = False) -> None:
        """Log a training quantity as its mean over the epoch (and over processes)."""
        self.log(name, value, on_step=False, on_epoch=True, prog_bar=prog_bar, batch_size=batch_size, sync_dist=True)

    def train(self, mode: bool = True) -> TransferModule:
        """Lightning calls ``train()`` every epoch: keep frozen groups (and BatchNorm stats) in eval."""
        super().train(mode)
        if mode:
            backbone = self.model.backbone
            frozen = backbone.num_groups if not self.method.backbone_train_mode else self.first_trainable
            for group in backbone.groups[:frozen]:
                group.eval()
            if self.method.frozen_batchnorm:  # affine weights still train; statistics stay pre-trained
                for module in backbone.modules():
                    if isinstance(module, nn.modules.batchnorm._BatchNorm):
                        module.eval()
        return self

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """Dropout masks depend only on (seed, step), so a resumed run draws the same ones."""
        torch.manual_seed(self.recipe.seed * 1_000_003 + self.first_step + self.global_step)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, features = self.objective.loss(self, batch)
        penalty = self.method.penalty(self.model, features)
        if penalty is not None:
            self.log_epoch("penalty", penalty, len(features))
            loss = loss + penalty
        return loss

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.objective.update(self, batch, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        self.validation_metrics = self.objective.compute()
        self.log_dict(self.validation_metrics, prog_bar=True, sync_dist=True)

    def kept_state(self) -> dict[str, Tensor]:
        """What a best epoch is: the tensors that train (``method.changed_state``) and the objective's."""
        model = {f"model.{k}": v for k, v in self.method.changed_state(self.model).items()}
        return model | {f"objective.{k}": v for k, v in self.objective.state_dict().items()}

    def restore_kept(self, state: dict[str, Tensor]) -> None:
        """Put a ``kept_state`` back."""
        self.method.load_changed_state(self.model, {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")})
        self.objective.load_state_dict({k.removeprefix("objective."): v for k, v in state.items() if k.startswith("objective.")}, strict=False)

    def configure_optimizers(self) -> dict[str, Any]:
        r = self.recipe
        named = self.method.parameter_groups(self.model)
        named += self.objective.parameter_groups(self.method.learning_rate(self.model.backbone))
        groups = []
        for g in named:
            decay = 0.0 if (r.l2sp > 0 and g["name"] not in ("head", "objective")) else r.weight_decay  # L2-SP replaces decay
            matrices = [p for p in g["params"] if p.ndim > 1]
            vectors = [p for p in g["params"] if p.ndim <= 1]  # biases and norms: no decay
            groups += [{"params": matrices, "lr": g["lr"], "weight_decay": decay}, {"params": vectors, "lr": g["lr"], "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
        scheduler = schedule(optimizer, r, self.total_steps)
        with warnings.catch_warnings():  # moving the schedule on before any optimiser step is the point here
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(self.first_step):
                scheduler.step()
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def schedule(optimizer: torch.optim.Optimizer, recipe: Recipe, total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """``recipe.schedule`` over ``total_steps``: linear warm-up over ``recipe.warmup`` of them, then
    cosine decay to 0 or a constant rate; or one-cycle."""
    total = max(total_steps, 1)
    if recipe.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total, pct_start=max(recipe.warmup, 0.05)
        )
    warm = max(1, int(recipe.warmup * total))
    if recipe.schedule == "constant":
        return get_constant_schedule_with_warmup(optimizer, warm)
    return get_cosine_schedule_with_warmup(optimizer, warm, total)
