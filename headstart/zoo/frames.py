"""``hs-speech``: headstart's own small encoder of feature frames (MFCCs), pre-trained on source
speakers by ``headstart.pretrain_speech`` and fine-tuned to a new one.

Each utterance's frames ``(T, D)`` are mean- and variance-normalised per coefficient over the
utterance (cepstral mean and variance normalisation: a fixed channel or vocal-tract offset cancels,
which is what a new speaker or microphone mostly changes), then

- g0 … g{n-1}: blocks of 1-D convolution over time (kernel 5, same length), BatchNorm and ReLU
  (``widths`` channels, default 64, 128, 128); states ``(B, C, T)`` with a frame mask;
- pool: ``[mean, max]`` over the utterance's frames (``2 * widths[-1]``).

Waveforms are turned into ``D`` MFCCs by ``headstart.data.audio.mfcc`` first, so an encoder
pre-trained on recordings reads recordings. BatchNorm makes AdaBN (``headstart adapt --method
adabn``) meaningful: re-estimating its statistics on a new speaker is one unlabelled pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from headstart.errors import DataError
from headstart.zoo.audio import AudioBackbone, frame_count, frames_of, register_front_end
from headstart.zoo.base import decode_each
from headstart.zoo.own import load_own, save_own
from headstart.zoo.registry import register_loader

MODEL_TYPE = "headstart-speech"
FAMILY = "hs-speech"


@dataclass(frozen=True)
class FrameCNNConfig:
    coefficients: int = 13
    widths: tuple[int, ...] = (64, 128, 128)
    kernel: int = 5


@dataclass
class FrameState:
    h: Tensor  # (B, C, T)
    mask: Tensor  # (B, T) bool

    def to(self, device: torch.device | str) -> FrameState:
        return replace(self, h=self.h.to(device), mask=self.mask.to(device))


def normalised(frames: np.ndarray) -> np.ndarray:
    """Per-coefficient mean 0 and standard deviation 1 over the utterance (a constant coefficient: 0)."""
    std = frames.std(axis=0)
    return ((frames - frames.mean(axis=0)) / np.where(std > 1e-6, std, 1.0)).astype(np.float32)


def checked_frames(item: Any, coefficients: int, who: str) -> np.ndarray:
    """An item's ``(T, coefficients)`` frames: given, or the MFCCs of a waveform (``frames_of``)."""
    frames = frames_of(item, coefficients)
    if frames.shape[1] != coefficients or len(frames) == 0 or not np.isfinite(frames).all():
        raise DataError(f"{who} reads finite frames of {coefficients} coefficients, got an array of shape {frames.shape}")
    return frames


@register_front_end(FAMILY)
def frame_inputs(raw: Sequence[Any], coefficients: int = 13, who: str = FAMILY) -> dict[str, np.ndarray]:
    """Normalised frames, right-padded with zeros to the batch's longest: ``frames`` ``(B, D, T)``
    and ``mask`` ``(B, T)``."""
    frames = decode_each(raw, lambda item: normalised(checked_frames(item, coefficients, who)), "audio", "audio")
    length = max(len(f) for f in frames)
    values = np.zeros((len(frames), coefficients, length), dtype=np.float32)
    mask = np.zeros((len(frames), length), dtype=bool)
    for i, f in enumerate(frames):
        values[i, :, : len(f)] = f.T
        mask[i, : len(f)] = True
    return {"frames": values, "mask": mask}


class FrameBlock(nn.Module):
    """Conv1d (same length) -> BatchNorm -> ReLU, padded frames kept at 0."""

    def __init__(self, width_in: int, width_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(width_in, width_out, kernel, padding=kernel // 2, bias=False)
        self.norm = nn.BatchNorm1d(width_out)

    def forward(self, state: FrameState) -> FrameState:
        h = torch.relu(self.norm(self.conv(state.h)))
        return replace(state, h=h * state.mask.unsqueeze(1).to(h.dtype))


class FrameCNN(AudioBackbone):
    """``hs-speech``: see the module docstring."""

    takes = "frames"
    front_end = FAMILY
    ragged_states = True
    lora_targets = ("conv",)
    learning_rates = {"finetune": 1e-3, "lora": 3e-3, "scratch": 3e-3}

    def __init__(self, config: FrameCNNConfig = FrameCNNConfig(), name: str = f"{FAMILY} (random init)",
                 weights_hash: str = "random-init") -> None:
        super().__init__()
        self.config, self.name, self.weights_hash = config, name, weights_hash
        widths = (config.coefficients, *config.widths)
        self.groups = nn.ModuleList(FrameBlock(a, b, config.kernel) for a, b in zip(widths, widths[1:]))
        self.feature_dim = 2 * config.widths[-1]
        self.trained: dict[str, Any] = {}

    @classmethod
    def is_single_input(cls, value: Any) -> bool:
        """One input: a path, a 1-D waveform or a 2-D ``(T, D)`` array of frames."""
        return isinstance(value, (str, Path)) or (isinstance(value, np.ndarray) and value.ndim in (1, 2))

    def frames_of(self, item: Any) -> np.ndarray:
        """An item's ``(T, coefficients)`` frames: given, or the MFCCs of a waveform."""
        return checked_frames(item, self.config.coefficients, self.name)

    def input_lengths(self, items: Sequence[Any]) -> np.ndarray:
        """Frames per item (a recording is decoded to count them; its MFCCs are not computed)."""
        return np.array([frame_count(item) for item in items])

    def front_end_options(self) -> dict[str, Any]:
        return {**super().front_end_options(), "coefficients": self.config.coefficients}

    def graph_inputs(self, batch: FrameState) -> dict[str, Tensor]:
        return {"frames": batch.h, "mask": batch.mask}

    def graph_batch(self, inputs: Mapping[str, Tensor]) -> FrameState:
        return FrameState(inputs["frames"], inputs["mask"])

    def graph_axes(self) -> dict[str, dict[int, str]]:
        return {"frames": {0: "batch", 2: "frames"}, "mask": {0: "batch", 1: "frames"}}

    def pool(self, state: FrameState) -> Tensor:
        """``[mean, max]`` over each utterance's frames."""
        weight = state.mask.unsqueeze(1).to(state.h.dtype)
        mean = (state.h * weight).sum(-1) / weight.sum(-1).clamp_min(1.0)
        peak = state.h.masked_fill(~state.mask.unsqueeze(1), float("-inf")).amax(-1)
        return torch.cat([mean, peak], dim=-1)

    def scratch_backbone(self) -> FrameCNN:
        scratch = FrameCNN(self.config)
        scratch.source_folder = self.source_folder  # loading rebuilds from this backbone
        return scratch

    def split_state(self, state: FrameState) -> list[Tensor]:
        """One ``(T_i, C)`` tensor per utterance, cut to its frames."""
        lengths = state.mask.sum(1).tolist()
        return [h[:, : int(n)].T for h, n in zip(state.h, lengths)]

    def merge_states(self, rows: Sequence[Tensor]) -> FrameState:
        length = max(r.shape[0] for r in rows)
        h = rows[0].new_zeros((len(rows), rows[0].shape[1], length))
        mask = torch.zeros((len(rows), length), dtype=torch.bool)
        for i, r in enumerate(rows):
            h[i, :, : r.shape[0]] = r.T
            mask[i, : r.shape[0]] = True
        return FrameState(h, mask)

    def preprocessing_config(self) -> dict[str, Any]:
        return {"coefficients": self.config.coefficients, "normalisation": "utterance mean and variance"}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "family": FAMILY, "config": asdict(self.config)}


def save_frame_cnn(backbone: FrameCNN, folder: str | Path, trained: Mapping[str, Any]) -> Path:
    """Write ``backbone`` as a backbone folder; ``trained`` records what it learnt from and how long it took."""
    return save_own(backbone, folder, MODEL_TYPE, FAMILY, asdict(backbone.config), trained)


def load_frame_cnn(path: str | Path, **options: Any) -> FrameCNN:
    """A folder written by ``save_frame_cnn`` (manifest verified; safetensors only), in eval mode."""
    return load_own(path, FAMILY, lambda arch, name, digest: FrameCNN(
        FrameCNNConfig(arch["coefficients"], tuple(arch["widths"]), arch["kernel"]), name, digest), options)


register_loader(FrameCNN, load_frame_cnn, model_type=MODEL_TYPE)
