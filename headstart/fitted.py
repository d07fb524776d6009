"""Trained models: the ``FittedModel`` contract every kind of run returns, ``Prediction``, and
``Transferred`` (a single-task or adapted transfer model) with its artifact format.

Every fitted model takes the same inputs (``as_batch``: a ``Dataset``,
texts, image paths, ``uint8`` arrays or PIL images, or one of them alone) and saves an artifact
folder that ``headstart.load`` opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from PIL import Image

from headstart import tasks
from headstart.artifacts import (
    Artifact,
    expect_format,
    read_artifact,
    register_format,
    write_artifact,
)
from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.errors import BackboneError, DataError, HeadstartError
from headstart.features import cached_states, extract_features, features_from_states
from headstart.heads import linear_head
from headstart.methods import Method, get_method
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.zoo import Backbone, input_family, is_registered, load_backbone

FORMAT = "headstart-artifact/1"
COLUMNS_KEY = "columns"  # info key: {"text_col": ..., "label_col": ...} the model was trained with
BACKBONE_FOLDER = "backbone"  # where an artifact keeps the model folder of an unregistered backbone
StoredState = Literal["method", "all"]  # what the model's weights file holds; see ``stored_state``


Inputs = Dataset | Sequence[Any] | str | Path | Image.Image | np.ndarray


def as_batch(inputs: Inputs, modality: str) -> list[Any]:
    """What every fitted model's ``outputs``/``predict`` accept, as one batch of raw inputs: a
    ``Dataset``'s inputs; a list (or array) as a batch; one input (a string, a path, a PIL image,
    one image array, one feature row: the family's ``is_single_input``) as a batch of one; each
    coerced by the modality's family (``Backbone.as_inputs``)."""
    if isinstance(inputs, Dataset):
        inputs.require_modality(modality)
        return list(inputs.inputs)
    family = input_family(modality)
    items = [inputs] if family.is_single_input(inputs) else list(inputs)
    if not items:
        raise DataError("no inputs to predict")
    return family.as_inputs(items)


@dataclass
class Prediction:
    """Predicted labels (class names, lists of names for multilabel, values for regression) and
    the activated outputs (class probabilities, per-label probabilities, or regression values)."""

    labels: list[Any]
    probabilities: np.ndarray

    @classmethod
    def from_outputs(cls, task: str, classes: list[str] | None, out: np.ndarray) -> Prediction:
        """Labels from activated outputs: the most probable class, every label with probability
        >= 0.5 (multilabel), or the values (regression; one float per input for one target)."""
        names = classes or []
        if task == "classification":
            labels: list[Any] = [names[i] for i in out.argmax(1)]
        elif task == "multilabel":
            labels = [[names[j] for j in np.flatnonzero(row >= 0.5)] for row in out]
        else:
            labels = out.squeeze(1).tolist() if out.shape[1] == 1 else out.tolist()
        return cls(labels, out)


@runtime_checkable
class FittedModel(Protocol):
    """What every trained thing offers, whatever the run that made it."""

    classes: list[str] | None
    task: str  # classification | multilabel | regression ("multitask" for several)
    modality: str
    info: dict[str, Any]  # the run's facts: n_train, train_seconds, history, val_metrics …

    def describe(self) -> dict[str, Any]:
        """What the model is, as JSON values: at least ``method`` and ``backbone`` (or ``None``)."""

    def features(self, inputs: Inputs, *, progress: bool = False) -> Any:
        """The representation the output layer sees: ``(n, d)`` array or sparse matrix."""

    def outputs_from(self, features: Any) -> np.ndarray:
        """Activated outputs of ``features``: ``outputs(x) == outputs_from(features(x))``."""

    def outputs(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        """Activated outputs ``(n, outputs)``: probabilities, or values for regression."""

    def predict(self, inputs: Inputs, *, progress: bool = False) -> Prediction: ...

    def evaluate(self, data: Dataset | str | Path, *, text_col: str | None = None, label_col: str | None = None,
                 progress: bool = False) -> dict[str, Any]:
        """Metrics on labelled data (``headstart.tasks.evaluate``); a table's columns default to
        the ones the model was trained on (``data_columns``)."""

    def save(self, path: str | Path) -> Path:
        """Write the artifact folder that ``headstart.load`` opens; return it."""


def data_columns(model: FittedModel, text_col: str | None = None, label_col: str | None = None) -> tuple[str, str]:
    """The text and label columns to read a table with for ``model``: the ones given, else the ones
    it was trained on (``info[COLUMNS_KEY]``), else ``text`` and ``label``."""
    trained = model.info.get(COLUMNS_KEY, {})
    return text_col or trained.get("text_col", "text"), label_col or trained.get("label_col", "label")


def evaluate_model(model: FittedModel, data: Dataset | str | Path, *, text_col: str | None = None,
                   label_col: str | None = None, progress: bool = False) -> dict[str, Any]:
    """``model``'s metrics on labelled ``data`` (a ``Dataset`` or a ``load_data`` spec, its table
    columns from ``data_columns``), refusing data with a class the model does not know; classes
    without examples in ``data`` are listed under ``absent_classes`` and left out of the macro average."""
    if isinstance(data, Dataset):
        dataset = data
    else:
        text_col, label_col = data_columns(model, text_col, label_col)
        dataset = load_data(data, text_col=text_col, label_col=label_col, task=model.task)
    require_labels(dataset, min_classes=1)
    if model.task == "classification":
        dataset = dataset.encoded_as(model.classes or [])
    elif dataset.classes != model.classes and model.task != "regression":
        raise HeadstartError(f"{dataset.name}: its classes {dataset.classes} differ from the model's {model.classes}")
    return tasks.evaluate(model.task, model.outputs(dataset, progress=progress), dataset.labels, model.classes)


class PredictsFromFeatures:
    """``outputs``, ``predict`` and ``evaluate`` of a model that defines ``features(inputs)`` and
    ``outputs_from(features)`` (plus ``task``, ``classes``, ``info``)."""

    def outputs(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        """Activated outputs ``(n, outputs)``: probabilities, or values for regression."""
        return self.outputs_from(self.features(inputs, progress=progress))

    def predict(self, inputs: Inputs, *, progress: bool = False) -> Prediction:
        """Labels and probabilities for texts, images (paths, arrays, PIL images), series or a ``Dataset``."""
        return Prediction.from_outputs(self.task, self.classes, self.outputs(inputs, progress=progress))

    def evaluate(self, data: Dataset | str | Path, *, text_col: str | None = None, label_col: str | None = None,
                 progress: bool = False) -> dict[str, Any]:
        """Accuracy, macro-F1 and a per-class report (or regression errors) on labelled data."""
        return evaluate_model(self, data, text_col=text_col, label_col=label_col, progress=progress)


@dataclass
class Transferred(PredictsFromFeatures):
    """A trained transfer model: a ``TransferModel`` with its recipe, label names and run facts.

    ``state`` says what the artifact stores: ``"method"``, what the method changes (the head,
    trained groups or adapters); ``"all"``, every layer group and the head (e.g. AdaBN, which
    re-estimates every BatchNorm layer's statistics whatever the method).
    """

    model: TransferModel
    method: Method
    classes: list[str] | None
    info: dict[str, Any] = field(default_factory=dict)
    state: StoredState = "method"

    @property
    def recipe(self) -> Recipe:
        return self.method.recipe

    @property
    def task(self) -> str:
        return self.recipe.task

    @property
    def modality(self) -> str:
        return self.model.backbone.modality

    @property
    def pretrained_features(self) -> bool:
        """Whether the backbone is the untouched pre-trained one (its features may come from the cache)."""
        return not self.method.trains and self.state == "method"

    def describe(self) -> dict[str, Any]:
        return self.recipe.to_dict()

    @property
    def prefix_start(self) -> int | None:
        """The lowest trained group of a run whose groups below it are the pre-trained ones and never
        ran in training (its prefix was cached), else ``None``: their cached states are this model's too."""
        if self.state != "method" or not self.method.trains or not self.info.get("prefix_cached"):
            return None
        groups = self.model.backbone.num_groups
        start = self.method.first_trainable(groups)
        return start if 0 < start < groups else None

    def features(self, inputs: Inputs, *, progress: bool = False) -> np.ndarray:
        """Pooled features: from the cache for the untouched backbone; for a run that trained only its
        top groups, those groups run on the cached states of the rest where every input has them."""
        net, batch, start = self.model.backbone, as_batch(inputs, self.modality), self.prefix_start
        states = cached_states(net, batch, start - 1, bf16=self.recipe.bf16) if start else None
        if states is not None:
            return features_from_states(net, states, start, bf16=self.recipe.bf16)
        return extract_features(net, batch, bf16=self.recipe.bf16, cache=self.pretrained_features, progress=progress)

    def outputs_from(self, features: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = self.model.head(torch.from_numpy(features))
        return tasks.activate(self.task, logits).numpy()

    def save(self, path: str | Path) -> Path:
        """Write ``config.json`` (recipe, classes, backbone identity, head shape, info) and
        ``model.safetensors`` (only what changed, see ``state``)."""
        model = self.model
        config = {
            "recipe": self.recipe.to_dict(),
            "classes": self.classes,
            "backbone": model.backbone.describe(),
            "head": {"in_features": model.head.in_features, "out_features": model.head.out_features},
            "state": self.state,
            "info": self.info,
        }
        return write_artifact(path, FORMAT, config, stored_state(model, self.method, self.state), stored_backbone(model.backbone, self.recipe))


def stored_state(model: TransferModel, method: Method, state: StoredState) -> dict[str, torch.Tensor]:
    """The tensors an artifact holds: ``method.changed_state``, or every group and the head."""
    if state == "method":
        return method.changed_state(model)
    return {k: v for k, v in model.state_dict().items() if k.startswith(("backbone.groups.", "head."))}


def stored_backbone(net: Backbone, recipe: Recipe) -> dict[str, Path]:
    """The folders an artifact stores beside its tensors: the backbone's own model folder, unless
    it is a registered backbone (an artifact never points at model files outside itself)."""
    if is_registered(recipe.backbone):
        return {}
    if net.source_folder is None:
        raise HeadstartError(f"backbone {recipe.backbone!r} has no model folder to store with the artifact")
    return {BACKBONE_FOLDER: net.source_folder}


def rebuild(artifact: Artifact) -> tuple[Method, Backbone]:
    """The method and the backbone an artifact was trained with: a registered backbone, or the
    model folder stored in the artifact (verified by its manifest before anything loads), never a
    path or a hub id read from the config; installed weights that differ from the ones trained on
    are refused."""
    recipe = Recipe(**artifact.config["recipe"])
    method = get_method(recipe.method)(recipe)
    if is_registered(recipe.backbone):
        source: str | Path = recipe.backbone
    elif any(name.startswith(f"{BACKBONE_FOLDER}/") for name in artifact.config["files"]):
        source = artifact.folder / BACKBONE_FOLDER
    else:
        raise HeadstartError(
            f"{artifact.folder}: backbone {recipe.backbone!r} is neither registered nor stored in the artifact; "
            "headstart loads no model files from outside an artifact")
    net = method.backbone_for(load_backbone(source, **recipe.backbone_options))
    expected = artifact.config["backbone"]["weights_hash"]
    if net.weights_hash != expected:
        raise BackboneError(
            f"{artifact.folder}: trained on {recipe.backbone} weights {expected[:12]}…, but the installed weights are "
            f"{net.weights_hash[:12]}…; install the original weights to use this model"
        )
    return method, net


def restore_state(artifact: Artifact, method: Method, model: TransferModel, state: StoredState) -> None:
    """Re-apply the method's changes to ``model`` (e.g. LoRA adapters), load the artifact's tensors,
    refusing a file whose tensors are not exactly the ones ``state`` stores, and leave it in eval mode."""
    method.prepare(model)
    wanted = set(stored_state(model, method, state))
    if set(artifact.tensors) != wanted:
        odd = sorted(set(artifact.tensors) ^ wanted)[:3]
        raise HeadstartError(f"{artifact.folder}: tensors do not match the {method.recipe.method} model (e.g. {odd})")
    if state == "method":
        method.load_changed_state(model, artifact.tensors)
    else:
        model.load_state_dict(artifact.tensors, strict=False)
    model.set_trainable(model.backbone.num_groups)
    model.eval()


def load_transferred(source: str | Path | Artifact) -> Transferred:
    """A ``Transferred`` from an artifact folder written by ``Transferred.save``."""
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    config = artifact.config
    method, net = rebuild(artifact)
    model = TransferModel(net, linear_head(config["head"]["in_features"], config["head"]["out_features"]))
    state = config.get("state", "method")
    restore_state(artifact, method, model, state)
    return Transferred(model, method, config["classes"], config["info"], state)


register_format(FORMAT, load_transferred)
