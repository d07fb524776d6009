r"""Adaptation on the shared training path: every step sees labelled source rows and target rows.

A batch (``PairedBatches``) of ``B`` rows holds source rows, then (when some target rows carry
labels: few-shot labels or self-training's pseudo-labels) labelled target rows, then (when an
alignment loss is trained) target rows, ``B`` split evenly between the parts, all through one
forward pass, so BatchNorm layers in training mode see both domains and a step costs what a
fine-tuning step costs. The ``Adaptation`` objective's loss is

.. math:: \mathcal L = \operatorname{CE}(\text{labelled rows}) + w\,L_{\text{align}}(f_s, f_t)
          \;[+\ \text{the base method's penalties}]

Validation scores the unsupervised selection criterion (``headstart.adapt.selection``) on held-out
source rows and a fixed subset of the target every epoch; the best epoch is kept and early stopping
watches the same number. Frozen lower groups are run once and their states cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import CatMetric

from headstart.adapt.algorithms import FeatureAlignment
from headstart.adapt.selection import selection_score
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.features.batching import eval_mode
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.training.data import (
    LabelledRows,
    PairedBatches,
    Rows,
    RunData,
    eval_batches,
    sharded,
)
from headstart.training.objective import Objective

if TYPE_CHECKING:
    from headstart.training.module import TransferModule

UNLABELLED = -1
SOURCE, TARGET = 0, 1


@dataclass
class DomainRows:
    """The rows training consumes for each domain (frozen-prefix states when ``start > 0``)."""

    start: int
    source: Rows
    source_labels: np.ndarray
    val: Rows
    val_labels: np.ndarray
    target: Rows
    selection: np.ndarray  # indices of the target rows the selection criterion looks at

    @classmethod
    def build(
        cls, model: TransferModel, start: int, source: Dataset, val: Dataset, target: Dataset, *,
        recipe: Recipe, progress: bool, selection_size: int,
    ) -> DomainRows:
        """Rows of each dataset (states cached on disk under the backbone's identity)."""

        def rows(data: Dataset) -> Rows:
            return Rows.of(model, data, start, recipe, progress)

        selection = selection_subset(len(target), selection_size, recipe.seed)
        return cls(start, rows(source), source.labels, rows(val), val.labels, rows(target), selection)


def selection_subset(n_target: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of the (at most ``size``) target rows the selection criterion looks at."""
    return np.sort(np.random.default_rng(seed).choice(n_target, min(n_target, size), replace=False))


@dataclass
class Labelled:
    """Target rows with labels for training: few-shot labels, or self-training's pseudo-labels."""

    indices: np.ndarray  # into the target rows
    labels: np.ndarray


class Adaptation(Objective):
    """Cross-entropy on the labelled rows plus ``alignment`` (if any) of source and target features;
    validation scores the selection criterion (kept epoch = best criterion)."""

    monitor = "selection_score"
    mode = "max"

    def __init__(self, alignment: FeatureAlignment | None) -> None:
        super().__init__()
        self.alignment = alignment
        self.probabilities = nn.ModuleList([CatMetric(sync_on_compute=False) for _ in (SOURCE, TARGET)])
        self.val_labels = CatMetric(sync_on_compute=False)

    def loss(self, module: TransferModule, batch: tuple[Any, Tensor]) -> tuple[Tensor, Tensor]:
        x, targets = batch
        labels, domain = targets[:, 0], targets[:, 1]
        features = module.features(x)
        logits = module.model.head(features)
        labelled = labels != UNLABELLED
        loss = F.cross_entropy(logits[labelled].float(), labels[labelled])
        module.log_epoch("train_loss", loss, int(labelled.sum()), prog_bar=True)
        if self.alignment is not None:
            self.alignment.step(module.global_step / max(1, module.total_steps))
            source, target = domain == SOURCE, domain == TARGET
            transfer = self.alignment(features[source], features[target], logits[source], logits[target])
            module.log_epoch("transfer_loss", transfer, len(labels))
            if self.alignment.adversarial:
                module.log_epoch("domain_accuracy", self.alignment.loss.domain_accuracy, len(labels))
            loss = loss + transfer
        return loss, features

    def update(self, module: TransferModule, batch: tuple[Any, Tensor], dataloader_idx: int) -> None:
        x, targets = batch
        self.probabilities[dataloader_idx].update(module.model.head(module.features(x)).float().softmax(-1))
        if dataloader_idx == SOURCE:
            self.val_labels.update(targets[:, 0])

    def compute(self) -> dict[str, float]:
        source, target = (metric.compute().numpy() for metric in self.probabilities)
        selection = selection_score(source, self.val_labels.compute().numpy(), target)
        for metric in (*self.probabilities, self.val_labels):
            metric.reset()
        return selection

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        """The alignment loss's parameters (the domain discriminator) at the backbone's learning rate.

        At the head's (larger) rate the discriminator wins outright: it separates the domains with
        confidence, its saturated loss sends the features almost no reversed gradient, and the
        features stay apart (measured: domain accuracy 1.0 from the second epoch on)."""
        extra = list(self.alignment.parameters()) if self.alignment is not None else []
        return [{"params": extra, "lr": lr, "name": "objective"}] if extra else []


def batch_shares(batch_size: int, n_source: int, n_labelled: int, align: bool) -> tuple[int, int, int]:
    """Rows of one step from the source, the labelled target rows and the target: ``batch_size`` in
    all, split evenly between the parts present (the source takes the remainder), so that an
    adaptation step costs what a fine-tuning step of the same batch size costs."""
    parts = 1 + (n_labelled > 0) + align
    share = max(1, batch_size // parts)
    source = max(1, min(batch_size - share * (parts - 1), n_source))
    return source, min(share, n_labelled), share if align else 0


def paired_domains(rows: DomainRows, labelled: Labelled | None, start: int, *, align: bool, recipe: Recipe) -> RunData:
    """Training on ``PairedBatches`` of ``[source | target]`` rows (``targets[:, 0]`` the label, -1:
    none, ``targets[:, 1]`` the domain), ``recipe.batch_size`` rows a step (``batch_shares``); an
    epoch covers the source once, and the automatic epoch count is sized to the rows it passes (the
    rule of fine-tuning). Validation on the source's held-out rows and the target's selection
    subset. ``rows`` must have been built for a model run from group ``start``."""
    if start != rows.start:
        raise HeadstartError(f"internal: rows built from group {rows.start} for a run from group {start}")
    n_source, n_target = len(rows.source), len(rows.target)
    labels = np.concatenate([rows.source_labels, np.full(n_target, UNLABELLED)])
    if labelled is not None:
        labels[n_source + labelled.indices] = labelled.labels
    domains = np.r_[np.full(n_source, SOURCE), np.full(n_target, TARGET)]
    chosen = labelled.indices if labelled is not None else np.zeros(0, dtype=int)
    source_batch, labelled_batch, target_batch = batch_shares(recipe.batch_size, n_source, len(chosen), align)
    batches = sharded(lambda: PairedBatches(n_source, n_target, source_batch, target_batch, chosen, labelled_batch, recipe.seed))
    passed = max(1, n_source // source_batch) * (source_batch + labelled_batch + target_batch)
    selected = rows.target.subset(rows.selection)
    val = [
        (LabelledRows(rows.val, _targets(rows.val_labels, SOURCE)), eval_batches(rows.val)),
        (LabelledRows(selected, _targets(np.full(len(selected), UNLABELLED), TARGET)), eval_batches(selected)),
    ]
    return RunData(LabelledRows(rows.source.join(rows.target), _targets(labels, domains)), batches, val, passed)


def _targets(labels: np.ndarray, domains: np.ndarray | int) -> Tensor:
    return torch.as_tensor(np.stack([labels, np.broadcast_to(domains, labels.shape)], 1), dtype=torch.long)


def encode(model: TransferModel, rows: Rows, start: int, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features ``(n, d)`` and class probabilities ``(n, C)`` of ``model`` on ``rows``
    (run from group ``start``), in eval mode, in batches of rows of similar length."""
    batches = eval_batches(rows, batch_size)
    features, probabilities = [], []
    with eval_mode(model.backbone), torch.inference_mode():
        for indices in batches:
            x = rows.take(indices)
            f = x if rows.kind == "features" else model.features(x, start)
            features.append(f.float().numpy())
            probabilities.append(model.head(f).float().softmax(-1).numpy())
    order = np.argsort(np.concatenate(batches))  # back to the rows' order
    return np.concatenate(features)[order], np.concatenate(probabilities)[order]
