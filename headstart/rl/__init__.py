"""Sim-to-real transfer of reinforcement-learning policies (gymnasium + stable-baselines3, the ``rl`` extra).

>>> from headstart.rl import Dynamics
>>> from headstart.rl.transfer import pretrain, transfer
>>> sim = Dynamics.parse("CartPole-v1", randomize=["pole_length=0.3:0.7"])      # doctest: +SKIP
>>> real = Dynamics.parse("CartPole-v1", set_=["pole_length=1.2"])             # doctest: +SKIP
>>> policy = transfer(pretrain(sim, 30_000), real, "residual", steps=10_000)   # doctest: +SKIP
>>> policy.info["curve"]                                                       # doctest: +SKIP

(``transfer`` is also the module's name, hence the import from it.) Only ``headstart.rl.policy_io`` is imported without the extra (``headstart.load`` knows the format).
"""

from headstart.lazy import lazy_getattr

_EXPORTS = {
    "Dynamics": "headstart.rl.dynamics",
    "Policy": "headstart.rl.policy_io",
    "load_policy": "headstart.rl.policy_io",
    "METHODS": "headstart.rl.transfer",
    "episode_returns": "headstart.rl.evaluate",
    "summarize": "headstart.rl.curves",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
