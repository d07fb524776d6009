"""What a multi-task run is given: its tasks (``TaskSpec``), its options, and the file that lists them.

A tasks file (TOML, or YAML) holds run settings at the top level and one table per task::

    backbone = "minilm-l6"
    method = "finetune"        # any single-task method: probe, finetune, lora, scratch
    weighting = "uncertainty"  # multi-task options (MultiTaskOptions) ...
    epochs = 5                 # ... and any Recipe field

    [[tasks]]
    name = "sentiment"
    data = "rotten_tomatoes:train"
    shots = 64

    [[tasks]]
    name = "topic"
    data = "news.csv"          # relative to the tasks file
    label_col = "topic"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from headstart.data.dataset import Dataset
from headstart.errors import DataError, HeadstartError

SAMPLING = ("proportional", "uniform", "temperature")
WEIGHTING = ("fixed", "uncertainty")
TASK_KINDS = ("classification", "multilabel", "regression")


@dataclass
class TaskSpec:
    """One task: its data (a ``Dataset``, file or catalogue name) and how to read it.

    Tasks may share inputs: two specs naming one file with different ``label_col`` s.
    ``weight`` scales the task's loss (under either weighting scheme).
    """

    name: str
    data: Dataset | str | Path
    task: str = "classification"
    text_col: str = "text"
    label_col: str = "label"
    shots: int | None = None
    val: Dataset | str | Path | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).isidentifier():
            raise HeadstartError(f"task name {self.name!r} must be a non-empty identifier (letters, digits, _)")
        if self.task not in TASK_KINDS:
            raise HeadstartError(f"task {self.name}: task must be one of {', '.join(TASK_KINDS)}, not {self.task!r}")
        if self.weight <= 0:
            raise HeadstartError(f"task {self.name}: weight must be positive, not {self.weight}")


@dataclass(frozen=True)
class TaskInfo:
    """A trained task as an artifact records it."""

    name: str
    kind: str  # classification | multilabel | regression
    classes: list[str] | None
    out_dim: int
    weight: float


@dataclass
class MultiTaskOptions:
    """How tasks share one run.

    ``sampling``: which task each batch comes from (see ``headstart.multitask.sampling``);
    ``sampling_temperature`` T for ``"temperature"`` (T = 1 is proportional, T -> inf uniform);
    ``weighting``: ``"fixed"`` (the tasks' weights) or ``"uncertainty"`` (learnt, Kendall et al.);
    ``hidden``: width of a shared hidden layer between the backbone and the task heads (None: none).
    """

    sampling: str = "proportional"
    sampling_temperature: float = 2.0
    weighting: str = "fixed"
    hidden: int | None = None

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLING:
            raise HeadstartError(f"sampling must be one of {', '.join(SAMPLING)}, not {self.sampling!r}")
        if self.weighting not in WEIGHTING:
            raise HeadstartError(f"weighting must be one of {', '.join(WEIGHTING)}, not {self.weighting!r}")
        if self.sampling_temperature <= 0:
            raise HeadstartError(f"sampling_temperature must be positive, not {self.sampling_temperature}")
        if self.hidden is not None and self.hidden < 1:
            raise HeadstartError(f"hidden must be a positive width, not {self.hidden}")

    @classmethod
    def split(cls, settings: dict[str, Any]) -> tuple[MultiTaskOptions, dict[str, Any]]:
        """These options from ``settings``, and the remaining settings (recipe fields)."""
        names = {f.name for f in fields(cls)}
        mine = {k: v for k, v in settings.items() if k in names}
        return cls(**mine), {k: v for k, v in settings.items() if k not in names}


def read_tasks_file(path: str | Path) -> tuple[list[TaskSpec], dict[str, Any]]:
    """The tasks and the run settings of a TOML or YAML tasks file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such tasks file")
    content = _parse(path)
    tables = content.pop("tasks", None)
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise DataError(f"{path}: expected one [[tasks]] table per task (name, data, ...)")
    known = {f.name for f in fields(TaskSpec)}
    specs = []
    for number, table in enumerate(tables, 1):
        unknown = sorted(set(table) - known)
        if unknown or "name" not in table or "data" not in table:
            problem = f"unknown keys {', '.join(unknown)}" if unknown else "needs 'name' and 'data'"
            raise DataError(f"{path}: task {number} {problem}; keys are: {', '.join(sorted(known))}")
        for key in ("data", "val"):
            if isinstance(table.get(key), str) and (path.parent / table[key]).exists():
                table[key] = path.parent / table[key]
        specs.append(TaskSpec(**table))
    return specs, content


def _parse(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(f"{path}: not valid YAML ({exc})") from None
    else:
        try:
            content = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{path}: not valid TOML ({exc})") from None
    if not isinstance(content, dict):
        raise DataError(f"{path}: expected settings and [[tasks]] tables at the top level")
    return content
