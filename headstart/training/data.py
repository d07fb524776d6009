"""What a run trains on: rows, batch samplers and the data module, for every kind of run.

Rows are what the trainable part of the model takes, one per example: the pooled features when
the whole backbone is frozen, the frozen prefix's cached activations (``extract_states``) when
only its top groups train, else the raw inputs, decoded by ``backbone.prepare_inputs``. A batch
sampler yields lists of example indices; every one offers ``set_epoch`` (Lightning calls it), so
an epoch's batches depend only on (seed, epoch) and a resumed run replays them. Under DDP each
process takes its share of the batches (``DistributedSampler`` for single-task runs, ``Shard``
for the others); validation is not sharded: every process scores all of it, so all keep the same
best epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, DistributedSampler

from headstart import tasks
from headstart.data.dataset import Dataset
from headstart.features import extract_features, extract_states
from headstart.features.batching import plan_batches, state_lengths
from headstart.model import TransferModel
from headstart.recipe import Recipe

EVAL_BATCH_SIZE = 64


class Rows:
    """One row per example: pooled features (a tensor), cached prefix states, or raw inputs."""

    def __init__(self, model: TransferModel, items: Sequence[Any] | Tensor, kind: str, *, augment: bool = False, seed: int = 0) -> None:
        self.backbone, self.items, self.kind = model.backbone, items, kind
        self.rng = np.random.default_rng(seed) if augment else None

    @classmethod
    def of(cls, model: TransferModel, data: Dataset, start: int, recipe: Recipe, progress: bool, *, augment: bool = False) -> Rows:
        """The rows of ``data`` for a model run from group ``start`` (cached on disk under the
        backbone's identity); raw inputs are augmented with ``augment``."""
        net = model.backbone
        if start == net.num_groups:
            features = extract_features(net, data, bf16=recipe.bf16, progress=progress)
            return cls(model, torch.from_numpy(features), "features")
        if start:
            return cls(model, extract_states(net, data, start - 1, bf16=recipe.bf16, progress=progress), "states")
        return cls(model, data.inputs, "inputs", augment=augment, seed=recipe.seed)

    def __len__(self) -> int:
        return len(self.items)

    def lengths(self) -> np.ndarray | None:
        """Each row's length when the rows are states that vary in length (tokens), else ``None``."""
        return state_lengths(self.backbone, self.items) if self.kind == "states" else None

    def take(self, indices: Sequence[int]) -> Any:
        """The model's input batch for rows ``indices``."""
        if self.kind == "features":
            return self.items[list(indices)]
        rows = [self.items[i] for i in indices]
        return self.backbone.merge_states(rows) if self.kind == "states" else self.backbone.prepare_inputs(rows, self.rng)

    def subset(self, indices: Sequence[int]) -> Rows:
        items = self.items[list(indices)] if self.kind == "features" else [self.items[i] for i in indices]
        return Rows.like(self, items)

    def join(self, other: Rows) -> Rows:
        """These rows, then ``other``'s (of the same kind)."""
        items = torch.cat([self.items, other.items]) if self.kind == "features" else [*self.items, *other.items]
        return Rows.like(self, items)

    @classmethod
    def like(cls, rows: Rows, items: Sequence[Any] | Tensor) -> Rows:
        new = cls.__new__(cls)
        new.backbone, new.items, new.kind, new.rng = rows.backbone, items, rows.kind, rows.rng
        return new


@dataclass
class LabelledRows:
    """Batches ``(rows.take(indices), targets[indices])``."""

    rows: Rows
    targets: Tensor

    def __call__(self, indices: list[int]) -> tuple[Any, Tensor]:
        return self.rows.take(indices), self.targets[indices]


def labelled_rows(
    model: TransferModel, data: Dataset, task: str, start: int, recipe: Recipe, progress: bool, *, augment: bool = False
) -> LabelledRows:
    rows = Rows.of(model, data, start, recipe, progress, augment=augment)
    return LabelledRows(rows, tasks.target_tensor(task, data.labels))


class BatchSampler(Protocol):
    def __iter__(self) -> Iterator[list[int]]: ...
    def __len__(self) -> int: ...
    def set_epoch(self, epoch: int) -> None: ...


class ShuffledBatches:
    """Consecutive batches of this process's share of a ``DistributedSampler`` permutation."""

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1) -> None:
        self.sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
        self.batch_size = batch_size

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return math.ceil(len(self.sampler) / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = list(self.sampler)
        for start in range(0, len(order), self.batch_size):
            yield order[start : start + self.batch_size]


class Shard:
    """Process ``rank`` of ``world``'s batches: every ``world``-th batch of ``batches`` (which draws
    the same sequence in every process), the sequence wrapped round to a multiple of ``world``."""

    def __init__(self, batches: BatchSampler, rank: int, world: int) -> None:
        self.batches, self.rank, self.world = batches, rank, world

    def set_epoch(self, epoch: int) -> None:
        self.batches.set_epoch(epoch)

    def __len__(self) -> int:
        return math.ceil(len(self.batches) / self.world)

    def __iter__(self) -> Iterator[list[int]]:
        every = list(self.batches)
        every += every[: len(self) * self.world - len(every)]
        yield from every[self.rank :: self.world]


class PairedBatches:
    """Index batches over rows ``[source | target]``, the source reshuffled on every pass.

    Each batch: ``batch`` source rows (``len(self)`` batches cover the source once, dropping the
    remainder), ``labelled_batch`` rows drawn from ``labelled`` (indices into the target) and
    ``target_batch`` target rows, both cycling through fresh permutations. A pass draws from
    ``(seed, epoch)``; the epoch advances after each pass unless set.
    """

    def __init__(self, n_source: int, n_target: int, batch: int, target_batch: int, labelled: np.ndarray, labelled_batch: int,
                 seed: int) -> None:
        self.n_source, self.n_target, self.batch, self.target_batch = n_source, n_target, batch, target_batch
        self.labelled, self.labelled_batch, self.seed, self.epoch = labelled, min(labelled_batch, len(labelled)), seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return max(1, self.n_source // self.batch)

    def __iter__(self) -> Iterator[list[int]]:
        rng, n = np.random.default_rng([self.seed, self.epoch]), len(self)
        self.epoch += 1
        source = rng.permutation(self.n_source)
        labelled = self.labelled[_cycle(rng, len(self.labelled), n * self.labelled_batch)]
        target = _cycle(rng, self.n_target, n * self.target_batch)
        for b in range(n):
            rows = [
                source[b * self.batch : (b + 1) * self.batch],
                self.n_source + labelled[b * self.labelled_batch : (b + 1) * self.labelled_batch],
                self.n_source + target[b * self.target_batch : (b + 1) * self.target_batch],
            ]
            yield np.concatenate(rows).tolist()


def _cycle(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """``count`` indices from consecutive permutations of ``range(n)``."""
    if count == 0:
        return np.zeros(0, dtype=int)
    return np.concatenate([rng.permutation(n) for _ in range(math.ceil(count / n))])[:count]


def eval_batches(rows: Rows, batch_size: int = EVAL_BATCH_SIZE) -> list[list[int]]:
    """Index batches over ``rows`` for evaluation: longest first when their lengths vary, so that
    each batch is padded only to its own longest row (``plan_batches``), else in order."""
    return [b.tolist() for b in plan_batches(len(rows), batch_size, rows.lengths())]


class _Batches(torch.utils.data.Dataset):
    """``dataset[indices]`` is the batch of those examples (the sampler yields index lists)."""

    def __init__(self, make: Callable[[list[int]], Any]) -> None:
        self.make = make

    def __getitem__(self, indices: list[int]) -> Any:
        return self.make(list(indices))


def _as_is(batch: Any) -> Any:
    return batch


def loader(make: Callable[[list[int]], Any], batches: Any) -> DataLoader:
    return DataLoader(_Batches(make), sampler=batches, batch_size=None, collate_fn=_as_is, num_workers=0)


class RunData(L.LightningDataModule):
    """A run's loaders. ``batches(rank, world)`` is process ``rank``'s training batch sampler;
    ``val`` lists each validation loader's batch maker and index batches; ``n_train`` (examples an
    epoch covers) sets the automatic epoch count."""

    def __init__(
        self, train: Callable[[list[int]], Any], batches: Callable[[int, int], BatchSampler],
        val: Sequence[tuple[Callable[[list[int]], Any], list[list[int]]]], n_train: int,
    ) -> None:
        super().__init__()
        self.train, self.batches, self.val, self.n_train = train, batches, list(val), n_train

    def steps_per_epoch(self, world: int) -> int:
        return len(self.batches(0, world))

    def train_dataloader(self) -> DataLoader:
        return loader(self.train, self.batches(self.trainer.global_rank, self.trainer.world_size))

    def val_dataloader(self) -> list[DataLoader]:
        return [loader(make, batches) for make, batches in self.val]


def sharded(make: Callable[[], BatchSampler]) -> Callable[[int, int], BatchSampler]:
    """``batches(rank, world)`` for a sampler that draws the same batches in every process."""
    return lambda rank, world: make() if world == 1 else Shard(make(), rank, world)


def single_task(model: TransferModel, train: Dataset, val: Dataset | None, start: int, recipe: Recipe, progress: bool) -> RunData:
    """Shuffled batches of one task's examples (``DistributedSampler`` shares under DDP); validation on ``val``."""
    rows = labelled_rows(model, train, recipe.task, start, recipe, progress, augment=recipe.augment)
    held_out_rows = labelled_rows(model, val, recipe.task, start, recipe, progress) if val else None
    held_out = [(held_out_rows, eval_batches(held_out_rows.rows))] if held_out_rows is not None else []
    return RunData(
        rows, lambda rank, world: ShuffledBatches(len(train), recipe.batch_size, recipe.seed, rank, world), held_out, len(train)
    )
