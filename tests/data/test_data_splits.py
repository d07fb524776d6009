"""stratified_split and sample_shots on the real digits data."""

import numpy as np
import pytest

from headstart.data import from_arrays, sample_shots, stratified_split
from headstart.data.splits import bounded_sample, few_shot_split
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


def test_few_shot_split_trains_on_k_and_validates_on_the_rest(digits):
    data = indexed(digits)
    train, val, unused = few_shot_split(data, 5, seed=2)
    assert set(train.class_counts().values()) == {5} and set(val.class_counts().values()) == {5}
    assert positions(train) == positions(sample_shots(data, 5, seed=2))  # the K-shot set itself
    assert sorted(positions(train) + positions(val)) == positions(sample_shots(data, 10, seed=2))
    assert len(unused) == len(data) - 100
    assert set(positions(train)).isdisjoint(positions(val)) and set(positions(train) + positions(val)).isdisjoint(positions(unused))


def test_few_shot_split_leaves_no_validation_when_the_pool_is_exhausted(digits):
    pool = sample_shots(indexed(digits), 4, seed=0)
    train, val, unused = few_shot_split(pool, 4, seed=0)
    assert len(train) == 40 and val is None and unused is None
    train, val, unused = few_shot_split(pool, 3, seed=0)
    assert set(val.class_counts().values()) == {1} and unused is None


def test_bounded_sample_draws_at_most_the_limit(digits):
    data = indexed(digits)
    sample = bounded_sample(data, 500, seed=0)
    assert len(sample) == 500 and positions(sample) == sorted(set(positions(sample)))
    assert positions(bounded_sample(data, 500, seed=0)) == positions(sample)
    assert bounded_sample(data, 5000) is data
