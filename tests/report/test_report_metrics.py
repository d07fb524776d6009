"""Confusion matrix, reliability bins / ECE and confident mistakes on hand-made cases."""

import numpy as np
import pytest

from headstart.report.metrics import (
    confident_mistakes,
    confusion_matrix,
    reliability_bins,
)


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 1])
    matrix = confusion_matrix(labels, predicted, num_classes=4)  # class 3 never occurs
    assert matrix.tolist() == [[1, 2, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]


def test_reliability_bins_and_expected_calibration_error_by_hand():
    # Four predictions; confidences 0.95, 0.95 (bin 9), 0.55 (bin 5), 0.35 (bin 3).
    probabilities = np.array([[0.95, 0.05, 0.0], [0.05, 0.95, 0.0], [0.55, 0.45, 0.0], [0.35, 0.33, 0.32]])
    labels = np.array([0, 0, 0, 2])  # right, wrong, right, wrong
    bins = reliability_bins(probabilities, labels, n_bins=10)
    assert bins.count.tolist() == [0, 0, 0, 1, 0, 1, 0, 0, 0, 2]
    assert bins.confidence[[3, 5, 9]] == pytest.approx([0.35, 0.55, 0.95])
    assert bins.accuracy[[3, 5, 9]] == pytest.approx([0.0, 1.0, 0.5])
    # ECE = 1/4 |0 - .35| + 1/4 |1 - .55| + 2/4 |.5 - .95|
    assert bins.expected_calibration_error == pytest.approx(0.25 * 0.35 + 0.25 * 0.45 + 0.5 * 0.45)
    # mean confidence .7 against accuracy .5: 20 points over-confident
    assert bins.confidence_gap == pytest.approx(0.2) and bins.direction == "over-confident"


def test_the_direction_of_miscalibration():
    probabilities = np.array([[0.6, 0.4], [0.4, 0.6], [0.7, 0.3], [0.2, 0.8]])
    assert reliability_bins(probabilities, np.array([0, 1, 0, 1])).direction == "under-confident"  # 100 % right at .675
    assert reliability_bins(np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([0, 1])).direction == "calibrated on average"


def test_bin_edges_are_closed_on_the_right_and_zero_goes_to_the_first_bin():
    probabilities = np.array([[0.5, 0.5], [1.0, 0.0], [0.2, 0.8]])
    bins = reliability_bins(probabilities, np.array([0, 0, 1]), n_bins=2)
    assert bins.edges.tolist() == [0.0, 0.5, 1.0]
    assert bins.count.tolist() == [1, 2]  # 0.5 closes the first bin; 0.8 and 1.0 fill the second


def test_a_perfectly_calibrated_model_has_zero_ece():
    rng = np.random.default_rng(0)
    confidence = rng.choice([0.6, 0.8, 1.0], size=3000)
    correct = rng.random(3000) < confidence  # right with exactly the stated probability, on average
    probabilities = np.stack([confidence, 1 - confidence], axis=1)
    labels = np.where(correct, 0, 1)
    assert reliability_bins(probabilities, labels).expected_calibration_error < 0.03
    assert reliability_bins(probabilities, np.zeros(3000, int)).expected_calibration_error > 0.15


def test_confident_mistakes_are_the_wrong_predictions_sorted_by_confidence():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.99, 0.01]])
    labels = np.array([0, 0, 1, 1, 1])  # wrong: #1 (0.8), #2 (0.6), #4 (0.99)
    mistakes = confident_mistakes(probabilities, labels, k=2)
    assert [(m.index, m.true, m.predicted) for m in mistakes] == [(4, 1, 0), (1, 0, 1)]
    assert mistakes[0].confidence == pytest.approx(0.99)
    assert confident_mistakes(probabilities[:1], labels[:1]) == []
