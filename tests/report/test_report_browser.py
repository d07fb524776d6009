"""The report renders in headless Chromium: a screenshot that is not blank, no console errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ERROR_MARKERS = ("Uncaught", "ERROR:CONSOLE", "Failed to load resource", "net::ERR_")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
)


def chromium(profile: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def test_report_renders_without_console_errors(written_report, tmp_path):
    url = written_report.path.resolve().as_uri()
    shot = tmp_path / "report.png"
    result = chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,3000", url)
    assert shot.is_file(), result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if any(marker in line for marker in ERROR_MARKERS)]
    assert errors == []

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (3000, 1200)
    assert pixels.std() > 20  # text, tables and figures, not a blank page
    rows_with_content = (pixels.std(axis=1) > 5).mean()
    assert rows_with_content > 0.5  # content fills the page, not just a header


def test_rendered_page_holds_every_section_and_image(written_report, tmp_path):
    dom = chromium(tmp_path / "profile", "--dump-dom", written_report.path.resolve().as_uri()).stdout
    assert dom.count("<h2>") == 9
    assert dom.count('src="data:image/png;base64,') >= 5
