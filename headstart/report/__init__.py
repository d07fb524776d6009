"""The run report: metrics beyond accuracy, matplotlib figures, one self-contained HTML file.

Public names are imported on first use, so that ``headstart.report.cli`` loads without torch.
"""

from headstart.lazy import lazy_getattr

_EXPORTS = {
    "RunEvaluation": "headstart.report.evaluation",
    "evaluate_run": "headstart.report.evaluation",
    "write_report": "headstart.report.html",
}
__all__ = list(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
