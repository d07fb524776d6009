"""Small real data for the training-path tests: short texts through MiniLM-L6."""

from contextlib import contextmanager

import pytest

from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from tests.threads import one_torch_thread as one_torch_thread  # noqa: F401  (autouse)


@pytest.fixture(scope="session")
def reviews():
    """16 Rotten Tomatoes reviews, 8 per class."""
    return sample_shots(load_dataset("rotten_tomatoes", "train"), 8, seed=0)


@pytest.fixture
def interrupted(monkeypatch):
    """``with interrupted():`` every ``Trainer`` stops after epoch 2, whatever its schedule says
    (as if the run were killed after writing its epoch-2 checkpoint)."""
    import lightning

    original = lightning.Trainer.__init__

    def stop_after_two_epochs(self, *args, **kwargs):
        kwargs["max_epochs"] = 2
        original(self, *args, **kwargs)

    @contextmanager
    def interruption():
        monkeypatch.setattr(lightning.Trainer, "__init__", stop_after_two_epochs)
        try:
            yield
        finally:
            monkeypatch.setattr(lightning.Trainer, "__init__", original)

    return interruption
