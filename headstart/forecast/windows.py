"""Training windows of series and the rolling-origin back-test split.

A window is ``(context, target)``: at most ``context`` points up to an origin and the ``horizon``
points after it. The back-test holds out the last ``origins`` origins of each series, stepping by
the horizon; training windows end before the first held-out origin, so nothing after an origin
reaches training or scaling (each backbone scales a window from its context alone).

Short series (a yearly series of 15 points) hold out fewer origins: as many as leave
``MIN_CONTEXT`` points before the first, at least one. A series too short for one origin is an error;
so is a collection whose series leave no training window before their first origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from headstart.errors import DataError

MIN_CONTEXT = 8  # points of history before any origin (the baselines' and fracast-0's minimum)


@dataclass(frozen=True)
class Window:
    series: int  # index of the series in its collection
    origin: int  # the context is values[max(0, origin - context):origin], the target values[origin:origin + horizon]
    context: np.ndarray
    target: np.ndarray


def windows(values: Sequence[np.ndarray], context: int, horizon: int, stride: int = 1,
            end: Sequence[int] | None = None, min_context: int = MIN_CONTEXT) -> list[Window]:
    """Every window whose target ends at or before ``end[i]`` (default: the series' length), origins
    stepping back from the last by ``stride``, each with at least ``min_context`` points of context."""
    out = []
    for i, series in enumerate(values):
        stop = len(series) if end is None else end[i]
        for origin in range(stop - horizon, min_context - 1, -stride):
            out.append(Window(i, origin, series[max(0, origin - context):origin], series[origin:origin + horizon]))
    return out


def backtest_origins(length: int, horizon: int, origins: int = 3, min_context: int = MIN_CONTEXT) -> list[int]:
    """The held-out origins of a series of ``length`` points: the last ``origins`` ones, stepping by
    ``horizon``, fewer when the series is short (each leaves ``min_context`` points before it; none
    when not even one does)."""
    fits = max(0, (length - min_context) // horizon) if horizon > 0 else 0
    return [length - horizon * k for k in range(min(origins, fits), 0, -1)]


def backtest_split(values: Sequence[np.ndarray], ids: Sequence[str], context: int, horizon: int,
                   origins: int = 3, stride: int = 1, min_context: int = MIN_CONTEXT) -> tuple[list[Window], list[Window]]:
    """``(train, held_out)``: training windows whose targets end at or before each series' first
    held-out origin, and the held-out windows (context up to each origin, the next ``horizon`` points)."""
    train, held = [], []
    for i, series in enumerate(values):
        starts = backtest_origins(len(series), horizon, origins, min_context)
        if not starts:
            raise DataError(f"series {ids[i]!r}: {len(series)} points are too few for a back-test origin of horizon "
                            f"{horizon} after {min_context} points of context; use a smaller --horizon")
        train += [Window(i, w.origin, w.context, w.target)
                  for w in windows([series], context, horizon, stride, [starts[0]], min_context)]
        held += [Window(i, o, series[max(0, o - context):o], series[o:o + horizon]) for o in starts]
    if not train:
        longest = ids[int(np.argmax([len(v) for v in values]))]
        raise DataError(f"series {longest!r} and the others are too short to train on: no {horizon}-step window with "
                        f"{min_context} points of context ends before the held-out origins; use a smaller --horizon or --origins")
    return train, held
