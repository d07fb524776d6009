import pytest
import torch

from headstart.adapt import CoralLoss
from headstart.errors import HeadstartError


def test_coral_by_hand_on_a_tiny_2d_example():
    # source (0,0), (2,0): mean (1,0), deviations (+-1, 0) -> C_s = [[2,0],[0,0]] (divided by n-1 = 1)
    # target (0,0), (0,4): mean (0,2), deviations (0, +-2) -> C_t = [[0,0],[0,8]]
    # ||C_s - C_t||_F^2 = 2^2 + 8^2 = 68; mean variance v = (2 + 8) / (2 d) = 2.5;
    # / (4 d^2 v^2) = 68 / (16 * 6.25) = 0.68
    source = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    target = torch.tensor([[0.0, 0.0], [0.0, 4.0]])
    assert CoralLoss()(source, target).item() == pytest.approx(0.68)


def test_coral_does_not_depend_on_the_features_scale():
    g = torch.Generator().manual_seed(2)
    source, target = torch.randn(30, 5, generator=g), torch.randn(30, 5, generator=g) * 2
    for loss in (CoralLoss(), CoralLoss(mean_weight=1.0)):
        assert loss(1e-3 * source, 1e-3 * target).item() == pytest.approx(loss(source, target).item(), rel=1e-4)


def test_coral_is_zero_when_covariances_match_even_if_means_differ():
    source = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    target = source + torch.tensor([5.0, -3.0, 0.0])
    assert CoralLoss()(source, target).item() == pytest.approx(0.0, abs=1e-9)
    # with the mean term: mean of squared mean differences (25 + 9 + 0) / 3, over the mean variance
    v = torch.cov(source.T).diagonal().mean().item()
    assert CoralLoss(mean_weight=1.0)(source, target).item() == pytest.approx(34 / 3 / v, rel=1e-5)


def test_coral_is_positive_for_different_covariances_and_gradient_reaches_both_inputs():
    g = torch.Generator().manual_seed(1)
    source = torch.randn(40, 4, generator=g).requires_grad_()
    target = (torch.randn(40, 4, generator=g) * torch.tensor([1.0, 3.0, 1.0, 0.5])).requires_grad_()
    loss = CoralLoss()(source, target)
    assert loss.item() > 0.05
    loss.backward()
    assert source.grad.abs().sum() > 0 and target.grad.abs().sum() > 0


def test_coral_needs_two_examples_per_domain():
    with pytest.raises(HeadstartError, match="at least 2"):
        CoralLoss()(torch.zeros(3, 2), torch.zeros(1, 2))
