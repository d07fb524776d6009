import math

import pytest
import torch

from headstart.adapt import GaussianKernels, GradientReversal, warm_start
from headstart.errors import HeadstartError


@pytest.mark.parametrize("coeff", [1.0, 0.3, 0.0])
def test_gradient_reversal_is_identity_forward_and_scales_gradient_by_minus_coeff(coeff):
    x = torch.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    upstream = torch.tensor([[0.5, 1.0], [-2.0, 4.0]])
    y = GradientReversal(coeff)(x)
    assert torch.equal(y, x)
    (y * upstream).sum().backward()
    assert torch.allclose(x.grad, -coeff * upstream)


def test_warm_start_endpoints_and_monotonic_rise():
    assert warm_start(0.0, lo=0.2, hi=0.8) == pytest.approx(0.2)
    # 2 / (1 + e^-10) - 1 = 0.99991: the schedule ends within 1e-4 of hi
    assert warm_start(1.0, lo=0.2, hi=0.8) == pytest.approx(0.2 + 0.6 * (2 / (1 + math.exp(-10)) - 1))
    assert warm_start(1.0) == pytest.approx(1.0, abs=1e-4)
    values = [warm_start(p / 20) for p in range(21)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert warm_start(0.1) > 0.4  # fast start: 2 / (1 + e^-1) - 1 = 0.462


def test_gaussian_kernel_with_fixed_bandwidth():
    z = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    k = GaussianKernels(scales=[0.5], reference="none")(z)  # sigma^2 = 0.5: k = exp(-(x - y)^2)
    e = math.exp
    expected = torch.tensor([[1, e(-1), e(-9)], [e(-1), 1, e(-4)], [e(-9), e(-4), 1]], dtype=torch.float64)
    assert torch.allclose(k, expected)


def test_gaussian_kernel_family_around_mean_distance():
    z = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=torch.float64)
    k = GaussianKernels(scales=[1.0, 2.0], reference="mean")(z)
    # off-diagonal squared distances: six 1s, four 4s, two 9s -> mean rho = 40 / 12 = 10/3
    # k(0, 1) = (exp(-1 / (2 * 10/3)) + exp(-1 / (2 * 20/3))) / 2 = (exp(-0.15) + exp(-0.075)) / 2
    assert k[0, 1].item() == pytest.approx((math.exp(-0.15) + math.exp(-0.075)) / 2)
    # k(0, 3) = (exp(-9 * 0.15) + exp(-9 * 0.075)) / 2
    assert k[0, 3].item() == pytest.approx((math.exp(-1.35) + math.exp(-0.675)) / 2)


def test_median_reference_makes_the_kernel_scale_invariant():
    z = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    kernels = GaussianKernels()
    assert torch.allclose(kernels(z), kernels(7.5 * z), atol=1e-5)


def test_gaussian_kernels_reject_bad_settings():
    with pytest.raises(HeadstartError, match="positive"):
        GaussianKernels(scales=[1.0, -2.0])
    with pytest.raises(HeadstartError, match="reference"):
        GaussianKernels(reference="max")
