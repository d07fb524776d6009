"""``Forecasting``: the pinball loss of the head's ``(B, H, Q)`` quantiles against the normalised
targets; the validation pinball loss is what keep-best and early stopping watch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from headstart.forecast.metrics import QUANTILES
from headstart.training.objective import Objective, mean_metric

if TYPE_CHECKING:
    from headstart.training.module import TransferModule


def pinball(q: Tensor, y: Tensor, levels: Tensor) -> Tensor:
    """Mean pinball loss of quantiles ``q`` ``(B, H, Q)`` for targets ``y`` ``(B, H)``; NaN targets are ignored."""
    observed = torch.isfinite(y)
    diff = torch.where(observed, y, torch.zeros_like(y)).unsqueeze(-1) - q
    loss = torch.maximum(levels * diff, (levels - 1) * diff) * observed.unsqueeze(-1)
    return loss.sum() / (observed.sum() * q.shape[-1]).clamp(min=1)


class Forecasting(Objective):
    """Batches ``(x, y)``: ``x`` a series batch with ``normalise``, ``y`` ``(B, H)`` raw targets."""

    monitor = "val_loss"
    mode = "min"

    def __init__(self, quantiles: Sequence[float] = QUANTILES) -> None:
        super().__init__()
        self.register_buffer("levels", torch.tensor(quantiles, dtype=torch.float32), persistent=False)
        self.val_loss = mean_metric()

    def _loss(self, module: TransferModule, batch: tuple[Any, Tensor]) -> tuple[Tensor, Tensor]:
        x, y = batch
        features = module.features(x)
        return pinball(module.model.head(features).float(), x.normalise(y).float(), self.levels), features

    def loss(self, module: TransferModule, batch: tuple[Any, Tensor]) -> tuple[Tensor, Tensor]:
        loss, features = self._loss(module, batch)
        module.log_epoch("train_loss", loss, len(batch[1]), prog_bar=True)
        return loss, features

    def update(self, module: TransferModule, batch: tuple[Any, Tensor], dataloader_idx: int) -> None:
        self.val_loss.update(self._loss(module, batch)[0], len(batch[1]))

    def compute(self) -> dict[str, float]:
        metrics = {"val_loss": float(self.val_loss.compute())}
        self.val_loss.reset()
        return metrics
