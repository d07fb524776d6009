"""Paired bootstrap intervals and collapse detection, on the predictions of real models on digits."""

import numpy as np
import pytest

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.select.baseline_model import fit_baseline_model
from headstart.significance import collapse, paired_difference


@pytest.fixture(scope="module")
def digits_predictions():
    """The pixel baseline trained on 2 and on 10 digits per class, predicting 300 test digits."""
    train, test = load_dataset("digits", "train"), sample_shots(load_dataset("digits", "test"), 30, seed=0)
    weak, strong = (fit_baseline_model(sample_shots(train, k, seed=0)) for k in (2, 10))
    labels = test.labels.astype(int)
    return labels, weak.outputs(test.inputs).argmax(1), strong.outputs(test.inputs).argmax(1)


def test_a_real_gap_on_300_examples_is_significant(digits_predictions):
    labels, weak, strong = digits_predictions
    difference = paired_difference(strong == labels, weak == labels)
    assert difference.value == pytest.approx((strong == labels).mean() - (weak == labels).mean())
    assert difference.low < difference.value < difference.high
    assert difference.significant and difference.low > 0


def test_the_same_gap_on_12_examples_is_not(digits_predictions):
    labels, weak, strong = digits_predictions
    right, wrong = np.flatnonzero((strong == labels) & (weak != labels)), np.flatnonzero(strong == weak)
    few = np.concatenate([right[:2], wrong[:10]])  # strong is right on 2 more of 12 examples
    difference = paired_difference(strong[few] == labels[few], weak[few] == labels[few])
    assert difference.value == pytest.approx(2 / 12)
    assert not difference.significant and difference.low <= 0 < difference.high


def test_a_model_against_itself_differs_by_exactly_zero(digits_predictions):
    labels, _, strong = digits_predictions
    difference = paired_difference(strong == labels, strong == labels)
    assert (difference.value, difference.low, difference.high) == (0, 0, 0) and not difference.significant


def test_collapse_names_one_class_and_the_majority_rate(digits_predictions):
    labels, weak, strong = digits_predictions
    assert collapse(strong, labels) is None and collapse(weak, labels) is None
    assert collapse(np.full_like(labels, 3), labels) == "collapsed: predicts one class"
    guesses = np.where(np.arange(len(labels)) % 10 == 0, labels, (labels + 1) % 10)  # right on 10 %, the majority share
    assert collapse(guesses, labels).startswith("at chance: not above always predicting the majority class (10%)")
