"""Start ``headstart serve`` as a process on a free loopback port and wait until it answers
``/health`` (what the serving tests and ``bench/serve.py`` run against)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder whose headstart/ the server imports


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(path: Path, *args: str, log: IO[bytes] | None = None, wait: float = 60.0) -> tuple[subprocess.Popen, str]:
    """``headstart serve path --port P --threads 1 *args`` (this package's headstart) and its URL once
    ``/health`` answers 200. The server's standard error goes to the binary file ``log`` (``None``:
    discarded); a server that has not started within ``wait`` seconds is killed."""
    port = free_port()
    env = os.environ | {"PYTHONPATH": str(PACKAGE_ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "headstart", "serve", str(path), "--port", str(port), "--threads", "1",
                             *args], env=env, stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"headstart serve {path} did not answer /health within {wait:.0f} s (exit status {proc.wait()})")
