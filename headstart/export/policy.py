"""An RL policy (``headstart.rl.policy_io.Policy``, a stable-baselines3 PPO agent, ``mlp`` or
``residual``) as one ONNX graph of its deterministic actor::

    observations (B, *obs_shape) float32 -> actions: (B,) int64, the most likely action (Discrete),
                                            or (B, *act_shape) float32, the mean (Box)

as ``Policy.predict(obs, deterministic=True)`` computes it: SB3's observation preprocessing, the
actor's features and latent, the action distribution's mode, then SB3's post-processing of Box
actions (clipped to the action space, or unscaled from [-1, 1] for a squashing policy), which SB3's
own export recipe (its guide, "Exporting models") leaves out. The critic is not in the graph.

Parity is checked on observations of rollouts in the policy's own dynamics (``rollout_observations``):
the policy acts, with one step in ``EXPLORE`` a random action so that states off its own path
(where a discrete policy's decision changes) are covered too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from headstart.errors import DataError, HeadstartError
from headstart.export.graph import write_onnx
from headstart.export.record import write_metadata, write_parity
from headstart.export.runner import OnnxPolicy, read_observations
from headstart.rl.policy_io import Policy

INPUT, OUTPUT = "observations", "actions"
ROLLOUT_STEPS = 2000
EXPLORE = 0.2  # the share of rollout steps taking a random action


class ActorGraph(nn.Module):
    """``observations -> actions``: the deterministic actor of an SB3 ``ActorCriticPolicy``."""

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.policy = policy
        space = policy.action_space
        self.box = hasattr(space, "low")
        if self.box:
            self.register_buffer("low", torch.as_tensor(space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(space.high, dtype=torch.float32))

    def forward(self, observations: Tensor) -> Tensor:
        actions = self.policy.get_distribution(observations).get_actions(deterministic=True)
        if not self.box:
            return actions
        if self.policy.squash_output:
            return self.low + 0.5 * (actions + 1.0) * (self.high - self.low)
        return torch.minimum(torch.maximum(actions, self.low), self.high)


def rollout_observations(policy: Policy, steps: int = ROLLOUT_STEPS, seed: int = 0) -> np.ndarray:
    """``steps`` observations of episodes in ``policy``'s dynamics (reset at each episode's end)."""
    env, rng = policy.dynamics.make(seed), np.random.default_rng(seed)
    observation, _ = env.reset(seed=seed)
    seen = []
    for _ in range(steps):
        seen.append(np.asarray(observation, dtype=np.float32))
        action = env.action_space.sample() if rng.random() < EXPLORE else policy.predict(observation)
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            observation, _ = env.reset()
    env.close()
    return np.stack(seen)


def space_of(space: Any) -> dict[str, Any]:
    """A gymnasium ``Discrete`` or ``Box`` space as JSON."""
    if hasattr(space, "n"):
        return {"kind": "discrete", "n": int(space.n)}
    return {"kind": "box", "shape": list(space.shape), "low": space.low.tolist(), "high": space.high.tolist()}


def observations_of(policy: Policy, data: np.ndarray | str | Path | list[Any] | None) -> np.ndarray:
    """Rollout observations (``data`` None), or the observations given (an array, ``.npy`` or ``.csv``)."""
    if data is None:
        return rollout_observations(policy)
    return read_observations(data) if isinstance(data, (str, Path)) else np.asarray(data, dtype=np.float32)


def export_policy(policy: Policy, path: Path, data: np.ndarray | str | Path | list[Any] | None,
                  tolerance: float) -> dict[str, Any]:
    """Write ``policy``'s actor graph, metadata and parity report (actions vs ``Policy.predict``) beside
    ``path``; raise ``HeadstartError`` if an action differs by more than ``tolerance``."""
    sb3 = policy.model.policy
    shape = list(sb3.observation_space.shape)
    if not shape or not hasattr(sb3.observation_space, "low"):
        raise HeadstartError(f"{policy.env}: only Box observations export to ONNX")
    observations = observations_of(policy, data)
    if list(observations.shape[1:]) != shape:
        raise DataError(f"observations of shape {list(observations.shape[1:])}; {policy.env} observes {shape}")
    discrete = not hasattr(sb3.action_space, "low")
    axes = {INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}
    sb3.set_training_mode(False)
    write_onnx(ActorGraph(sb3), [torch.from_numpy(observations[:8])], [INPUT], [OUTPUT], axes, path)
    action_space = space_of(sb3.action_space)
    write_metadata(path, {
        "modality": "observations", "backbone": None, "inputs": [INPUT], "info": policy.info,
        "describe": {"method": policy.info.get("method", "rl"), "algo": "PPO", "kind": policy.kind, "env": policy.env},
        "env": policy.env, "dynamics": policy.dynamics.to_json(),
        "observation_space": space_of(sb3.observation_space), "action_space": action_space,
        "preprocessing": {"kind": "observations", "shape": shape},
        "outputs": [{"name": OUTPUT, "task": "policy", "classes": None, "discrete": discrete}]})
    torch_actions, onnx_actions = policy.predict(observations), OnnxPolicy(path).predict(observations)
    difference = np.abs(torch_actions.astype(np.float64) - onnx_actions.astype(np.float64))
    agree = difference == 0 if discrete else difference <= tolerance
    report = {"model": path.name, "tolerance": tolerance, "examples": len(observations),
              "observations": "rollouts" if data is None else "given", "max_abs_diff": float(difference.max()),
              "action_agreement": float(agree.reshape(len(observations), -1).all(1).mean())}
    return write_parity(path, report, "max_abs_diff", tolerance, "max |Δaction|")
