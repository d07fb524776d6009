"""Dataset transforms that change every input the same way, e.g. to make two image domains alike.

Preprocessing that aligns domains is part of domain adaptation: scikit-learn's 8x8 digits fill
their whole frame, MNIST's 28x28 digits sit in a 20x20 box with a 4-pixel border. Upscaled as they
are, a pixel classifier trained on MNIST reaches 18 % on digits; framed like MNIST, 56 %.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PIL import Image

from headstart.data.dataset import Dataset
from headstart.data.images import load_image
from headstart.errors import DataError


def pad_to_frame(dataset: Dataset, content: int = 20, border: int = 4, fill: int = 0) -> Dataset:
    """Each image resized (bicubic, aspect kept) so that its longer side is ``content`` pixels,
    centred on a square canvas of side ``content + 2 * border`` filled with ``fill``.

    Grayscale ``(H, W)`` arrays stay grayscale; other images (files, colour arrays) become RGB
    ``uint8`` arrays. Labels and classes are kept.
    """
    if dataset.modality != "image":
        raise DataError(f"{dataset.name}: pad_to_frame needs images, not {dataset.modality} data")
    if content < 1 or border < 0 or not 0 <= fill <= 255:
        raise DataError(f"pad_to_frame needs content >= 1, border >= 0 and fill in 0..255; got {content}, {border}, {fill}")
    framed = [_frame(_as_image(item), content, border, fill) for item in dataset.inputs]
    same_shape = len({f.shape for f in framed}) == 1
    return replace(
        dataset,
        inputs=np.stack(framed) if same_shape else framed,
        name=f"{dataset.name}:framed",
        meta={**dataset.meta, "frame": {"content": content, "border": border, "fill": fill}},
    )


def frame_like_mnist(dataset: Dataset) -> Dataset:
    """MNIST's layout: the image scaled into a 20x20 box centred in a 28x28 black frame."""
    return pad_to_frame(dataset, content=20, border=4, fill=0)


def _as_image(item: Any) -> Image.Image:
    """A grayscale array as a mode-L image (no colour conversion), anything else as RGB."""
    if isinstance(item, np.ndarray) and item.ndim == 2 and item.dtype == np.uint8:
        return Image.fromarray(item)
    return load_image(item)


def _frame(image: Image.Image, content: int, border: int, fill: int) -> np.ndarray:
    width, height = image.size
    scale = content / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(size, Image.Resampling.BICUBIC)
    side = content + 2 * border
    canvas = Image.new(image.mode, (side, side), fill if image.mode == "L" else (fill,) * 3)
    canvas.paste(resized, ((side - size[0]) // 2, (side - size[1]) // 2))
    return np.asarray(canvas)
