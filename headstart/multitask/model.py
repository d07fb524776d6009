"""A trained multi-task model: predict, evaluate and save per task; artifact folders read back.

The artifact is ``config.json`` (recipe, multi-task options, tasks with their label names and
weights, backbone identity) + ``model.safetensors`` holding what the method changed: every
task head, the shared hidden layer and the learnt task uncertainties (all under ``head.``), and
the trained backbone groups or LoRA adapters. Nothing is pickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

import headstart
from headstart.artifacts import CONFIG, WEIGHTS, load_changed_state, read_artifact
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.fitted import Inputs, Prediction, Transferred
from headstart.methods import Method, get_method
from headstart.model import TransferModel
from headstart.multitask.heads import MultiHead, TaskWeighting
from headstart.multitask.spec import MultiTaskOptions, TaskInfo
from headstart.recipe import Recipe
from headstart.zoo import Backbone

FORMAT = "headstart-multitask/1"


@dataclass
class MultiTaskTransferred:
    """One backbone, one head per task; ``predict(inputs, task=...)``, ``evaluate(data, task=...)``."""

    model: TransferModel  # its head is a ``MultiHead``
    method: Method
    tasks: list[TaskInfo]
    options: MultiTaskOptions
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def recipe(self) -> Recipe:
        return self.method.recipe

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def task(self, name: str) -> Transferred:
        """A single-task view (sharing this model's weights) with that task's head, loss and labels."""
        info = next((t for t in self.tasks if t.name == name), None)
        if info is None:
            raise HeadstartError(f"no task {name!r}; the tasks are: {', '.join(self.task_names)}")
        view = TransferModel(self.model.backbone, self.model.head.task_head(name))
        method = get_method(self.recipe.method)(replace(self.recipe, task=info.kind))
        return Transferred(view.eval(), method, info.classes, self.info)

    def predict(self, inputs: Inputs, task: str, *, progress: bool = False) -> Prediction:
        return self.task(task).predict(inputs, progress=progress)

    def evaluate(self, data: Dataset | str | Path, task: str, *, progress: bool = False) -> dict[str, Any]:
        return self.task(task).evaluate(data, progress=progress)

    def task_weights(self) -> dict[str, float]:
        """Each task's current loss factor (fixed, or learnt by uncertainty weighting)."""
        return self.model.head.weighting.effective_weights()

    def save(self, path: str | Path) -> Path:
        """Write the artifact folder (created if needed) and return it."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous() for k, v in self.method.changed_state(self.model).items()}
        config = {
            "format": FORMAT,
            "recipe": self.recipe.to_dict(),
            "options": asdict(self.options),
            "tasks": [asdict(t) for t in self.tasks],
            "backbone": self.model.backbone.describe(),
            "info": self.info,
            "versions": {"headstart": headstart.__version__, "torch": torch.__version__},
        }
        save_file(tensors, str(folder / WEIGHTS))
        (folder / CONFIG).write_text(json.dumps(config, indent=2, default=_builtin))
        return folder


def build_model(net: Backbone, tasks: list[TaskInfo], options: MultiTaskOptions) -> TransferModel:
    """The backbone with a fresh ``MultiHead`` for ``tasks``."""
    weighting = TaskWeighting([t.name for t in tasks], [t.kind for t in tasks], [t.weight for t in tasks],
                              learn=options.weighting == "uncertainty")
    outputs = {t.name: t.out_dim for t in tasks}
    return TransferModel(net, MultiHead(net.feature_dim, outputs, weighting, hidden=options.hidden))


def load_multitask(path: str | Path) -> MultiTaskTransferred:
    """Read an artifact folder written by ``MultiTaskTransferred.save``."""
    folder = Path(path)
    config, method, net = read_artifact(folder, FORMAT)
    tasks = [TaskInfo(**t) for t in config["tasks"]]
    options = MultiTaskOptions(**config["options"])
    model = build_model(net, tasks, options)
    load_changed_state(folder, method, model)
    return MultiTaskTransferred(model, method, tasks, options, config["info"])


def _builtin(value: Any) -> Any:
    """JSON for numpy scalars and arrays found in run info."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
