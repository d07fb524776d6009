"""Ranking real backbones on real data: scores, ranks, applicability and the cached source head."""

import json

import numpy as np
import pytest
import torch
from scipy.special import softmax

from headstart.data.catalogue import load_dataset
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError
from headstart.features import extract_source_logits
from headstart.select import SCORES
from headstart.select.rank import rank_backbones
from headstart.zoo import load_backbone


@pytest.fixture(scope="module")
def digits_10_shot():
    return sample_shots(load_dataset("digits", "train"), 10, seed=0)


@pytest.fixture(scope="module")
def digits_table(digits_10_shot):
    return rank_backbones(digits_10_shot, ["efficientnet-lite0", "efficientnet-lite2"])


def test_image_backbones_get_every_score_and_consistent_ranks(digits_table):
    assert {c.backbone for c in digits_table.candidates} == {"efficientnet-lite0", "efficientnet-lite2"}
    assert digits_table.n_examples == 100
    logme_first, logme_second = (c.scores["logme"] for c in digits_table.candidates)
    assert logme_first > logme_second  # ordered best first by the first score
    for name in digits_table.score_names:
        values = [c.scores[name] for c in digits_table.candidates]
        assert all(v is not None and np.isfinite(v) for v in values)  # the ImageNet heads make NCE and LEEP apply
        best = int(np.argmax(values))
        assert digits_table.ranks[name][best] == 1 and sorted(digits_table.ranks[name]) == [1, 2]
    assert all(c.scores["nce"] <= 0 and c.scores["leep"] <= 0 for c in digits_table.candidates)


def test_rows_are_json_ready(digits_table):
    rows = json.loads(json.dumps(digits_table.to_rows()))
    assert [r["backbone"] for r in rows] == [c.backbone for c in digits_table.candidates]
    assert rows[0]["logme_rank"] == 1 and rows[0]["depth"] == 8 and rows[0]["feature_dim"] == 1280
    assert all(r["seconds"] > 0 for r in rows)


def test_leep_uses_the_softmax_of_the_cached_source_logits(digits_10_shot, digits_table):
    lite0 = load_backbone("efficientnet-lite0")
    probs = softmax(extract_source_logits(lite0, digits_10_shot, progress=False).astype(np.float64), axis=1)
    row = next(c for c in digits_table.candidates if c.backbone == "efficientnet-lite0")
    assert row.scores["leep"] == pytest.approx(SCORES["leep"].function(probs, digits_10_shot.labels))


def test_source_logits_match_the_backbone_and_are_cached(digits_10_shot, tmp_path):
    lite0 = load_backbone("efficientnet-lite0")
    few = digits_10_shot.subset(range(6))
    cached = extract_source_logits(lite0, few, cache_dir=tmp_path, progress=False)
    with torch.inference_mode():
        direct = lite0.source_logits(lite0.preprocess(list(few.inputs))).numpy()
    np.testing.assert_allclose(cached, direct, atol=1e-3)
    lite0.source_logits = None  # a second call must not run the source head again
    np.testing.assert_array_equal(extract_source_logits(lite0, few, cache_dir=tmp_path, progress=False), cached)


def test_text_backbone_has_no_source_scores():
    bbc = sample_shots(load_dataset("bbc_news", "train"), 8, seed=0)
    table = rank_backbones(bbc, ["minilm-l6"])
    (row,) = table.candidates
    assert row.scores["nce"] is None and row.scores["leep"] is None
    assert table.ranks["nce"] == [None] and table.ranks["logme"] == [1]
    assert np.isfinite(row.scores["logme"]) and row.feature_dim == 384


def test_regression_targets_get_logme_only():
    bbc = sample_shots(load_dataset("bbc_news", "train"), 8, seed=0)
    lengths = Dataset(bbc.inputs, np.log([len(t) for t in bbc.inputs]), None, "text", task="regression")
    (row,) = rank_backbones(lengths, ["minilm-l6"]).candidates
    assert np.isfinite(row.scores["logme"]) and row.scores["hscore_shrinkage"] is None and row.scores["leep"] is None


def test_unknown_score_and_empty_candidate_list_are_user_errors(digits_10_shot):
    with pytest.raises(HeadstartError, match="unknown transferability score 'lgome'"):
        rank_backbones(digits_10_shot, ["efficientnet-lite0"], scores=["lgome"])
    with pytest.raises(HeadstartError, match="at least one backbone"):
        rank_backbones(digits_10_shot, [])

