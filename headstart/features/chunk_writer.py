"""Writing one chunk of the feature cache: plain writes, preallocated, synced, renamed, indexed last.

Rows stream into ``.<chunk>.tmp.npy`` with ``os.write`` (not a memory map: a full disk must fail
with an error, never with a bus error), in the order they come, or, for one row per input, at each
input's own row (``append(..., at=...)``), so that batches computed in length order still leave the
rows in input order and the caller can use the memory-mapped chunk as it is (the checksum is then
taken over the file at commit). The space is checked (``shutil.disk_usage``) and then preallocated
(``os.posix_fallocate``) before the first row, so a full disk fails up front. On a clean exit the
file is synced, its index (hashes, offsets, checksum) written and synced under a
temporary name, and both are renamed into place, index last. When the disk cannot take the rows
they are kept in memory for this call (one warning: computed, not cached) and no partial file is
left; on an exception the temporary file is removed.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import math
import os
import shutil
import uuid
from types import TracebackType
from typing import Sequence

import numpy as np
from numpy.lib import format as npy_format

from headstart.features.cache import INDEX_SUFFIX, ActivationStore, new_checksum

log = logging.getLogger("headstart.features.cache")


class ChunkWriter:
    """Streams batches of rows into a new chunk file; commits on a clean ``with`` exit.

    If the disk lacks the space (checked, then preallocated) or a write fails, the rows are kept in
    memory instead, the partial file removed, and one warning says the rows were not cached.
    """

    def __init__(self, store: ActivationStore, num_rows: int) -> None:
        self.store = store
        self.num_rows = num_rows
        self.chunk = uuid.uuid4().hex[:16]
        self.data_tmp = store.directory / f".{self.chunk}.tmp.npy"
        self.fd: int | None = None
        self.header = b""
        self.shape: tuple[int, ...] = ()
        self.memory: np.ndarray | None = None  # the rows, when they cannot be written
        self.digest = new_checksum()
        self.hashes: list[str] = []
        self.offsets = [0]
        self.placed: np.ndarray | None = None  # the hash of each row, when rows are written ``at`` their place

    def append(
        self, hashes: Sequence[str], rows: np.ndarray, lengths: Sequence[int] | None = None, at: Sequence[int] | None = None
    ) -> None:
        """Store ``rows``: input ``hashes[i]`` owns the next ``lengths[i]`` rows (default one each),
        or, with ``at`` (one row per input, every call of the chunk), row ``at[i]`` of the chunk."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if self.fd is None and self.memory is None:
            self._open(rows.shape[1:])
        if at is not None:
            return self._place(hashes, rows, np.asarray(at, dtype=np.int64))
        start = self.offsets[-1]
        if self.fd is not None:
            try:
                _write_all(self.fd, memoryview(rows).cast("B"))
                self.digest.update(rows)
            except OSError as error:
                self._to_memory(start, error)
        if self.memory is not None:
            self.memory[start : start + len(rows)] = rows
        for length in lengths if lengths is not None else [1] * len(hashes):
            self.offsets.append(self.offsets[-1] + int(length))
        self.hashes.extend(hashes)

    def _place(self, hashes: Sequence[str], rows: np.ndarray, at: np.ndarray) -> None:
        """Write each row at its own place."""
        if self.placed is None:
            self.placed = np.full(self.num_rows, "", dtype=object)
            self.offsets = list(range(self.num_rows + 1))
        if self.fd is not None:
            row_bytes = rows[0].nbytes if len(rows) else 0
            try:
                for row, place in zip(rows, at):
                    _write_all(self.fd, memoryview(row).cast("B"), len(self.header) + int(place) * row_bytes)
            except OSError as error:
                self._to_memory(self.num_rows, error)
        if self.memory is not None:
            self.memory[at] = rows
        self.placed[at] = list(hashes)

    def _open(self, row_shape: tuple[int, ...]) -> None:
        self.shape = shape = (self.num_rows, *row_shape)
        header = io.BytesIO()
        npy_format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
        self.header = header.getvalue()
        needed = len(self.header) + 4 * math.prod(shape)
        free = shutil.disk_usage(self.store.directory).free
        if needed > free:
            return self._to_memory(0, f"{_size(needed)} needed, {_size(free)} free")
        try:
            self.fd = os.open(self.data_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.posix_fallocate(self.fd, 0, needed)  # a full disk fails here, not in the middle
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # raised where unsupported
                    raise
            _write_all(self.fd, self.header)
            self.digest.update(self.header)
        except OSError as error:
            self._to_memory(0, error)

    def _to_memory(self, written: int, why: object) -> None:
        """Keep the rows in memory from now on: read back the ``written`` rows, remove the file."""
        self.memory = np.empty(self.shape, dtype=np.float32)
        if written:  # placed rows may lie anywhere in the file: read what it holds
            row_size = math.prod(self.shape[1:])
            held = np.fromfile(self.data_tmp, dtype=np.float32, count=written * row_size, offset=len(self.header))
            written = len(held) // row_size
            self.memory[:written] = held[: written * row_size].reshape(written, *self.shape[1:])
        self._discard()
        log.warning(
            "feature cache: could not write %s rows to %s (%s); features computed in memory, not cached",
            self.num_rows, self.store.directory, why,
        )

    def _discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.data_tmp.unlink(missing_ok=True)

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self._discard()
            return
        if self.fd is not None:
            try:
                self._commit()
            except OSError as error:
                self._to_memory(self.offsets[-1], error)
        if self.memory is not None:
            hashes = self.placed.tolist() if self.placed is not None else self.hashes
            self.store.keep_in_memory(self.chunk, self.memory, hashes, self.offsets)

    def _commit(self) -> None:
        """Sync and rename the rows, then write the index (checksum included) last."""
        assert self.fd is not None
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = None
        if self.placed is not None:
            self.hashes = self.placed.tolist()
            with open(self.data_tmp, "rb") as fh:
                self.digest = hashlib.file_digest(fh, new_checksum)
        directory = self.store.directory
        index_tmp = directory / f".{self.chunk}.index.tmp.npz"
        try:
            with open(index_tmp, "wb") as fh:
                np.savez(
                    fh, hashes=np.array(self.hashes, dtype=str), offsets=np.array(self.offsets, dtype=np.int64),
                    checksum=np.array(self.digest.hexdigest()),
                )
                fh.flush()
                os.fsync(fh.fileno())
            data = directory / f"{self.chunk}.npy"
            os.replace(self.data_tmp, data)
            os.replace(index_tmp, directory / f"{self.chunk}{INDEX_SUFFIX}")
        except OSError:
            index_tmp.unlink(missing_ok=True)
            if data.exists():  # renamed, but not indexed: back to where _to_memory reads it
                os.replace(data, self.data_tmp)
            raise
        self.store.add_chunk(self.chunk)


def _write_all(fd: int, payload: bytes | memoryview, offset: int | None = None) -> None:
    """Write all of ``payload`` at the file's position, or at ``offset``."""
    view = memoryview(payload)
    while view:
        written = os.write(fd, view) if offset is None else os.pwrite(fd, view, offset)
        view = view[written:]
        offset = None if offset is None else offset + written


def _size(num_bytes: int) -> str:
    value, unit = float(num_bytes), "bytes"
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    return f"{value:.1f} {unit}" if unit != "bytes" else f"{num_bytes} bytes"
