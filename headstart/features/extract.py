"""Cached, batched extraction of pooled features, source-classifier logits and frozen-prefix activations.

Every function looks each input up in the on-disk cache by its content hash, runs the backbone
only on inputs not found there (each distinct input once), streams the new rows into a new
cache chunk, and returns results in the order of the inputs. Final features of inputs whose
frozen-prefix states are cached (``extract_states``) are computed from those states: only the
groups above them run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data.dataset import Dataset, content_hash
from headstart.errors import BackboneError, DataError
from headstart.features.batching import eval_mode, plan_batches, run_batches, state_lengths
from headstart.features.cache import ActivationStore, default_cache_root, key_digest
from headstart.features.chunk_writer import ChunkWriter
from headstart.zoo.base import Backbone

Data = Dataset | Sequence[Any]


def extract_features(
    backbone: Backbone,
    data: Data,
    depth: int | None = None,
    *,
    batch_size: int | None = None,
    bf16: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Pooled features ``(n, dim)`` float32 of ``data`` (a ``Dataset`` or a list of texts/images).

    ``depth=None`` gives the final features (``forward_features``), an integer the pooled
    output of that layer group (``features_at``). With ``cache`` rows are read from and added
    to ``cache_dir`` (default ``$HEADSTART_CACHE/features`` or ``~/.cache/headstart/features``).
    Rows that one cached call computed together come back as the cache file's memory-mapped rows
    (copy-on-write: writing to them changes only this process's copy), so that the features of
    100k inputs are page cache, not memory the process holds.
    """
    inputs = _inputs_of(data, backbone)
    final = backbone.num_groups - 1
    depth = final if depth is None else backbone.check_depth(depth)

    def from_prefix(hashes: Sequence[str]) -> np.ndarray | None:
        """The final features from the deepest cached prefix holding every one of ``hashes``."""
        for prefix in range(final - 1, -1, -1) if depth == final else ():
            store = _existing_states_store(backbone, prefix, bf16, cache_dir)
            states = _states_in(store, backbone, hashes) if store is not None else None
            if states is not None:
                return features_from_states(backbone, states, prefix + 1, batch_size=batch_size, bf16=bf16)
        return None

    return _rows_per_input(
        backbone, inputs, "features", depth, lambda batch: backbone.features_at(batch, depth).float().numpy(),
        batch_size=batch_size, bf16=bf16, cache=cache, cache_dir=cache_dir, progress=progress, from_cache=from_prefix,
    )


def features_from_states(backbone: Backbone, states: Sequence[torch.Tensor], start: int, *, batch_size: int | None = None,
                         bf16: bool = False) -> np.ndarray:
    """Pooled final features ``(n, dim)`` of groups ``start …`` run on ``states``, the output of
    groups ``0 … start-1`` (``extract_states``), in batches of similar length."""
    lengths = state_lengths(backbone, states)
    out: np.ndarray | None = None
    with eval_mode(backbone), torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for indices in plan_batches(len(states), batch_size or backbone.inference_batch_size, lengths):
            batch = backbone.merge_states([states[i] for i in indices])
            pooled = backbone.pool(backbone.forward_groups(batch, start)).float().numpy()
            if out is None:
                out = np.empty((len(states), pooled.shape[1]), dtype=np.float32)
            out[indices] = pooled
    if out is None:
        raise DataError("no states to compute features from")
    return out


def cached_states(backbone: Backbone, data: Data, depth: int, *, bf16: bool = False,
                  cache_dir: str | Path | None = None) -> list[torch.Tensor] | None:
    """The cached output of groups ``0 … depth`` (``extract_states``) of every input of ``data``, or
    ``None`` if any is missing; nothing is computed or written."""
    store = _existing_states_store(backbone, backbone.check_depth(depth), bf16, cache_dir)
    if store is None:  # nothing cached at this depth: the inputs are not even hashed
        return None
    return _states_in(store, backbone, [content_hash(x) for x in _inputs_of(data, backbone)])


def _existing_states_store(backbone: Backbone, depth: int, bf16: bool, cache_dir: str | Path | None) -> ActivationStore | None:
    """The states store of ``depth`` if one was ever written (never created only to look into it)."""
    key = _key(backbone, "states", depth, bf16)
    root = Path(cache_dir) if cache_dir is not None else default_cache_root()
    return ActivationStore(root, key) if (root / key_digest(key)).is_dir() else None


def _states_in(store: ActivationStore, backbone: Backbone, hashes: Sequence[str]) -> list[torch.Tensor] | None:
    """The states of ``hashes`` in ``store``, or ``None`` if any is missing."""
    spans = store.locate(hashes)
    if any(span is None for span in spans):
        return None
    return _state_tensors(backbone, store.views(spans))  # type: ignore[arg-type]


def _state_tensors(backbone: Backbone, views: Sequence[np.ndarray]) -> list[torch.Tensor]:
    """Cached state rows as the per-example tensors ``merge_states`` takes."""
    return [torch.from_numpy(v if backbone.ragged_states else v[0]) for v in views]


def extract_source_logits(
    backbone: Backbone,
    data: Data,
    *,
    batch_size: int | None = None,
    bf16: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Logits ``(n, source classes)`` float32 of the backbone's source classifier (e.g. ImageNet's
    1,000 classes), cached like the features; a ``BackboneError`` if the backbone has none."""
    if not backbone.has_source_head:
        raise BackboneError(f"backbone {backbone.name!r} has no source classifier")
    return _rows_per_input(
        backbone, _inputs_of(data, backbone), "source_logits", backbone.num_groups - 1,
        lambda batch: backbone.source_logits(batch).float().numpy(),
        batch_size=batch_size, bf16=bf16, cache=cache, cache_dir=cache_dir, progress=progress,
    )


def _rows_per_input(
    backbone: Backbone,
    inputs: Sequence[Any],
    kind: str,
    depth: int,
    compute: Callable[[Any], np.ndarray],
    *,
    batch_size: int | None,
    bf16: bool,
    cache: bool,
    cache_dir: str | Path | None,
    progress: bool,
    from_cache: Callable[[Sequence[str]], np.ndarray | None] | None = None,
) -> np.ndarray:
    """One row per input, ``compute(batch) -> (batch, width)``, read from and added to the ``kind``
    cache; ``from_cache(hashes)`` may give the missing rows from other cached activations instead."""

    def batches(items: Sequence[Any]) -> Any:
        return run_batches(
            backbone, items, compute, batch_size=batch_size, bf16=bf16, progress=progress,
            description=f"{backbone.name}: {kind.replace('_', ' ')}",
        )

    if not cache:
        positions, rows = zip(*batches(inputs))
        out = np.empty((len(inputs), rows[0].shape[1]), dtype=np.float32)
        out[np.concatenate(positions)] = np.concatenate(rows)
        return out

    store = _store(backbone, kind, depth, bf16, cache_dir)
    hashes = [content_hash(x) for x in inputs]
    with _filling([store], hashes) as missing:
        if missing:
            found = from_cache([hashes[i] for i in missing]) if from_cache else None
            with ChunkWriter(store, len(missing)) as writer:
                if found is not None:
                    writer.append([hashes[i] for i in missing], found)
                else:
                    for positions, rows in batches([inputs[i] for i in missing]):
                        writer.append([hashes[missing[p]] for p in positions], rows, at=positions)
    return store.gather(store.locate(hashes))


def extract_features_at_depths(
    backbone: Backbone,
    data: Data,
    depths: Sequence[int] | None = None,
    *,
    batch_size: int | None = None,
    bf16: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict[int, np.ndarray]:
    """Pooled features of several layer groups from one pass: ``{depth: (n, dim of that depth)}``.

    The same arrays as ``extract_features(backbone, data, depth=d)`` for each ``d`` in ``depths``
    (default: every group), sharing its cache, but each input goes through the backbone once:
    a sweep over ``L`` groups costs one forward pass instead of about ``L / 2``.
    """
    inputs = _inputs_of(data, backbone)
    every = range(backbone.num_groups) if depths is None else depths
    wanted = sorted({backbone.check_depth(d) for d in every})

    widths: list[int] = []

    def pooled_at_depths(batch: Any) -> np.ndarray:
        pooled, state = [], batch
        for depth, group in enumerate(backbone.groups[: wanted[-1] + 1]):
            state = group(state)
            if depth in wanted:
                pooled.append(backbone.pool(state).float().numpy())
        widths[:] = [p.shape[1] for p in pooled]
        return np.concatenate(pooled, axis=1)  # one row per input, so that run_batches can check it

    def batches(items: Sequence[Any]) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
        for positions, rows in run_batches(
            backbone, items, pooled_at_depths, batch_size=batch_size, bf16=bf16, progress=progress,
            description=f"{backbone.name}: features at {len(wanted)} depths",
        ):
            yield positions, np.split(rows, np.cumsum(widths)[:-1], axis=1)

    if not cache:
        out: dict[int, np.ndarray] = {}
        for positions, blocks in batches(inputs):
            for depth, block in zip(wanted, blocks):
                out.setdefault(depth, np.empty((len(inputs), block.shape[1]), dtype=np.float32))[positions] = block
        return out

    stores = {d: _store(backbone, "features", d, bf16, cache_dir) for d in wanted}
    hashes = [content_hash(x) for x in inputs]
    with _filling(list(stores.values()), hashes) as missing:
        if missing:
            with ExitStack() as stack:
                writers = [stack.enter_context(ChunkWriter(stores[d], len(missing))) for d in wanted]
                for positions, blocks in batches([inputs[i] for i in missing]):
                    batch_hashes = [hashes[missing[p]] for p in positions]
                    for writer, block in zip(writers, blocks):
                        writer.append(batch_hashes, block, at=positions)
    return {d: stores[d].gather(stores[d].locate(hashes)) for d in wanted}


def extract_states(
    backbone: Backbone,
    data: Data,
    depth: int,
    *,
    batch_size: int | None = None,
    bf16: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> list[torch.Tensor]:
    """Per-example output of layer groups ``0 … depth``: the frozen prefix's activations.

    Fixed-size states (images) are e.g. ``(C, H, W)``; ragged ones (``backbone.ragged_states``,
    text) ``(length, dim)``, cut to each input's tokens.
    Batch them with ``backbone.merge_states(rows)`` and continue with
    ``backbone.forward_groups(state, depth + 1)``. Cached states are memory-mapped, not loaded.
    """
    inputs = _inputs_of(data, backbone)
    depth = backbone.check_depth(depth)
    ragged = backbone.ragged_states

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
    hashes = [content_hash(x) for x in inputs]
    with _filling([store], hashes) as missing:
        if missing:
            missing_inputs = [inputs[i] for i in missing]
            lengths = backbone.input_lengths(missing_inputs)
            with ChunkWriter(store, int(lengths.sum()) if ragged else len(missing)) as writer:
                for positions, rows in batches(missing_inputs, lengths):
                    batch_hashes = [hashes[missing[p]] for p in positions]
                    if ragged:
                        writer.append(batch_hashes, np.concatenate(rows), [len(r) for r in rows])
                    else:
                        writer.append(batch_hashes, np.stack(rows))
    return _state_tensors(backbone, store.views(store.locate(hashes)))  # type: ignore[arg-type]


def _inputs_of(data: Data, backbone: Backbone) -> Sequence[Any]:
    """A dataset's inputs (checked to suit the backbone), or raw items as the backbone's family
    holds them (so that, e.g., an image path string is hashed by the file's bytes)."""
    if isinstance(data, Dataset):
        backbone.check_inputs(data)
        return data.inputs
    if len(data) == 0:
        raise DataError("no inputs to extract features from")
    return backbone.as_inputs(data)


def _key(backbone: Backbone, kind: str, depth: int, bf16: bool) -> dict[str, Any]:
    return {"backbone": backbone.describe(), "kind": kind, "depth": depth, "precision": "bf16" if bf16 else "fp32"}


def _store(backbone: Backbone, kind: str, depth: int, bf16: bool, cache_dir: str | Path | None) -> ActivationStore:
    return ActivationStore(Path(cache_dir) if cache_dir is not None else default_cache_root(), _key(backbone, kind, depth, bf16))


def _missing(stores: Sequence[ActivationStore], hashes: Sequence[str]) -> list[int]:
    """Index of the first occurrence of each hash missing from any of the stores (or from a chunk
    that fails its check), in input order."""
    first: dict[str, int] = {}
    for store in stores:
        for i, (h, span) in enumerate(zip(hashes, store.locate(hashes))):
            if span is None:
                first.setdefault(h, i)
    return sorted(first.values())


@contextmanager
def _filling(stores: Sequence[ActivationStore], hashes: Sequence[str]) -> Iterator[list[int]]:
    """The inputs still to compute; while there are any, the stores' locks are held, so that a
    process filling the same keys at the same time waits and then finds its rows computed."""
    if not _missing(stores, hashes):
        yield []
        return
    with ExitStack() as stack:
        for store in stores:
            stack.enter_context(store.filling())
        yield _missing(stores, hashes)
