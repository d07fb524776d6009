"""Fixtures of the command-line tests."""

import pytest

from tests.cli.helpers import write_reviews_csv
from tests.threads import one_torch_thread as one_torch_thread  # noqa: F401  (autouse: in-process commands use one thread)


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """A small CSV of real Rotten Tomatoes snippets with `text` and `label` columns."""
    return write_reviews_csv(tmp_path_factory.mktemp("data"))
