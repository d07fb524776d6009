r"""Adaptation on the shared engine: every step sees labelled source rows and unlabelled target rows.

A batch holds ``B`` source rows, then (when some target rows carry labels: few-shot labels or
self-training's pseudo-labels) up to ``B`` labelled target rows, then (when an alignment loss is
trained) ``B`` target rows, all through one forward pass, so BatchNorm layers in training mode see
both domains. The loss is

.. math:: \mathcal L = \operatorname{CE}(\text{labelled rows}) + w\,L_{\text{align}}(f_s, f_t)
          \;[+\ \text{the base method's penalties}]

Validation scores the unsupervised selection criterion (``headstart.adapt.selection``) on held-out
source rows and a fixed subset of the target every epoch; the best epoch is kept and early stopping
watches the same number. Frozen lower groups are run once and their states cached, as in
``headstart.engine``. Adaptation runs in one process (no DDP), without augmentation, and does not
resume.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Sampler

from headstart.adapt.algorithms import FeatureAlignment
from headstart.adapt.selection import selection_score
from headstart.data.dataset import Dataset
from headstart.engine import TransferModule, _Collate, auto_epochs, fit_trainer
from headstart.errors import HeadstartError
from headstart.features import extract_states
from headstart.features.batching import eval_mode, plan_batches, prepare_batch
from headstart.methods.base import Method
from headstart.model import TransferModel

UNLABELLED = -1
SOURCE, TARGET = 0, 1


@dataclass
class DomainRows:
    """The rows training consumes for each domain: frozen-prefix states when ``start > 0``, else inputs."""

    start: int
    source: Sequence[Any]
    source_labels: np.ndarray
    val: Sequence[Any]
    val_labels: np.ndarray
    target: Sequence[Any]
    selection: np.ndarray  # indices of the target rows the selection criterion looks at

    @classmethod
    def build(
        cls, model: TransferModel, start: int, source: Dataset, val: Dataset, target: Dataset, *,
        bf16: bool, progress: bool, selection_size: int, seed: int,
    ) -> DomainRows:
        """Rows of each dataset (states cached on disk under the backbone's identity)."""

        def rows(data: Dataset) -> Sequence[Any]:
            if not start:
                return data.inputs
            return extract_states(model.backbone, data, start - 1, bf16=bf16, progress=progress)

        selection = selection_subset(len(target), selection_size, seed)
        return cls(start, rows(source), source.labels, rows(val), val.labels, rows(target), selection)


def selection_subset(n_target: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of the (at most ``size``) target rows the selection criterion looks at."""
    return np.sort(np.random.default_rng(seed).choice(n_target, min(n_target, size), replace=False))


@dataclass
class Labelled:
    """Target rows with labels for training: few-shot labels, or self-training's pseudo-labels."""

    indices: np.ndarray  # into the target rows
    labels: np.ndarray


@dataclass
class AdaptationRun:
    model: TransferModel
    selection: dict[str, float]  # the kept epoch's criterion values, and the epoch
    history: list[dict[str, float]]
    epochs_run: int


class PairedBatches(Sampler[list[int]]):
    """Index batches over rows ``[source | target]``, the source reshuffled on every pass.

    Each batch: ``batch`` source rows (``len(self)`` batches cover the source once, dropping the
    remainder), ``min(batch, len(labelled))`` rows drawn from ``labelled`` (indices into the
    target) and ``target_batch`` target rows, both cycling through fresh permutations.
    """

    def __init__(self, n_source: int, n_target: int, batch: int, target_batch: int, labelled: np.ndarray, seed: int) -> None:
        self.n_source, self.n_target, self.batch, self.target_batch = n_source, n_target, batch, target_batch
        self.labelled = labelled
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return max(1, self.n_source // self.batch)

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self)
        source = self.rng.permutation(self.n_source)
        labelled_batch = min(self.batch, len(self.labelled))
        labelled = self.labelled[self._cycle(len(self.labelled), n * labelled_batch)]
        target = self._cycle(self.n_target, n * self.target_batch)
        for b in range(n):
            rows = [
                source[b * self.batch : (b + 1) * self.batch],
                self.n_source + labelled[b * labelled_batch : (b + 1) * labelled_batch],
                self.n_source + target[b * self.target_batch : (b + 1) * self.target_batch],
            ]
            yield np.concatenate(rows).tolist()

    def _cycle(self, n: int, count: int) -> np.ndarray:
        """``count`` indices from consecutive permutations of ``range(n)``."""
        if count == 0:
            return np.zeros(0, dtype=int)
        return np.concatenate([self.rng.permutation(n) for _ in range(math.ceil(count / n))])[:count]


class AdaptationModule(TransferModule):
    """A ``TransferModule`` whose step adds the alignment loss and whose validation scores the
    unsupervised selection criterion (kept epoch = best criterion, not lowest validation loss)."""

    def __init__(self, model: TransferModel, method: Method, start: int, total_steps: int, alignment: FeatureAlignment | None) -> None:
        super().__init__(model, method, start, total_steps)
        self.alignment = alignment
        self.best_score = -math.inf
        self.best_selection: dict[str, float] = {}
        self._outputs: dict[int, list[torch.Tensor]] = {SOURCE: [], TARGET: []}
        self._val_labels: list[torch.Tensor] = []

    def training_step(self, batch: tuple[Any, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, targets = batch
        labels, domain = targets[:, 0], targets[:, 1]
        features = self.model.features(x, self.start)
        logits = self.model.head(features)
        labelled = labels != UNLABELLED
        loss = F.cross_entropy(logits[labelled].float(), labels[labelled])
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=int(labelled.sum()))
        if self.alignment is not None:
            self.alignment.step(self.global_step / max(1, self.total_steps))
            source, target = domain == SOURCE, domain == TARGET
            transfer = self.alignment(features[source], features[target], logits[source], logits[target])
            self.log("transfer_loss", transfer, on_step=False, on_epoch=True, batch_size=len(labels))
            if self.alignment.adversarial:
                self.log("domain_accuracy", self.alignment.loss.domain_accuracy, on_step=False, on_epoch=True, batch_size=len(labels))
            loss = loss + transfer
        penalty = self.method.penalty(self.model, features)
        return loss if penalty is None else loss + penalty

    def validation_step(self, batch: tuple[Any, torch.Tensor], batch_idx: int, dataloader_idx: int = 0) -> None:
        x, targets = batch
        self._outputs[dataloader_idx].append(self.model(x, self.start).float().softmax(-1))
        if dataloader_idx == SOURCE:
            self._val_labels.append(targets[:, 0])

    def on_validation_epoch_end(self) -> None:
        source, target = (torch.cat(self._outputs[d]).numpy() for d in (SOURCE, TARGET))
        selection = selection_score(source, torch.cat(self._val_labels).numpy(), target)
        self.log_dict(selection)
        if selection["selection_score"] > self.best_score:
            self.best_score = selection["selection_score"]
            self.best_selection = {**selection, "epoch": self.current_epoch}
            self.best_state = copy.deepcopy(self.model.state_dict())
        self._outputs, self._val_labels = {SOURCE: [], TARGET: []}, []

    def configure_optimizers(self) -> dict[str, Any]:
        """The base method's optimiser plus a group for the alignment loss's parameters (the domain
        discriminator) at the backbone's learning rate, and the schedule rebuilt over all groups.

        At the head's (larger) rate the discriminator wins outright: it separates the domains with
        confidence, its saturated loss sends the features almost no reversed gradient, and the
        features stay apart (measured: domain accuracy 1.0 from the second epoch on)."""
        config = super().configure_optimizers()
        extra = list(self.alignment.parameters()) if self.alignment is not None else []
        if extra:
            optimizer = config["optimizer"]
            lr = self.method.learning_rate(self.model.backbone.modality)
            optimizer.add_param_group({"params": extra, "lr": lr, "weight_decay": self.recipe.weight_decay})
            config["lr_scheduler"]["scheduler"] = self._schedule(optimizer)
        return config


def train_adapted(
    model: TransferModel,
    method: Method,
    rows: DomainRows,
    *,
    alignment: FeatureAlignment | None = None,
    labelled: Labelled | None = None,
    progress: bool = False,
    log_dir: Path | None = None,
    tag: str = "adapt",
) -> AdaptationRun:
    """Train ``model`` on the source (and labelled target rows), with ``alignment`` if given; return
    it at its best epoch by the selection criterion. With ``log_dir`` the run's logs and last
    checkpoint go to ``log_dir/<tag>/`` (``logs/metrics.csv``, ``checkpoints/last.ckpt``)."""
    r = method.recipe
    if r.devices * r.num_nodes != 1 or r.augment:
        raise HeadstartError("adaptation runs in one process and without augmentation: set devices=1, num_nodes=1, augment=False")
    L.seed_everything(r.seed, workers=True, verbose=False)
    method.configure_trainable(model, method.first_trainable(model.backbone.num_groups))
    method.setup_penalties(model)
    n_source, n_target = len(rows.source), len(rows.target)
    labels = np.concatenate([rows.source_labels, np.full(n_target, UNLABELLED)])
    if labelled is not None:
        labels[n_source + labelled.indices] = labelled.labels
    domains = np.r_[np.full(n_source, SOURCE), np.full(n_target, TARGET)]
    batch = min(r.batch_size, n_source)
    sampler = PairedBatches(
        n_source, n_target, batch, batch if alignment is not None else 0,
        labelled.indices if labelled is not None else np.zeros(0, dtype=int), r.seed,
    )
    epochs = r.epochs or auto_epochs(n_source, r.batch_size)
    module = AdaptationModule(model, method, rows.start, epochs * len(sampler), alignment)
    train_loader = _loader([*rows.source, *rows.target], labels, domains, model, rows, sampler=sampler)
    val_loader = _loader(rows.val, rows.val_labels, np.full(len(rows.val), SOURCE), model, rows)
    selected = [rows.target[i] for i in rows.selection]
    select_loader = _loader(selected, np.full(len(selected), UNLABELLED), np.full(len(selected), TARGET), model, rows)

    history, epochs_run, _ = fit_trainer(
        module, method, train_loader, [val_loader, select_loader], run_dir=Path(log_dir) / tag if log_dir is not None else None,
        max_epochs=epochs, progress=progress, stop_on=("selection_score", "max"),
        devices=1,
    )
    model.load_state_dict(module.best_state)
    model.eval()
    return AdaptationRun(model, module.best_selection, history, epochs_run)


def _loader(
    items: Sequence[Any], labels: np.ndarray, domains: np.ndarray, model: TransferModel, rows: DomainRows,
    sampler: PairedBatches | None = None,
) -> DataLoader:
    """Batches of ``(x, targets)`` with ``targets[:, 0]`` the label (-1: none), ``targets[:, 1]`` the domain."""
    targets = torch.as_tensor(np.stack([labels, domains], 1), dtype=torch.long)
    collate = _Collate(model, items, targets, states=rows.start > 0, augment=False, seed=0)
    if sampler is not None:
        return DataLoader(range(len(items)), batch_sampler=sampler, collate_fn=collate)
    return DataLoader(range(len(items)), batch_size=64, collate_fn=collate)


def encode(model: TransferModel, items: Sequence[Any], start: int, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features ``(n, d)`` and class probabilities ``(n, C)`` of ``model`` on rows ``items``
    (cached prefix states when ``start > 0``, else raw inputs), in eval mode."""
    backbone = model.backbone
    features, probabilities = [], []
    with eval_mode(backbone), torch.inference_mode():
        for indices in plan_batches(len(items), batch_size):
            rows = [items[i] for i in indices]
            x = backbone.merge_states(rows) if start else prepare_batch(backbone, rows)
            f = model.features(x, start)
            features.append(f.float().numpy())
            probabilities.append(model.head(f).float().softmax(-1).numpy())
    return np.concatenate(features), np.concatenate(probabilities)
