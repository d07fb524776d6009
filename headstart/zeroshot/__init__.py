"""Zero-shot classification from label descriptions, and the few-shot bridge from it to a probe.

>>> from headstart.zeroshot import zeroshot_classify
>>> zeroshot_classify(["Shares fell after the results"], {"business": "business and finance", "sport": "sports"}).labels
['business']
"""

from importlib import import_module
from typing import Any

# Public names, imported on first use so that the CLI can import ``headstart.zeroshot.cli`` cheaply.
_EXPORTS = {
    "DEFAULT_TEMPERATURE": "headstart.zeroshot.classifier",
    "DEFAULT_TEMPLATES": "headstart.zeroshot.classifier",
    "fit_temperature": "headstart.zeroshot.classifier",
    "label_embeddings": "headstart.zeroshot.classifier",
    "zeroshot_classify": "headstart.zeroshot.classifier",
    "zeroshot_evaluate": "headstart.zeroshot.classifier",
    "zeroshot_model": "headstart.zeroshot.classifier",
    "DEFAULT_PRIOR_STRENGTH": "headstart.zeroshot.fewshot",
    "fit_fewshot_from_prior": "headstart.zeroshot.fewshot",
    "fit_head_towards_prior": "headstart.zeroshot.fewshot",
    "ImageTextBackbone": "headstart.zeroshot.image_text",
    "LabelPrompts": "headstart.zeroshot.labels",
    "label_prompts": "headstart.zeroshot.labels",
    "parse_labels": "headstart.zeroshot.labels",
    "read_labels_file": "headstart.zeroshot.labels",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'headstart.zeroshot' has no attribute {name!r}")
