"""Multi-task learning: one backbone, one head per task, trained jointly.

Modules: ``spec`` (tasks, options, tasks files), ``sampling`` (which task each batch comes from),
``heads`` (task heads and loss weighting), ``objective`` (its objective and batches on the shared training path), ``model`` (the
trained model and its artifact), ``api`` (``fit_multitask``), ``cli`` (``headstart multitask``).
"""

from headstart.lazy import lazy_getattr

# Public names, imported on first use so that ``headstart.cli.multitask`` imports cheaply.
_EXPORTS = {
    "fit_multitask": "headstart.multitask.api",
    "MultiTaskTransferred": "headstart.multitask.model",
    "load_multitask": "headstart.multitask.model",
    "MultiHead": "headstart.multitask.heads",
    "TaskWeighting": "headstart.multitask.heads",
    "TaskBatchSampler": "headstart.multitask.sampling",
    "task_probabilities": "headstart.multitask.sampling",
    "MultiTaskOptions": "headstart.multitask.spec",
    "TaskSpec": "headstart.multitask.spec",
    "read_tasks_file": "headstart.multitask.spec",
}
__all__ = list(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
