"""What every export writes beside its graph: ``model.json`` (metadata ``OnnxModel`` reads) and
``model.parity.json`` (the parity report, refused above its tolerance)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headstart.errors import HeadstartError
from headstart.export.runner import metadata_path

FORMAT = "headstart-onnx/1"


def onnx_target(path: str | Path) -> Path:
    """``path`` checked to end in ``.onnx``, its folder created."""
    path = Path(path)
    if path.suffix != ".onnx":
        raise HeadstartError(f"{path}: the exported file must end in .onnx")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_metadata(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``meta`` (with the format) as ``path``'s metadata; return it."""
    meta = {"format": FORMAT, **meta}
    metadata_path(path).write_text(json.dumps(meta, indent=1, default=str))
    return meta


def write_parity(path: Path, report: dict[str, Any], measure: str, tolerance: float, what: str) -> dict[str, Any]:
    """Write ``report`` as ``path``'s parity report; raise ``HeadstartError`` if ``report[measure]``
    exceeds ``tolerance`` (``what`` names the measure in the message)."""
    path.with_name(f"{path.stem}.parity.json").write_text(json.dumps(report, indent=1))
    if not report[measure] <= tolerance:
        raise HeadstartError(f"{path}: export parity failed: {what} {report[measure]:.2e} > {tolerance:.0e} "
                             f"on {report['examples']} examples")
    return report
