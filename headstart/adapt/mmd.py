"""DAN: align domains by minimising the multi-kernel maximum mean discrepancy of their features."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from headstart.adapt.modules import GaussianKernels
from headstart.errors import HeadstartError


class MultipleKernelMMD(nn.Module):
    r"""Multi-kernel MMD² between source and target features.

    Long et al., "Learning Transferable Features with Deep Adaptation Networks", ICML 2015. With
    :math:`k` the mean of a family of Gaussian kernels (:class:`GaussianKernels`: equal weights
    :math:`\beta_u = 1/m`, bandwidths around the median distance), :math:`n` source rows
    :math:`x` and :math:`m` target rows :math:`y`:

    - ``"unbiased"`` (default, the U-statistic; can dip below 0 when the domains match):

      .. math:: \frac{\sum_{i \ne i'} k(x_i, x_{i'})}{n(n-1)} + \frac{\sum_{j \ne j'} k(y_j, y_{j'})}{m(m-1)}
                - \frac{2}{nm}\sum_{i,j} k(x_i, y_j)

    - ``"biased"`` (the V-statistic; the same with the diagonal terms kept and :math:`n^2`,
      :math:`m^2` as denominators; always :math:`\ge 0`).

    Both cost :math:`O((n+m)^2 d)`, affordable at mini-batch sizes.
    """

    def __init__(self, kernels: GaussianKernels | None = None, estimator: Literal["unbiased", "biased"] = "unbiased"):
        super().__init__()
        if estimator not in ("unbiased", "biased"):
            raise HeadstartError(f"MMD estimator must be 'unbiased' or 'biased', got {estimator!r}")
        self.kernels = kernels or GaussianKernels()
        self.estimator = estimator

    def forward(self, f_s: Tensor, f_t: Tensor) -> Tensor:
        n, m = len(f_s), len(f_t)
        if min(n, m) < 2:
            raise HeadstartError(f"MMD needs at least 2 examples per domain, got {n} source and {m} target")
        k = self.kernels(torch.cat([f_s, f_t]))
        cross = k[:n, n:].mean()
        return self._within(k[:n, :n]) + self._within(k[n:, n:]) - 2 * cross

    def _within(self, k: Tensor) -> Tensor:
        """Mean kernel value within one domain, over distinct pairs when unbiased."""
        if self.estimator == "biased":
            return k.mean()
        n = len(k)
        return (k.sum() - k.diagonal().sum()) / (n * (n - 1))

    def extra_repr(self) -> str:
        return f"estimator={self.estimator!r}"
