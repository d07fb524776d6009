import math

import pytest
import torch

from headstart.adapt import GaussianKernels, MultipleKernelMMD
from headstart.errors import HeadstartError

E = math.exp


def one_kernel_mmd(estimator: str) -> MultipleKernelMMD:
    """MMD with the single kernel k(x, y) = exp(-(x - y)^2) (sigma^2 = 0.5)."""
    return MultipleKernelMMD(GaussianKernels(scales=[0.5], reference="none"), estimator=estimator)


SOURCE = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
TARGET = torch.tensor([[2.0], [3.0]], dtype=torch.float64)
# Kernel values: within each domain k = e^-1 off the diagonal (and 1 on it);
# across: k(0,2) = e^-4, k(0,3) = e^-9, k(1,2) = e^-1, k(1,3) = e^-4, so mean k_st = (e^-1 + 2e^-4 + e^-9) / 4.
MEAN_CROSS = (E(-1) + 2 * E(-4) + E(-9)) / 4


def test_unbiased_mmd_by_hand():
    # within means over distinct pairs: e^-1 and e^-1 -> 2e^-1 - 2 * mean k_st
    expected = 2 * E(-1) - 2 * MEAN_CROSS
    assert one_kernel_mmd("unbiased")(SOURCE, TARGET).item() == pytest.approx(expected)


def test_biased_mmd_by_hand():
    # within means over all 4 pairs: (2 + 2e^-1) / 4 each -> 1 + e^-1 - 2 * mean k_st
    expected = 1 + E(-1) - 2 * MEAN_CROSS
    assert one_kernel_mmd("biased")(SOURCE, TARGET).item() == pytest.approx(expected)


def test_biased_mmd_is_zero_for_identical_samples():
    x = torch.randn(20, 5, generator=torch.Generator().manual_seed(0))
    assert MultipleKernelMMD(estimator="biased")(x, x.clone()).item() == pytest.approx(0.0, abs=1e-6)


def test_mmd_near_zero_for_same_distribution_and_positive_for_shifted():
    g = torch.Generator().manual_seed(1)
    source, same, shifted = (torch.randn(64, 5, generator=g) for _ in range(3))
    mmd = MultipleKernelMMD()
    assert abs(mmd(source, same).item()) < 0.02
    assert mmd(source, shifted + 1.0).item() > 0.1


def test_mmd_decreases_as_target_moves_towards_source():
    g = torch.Generator().manual_seed(2)
    source, target = torch.randn(64, 4, generator=g), torch.randn(64, 4, generator=g)
    mmd = MultipleKernelMMD()
    values = [mmd(source, target + shift).item() for shift in (3.0, 2.0, 1.0, 0.5, 0.0)]
    assert all(a > b for a, b in zip(values, values[1:])), values


def test_mmd_gradient_pulls_target_towards_source():
    source = torch.randn(32, 2, generator=torch.Generator().manual_seed(3))
    target = (source + torch.tensor([2.0, 0.0])).requires_grad_()
    MultipleKernelMMD()(source, target).backward()
    # descending the gradient moves the target's mean back along -x
    assert target.grad.sum(0)[0] > 0


def test_mmd_needs_two_examples_per_domain():
    with pytest.raises(HeadstartError, match="at least 2"):
        MultipleKernelMMD()(torch.zeros(1, 3), torch.zeros(5, 3))
