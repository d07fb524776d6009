"""Batched feature extraction with an on-disk cache keyed by backbone, depth, precision and content."""

from headstart.features.cache import default_cache_root
from headstart.features.extract import (
    cached_states,
    extract_features,
    extract_features_at_depths,
    extract_source_logits,
    extract_states,
    features_from_states,
)

__all__ = ["cached_states", "default_cache_root", "extract_features", "extract_features_at_depths",
           "extract_source_logits", "extract_states", "features_from_states"]
