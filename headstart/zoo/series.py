"""What every series backbone shares: float arrays as inputs, scaled context windows, quantile heads.

A raw series item is a float array ``(T,)`` (univariate) or ``(C, T)`` (multivariate, C channels);
``NaN`` marks a missing point. ``prepare_inputs`` keeps the last ``context_length`` points of each
row, scales them the family's way (``scaling_name``) and left-pads to ``context_length``::

    batch = backbone.prepare_inputs(windows)            # SeriesBatch, values in scaled space
    q = backbone.forecast_head(h, pretrained=True)(backbone.forward_features(batch))  # (B, h, Q)
    batch.denormalise(q)                                # back in the series' units

Multivariate inputs are encoded channel by channel (the rows of one item are consecutive rows of
the batch, ``batch.channels`` per item) and the pooled features of an item are the **average** of
its channels' features, so a classifier sees ``(items, feature_dim)`` whatever C is.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from headstart.errors import DataError
from headstart.zoo.base import Backbone, NamedFunctions

QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
Scaling = Callable[[np.ndarray, np.ndarray], tuple[float, float]]
SCALINGS = NamedFunctions[Scaling]("series scaling")  # (context tail, observed) -> (loc, scale): a family's ``scaling_name``
register_scaling = SCALINGS.register  # an exported ``series`` spec names it too
series_scaling = SCALINGS.get


@dataclass
class SeriesBatch:
    """Scaled context windows: ``values`` (rows, L) float32 with 0 where missing, ``mask`` (rows, L)
    observed, ``loc``/``scale`` (rows, 1) float64 so that ``raw = values * scale + loc``; rows are
    ``channels`` consecutive rows per item."""

    values: Tensor
    mask: Tensor
    loc: Tensor
    scale: Tensor
    channels: int = 1

    def to(self, device: torch.device | str) -> SeriesBatch:
        return replace(self, values=self.values.to(device), mask=self.mask.to(device),
                       loc=self.loc.to(device), scale=self.scale.to(device))

    def __len__(self) -> int:
        return self.values.shape[0] // self.channels

    def normalise(self, y: Tensor) -> Tensor:
        """Targets ``(rows, H)`` in the context's scaled space, in the dtype of ``values``."""
        return ((y.to(self.loc.dtype) - self.loc.to(y.device)) / self.scale.to(y.device)).to(self.values.dtype)

    def denormalise(self, q: Tensor) -> Tensor:
        """Scaled quantiles ``(rows, H, Q)`` back in the series' units (float64)."""
        return q.to(self.loc.dtype) * self.scale.to(q.device)[:, :, None] + self.loc.to(q.device)[:, :, None]


def average_channels(features: Tensor, channels: int) -> Tensor:
    """Per-row features ``(items * channels, D)`` averaged over each item's channels."""
    if channels == 1:
        return features
    return features.reshape(-1, channels, features.shape[-1]).mean(dim=1)


def as_rows(items: Sequence[Any]) -> tuple[list[np.ndarray], int]:
    """Items ``(T,)`` or ``(C, T)`` as 1-D float32 rows and the channel count shared by all items."""
    if len(items) == 0:
        raise DataError("no series to preprocess")
    rows: list[np.ndarray] = []
    channels: int | None = None
    for index, item in enumerate(items):
        array = np.asarray(item, dtype=np.float32)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] == 0:
            raise DataError(f"series {index}: expected a (T,) or (C, T) array of numbers, got shape {array.shape}")
        if channels is None:
            channels = array.shape[0]
        elif array.shape[0] != channels:
            raise DataError(f"series {index} has {array.shape[0]} channels and series 0 has {channels}; "
                            "all series of one set need the same channels")
        rows.extend(array)
    return rows, int(channels or 1)


def context_windows(raw: Sequence[Any], length: int, scaling: Scaling, min_observed: int,
                    who: str) -> tuple[dict[str, np.ndarray], int]:
    """Each row's last ``length`` points scaled by ``scaling``, left-padded (unobserved): ``values``
    (rows, L) float32, ``mask`` (rows, L), ``loc`` and ``scale`` (rows, 1) float64; and the channels."""
    rows, channels = as_rows(raw)
    values = np.zeros((len(rows), length), dtype=np.float32)
    mask = np.zeros((len(rows), length), dtype=bool)
    loc = np.zeros((len(rows), 1), dtype=np.float64)
    scale = np.ones((len(rows), 1), dtype=np.float64)
    for i, row in enumerate(rows):
        tail = row[-length:]
        observed = np.isfinite(tail)
        if int(observed.sum()) < min_observed:
            raise DataError(f"series {i // channels}: {who} needs at least {min_observed} "
                            f"observed points in its last {length}, got {int(observed.sum())}")
        loc[i, 0], scale[i, 0] = scaling(tail, observed)
        values[i, length - len(tail):] = np.where(observed, (tail - loc[i]) / scale[i], np.float32(0.0)).astype(np.float32)
        mask[i, length - len(tail):] = observed
    return {"values": values, "mask": mask, "loc": loc, "scale": scale}, channels


class SeriesBackbone(Backbone):
    """A backbone over numeric series whose first group takes a ``SeriesBatch``.

    A family sets ``context_length``, ``native_horizon`` (its pre-trained head's horizon, or
    ``None``) and ``scaling_name`` (its registered context scaling, which an exported ``series``
    spec names too) and implements ``forecast_head`` and the base's ``pool``.
    """

    modality = "series"
    baseline = "minirocket"  # classification; forecasting is judged against headstart.forecast.baselines
    quantiles: ClassVar[tuple[float, ...]] = QUANTILES
    min_observed: ClassVar[int] = 2  # observed points a context window needs
    context_length: int
    native_horizon: int | None = None
    scaling_name: ClassVar[str]  # the ``SCALINGS`` entry that scales its context windows

    @classmethod
    def as_inputs(cls, items: Iterable[Any]) -> list[Any]:
        """Arrays and lists of numbers as float arrays (float64 kept, anything else float32)."""
        out = []
        for index, item in enumerate(items):
            array = np.asarray(item)
            if array.dtype.kind not in "fiub":
                raise DataError(f"series {index}: expected numbers, got {array.dtype} values")
            out.append(array if array.dtype.kind == "f" else array.astype(np.float32))
        return out

    @classmethod
    def is_single_input(cls, value: Any) -> bool:
        """One series: a 1-D array (a 2-D array is a batch of univariate series)."""
        return isinstance(value, np.ndarray) and value.ndim == 1

    @classmethod
    def preview(cls, item: Any) -> str:
        array = np.asarray(item, dtype=np.float64)
        shape = "x".join(map(str, array.shape))
        if not np.isfinite(array).any():
            return f"series [{shape}], no observed values"
        return f"series [{shape}] {np.nanmin(array):.4g} … {np.nanmax(array):.4g}, last {array.reshape(-1)[-1]:.4g}"

    def preprocess(self, raw: Sequence[Any]) -> SeriesBatch:
        """Each row's last ``context_length`` points scaled by its scaling, left-padded (unobserved)."""
        arrays, channels = context_windows(raw, self.context_length, series_scaling(self.scaling_name),
                                           self.min_observed, self.name)
        return SeriesBatch(*(torch.from_numpy(arrays[k]) for k in ("values", "mask", "loc", "scale")), channels)

    def graph_inputs(self, batch: SeriesBatch) -> dict[str, Tensor]:
        """``values`` and ``mask`` as ``(items, channels, L)`` (the channels are fixed by the trace)."""
        shape = (len(batch), batch.channels, self.context_length)
        return {"values": batch.values.reshape(shape), "mask": batch.mask.reshape(shape)}

    def graph_batch(self, inputs: Mapping[str, Tensor]) -> SeriesBatch:
        """The batch of ``graph_inputs`` (``loc`` 0, ``scale`` 1: features never read them)."""
        values, mask = inputs["values"], inputs["mask"]
        rows = values.flatten(0, 1)
        return SeriesBatch(rows, mask.flatten(0, 1), torch.zeros_like(rows[:, :1]), torch.ones_like(rows[:, :1]),
                           values.shape[1])

    def export_preprocessing(self, folder: Path) -> dict[str, Any]:
        return {"kind": "series", "context_length": self.context_length, "scaling": self.scaling_name,
                "min_observed": self.min_observed, "name": self.name}

    @abstractmethod
    def forecast_head(self, horizon: int, pretrained: bool) -> nn.Module:
        """A module mapping ``forward_features`` (the last group's pooled output) to scaled
        quantiles ``(rows, horizon, len(quantiles))``: the pre-trained head sliced to ``horizon``
        (``pretrained=True``; ``BackboneError`` beyond ``native_horizon``) or a new one."""

    @torch.no_grad()
    def forecast(self, contexts: Sequence[Any], horizon: int) -> np.ndarray:
        """Zero-shot quantiles ``(len(contexts), horizon, Q)`` in the series' units, univariate
        contexts only; the pre-trained head, in eval mode."""
        head = self.forecast_head(horizon, pretrained=True)
        batch = self.prepare_inputs(contexts)
        if batch.channels != 1:
            raise DataError("forecasting takes univariate series: give each channel as its own series")
        was_training = self.training
        self.eval()
        try:
            quantiles = head(self.forward_features(batch))
        finally:
            self.train(was_training)
        return batch.denormalise(quantiles).numpy()

    def preprocessing_config(self) -> dict[str, Any]:
        # the scaling as cache keys and artifacts have always named it (``TCNBackbone.scaling``)
        return {"context_length": self.context_length, "scaling": f"{type(self).__name__}.scaling"}
