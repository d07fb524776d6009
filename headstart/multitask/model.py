"""A trained multi-task model: predict, evaluate and save per task; artifact folders read back.

The artifact is ``config.json`` (recipe, multi-task options, tasks with their label names and
weights, backbone identity) + ``model.safetensors`` holding what the method changed: every
task head, the shared hidden layer and the learnt task uncertainties (all under ``head.``), and
the trained backbone groups or LoRA adapters. Nothing is pickled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from headstart.artifacts import (
    Artifact,
    expect_format,
    read_artifact,
    register_format,
    write_artifact,
)
from headstart.data import load_data
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.fitted import (
    Inputs,
    Prediction,
    Transferred,
    rebuild,
    restore_state,
    stored_backbone,
)
from headstart.methods import Method, get_method
from headstart.model import TransferModel
from headstart.multitask.heads import MultiHead, TaskWeighting
from headstart.multitask.spec import MultiTaskOptions, TaskInfo
from headstart.recipe import Recipe
from headstart.zoo import Backbone

FORMAT = "headstart-multitask/1"


@dataclass
class MultiTaskTransferred:
    """One backbone, one head per task; ``predict(inputs, task=...)``, ``evaluate(data, task=...)``.

    ``task=None`` means the only task, or (``evaluate``) the one task whose kind and classes are
    the data's; ``for_task(name)`` is a single-task ``Transferred`` view of one head.
    """

    model: TransferModel  # its head is a ``MultiHead``
    method: Method
    tasks: list[TaskInfo]
    options: MultiTaskOptions
    info: dict[str, Any] = field(default_factory=dict)
    task = "multitask"
    classes = None  # per task: ``tasks[i].classes``

    @property
    def recipe(self) -> Recipe:
        return self.method.recipe

    @property
    def modality(self) -> str:
        return self.model.backbone.modality

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def for_task(self, name: str | None = None) -> Transferred:
        """A single-task view (sharing this model's weights) with that task's head, loss and labels."""
        if name is None:
            if len(self.tasks) > 1:
                raise HeadstartError(f"this model has {len(self.tasks)} tasks: choose one with task= "
                                     f"({', '.join(self.task_names)})")
            name = self.tasks[0].name
        info = next((t for t in self.tasks if t.name == name), None)
        if info is None:
            raise HeadstartError(f"no task {name!r}; the tasks are: {', '.join(self.task_names)}")
        view = TransferModel(self.model.backbone, self.model.head.task_head(name))
        method = get_method(self.recipe.method)(replace(self.recipe, task=info.kind))
        return Transferred(view.eval(), method, info.classes, self.info)

    def task_of(self, data: Dataset) -> str:
        """The one task whose kind and classes are ``data``'s."""
        matches = [t.name for t in self.tasks if t.kind == data.task and t.classes == data.classes]
        if len(matches) != 1:
            found = "several tasks" if matches else "no task"
            raise HeadstartError(f"{data.name}: {found} of this model ({', '.join(self.task_names)}) has its labels; "
                                 "choose one with task=")
        return matches[0]

    def describe(self) -> dict[str, Any]:
        return self.recipe.to_dict() | {"tasks": self.task_names}

    def features(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        return self.for_task(self.tasks[0].name).features(inputs, progress=progress)

    def outputs_from(self, features: np.ndarray, task: str | None = None) -> np.ndarray:
        return self.for_task(task).outputs_from(features)

    def outputs(self, inputs: Inputs, task: str | None = None, *, progress: bool = False) -> np.ndarray:
        return self.for_task(task).outputs(inputs, progress=progress)

    def predict(self, inputs: Inputs, task: str | None = None, *, progress: bool = False) -> Prediction:
        return self.for_task(task).predict(inputs, progress=progress)

    def evaluate(self, data: Dataset | str | Path, task: str | None = None, *, progress: bool = False) -> dict[str, Any]:
        if task is None and len(self.tasks) > 1:
            data = data if isinstance(data, Dataset) else load_data(data)
            task = self.task_of(data)
        return self.for_task(task).evaluate(data, progress=progress)

    def task_weights(self) -> dict[str, float]:
        """Each task's current loss factor (fixed, or learnt by uncertainty weighting)."""
        return self.model.head.weighting.effective_weights()

    def save(self, path: str | Path) -> Path:
        """Write the artifact folder and return it."""
        config = {
            "recipe": self.recipe.to_dict(),
            "options": asdict(self.options),
            "tasks": [asdict(t) for t in self.tasks],
            "backbone": self.model.backbone.describe(),
            "info": self.info,
        }
        return write_artifact(path, FORMAT, config, self.method.changed_state(self.model), stored_backbone(self.model.backbone, self.recipe))


def build_model(net: Backbone, tasks: list[TaskInfo], options: MultiTaskOptions) -> TransferModel:
    """The backbone with a fresh ``MultiHead`` for ``tasks``."""
    weighting = TaskWeighting([t.name for t in tasks], [t.kind for t in tasks], [t.weight for t in tasks],
                              learn=options.weighting == "uncertainty")
    outputs = {t.name: t.out_dim for t in tasks}
    return TransferModel(net, MultiHead(net.feature_dim, outputs, weighting, hidden=options.hidden))


def load_multitask(source: str | Path | Artifact) -> MultiTaskTransferred:
    """Read an artifact folder written by ``MultiTaskTransferred.save``."""
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    config = artifact.config
    method, net = rebuild(artifact)
    tasks = [TaskInfo(**t) for t in config["tasks"]]
    options = MultiTaskOptions(**config["options"])
    model = build_model(net, tasks, options)
    restore_state(artifact, method, model, "method")
    return MultiTaskTransferred(model, method, tasks, options, config["info"])


register_format(FORMAT, load_multitask)
