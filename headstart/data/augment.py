"""Image augmentation on PIL images (flip, random resized crop, colour jitter), seeded by the caller."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance


def augment_image(image: Image.Image, rng: np.random.Generator, *, scale: tuple[float, float] = (0.6, 1.0), jitter: float = 0.2) -> Image.Image:
    """A random horizontal flip, a crop keeping ``scale`` of the area (aspect ratio 3/4 to 4/3,
    resized back to the original size) and brightness / contrast / saturation jitter of ``±jitter``."""
    width, height = image.size
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    area = width * height * rng.uniform(*scale)
    ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    w = int(min(width, round(np.sqrt(area * ratio))))
    h = int(min(height, round(np.sqrt(area / ratio))))
    left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    image = image.crop((left, top, left + w, top + h)).resize((width, height), Image.Resampling.BILINEAR)
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhancer(image).enhance(rng.uniform(1 - jitter, 1 + jitter))
    return image
