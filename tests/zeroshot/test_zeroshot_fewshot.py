"""The few-shot bridge on real Rotten Tomatoes reviews: K = 0 is zero-shot, and K examples help."""

import numpy as np
import pytest
import torch

import headstart
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError
from headstart.features import extract_features
from headstart.methods.probe import fit_linear_head
from headstart.zeroshot import (
    fit_fewshot_from_prior,
    fit_head_towards_prior,
    zeroshot_evaluate,
    zeroshot_model,
)


def accuracy(model, data):
    return zeroshot_evaluate(model, data)["accuracy"]


def test_no_shots_is_exactly_the_zero_shot_model(minilm, reviews_train, reviews_test, review_labels):
    bridge = fit_fewshot_from_prior(reviews_train, review_labels, minilm, shots=0)
    zeroshot = zeroshot_model(review_labels, minilm)
    texts = reviews_test.inputs[:50]
    assert np.array_equal(bridge.outputs(texts), zeroshot.outputs(texts))
    assert bridge.predict(texts).labels == zeroshot.predict(texts).labels


def test_accuracy_climbs_from_zero_shot_with_more_shots(minilm, reviews_train, reviews_test, review_labels):
    zero = accuracy(zeroshot_model(review_labels, minilm), reviews_test)
    curve = {k: np.mean([accuracy(fit_fewshot_from_prior(reviews_train, review_labels, minilm, shots=k, seed=s),
                                  reviews_test) for s in range(3)]) for k in (1, 32)}
    assert abs(curve[1] - zero) < 0.05  # one example per class barely moves the prior ...
    assert curve[32] > zero + 0.03  # ... thirty-two help clearly
    one_shot = sample_shots(reviews_train, 1, seed=0)
    plain = fit_linear_head(extract_features(minilm, one_shot, progress=False), one_shot.labels, "classification", 2)
    with torch.no_grad():
        plain_pred = plain(torch.from_numpy(extract_features(minilm, reviews_test, progress=False))).argmax(1).numpy()
    assert curve[1] > (plain_pred == reviews_test.labels).mean()  # the prior beats a plain 1-shot probe


def test_a_strong_prior_keeps_the_head_and_a_weak_one_fits_the_data():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 8))
    codes = (features[:, 0] > 0).astype(int)
    prior = torch.nn.Linear(8, 2)
    strong = fit_head_towards_prior(features, codes, prior, strength=1e6)
    assert torch.allclose(strong.weight, prior.weight, atol=1e-3)
    weak = fit_head_towards_prior(features, codes, prior, strength=0.1)
    logits = weak(torch.as_tensor(features, dtype=torch.float32))
    assert (logits.argmax(1).numpy() == codes).all()
    with pytest.raises(HeadstartError, match="must be positive"):
        fit_head_towards_prior(features, codes, prior, strength=0)


def test_bridge_saves_and_loads_exactly(minilm, reviews_train, reviews_test, review_labels, tmp_path):
    model = fit_fewshot_from_prior(reviews_train, review_labels, minilm, shots=4, seed=1)
    assert model.info["n_train"] == 8 and model.info["zeroshot"]["shots"] == 4
    loaded = headstart.load(model.save(tmp_path / "bridge"))
    texts = reviews_test.inputs[:20]
    assert np.array_equal(loaded.outputs(texts), model.outputs(texts))
    assert loaded.evaluate(reviews_test)["accuracy"] == pytest.approx(accuracy(model, reviews_test))


def test_labels_default_to_the_data_class_names(minilm, reviews_train):
    model = fit_fewshot_from_prior(reviews_train, None, minilm, shots=2)
    assert model.classes == ["fresh", "rotten"]
    with pytest.raises(HeadstartError, match="needs labels"):
        fit_fewshot_from_prior(None, None, minilm)
