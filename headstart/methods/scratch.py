"""The no-transfer control: a network trained from random initialisation.

By default the backbone family's small architecture (``Backbone.scratch_backbone``: e.g. a
bag of learnt token embeddings for text, a three-block CNN for images) with its own learning rate,
sized to learn from a few examples per class; ``architecture="same"`` trains the pre-trained
backbone's own architecture from random weights instead (at K-shot sizes it collapses to one class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from headstart.errors import HeadstartError
from headstart.methods.base import (
    BatchNormSetting,
    LayerDecaySetting,
    Method,
    register_method,
)
from headstart.methods.regularizers import BSSSettings
from headstart.model import TransferModel
from headstart.recipe import setting
from headstart.zoo.base import Backbone


@dataclass
class ScratchSettings(LayerDecaySetting, BatchNormSetting, BSSSettings):
    """What training from scratch reads: layer-wise decay, BatchNorm statistics, batch spectral
    shrinkage (no L2-SP: there are no pre-trained weights to pull towards, no probe to start from),
    and which architecture trains."""

    architecture: str = setting("small", "small: the family's architecture sized for few examples | same: the backbone's own")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.architecture not in ("small", "same"):
            raise HeadstartError(f"architecture must be small or same, not {self.architecture!r}")


@register_method("scratch", settings=ScratchSettings)
class Scratch(Method):
    """No transfer: a network from random initialisation (by default a small one), every group trained."""

    pretrained = False
    lr_kind = "scratch"
    batchnorm_momentum = 0.1

    def backbone_for(self, net: Backbone) -> Backbone:
        return net.scratch_backbone() if self.recipe.architecture == "small" else net

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

    def parameter_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        """As every method's, but the head learns at the backbone's rate unless ``head_lr`` is set:
        from random weights, the head is no further from its solution than the layers below it."""
        groups = super().parameter_groups(model)
        if self.recipe.head_lr is None:
            for group in groups:
                if group["name"] == "head":
                    group["lr"] = self.learning_rate(model.backbone)
        return groups
