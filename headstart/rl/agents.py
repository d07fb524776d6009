"""Building stable-baselines3 PPO agents: per-environment hyper-parameters and the residual policy.

PPO serves both discrete (CartPole) and continuous (Pendulum) actions; its settings follow the
RL Baselines3 Zoo's tuned ones, with shorter rollouts so that a small target budget still makes
many updates. The residual policy (Silver et al. 2018, "Residual Policy Learning"; Johannink et
al. 2019) acts with ``source(obs) + residual(obs)`` on the action logits (discrete) or the
Gaussian mean (continuous): the source policy is frozen, the residual's output layer starts at
zero, so the agent starts exactly as the source policy and PPO only learns the correction.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

from headstart.rl.dynamics import Dynamics

N_ENVS = 4
HYPER: dict[str, dict[str, Any]] = {
    "CartPole-v1": dict(n_steps=128, batch_size=128, n_epochs=10, learning_rate=1e-3, gamma=0.98, gae_lambda=0.8),
    "Pendulum-v1": dict(n_steps=256, batch_size=256, n_epochs=10, learning_rate=1e-3, gamma=0.9, gae_lambda=0.95,
                        ent_coef=0.0, use_sde=True, sde_sample_freq=4,
                        policy_kwargs=dict(log_std_init=-2.0, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64, 64], vf=[64, 64]))),
}


def vec_env(dynamics: Dynamics, seed: int, n_envs: int = N_ENVS) -> DummyVecEnv:
    """``n_envs`` copies of the environment with ``dynamics``, each seeded apart."""
    envs = DummyVecEnv([lambda i=i: Monitor(dynamics.make(seed + 1000 * i)) for i in range(n_envs)])
    envs.seed(seed)
    return envs


def action_width(space: gym.Space) -> int:
    """The number of outputs the action head has: logits of a discrete space, means of a box."""
    return int(space.n) if isinstance(space, gym.spaces.Discrete) else int(space.shape[0])


class ResidualExtractor(nn.Module):
    """The actor's latent is ``[residual body(features), frozen source actor(features)]``; the critic is PPO's own."""

    def __init__(self, base: nn.Module, width: int):
        super().__init__()
        self.policy_net, self.value_net = base.policy_net, base.value_net
        self.source = nn.Sequential(copy.deepcopy(base.policy_net), nn.Linear(base.latent_dim_pi, width))
        self.source.requires_grad_(False)
        self.residual_dim = base.latent_dim_pi
        self.latent_dim_pi, self.latent_dim_vf = base.latent_dim_pi + width, base.latent_dim_vf

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.policy_net(features), self.source(features)], dim=-1)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.value_net(features)


class ResidualHead(nn.Module):
    """``residual output layer(latent) + source output``, the output layer starting at zero."""

    def __init__(self, residual_dim: int, width: int):
        super().__init__()
        self.residual_dim = residual_dim
        self.residual = nn.Linear(residual_dim, width)
        nn.init.zeros_(self.residual.weight)
        nn.init.zeros_(self.residual.bias)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.residual(latent[..., : self.residual_dim]) + latent[..., self.residual_dim :]


class ResidualPolicy(ActorCriticPolicy):
    """PPO's actor-critic with a frozen source actor under a zero-initialised residual actor."""

    def _build_mlp_extractor(self) -> None:
        super()._build_mlp_extractor()
        self.mlp_extractor = ResidualExtractor(self.mlp_extractor, action_width(self.action_space))

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = ResidualHead(self.mlp_extractor.residual_dim, action_width(self.action_space))
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def load_source(self, source: dict[str, torch.Tensor]) -> None:
        """Take the source policy's actor (frozen), critic and log-std from its state dict."""
        renamed = {}
        for key, value in source.items():
            if key.startswith("mlp_extractor.policy_net."):
                renamed["mlp_extractor.source.0." + key.removeprefix("mlp_extractor.policy_net.")] = value
            elif key.startswith("action_net."):
                renamed["mlp_extractor.source.1." + key.removeprefix("action_net.")] = value
            elif key != "log_std" or value.shape == self.log_std.shape:  # gSDE's log-std depends on the latent's width
                renamed[key] = value
        missing, unexpected = self.load_state_dict(renamed, strict=False)
        if unexpected:
            raise ValueError(f"source policy has entries the residual policy lacks: {unexpected[:3]}")


POLICIES: dict[str, type[ActorCriticPolicy] | str] = {"mlp": "MlpPolicy", "residual": ResidualPolicy}


def build(env_id: str, envs: DummyVecEnv, seed: int, policy: str = "mlp", learning_rate: float | None = None,
          hyper: dict[str, Any] | None = None) -> PPO:
    """A fresh PPO agent for ``env_id`` on ``envs`` (``hyper`` overrides the defaults)."""
    options = copy.deepcopy(HYPER[env_id]) | (hyper or {})
    if learning_rate is not None:
        options["learning_rate"] = learning_rate
    return PPO(POLICIES[policy], envs, seed=seed, device="cpu", verbose=0, **options)
