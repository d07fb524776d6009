"""CDAN(+E): adversarial alignment conditioned on the classifier's predictions."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from headstart.adapt.modules import AdversarialAlignment


class ConditionalDomainAdversarialLoss(AdversarialAlignment):
    r"""Conditional domain-adversarial loss of CDAN, with optional entropy conditioning (CDAN+E).

    Long et al., "Conditional Adversarial Domain Adaptation", NeurIPS 2018. The discriminator sees
    the multilinear map of features :math:`f \in \mathbb R^d` and predictions
    :math:`p = \operatorname{softmax}(g) \in \mathbb R^C` (detached, as in the authors' code):

    .. math:: h = f \otimes p \in \mathbb R^{dC}, \quad\text{or, when } dC > \text{max\_multilinear\_dim},
              \quad h = \frac{1}{\sqrt{r}}\,(R_f^\top f) \odot (R_p^\top p) \in \mathbb R^r

    with fixed Gaussian :math:`R_f \in \mathbb R^{d \times r}`, :math:`R_p \in \mathbb R^{C \times r}`
    (the randomised multilinear map, :math:`r` = ``randomized_dim``). The loss is the
    discriminator's weighted cross-entropy behind gradient reversal (see
    :class:`~headstart.adapt.modules.AdversarialAlignment`); with ``entropy_conditioning`` each
    example weighs :math:`w = 1 + e^{-H(p)}`, normalised to sum to 1 within its domain, so that
    confident predictions count more.
    """

    def __init__(
        self,
        feature_dim: int,
        num_classes: int,
        entropy_conditioning: bool = True,
        randomized_dim: int = 1024,
        max_multilinear_dim: int = 4096,
        hidden: int = 1024,
        lo: float = 0.0,
        hi: float = 1.0,
        alpha: float = 10.0,
        seed: int = 0,
    ):
        randomized = feature_dim * num_classes > max_multilinear_dim
        super().__init__(randomized_dim if randomized else feature_dim * num_classes, hidden, lo, hi, alpha)
        self.randomized = randomized
        self.entropy_conditioning = entropy_conditioning
        if self.randomized:
            generator = torch.Generator().manual_seed(seed)
            self.register_buffer("feature_projection", torch.randn(feature_dim, randomized_dim, generator=generator))
            self.register_buffer("prediction_projection", torch.randn(num_classes, randomized_dim, generator=generator))

    def forward(self, f_s: Tensor, f_t: Tensor, logits_s: Tensor, logits_t: Tensor) -> Tensor:
        h_s, h_t = self.multilinear_map(f_s, logits_s), self.multilinear_map(f_t, logits_t)
        if not self.entropy_conditioning:
            return self.domain_loss(h_s, h_t)
        return self.domain_loss(h_s, h_t, entropy_weights(logits_s), entropy_weights(logits_t))

    def multilinear_map(self, f: Tensor, logits: Tensor) -> Tensor:
        """The discriminator's input: ``f ⊗ softmax(logits)``, randomised when it would be too wide."""
        p = logits.detach().softmax(1)
        if self.randomized:
            r = self.feature_projection.shape[1]
            return (f @ self.feature_projection) * (p @ self.prediction_projection) / math.sqrt(r)
        return torch.einsum("bc,bd->bcd", p, f).flatten(1)


def entropy_weights(logits: Tensor) -> Tensor:
    r""":math:`w = 1 + e^{-H(p)}` for :math:`p = \operatorname{softmax}(g)`; in :math:`[1 + 1/C, 2]`, detached."""
    log_p = logits.detach().log_softmax(1)
    entropy = -(log_p.exp() * log_p).sum(1)
    return 1 + torch.exp(-entropy)
