import math

import numpy as np
import pytest

from headstart.adapt.selection import information_maximisation, selection_score


def test_confident_and_diverse_predictions_score_one():
    assert information_maximisation(np.eye(4)) == pytest.approx(1.0)


def test_uniform_predictions_score_zero():
    assert information_maximisation(np.full((5, 4), 0.25)) == pytest.approx(0.0, abs=1e-9)


def test_collapse_onto_one_class_scores_zero():
    collapsed = np.tile([1.0, 0.0, 0.0], (6, 1))
    assert information_maximisation(collapsed) == pytest.approx(0.0, abs=1e-9)


def test_information_maximisation_by_hand():
    # Two examples, two classes: p = (0.9, 0.1) and (0.1, 0.9); the mean is uniform, H = log 2;
    # each row has entropy h = -(0.9 ln 0.9 + 0.1 ln 0.1); IM = (ln 2 - h) / ln 2.
    p = np.array([[0.9, 0.1], [0.1, 0.9]])
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert information_maximisation(p) == pytest.approx((math.log(2) - h) / math.log(2))


def test_selection_score_adds_source_accuracy_and_target_im():
    source = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    labels = np.array([0, 1, 1, 1])  # 3 of 4 right
    score = selection_score(source, labels, np.eye(2))
    assert score == pytest.approx({"selection_score": 1.75, "source_val_accuracy": 0.75, "target_im": 1.0})
