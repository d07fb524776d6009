"""The no-transfer control: the same architecture trained from random initialisation."""

from __future__ import annotations

from typing import ClassVar

import torch

from headstart.methods.base import Method, register_method
from headstart.model import TransferModel


@register_method("scratch")
class Scratch(Method):
    """No transfer: the same architecture from random initialisation, every group trained."""

    pretrained = False
    default_lr: ClassVar[dict[str, float]] = {"text": 2e-4, "image": 2e-3}

    def prepare(self, model: TransferModel) -> None:
        """Re-initialise every layer that can be (``reset_parameters``; BatchNorm statistics too)."""
        torch.manual_seed(self.recipe.seed)
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def first_trainable(self, num_groups: int) -> int:
        return 0
