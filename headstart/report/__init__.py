"""The run report: metrics beyond accuracy, matplotlib figures, one self-contained HTML file.

Public names are imported on first use, so that the command line loads without torch.
"""

from headstart.lazy import lazy_getattr

EVAL_DATA_KEY = "eval_data"  # artifact info: the load_data spec of the run's held-out data

_EXPORTS = {
    "RunEvaluation": "headstart.report.evaluation",
    "evaluate_run": "headstart.report.evaluation",
    "write_report": "headstart.report.html",
}
__all__ = [*_EXPORTS, "EVAL_DATA_KEY"]

__getattr__ = lazy_getattr(__name__, _EXPORTS)
