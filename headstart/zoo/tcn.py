"""``hs-tcn``: headstart's own small series encoder, pre-trained by ``headstart.pretrain``.

A dilated causal CNN over the last ``context`` points (default 512), each input scaled by the
mean absolute value of its observed context (Chronos' scaling; the location stays 0):

- g0 stem: ``[value, observed]`` per step -> ``width`` channels (a linear map);
- g1 … gn: residual blocks, each a causal convolution (kernel 3, dilation 1, 2, 4 …, unshared),
  GELU and a pointwise ``mix``, then LayerNorm; states ``(R, L, width)`` channel-last;
- pool: ``[mean over observed steps, last step]`` (``2 * width``);
- forecast head: one linear map from the pooled features to ``horizon x 9`` quantiles (native
  horizon 48), trained with the encoder by the pinball loss.

A saved encoder is a folder: ``config.json`` (``model_type`` ``"headstart-series"``, the
architecture, what it was trained on and for how long) and ``model.safetensors``, written
atomically by ``headstart.artifacts`` and opened by ``load_backbone(folder)``.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from headstart.errors import BackboneError
from headstart.zoo.own import load_own, save_own
from headstart.zoo.registry import register_loader
from headstart.zoo.series import QUANTILES, SeriesBackbone, SeriesBatch, average_channels, register_scaling

MODEL_TYPE = "headstart-series"
FAMILY = "hs-tcn"


@dataclass(frozen=True)
class TCNConfig:
    context: int = 512
    width: int = 64
    blocks: int = 9  # dilations 1 … 256: a receptive field of 1,023 steps
    kernel: int = 3
    horizon: int = 48

    def dilations(self) -> list[int]:
        return [2**i for i in range(self.blocks)]


@dataclass
class TCNState:
    h: Tensor  # (R, L, width)
    mask: Tensor  # (R, L) bool
    channels: int = 1


class Stem(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.proj = nn.Linear(2, width)

    def forward(self, batch: SeriesBatch) -> TCNState:
        mask = batch.mask.bool()
        x = torch.stack([batch.values, mask.to(batch.values.dtype)], dim=-1)
        return TCNState(self.proj(x), mask, batch.channels)


class CausalBlock(nn.Module):
    """``h + mix(GELU(causal_conv(h)))``, LayerNorm-ed."""

    def __init__(self, width: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(width, width, kernel, dilation=dilation)
        self.mix = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, state: TCNState) -> TCNState:
        y = self.conv(F.pad(state.h.transpose(1, 2), (self.pad, 0))).transpose(1, 2)
        return replace(state, h=self.norm(state.h + self.mix(F.gelu(y))))


class QuantileHead(nn.Module):
    """Pooled features -> ``(R, horizon, Q)``: one linear map, its first ``horizon`` steps."""

    def __init__(self, proj: nn.Linear, steps: int, horizon: int, quantiles: int) -> None:
        super().__init__()
        self.proj, self.steps, self.horizon, self.quantiles = proj, steps, horizon, quantiles

    def forward(self, features: Tensor) -> Tensor:
        return self.proj(features).reshape(-1, self.steps, self.quantiles)[:, : self.horizon]


@register_scaling("mean-abs")
def mean_abs_scaling(tail: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """Location 0, scale the mean absolute observed value (1 for an all-zero context)."""
    scale = float(np.mean(np.abs(tail[observed].astype(np.float64))))
    return 0.0, scale if scale > 0 else 1.0


class TCNBackbone(SeriesBackbone):
    """``hs-tcn``: see the module docstring."""

    scaling_name = "mean-abs"

    lora_targets = ("groups.0.proj", "mix")
    learning_rates = {"finetune": 1e-3, "lora": 1e-3, "scratch": 3e-3}

    def __init__(self, config: TCNConfig = TCNConfig(), name: str = f"{FAMILY} (random init)",
                 weights_hash: str = "random-init") -> None:
        super().__init__()
        self.config, self.name, self.weights_hash = config, name, weights_hash
        self.context_length, self.native_horizon = config.context, config.horizon
        self.feature_dim = 2 * config.width
        self.groups = nn.ModuleList([Stem(config.width)] + [
            CausalBlock(config.width, config.kernel, dilation) for dilation in config.dilations()
        ])
        self.pretrained_head = QuantileHead(nn.Linear(self.feature_dim, config.horizon * len(QUANTILES)),
                                 config.horizon, config.horizon, len(QUANTILES))

    def pool(self, state: TCNState) -> Tensor:
        weight = state.mask.to(state.h.dtype).unsqueeze(-1)
        mean = (state.h * weight).sum(1) / weight.sum(1).clamp_min(1.0)
        return average_channels(torch.cat([mean, state.h[:, -1]], dim=-1), state.channels)

    def forecast_head(self, horizon: int, pretrained: bool) -> nn.Module:
        if pretrained:
            if not 1 <= horizon <= self.native_horizon:
                raise BackboneError(f"{self.name} forecasts 1 to {self.native_horizon} steps ahead, not {horizon}; "
                                    f"give --horizon {self.native_horizon} or less")
            head = copy.deepcopy(self.pretrained_head)
            head.horizon = horizon
            return head
        if horizon < 1:
            raise BackboneError(f"a forecast horizon is at least 1 step, not {horizon}")
        return QuantileHead(nn.Linear(self.feature_dim, horizon * len(QUANTILES)), horizon, horizon, len(QUANTILES))

    def scratch_backbone(self) -> TCNBackbone:
        scratch = TCNBackbone(self.config)
        scratch.source_folder = self.source_folder  # loading rebuilds from this backbone
        return scratch

    def split_state(self, state: TCNState) -> list[Tensor]:
        rows = torch.cat([state.h, state.mask.to(state.h.dtype).unsqueeze(-1)], dim=-1)
        return list(rows.reshape(-1, state.channels, *rows.shape[1:]).unbind(0))

    def merge_states(self, rows: Sequence[Tensor]) -> TCNState:
        stacked = torch.stack(list(rows))
        flat = stacked.flatten(0, 1)
        return TCNState(flat[..., :-1], flat[..., -1] > 0.5, stacked.shape[1])

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "family": FAMILY, "config": asdict(self.config)}


def save_tcn(backbone: TCNBackbone, folder: str | Path, trained: Mapping[str, Any]) -> Path:
    """Write ``backbone`` (groups and forecast head) as a backbone folder; ``trained`` records what
    it was pre-trained on and how long it took."""
    return save_own(backbone, folder, MODEL_TYPE, FAMILY, asdict(backbone.config), trained)


def load_tcn(path: str | Path, **options: Any) -> TCNBackbone:
    """A folder written by ``save_tcn`` (manifest verified first; safetensors only), in eval mode."""
    return load_own(path, FAMILY, lambda arch, name, digest: TCNBackbone(TCNConfig(**arch), name, digest), options)


register_loader(TCNBackbone, load_tcn, model_type=MODEL_TYPE)
