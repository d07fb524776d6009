"""On-disk store of backbone outputs, one row span per input, keyed by the input's content.

Layout under ``<cache root>/<key digest>/``::

    key.json             the key (backbone identity, depth, precision, kind), for people
    <chunk>.npy          rows written by one call, shape (num_rows, *row_shape), float32
    <chunk>.index.npz    content hashes and offsets: input i owns rows offsets[i]:offsets[i+1]

Every call that computes new rows adds one chunk. Rows stream into a memory-mapped ``.npy``
under a temporary name; on success the chunk is renamed and its index written last (also via
a temporary name), so an index on disk always points at a complete chunk and a crash leaves
only temporary files behind. Chunks are never rewritten, so concurrent writers cannot corrupt
each other: the worst case is the same rows stored twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Sequence

import numpy as np
from numpy.lib.format import open_memmap

INDEX_SUFFIX = ".index.npz"


def default_cache_root() -> Path:
    """``$HEADSTART_CACHE/features``, else ``~/.cache/headstart/features``."""
    base = os.environ.get("HEADSTART_CACHE")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "headstart") / "features"


def key_digest(key: dict[str, Any]) -> str:
    """A short, stable digest of a JSON-serialisable key."""
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Span:
    """Where one input's rows live: ``<chunk>.npy[start:stop]``."""

    chunk: str
    start: int
    stop: int


class ActivationStore:
    """The chunks and index of one cache key."""

    def __init__(self, root: Path, key: dict[str, Any]) -> None:
        self.directory = Path(root) / key_digest(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        key_file = self.directory / "key.json"
        if not key_file.exists():
            _atomic_write_bytes(key_file, json.dumps(key, indent=1, sort_keys=True, default=str).encode())
        self.index: dict[str, Span] = {}
        for index_file in sorted(self.directory.glob("*" + INDEX_SUFFIX)):
            self._add_to_index(index_file.name.removesuffix(INDEX_SUFFIX), index_file)
        self._arrays: dict[str, np.ndarray] = {}

    def _add_to_index(self, chunk: str, index_file: Path) -> None:
        with np.load(index_file) as saved:
            hashes, offsets = saved["hashes"].tolist(), saved["offsets"].tolist()
        for i, content in enumerate(hashes):
            self.index[content] = Span(chunk, offsets[i], offsets[i + 1])

    def locate(self, hashes: Sequence[str]) -> list[Span | None]:
        """The cached span of each hash, ``None`` where it is missing."""
        return [self.index.get(h) for h in hashes]

    def array(self, chunk: str) -> np.ndarray:
        """A chunk's rows, memory-mapped copy-on-write (writable views, nothing written back)."""
        if chunk not in self._arrays:
            self._arrays[chunk] = np.load(self.directory / f"{chunk}.npy", mmap_mode="c")
        return self._arrays[chunk]

    def views(self, spans: Sequence[Span]) -> list[np.ndarray]:
        """Each span's rows, as memory-mapped views."""
        return [self.array(s.chunk)[s.start : s.stop] for s in spans]

    def gather(self, spans: Sequence[Span]) -> np.ndarray:
        """First row of each span, stacked in memory: ``(len(spans), *row_shape)``."""
        by_chunk: dict[str, list[int]] = {}
        for position, span in enumerate(spans):
            by_chunk.setdefault(span.chunk, []).append(position)
        first = self.array(spans[0].chunk)
        out = np.empty((len(spans), *first.shape[1:]), dtype=first.dtype)
        for chunk, positions in by_chunk.items():
            out[positions] = self.array(chunk)[[spans[p].start for p in positions]]
        return out

    def writer(self, num_rows: int) -> ChunkWriter:
        """A new chunk that will hold ``num_rows`` rows (their shape is taken from the first batch)."""
        return ChunkWriter(self, num_rows)

    def add_chunk(self, chunk: str) -> None:
        """Index a chunk that a writer has just committed."""
        self._add_to_index(chunk, self.directory / f"{chunk}{INDEX_SUFFIX}")


class ChunkWriter:
    """Streams batches of rows into a memory-mapped chunk; commits on a clean ``with`` exit."""

    def __init__(self, store: ActivationStore, num_rows: int) -> None:
        self.store = store
        self.num_rows = num_rows
        self.chunk = uuid.uuid4().hex[:16]
        self.data_tmp = store.directory / f".{self.chunk}.tmp.npy"
        self.rows: np.ndarray | None = None
        self.hashes: list[str] = []
        self.offsets = [0]

    def append(self, hashes: Sequence[str], rows: np.ndarray, lengths: Sequence[int] | None = None) -> None:
        """Store ``rows``: input ``hashes[i]`` owns the next ``lengths[i]`` rows (default one each)."""
        if self.rows is None:
            self.rows = open_memmap(self.data_tmp, mode="w+", dtype=np.float32, shape=(self.num_rows, *rows.shape[1:]))
        start = self.offsets[-1]
        self.rows[start : start + len(rows)] = rows
        for length in lengths if lengths is not None else [1] * len(hashes):
            self.offsets.append(self.offsets[-1] + int(length))
        self.hashes.extend(hashes)

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        rows, self.rows = self.rows, None
        if rows is None:
            return
        rows.flush()
        del rows  # close the memory map before the rename
        if exc_type is not None:
            self.data_tmp.unlink(missing_ok=True)
            return
        directory = self.store.directory
        os.replace(self.data_tmp, directory / f"{self.chunk}.npy")
        index_tmp = directory / f".{self.chunk}.index.tmp.npz"
        np.savez(index_tmp, hashes=np.array(self.hashes, dtype=str), offsets=np.array(self.offsets, dtype=np.int64))
        os.replace(index_tmp, directory / f"{self.chunk}{INDEX_SUFFIX}")
        self.store.add_chunk(self.chunk)


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
