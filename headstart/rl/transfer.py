"""Pre-training a policy in simulation and transferring it to a target with a small step budget.

Methods (``METHODS``), each trained by stable-baselines3's PPO on the target:

- ``zeroshot``: the source policy as it is (no target steps).
- ``finetune``: all layers from the source, at ``FINETUNE_LR_FACTOR`` times the learning rate.
- ``finetune_head``: the actor's hidden layers frozen (the features the source learned); its
  output layer and the critic train at the full learning rate.
- ``residual``: residual policy learning on the frozen source policy (``headstart.rl.agents``).
- ``scratch``: the same architecture from random weights, same budget (the no-transfer baseline).

Every method but ``scratch`` starts from the source's critic. Training stops at ``checkpoints``
(fractions of the budget) to measure the learning curve on the target.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback

from headstart.errors import HeadstartError, did_you_mean
from headstart.rl.agents import HYPER, build, vec_env
from headstart.rl.dynamics import Dynamics
from headstart.rl.evaluate import episode_returns
from headstart.rl.policy_io import Policy, as_policy

METHODS = ("zeroshot", "finetune", "finetune_head", "residual", "scratch")
FINETUNE_LR_FACTOR = 0.3
CHECKPOINTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
Progress = Callable[[int, int], None]  # (steps done, steps in all)


class _Report(BaseCallback):
    def __init__(self, progress: Progress, start: int, total: int):
        super().__init__()
        self.progress, self.start, self.total = progress, start, total

    def _on_step(self) -> bool:
        self.progress(min(self.num_timesteps - self.start, self.total), self.total)
        return True


def _learn(policy: Policy, steps: int, checkpoints: Sequence[float], target: Dynamics, episodes: int, seed: int,
           progress: Progress | None) -> tuple[list[tuple[int, float]], list[float]]:
    """Train ``policy`` for ``steps`` steps, measuring the return on ``target`` at each checkpoint: the
    curve of (steps, mean return) and the returns' standard deviation over the episodes at each point."""
    model, start, curve, spread = policy.model, policy.model.num_timesteps, [], []
    callback = _Report(progress, start, steps) if progress else None
    for fraction in sorted(set(checkpoints) | {1.0}) if steps else (0.0,):
        todo = round(fraction * steps) - (model.num_timesteps - start)
        if todo > 0:
            model.learn(todo, reset_num_timesteps=False, callback=callback)
        done = model.num_timesteps - start
        if episodes and (not curve or curve[-1][0] < done):  # a rollout can overshoot the next checkpoint
            returns = episode_returns(policy, target, episodes, seed)
            curve.append((done, float(returns.mean())))
            spread.append(float(returns.std()))
    return curve, spread


def pretrain(source: Dynamics, steps: int, seed: int = 0, progress: Progress | None = None) -> Policy:
    """A PPO policy trained for ``steps`` steps on ``source`` (its ranges drawn afresh every episode)."""
    _check_env(source)
    began = time.perf_counter()
    policy = Policy(build(source.env, vec_env(source, seed), seed), source)
    _learn(policy, steps, (), source, 0, seed, progress)
    policy.info = {"method": "pretrain", "steps": policy.model.num_timesteps, "seed": seed,
                   "seconds": round(time.perf_counter() - began, 1)}
    return policy


def check_method(method: str) -> None:
    """Refuse, in one line, a method that is not one of ``METHODS``."""
    if method not in METHODS:
        raise HeadstartError(f"unknown method {method!r}{did_you_mean(method, METHODS)}; known: {', '.join(METHODS)}")


def transfer(source: str | Path | Policy, target: Dynamics, method: str = "finetune", steps: int = 20_000,
             seed: int = 0, episodes: int = 10, checkpoints: Sequence[float] = CHECKPOINTS,
             progress: Progress | None = None) -> Policy:
    """The source policy adapted to ``target`` with ``method`` in ``steps`` target steps; its
    ``info["curve"]`` lists (target steps, mean return over ``episodes`` evaluation episodes) and
    ``info["curve_std"]`` the returns' standard deviation at each point."""
    check_method(method)
    src = as_policy(source)
    if method == "residual" and src.kind == "residual":
        raise HeadstartError("the source is already a residual policy; transfer it with finetune or finetune_head")
    if src.env != target.env:
        raise HeadstartError(f"the source policy was trained on {src.env}, the target is {target.env}")
    began = time.perf_counter()
    policy = _start(src, target, method, seed)
    curve, spread = _learn(policy, 0 if method == "zeroshot" else steps, checkpoints, target, episodes, seed, progress)
    policy.info = {"method": method, "steps": curve[-1][0] if curve else 0, "seed": seed, "curve": curve, "curve_std": spread,
                   "source": {"dynamics": src.dynamics.to_json(), **src.info},
                   "seconds": round(time.perf_counter() - began, 1)}
    return policy


def _start(src: Policy, target: Dynamics, method: str, seed: int) -> Policy:
    """The agent a method starts from on the target."""
    envs = vec_env(target, seed)
    if method == "residual":
        model = build(target.env, envs, seed, policy="residual", hyper=src.hyper)
        model.policy.load_source(src.state_dict())
        return Policy(model, target, "residual", src.hyper)
    base_lr = src.hyper.get("learning_rate", HYPER[target.env]["learning_rate"])
    hyper = src.hyper | ({"learning_rate": base_lr * FINETUNE_LR_FACTOR} if method == "finetune" else {})
    model = build(target.env, envs, seed, policy=src.kind, hyper=hyper)
    if method != "scratch":
        model.set_parameters({"policy": src.state_dict()}, exact_match=False)
    if method == "finetune_head":
        model.policy.mlp_extractor.policy_net.requires_grad_(False)
    return Policy(model, target, src.kind, hyper)


def _check_env(dynamics: Dynamics) -> None:
    if dynamics.env not in HYPER:
        raise HeadstartError(f"no PPO settings for {dynamics.env}; known: {', '.join(HYPER)}")
