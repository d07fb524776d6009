"""What every image backbone shares: one decoder, augmentation, fixed-size states, the pixel baseline.

Every raw image (file path, ``uint8`` array, PIL image) is decoded by
``headstart.data.images.load_image`` (EXIF orientation applied, transparency composited on
white), so all image families and the reports see the same pixels. A family implements only
``transform``: decoded RGB images -> the batch its first layer group takes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from headstart.data.augment import augment_image
from headstart.data.images import load_image
from headstart.zoo.base import Backbone, decode_each


class ImageBackbone(Backbone):
    """A backbone over images; baseline: raw pixels."""

    modality = "image"
    baseline = "pixels"
    # A batch of 64 images at 224 px has activations beyond glibc's mmap threshold: every batch maps
    # fresh pages and faults them in (bench/batch_size.py, EfficientNet-Lite0: 35 ms of system time
    # per image at 64, 11 ms at 16, for 43-45 ms of user time).
    inference_batch_size = 16

    @classmethod
    def as_inputs(cls, items: Iterable[Any]) -> list[Any]:
        """Path strings as ``Path`` (hashed by the file's bytes), nested lists as arrays, PIL images
        decoded the way files are (EXIF orientation, alpha on white) into ``uint8`` RGB arrays, so
        that they are cached and preprocessed like any other image; paths and arrays as given."""
        return [
            Path(item) if isinstance(item, str)
            else np.asarray(load_image(item)) if isinstance(item, Image.Image)
            else item if isinstance(item, (Path, np.ndarray))
            else np.asarray(item)
            for item in items
        ]

    @classmethod
    def is_single_input(cls, value: Any) -> bool:
        """One image: a path, a PIL image, or a ``uint8`` array ``(H, W)`` or ``(H, W, 1|3|4)``."""
        if isinstance(value, (str, Path, Image.Image)):
            return True
        return isinstance(value, np.ndarray) and (value.ndim == 2 or (value.ndim == 3 and value.shape[2] in (1, 3, 4)))

    @classmethod
    def preview(cls, item: Any) -> Image.Image:
        return load_image(item)

    def decode(self, items: Sequence[Any]) -> list[Image.Image]:
        """RGB images through ``load_image``; a ``DataError`` names the failing item's position."""
        return decode_each(items, load_image, "image")

    @abstractmethod
    def transform(self, images: Sequence[Image.Image]) -> Tensor:
        """Decoded RGB images -> the batch ``groups[0]`` takes."""

    def scratch_backbone(self) -> ImageBackbone:
        small = SmallConvNet(f"{self.name} (small CNN, random init)")
        small.source_folder = self.source_folder  # loading rebuilds from this backbone
        return small

    def preprocess(self, raw: Sequence[Any]) -> Tensor:
        """Raw images (paths, ``uint8`` arrays, PIL images) decoded and transformed into a batch."""
        return self.transform(self.decode(raw))

    def prepare_inputs(self, items: Sequence[Any], rng: np.random.Generator | None = None) -> Tensor:
        """Decoded, augmented when ``rng`` is given (random crop, flip, colour jitter), transformed."""
        images = self.decode(items)
        if rng is not None:
            images = [augment_image(image, rng) for image in images]
        return self.transform(images)


class SmallConvNet(ImageBackbone):
    """The no-transfer control for images (``ImageBackbone.scratch_backbone``): images resized to
    ``SIDE`` x ``SIDE``, then three blocks of 3x3 convolution, BatchNorm, ReLU and 2x2 max-pooling
    (``WIDTHS`` channels), average-pooled: about 0.1 M parameters, small enough to learn from a few
    examples per class."""

    SIDE = 32
    WIDTHS = (32, 64, 128)
    learning_rates = {"scratch": 3e-3}  # digits / MNIST, 8 per class: 92.5 / 82.5 % (1e-3: 91.1 / 79.7 %)

    def __init__(self, name: str = "small-cnn") -> None:
        super().__init__()
        self.name, self.weights_hash, self.feature_dim = name, "random-init", self.WIDTHS[-1]
        widths = (3, *self.WIDTHS)
        self.groups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2))
            for a, b in zip(widths, widths[1:])
        )

    def transform(self, images: Sequence[Image.Image]) -> Tensor:
        """Bilinear resize to ``SIDE`` squared, pixels scaled to [-1, 1]."""
        side = self.SIDE
        arrays = [np.asarray(image.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float32) for image in images]
        return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).div(127.5).sub(1.0).contiguous()

    def pool(self, state: Tensor) -> Tensor:
        return state.mean(dim=(2, 3))

    def preprocessing_config(self) -> dict[str, Any]:
        return {"side": self.SIDE}

    def export_preprocessing(self, folder: Path) -> dict[str, Any]:
        return {"kind": "image", "size": self.SIDE, "resize": "stretch", "crop_padding": None,
                "interpolation": "bilinear", "mean": 127.5, "scale": 127.5}
