"""Deep CORAL: align the second-order statistics of source and target features."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from headstart.errors import HeadstartError


class CoralLoss(nn.Module):
    r"""Correlation alignment loss, on features rescaled to unit mean variance.

    Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV workshops
    2016. With :math:`d`-dimensional features, each domain's unbiased covariance
    :math:`C = \frac{1}{n-1}(X - \bar X)^\top (X - \bar X)` and the features' mean variance
    :math:`v = \operatorname{tr}(C_s + C_t) / 2d` (held constant in the gradient),

    .. math:: L = \frac{1}{4d^2 v^2}\,\|C_s - C_t\|_F^2 + \beta\,\frac{1}{d v}\,\|\mu_s - \mu_t\|^2

    For standardised features (:math:`v = 1`) this is the paper's loss. Dividing by :math:`v` makes
    it the same for features of any scale, so one weight suits every backbone: the paper's loss is
    about 1e-7 on MiniLM's unit-length sentence embeddings (:math:`v \approx 0.002`) and 1e-4 on
    EfficientNet-Lite0's image features. Holding :math:`v` constant keeps the loss from being
    lowered by inflating the features. The mean term (weight :math:`\beta` = ``mean_weight``, 0
    as in the paper) also aligns the means.
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
        c_s, c_t = torch.cov(f_s.T), torch.cov(f_t.T)
        v = ((c_s.diagonal().sum() + c_t.diagonal().sum()) / (2 * d)).detach().clamp_min(1e-12)
        loss = (c_s - c_t).pow(2).sum() / (4 * d * d * v * v)
        if self.mean_weight:
            loss = loss + self.mean_weight * (f_s.mean(0) - f_t.mean(0)).pow(2).mean() / v
        return loss

    def extra_repr(self) -> str:
        return f"mean_weight={self.mean_weight:g}"
