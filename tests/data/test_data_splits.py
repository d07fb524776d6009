"""stratified_split and sample_shots on the real digits data."""

import numpy as np
import pytest

from headstart.data import from_arrays, sample_shots, stratified_split
from headstart.data.catalogue import load_dataset
from headstart.errors import DataError


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def positions(dataset):
    """Row numbers of the examples of ``indexed(...)`` that ``dataset`` holds."""
    return dataset.inputs[:, 0].astype(int).tolist()


def indexed(dataset):
    """The same labels, with each example's input replaced by its row number."""
    return from_arrays(np.arange(len(dataset), dtype=float)[:, None], dataset.labels, dataset.classes)


def test_stratified_split_keeps_class_proportions(digits):
    train, test = stratified_split(digits, test_size=0.25, seed=3)
    assert len(test) == 450 and len(train) == 1347
    for name, count in digits.class_counts().items():
        assert abs(test.class_counts()[name] - 0.25 * count) <= 1
    assert (train.name, test.name) == ("digits:train", "digits:test")
    train_rows, test_rows = map(positions, stratified_split(indexed(digits), test_size=0.25, seed=3))
    assert train_rows == sorted(train_rows) and test_rows == sorted(test_rows)
    assert sorted(train_rows + test_rows) == list(range(len(digits)))


def test_stratified_split_is_reproducible_and_seeded(digits):
    first, second, other = (stratified_split(digits, seed=s)[1] for s in (0, 0, 1))
    assert np.array_equal(first.inputs, second.inputs)
    assert not np.array_equal(first.inputs, other.inputs)


def test_split_of_regression_data_and_singleton_classes():
    X = np.arange(20.0).reshape(10, 2)
    train, test = stratified_split(from_arrays(X, np.arange(10.0) / 3, task="regression"), test_size=3)
    assert (len(train), len(test)) == (7, 3)
    with pytest.raises(DataError, match="class 'rare' has 1 example; a stratified split needs 2"):
        stratified_split(from_arrays(X, ["common"] * 9 + ["rare"]))
    with pytest.raises(DataError, match="cannot split with test_size=1"):
        stratified_split(from_arrays(X, ["a", "b"] * 5), test_size=1)


def test_k_shots_are_exact_reproducible_ordered_and_nested(digits):
    five = sample_shots(digits, 5, seed=7)
    assert five.class_counts() == {str(d): 5 for d in range(10)}
    assert np.array_equal(five.inputs, sample_shots(digits, 5, seed=7).inputs)
    assert not np.array_equal(five.inputs, sample_shots(digits, 5, seed=8).inputs)
    rows = indexed(digits)
    five_rows, ten_rows = positions(sample_shots(rows, 5, seed=7)), positions(sample_shots(rows, 10, seed=7))
    assert five_rows == sorted(five_rows) and set(five_rows) <= set(ten_rows)
    assert np.array_equal(digits.inputs[five_rows], five.inputs)


def test_k_shot_refuses_small_classes_and_unlabelled_data(digits):
    with pytest.raises(DataError, match=r"class '8' has only 174 examples, fewer than k=175"):
        sample_shots(digits, 175)
    with pytest.raises(DataError, match="needs class labels"):
        sample_shots(digits.without_labels(), 1)
    with pytest.raises(DataError, match="k >= 1"):
        sample_shots(digits, 0)
