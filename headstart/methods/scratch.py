"""The no-transfer control: the same architecture trained from random initialisation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from headstart.methods.base import (
    BatchNormSetting,
    LayerDecaySetting,
    Method,
    register_method,
)
from headstart.methods.regularizers import BSSSettings
from headstart.model import TransferModel


@dataclass
class ScratchSettings(LayerDecaySetting, BatchNormSetting, BSSSettings):
    """What training from scratch reads: layer-wise decay, BatchNorm statistics, batch spectral
    shrinkage (no L2-SP: there are no pre-trained weights to pull towards, no probe to start from)."""


@register_method("scratch", settings=ScratchSettings)
class Scratch(Method):
    """No transfer: the same architecture from random initialisation, every group trained."""

    pretrained = False
    lr_kind = "scratch"
    batchnorm_momentum = 0.1

    def prepare(self, model: TransferModel) -> None:
        """Re-initialise every layer that can be (``reset_parameters``; BatchNorm statistics too).

        BatchNorm's running statistics must follow weights that move fast from random: a
        pre-trained net's momentum (EfficientNet's 0.01, a 100-step average) leaves them far
        behind after a few hundred steps, and evaluation collapses to one class (``bench/fewshot.py``,
        MNIST K = 8: 10.0 % with 0.01, 66.4 % with PyTorch's default 0.1, a 10-step average).
        """
        torch.manual_seed(self.recipe.seed)
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.momentum = self.batchnorm_momentum

    def first_trainable(self, num_groups: int) -> int:
        return 0
