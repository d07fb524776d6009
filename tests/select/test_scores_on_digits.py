"""On scikit-learn's digits, the true labels must look more transferable than shuffled ones."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from headstart.select import SCORES


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flattened pixels, true labels, and the same labels shuffled."""
    pixels, labels = load_digits(return_X_y=True)
    return pixels, labels, np.random.default_rng(0).permutation(labels)


@pytest.fixture(scope="module")
def parity_source_probs(digits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A source classifier of digit parity fitted on the first half, applied to the second half."""
    pixels, labels, shuffled = digits
    half = len(pixels) // 2
    source = LogisticRegression(max_iter=2000).fit(pixels[:half] / 16, labels[:half] % 2)
    return source.predict_proba(pixels[half:] / 16), labels[half:], shuffled[half:]


@pytest.mark.parametrize("name", list(SCORES))
def test_true_digit_labels_beat_shuffled(name, digits, parity_source_probs):
    function, needs = SCORES[name]
    inputs, labels, shuffled = digits if needs == "features" else parity_source_probs
    assert function(inputs, labels) > function(inputs, shuffled)
