"""Train/test splits and K-shot sampling, reproducible from a seed."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from headstart.data.dataset import Dataset
from headstart.errors import DataError


def stratified_split(
    dataset: Dataset, test_size: float | int = 0.2, seed: int = 0
) -> tuple[Dataset, Dataset]:
    """Split into ``(train, test)``; ``test_size`` is a fraction or a count.

    Labelled classification data keeps each class's share in both parts (scikit-learn's
    ``train_test_split(stratify=labels)``); other data is split at random. Each part keeps the
    original order of its examples.
    """
    stratify = dataset.labels if dataset.task == "classification" else None
    singletons = [name for name, count in dataset.class_counts().items() if count == 1]
    if singletons:
        raise DataError(f"{dataset.name}: class '{singletons[0]}' has 1 example; a stratified split needs 2")
    try:
        train_idx, test_idx = train_test_split(
            np.arange(len(dataset)), test_size=test_size, random_state=seed, stratify=stratify
        )
    except ValueError as exc:  # e.g. a test set smaller than the number of classes
        raise DataError(f"{dataset.name}: cannot split with test_size={test_size}: {exc}") from None
    return (
        dataset.subset(np.sort(train_idx), name=f"{dataset.name}:train"),
        dataset.subset(np.sort(test_idx), name=f"{dataset.name}:test"),
    )


def sample_shots(dataset: Dataset, k: int, seed: int = 0) -> Dataset:
    """Exactly ``k`` examples of every class, in the dataset's order.

    Each class is shuffled once by a generator seeded with ``seed`` and its first ``k`` examples
    are kept, so for a fixed seed the K-shot sets are nested: the 5-shot set is part of the 10-shot.
    """
    if dataset.labels is None or dataset.task != "classification":
        raise DataError(f"{dataset.name}: K-shot sampling needs class labels")
    if k < 1:
        raise DataError(f"{dataset.name}: K-shot sampling needs k >= 1, got {k}")
    for name, count in dataset.class_counts().items():
        if count < k:
            raise DataError(f"{dataset.name}: class '{name}' has only {count} examples, fewer than k={k}")
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(dataset.labels == code) for code in range(dataset.num_classes)]
    chosen = [rng.permutation(indices)[:k] for indices in members]
    return dataset.subset(np.sort(np.concatenate(chosen)), name=f"{dataset.name}:{k}-shot")

