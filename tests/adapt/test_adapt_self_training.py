import numpy as np
import pytest

from headstart.adapt.self_training import round_fractions, select_pseudo_labels
from headstart.errors import HeadstartError


def probabilities(rows: list[tuple[int, float]], classes: int = 3) -> np.ndarray:
    """One row per (predicted class, confidence), the rest of the mass spread evenly."""
    p = np.zeros((len(rows), classes))
    for i, (c, confidence) in enumerate(rows):
        p[i] = (1 - confidence) / (classes - 1)
        p[i, c] = confidence
    return p


def test_pseudo_labels_respect_the_threshold():
    p = probabilities([(0, 0.95), (0, 0.55), (1, 0.9), (2, 0.4), (2, 0.85), (1, 0.6)])
    indices, labels = select_pseudo_labels(p, threshold=0.8, fraction=1.0)
    assert indices.tolist() == [0, 2, 4]
    assert labels.tolist() == [0, 1, 2]
    assert (p[indices].max(1) >= 0.8).all()


def test_no_class_takes_more_than_its_uniform_share():
    # 12 examples: class 0 predicted 9 times with high confidence, classes 1 and 2 once or twice.
    rows = [(0, 0.99 - i / 100) for i in range(9)] + [(1, 0.9), (1, 0.7), (2, 0.95)]
    p = probabilities(rows)
    indices, labels = select_pseudo_labels(p, threshold=0.5, fraction=0.5)
    quota = int(0.5 * 12 / 3)  # 2 per class
    assert np.bincount(labels, minlength=3).tolist() == [quota, 2, 1]
    # class 0 keeps its two most confident examples, 0.99 and 0.98
    assert indices[labels == 0].tolist() == [0, 1]


def test_empty_selection_when_nothing_is_confident():
    indices, labels = select_pseudo_labels(probabilities([(0, 0.4), (1, 0.45)]), threshold=0.9, fraction=1.0)
    assert len(indices) == len(labels) == 0


def test_bad_arguments():
    with pytest.raises(HeadstartError):
        select_pseudo_labels(np.ones(3), 0.5, 0.5)
    with pytest.raises(HeadstartError):
        select_pseudo_labels(np.full((2, 2), 0.5), 1.5, 0.5)


def test_round_fractions_grow_linearly_to_the_maximum():
    assert round_fractions(3, 0.6) == pytest.approx([0.2, 0.4, 0.6])
