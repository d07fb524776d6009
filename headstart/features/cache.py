"""On-disk store of backbone outputs, one row span per input, keyed by the input's content.

Layout under ``<cache root>/``::

    <key digest>.lock               held while a process fills that key (``filelock``)
    <key digest>/key.json           the key (backbone identity, depth, precision, kind), for people
    <key digest>/<chunk>.npy        rows written by one call, shape (num_rows, *row_shape), float32
    <key digest>/<chunk>.index.npz  content hashes, offsets (input i owns rows offsets[i]:offsets[i+1])
                                    and the BLAKE2b checksum of the ``.npy`` file

Every call that computes new rows adds one chunk (``chunk_writer.ChunkWriter``), under the key's
lock: a second process filling the same key waits, then reuses the first one's rows. An index on
disk always points at a complete chunk; what a killed writer leaves is removed under the lock.

A chunk is checked the first time a process maps it (checksum, row count, finite values); one
that fails, or whose index cannot be read, is deleted with a one-line warning and its rows are
recomputed by the caller.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from filelock import FileLock

INDEX_SUFFIX = ".index.npz"
GATHER_BLOCK = 4096  # rows copied at a time when gathering from several places
log = logging.getLogger(__name__)
_checked: set[tuple[str, int, int]] = set()  # (path, size, mtime) of chunk files found sound by this process


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
        self.lock_file = self.directory.with_name(self.directory.name + ".lock")
        key_file = self.directory / "key.json"
        if not key_file.exists():
            try:
                _atomic_write_bytes(key_file, json.dumps(key, indent=1, sort_keys=True, default=str).encode())
            except OSError:
                pass  # key.json is for people; the next call writes it
        self.index: dict[str, Span] = {}
        self.chunks: dict[str, tuple[int, str]] = {}  # chunk -> (rows, checksum)
        self._arrays: dict[str, np.ndarray] = {}
        self.refresh()

    def refresh(self) -> None:
        """Index the chunks committed since this store last looked."""
        for index_file in sorted(self.directory.glob("*" + INDEX_SUFFIX)):
            chunk = index_file.name.removesuffix(INDEX_SUFFIX)
            if chunk not in self.chunks:
                self._add_to_index(chunk, index_file)

    def _add_to_index(self, chunk: str, index_file: Path) -> None:
        try:
            with np.load(index_file) as saved:
                hashes, offsets = saved["hashes"].tolist(), saved["offsets"].tolist()
                checksum = str(saved["checksum"])
            if len(offsets) != len(hashes) + 1:
                raise ValueError("offsets do not match hashes")
        except KeyError:
            return self.drop(chunk, "its index has no checksum (written by an older headstart)")
        except Exception as error:  # np.load fails in many ways (zip, pickle, value, EOF) on garbage
            return self.drop(chunk, f"its index is unreadable ({type(error).__name__})")
        self.chunks[chunk] = (offsets[-1], checksum)
        self._add_spans(chunk, hashes, offsets)

    def drop(self, chunk: str, reason: str) -> None:
        """Delete a bad chunk and forget its rows (they will be recomputed), with a one-line warning."""
        log.warning("feature cache: dropped chunk %s of %s: %s; its rows will be recomputed", chunk, self.directory, reason)
        for path in (self.directory / f"{chunk}.npy", self.directory / f"{chunk}{INDEX_SUFFIX}"):
            path.unlink(missing_ok=True)
        self.chunks.pop(chunk, None)
        self._arrays.pop(chunk, None)
        self.index = {h: s for h, s in self.index.items() if s.chunk != chunk}

    def locate(self, hashes: Sequence[str]) -> list[Span | None]:
        """The cached span of each hash, ``None`` where it is missing or its chunk fails its check."""
        for chunk in {s.chunk for s in map(self.index.get, hashes) if s is not None}:
            if chunk not in self._arrays:
                problem = self._map(chunk)
                if problem:
                    self.drop(chunk, problem)
        return [self.index.get(h) for h in hashes]

    def _map(self, chunk: str) -> str | None:
        """Map a chunk after checking it once per process; the problem found, if any."""
        path = self.directory / f"{chunk}.npy"
        rows, checksum = self.chunks[chunk]
        try:
            stamp = _stamp(path)
            if stamp not in _checked:
                with open(path, "rb") as fh:
                    if hashlib.file_digest(fh, new_checksum).hexdigest() != checksum:
                        return "its checksum does not match (the file was changed or truncated)"
            array = np.load(path, mmap_mode="c")
        except FileNotFoundError:
            return "its .npy file is missing"
        except (OSError, ValueError) as error:
            return f"its .npy file is unreadable ({error})"
        if stamp not in _checked:
            if len(array) != rows or array.dtype != np.float32:
                return f"it holds {len(array)} rows of {array.dtype}, its index says {rows} of float32"
            if not _all_finite(array):
                return "it holds NaN or infinite values"
            _checked.add(stamp)
        self._arrays[chunk] = array
        return None

    def array(self, chunk: str) -> np.ndarray:
        """A located chunk's rows: memory-mapped copy-on-write (writable views, nothing written back),
        or in memory when the disk could not take them."""
        return self._arrays[chunk]

    def views(self, spans: Sequence[Span]) -> list[np.ndarray]:
        """Each span's rows, as memory-mapped views."""
        return [self.array(s.chunk)[s.start : s.stop] for s in spans]

    def gather(self, spans: Sequence[Span]) -> np.ndarray:
        """First row of each span: ``(len(spans), *row_shape)``. When the spans are consecutive rows
        of one chunk (a call that computed all its inputs wrote them so), the chunk's memory-mapped
        rows themselves, not a copy; else stacked in memory, a block at a time."""
        chunk, start = spans[0].chunk, spans[0].start
        if all(s.chunk == chunk and s.start == start + i for i, s in enumerate(spans)):
            return self.array(chunk)[start : start + len(spans)].view(np.ndarray)
        by_chunk: dict[str, list[int]] = {}
        for position, span in enumerate(spans):
            by_chunk.setdefault(span.chunk, []).append(position)
        first = self.array(chunk)
        out = np.empty((len(spans), *first.shape[1:]), dtype=first.dtype)
        for name, positions in by_chunk.items():
            rows = self.array(name)
            for block in range(0, len(positions), GATHER_BLOCK):  # no temporary as large as the result
                picked = positions[block : block + GATHER_BLOCK]
                out[picked] = rows[[spans[p].start for p in picked]]
        return out

    @contextmanager
    def filling(self) -> Iterator[None]:
        """Hold the key's lock: wait for any other process filling it, then index what it added and
        remove what crashed writers left (temporary files, a chunk without its index)."""
        with FileLock(self.lock_file):
            self.refresh()
            for path in self.directory.iterdir():
                orphan = path.suffix == ".npy" and not (self.directory / f"{path.stem}{INDEX_SUFFIX}").exists()
                if ".tmp" in path.name or orphan:
                    path.unlink(missing_ok=True)
            yield

    def add_chunk(self, chunk: str) -> None:
        """Index a chunk that a writer has just committed (its rows were checked as they were computed)."""
        self._add_to_index(chunk, self.directory / f"{chunk}{INDEX_SUFFIX}")
        _checked.add(_stamp(self.directory / f"{chunk}.npy"))

    def keep_in_memory(self, chunk: str, rows: np.ndarray, hashes: Sequence[str], offsets: Sequence[int]) -> None:
        """Serve rows that could not be written, for this store's lifetime only."""
        self._arrays[chunk] = rows
        self._add_spans(chunk, hashes, offsets)

    def _add_spans(self, chunk: str, hashes: Sequence[str], offsets: Sequence[int]) -> None:
        for i, content in enumerate(hashes):
            self.index[content] = Span(chunk, offsets[i], offsets[i + 1])


def _all_finite(array: np.ndarray) -> bool:
    """No NaN or inf, checked in blocks of about 4M values (a chunk may be larger than memory)."""
    step = max(1, (1 << 22) // max(1, math.prod(array.shape[1:])))
    return all(np.isfinite(array[i : i + step]).all() for i in range(0, len(array), step))


def new_checksum() -> Any:
    """The running checksum of a chunk file (BLAKE2b, 128 bits): ``.update(bytes)``, ``.hexdigest()``."""
    return hashlib.blake2b(digest_size=16)


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
