r"""Privacy accounting of central DP-FedAvg: the :math:`(\varepsilon, \delta)` that ``T`` rounds of
the Gaussian mechanism give every client.

Each round clips every client's update to L2 norm :math:`C` and adds Gaussian noise of standard
deviation :math:`zC` to their (unweighted) sum, so replacing one client's data moves the sum by at
most :math:`C`: the round is :math:`1/z`-Gaussian differentially private (Dong, Roth and Su,
"Gaussian Differential Privacy", 2019), and ``T`` rounds compose to :math:`\mu = \sqrt{T}/z`. Its
exact :math:`(\varepsilon, \delta)` curve (their Corollary 2.13) is

.. math:: \delta(\varepsilon) = \Phi(-\varepsilon/\mu + \mu/2) - e^{\varepsilon}\,\Phi(-\varepsilon/\mu - \mu/2).

The guarantee is per client (all of one client's examples at once), counts every round as if
every client took part (sampling fewer clients is not credited) and trusts the server, which sees
the clipped updates before the noise.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.stats import norm

DELTA = 1e-5  # the delta epsilon is reported at


def delta_of(epsilon: float, mu: float) -> float:
    """:math:`\\delta(\\varepsilon)` of :math:`\\mu`-GDP (the second term in log space: no overflow)."""
    return float(norm.cdf(-epsilon / mu + mu / 2) - math.exp(epsilon + norm.logcdf(-epsilon / mu - mu / 2)))


def gaussian_epsilon(noise_multiplier: float, rounds: int, delta: float = DELTA) -> float:
    """The smallest :math:`\\varepsilon` with :math:`\\delta(\\varepsilon) \\le` ``delta`` after ``rounds``
    rounds of noise multiplier ``noise_multiplier`` (infinite without noise, 0 without rounds)."""
    if rounds == 0:
        return 0.0
    if noise_multiplier <= 0:
        return math.inf
    mu = math.sqrt(rounds) / noise_multiplier
    if delta_of(0.0, mu) <= delta:
        return 0.0
    high = 1.0
    while delta_of(high, mu) > delta:
        high *= 2
    return float(brentq(lambda e: delta_of(e, mu) - delta, 0.0, high, xtol=1e-6))
