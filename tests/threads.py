"""The one-thread fixture that test folders with small models share (imported by their conftest)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One thread: on two shared cores, two threads oversubscribe and run the small convolutions
    and matrices of these tests several times slower. Module-wide, so that module fixtures (a model
    adapted once for several tests) compute with the same single thread as the tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
