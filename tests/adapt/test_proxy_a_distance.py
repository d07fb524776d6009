import numpy as np
import pytest

from headstart.adapt import proxy_a_distance
from headstart.errors import DataError


def test_proxy_a_distance_near_zero_for_the_same_distribution():
    rng = np.random.default_rng(0)
    assert abs(proxy_a_distance(rng.normal(size=(300, 5)), rng.normal(size=(300, 5)))) < 0.3


def test_proxy_a_distance_near_two_for_separated_domains():
    rng = np.random.default_rng(1)
    source, target = rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) + [4.0, 0, 0, 0, 0]
    assert proxy_a_distance(source, target) > 1.9


def test_proxy_a_distance_grows_with_the_shift():
    rng = np.random.default_rng(2)
    source, target = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    shifted = [proxy_a_distance(source, target + [shift, 0, 0, 0, 0]) for shift in (0.5, 1.0, 2.0)]
    assert shifted[0] < shifted[1] < shifted[2]


def test_proxy_a_distance_rejects_mismatched_features():
    with pytest.raises(DataError, match="5 columns but target features have 4"):
        proxy_a_distance(np.zeros((10, 5)), np.zeros((10, 4)))
    with pytest.raises(DataError, match="target features"):
        proxy_a_distance(np.zeros((10, 5)), np.zeros((2, 5)))
