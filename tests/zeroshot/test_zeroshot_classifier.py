"""Zero-shot classification with the real MiniLM-L6 on real BBC News articles."""

import numpy as np
import pytest

import headstart
from headstart.errors import BackboneError, HeadstartError
from headstart.features import extract_features
from headstart.zeroshot import (
    DEFAULT_TEMPERATURE,
    fit_temperature,
    label_embeddings,
    label_prompts,
    zeroshot_classify,
    zeroshot_evaluate,
    zeroshot_model,
)
from headstart.zoo import load_backbone


def test_topics_from_descriptions_beat_chance_clearly(minilm, bbc_test, bbc_labels):
    metrics = zeroshot_evaluate(zeroshot_model(bbc_labels, minilm), bbc_test)
    assert metrics["accuracy"] > 0.8  # chance is 0.2
    assert metrics["macro_f1"] > 0.8


def test_probabilities_are_a_calibrated_softmax_of_cosines(minilm, bbc_test, bbc_labels):
    texts = bbc_test.inputs[:10]
    prediction = zeroshot_classify(texts, bbc_labels, minilm)
    assert np.allclose(prediction.probabilities.sum(1), 1.0, atol=1e-5)
    assert prediction.labels == [list(bbc_labels)[i] for i in prediction.probabilities.argmax(1)]
    features = extract_features(minilm, texts, progress=False)
    cosines = features @ label_embeddings(minilm, label_prompts(bbc_labels)).T
    assert np.abs(np.linalg.norm(features, axis=1) - 1).max() < 1e-5 and np.abs(cosines).max() <= 1 + 1e-5
    expected = np.exp(cosines / DEFAULT_TEMPERATURE)
    assert np.allclose(prediction.probabilities, expected / expected.sum(1, keepdims=True), atol=1e-5)


def test_label_embedding_averages_the_templates(minilm):
    prompts = label_prompts({"sport": ["football", "tennis"], "money": "the stock market"})
    templates = ["{}", "A story about {}."]
    both = label_embeddings(minilm, prompts, templates)
    singles = np.stack([label_embeddings(minilm, prompts, [t]) for t in templates])
    # each single-template embedding is itself a normalised mean over the descriptions
    features = extract_features(
        minilm, [t.replace("{}", d) for d in ("football", "tennis") for t in templates], progress=False)
    mean = features.mean(0) / np.linalg.norm(features.mean(0))
    assert np.allclose(both[0], mean, atol=1e-5)
    assert not np.allclose(both, singles[0], atol=1e-3) and not np.allclose(both, singles[1], atol=1e-3)
    assert np.allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-6)


def test_fitted_temperature_recovers_the_true_one():
    rng = np.random.default_rng(0)
    scores = rng.uniform(-0.2, 0.6, size=(3000, 4))
    probs = np.exp(scores / 0.1)
    probs /= probs.sum(1, keepdims=True)
    labels = np.array([rng.choice(4, p=p) for p in probs])
    assert fit_temperature(scores, labels) == pytest.approx(0.1, rel=0.1)


def test_calibration_data_sets_the_temperature(minilm, bbc_test, bbc_labels):
    model = zeroshot_model(bbc_labels, minilm, calibration=bbc_test)
    fitted = model.info["zeroshot"]["temperature"]
    assert fitted != DEFAULT_TEMPERATURE and 0.005 < fitted < 0.2
    default = zeroshot_model(bbc_labels, minilm)
    codes = bbc_test.labels  # the labels are given in the data's class order

    def nll(m):
        return -np.log(m.outputs(bbc_test)[np.arange(len(codes)), codes]).mean()

    assert nll(model) <= nll(default) + 1e-6


def test_templates_must_hold_one_slot(minilm):
    with pytest.raises(HeadstartError, match="exactly once"):
        zeroshot_model(["a", "b"], minilm, templates=["no slot here"])


def test_an_image_only_backbone_says_zero_shot_needs_an_image_text_one():
    with pytest.raises(BackboneError, match="zero-shot needs a text or image-text backbone; 'efficientnet-lite0' embeds "
                       "images only .*a local CLIP folder via --backbone PATH"):
        zeroshot_model(["cat", "dog"], load_backbone("efficientnet-lite0"))


def test_saved_zero_shot_model_loads_as_a_probe(minilm, bbc_test, bbc_labels, tmp_path):
    model = zeroshot_model(bbc_labels, minilm, templates=["A news story about {}."])
    model.save(tmp_path / "zs")
    loaded = headstart.load(tmp_path / "zs")
    assert loaded.recipe.method == "probe" and loaded.info["zeroshot"]["templates"] == ["A news story about {}."]
    texts = bbc_test.inputs[:5]
    assert np.array_equal(loaded.outputs(texts), model.outputs(texts))
