"""The reality gap, made explicit: named dynamics parameters of standard environments, the
gymnasium wrappers that apply them, and a ``Dynamics`` configuration (an environment with some
parameters fixed and some drawn afresh at every episode, i.e. domain randomisation).

Physical parameters set the attributes the environment's own step reads:

- ``CartPole-v1``: ``pole_length`` (gymnasium's ``length``, half the pole, default 0.5), ``pole_mass``
  (0.1), ``cart_mass`` (1.0), ``gravity`` (9.8), ``force_gain`` (multiplies the 10 N push, 1.0).
- ``Pendulum-v1``: ``mass`` (1.0), ``length`` (1.0), ``gravity`` (10.0), ``max_torque`` (the motor's
  saturation, 2.0; the action space keeps its bounds, larger commands are clipped).

Both also take ``friction``: viscous friction of rate ``mu`` per second on their velocities (the
cart's and the pole's; the pendulum's), ``v <- v * exp(-mu * dt)`` after every step (0: none, as in
gymnasium). Every environment also takes ``action_noise`` (continuous actions: Gaussian noise of that standard
deviation times the action range's half width; discrete: the probability of a random action),
``obs_noise`` (Gaussian noise of that standard deviation on every observation), ``action_delay``
(the action applied is the one chosen that many steps before) and, for continuous actions,
``actuator_gain`` (the applied action is the chosen one times the gain).

A configuration file (JSON or TOML) holds the same as the command line::

    env = "CartPole-v1"
    [set]
    pole_length = 1.2
    [randomize]
    pole_mass = [0.05, 0.2]
"""

from __future__ import annotations

import json
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from headstart.errors import HeadstartError, did_you_mean

Setter = Callable[[Any, float], None]


def _cartpole_length(env: Any, value: float) -> None:
    env.length = value
    env.polemass_length = env.masspole * value


def _cartpole_pole_mass(env: Any, value: float) -> None:
    env.masspole = value
    env.total_mass = env.masspole + env.masscart
    env.polemass_length = value * env.length


def _cartpole_cart_mass(env: Any, value: float) -> None:
    env.masscart = value
    env.total_mass = env.masspole + env.masscart


def _attribute(name: str, scale: float = 1.0) -> Setter:
    return lambda env, value: setattr(env, name, value * scale)


# env id -> parameter -> (default, setter on the unwrapped environment)
PHYSICS: dict[str, dict[str, tuple[float, Setter]]] = {
    "CartPole-v1": {
        "pole_length": (0.5, _cartpole_length),
        "pole_mass": (0.1, _cartpole_pole_mass),
        "cart_mass": (1.0, _cartpole_cart_mass),
        "gravity": (9.8, _attribute("gravity")),
        "force_gain": (1.0, _attribute("force_mag", 10.0)),
    },
    "Pendulum-v1": {
        "mass": (1.0, _attribute("m")),
        "length": (1.0, _attribute("l")),
        "gravity": (10.0, _attribute("g")),
        "max_torque": (2.0, _attribute("max_torque")),
    },
}
# env id -> (indices of the velocities in the unwrapped state, the attribute holding the time step)
FRICTION: dict[str, tuple[tuple[int, ...], str]] = {"CartPole-v1": ((1, 3), "tau"), "Pendulum-v1": ((1,), "dt")}
SIGNAL = {"action_noise": 0.0, "obs_noise": 0.0, "action_delay": 0.0}  # any environment
CONTINUOUS = {"actuator_gain": 1.0}  # environments with Box actions


Value = float | tuple[float, float]  # fixed, or drawn uniformly in [lo, hi] at every reset


class _Drawn(gym.Wrapper):
    """A wrapper whose parameters are fixed or drawn from a range at every reset (its own generator,
    re-seeded by ``reset(seed=...)``)."""

    def __init__(self, env: gym.Env, values: Mapping[str, Value], seed: int | None = None):
        super().__init__(env)
        self.values = dict(values)
        self.current: dict[str, float] = {}
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.current = {k: float(self._rng.uniform(*v)) if isinstance(v, tuple) else float(v) for k, v in self.values.items()}
        self.apply()
        return self.env.reset(seed=seed, options=options)

    def apply(self) -> None:
        """Make ``self.current`` take effect (called after every draw)."""


class Physics(_Drawn):
    """Sets physical parameters (``PHYSICS[env id]``) on the unwrapped environment."""

    def apply(self) -> None:
        setters = PHYSICS[self.env.spec.id]
        for name, value in self.current.items():
            setters[name][1](self.env.unwrapped, value)


class Friction(_Drawn):
    """``friction``: the velocities of the unwrapped state decay by ``exp(-mu * dt)`` after every step,
    and the observation is read again from the damped state."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        base = self.env.unwrapped
        velocities, step_attribute = FRICTION[self.env.spec.id]
        state = np.array(base.state, dtype=np.float64)
        state[list(velocities)] *= np.exp(-self.current["friction"] * getattr(base, step_attribute))
        base.state = state
        obs = base._get_obs() if hasattr(base, "_get_obs") else state.astype(self.observation_space.dtype)
        return obs, reward, terminated, truncated, info


class ActionNoise(_Drawn):
    """``action_noise``: Gaussian noise on continuous actions, random actions with that probability on discrete ones."""

    def step(self, action):
        level = self.current["action_noise"]
        space = self.action_space
        if isinstance(space, gym.spaces.Box):
            action = np.clip(action + self._rng.normal(0.0, level, np.shape(action)) * (space.high - space.low) / 2,
                             space.low, space.high).astype(space.dtype)
        elif self._rng.random() < level:
            action = self._rng.integers(space.n)
        return self.env.step(action)


class ActuatorGain(_Drawn):
    """``actuator_gain``: the applied continuous action is the chosen one times the gain."""

    def step(self, action):
        return self.env.step((np.asarray(action) * self.current["actuator_gain"]).astype(self.action_space.dtype))


class ObservationNoise(_Drawn):
    """``obs_noise``: Gaussian noise of that standard deviation on every observation."""

    def _noisy(self, obs):
        return (obs + self._rng.normal(0.0, self.current["obs_noise"], np.shape(obs))).astype(self.observation_space.dtype)

    def reset(self, **kwargs):
        obs, info = super().reset(**kwargs)
        return self._noisy(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._noisy(obs), reward, terminated, truncated, info


class ActionDelay(_Drawn):
    """``action_delay``: the action applied is the one chosen ``round(delay)`` steps before (the first
    action of an episode is repeated until the queue fills)."""

    def reset(self, **kwargs):
        result = super().reset(**kwargs)
        self._queue: deque = deque()
        return result

    def step(self, action):
        self._queue.append(action)
        applied = self._queue[0]
        if len(self._queue) > round(self.current["action_delay"]):
            self._queue.popleft()
        return self.env.step(applied)


WRAPPERS: dict[str, type[_Drawn]] = {"action_delay": ActionDelay, "actuator_gain": ActuatorGain,
                                     "action_noise": ActionNoise, "obs_noise": ObservationNoise}


def parameters(env_id: str) -> dict[str, float]:
    """The dynamics parameters ``env_id`` accepts, with their defaults."""
    if env_id not in PHYSICS:
        raise HeadstartError(f"unknown environment {env_id!r}{did_you_mean(env_id, PHYSICS)}; "
                             f"known: {', '.join(PHYSICS)}")
    space = gym.make(env_id).action_space
    extra = {**(CONTINUOUS if isinstance(space, gym.spaces.Box) else {}), **({"friction": 0.0} if env_id in FRICTION else {})}
    return {**{k: d for k, (d, _) in PHYSICS[env_id].items()}, **SIGNAL, **extra}


@dataclass(frozen=True)
class Dynamics:
    """An environment and its changed dynamics: ``fixed`` values and ``randomize`` ranges (drawn per episode)."""

    env: str
    fixed: dict[str, float] = field(default_factory=dict)
    randomize: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = parameters(self.env)
        for name in (*self.fixed, *self.randomize):
            if name not in known:
                raise HeadstartError(f"{self.env} has no parameter {name!r}{did_you_mean(name, known)}; "
                                     f"known: {', '.join(known)}")
        for name, (lo, hi) in self.randomize.items():
            if not lo <= hi:
                raise HeadstartError(f"--randomize {name}={lo}:{hi}: the low end must not exceed the high end")
        both = set(self.fixed) & set(self.randomize)
        if both:
            raise HeadstartError(f"{', '.join(sorted(both))}: both set and randomised; give one")

    @classmethod
    def parse(cls, env: str | None, set_: Iterable[str] = (), randomize: Iterable[str] = (),
              file: str | Path | None = None) -> Dynamics:
        """From ``k=v`` and ``k=lo:hi`` strings, on top of a JSON/TOML ``file``; ``env`` overrides the file's."""
        base = _read_file(file) if file else {}
        env = env or base.get("env")
        if not env:
            raise HeadstartError("no environment: give --env (or env = ... in the dynamics file)")
        fixed = {k: _number(v, k) for k, v in base.get("set", {}).items()}
        ranges = {k: _range(v, k) for k, v in base.get("randomize", {}).items()}
        for pair in set_:
            key, value = _split(pair, "--set", "key=value")
            fixed[key] = _number(value, key)
            ranges.pop(key, None)
        for pair in randomize:
            key, value = _split(pair, "--randomize", "key=lo:hi")
            lo, sep, hi = value.partition(":")
            if not sep:
                raise HeadstartError(f"--randomize expects key=lo:hi, got {pair!r}")
            ranges[key] = (_number(lo, key), _number(hi, key))
            fixed.pop(key, None)
        return cls(env, fixed, ranges)

    def to_json(self) -> dict[str, Any]:
        return {"env": self.env, "set": dict(self.fixed), "randomize": {k: list(v) for k, v in self.randomize.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Dynamics:
        return cls(data["env"], {k: float(v) for k, v in data.get("set", {}).items()},
                   {k: (float(lo), float(hi)) for k, (lo, hi) in data.get("randomize", {}).items()})

    def describe(self) -> str:
        parts = [f"{k}={v:g}" for k, v in self.fixed.items()] + [f"{k}~U({lo:g}, {hi:g})" for k, (lo, hi) in self.randomize.items()]
        return f"{self.env} ({', '.join(parts) or 'default dynamics'})"

    def make(self, seed: int | None = None) -> gym.Env:
        """The environment with this gap applied (the physics first, then the signal wrappers)."""
        env = gym.make(self.env)
        values: dict[str, Value] = {**self.fixed, **self.randomize}
        physics = {k: v for k, v in values.items() if k in PHYSICS[self.env]}
        if physics:
            env = Physics(env, physics, seed)
        if "friction" in values:  # on the true state, inside the signal wrappers
            env = Friction(env, {"friction": values["friction"]}, None if seed is None else seed + len(WRAPPERS) + 1)
        for offset, (name, wrapper) in enumerate(WRAPPERS.items(), start=1):
            if name in values:
                env = wrapper(env, {name: values[name]}, None if seed is None else seed + offset)
        return env


def _read_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except OSError as exc:
        raise HeadstartError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise HeadstartError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'} ({exc})") from None
    unknown = set(data) - {"env", "set", "randomize", "name"}
    if unknown:
        raise HeadstartError(f"{path}: unknown entries {', '.join(sorted(unknown))} (expected env, set, randomize)")
    return data


def _split(pair: str, option: str, form: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep:
        raise HeadstartError(f"{option} expects {form}, got {pair!r}")
    return key.strip().replace("-", "_"), value.strip()


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise HeadstartError(f"{name}: expected a number, got {value!r}") from None


def _range(value: Any, name: str) -> tuple[float, float]:
    if isinstance(value, str) and ":" in value:
        value = value.split(":", 1)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise HeadstartError(f"{name}: a range is [lo, hi] or 'lo:hi', got {value!r}")
    return _number(value[0], name), _number(value[1], name)
