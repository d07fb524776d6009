"""The settings, the alignment wrapper and the batch sampler of adaptation training."""

import numpy as np
import pytest
import torch

from headstart.adapt.algorithms import AdaptConfig, FeatureAlignment, build_alignment
from headstart.adapt.cdan import ConditionalDomainAdversarialLoss
from headstart.adapt.coral import CoralLoss
from headstart.adapt.dann import DomainAdversarialLoss
from headstart.adapt.objective import batch_shares
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.training.data import PairedBatches


def test_config_fills_the_algorithms_defaults():
    dann = AdaptConfig.build("dann")
    assert dann.base == "finetune" and dann.weights == [0.3]  # one run by default
    adabn = AdaptConfig.build("adabn")
    assert adabn.base == "probe" and adabn.weights == []
    assert AdaptConfig.build("coral", weights=[5]).weights == [5.0]
    assert AdaptConfig.build("self_training", rounds=2).rounds == 2


@pytest.mark.parametrize(
    "method, values, message",
    [
        ("magic", {}, "unknown adaptation method"),
        ("dann", {"base": "probe"}, "works with base method"),
        ("mmd", {"weights": []}, "non-negative alignment weights"),
        ("mmd", {"weights": [-1.0]}, "non-negative alignment weights"),
        ("self_training", {"rounds": 0}, "rounds >= 1"),
        ("self_training", {"max_fraction": 0.0}, "max_fraction"),
        ("dann", {"rounds": 2}, "rounds does nothing with adaptation method dann; dann's settings: weights; shared settings: base, selection_size"),
        ("self_training", {"weights": [1.0]}, "weights does nothing with adaptation method self_training; self_training's settings: rounds, threshold, max_fraction"),
        ("adabn", {"threshold": 0.9}, "adabn's settings: none"),
        ("dann", {"wieghts": [1.0]}, "unknown adaptation setting wieghts; did you mean weights"),
    ],
)
def test_bad_settings(method, values, message):
    with pytest.raises(HeadstartError, match=message):
        AdaptConfig.build(method, **values)


def test_alignment_is_the_weighted_loss_and_steps_only_adversaries():
    g = torch.Generator().manual_seed(0)
    f_s, f_t = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g) + 1
    logits = torch.zeros(8, 3)
    coral = build_alignment("coral", 4, 3, weight=2.5)
    assert isinstance(coral.loss, CoralLoss) and not coral.adversarial
    assert coral(f_s, f_t, logits, logits).item() == pytest.approx(2.5 * CoralLoss()(f_s, f_t).item())
    coral.step(0.5)  # no-op, no error
    dann = build_alignment("dann", 4, 3, weight=1.0)
    assert isinstance(dann.loss, DomainAdversarialLoss) and dann.adversarial
    dann.step(1.0)
    assert dann.loss.reversal.coeff == pytest.approx(1.0, abs=1e-3)
    cdan = build_alignment("cdan", 4, 3, weight=1.0)
    assert isinstance(cdan.loss, ConditionalDomainAdversarialLoss) and cdan.conditional
    assert torch.isfinite(cdan(f_s, f_t, logits, logits))
    with pytest.raises(HeadstartError, match="no alignment loss"):
        build_alignment("adabn", 4, 3, weight=1.0)


def test_the_reversed_gradient_grows_with_the_weight():
    """The weight scales what the features receive through the gradient reversal."""
    x = torch.randn(16, 5, generator=torch.Generator().manual_seed(1))
    grads = []
    for weight in (0.5, 1.0):
        torch.manual_seed(0)
        alignment: FeatureAlignment = build_alignment("dann", 4, 3, weight=weight)
        alignment.step(1.0)
        torch.manual_seed(0)
        extractor = torch.nn.Linear(5, 4)
        f = extractor(x)
        alignment(f[:8], f[8:], f[:8, :3], f[8:, :3]).backward()
        grads.append(extractor.weight.grad.clone())
    assert torch.allclose(grads[1], 2 * grads[0], atol=1e-6)


def test_paired_batches_mix_source_labelled_target_and_target_rows():
    sampler = PairedBatches(n_source=10, n_target=7, batch=4, target_batch=4, labelled=np.array([2, 5]), labelled_batch=4, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 2  # 10 // 4: the remainder is dropped
    for batch in batches:
        source, labelled, target = batch[:4], batch[4:6], batch[6:]
        assert all(0 <= i < 10 for i in source)
        assert sorted(labelled) == [12, 15]  # target rows 2 and 5, after the 10 source rows
        assert len(target) == 4 and all(10 <= i < 17 for i in target)
    assert len({i for b in batches for i in b[:4]}) == 8  # no source row twice in a pass
    assert [b[:4] for b in batches] != [b[:4] for b in sampler]  # reshuffled on the next pass


def test_source_only_batches_hold_no_target_rows():
    sampler = PairedBatches(n_source=6, n_target=50, batch=8, target_batch=0, labelled=np.zeros(0, dtype=int), labelled_batch=0, seed=0)
    assert len(sampler) == 1
    (batch,) = list(sampler)
    assert sorted(batch) == list(range(6))


@pytest.mark.parametrize("n_labelled, align, shares", [
    (0, False, (16, 0, 0)),  # source only: the whole batch
    (0, True, (8, 0, 8)),  # alignment: half source, half target
    (30, False, (8, 8, 0)),  # self-training's pseudo-labels
    (30, True, (6, 5, 5)),  # few-shot labels and alignment
    (3, True, (6, 3, 5)),  # fewer labelled rows than their share
])
def test_a_step_holds_batch_size_rows_split_between_the_parts(n_labelled, align, shares):
    assert batch_shares(16, 480, n_labelled, align) == shares


def test_a_source_smaller_than_its_share_gives_all_its_rows():
    assert batch_shares(16, 4, 0, True) == (4, 0, 8)


def test_encode_batches_states_by_length_and_returns_them_in_order(tmp_path, monkeypatch):
    """Rows of cached prefix states of texts of very different lengths: encoded in length-sorted
    batches, each row's features and probabilities equal those of the row encoded alone."""
    from headstart.adapt.objective import encode
    from headstart.heads import linear_head
    from headstart.model import TransferModel
    from headstart.recipe import Recipe
    from headstart.training.data import Rows, eval_batches
    from headstart.zoo import load_backbone

    monkeypatch.setenv("HEADSTART_CACHE", str(tmp_path))
    backbone = load_backbone("minilm-l6")
    torch.manual_seed(0)
    model = TransferModel(backbone, linear_head(backbone.feature_dim, 3))
    texts = ["short", "a much longer review that goes on and on about the film " * 4, "medium length text here", "ok", "fine " * 20]
    start = backbone.num_groups - 1
    rows = Rows.of(model, Dataset(texts, None, None, "text"), start, Recipe(), progress=False)
    batches = eval_batches(rows, batch_size=2)
    assert [len(texts[b[0]]) for b in batches] == sorted((len(texts[b[0]]) for b in batches), reverse=True)
    features, probabilities = encode(model, rows, start, batch_size=2)
    for i in range(len(texts)):
        alone_f, alone_p = encode(model, rows.subset([i]), start)
        assert np.allclose(features[i], alone_f[0], atol=1e-5) and np.allclose(probabilities[i], alone_p[0], atol=1e-6)
