"""The run report: metrics beyond accuracy, matplotlib figures, one self-contained HTML file.

Public names are imported on first use, so that ``headstart.report.cli`` loads without torch.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "RunEvaluation": "headstart.report.evaluation",
    "evaluate_run": "headstart.report.evaluation",
    "write_report": "headstart.report.html",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'headstart.report' has no attribute {name!r}")
