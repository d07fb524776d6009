"""Zero-shot classification from label descriptions (texts; images with a local CLIP folder), and the
few-shot bridge from it to a probe.

>>> from headstart.zeroshot import zeroshot_classify
>>> zeroshot_classify(["Shares fell after the results"], {"business": "business and finance", "sport": "sports"}).labels
['business']
"""

from headstart.lazy import lazy_getattr

# Public names, imported on first use so that ``headstart.cli.zeroshot`` imports cheaply.
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
    "LabelPrompts": "headstart.zeroshot.labels",
    "label_prompts": "headstart.zeroshot.labels",
    "parse_labels": "headstart.zeroshot.labels",
    "read_labels_file": "headstart.zeroshot.labels",
}
__all__ = list(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
