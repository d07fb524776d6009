"""Decode any supported image (a file, a ``uint8`` array or a PIL image) into an RGB ``PIL.Image``.

``load_image`` is the one image decoder: every image backbone and the reports decode through it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from headstart.errors import DataError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp"})

# What Pillow raises, depending on the format, for a corrupt, truncated or hostile file.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)
_WHITE = (255, 255, 255)
_NOTED_HUGE: set[Path] = set()  # files already noted as huge (Pillow's own warning is silenced: headstart.quiet)
log = logging.getLogger(__name__)


def is_image_file(path: Path) -> bool:
    """True for a visible file with a supported image extension (any letter case)."""
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def decode_image_file(path: Path) -> Image.Image:
    """Open and fully decode ``path`` (so truncation is caught now), or raise ``DataError``."""
    if not path.is_file():
        raise DataError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            _note_if_huge(path, image)
            image.load()
            return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None


def _note_if_huge(path: Path, image: Image.Image) -> None:
    """One line, once per file, for an image above Pillow's decompression-bomb limit (it still
    decodes up to twice that; beyond, Pillow refuses it and ``decode_image_file`` says why)."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and image.width * image.height > limit and path not in _NOTED_HUGE:
        _NOTED_HUGE.add(path)
        log.warning("%s: a huge image (%d x %d pixels); decoding it takes time and memory", path, image.width, image.height)


def load_image(item: Path | str | np.ndarray | Image.Image) -> Image.Image:
    """An RGB image from a file path, a ``uint8`` array ``(H, W)``, ``(H, W, 1|3|4)`` or a PIL image.

    Grayscale, palette and 16-bit images become RGB; transparency is composited on white;
    camera EXIF orientation is applied (to files and to PIL images that still carry the tag).
    """
    if isinstance(item, np.ndarray):
        return to_rgb(_image_from_array(item))
    if isinstance(item, Image.Image):
        return to_rgb(ImageOps.exif_transpose(item))
    if isinstance(item, (str, Path)):
        return to_rgb(decode_image_file(Path(item)))
    raise DataError(f"expected a PIL image, a path or a uint8 array, not {type(item).__name__}")


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB, compositing transparent pixels over white."""
    if image.mode.startswith("I;16"):
        # 16-bit grayscale: Pillow's own conversion would clip to 255, so rescale 0..65535.
        image = Image.fromarray((np.asarray(image, dtype=np.float32) / 257).round().astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _image_from_array(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        raise DataError(f"image arrays must be uint8, got {array.dtype} of shape {array.shape}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4)):
        return Image.fromarray(array)  # mode L, RGB or RGBA from the shape
    raise DataError(f"image arrays must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {array.shape}")
