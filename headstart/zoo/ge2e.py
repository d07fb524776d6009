"""``ge2e-speaker``: the GE2E speaker encoder of ``resemblyzer`` 0.1.4 (Apache-2.0) as layer groups.

The weights are the package's ``pretrained.pt``, read from its registry wheel (downloaded once,
cached; the package itself is never imported) with ``torch.load(weights_only=True)``. The front end
and the network follow ``resemblyzer.VoiceEncoder.embed_utterance``:

- a waveform at 16 kHz, raised to -30 dBFS if quieter (``normalize_volume(increase_only=True)``);
- cut into partial utterances of 160 frames (1.6 s) at 1.3 partials per second, the last kept if it
  covers 75 % of a partial (always at least one), the waveform zero-padded to the last;
- each partial's mel spectrogram: librosa power mels, 25 ms windows, 10 ms hop, 40 bands, ``(160, 40)``;
- g0, g1, g2: the three LSTM layers (256 hidden), states ``(partials, 160, 256)``;
- g3: the projection, ``ReLU(linear(last hidden state))`` L2-normalised, ``(partials, 256)``.

States hold every partial of a batch (``ItemRows``: ``counts[i]`` consecutive rows for item ``i``);
``pool`` averages an item's partials: the last frame's hidden state at an LSTM depth, the partial
embeddings at the projection, renormalised (the package's utterance embedding). A cached state is
one ``(partials, ...)`` tensor per item (``ragged_states``; ``input_lengths`` counts partials).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from headstart.data.audio import SAMPLE_RATE
from headstart.data.cache import wheel_cached
from headstart.errors import BackboneError
from headstart.zoo.audio import ItemRows, RowsPerItem, decode_waveforms, register_front_end, rows_per_item
from headstart.zoo.base import wheel_weights
from headstart.zoo.registry import register_backbone

NAME = "ge2e-speaker"
PACKAGE, VERSION, MEMBER = "resemblyzer", "0.1.4", "resemblyzer/pretrained.pt"
HOP = 160  # samples per mel frame (10 ms)
WINDOW = 400  # samples per FFT window (25 ms)
MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE = 1.3  # partials per second
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
INT16_MAX = 2**15 - 1


def partial_starts(num_samples: int) -> list[int]:
    """First mel frame of each partial utterance (``VoiceEncoder.compute_partial_slices``)."""
    frames = int(np.ceil((num_samples + 1) / HOP))
    step = int(np.round(SAMPLE_RATE / PARTIAL_RATE / HOP))
    starts = list(range(0, max(1, frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (num_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    return starts[:-1] if coverage < MIN_COVERAGE and len(starts) > 1 else starts


def raise_volume(wave: np.ndarray) -> np.ndarray:
    """``wave`` raised to ``TARGET_DBFS`` if quieter (resemblyzer's ``normalize_volume``, increase only)."""
    rms = float(np.sqrt(np.mean((wave.astype(np.float64) * INT16_MAX) ** 2)))
    if rms == 0.0:
        return wave
    change = TARGET_DBFS - 20 * np.log10(rms / INT16_MAX)
    return wave if change < 0 else (wave * 10 ** (change / 20)).astype(np.float32)


def partial_mels(wave: np.ndarray) -> np.ndarray:
    """The ``(partials, 160, 40)`` mel spectrograms of one 16 kHz waveform."""
    import librosa

    starts = partial_starts(len(wave))
    stop = (starts[-1] + PARTIAL_FRAMES) * HOP
    if stop >= len(wave):
        wave = np.pad(wave, (0, stop - len(wave)))
    mel = librosa.feature.melspectrogram(y=wave, sr=SAMPLE_RATE, n_fft=WINDOW, hop_length=HOP, n_mels=MELS)
    mel = mel.astype(np.float32).T
    return np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts])


@register_front_end(NAME)
def partial_inputs(raw: Sequence[Any], who: str = NAME) -> dict[str, np.ndarray]:
    """Waveforms (or files) -> the mel spectrograms of their partial utterances (``rows_per_item``)."""
    return rows_per_item([partial_mels(raise_volume(wave)) for wave in decode_waveforms(raw, who)])


class LSTMLayer(nn.Module):
    """One LSTM layer over every partial: ``(P, T, in) -> (P, T, hidden)``."""

    def __init__(self, inputs: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, batch_first=True)

    def forward(self, state: ItemRows) -> ItemRows:
        return replace(state, h=self.lstm(state.h)[0])


class Projection(nn.Module):
    """The last frame's hidden state -> ``ReLU(linear(.))``, L2-normalised: ``(P, T, H) -> (P, E)``."""

    def __init__(self, hidden: int, embedding: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden, embedding)

    def forward(self, state: ItemRows) -> ItemRows:
        return replace(state, h=F.normalize(F.relu(self.linear(state.h[:, -1])), dim=-1))


class GE2ESpeaker(RowsPerItem):
    """The GE2E speaker encoder: see the module docstring."""

    front_end = NAME
    lora_targets = ("linear",)  # the projection (PEFT's LoRA does not adapt LSTMs)
    learning_rates = {"finetune": 1e-4, "lora": 1e-3, "scratch": 1e-3}

    def __init__(self, hidden: int = 256, embedding: int = 256, layers: int = 3, name: str = f"{NAME} (random init)",
                 weights_hash: str = "random-init") -> None:
        super().__init__()
        self.name, self.weights_hash, self.feature_dim = name, weights_hash, embedding
        self.hidden, self.embedding = hidden, embedding
        sizes = [MELS] + [hidden] * layers
        self.groups = nn.ModuleList([LSTMLayer(a, b) for a, b in zip(sizes, sizes[1:])] + [Projection(hidden, embedding)])

    def row_counts(self, waves: Sequence[np.ndarray]) -> list[int]:
        return [len(partial_starts(len(wave))) for wave in waves]

    def int8_quantisation(self) -> str:
        """None: onnxruntime's int8 LSTM (dynamic quantisation; static leaves LSTMs in fp32) moves the
        embeddings too far (``bench/export_audio.py``: a speaker probe on ``ami_speakers`` fell
        from 96.6 % to 33.9 % accuracy, for a 1.9x speed-up)."""
        raise BackboneError(f"{self.name} has no int8 export: quantising its LSTMs (onnxruntime's dynamic "
                            "int8 LSTM) took a speaker probe on ami_speakers from 96.6 % to 33.9 % accuracy; "
                            "export without --int8 (fp32 matches PyTorch to 1e-7)")

    def pool(self, state: ItemRows) -> Tensor:
        """Per item: the mean over partials of the last frame's hidden state (an LSTM depth), or of
        the partial embeddings, renormalised (the projection: the utterance embedding)."""
        if state.h.ndim == 3:
            return state.mean_per_item(state.h[:, -1])
        return F.normalize(state.mean_per_item(state.h), dim=-1)

    def scratch_backbone(self) -> GE2ESpeaker:
        """The same three-LSTM encoder, 64 wide (98 k parameters), randomly initialised."""
        return GE2ESpeaker(hidden=64, embedding=64, name=f"{NAME} (small, random init)")

    def preprocessing_config(self) -> dict[str, Any]:
        return {"sample_rate": SAMPLE_RATE, "mels": MELS, "window": WINDOW, "hop": HOP, "partial_frames": PARTIAL_FRAMES,
                "partial_rate": PARTIAL_RATE, "min_coverage": MIN_COVERAGE, "raise_to_dbfs": TARGET_DBFS}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "hidden": self.hidden, "embedding": self.embedding}


@register_backbone(
    NAME,
    family=GE2ESpeaker,
    source=f"package {PACKAGE}=={VERSION} (registry wheel)",
    installed=functools.partial(wheel_cached, PACKAGE, VERSION),
    feature_dim=256,
    num_params=1_423_616,
    description="GE2E speaker encoder (resemblyzer): 3-layer LSTM over 40 mels, 256-d utterance embeddings",
)
def build_ge2e() -> GE2ESpeaker:
    """The pre-trained encoder in eval mode (the package's LSTM layer ``k`` is group ``k``)."""
    weights, digest = wheel_weights(PACKAGE, VERSION, MEMBER)
    state = weights["model_state"]
    backbone = GE2ESpeaker(name=NAME, weights_hash=digest)
    mapped = {f"groups.3.{key}": value for key, value in state.items() if key.startswith("linear.")}
    for key, value in state.items():
        if key.startswith("lstm."):
            weight, layer = key.removeprefix("lstm.").rsplit("_l", 1)
            mapped[f"groups.{layer}.lstm.{weight}_l0"] = value
    backbone.load_state_dict(mapped, strict=True)
    return backbone.eval()
