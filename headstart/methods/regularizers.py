"""Regularisers against forgetting and over-fitting, usable with any trainable method."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from headstart.errors import HeadstartError
from headstart.model import TransferModel
from headstart.recipe import MethodSettings, setting


class L2SP:
    r"""L2-SP (Li, Grandvalet & Davoine, "Explicit inductive bias for transfer learning", 2018).

    :math:`\Omega(w) = \frac{\alpha}{2} \lVert w - w^0 \rVert_2^2` over the trained backbone weights,
    pulling them towards the pre-trained starting point :math:`w^0` instead of towards zero.
    """

    def __init__(self, model: TransferModel, strength: float) -> None:
        """Anchor every backbone parameter that is trainable now (call once the final set is chosen)."""
        self.strength = strength
        self.anchor = {n: p.detach().clone() for n, p in model.backbone.named_parameters() if p.requires_grad}

    def __call__(self, model: TransferModel, features: Tensor) -> Tensor:
        params = dict(model.backbone.named_parameters())
        total = sum(((params[n] - w0) ** 2).sum() for n, w0 in self.anchor.items() if params[n].requires_grad)
        return 0.5 * self.strength * torch.as_tensor(total, dtype=torch.float32)


class BatchSpectralShrinkage:
    r"""BSS (Chen et al., "Catastrophic forgetting meets negative transfer", 2019).

    :math:`\eta \sum_{i=1}^{k} \sigma_{-i}^2(F)`: the squares of the k smallest singular values of
    the batch's feature matrix F, whose directions carry the untransferable, noisy components.
    """

    def __init__(self, strength: float, k: int = 1) -> None:
        self.strength, self.k = strength, k

    def __call__(self, model: TransferModel, features: Tensor) -> Tensor:
        singular = torch.linalg.svdvals(features.float())
        return self.strength * (singular[-self.k :] ** 2).sum()


@dataclass
class L2SPSetting(MethodSettings):
    """L2-SP's strength (methods starting from pre-trained weights)."""

    l2sp: float = setting(0.0, "strength of the pull towards the pre-trained weights (L2-SP; 0: off)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.l2sp < 0:
            raise HeadstartError(f"l2sp must be >= 0, not {self.l2sp!r}")


@dataclass
class BSSSettings(MethodSettings):
    """Batch spectral shrinkage's strength and number of singular values."""

    bss: float = setting(0.0, "batch spectral shrinkage strength (0: off)")
    bss_k: int = setting(1, "number of smallest singular values shrunk")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bss < 0 or self.bss_k < 1:
            raise HeadstartError(f"bss must be >= 0 and bss_k >= 1, not {self.bss!r} and {self.bss_k!r}")
