"""``headstart.load``: open any artifact folder, whatever kind of run wrote it.

Importing the kinds registers their formats (``headstart.artifacts.register_format``); this
module sits above all of them, so that ``headstart.artifacts`` never imports upward.
"""

from __future__ import annotations

from pathlib import Path

import headstart.forecast.auto  # noqa: F401  (registers headstart-forecast-baseline/1)
import headstart.forecast.fitted  # noqa: F401  (registers headstart-forecast/1)
import headstart.rl.policy_io  # noqa: F401  (registers headstart-rl-policy/1; needs gymnasium only to load one)
import headstart.select.baseline_model  # noqa: F401  (registers headstart-baseline/1)
import headstart.select.series_baseline  # noqa: F401  (registers headstart-series-baseline/1)
from headstart.artifacts import load_artifact
from headstart.errors import HeadstartError
from headstart.fitted import (
    FittedModel,  # registers headstart-artifact/1: single-task and adapted runs
)
from headstart.multitask.model import (
    MultiTaskTransferred,  # registers headstart-multitask/1
)


def load(path: str | Path, *, task: str | None = None) -> FittedModel:
    """The fitted model saved in the folder ``path``; ``task`` picks one task of a multi-task run
    (as a single-task model).

    >>> model = headstart.load("runs/bbc")            # doctest: +SKIP
    >>> model.predict(["Shares fell sharply today"]).labels  # doctest: +SKIP
    """
    model = load_artifact(path)
    if task is None:
        return model
    if not isinstance(model, MultiTaskTransferred):
        raise HeadstartError(f"{path}: task={task!r} given, but this is a single-task model")
    return model.for_task(task)
