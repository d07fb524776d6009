"""The objective hook: what one kind of run computes on a batch and how it scores validation.

The ``TransferModule`` owns everything runs share (frozen groups, dropout seeds, optimiser,
schedule, the method's penalties); an ``Objective`` supplies the rest: the loss of a training
batch, validation metrics (torchmetrics, on every rank's full validation data, so every process
keeps the same best epoch), the metric keep-best and early stopping watch, and any parameters of
its own (a domain discriminator), which train and are saved with the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from torch import Tensor, nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from headstart import tasks

if TYPE_CHECKING:
    from headstart.training.module import TransferModule


class Objective(nn.Module):
    """A kind of run's part of the training step; subclasses implement ``loss``, ``update``, ``compute``."""

    monitor: ClassVar[str] = "val_loss"
    mode: ClassVar[str] = "min"

    def loss(self, module: TransferModule, batch: Any) -> tuple[Tensor, Tensor]:
        """The loss of a training batch and the pooled features it was computed on (for penalties)."""
        raise NotImplementedError

    def update(self, module: TransferModule, batch: Any, dataloader_idx: int) -> None:
        """Accumulate the validation metrics over one batch."""
        raise NotImplementedError

    def compute(self) -> dict[str, float]:
        """The epoch's validation metrics (``monitor`` among them); resets the accumulators."""
        raise NotImplementedError

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        """Optimiser groups (``params``, ``lr``, ``name="objective"``) for the objective's own
        parameters; ``lr`` is the backbone's rate."""
        return []


def mean_metric() -> MeanMetric:
    """A running mean; validation data is never sharded, so no process needs another's."""
    return MeanMetric(sync_on_compute=False)


def accuracy_metric(num_classes: int) -> MulticlassAccuracy:
    return MulticlassAccuracy(num_classes, average="micro", sync_on_compute=False)


class SingleTask(Objective):
    r"""One task's loss on ``(x, y)`` batches; validation loss (and accuracy for classification).

    With ``log_prior`` (classification: the log of the training labels' frequencies), the training
    loss is the logit-adjusted cross-entropy (Menon et al., "Long-tail learning via logit
    adjustment", 2021) :math:`-\log \mathrm{softmax}(f(x) + \log \pi)_y`: the model's own logits
    :math:`f` then fit the class-balanced posterior (:math:`p(x \mid y)` up to a constant)
    whatever the prior :math:`\pi` of the data it trains on. Validation scores the model's own logits."""

    def __init__(self, task: str, out_dim: int, log_prior: Tensor | None = None) -> None:
        super().__init__()
        self.task = task
        self.val_loss = mean_metric()
        self.val_accuracy = accuracy_metric(out_dim) if task == "classification" else None
        self.register_buffer("log_prior", log_prior, persistent=False)

    def loss(self, module: TransferModule, batch: tuple[Any, Tensor]) -> tuple[Tensor, Tensor]:
        x, y = batch
        features = module.features(x)
        logits = module.model.head(features)
        loss = tasks.loss(self.task, logits if self.log_prior is None else logits + self.log_prior, y)
        module.log_epoch("train_loss", loss, len(y), prog_bar=True)
        return loss, features

    def update(self, module: TransferModule, batch: tuple[Any, Tensor], dataloader_idx: int) -> None:
        x, y = batch
        logits = module.model.head(module.features(x))
        self.val_loss.update(tasks.loss(self.task, logits, y).float(), len(y))
        if self.val_accuracy is not None:
            self.val_accuracy.update(logits.argmax(-1), y)

    def compute(self) -> dict[str, float]:
        metrics = {"val_loss": float(self.val_loss.compute())}
        self.val_loss.reset()
        if self.val_accuracy is not None:
            metrics["val_accuracy"] = float(self.val_accuracy.compute())
            self.val_accuracy.reset()
        return metrics
