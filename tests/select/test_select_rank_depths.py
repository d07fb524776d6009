"""Depth ranking: one pass gives every layer group's features, and the unfreeze suggestion follows the rule."""

import numpy as np
import pytest

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError
from headstart.features import extract_features, extract_features_at_depths
from headstart.select.rank import rank_depths, suggest_unfreeze
from headstart.zoo import load_backbone


@pytest.fixture(scope="module")
def minilm():
    return load_backbone("minilm-l6")


@pytest.fixture(scope="module")
def bbc_8_shot():
    return sample_shots(load_dataset("bbc_news", "train"), 8, seed=0)


def test_one_pass_equals_one_call_per_depth(minilm, bbc_8_shot, tmp_path):
    texts = bbc_8_shot.subset(range(6))
    by_depth = extract_features_at_depths(minilm, texts, depths=[0, 3, -1], cache_dir=tmp_path, progress=False)
    assert sorted(by_depth) == [0, 3, 6]
    for depth, features in by_depth.items():
        expected = extract_features(minilm, texts, depth=depth, cache=False, progress=False)
        np.testing.assert_allclose(features, expected, atol=1e-5)
    # the single-depth call is now served from the rows the sweep cached
    np.testing.assert_array_equal(extract_features(minilm, texts, depth=3, cache_dir=tmp_path, progress=False), by_depth[3])


def test_minilm_on_bbc_is_best_at_its_last_layer(minilm, bbc_8_shot):
    table = rank_depths(bbc_8_shot, minilm)
    assert sorted(c.depth for c in table.candidates) == list(range(7))
    by_depth = {c.depth: c.scores["logme"] for c in table.candidates}
    assert by_depth[6] > by_depth[0]  # the sentence-embedding layer beats the token embeddings
    assert table.suggested_unfreeze == 0 and "probe" in table.reason


def test_imagenet_features_peak_before_the_top_on_digits():
    digits = sample_shots(load_dataset("digits", "train"), 10, seed=0)
    table = rank_depths(digits, "efficientnet-lite0")
    assert table.best.depth < 8  # ImageNet's top layers are too specific for 8x8 digits
    assert 1 <= table.suggested_unfreeze <= 8 - table.best.depth and "re-trained" in table.reason
    last = next(c for c in table.candidates if c.depth == 8)
    assert last.feature_dim == 1280 and last.scores["hscore_shrinkage"] is not None


@pytest.mark.parametrize(
    "scores, expected",
    [
        ({0: -3.0, 1: -2.0, 2: -1.0, 3: -0.5}, 0),  # best at the top: probe
        ({0: -3.0, 1: -1.0, 2: -2.0, 3: -2.5}, 2),  # peak at depth 1: re-train groups 2 and 3
        ({0: -3.0, 1: -1.0, 2: -1.05, 3: -2.5}, 1),  # depth 2 is within 10 % of the spread of the best
        ({0: None, 1: -1.0, 2: -1.0, 3: -1.0}, 0),  # ties and a depth without a score
    ],
)
def test_unfreeze_rule(scores, expected):
    assert suggest_unfreeze(scores, "logme")[0] == expected


def test_unfreeze_rule_needs_a_score():
    with pytest.raises(HeadstartError, match="applies to no depth"):
        suggest_unfreeze({0: None, 1: None}, "nce")

