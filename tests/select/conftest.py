"""Small synthetic tasks whose labels are (or are not) a linear function of the features."""

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def linear_task(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """300 anisotropic 10-d features and 3 classes given by the argmax of a linear map of them."""
    features = rng.normal(size=(300, 10)) * np.linspace(3.0, 0.5, 10)
    labels = np.argmax(features @ rng.normal(size=(10, 3)), axis=1)
    return features, labels
