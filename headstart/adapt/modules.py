"""Pieces shared by the domain-adaptation losses: gradient reversal and its warm-start schedule,
a domain discriminator with the adversarial loss built on it, and a multi-bandwidth Gaussian kernel.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from headstart.errors import HeadstartError


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the backward pass multiplies the incoming gradient by ``-coeff``."""

    @staticmethod
    def forward(ctx, x: Tensor, coeff: float) -> Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        return -ctx.coeff * grad, None


class GradientReversal(nn.Module):
    r"""Gradient reversal layer (Ganin & Lempitsky, 2015): :math:`R(x) = x`, :math:`\partial R/\partial x = -\lambda I`.

    Placed between a feature extractor and a domain discriminator, it lets one backward pass train
    the discriminator to tell the domains apart and the extractor to confuse it.
    """

    def __init__(self, coeff: float = 1.0):
        super().__init__()
        self.coeff = coeff

    def forward(self, x: Tensor) -> Tensor:
        return _ReverseGradient.apply(x, self.coeff)

    def extra_repr(self) -> str:
        return f"coeff={self.coeff:g}"


def warm_start(progress: float, lo: float = 0.0, hi: float = 1.0, alpha: float = 10.0) -> float:
    r"""The reversal weight at training progress :math:`p \in [0, 1]` (Ganin et al., 2016).

    .. math:: \lambda(p) = lo + (hi - lo)\left(\frac{2}{1 + e^{-\alpha p}} - 1\right)

    It rises from ``lo`` at :math:`p = 0` towards ``hi`` (0.9993 of the way at :math:`p = 1` with
    :math:`\alpha = 10`), so the discriminator's early, noisy signal barely moves the features.
    """
    return lo + (hi - lo) * (2.0 / (1.0 + math.exp(-alpha * progress)) - 1.0)


class DomainDiscriminator(nn.Sequential):
    """MLP ``in_features -> hidden -> hidden -> 1`` giving the logit that an example is from the source."""

    def __init__(self, in_features: int, hidden: int = 1024):
        super().__init__(
            nn.Linear(in_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x).squeeze(-1)


class AdversarialAlignment(nn.Module):
    r"""Gradient reversal, a domain discriminator :math:`D` and its weighted binary cross-entropy.

    With source label 1, target label 0 and per-domain example weights summing to 1 (uniform
    unless given),

    .. math:: L = \tfrac12\Big[\sum_{i \in s} w_i\,\ell\big(D(R(h_i)), 1\big)
              + \sum_{j \in t} w_j\,\ell\big(D(R(h_j)), 0\big)\Big]

    so each domain counts equally whatever the batch sizes. Minimising :math:`L` trains :math:`D`;
    through the reversal :math:`R` the same step pushes the features to raise it. ``step(progress)``
    sets the reversal weight by :func:`warm_start`; ``domain_accuracy`` holds the discriminator's
    accuracy on the last batch, for logging (0.5 is chance).
    """

    def __init__(self, in_features: int, hidden: int = 1024, lo: float = 0.0, hi: float = 1.0, alpha: float = 10.0):
        super().__init__()
        self.lo, self.hi, self.alpha = lo, hi, alpha
        self.reversal = GradientReversal(lo)
        self.discriminator = DomainDiscriminator(in_features, hidden)
        self.domain_accuracy = float("nan")

    def step(self, progress: float) -> None:
        """Set the reversal weight for training progress ``progress`` in [0, 1]."""
        self.reversal.coeff = warm_start(progress, self.lo, self.hi, self.alpha)

    def domain_loss(self, h_s: Tensor, h_t: Tensor, w_s: Tensor | None = None, w_t: Tensor | None = None) -> Tensor:
        """Weighted discriminator loss on source inputs ``h_s`` and target inputs ``h_t``."""
        logits = self.discriminator(self.reversal(torch.cat([h_s, h_t])))
        is_source = torch.cat([logits.new_ones(len(h_s)), logits.new_zeros(len(h_t))])
        weights = torch.cat([_per_domain(w_s, h_s), _per_domain(w_t, h_t)]) / 2
        with torch.no_grad():
            self.domain_accuracy = ((logits > 0).float() == is_source).float().mean().item()
        losses = F.binary_cross_entropy_with_logits(logits, is_source, reduction="none")
        return (weights * losses).sum()


def _per_domain(weights: Tensor | None, h: Tensor) -> Tensor:
    """Example weights of one domain rescaled to sum to 1 (uniform when ``None``)."""
    if weights is None:
        return h.new_full((len(h),), 1.0 / len(h))
    return weights / weights.sum()


def pairwise_squared_distances(x: Tensor, y: Tensor) -> Tensor:
    r""":math:`D_{ij} = \|x_i - y_j\|^2 = \|x_i\|^2 + \|y_j\|^2 - 2\,x_i \cdot y_j`, clamped at 0 against rounding."""
    return (x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1) - 2 * x @ y.T).clamp_min(0)


class GaussianKernels(nn.Module):
    r"""The mean of Gaussian kernels whose bandwidths are spread around a reference distance.

    .. math:: k(x, y) = \frac1m \sum_{u=1}^m \exp\!\Big(-\frac{\|x - y\|^2}{2\sigma_u^2}\Big),
              \qquad \sigma_u^2 = s_u\,\rho

    :math:`\rho` is the median (or mean) squared distance between distinct points of the batch,
    detached from the graph (the median heuristic), or 1 with ``reference="none"``, in which case
    the scales :math:`s_u` are the :math:`\sigma_u^2` themselves. The default scales
    :math:`2^{-2}, \dots, 2^{2}` form a geometric family around :math:`\rho`.
    """

    def __init__(
        self,
        scales: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
        reference: Literal["median", "mean", "none"] = "median",
    ):
        super().__init__()
        if not scales or min(scales) <= 0:
            raise HeadstartError(f"kernel scales must be positive numbers, got {list(scales)}")
        if reference not in ("median", "mean", "none"):
            raise HeadstartError(f"kernel reference must be 'median', 'mean' or 'none', got {reference!r}")
        self.scales = tuple(float(s) for s in scales)
        self.reference = reference

    def forward(self, z: Tensor) -> Tensor:
        """Kernel matrix ``(n, n)`` between all rows of ``z``."""
        sq_dists = pairwise_squared_distances(z, z)
        sigma2 = torch.tensor(self.scales, dtype=z.dtype, device=z.device) * self._reference(sq_dists)
        return torch.exp(-sq_dists.unsqueeze(0) / (2 * sigma2.view(-1, 1, 1))).mean(0)

    def _reference(self, sq_dists: Tensor) -> Tensor:
        if self.reference == "none":
            return sq_dists.new_ones(())
        off_diagonal = sq_dists.detach()[~torch.eye(len(sq_dists), dtype=torch.bool, device=sq_dists.device)]
        rho = off_diagonal.median() if self.reference == "median" else off_diagonal.mean()
        return rho.clamp_min(torch.finfo(sq_dists.dtype).tiny)

    def extra_repr(self) -> str:
        return f"scales={self.scales}, reference={self.reference!r}"
