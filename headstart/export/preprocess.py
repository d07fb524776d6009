"""Run an exported model's preprocessing spec (written by ``Backbone.export_preprocessing``)
without the backbone: ``tokenizer`` specs through the ``tokenizers`` library, ``image`` specs
through PIL (decoded by ``headstart.data.images.load_image``, as headstart decodes every image);
the kept baseline's ``text`` (strings), ``pixels`` and ``mfcc-stats`` specs (its own feature functions);
``series`` (context windows) and ``observations`` (an RL policy's)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from headstart.data.images import load_image
from headstart.errors import DataError, HeadstartError

Preprocessor = Callable[[Sequence[Any]], dict[str, np.ndarray]]
RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def strings(texts: Sequence[Any]) -> list[str]:
    """``texts`` as a list, refusing anything but strings."""
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"text {index}: expected a string, not {type(text).__name__}")
    return list(texts)


def tokenizer_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """Texts -> ``input_ids`` / ``token_type_ids`` / ``attention_mask`` (int64), truncated at
    ``max_length`` and right-padded to the batch's longest text."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / spec["file"]))
    tokenizer.enable_truncation(spec["max_length"])
    tokenizer.enable_padding(pad_id=spec["pad_id"], pad_token=spec["pad_token"])

    def run(texts: Sequence[Any]) -> dict[str, np.ndarray]:
        encoded = tokenizer.encode_batch(strings(texts))
        fields = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask"}
        return {name: np.asarray([getattr(e, fields[name]) for e in encoded], dtype=np.int64) for name in spec["inputs"]}

    return run


def resized(image: Image.Image, spec: dict[str, Any]) -> np.ndarray:
    """``size x size`` RGB pixels: stretched, or the centred square crop of side
    ``min(H, W) * size / (size + crop_padding)``."""
    size, resample = spec["size"], RESAMPLING[spec["interpolation"]]
    if spec["resize"] == "stretch":
        return np.asarray(image.resize((size, size), resample))
    width, height = image.size
    side = int(size / (size + spec["crop_padding"]) * min(width, height))
    top, left = (height - side + 1) // 2, (width - side + 1) // 2
    return np.asarray(image.resize((size, size), resample, box=(left, top, left + side, top + side)))


def image_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """Images (paths, arrays, PIL images) -> ``pixels`` ``(B, 3, size, size)`` float32, ``(p - mean) / scale``."""

    def run(items: Sequence[Any]) -> dict[str, np.ndarray]:
        arrays = []
        for index, item in enumerate(items):
            try:
                arrays.append(resized(load_image(item), spec))
            except DataError as exc:
                raise DataError(f"image {index}: {exc}") from None
        pixels = np.stack(arrays).astype(np.float32).transpose(0, 3, 1, 2)
        return {"pixels": np.ascontiguousarray((pixels - np.float32(spec["mean"])) / np.float32(spec["scale"]))}

    return run


def text_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """Texts -> ``text`` ``(B, 1)`` strings, lowercased by ``str.lower`` when ``spec["lowercase"]``
    (as scikit-learn's TF-IDF does)."""

    def run(texts: Sequence[Any]) -> dict[str, np.ndarray]:
        rows = [t.lower() for t in strings(texts)] if spec["lowercase"] else strings(texts)
        return {"text": np.array(rows, dtype=object).reshape(-1, 1)}

    return run


def audio_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """Audio files, waveforms (or feature frames) -> the graph's inputs, by the front end the spec
    names (``headstart.zoo.audio.FRONT_ENDS``): the code the backbone itself preprocesses with
    (``read_audio``: decoding, mono, soxr resampling, loudness; then mel or MFCC frames)."""
    from headstart.zoo.audio import audio_front_end

    front_end, options = audio_front_end(spec["front_end"]), spec["options"]
    return lambda items: front_end(items, **options)


def series_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """Series ``(T,)`` or ``(C, T)`` -> ``values`` and ``mask`` ``(B, C, context_length)``: the last
    points of each channel scaled and left-padded by ``headstart.zoo.series.context_windows`` with
    the family's registered scaling, as the backbone preprocesses them; with ``spec["inputs"]``
    (a forecaster's) also ``loc`` and ``scale`` ``(B, C, 1)`` float64, the scaling to undo."""
    from headstart.zoo.series import context_windows, series_scaling

    scaling, length = series_scaling(spec["scaling"]), spec["context_length"]
    names = spec.get("inputs", ("values", "mask"))

    def run(items: Sequence[Any]) -> dict[str, np.ndarray]:
        arrays, channels = context_windows(items, length, scaling, spec["min_observed"], spec["name"])
        return {name: arrays[name].reshape(len(items), channels, -1) for name in names}

    return run


def baseline_features_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """Raw inputs -> ``features`` ``(B, d)`` float32: the kept baseline's fixed features ``spec["kind"]``
    (pixel rows at ``spec["size"]``, MFCC statistics) computed by the baseline's own function."""
    from headstart import baselines
    from headstart.select.baseline_model import FIXED_FEATURES

    if spec["kind"] == "pixels" and spec["size"] != baselines.PIXEL_SIDE:
        raise HeadstartError(f"pixel size {spec['size']} differs from this version's {baselines.PIXEL_SIDE}")
    compute = FIXED_FEATURES[spec["kind"]]
    return lambda items: {"features": compute(items).astype(np.float32)}


def observations_preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """RL observations -> ``observations`` ``(B, *shape)`` float32, refusing other shapes in one line."""
    shape = tuple(spec["shape"])

    def run(items: Sequence[Any]) -> dict[str, np.ndarray]:
        observations = np.asarray(items, dtype=np.float32)
        if observations.shape[1:] != shape:
            raise DataError(f"observations of shape {list(observations.shape[1:])}; the policy observes {list(shape)}")
        return {"observations": observations}

    return run


PREPROCESSORS: dict[str, Callable[[dict[str, Any], Path], Preprocessor]] = {
    "tokenizer": tokenizer_preprocessor,
    "image": image_preprocessor,
    "text": text_preprocessor,
    "pixels": baseline_features_preprocessor,
    "mfcc-stats": baseline_features_preprocessor,
    "audio": audio_preprocessor,
    "series": series_preprocessor,
    "observations": observations_preprocessor,
}


def preprocessor(spec: dict[str, Any], folder: Path) -> Preprocessor:
    """The function that turns raw inputs into the graph's inputs for ``spec``."""
    if spec.get("kind") not in PREPROCESSORS:
        raise HeadstartError(f"unknown preprocessing kind {spec.get('kind')!r}; known: {', '.join(PREPROCESSORS)}")
    return PREPROCESSORS[spec["kind"]](spec, folder)
