"""Small real datasets shared by the method, engine and artifact tests."""

import pytest

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots


@pytest.fixture(scope="session")
def bbc_train():
    """20 BBC News articles, 4 per topic."""
    return sample_shots(load_dataset("bbc_news", "train"), 4, seed=0)


@pytest.fixture(scope="session")
def bbc_test():
    return sample_shots(load_dataset("bbc_news", "test"), 10, seed=0)


@pytest.fixture(scope="session")
def digits_train():
    return sample_shots(load_dataset("digits", "train"), 5, seed=0)


@pytest.fixture(scope="session")
def digits_test():
    return sample_shots(load_dataset("digits", "test"), 10, seed=0)
