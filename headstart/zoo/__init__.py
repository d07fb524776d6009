"""Pre-trained backbones behind one interface: a registry plus one module per model family.

Importing this package registers the built-in backbones (EfficientNet-Lite0/2, MiniLM-L6) and
the loader of any other local model directory or hub id (``hf_text``).
"""

from headstart.zoo import efficientnet_lite, hf_text  # noqa: F401  (registers the built-in backbones)
from headstart.zoo.base import Backbone, TokenState
from headstart.zoo.registry import default_backbone, get_entry, list_backbones, load_backbone, register_backbone

__all__ = ["Backbone", "TokenState", "default_backbone", "get_entry", "list_backbones", "load_backbone", "register_backbone"]
