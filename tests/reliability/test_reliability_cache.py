"""The feature cache heals itself: every corruption of a cached chunk, non-finite outputs, two
processes filling one key, a killed writer and a full disk, on MiniLM-L6 over BBC News articles
(and EfficientNet-Lite0's frozen-prefix states over digits)."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from headstart.data.dataset import content_hash
from headstart.errors import HeadstartError
from headstart.features import extract_features, extract_states
from headstart.features.cache import INDEX_SUFFIX
from headstart.training.run import clean_stale_scratch
from headstart.zoo import load_backbone
from headstart.zoo.base import Backbone
from tests.threads import one_torch_thread as one_torch_thread  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[2]
TEXTS = 8
CACHE_LOG = "headstart.features.cache"


@pytest.fixture(scope="module")
def minilm() -> Backbone:
    return load_backbone("minilm-l6", max_length=64)


@pytest.fixture(scope="module")
def texts(bbc_train: Any) -> list[str]:
    return list(bbc_train.inputs[:TEXTS])


@pytest.fixture(scope="module")
def fresh(minilm: Backbone, texts: list[str]) -> np.ndarray:
    """The features computed without any cache: what every call must return."""
    return extract_features(minilm, texts, batch_size=4, cache=False, progress=False)


class Counter:
    """Counts the inputs that enter the backbone's first group."""

    def __init__(self, backbone: Backbone) -> None:
        self.examples = 0
        self.hook = backbone.groups[0].register_forward_pre_hook(self.count)

    def count(self, module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        batch = args[0]
        self.examples += len(batch) if isinstance(batch, torch.Tensor) else len(batch["input_ids"])


@pytest.fixture
def counter(minilm: Backbone) -> Iterator[Counter]:
    counted = Counter(minilm)
    yield counted
    counted.hook.remove()


def extract(minilm: Backbone, texts: list[str], cache_dir: Path) -> np.ndarray:
    return extract_features(minilm, texts, batch_size=4, cache_dir=cache_dir, progress=False)


def files(cache_dir: Path, pattern: str) -> list[Path]:
    return sorted(cache_dir.glob(f"*/{pattern}"))


def changed(path: Path, corrupt: Callable[[bytes], bytes]) -> None:
    """Rewrite a file through ``corrupt``, making sure its modification time moves on (as it does
    for any write after the tick in which the file was made)."""
    before = path.stat()
    path.write_bytes(corrupt(path.read_bytes()))
    while (path.stat().st_mtime_ns, path.stat().st_size) == (before.st_mtime_ns, before.st_size):
        time.sleep(0.01)
        os.utime(path)


def overwrite_floats(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + np.full(64, 0.5, np.float32).tobytes() + data[middle + 256 :]


def nan_row(data: bytes) -> bytes:
    return data[:-384 * 4] + np.full(384, np.nan, np.float32).tobytes()


CORRUPTIONS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "overwritten floats": ("*.npy", lambda p: changed(p, overwrite_floats)),
    "a NaN row": ("*.npy", lambda p: changed(p, nan_row)),
    "truncated npy": ("*.npy", lambda p: changed(p, lambda d: d[: len(d) // 3])),
    "zeroed header": ("*.npy", lambda p: changed(p, lambda d: bytes(128) + d[128:])),
    "empty npy": ("*.npy", lambda p: changed(p, lambda d: b"")),
    "deleted chunk": ("*.npy", Path.unlink),
    "garbage index": ("*" + INDEX_SUFFIX, lambda p: changed(p, lambda d: np.random.default_rng(0).bytes(len(d)))),
    "zeroed index": ("*" + INDEX_SUFFIX, lambda p: changed(p, lambda d: bytes(len(d)))),
    "truncated index": ("*" + INDEX_SUFFIX, lambda p: changed(p, lambda d: d[: len(d) // 2])),
}


@pytest.mark.parametrize("fault", list(CORRUPTIONS))
def test_a_corrupt_chunk_is_dropped_recomputed_and_the_cache_works_afterwards(
    fault: str, minilm: Backbone, texts: list[str], fresh: np.ndarray, counter: Counter,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path), fresh)
    pattern, corrupt = CORRUPTIONS[fault]
    (target,) = files(tmp_path, pattern)
    corrupt(target)
    counter.examples = 0
    with caplog.at_level(logging.WARNING, logger=CACHE_LOG):
        healed = extract(minilm, texts, tmp_path)
    np.testing.assert_array_equal(healed, fresh)
    assert counter.examples == TEXTS  # the chunk's rows were computed again
    (warning,) = [r for r in caplog.records if r.name == CACHE_LOG]
    assert "dropped chunk" in warning.getMessage() and "\n" not in warning.getMessage()
    # the bad chunk is gone, the new one serves the next run without computing or warning
    assert len(files(tmp_path, "*.npy")) == len(files(tmp_path, "*" + INDEX_SUFFIX)) == 1
    assert target.name not in [p.name for p in tmp_path.glob("*/*")]
    caplog.clear()
    counter.examples = 0
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path), fresh)
    assert counter.examples == 0 and not caplog.records


def test_only_the_inputs_of_the_bad_chunk_are_recomputed(
    minilm: Backbone, texts: list[str], fresh: np.ndarray, counter: Counter, tmp_path: Path
) -> None:
    extract(minilm, texts[:4], tmp_path)
    extract(minilm, texts[4:], tmp_path)
    (first,) = [p for p in files(tmp_path, "*" + INDEX_SUFFIX) if content_hash(texts[0]) in np.load(p)["hashes"].tolist()]
    changed(first.with_name(first.name.replace(INDEX_SUFFIX, ".npy")), overwrite_floats)
    counter.examples = 0
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path), fresh)
    assert counter.examples == 4


def test_corrupt_frozen_prefix_states_are_recomputed(digits_train: Any, tmp_path: Path) -> None:
    lite0 = load_backbone("efficientnet-lite0")
    images = list(digits_train.inputs[:4])
    expected = extract_states(lite0, images, 1, cache=False, progress=False)
    extract_states(lite0, images, 1, cache_dir=tmp_path, progress=False)
    (chunk,) = files(tmp_path, "*.npy")
    changed(chunk, overwrite_floats)
    for _ in range(2):  # the healing call, then a call served by the new chunk
        states = extract_states(lite0, images, 1, cache_dir=tmp_path, progress=False)
        for got, want in zip(states, expected):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


@pytest.fixture
def poisoned(minilm: Backbone) -> Iterator[list[int]]:
    """``poisoned.append(n)``: the next ``n`` batches through the last group give NaN for their first input."""
    budget: list[int] = []

    def hook(module: torch.nn.Module, args: tuple[Any, ...], out: Any) -> Any:
        if budget and budget[0] > 0:
            budget[0] -= 1
            out.hidden[0] = float("nan")  # MiniLM's groups pass a TokenState
        return out

    handle = minilm.groups[-1].register_forward_hook(hook)
    yield budget
    handle.remove()


def test_a_passing_nan_is_computed_again(
    minilm: Backbone, texts: list[str], fresh: np.ndarray, poisoned: list[int], tmp_path: Path
) -> None:
    poisoned.append(1)
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path), fresh)
    assert poisoned == [0]


@pytest.mark.parametrize("cache", [True, False])
def test_a_backbone_that_keeps_giving_nan_is_a_one_line_error(
    cache: bool, minilm: Backbone, texts: list[str], poisoned: list[int], tmp_path: Path
) -> None:
    poisoned.append(100)
    with pytest.raises(HeadstartError, match=r"^backbone 'minilm-l6' gives NaN or infinite outputs for 1 of 4 inputs") as raised:
        extract_features(minilm, texts, batch_size=4, cache=cache, cache_dir=tmp_path, progress=False)
    assert "\n" not in str(raised.value)
    assert [p.name for p in tmp_path.glob("*/*") if p.name != "key.json"] == []  # nothing stored


WORKER = """
import sys, time
from pathlib import Path
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.features import extract_features
from headstart.zoo import load_backbone

cache, name, others, pause = Path(sys.argv[1]), sys.argv[2], sys.argv[3:-1], float(sys.argv[-1])
backbone = load_backbone("minilm-l6", max_length=64)
texts = list(sample_shots(load_dataset("bbc_news", "train"), 4, seed=0).inputs[:8])
seen = []
def slow(module, args):  # every batch after the first (which is then in the chunk file) takes `pause` seconds
    seen.append(len(args[0]["input_ids"]))
    print("computing", flush=True)
    if len(seen) > 1:
        time.sleep(pause)
backbone.groups[0].register_forward_pre_hook(slow)
(cache / f"{name}.ready").touch()
while not all((cache / f"{other}.ready").exists() for other in others):
    time.sleep(0.01)
extract_features(backbone, texts, batch_size=2, cache_dir=cache / "features", progress=False)
print("computed", sum(seen), flush=True)
"""


def worker(tmp_path: Path, name: str, *others: str, pause: float = 0.5) -> subprocess.Popen[str]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(script), str(tmp_path), name, *others, str(pause)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def test_two_processes_filling_one_key_compute_and_store_the_rows_once(
    minilm: Backbone, texts: list[str], fresh: np.ndarray, counter: Counter, tmp_path: Path
) -> None:
    first, second = worker(tmp_path, "a", "b"), worker(tmp_path, "b", "a")
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    computed = sorted(int(out.split("computed ")[1]) for out, _ in outputs)
    assert computed == [0, TEXTS]  # the second waited for the first, then reused its rows
    (index,) = files(tmp_path / "features", "*" + INDEX_SUFFIX)
    assert sorted(np.load(index)["hashes"].tolist()) == sorted(content_hash(t) for t in texts)
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path / "features"), fresh)
    assert counter.examples == 0


def test_a_writer_killed_mid_chunk_leaves_nothing_that_breaks_the_next_run(
    minilm: Backbone, texts: list[str], fresh: np.ndarray, tmp_path: Path
) -> None:
    killed = worker(tmp_path, "killed", pause=30)
    assert killed.stdout is not None
    assert [killed.stdout.readline() for _ in range(2)] == ["computing\n"] * 2  # the first batch is written
    killed.kill()
    killed.wait()
    assert len(files(tmp_path / "features", ".*.tmp.npy")) == 1  # what the killed writer left
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path / "features"), fresh)
    left = [p.name for p in (tmp_path / "features").glob("*/*")]
    assert not [n for n in left if ".tmp" in n] and len([n for n in left if n.endswith(".npy")]) == 1


def assert_not_cached(cache_dir: Path, caplog: pytest.LogCaptureFixture, says: str) -> None:
    """One one-line warning that says why, and nothing on disk but the key."""
    (warning,) = [r for r in caplog.records if r.name == CACHE_LOG]
    message = warning.getMessage()
    assert "not cached" in message and says in message and "\n" not in message
    assert [p.name for p in cache_dir.glob("*/*")] == ["key.json"]


def test_too_little_free_space_keeps_the_features_in_memory(
    minilm: Backbone, texts: list[str], fresh: np.ndarray, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("shutil.disk_usage", lambda path: SimpleNamespace(total=10**12, used=10**12 - 1000, free=1000))
    with caplog.at_level(logging.WARNING, logger=CACHE_LOG):
        np.testing.assert_array_equal(extract(minilm, texts, tmp_path), fresh)
    assert_not_cached(tmp_path, caplog, "12.4 kB needed, 1.0 kB free")  # a 128-byte header and 8 rows of 384 floats
    monkeypatch.undo()
    np.testing.assert_array_equal(extract(minilm, texts, tmp_path), fresh)  # space again: cached
    assert len(files(tmp_path, "*.npy")) == 1


def enospc(*args: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["preallocation", "a batch's write", "the final sync"])
def test_a_full_disk_during_the_write_keeps_the_features_and_leaves_no_partial_file(
    where: str, minilm: Backbone, texts: list[str], fresh: np.ndarray, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    if where == "preallocation":
        monkeypatch.setattr(os, "posix_fallocate", enospc)
    elif where == "the final sync":
        monkeypatch.setattr(os, "fsync", enospc)
    else:  # the header and the first rows go through (in order or each at its row), then the disk is full
        real_write, real_pwrite, chunk_writes = os.write, os.pwrite, []

        def full_after_two(fd: int) -> None:
            if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp.npy"):
                chunk_writes.append(fd)
                if len(chunk_writes) > 2:
                    enospc()

        def write(fd: int, data: Any) -> int:
            full_after_two(fd)
            return real_write(fd, data)

        def pwrite(fd: int, data: Any, offset: int) -> int:
            full_after_two(fd)
            return real_pwrite(fd, data, offset)

        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(os, "pwrite", pwrite)
    with caplog.at_level(logging.WARNING, logger=CACHE_LOG):
        features = extract(minilm, texts, tmp_path)
    np.testing.assert_array_equal(features, fresh)
    assert_not_cached(tmp_path, caplog, "No space left on device")


def test_stale_scratch_folders_of_killed_runs_are_removed(tmp_path: Path) -> None:
    code = "import os, sys, tempfile, time; print(tempfile.mkdtemp(prefix=f'headstart-{os.getpid()}-', dir=sys.argv[1]), flush=True); time.sleep(60)"
    killed = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert killed.stdout is not None
    dead = Path(killed.stdout.readline().strip())
    killed.kill()
    killed.wait()
    (dead / "logs").mkdir()
    alive = Path(tempfile.mkdtemp(prefix=f"headstart-{os.getpid()}-", dir=tmp_path))
    old, recent = tmp_path / "headstart-k2j4h1x0", tmp_path / "headstart-9v8c7b6n"  # named without an owner
    old.mkdir()
    recent.mkdir()
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    other = tmp_path / "unrelated-folder"
    other.mkdir()
    assert sorted(clean_stale_scratch(tmp_path)) == sorted([dead, old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, recent.name, other.name])
