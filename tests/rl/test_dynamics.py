"""The reality-gap wrappers change what the environment does, and bad names fail in one line."""

import gymnasium as gym
import numpy as np
import pytest

from headstart.errors import HeadstartError
from headstart.rl.dynamics import Dynamics


def rollout(env: gym.Env, actions, seed: int = 0) -> np.ndarray:
    """The observations after each of ``actions`` from the reset with ``seed``."""
    env.reset(seed=seed)
    return np.array([env.step(a)[0] for a in actions])


def test_default_dynamics_are_gymnasiums_own():
    actions = [1, 0, 1, 1, 0]
    assert np.array_equal(rollout(Dynamics.parse("CartPole-v1").make(0), actions), rollout(gym.make("CartPole-v1"), actions))


def test_a_longer_pole_falls_more_slowly():
    actions = [1] * 6
    short, long = (rollout(Dynamics.parse("CartPole-v1", set_=[f"pole_length={v}"]).make(0), actions) for v in (0.5, 1.5))
    assert np.allclose(short[0, :2], long[0, :2])  # the cart moves the same at first
    assert abs(long[-1, 3]) < 0.6 * abs(short[-1, 3])  # the pole's angular velocity grows less
    env = Dynamics.parse("CartPole-v1", set_=["pole_length=1.5"]).make(0)
    env.reset()  # the values take effect at every reset
    assert env.unwrapped.polemass_length == pytest.approx(0.15)


def test_a_weaker_motor_and_a_heavier_pendulum_move_less():
    weak = rollout(Dynamics.parse("CartPole-v1", set_=["force_gain=0.3"]).make(0), [1] * 5)
    strong = rollout(Dynamics.parse("CartPole-v1").make(0), [1] * 5)
    assert abs(weak[-1, 1] - weak[0, 1]) < 0.4 * abs(strong[-1, 1] - strong[0, 1])
    torque = [np.array([2.0], dtype=np.float32)] * 5
    heavy = rollout(Dynamics.parse("Pendulum-v1", set_=["mass=2"]).make(0), torque)
    light = rollout(Dynamics.parse("Pendulum-v1").make(0), torque)
    assert not np.allclose(heavy, light)


def test_friction_slows_the_cart_and_the_pendulum():
    pushes = [1] * 8
    rough = rollout(Dynamics.parse("CartPole-v1", set_=["friction=5"]).make(0), pushes)
    smooth = rollout(Dynamics.parse("CartPole-v1").make(0), pushes)
    assert np.allclose(rough[0, [0, 2]], smooth[0, [0, 2]]) and abs(rough[-1, 1]) < 0.9 * abs(smooth[-1, 1])  # cart velocity
    still = [np.array([0.0], dtype=np.float32)] * 20
    damped = rollout(Dynamics.parse("Pendulum-v1", set_=["friction=3"]).make(0), still)
    free = rollout(Dynamics.parse("Pendulum-v1").make(0), still)
    assert np.abs(damped[1:, 2]).mean() < 0.8 * np.abs(free[1:, 2]).mean()  # angular velocity
    np.testing.assert_allclose(damped[:, 0] ** 2 + damped[:, 1] ** 2, 1.0, rtol=1e-5)  # still (cos, sin) of an angle


def test_delay_noise_and_randomisation():
    delayed = rollout(Dynamics.parse("CartPole-v1", set_=["action_delay=2"]).make(0), [1, 1, 0, 0, 0])
    plain = rollout(Dynamics.parse("CartPole-v1").make(0), [1, 1, 1, 1, 0])  # the two 0s arrive two steps late
    assert np.allclose(delayed, plain)
    noisy = rollout(Dynamics.parse("CartPole-v1", set_=["obs_noise=0.1"]).make(0), [1] * 3)
    assert not np.allclose(noisy, plain[:3])
    env = Dynamics.parse("CartPole-v1", randomize=["pole_length=0.3:0.7"]).make(0)
    lengths = set()
    for episode in range(5):
        env.reset(seed=episode) if episode == 0 else env.reset()
        lengths.add(env.unwrapped.length)
    assert len(lengths) == 5 and all(0.3 <= v <= 0.7 for v in lengths)


def test_a_toml_file_and_options_on_top(tmp_path):
    path = tmp_path / "real.toml"
    path.write_text('env = "Pendulum-v1"\n[set]\nmass = 1.5\n[randomize]\nlength = [0.9, 1.1]\n')
    dynamics = Dynamics.parse(None, set_=["length=1.2"], file=path)
    assert dynamics == Dynamics("Pendulum-v1", {"mass": 1.5, "length": 1.2}, {})
    assert Dynamics.from_json(dynamics.to_json()) == dynamics


@pytest.mark.parametrize("env, set_, randomize, message", [
    ("CartPol-v1", [], [], "unknown environment 'CartPol-v1' (did you mean 'CartPole-v1'?)"),
    ("CartPole-v1", ["pole_lenght=1"], [], "has no parameter 'pole_lenght' (did you mean 'pole_length'?)"),
    ("CartPole-v1", ["actuator_gain=2"], [], "has no parameter 'actuator_gain'"),  # continuous actions only
    ("CartPole-v1", ["pole_length"], [], "--set expects key=value"),
    ("CartPole-v1", [], ["pole_length=0.7"], "--randomize expects key=lo:hi"),
    ("CartPole-v1", [], ["pole_length=0.7:0.3"], "must not exceed"),
    ("Pendulum-v1", ["mass=heavy"], [], "mass: expected a number"),
])
def test_bad_settings_give_one_line_errors(env, set_, randomize, message):
    with pytest.raises(HeadstartError) as raised:
        Dynamics.parse(env, set_, randomize)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_action_noise_replaces_some_actions_reproducibly():
    def run() -> np.ndarray:
        return rollout(Dynamics.parse("CartPole-v1", set_=["action_noise=0.5"]).make(3), [1] * 8)

    assert np.array_equal(run(), run())
    assert not np.allclose(run(), rollout(Dynamics.parse("CartPole-v1").make(3), [1] * 8))
