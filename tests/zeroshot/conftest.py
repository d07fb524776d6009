"""Real data and the real MiniLM-L6 encoder, loaded once per test session."""

import pytest

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.zoo import load_backbone

_BBC_LABELS = {
    "business": "business, economy and finance",
    "entertainment": "entertainment, film, music and celebrities",
    "politics": "politics and government",
    "sports": "sports",
    "tech": "technology, computers and the internet",
}
_REVIEW_LABELS = {"fresh": "a positive, glowing review", "rotten": "a negative, scathing review"}


@pytest.fixture(scope="session")
def bbc_labels():
    """BBC News topics, each with a sensible description."""
    return dict(_BBC_LABELS)


@pytest.fixture(scope="session")
def review_labels():
    return dict(_REVIEW_LABELS)


@pytest.fixture(scope="session")
def minilm():
    return load_backbone("minilm-l6")


@pytest.fixture(scope="session")
def bbc_test():
    """100 BBC News test articles, 20 per topic."""
    return sample_shots(load_dataset("bbc_news", "test"), 20, seed=0)


@pytest.fixture(scope="session")
def reviews_train():
    return load_dataset("rotten_tomatoes", "train")


@pytest.fixture(scope="session")
def reviews_test():
    """300 Rotten Tomatoes test snippets, 150 fresh and 150 rotten."""
    return sample_shots(load_dataset("rotten_tomatoes", "test"), 150, seed=0)
