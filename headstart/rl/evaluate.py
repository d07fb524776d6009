"""Episode returns of a policy on a target; the measures of learning curves are ``headstart.rl.curves``'
(re-exported here)."""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy

from headstart.rl.agents import vec_env
from headstart.rl.curves import Curve, area_under_curve, negative_transfer, return_at, summarize
from headstart.rl.dynamics import Dynamics
from headstart.rl.policy_io import Policy

EVAL_SEED = 10_000  # evaluation episodes never share a seed with training ones
__all__ = ["Curve", "area_under_curve", "episode_returns", "negative_transfer", "return_at", "summarize"]


def episode_returns(policy: Policy, dynamics: Dynamics, episodes: int = 20, seed: int = EVAL_SEED) -> np.ndarray:
    """The undiscounted return of each of ``episodes`` episodes of the deterministic policy on ``dynamics``."""
    envs = vec_env(dynamics, seed, n_envs=min(episodes, 8))
    returns, _ = evaluate_policy(policy.model, envs, n_eval_episodes=episodes, deterministic=True,
                                 return_episode_rewards=True)
    return np.asarray(returns, dtype=np.float64)
