"""Fine-tuning: train the last k layer groups, with layer-wise learning rates and gradual unfreezing."""

from __future__ import annotations

from headstart.methods.base import Method, register_method


@register_method("finetune")
class FineTune(Method):
    """Fine-tuning: train the last k layer groups (or all), layer-wise lr decay, gradual unfreezing."""

    def first_trainable(self, num_groups: int) -> int:
        k = self.recipe.unfreeze
        return 0 if k == "all" else max(0, num_groups - int(k))

    def trainable_at(self, epoch: int, num_groups: int) -> int:
        """With ``gradual = g``: the top group for g epochs, then one more group every g epochs
        (fastai's ``fine_tune`` idea, the head being warm-started by the probe)."""
        final = self.first_trainable(num_groups)
        if not self.recipe.gradual:
            return final
        return max(final, num_groups - 1 - epoch // self.recipe.gradual)
