"""What every fitted model's ``outputs``/``predict`` accept, as one batch of raw inputs.

A ``Dataset`` gives its inputs; a list (or array) of inputs is a batch; one input (a string, a
path, a PIL image, one ``uint8`` image array, one feature row) is a batch of one. Image path
strings become ``Path`` (hashed by the file's bytes), nested lists arrays, and PIL images are decoded the way files
are (EXIF orientation, alpha on white) into ``uint8`` RGB arrays, so that they are cached and
preprocessed like any other image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageOps

from headstart.data.dataset import Dataset
from headstart.data.images import to_rgb
from headstart.errors import DataError

Inputs = Dataset | Sequence[Any] | str | Path | Image.Image | np.ndarray


def as_batch(inputs: Inputs, modality: str) -> list[Any]:
    """``inputs`` (see the module docstring) as a list of raw ``modality`` inputs."""
    if isinstance(inputs, Dataset):
        if inputs.modality != modality:
            raise DataError(f"{inputs.name}: {inputs.modality} inputs cannot go through a model of {modality} inputs")
        return list(inputs.inputs)
    single, coerce = _KINDS.get(modality, (_one_row, _as_given))
    items = [inputs] if single(inputs) else list(inputs)
    if not items:
        raise DataError("no inputs to predict")
    return [coerce(item) for item in items]


def _one_image(value: Any) -> bool:
    """One image: a path, a PIL image, or a ``uint8`` array ``(H, W)`` or ``(H, W, 1|3|4)``."""
    if isinstance(value, (str, Path, Image.Image)):
        return True
    return isinstance(value, np.ndarray) and (value.ndim == 2 or (value.ndim == 3 and value.shape[2] in (1, 3, 4)))


def _image(item: Any) -> Any:
    if isinstance(item, str):
        return Path(item)
    if isinstance(item, Image.Image):
        return np.asarray(to_rgb(ImageOps.exif_transpose(item)))
    return item if isinstance(item, Path) else np.asarray(item)  # nested lists as arrays


def _one_text(value: Any) -> bool:
    return isinstance(value, str)


def _text(item: Any) -> str:
    return str(item)


def _one_row(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.ndim == 1


def _as_given(item: Any) -> Any:
    return item


_KINDS = {"image": (_one_image, _image), "text": (_one_text, _text)}
