"""Policies save as safetensors + config.json and load back acting exactly the same, without pickles."""

import json

import numpy as np
import pytest

import headstart
from headstart.errors import HeadstartError
from headstart.rl.dynamics import Dynamics
from headstart.rl.policy_io import Policy, load_policy
from headstart.rl.transfer import pretrain, transfer


def observations(n: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, width)).astype(np.float32)


def test_a_saved_policy_acts_identically(cartpole_source, tmp_path):
    cartpole_source.save(tmp_path / "sim")
    assert sorted(p.name for p in (tmp_path / "sim").iterdir()) == ["config.json", "model.safetensors"]
    loaded = headstart.load(tmp_path / "sim")
    assert isinstance(loaded, Policy) and loaded.dynamics == cartpole_source.dynamics
    obs = observations(200, 4)
    assert np.array_equal(loaded.predict(obs), cartpole_source.predict(obs))
    assert len(set(cartpole_source.predict(obs).tolist())) == 2  # not a constant policy


def test_a_residual_pendulum_policy_round_trips(tmp_path):
    target = Dynamics.parse("Pendulum-v1", set_=["mass=1.3", "actuator_gain=0.8"])
    source = pretrain(Dynamics.parse("Pendulum-v1"), 1024, seed=0)
    residual = transfer(source, target, "residual", steps=1024, episodes=0)
    residual.save(tmp_path / "real")
    config = json.loads((tmp_path / "real" / "config.json").read_text())
    assert config["format"] == "headstart-rl-policy/1" and config["kind"] == "residual"
    loaded = load_policy(tmp_path / "real")
    obs = observations(50, 3)
    assert np.allclose(loaded.predict(obs), residual.predict(obs), atol=0) and loaded.dynamics == target


def test_a_changed_file_is_refused(cartpole_source, tmp_path):
    cartpole_source.save(tmp_path / "sim")
    config = json.loads((tmp_path / "sim" / "config.json").read_text())
    config["kind"] = "residual"
    (tmp_path / "sim" / "config.json").write_text(json.dumps(config))
    with pytest.raises(HeadstartError, match="does not describe a loadable headstart-rl-policy/1 model"):
        headstart.load(tmp_path / "sim")
