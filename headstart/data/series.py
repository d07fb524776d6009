"""Collections of time series for forecasting: the ``SeriesCollection`` type and its readers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np


@dataclass
class SeriesCollection:
    """Many univariate series, each a float64 ``(T,)`` array (NaN = missing).

    ``timestamps`` holds a ``datetime64`` array per series, or is ``None`` for integer steps;
    ``freq`` is a pandas alias ("D", "MS", "YS", ...) or ``None``; ``season`` is the seasonal
    period the frequency implies (1 when there is none).
    """

    name: str
    ids: list[str]
    values: list[np.ndarray]
    timestamps: list[np.ndarray] | None = None
    freq: str | None = None
    season: int = 1
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, ids: Sequence[str]) -> SeriesCollection:
        """The series named ``ids``, in that order."""
        pos = {s: i for i, s in enumerate(self.ids)}
        idx = [pos[s] for s in ids]
        stamps = None if self.timestamps is None else [self.timestamps[i] for i in idx]
        return replace(self, ids=list(ids), values=[self.values[i] for i in idx], timestamps=stamps)

    def truncated(self, h: int) -> SeriesCollection:
        """Each series without its last ``h`` points."""
        return self._sliced(slice(0, -h) if h > 0 else slice(None))

    def tail(self, h: int) -> SeriesCollection:
        """The last ``h`` points of each series."""
        return self._sliced(slice(-h, None) if h > 0 else slice(0, 0))

    def _sliced(self, sl: slice) -> SeriesCollection:
        stamps = None if self.timestamps is None else [t[sl] for t in self.timestamps]
        return replace(self, values=[v[sl] for v in self.values], timestamps=stamps)


def load_series(spec: Any, **kw: Any) -> SeriesCollection:
    """A catalogue name, a path or a DataFrame/array as a ``SeriesCollection``."""
    raise NotImplementedError("load_series lands in the next commit")
