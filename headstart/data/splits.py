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
    _check_shots(dataset, k)
    chosen = [order[:k] for order in _class_orders(dataset, seed)]
    return dataset.subset(np.sort(np.concatenate(chosen)), name=f"{dataset.name}:{k}-shot")


def few_shot_split(pool: Dataset, k: int, seed: int = 0) -> tuple[Dataset, Dataset | None, Dataset | None]:
    """``(train, val, unused)`` of a labelled pool: exactly ``k`` training examples per class (the
    ``sample_shots`` set), up to ``k`` more per class for validation (the next ones in each class's
    shuffled order, so train + val is the ``2k``-shot set), and every other example. ``val`` or
    ``unused`` is ``None`` when nothing is left for it.
    """
    _check_shots(pool, k)
    orders = _class_orders(pool, seed)
    parts = [np.sort(np.concatenate([order[a:b] for order in orders])).astype(int) for a, b in ((0, k), (k, 2 * k), (2 * k, None))]
    train, val, unused = (pool.subset(idx, name=f"{pool.name}:{tag}") if len(idx) else None
                          for idx, tag in zip(parts, (f"{k}-shot", "validation", "unused")))
    assert train is not None
    return train, val, unused


def bounded_sample(dataset: Dataset, limit: int, seed: int = 0) -> Dataset:
    """``dataset`` itself when it has at most ``limit`` examples, else ``limit`` of them drawn at
    random (reproducibly from ``seed``), in the dataset's order."""
    if len(dataset) <= limit:
        return dataset
    chosen = np.sort(np.random.default_rng(seed).choice(len(dataset), size=limit, replace=False))
    return dataset.subset(chosen, name=f"{dataset.name} ({limit} drawn at random)")


def _check_shots(dataset: Dataset, k: int) -> None:
    if dataset.labels is None or dataset.task != "classification":
        raise DataError(f"{dataset.name}: K-shot sampling needs class labels")
    if k < 1:
        raise DataError(f"{dataset.name}: K-shot sampling needs k >= 1, got {k}")
    for name, count in dataset.class_counts().items():
        if count < k:
            raise DataError(f"{dataset.name}: class '{name}' has only {count} examples, fewer than k={k}")


def _class_orders(dataset: Dataset, seed: int) -> list[np.ndarray]:
    """Each class's example indices, shuffled once by a generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(np.flatnonzero(dataset.labels == code)) for code in range(dataset.num_classes)]


def speaker_part(data: Dataset, split: str) -> Dataset:
    """``"s3"``: the examples of speaker s3 (``meta["speakers"]``, one per example); ``"-s3"``: everyone else's."""
    speakers = data.meta["speakers"]
    name = split.removeprefix("-")
    if name not in set(speakers):
        raise DataError(f"{data.name}: no speaker '{name}'; speakers are {', '.join(sorted(set(speakers)))} "
                        f"(give {data.name}:s1 for one speaker, {data.name}:-s1 for all the others)")
    keep = speakers != name if split.startswith("-") else speakers == name
    return data.subset(np.flatnonzero(keep), name=f"{data.name}:{split}")
