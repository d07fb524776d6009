"""The one data type every reader returns and every method consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from headstart.errors import DataError

Modality = Literal["text", "image", "array", "series", "audio"]
Task = Literal["classification", "multilabel", "regression", "forecast"]


@dataclass
class Dataset:
    """Inputs, labels and the label encoding, kept together.

    ``inputs`` holds texts (``str``), images (a ``pathlib.Path``, or a ``uint8`` array of shape
    ``(H, W)`` or ``(H, W, C)``), feature rows (``array`` modality, a 2-D float array) or series
    (``series`` modality, float32 arrays ``(T,)`` or ``(C, T)``; lengths may differ).
    ``labels`` are integer codes into ``classes`` (classification), a multi-hot ``(n, C)`` array
    (multilabel), floats (regression) or ``None`` (unlabelled, e.g. an adaptation target).
    ``meta`` holds what the reader knows; a numpy array as long as the inputs there is per example
    (a speaker per recording) and follows ``subset``.
    """

    inputs: Sequence[Any]
    labels: np.ndarray | None
    classes: list[str] | None
    modality: Modality
    task: Task = "classification"
    name: str = "data"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.inputs) == 0:
            raise DataError(f"{self.name}: the dataset is empty")
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if len(self.labels) != len(self.inputs):
                raise DataError(f"{self.name}: {len(self.inputs)} inputs but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def num_classes(self) -> int:
        return len(self.classes or [])

    @property
    def is_labelled(self) -> bool:
        return self.labels is not None

    def subset(self, indices: Sequence[int] | np.ndarray, name: str | None = None) -> Dataset:
        """The examples at ``indices``, with the same label encoding."""
        idx = np.asarray(indices, dtype=int)
        if isinstance(self.inputs, np.ndarray):
            inputs: Sequence[Any] = self.inputs[idx]
        else:
            inputs = [self.inputs[i] for i in idx]
        labels = None if self.labels is None else self.labels[idx]
        meta = {key: value[idx] if self.is_per_example(value) else value for key, value in self.meta.items()}
        return replace(self, inputs=inputs, labels=labels, name=name or self.name, meta=meta)

    def is_per_example(self, value: Any) -> bool:
        """Whether a ``meta`` value is one entry per example (a numpy array as long as the inputs,
        e.g. ``meta["speakers"]``), so that subsets keep the entries of their examples."""
        return isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == len(self.inputs)

    def without_labels(self) -> Dataset:
        return replace(self, labels=None)

    def encoded_as(self, classes: list[str]) -> Dataset:
        """The same examples with class labels coded into ``classes`` (a model's), which must hold
        every class of this dataset; a class of ``classes`` that has no example here is fine."""
        own = self.classes or []
        unknown = [c for c in own if c not in classes]
        if unknown:
            raise DataError(f"{self.name}: classes {', '.join(unknown[:5])} are not among the model's ({', '.join(classes)})")
        if own == classes or self.labels is None:
            return self
        codes = np.array([classes.index(c) for c in own], dtype=np.int64)
        return replace(self, labels=codes[self.labels.astype(int)], classes=list(classes))

    def require_modality(self, modality: str) -> None:
        """Raise unless the inputs are of ``modality`` (a model of that input kind reads them)."""
        if self.modality != modality:
            raise DataError(f"{self.name}: {self.modality} inputs cannot go through a model of {modality} inputs")

    def class_counts(self) -> dict[str, int]:
        if self.labels is None or self.task != "classification":
            return {}
        counts = np.bincount(self.labels.astype(int), minlength=self.num_classes)
        return {c: int(n) for c, n in zip(self.classes or [], counts)}

    def content_hashes(self) -> list[str]:
        """A content hash per input (texts and arrays by value, files by their bytes)."""
        return [content_hash(x) for x in self.inputs]


def content_hash(item: Any) -> str:
    """Hex digest that changes exactly when the input's content changes."""
    digest = hashlib.blake2b(digest_size=16)
    if isinstance(item, str):
        digest.update(b"s" + item.encode("utf-8"))
    elif isinstance(item, Path):
        digest.update(b"f" + Path(item).read_bytes())
    elif isinstance(item, np.ndarray):
        arr = np.ascontiguousarray(item)
        digest.update(f"a{arr.dtype}{arr.shape}".encode() + arr.tobytes())
    else:
        raise TypeError(f"cannot hash an input of type {type(item).__name__}")
    return digest.hexdigest()
