r"""One head per task on shared features, optionally after a shared hidden layer, and the loss weighting.

Uncertainty weighting (Kendall, Gal & Cipolla, "Multi-task learning using uncertainty to weigh
losses", CVPR 2018) learns a homoscedastic noise :math:`\sigma_t` per task as part of its
likelihood. With :math:`s_t = \log \sigma_t^2` the task's term is

.. math:: w_t \big(c_t\, e^{-s_t} L_t + \tfrac{1}{2} s_t\big),

:math:`c_t = 1/2` for regression (Gaussian likelihood) and :math:`c_t = 1` for (multi-label)
classification (scaled softmax), :math:`w_t` the task's fixed weight. Minimising over
:math:`s_t` gives :math:`e^{s_t} = 2 c_t L_t`: a task with a large loss is down-weighted. The
:math:`s_t` belong to the tasks' likelihoods, so they live in the head, train at the head's
learning rate and are saved with it. They are parametrised as :math:`s_t = 10\,u_t`: Adam's steps
are invariant to gradient scale, so :math:`s_t` moves as if at 10x the head's learning rate, enough
to settle within the few hundred steps of a transfer run. Fixed weighting is :math:`w_t L_t`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

LIKELIHOOD_FACTORS = {"classification": 1.0, "multilabel": 1.0, "regression": 0.5}
LOG_VARIANCE_RATE = 10.0  # s_t = LOG_VARIANCE_RATE * u_t


class TaskWeighting(nn.Module):
    """Combines one task's loss into the training objective (fixed or uncertainty weighting)."""

    def __init__(self, names: Sequence[str], kinds: Sequence[str], weights: Sequence[float], *, learn: bool) -> None:
        super().__init__()
        self.index = {name: i for i, name in enumerate(names)}
        self.register_buffer("weights", torch.tensor(weights, dtype=torch.float32), persistent=False)
        factors = [LIKELIHOOD_FACTORS[kind] for kind in kinds]
        self.register_buffer("factors", torch.tensor(factors, dtype=torch.float32), persistent=False)
        self.log_variance_units = nn.Parameter(torch.zeros(len(names))) if learn else None

    @property
    def log_variances(self) -> Tensor | None:
        """:math:`s_t`, or ``None`` under fixed weighting."""
        units = self.log_variance_units
        return None if units is None else LOG_VARIANCE_RATE * units

    def forward(self, task: str, loss: Tensor) -> Tensor:
        i, log_variances = self.index[task], self.log_variances
        if log_variances is None:
            return self.weights[i] * loss
        s = log_variances[i]
        return self.weights[i] * (self.factors[i] * torch.exp(-s) * loss + 0.5 * s)

    def effective_weights(self) -> dict[str, float]:
        """The factor multiplying each task's loss now: :math:`w_t` or :math:`w_t c_t e^{-s_t}`."""
        weights, log_variances = self.weights.clone(), self.log_variances
        if log_variances is not None:
            weights = weights * self.factors * torch.exp(-log_variances.detach())
        return {name: float(weights[i]) for name, i in self.index.items()}


class MultiHead(nn.Module):
    """``heads[t](neck(features))`` for each task ``t``; ``neck`` is a shared hidden layer or nothing."""

    def __init__(
        self, in_features: int, outputs: dict[str, int], weighting: TaskWeighting, *, hidden: int | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.neck = (
            nn.Sequential(nn.Linear(in_features, hidden), nn.GELU(), nn.Dropout(dropout)) if hidden else nn.Identity()
        )
        self.heads = nn.ModuleDict({name: nn.Linear(hidden or in_features, n) for name, n in outputs.items()})
        self.weighting = weighting

    def forward(self, features: Tensor, task: str | None = None) -> Tensor | dict[str, Tensor]:
        """One task's logits, or (``task=None``) every task's, by name."""
        shared = self.neck(features)
        if task is not None:
            return self.heads[task](shared)
        return {name: head(shared) for name, head in self.heads.items()}

    def task_head(self, task: str) -> nn.Module:
        """The features -> logits module of one task (sharing this head's parameters)."""
        return nn.Sequential(self.neck, self.heads[task])
