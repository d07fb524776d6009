"""Fixtures of the command-line tests."""

import pytest

from tests.cli.helpers import (
    one_torch_thread as one_torch_thread,  # autouse: the in-process commands use one thread
)
from tests.cli.helpers import write_reviews_csv


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """A small CSV of real Rotten Tomatoes snippets with `text` and `label` columns."""
    return write_reviews_csv(tmp_path_factory.mktemp("data"))
