"""Fine-tuning: train the last k layer groups, with layer-wise learning rates and gradual unfreezing."""

from __future__ import annotations

from dataclasses import dataclass

from headstart.errors import HeadstartError
from headstart.methods.base import (
    BatchNormSetting,
    HeadInitSetting,
    LayerDecaySetting,
    Method,
    register_method,
)
from headstart.methods.regularizers import BSSSettings, L2SPSetting
from headstart.recipe import setting


@dataclass
class FineTuneSettings(LayerDecaySetting, HeadInitSetting, BatchNormSetting, L2SPSetting, BSSSettings):
    """Fine-tuning's settings: depth, layer-wise decay, gradual unfreezing, head start, BatchNorm, regularisers."""

    unfreeze: int | str = setting(2, "train the last k layer groups, or 'all'", (int, str))
    gradual: int = setting(0, "gradual unfreezing: one more group every `gradual` epochs (0: off)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.unfreeze, str) and self.unfreeze != "all":
            if not self.unfreeze.isdigit():
                raise HeadstartError(f"unfreeze must be a number of layer groups or 'all', not {self.unfreeze!r}")
            self.unfreeze = int(self.unfreeze)
        if isinstance(self.unfreeze, int) and self.unfreeze < 0:
            raise HeadstartError("unfreeze must be >= 0")
        if self.gradual < 0:
            raise HeadstartError(f"gradual must be >= 0, not {self.gradual!r}")


@register_method("finetune", settings=FineTuneSettings)
class FineTune(Method):
    """Fine-tuning: train the last k layer groups (or all), layer-wise lr decay, gradual unfreezing."""

    def first_trainable(self, num_groups: int) -> int:
        k = self.recipe.unfreeze
        if k != "all" and int(k) > num_groups:
            raise HeadstartError(
                f"unfreeze {k} asks for more layer groups than {self.recipe.backbone} has ({num_groups}); "
                f"use at most {num_groups}, or 'all'")
        return 0 if k == "all" else num_groups - int(k)

    def trainable_at(self, epoch: int, num_groups: int) -> int:
        """With ``gradual = g``: the top group for g epochs, then one more group every g epochs
        (fastai's ``fine_tune`` idea, the head being warm-started by the probe)."""
        final = self.first_trainable(num_groups)
        if not self.recipe.gradual:
            return final
        return max(final, num_groups - 1 - epoch // self.recipe.gradual)
