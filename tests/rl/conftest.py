"""Fixtures of the RL tests: one small real source policy, trained once."""

import pytest

from headstart.rl.dynamics import Dynamics
from headstart.rl.transfer import pretrain
from tests.threads import one_torch_thread as one_torch_thread  # noqa: F401  (autouse: one torch thread)


@pytest.fixture(scope="session")
def cartpole_source():
    """A PPO CartPole policy after 8,192 steps on the default dynamics (it balances for about 200 steps)."""
    return pretrain(Dynamics.parse("CartPole-v1"), 8192, seed=0)
