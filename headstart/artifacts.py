"""Artifact folders: one writer, one reader, and a registry of the formats ``headstart.load`` opens.

Every kind of fitted model (single-task, adapted, multi-task, baseline) is a folder with
``config.json`` (its ``format``, the library versions, a SHA-256 manifest of every other file,
and whatever the kind records) and ``model.safetensors`` (its tensors). The write is atomic:
the files go into a temporary sibling folder that is then renamed into place, so a failed write
leaves the previous artifact as it was. Reading checks the manifest first; loading never
unpickles anything. Each kind registers its format name and loader (``register_format``) and
``load_artifact`` dispatches on the format the folder names.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from headstart.errors import HeadstartError
from headstart.zoo.base import file_sha256

CONFIG, WEIGHTS = "config.json", "model.safetensors"
NOT_COPIED = ("*.py", "*.pyc", "__pycache__", ".git*")  # a stored model folder carries no code
VERSIONED = ("torch", "transformers", "peft", "scikit-learn")


@dataclass
class Artifact:
    """A verified artifact folder: its config and its tensors."""

    folder: Path
    config: dict[str, Any]
    tensors: dict[str, torch.Tensor]


Loader = Callable[[Artifact], Any]
_FORMATS: dict[str, Loader] = {}


def register_format(name: str, loader: Loader) -> None:
    """Make ``load_artifact`` open folders whose config says ``"format": name`` with ``loader``."""
    _FORMATS[name] = loader


def write_artifact(
    path: str | Path,
    fmt: str,
    config: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor | np.ndarray],
    folders: Mapping[str, Path] | None = None,
) -> Path:
    """Write ``config`` (made JSON by ``to_json``) and ``tensors`` as the artifact folder ``path``,
    with a copy of each of ``folders`` (name in the artifact -> source folder; code files left out).

    An existing artifact there is replaced whole; other entries of the folder (a run's
    checkpoints and logs) are kept.
    """
    folder = Path(path)
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover(folder)
    stored = {k: _tensor(v) for k, v in tensors.items()}
    needed = sum(t.numel() * t.element_size() for t in stored.values())
    needed += sum(f.stat().st_size for source in (folders or {}).values() for f in Path(source).rglob("*") if f.is_file())
    free = shutil.disk_usage(folder.parent).free
    if free < needed + (1 << 20):
        raise HeadstartError(f"{folder}: {_megabytes(needed)} needed to save the model, {_megabytes(free)} free; "
                             "free some space and save again (nothing was written)")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}.", dir=folder.parent))
    try:
        save_file(stored, str(staging / WEIGHTS))
        for name, source in (folders or {}).items():
            shutil.copytree(source, staging / name, ignore=shutil.ignore_patterns(*NOT_COPIED))
        files = {p.relative_to(staging).as_posix(): file_sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()}
        document = {"format": fmt, **to_json(dict(config)), "versions": _versions(), "files": files}
        (staging / CONFIG).write_text(json.dumps(document, indent=2))
        _as_created(staging, staging / WEIGHTS)
        _replace(folder, staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk or a lost folder while writing: the old artifact stays as it was
            raise HeadstartError(f"{folder}: the model could not be saved ({exc.strerror or exc}); "
                                 f"about {_megabytes(needed)} are needed, and nothing there was changed") from None
        raise
    return folder


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (the owner of a staging or scratch folder)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def check_writable(path: str | Path) -> None:
    """Refuse, before any work, a run folder that cannot be written (read-only, not a folder, ``/proc``);
    folders made to find out are removed again."""
    folder = Path(path).absolute()
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise HeadstartError(f"--out {path}: cannot write there ({exc.strerror or exc})") from None
    finally:
        for created in made:  # deepest first
            try:
                created.rmdir()
            except OSError:
                break


def read_artifact(path: str | Path) -> Artifact:
    """The folder's config and tensors, after checking that it is an artifact and that every file
    matches the SHA-256 its manifest records."""
    folder = Path(path)
    recover(folder)
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise HeadstartError(f"{folder}: not a headstart artifact (expected {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # empty, truncated, random bytes
        raise HeadstartError(f"{folder / CONFIG}: not valid JSON ({exc}); the file is damaged, save the model again") from None
    if not isinstance(config, dict):
        raise HeadstartError(f"{folder / CONFIG}: expected a JSON object, found {type(config).__name__}")
    manifest = config.get("files")
    if not isinstance(manifest, dict) or WEIGHTS not in manifest:
        raise HeadstartError(f"{folder / CONFIG}: no file manifest (written by an older headstart? save the model again)")
    for name, digest in manifest.items():
        if not (folder / name).is_file() or file_sha256(folder / name) != digest:
            raise HeadstartError(f"{folder / name}: missing or changed since it was saved (SHA-256 differs from the manifest)")
    try:
        tensors = load_file(str(folder / WEIGHTS))
    except (SafetensorError, OSError) as exc:
        raise HeadstartError(f"{folder / WEIGHTS}: cannot be read ({exc})") from None
    return Artifact(folder, config, tensors)


def load_artifact(path: str | Path) -> Any:
    """Open the artifact folder ``path`` with the loader registered for its format."""
    artifact = read_artifact(path)
    fmt = artifact.config.get("format")
    if fmt not in _FORMATS:
        known = ", ".join(sorted(_FORMATS)) or "none registered"
        raise HeadstartError(f"{artifact.folder / CONFIG}: unknown artifact format {fmt!r} (known: {known})")
    try:
        return _FORMATS[fmt](artifact)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # a config edited by hand or by another version
        problem = f"missing entry {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise HeadstartError(f"{artifact.folder / CONFIG}: does not describe a loadable {fmt} model ({problem})") from None


def expect_format(artifact: Artifact, fmt: str) -> None:
    """Refuse an artifact of another format (for loaders called directly)."""
    if artifact.config.get("format") != fmt:
        raise HeadstartError(f"{artifact.folder / CONFIG}: format {artifact.config.get('format')!r} is not {fmt}")


def to_json(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python numbers and lists, tuples as lists, paths
    as strings and dictionary keys as strings (the one numpy-to-JSON conversion)."""
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def _tensor(value: torch.Tensor | np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value.detach()
    return tensor.contiguous()


def _as_created(staging: Path, weights: Path) -> None:
    """Give the staging folder and the weights file the modes that a plain ``mkdir`` and
    ``write_text`` (the config) get under the user's umask; ``mkdtemp`` and safetensors make them private."""
    file_mode = (staging / CONFIG).stat().st_mode & 0o777
    weights.chmod(file_mode)
    staging.chmod(file_mode | (file_mode & 0o444) >> 2)  # each read bit brings its search bit


def _replace(folder: Path, staging: Path) -> None:
    """Move ``staging`` to ``folder``; an existing artifact there goes whole, other entries move over."""
    if not folder.exists():
        staging.rename(folder)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent)) / folder.name
    folder.rename(retired)
    try:
        staging.rename(folder)
    except BaseException:
        retired.rename(folder)
        raise
    _finish_replace(folder, retired)


def _finish_replace(folder: Path, retired: Path) -> None:
    """Move the run's own entries (checkpoints, logs) from the retired artifact into ``folder``, then drop it."""
    old_files = _artifact_files(retired)
    for entry in list(retired.iterdir()) if retired.is_dir() else []:
        if entry.name not in old_files and not (folder / entry.name).exists():
            entry.rename(folder / entry.name)
    shutil.rmtree(retired.parent)


def recover(folder: Path) -> None:
    """Finish a replace that a killed process left half done: with no artifact at ``folder`` the
    retired one goes back (a reader sees the old artifact, never a mix); with the new one in place
    the run's entries move over. Staging folders of writers that died are removed."""
    for staging in folder.parent.glob(f".{folder.name}.*"):
        pid = staging.name.removeprefix(f".{folder.name}.").partition(".")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)
    for retired in sorted(folder.parent.glob(f".{folder.name}.old.*/{folder.name}")):
        if not folder.exists():
            retired.rename(folder)
            shutil.rmtree(retired.parent, ignore_errors=True)
        else:
            _finish_replace(folder, retired)


def _artifact_files(folder: Path) -> set[str]:
    """The names that belong to the artifact in ``folder`` (its config and manifest's files)."""
    try:
        manifest = json.loads((folder / CONFIG).read_text()).get("files", {})
    except (OSError, ValueError):
        manifest = {}
    return {CONFIG, WEIGHTS, *(name.split("/")[0] for name in manifest)}


def _versions() -> dict[str, str]:
    import headstart

    versions = {"python": platform.python_version(), "headstart": headstart.__version__}
    for package in VERSIONED:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions
