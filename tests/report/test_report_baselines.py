"""No-transfer baselines on real data: raw pixels on digits, TF-IDF on BBC News."""

import numpy as np
import pytest

from headstart.baselines import PIXEL_SIDE, fit_baseline, pixels
from headstart.data.sources import load_data
from headstart.data.splits import sample_shots, stratified_split
from headstart.errors import HeadstartError


def test_pixel_baseline_reads_digits_well():
    train = sample_shots(load_data("digits:train"), 8, seed=0)
    baseline = fit_baseline(train, seed=0)
    metrics = baseline.evaluate(load_data("digits:test"))
    assert baseline.name == "pixels + logistic regression"
    assert metrics["accuracy"] > 0.75  # 8x8 digits are nearly linearly separable in pixel space
    assert baseline.trainable_params == 10 * PIXEL_SIDE * PIXEL_SIDE * 3 + 10
    assert baseline.estimator.best_params_["logisticregression__C"] in np.logspace(-3, 4, 8)


def test_text_baseline_on_few_news_articles():
    train = sample_shots(load_data("bbc_news:train"), 8, seed=0)
    test = stratified_split(load_data("bbc_news:test"), 100, seed=0)[1]
    baseline = fit_baseline(train, seed=0)
    metrics = baseline.evaluate(test)
    assert baseline.name == "TF-IDF + logistic regression"
    assert 0.6 < metrics["accuracy"] < 1.0 and metrics["n"] == 100
    assert set(metrics["per_class"]) >= {"business", "tech"}


def test_pixels_resizes_any_image_to_one_vector_length():
    rows = pixels([np.zeros((8, 8), np.uint8), np.full((40, 60, 3), 255, np.uint8)])
    assert rows.shape == (2, PIXEL_SIDE * PIXEL_SIDE * 3)
    assert rows[0].max() == 0.0 and rows[1].min() == pytest.approx(1.0)


def test_one_example_per_class_is_too_few_for_cross_validation():
    train = sample_shots(load_data("digits:train"), 1, seed=0)
    with pytest.raises(HeadstartError, match="at least 2 examples per class"):
        fit_baseline(train)
