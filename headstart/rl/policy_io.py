"""``Policy``: a trained stable-baselines3 agent with what it was trained on, saved as a headstart
artifact (``config.json`` + ``model.safetensors`` of ``get_parameters()["policy"]``) and read back
through ``set_parameters``; SB3's own ``.zip`` (which holds pickles) is never written or read.

This module imports gymnasium and stable-baselines3 only when a policy is loaded, so that
``headstart.load`` knows the format without the ``rl`` extra installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from headstart.artifacts import Artifact, expect_format, read_artifact, register_format, write_artifact
from headstart.errors import HeadstartError

if TYPE_CHECKING:
    from stable_baselines3 import PPO

    from headstart.rl.dynamics import Dynamics

FORMAT = "headstart-rl-policy/1"


@dataclass
class Policy:
    """A PPO agent (``model``), the ``dynamics`` it was last trained on, its ``kind`` of policy
    network (``mlp`` or ``residual``) and ``info`` (method, steps, seed, learning curve, source)."""

    model: PPO
    dynamics: Dynamics
    kind: str = "mlp"
    hyper: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> str:
        return self.dynamics.env

    def predict(self, observations: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """The actions for a batch of observations (the mean / most likely action when ``deterministic``)."""
        actions, _ = self.model.predict(observations, deterministic=deterministic)
        return actions

    def state_dict(self) -> dict[str, Any]:
        return self.model.get_parameters()["policy"]

    def save(self, path: str | Path) -> Path:
        """Write the artifact folder ``path`` (atomically; an artifact already there is replaced)."""
        config = {"algo": "PPO", "kind": self.kind, "dynamics": self.dynamics.to_json(), "hyper": self.hyper,
                  "info": self.info}
        return write_artifact(path, FORMAT, config, self.state_dict())


def load_policy(source: str | Path | Artifact, seed: int = 0) -> Policy:
    """The policy saved in ``source`` (an artifact folder), on a fresh copy of its training dynamics."""
    artifact = source if isinstance(source, Artifact) else read_artifact(source)
    expect_format(artifact, FORMAT)
    try:
        from headstart.rl.agents import build, vec_env
        from headstart.rl.dynamics import Dynamics
    except ImportError as exc:
        raise HeadstartError(f"{artifact.folder}: an RL policy needs the rl extra ({exc.name} is missing); "
                             "pip install 'headstart[rl]'") from None
    config = artifact.config
    dynamics = Dynamics.from_json(config["dynamics"])
    model = build(dynamics.env, vec_env(dynamics, seed), seed, policy=config["kind"], hyper=config["hyper"])
    expected = set(model.policy.state_dict())
    if set(artifact.tensors) != expected:
        raise ValueError(f"tensors {sorted(set(artifact.tensors) ^ expected)[:3]} differ from a {config['kind']} policy's")
    model.set_parameters({"policy": artifact.tensors}, exact_match=False)  # the optimiser's state is not saved
    return Policy(model, dynamics, config["kind"], config["hyper"], config["info"])


def as_policy(source: str | Path | Policy) -> Policy:
    """``source`` itself, or the policy saved in that folder (refusing other artifact kinds)."""
    if isinstance(source, Policy):
        return source
    artifact = read_artifact(source)
    if artifact.config.get("format") != FORMAT:
        raise HeadstartError(f"{artifact.folder}: not an RL policy (format {artifact.config.get('format')!r}); "
                             "give the folder of headstart rl pretrain or transfer")
    return load_policy(artifact)


register_format(FORMAT, load_policy)
