"""``adapt`` end to end on real data (MNIST -> scikit-learn digits) and EfficientNet-Lite0 weights.

Tiny domains (6 MNIST and 4 digits per class) and one epoch of the top layer group keep each run
to seconds once the frozen-prefix states are cached.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch

import headstart
import headstart.adapt
from headstart.adapt import ALGORITHMS, adapt
from headstart.data.catalogue import load_dataset
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots
from headstart.errors import DataError, HeadstartError

OPTIONS = {"backbone": "efficientnet-lite0", "backbone_options": {"resize": "stretch"}, "unfreeze": 1, "epochs": 1}
SIX = ["dann", "cdan", "mmd", "coral", "self_training", "adabn"]


@pytest.fixture(scope="module")
def source() -> Dataset:
    return sample_shots(load_dataset("mnist5k"), 6, seed=0)


@pytest.fixture(scope="module")
def target() -> Dataset:
    return sample_shots(load_dataset("digits"), 4, seed=0)


def run(source: Dataset, target: Dataset, method: str, **options) -> headstart.Transferred:
    own = {"weights": [1.0]} if ALGORITHMS[method].aligns else {"rounds": 1} if method == "self_training" else {}
    return adapt(source, target, method=method, **{**OPTIONS, **own, **options})


@pytest.mark.parametrize("method", SIX)
def test_every_algorithm_gives_a_loadable_artifact(method, source, target, tmp_path):
    model = run(source, target, method)
    report = model.info["adaptation"]
    assert report["method"] == method
    distance = report["proxy_a_distance"]
    assert distance["before"] > 1.9  # 28x28 MNIST and 8x8 digits are told apart perfectly: measured 2.0
    if method == "adabn":  # per-domain BatchNorm statistics make the domains hard to tell apart
        assert distance["after"] < 0.5  # measured -1.18 (the other five, after one epoch: 1.91 to 2.0)
    assert set(report["selection"]) >= {"selection_score", "source_val_accuracy", "target_im"}
    after = report["feature_map"]["after"]
    assert np.shape(after["target"]) == (len(target), 2) and after["target_labels"] == target.labels.tolist()
    model.save(tmp_path / "run")
    loaded = headstart.load(tmp_path / "run")
    # the saved model is the adapted one: it scores what the report says
    assert loaded.evaluate(target)["accuracy"] == pytest.approx(report["target_accuracy"]["after"])
    images = list(target.inputs[:4])
    assert np.allclose(loaded.outputs(images), model.outputs(images), atol=1e-5)


@pytest.mark.parametrize("method", ["dann", "self_training"])
def test_target_labels_are_reported_but_never_trained_on(method, source, target):
    model = run(source, target, method)
    shuffled = replace(target, labels=np.random.default_rng(0).permutation(target.labels))
    other = run(source, shuffled, method)
    state, other_state = model.model.state_dict(), other.model.state_dict()
    assert all(torch.equal(state[k], other_state[k]) for k in state)
    # the reported accuracy is the adapted model's, scored against the labels it was given
    assert model.info["adaptation"]["target_accuracy"]["after"] == pytest.approx(model.evaluate(target)["accuracy"])
    assert other.info["adaptation"]["target_accuracy"]["after"] == pytest.approx(other.evaluate(shuffled)["accuracy"])
    assert model.info["target_metrics"]["n"] == len(target)


def test_alignment_trains_lora_adapters_of_a_text_encoder(tmp_path):
    """Feature alignment through a text encoder's LoRA adapters (MiniLM, Rotten Tomatoes halves)."""
    reviews = load_dataset("rotten_tomatoes")
    source, target = sample_shots(reviews, 10, seed=0), sample_shots(reviews, 6, seed=1)
    model = adapt(source, target, backbone="minilm-l6", method="mmd", base="lora", weights=[1.0], epochs=1, lora_r=2, batch_size=8)
    adapters = {k: v for k, v in model.model.state_dict().items() if "lora_B" in k}
    assert adapters and any(v.abs().sum() > 0 for v in adapters.values())  # B starts at 0
    model.save(tmp_path)
    loaded = headstart.load(tmp_path)
    assert loaded.recipe.method == "lora"
    assert loaded.evaluate(target)["accuracy"] == pytest.approx(model.info["adaptation"]["target_accuracy"]["after"])


def test_target_labels_can_be_given_apart_from_the_target(source, target):
    names = [target.classes[c] for c in target.labels]
    given = adapt(source, target.without_labels(), method="source_only", base="probe", target_labels=names, **OPTIONS)
    carried = adapt(source, target, method="source_only", base="probe", **OPTIONS)
    assert given.info["adaptation"]["target_accuracy"] == carried.info["adaptation"]["target_accuracy"]
    with pytest.raises(DataError, match="target_labels"):
        adapt(source, target.without_labels(), target_labels=names[:-1], **OPTIONS)
    with pytest.raises(DataError, match="not among the classes"):
        adapt(source, target.without_labels(), target_labels=["ten"] * len(target), **OPTIONS)


def test_target_shots_join_the_supervised_loss(source, target):
    plain = run(source, target, "source_only")
    few_shot = run(source, target, "source_only", target_shots=2)
    assert few_shot.info["adaptation"]["target_shots"] == 20
    assert few_shot.info["target_metrics"]["n"] == len(target) - 20  # scored on the other examples
    assert not torch.equal(plain.model.head.weight, few_shot.model.head.weight)


def test_the_criterion_picks_the_alignment_weight(source, target):
    model = adapt(source, target.without_labels(), method="mmd", weights=[0.1, 10.0], **OPTIONS)
    report = model.info["adaptation"]
    scores = {c["weight"]: c["selection_score"] for c in report["candidates"]}
    assert set(scores) == {0.1, 10.0}
    assert report["chosen"]["weight"] == max(scores, key=scores.get)
    assert report["selection"]["selection_score"] == max(scores.values())


def test_label_sets_must_match(source, target):
    renamed = replace(target, classes=[f"digit {c}" for c in target.classes])
    with pytest.raises(DataError, match="same label set"):
        adapt(source, renamed, **OPTIONS)


def test_modalities_must_match(source):
    texts = Dataset(["one", "two", "three", "four"], None, None, "text", name="texts")
    with pytest.raises(HeadstartError, match="holds text data"):
        adapt(source, texts, **OPTIONS)


def test_empty_or_tiny_targets_are_refused(source, target, tmp_path):
    with pytest.raises(DataError, match="no images"):
        adapt(source, tmp_path, **OPTIONS)
    with pytest.raises(DataError, match="at least 4"):
        adapt(source, target.subset([0, 1, 2]), **OPTIONS)


def test_bad_settings_are_refused(source, target):
    with pytest.raises(DataError, match="needs target labels"):
        adapt(source, target.without_labels(), target_shots=1, **OPTIONS)
    with pytest.raises(HeadstartError, match="adabn works with base method"):
        adapt(source, target, method="adabn", base="lora", **OPTIONS)
    with pytest.raises(HeadstartError, match="without labels"):
        adapt(source, target, method="adabn", target_shots=1, **OPTIONS)
    with pytest.raises(HeadstartError, match="unknown option"):
        adapt(source, target, colour="red", **OPTIONS)
    with pytest.raises(HeadstartError, match="unknown option"):
        headstart.adapt(source, target, colour="red", **OPTIONS)  # the package is callable
    with pytest.raises(HeadstartError, match="unknown adaptation method"):
        adapt(source, target, method="magic", **OPTIONS)
