"""method="auto" on real data: the baseline on 8x8 digits, transfer on BBC News, and saying why."""

import json
import warnings

import numpy as np
import pytest

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError, NegativeTransferWarning
from headstart.select.auto import (
    plan_transfer,
    validation_splits,
)
from headstart.select.baseline_model import BaselineModel
from headstart.select.rank import rank_backbones


@pytest.fixture(scope="module")
def digits_run():
    """auto on 5 digits per class with one named ImageNet backbone, and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = headstart.fit("digits:train", method="auto", backbone="efficientnet-lite0", shots=5)
    return model, [w.category for w in caught]


@pytest.fixture(scope="module")
def bbc_run():
    """auto through the public API on 8 BBC News articles per topic."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = headstart.fit("bbc_news:train", method="auto", shots=8)
    return model, [w.category for w in caught]


@pytest.mark.slow
def test_auto_keeps_the_pixel_baseline_on_digits_and_says_why(digits_run):
    model, categories = digits_run
    assert isinstance(model, BaselineModel) and model.modality == "image"
    assert [row["backbone"] for row in model.info["auto"]["ranking"]] == ["efficientnet-lite0"]  # the named one only
    assert NegativeTransferWarning in categories
    validation = model.info["auto"]["validation"]
    assert validation["winner"] == "baseline" and validation["baseline"] > validation["transfer"]
    assert validation["n_validated"] == 50  # cross-validation scores every example once
    decision = model.info["decision"]
    assert decision.startswith("Negative transfer") and "efficientnet-lite0" in decision
    assert "pixels + logistic regression" in decision and "logme" in decision


@pytest.mark.slow
def test_the_kept_baseline_beats_the_probe_on_the_test_split(digits_run):
    model, _ = digits_run
    test = sample_shots(load_dataset("digits", "test"), 10, seed=0)
    probe = headstart.fit("digits:train", backbone="efficientnet-lite0", method="probe", shots=5)
    assert model.evaluate(test)["accuracy"] > probe.evaluate(test)["accuracy"]


@pytest.mark.slow
def test_auto_transfers_on_bbc_news_and_says_why(bbc_run):
    model, categories = bbc_run
    assert isinstance(model, headstart.Transferred) and NegativeTransferWarning not in categories
    assert model.recipe.method == "probe" and model.recipe.backbone == "minilm-l6"
    assert model.info["n_train"] == 40  # refit on every training example after cross-validation
    validation = model.info["auto"]["validation"]
    assert validation["winner"] == "transfer" and validation["transfer"] > validation["baseline"]
    assert model.info["decision"].startswith("Transfer helps") and "TF-IDF" in model.info["decision"]
    assert "fewer than the 256" in model.info["auto"]["plan"]["reason"]


@pytest.mark.slow
def test_saved_baseline_reloads_and_predicts_identically(digits_run, tmp_path):
    model, _ = digits_run
    model.save(tmp_path / "run")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["format"] == "headstart-baseline/1" and config["info"]["decision"] == model.info["decision"]
    loaded = headstart.load(tmp_path / "run")
    images = load_dataset("digits", "test").inputs[:50]
    assert isinstance(loaded, BaselineModel)
    np.testing.assert_array_equal(loaded.outputs(images), model.outputs(images))
    assert loaded.predict(images).labels == model.predict(images).labels


def test_saved_text_baseline_matches_the_scikit_learn_pipeline(tmp_path):
    from threadpoolctl import threadpool_limits

    from headstart.baselines import fit_baseline

    train = sample_shots(load_dataset("bbc_news", "train"), 4, seed=0)
    texts = list(load_dataset("bbc_news", "test").inputs[:30])
    with threadpool_limits(1):
        fitted = fit_baseline(train)
    model = BaselineModel.from_fitted(fitted, "text")
    np.testing.assert_allclose(model.outputs(texts), fitted.estimator.predict_proba(texts), atol=1e-12)
    loaded = headstart.load(model.save(tmp_path / "tfidf"))
    np.testing.assert_array_equal(loaded.outputs(texts), model.outputs(texts))


def test_enough_examples_per_class_lead_to_fine_tuning():
    reviews = sample_shots(load_dataset("rotten_tomatoes", "train"), 50, seed=0)
    plan = plan_transfer(reviews, rank_backbones(reviews, ["minilm-l6"]), finetune_from=50)  # a small depth ranking
    assert plan.method == "finetune" and plan.unfreeze >= 1
    assert plan.recipe_options() == {"backbone": "minilm-l6", "method": "finetune", "unfreeze": plan.unfreeze}
    assert "enough to fine-tune" in plan.reason


def test_validation_data_replaces_cross_validation():
    train = sample_shots(load_dataset("digits", "train"), 3, seed=0)
    val = sample_shots(load_dataset("digits", "test"), 2, seed=0)
    ((fit_part, held_out),) = validation_splits(train, val, seed=0)
    assert fit_part is train and held_out is val
    folds = validation_splits(train, None, seed=0)
    assert len(folds) == 3 and all(sorted(v.labels) == list(range(10)) for _, v in folds)  # stratified
    assert all(len(f) == 20 for f, _ in folds)
    with pytest.raises(HeadstartError, match="needs 3 examples per class"):
        validation_splits(sample_shots(train, 2, seed=0), None, seed=0)


def test_auto_refuses_the_choices_it_makes_itself():
    with pytest.raises(HeadstartError, match="chooses unfreeze itself"):
        headstart.fit("bbc_news:train", method="auto", shots=4, unfreeze=2)
