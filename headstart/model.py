"""A backbone with a head: the network every method trains or fits."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from headstart.zoo.base import Backbone


class TransferModel(nn.Module):
    """``head(pool(g_{n-1}(… g_start(x))))``; ``start > 0`` runs only the top from cached states."""

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def features(self, x: Any, start: int = 0) -> Tensor:
        return self.backbone.pool(self.backbone.forward_groups(x, start))

    def forward(self, x: Any, start: int = 0) -> Tensor:
        return self.head(self.features(x, start))

    def set_trainable(self, first_group: int) -> None:
        """Train groups ``first_group …`` and the head; freeze the rest (BatchNorm statistics too)."""
        self.backbone.requires_grad_(False)  # e.g. a source classifier kept by the backbone
        for i, group in enumerate(self.backbone.groups):
            trainable = i >= first_group
            group.requires_grad_(trainable)
            if not trainable:
                group.eval()
        self.head.requires_grad_(True)
