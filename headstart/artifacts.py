"""Artifact folders: ``config.json`` + ``model.safetensors`` holding only what the run changed.

Loading rebuilds the backbone from its registry entry (refusing one whose weights hash differs
from the one trained on), re-applies the method's changes (e.g. LoRA adapters) and loads the saved
tensors. Nothing is unpickled.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file, save_file

import headstart
from headstart.errors import BackboneError, HeadstartError
from headstart.heads import linear_head
from headstart.methods import Method, get_method
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.zoo import Backbone, load_backbone

FORMAT = "headstart-artifact/1"
CONFIG, WEIGHTS = "config.json", "model.safetensors"


def save(fitted: "headstart.fitted.Transferred", path: str | Path) -> Path:
    """Write ``fitted`` to the folder ``path`` (created if needed) and return it."""
    import peft
    import torch
    import transformers

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    model, method = fitted.model, fitted.method
    tensors = {k: v.detach().contiguous() for k, v in method.changed_state(model).items()}
    config = {
        "format": FORMAT,
        "recipe": fitted.recipe.to_dict(),
        "classes": fitted.classes,
        "backbone": model.backbone.describe(),
        "head": {"in_features": model.head.in_features, "out_features": model.head.out_features},
        "info": _jsonable(fitted.info),
        "versions": {
            "headstart": headstart.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "python": platform.python_version(),
        },
    }
    save_file(tensors, str(folder / WEIGHTS))
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    return folder


def load(path: str | Path) -> "headstart.fitted.Transferred":
    """Load an artifact folder written by ``save``.

    >>> model = headstart.load("runs/bbc")            # doctest: +SKIP
    >>> model.predict(["Shares fell sharply today"]).labels  # doctest: +SKIP
    """
    from headstart.fitted import Transferred
    from headstart.select.baseline_model import is_baseline_artifact, load_baseline

    folder = Path(path)
    if is_baseline_artifact(folder):  # kept by method="auto" when transfer did not beat it
        return load_baseline(folder)
    config, method, net = read_artifact(folder, FORMAT)
    model = TransferModel(net, linear_head(config["head"]["in_features"], config["head"]["out_features"]))
    load_changed_state(folder, method, model)
    return Transferred(model, method, config["classes"], config["info"])


def read_artifact(folder: Path, expected_format: str) -> tuple[dict[str, Any], Method, Backbone]:
    """The folder's config, its method and the backbone it was trained on, after checking the files,
    the format and (for pre-trained methods) that the installed weights are the ones trained on."""
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise HeadstartError(f"{folder}: not a headstart artifact (expected {CONFIG} and {WEIGHTS})")
    config = json.loads((folder / CONFIG).read_text())
    if config.get("format") != expected_format:
        raise HeadstartError(f"{folder / CONFIG}: format {config.get('format')!r} is not {expected_format}")
    recipe = Recipe(**config["recipe"])
    method = get_method(recipe.method)(recipe)
    net = load_backbone(recipe.backbone, **recipe.backbone_options)
    expected = config["backbone"]["weights_hash"]
    if method.pretrained and net.weights_hash != expected:
        raise BackboneError(
            f"{folder}: trained on {recipe.backbone} weights {expected[:12]}…, but the installed weights are "
            f"{net.weights_hash[:12]}…; install the original weights to use this model"
        )
    return config, method, net


def load_changed_state(folder: Path, method: Method, model: TransferModel) -> None:
    """Re-apply the method's changes to ``model`` (e.g. LoRA adapters), load the saved tensors,
    refusing a file whose tensors are not exactly what the method changes, and leave it in eval mode."""
    method.prepare(model)
    state = load_file(str(folder / WEIGHTS))
    wanted = set(method.changed_state(model))
    if set(state) != wanted:
        odd = sorted(set(state) ^ wanted)[:3]
        raise HeadstartError(f"{folder / WEIGHTS}: tensors do not match the {method.recipe.method} model (e.g. {odd})")
    model.load_state_dict(state, strict=False)
    model.set_trainable(model.backbone.num_groups)
    model.eval()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
