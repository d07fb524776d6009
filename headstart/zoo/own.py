"""Backbone folders of headstart's own encoders (``hs-tcn``, ``hs-speech``): one writer, one reader.

A folder is ``config.json`` (``model_type``, ``family``, ``name``, the ``architecture`` and what it
was ``trained`` on) and ``model.safetensors``, written atomically and verified on reading by
``headstart.artifacts`` (nothing unpickled); ``load_backbone(folder)`` dispatches on ``model_type``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from headstart.errors import BackboneError
from headstart.zoo.base import Backbone, file_sha256

B = TypeVar("B", bound=Backbone)


def save_own(backbone: Backbone, folder: str | Path, model_type: str, family: str,
             architecture: Mapping[str, Any], trained: Mapping[str, Any]) -> Path:
    """Write every tensor of ``backbone`` and its description to ``folder``."""
    from headstart.artifacts import write_artifact

    config = {"model_type": model_type, "family": family, "name": backbone.name,
              "architecture": dict(architecture), "trained": dict(trained)}
    tensors = {k: v.detach().cpu().contiguous() for k, v in backbone.state_dict().items()}
    return write_artifact(folder, model_type, config, tensors)


def load_own(path: str | Path, family: str, build: Callable[[dict[str, Any], str, str], B],
             options: Mapping[str, Any]) -> B:
    """The backbone ``build(architecture, name, weights_hash)`` with the folder's tensors, in eval mode."""
    from headstart.artifacts import read_artifact

    if options:
        raise BackboneError(f"{family} backbones take no options, got {', '.join(options)}")
    artifact = read_artifact(path)
    folder = Path(path).expanduser().resolve()
    backbone = build(artifact.config["architecture"], str(artifact.config.get("name") or folder.name),
                     file_sha256(folder / "model.safetensors"))
    expected = set(backbone.state_dict())
    if set(artifact.tensors) != expected:
        odd = sorted(set(artifact.tensors) ^ expected)[:3]
        raise BackboneError(f"{path}: tensors do not match the {family} architecture of its config (e.g. {odd})")
    backbone.load_state_dict(artifact.tensors)
    backbone.source_folder = folder
    backbone.trained = dict(artifact.config.get("trained", {}))
    return backbone.eval()
