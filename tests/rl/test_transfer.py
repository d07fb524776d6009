"""Transfer methods on a real CartPole gap: the source helps on an easy gap, and the guard speaks up when it does not."""

import numpy as np
import pytest

from headstart.errors import HeadstartError
from headstart.rl.dynamics import Dynamics
from headstart.rl.evaluate import negative_transfer, summarize
from headstart.rl.transfer import transfer
from headstart.errors import NegativeTransferWarning

EASY = Dynamics.parse("CartPole-v1", set_=["pole_length=0.6"])


def test_transfer_beats_scratch_on_an_easy_gap(cartpole_source):
    runs = {m: transfer(cartpole_source, EASY, m, steps=1024, seed=0, episodes=5).info["curve"]
            for m in ("zeroshot", "residual", "scratch")}
    assert runs["residual"][0] == runs["zeroshot"][0]  # the residual starts as the source policy
    assert runs["residual"][-1][0] == runs["scratch"][-1][0] == 1024
    assert runs["residual"][-1][1] > runs["scratch"][-1][1] + 50
    summary = summarize(runs["residual"], runs["scratch"])
    assert summary["jump_start"] == runs["residual"][0][1] - runs["scratch"][0][1]
    assert summary["auc"] > summarize(runs["scratch"])["auc"]


def test_finetune_head_keeps_the_actor_body(cartpole_source):
    before = {k: v.clone() for k, v in cartpole_source.state_dict().items()}
    after = transfer(cartpole_source, EASY, "finetune_head", steps=512, episodes=0).state_dict()
    body = [k for k in before if k.startswith("mlp_extractor.policy_net.")]
    assert body and all(np.array_equal(before[k], after[k]) for k in body)
    assert not np.array_equal(before["action_net.weight"], after["action_net.weight"])


def test_the_negative_transfer_guard():
    scratch = [(0, 20.0), (1000, 200.0)]
    with pytest.warns(NegativeTransferWarning, match="negative transfer: scratch reached 200.0"):
        assert negative_transfer({"finetune": [(0, 30.0), (1000, 90.0)]}, scratch)
    assert negative_transfer({"finetune": [(0, 30.0), (1000, 250.0)]}, scratch) is None


def test_unknown_methods_and_other_environments_are_refused(cartpole_source):
    with pytest.raises(HeadstartError, match="unknown method 'finetun' \\(did you mean 'finetune'\\?\\)"):
        transfer(cartpole_source, EASY, "finetun")
    with pytest.raises(HeadstartError, match="trained on CartPole-v1, the target is Pendulum-v1"):
        transfer(cartpole_source, Dynamics.parse("Pendulum-v1"), "finetune")
