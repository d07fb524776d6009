"""Pre-trained backbones behind one interface: a registry plus one module per model family.

Importing this package registers the built-in backbones (EfficientNet-Lite0/2, MiniLM-L6, fracast-0,
ge2e-speaker, crepe-tiny), the
loader of local CLIP folders (``image_text``) and of any other local model directory or hub id
(``hf_text``).
"""

from headstart.zoo import efficientnet_lite, hf_text, image_text  # noqa: F401  (registers the built-in backbones)
from headstart.zoo import fracast, tcn  # noqa: F401  (series: fracast-0, folders of headstart-series encoders)
from headstart.zoo import crepe, frames, ge2e  # noqa: F401  (audio: crepe-tiny, ge2e-speaker, hs-speech folders)
from headstart.zoo.base import Backbone, TextTower
from headstart.zoo.registry import (
    backbone_family,
    default_backbone,
    get_entry,
    input_family,
    is_registered,
    list_backbones,
    load_backbone,
    register_backbone,
)
from headstart.zoo.text import TokenState

__all__ = [
    "Backbone",
    "TextTower",
    "TokenState",
    "backbone_family",
    "default_backbone",
    "get_entry",
    "input_family",
    "is_registered",
    "list_backbones",
    "load_backbone",
    "register_backbone",
]
