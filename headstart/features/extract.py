"""Cached, batched extraction of pooled features and of frozen-prefix activations.

Both functions look every input up in the on-disk cache by its content hash, run the backbone
only on inputs not found there (each distinct input once), stream the new rows into a new
cache chunk, and return results in the order of the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data.dataset import Dataset, content_hash
from headstart.errors import DataError
from headstart.features.batching import run_batches, token_lengths
from headstart.features.cache import ActivationStore, default_cache_root
from headstart.zoo.base import Backbone

Data = Dataset | Sequence[Any]


def extract_features(
    backbone: Backbone,
    data: Data,
    depth: int | None = None,
    *,
    batch_size: int = 64,
    bf16: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Pooled features ``(n, dim)`` float32 of ``data`` (a ``Dataset`` or a list of texts/images).

    ``depth=None`` gives the final features (``forward_features``), an integer the pooled
    output of that layer group (``features_at``). With ``cache`` rows are read from and added
    to ``cache_dir`` (default ``$HEADSTART_CACHE/features`` or ``~/.cache/headstart/features``).
    """
    inputs = _inputs_of(data, backbone)
    depth = backbone.num_groups - 1 if depth is None else backbone.check_depth(depth)

    def batches(items: Sequence[Any]) -> Any:
        return run_batches(
            backbone, items, lambda batch: backbone.features_at(batch, depth).float().numpy(),
            batch_size=batch_size, bf16=bf16, progress=progress, description=f"{backbone.name}: features",
        )

    if not cache:
        positions, rows = zip(*batches(inputs))
        out = np.empty((len(inputs), rows[0].shape[1]), dtype=np.float32)
        out[np.concatenate(positions)] = np.concatenate(rows)
        return out

    store = _store(backbone, "features", depth, bf16, cache_dir)
    hashes = [_input_hash(x, backbone.modality) for x in inputs]
    missing = _missing(store, hashes)
    if missing:
        with store.writer(len(missing)) as writer:
            for positions, rows in batches([inputs[i] for i in missing]):
                writer.append([hashes[missing[p]] for p in positions], rows)
    return store.gather(store.locate(hashes))


def extract_states(
    backbone: Backbone,
    data: Data,
    depth: int,
    *,
    batch_size: int = 64,
    bf16: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> list[torch.Tensor]:
    """Per-example output of layer groups ``0 … depth``: the frozen prefix's activations.

    Image states are ``(C, H, W)``; text states ``(length, dim)``, cut to each text's tokens.
    Batch them with ``backbone.merge_states(rows)`` and continue with
    ``backbone.forward_groups(state, depth + 1)``. Cached states are memory-mapped, not loaded.
    """
    inputs = _inputs_of(data, backbone)
    depth = backbone.check_depth(depth)
    ragged = backbone.modality == "text"

    def batches(items: Sequence[Any], lengths: np.ndarray | None = None) -> Any:
        def compute(batch: Any) -> list[np.ndarray]:
            return [s.float().numpy() for s in backbone.split_state(backbone.forward_groups(batch, 0, depth + 1))]

        return run_batches(
            backbone, items, compute, batch_size=batch_size, bf16=bf16, progress=progress,
            description=f"{backbone.name}: states at depth {depth}", lengths=lengths,
        )

    if not cache:
        states: list[np.ndarray] = [np.empty(0)] * len(inputs)
        for positions, rows in batches(inputs):
            for p, row in zip(positions, rows):
                states[p] = row.copy()  # compact: a text state is a view into its padded batch
        return [torch.from_numpy(s) for s in states]

    store = _store(backbone, "states", depth, bf16, cache_dir)
    hashes = [_input_hash(x, backbone.modality) for x in inputs]
    missing = _missing(store, hashes)
    if missing:
        missing_inputs = [inputs[i] for i in missing]
        lengths = token_lengths(backbone, missing_inputs) if ragged else None
        with store.writer(int(lengths.sum()) if ragged else len(missing)) as writer:
            for positions, rows in batches(missing_inputs, lengths):
                batch_hashes = [hashes[missing[p]] for p in positions]
                if ragged:
                    writer.append(batch_hashes, np.concatenate(rows), [len(r) for r in rows])
                else:
                    writer.append(batch_hashes, np.stack(rows))
    views = store.views(store.locate(hashes))
    return [torch.from_numpy(v if ragged else v[0]) for v in views]


def _inputs_of(data: Data, backbone: Backbone) -> Sequence[Any]:
    if isinstance(data, Dataset):
        if data.modality != backbone.modality:
            raise DataError(f"{data.name}: {data.modality} inputs cannot go through {backbone.modality} backbone {backbone.name!r}")
        return data.inputs
    if len(data) == 0:
        raise DataError("no inputs to extract features from")
    return data


def _input_hash(item: Any, modality: str) -> str:
    """Content hash; an image path given as a string is hashed by the file's bytes."""
    return content_hash(Path(item) if modality == "image" and isinstance(item, str) else item)


def _store(backbone: Backbone, kind: str, depth: int, bf16: bool, cache_dir: str | Path | None) -> ActivationStore:
    key = {"backbone": backbone.describe(), "kind": kind, "depth": depth, "precision": "bf16" if bf16 else "fp32"}
    return ActivationStore(Path(cache_dir) if cache_dir is not None else default_cache_root(), key)


def _missing(store: ActivationStore, hashes: Sequence[str]) -> list[int]:
    """Index of the first occurrence of each hash not yet in the store."""
    first: dict[str, int] = {}
    for i, (h, span) in enumerate(zip(hashes, store.locate(hashes))):
        if span is None:
            first.setdefault(h, i)
    return list(first.values())
