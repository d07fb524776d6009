import numpy as np
import pytest

from headstart.select import leep, nce


def test_example_by_hand():
    # theta rows (0.8, 0.2), (0.6, 0.4) of class 0 and (0.2, 0.8) of class 1.
    # n P(y, z): class 0 -> (1.4, 0.6), class 1 -> (0.2, 0.8); column sums 1.6 and 1.4, so
    # P(0|z) = (7/8, 3/7) and P(1|z) = (1/8, 4/7).
    # expected label probabilities: 0.8*7/8 + 0.2*3/7 = 11/14, 0.6*7/8 + 0.4*3/7 = 39/56,
    # 0.2*1/8 + 0.8*4/7 = 27/56; LEEP = mean of their logs
    probs = np.array([[0.8, 0.2], [0.6, 0.4], [0.2, 0.8]])
    expected = np.mean(np.log([11 / 14, 39 / 56, 27 / 56]))
    assert leep(probs, [0, 0, 1]) == pytest.approx(expected)


def test_at_most_zero(rng):
    probs = rng.dirichlet(np.ones(20), size=300)
    assert leep(probs, rng.integers(0, 5, size=300)) < 0


def test_invariant_to_permuting_class_ids(rng):
    probs = rng.dirichlet(np.full(8, 0.3), size=300)
    target = np.argmax(probs, axis=1) % 3
    renamed_target = np.array(["b", "c", "a"])[target]
    assert leep(probs[:, rng.permutation(8)], renamed_target) == pytest.approx(leep(probs, target), rel=1e-12)


def test_equals_nce_for_one_hot_predictions(rng):
    # with theta = one_hot(z) the sum over z keeps only P(y_i | z_i), and mean log P(y|z) is -H(Y|Z)
    source = rng.integers(0, 5, size=200)
    target = (source + rng.integers(0, 3, size=200)) % 4
    assert leep(np.eye(5)[source], target) == pytest.approx(nce(source, target), rel=1e-12)


def test_source_class_never_predicted_is_ignored(rng):
    probs = rng.dirichlet(np.ones(3), size=100)
    target = rng.integers(0, 2, size=100)
    with_dead_class = np.hstack([probs, np.zeros((100, 1))])
    assert leep(with_dead_class, target) == pytest.approx(leep(probs, target), rel=1e-12)
