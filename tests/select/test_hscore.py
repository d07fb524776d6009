import numpy as np
import pytest

from headstart.select import hscore


def test_one_dimensional_example_by_hand():
    # f = 0, 2, 4, 6 with mean 3: var f = (9 + 1 + 1 + 9) / 4 = 5
    # class means 1 and 5, so E[f|y] = 1, 1, 5, 5: var E[f|y] = (4 + 4 + 4 + 4) / 4 = 4
    # H = 4 / 5
    assert hscore(np.array([[0.0], [2.0], [4.0], [6.0]]), [0, 0, 1, 1]) == pytest.approx(0.8)


def test_two_dimensional_example_by_hand():
    # columns (0, 2, 4, 6) and (0, 0, 2, 2): cov f = [[5, 2], [2, 1]], det 1, inverse [[1, -2], [-2, 5]]
    # centred class means (-2, -1) and (2, 1), each with weight 1/2: cov E[f|y] = [[4, 2], [2, 1]]
    # tr(inverse @ between) = 1*4 - 2*2 - 2*2 + 5*1 = 1 = C - 1: the second column separates the classes
    features = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 2.0], [6.0, 2.0]])
    assert hscore(features, ["a", "a", "b", "b"]) == pytest.approx(1.0)


@pytest.mark.parametrize("shrinkage", [False, True])
def test_labels_linear_in_features_beat_shuffled(linear_task, rng, shrinkage):
    features, labels = linear_task
    shuffled = rng.permutation(labels)
    assert hscore(features, labels, shrinkage=shrinkage) > hscore(features, shuffled, shrinkage=shrinkage) + 0.5


def test_invariant_to_invertible_linear_map_and_relabelling(linear_task, rng):
    features, labels = linear_task
    mixing = rng.normal(size=(10, 10)) + 3 * np.eye(10)
    relabelled = np.array([2, 0, 1])[labels]
    assert hscore(features @ mixing, relabelled) == pytest.approx(hscore(features, labels), rel=1e-9)


def test_shrinkage_invariant_to_rotation_and_scale(linear_task, rng):
    features, labels = linear_task
    rotation, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    expected = hscore(features, labels, shrinkage=True)
    assert hscore(1e6 * features @ rotation, labels, shrinkage=True) == pytest.approx(expected, rel=1e-9)


def test_shrinkage_approaches_plain_score_with_many_examples(rng):
    features = rng.normal(size=(5000, 3)) * [5.0, 1.0, 0.2]
    labels = (features[:, 1] > 0).astype(int)
    assert hscore(features, labels, shrinkage=True) == pytest.approx(hscore(features, labels), rel=1e-2)


def test_fewer_examples_than_dimensions_saturates_plain_but_not_shrinkage(rng):
    # with n <= d the class means are always exactly separable: plain H = C - 1 for any labels
    features = rng.normal(size=(40, 100)) * np.linspace(4.0, 0.5, 100)
    labels = (features[:, 0] > 0).astype(int)
    shuffled = rng.permutation(labels)
    assert hscore(features, labels) == pytest.approx(1.0)
    assert hscore(features, shuffled) == pytest.approx(1.0)
    assert hscore(features, labels, shrinkage=True) > hscore(features, shuffled, shrinkage=True)


def test_duplicated_and_constant_columns_change_nothing(linear_task):
    features, labels = linear_task
    redundant = np.hstack([features, features[:, :3], np.ones((300, 2))])
    assert hscore(redundant, labels) == pytest.approx(hscore(features, labels), rel=1e-9)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_large_and_small_feature_scales(linear_task, scale):
    features, labels = linear_task
    assert hscore(scale * features, labels) == pytest.approx(hscore(features, labels), rel=1e-9)
