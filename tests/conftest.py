"""Small real datasets shared across the tests, and one small real model of every fitted kind (built on
first use) for tests/test_fitted.py and tests/test_artifacts.py."""

from __future__ import annotations

import os

import pytest
import torch

import headstart
from headstart.data.catalogue import load_dataset
from headstart.data.splits import sample_shots
from headstart.multitask import TaskSpec, fit_multitask
from headstart.select.baseline_model import fit_baseline_model
from tests.fitted_kinds import SHORT


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two workers on two cores) every worker and the
    commands its tests start compute on one thread: two threads each would oversubscribe the cores."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"
        torch.set_num_threads(1)


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


@pytest.fixture(scope="session")
def digits():
    return sample_shots(load_dataset("digits", "train"), 5, seed=0), sample_shots(load_dataset("digits", "test"), 3, seed=0)


@pytest.fixture(scope="session")
def reviews():
    return sample_shots(load_dataset("rotten_tomatoes", "train"), 8, seed=0), sample_shots(load_dataset("rotten_tomatoes", "test"), 5, seed=0)


@pytest.fixture(scope="session")
def fitted_kinds(digits, reviews):
    """kind -> (model, its held-out data)."""
    (digits_train, digits_test), (reviews_train, reviews_test) = digits, reviews
    return {
        "image_probe": (headstart.fit(digits_train, backbone="efficientnet-lite0", method="probe"), digits_test),
        "text_probe": (headstart.fit(reviews_train, backbone="minilm-l6", method="probe", **SHORT), reviews_test),
        "multitask": (fit_multitask([TaskSpec("sentiment", reviews_train)], method="probe", **SHORT), reviews_test),
        "image_baseline": (fit_baseline_model(digits_train), digits_test),
        "text_baseline": (fit_baseline_model(reviews_train), reviews_test),
    }
