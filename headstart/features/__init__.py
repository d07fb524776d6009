"""Batched feature extraction with an on-disk cache keyed by backbone, depth, precision and content."""

from headstart.features.cache import default_cache_root
from headstart.features.extract import (
    extract_features,
    extract_features_at_depths,
    extract_source_logits,
    extract_states,
)

__all__ = ["default_cache_root", "extract_features", "extract_features_at_depths", "extract_source_logits",
           "extract_states"]
