"""Task heads on shared features, and fixed vs uncertainty loss weighting."""

import math

import pytest
import torch

from headstart.multitask.heads import MultiHead, TaskWeighting


def test_fixed_weighting_scales_each_loss():
    weighting = TaskWeighting(["a", "b"], ["classification", "regression"], [1.0, 0.25], learn=False)
    assert float(weighting("b", torch.tensor(2.0))) == pytest.approx(0.5)
    assert weighting.effective_weights() == {"a": 1.0, "b": 0.25}
    assert list(weighting.state_dict()) == []  # nothing to learn or save


def test_uncertainty_weights_settle_where_the_objective_is_minimal():
    """For constant losses L_t, minimising c e^{-s} L + s/2 gives e^{s} = 2 c L (Kendall et al.)."""
    losses = {"clf": torch.tensor(0.2), "reg": torch.tensor(3.0)}
    weighting = TaskWeighting(["clf", "reg"], ["classification", "regression"], [1.0, 1.0], learn=True)
    optimiser = torch.optim.Adam(weighting.parameters(), lr=0.01)
    for _ in range(2000):
        optimiser.zero_grad()
        sum(weighting(name, loss) for name, loss in losses.items()).backward()
        optimiser.step()
    s = weighting.log_variances.detach()
    assert float(s[0]) == pytest.approx(math.log(2 * 1.0 * 0.2), abs=0.02)
    assert float(s[1]) == pytest.approx(math.log(2 * 0.5 * 3.0), abs=0.02)
    weights = weighting.effective_weights()
    assert weights["clf"] == pytest.approx(1 / (2 * 0.2), rel=0.03)  # the easy task is up-weighted
    assert weights["reg"] == pytest.approx(0.5 / 3.0, rel=0.03)


def test_heads_share_the_neck_and_views_share_parameters():
    weighting = TaskWeighting(["a", "b"], ["classification", "classification"], [1, 1], learn=False)
    head = MultiHead(6, {"a": 3, "b": 2}, weighting, hidden=4)
    x = torch.randn(5, 6)
    head.eval()
    every = head(x)
    assert every["a"].shape == (5, 3) and every["b"].shape == (5, 2)
    assert torch.equal(head(x, "b"), every["b"])
    view = head.task_head("b")
    assert torch.equal(view(x), every["b"])
    assert view[0] is head.neck and view[1] is head.heads["b"]
    plain = MultiHead(6, {"a": 3}, weighting)
    assert isinstance(plain.neck, torch.nn.Identity) and plain.heads["a"].in_features == 6
