"""Where label descriptions get embedded: the text backbone itself, or an image-text model's text tower.

Image zero-shot needs a model that embeds images and texts in one space (CLIP-style). Such a
backbone is an ordinary image ``Backbone`` (its ``forward_features`` embeds images, so probes,
caching and artifacts work unchanged) that also has ``embed_texts``. None ships offline yet.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from headstart.errors import BackboneError
from headstart.features import extract_features
from headstart.zoo.base import Backbone

TextEncoder = Callable[[Sequence[str]], np.ndarray]


@runtime_checkable
class ImageTextBackbone(Protocol):
    """An image backbone whose ``embed_texts`` maps texts into the space of its image features."""

    name: str
    modality: str
    feature_dim: int

    def forward_features(self, batch: object) -> Tensor:
        """Image embeddings ``(batch, feature_dim)`` of a preprocessed batch."""

    def embed_texts(self, texts: Sequence[str]) -> Tensor:
        """Text embeddings ``(len(texts), feature_dim)``, comparable with the image embeddings."""


def text_encoder(backbone: Backbone) -> TextEncoder:
    """The function that embeds label descriptions in the space of ``backbone``'s features."""
    if backbone.modality == "text":
        return lambda texts: extract_features(backbone, list(texts), progress=False)
    if isinstance(backbone, ImageTextBackbone):
        def embed(texts: Sequence[str]) -> np.ndarray:
            with torch.inference_mode():
                return backbone.embed_texts(list(texts)).float().numpy()

        return embed
    raise BackboneError(
        f"{backbone.name} embeds {backbone.modality}s only: zero-shot {backbone.modality} classification needs an "
        "image-text model (a backbone with embed_texts, e.g. CLIP), and none ships offline yet; "
        "with a few labelled examples use `headstart fit --shots K` instead"
    )
