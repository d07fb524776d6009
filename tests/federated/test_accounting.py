"""The epsilon of DP-FedAvg's Gaussian rounds against a direct integration of the privacy loss."""

import math

import numpy as np
import pytest

from headstart.federated.accounting import gaussian_epsilon


def integrated_delta(epsilon: float, mu: float) -> float:
    """delta(epsilon) of N(mu, 1) against N(0, 1): E_{x ~ N(mu, 1)} max(0, 1 - exp(epsilon - L(x))),
    L(x) = mu x - mu^2 / 2 the privacy loss, by the trapezoid rule."""
    x = np.linspace(mu - 12, mu + 12, 400_001)
    density = np.exp(-((x - mu) ** 2) / 2) / math.sqrt(2 * math.pi)
    loss = mu * x - mu**2 / 2
    return float(np.trapezoid(density * np.clip(1 - np.exp(epsilon - loss), 0, None), x))


@pytest.mark.parametrize("noise, rounds", [(1.0, 1), (1.0, 10), (3.0, 10), (0.5, 4)])
def test_epsilon_meets_its_delta_exactly(noise, rounds):
    epsilon = gaussian_epsilon(noise, rounds, delta=1e-5)
    mu = math.sqrt(rounds) / noise  # T Gaussian rounds of multiplier z are one of multiplier z / sqrt(T)
    assert integrated_delta(epsilon, mu) == pytest.approx(1e-5, rel=1e-3)
    assert integrated_delta(0.9 * epsilon, mu) > 1e-5  # and it is the smallest such epsilon


def test_epsilon_grows_with_rounds_and_shrinks_with_noise():
    assert gaussian_epsilon(1.0, 10) > gaussian_epsilon(1.0, 5) > gaussian_epsilon(2.0, 5)
    assert gaussian_epsilon(1.0, 0) == 0.0 and gaussian_epsilon(0.0, 3) == math.inf
    assert gaussian_epsilon(10.0, 1) < math.sqrt(2 * math.log(1.25 / 1e-5)) / 10  # tighter than the classical bound
