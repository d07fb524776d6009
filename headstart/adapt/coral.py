"""Deep CORAL: align the second-order statistics of source and target features."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from headstart.errors import HeadstartError


class CoralLoss(nn.Module):
    r"""Correlation alignment loss.

    Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV workshops
    2016. With :math:`d`-dimensional features and each domain's unbiased covariance
    :math:`C = \frac{1}{n-1}(X - \bar X)^\top (X - \bar X)`,

    .. math:: L = \frac{1}{4d^2}\,\|C_s - C_t\|_F^2 + \beta\,\frac1d\,\|\mu_s - \mu_t\|^2

    The mean term (weight :math:`\beta` = ``mean_weight``, 0 as in the paper) also aligns the means.
    """

    def __init__(self, mean_weight: float = 0.0):
        super().__init__()
        self.mean_weight = mean_weight

    def forward(self, f_s: Tensor, f_t: Tensor) -> Tensor:
        if min(len(f_s), len(f_t)) < 2:
            raise HeadstartError(
                f"CORAL needs at least 2 examples per domain, got {len(f_s)} source and {len(f_t)} target"
            )
        d = f_s.shape[1]
        loss = (torch.cov(f_s.T) - torch.cov(f_t.T)).pow(2).sum() / (4 * d * d)
        if self.mean_weight:
            loss = loss + self.mean_weight * (f_s.mean(0) - f_t.mean(0)).pow(2).mean()
        return loss

    def extra_repr(self) -> str:
        return f"mean_weight={self.mean_weight:g}"
