"""Measuring transfer from learning curves (Taylor & Stone 2009), return against target steps: the
return after a fraction of the budget, the jump-start (return at step 0, and its gain over
scratch's), the area under the curve (as the mean return over the budget), and the
negative-transfer guard. NumPy only, so that the report reads saved curves without the ``rl`` extra.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from headstart.errors import NegativeTransferWarning

Curve = Sequence[tuple[int, float]]  # (target steps, mean return)


def return_at(curve: Curve, fraction: float) -> float:
    """The mean return measured at (the first point at or after) ``fraction`` of the curve's budget."""
    budget = curve[-1][0]
    return next(r for s, r in curve if s >= fraction * budget - 1e-9)


def area_under_curve(curve: Curve) -> float:
    """The trapezoid area under return-against-steps divided by the budget: the mean return over training
    (a curve of one point, zero-shot's, is its return)."""
    if len(curve) == 1:
        return float(curve[0][1])
    steps, returns = np.array([s for s, _ in curve], float), np.array([r for _, r in curve], float)
    return float(np.trapezoid(returns, steps) / (steps[-1] - steps[0]))


def over_seeds(curves: Sequence[Curve]) -> tuple[list[tuple[int, float]], list[float]]:
    """The mean curve of runs with different seeds and the standard deviation over them at each point
    (the runs are measured at the same steps; a rollout overshooting a checkpoint shifts a point by
    at most one rollout, and the first run's steps are kept)."""
    length = min(len(c) for c in curves)
    returns = np.array([[r for _, r in c[:length]] for c in curves], float)
    steps = [s for s, _ in curves[0][:length]]
    return list(zip(steps, returns.mean(0).tolist())), returns.std(0).tolist()


def summarize(curve: Curve, scratch: Curve | None = None) -> dict[str, float]:
    """Return at step 0 and after 10 %, 30 % and 100 % of the budget, the AUC, and with a
    ``scratch`` curve the jump-start over it (``return_0 - scratch's return_0``)."""
    summary = {"return_0": curve[0][1], **{f"return_{p}": return_at(curve, p / 100) for p in (10, 30, 100)},
               "auc": area_under_curve(curve)}
    if scratch is not None:
        summary["jump_start"] = curve[0][1] - scratch[0][1]
    return summary


def negative_transfer(curves: Mapping[str, Curve], scratch: Curve) -> str | None:
    """A sentence when every source-based curve ends below scratch's final return and has a lower AUC
    (the source hurt within this budget), also issued as a ``NegativeTransferWarning``; else ``None``."""
    final, auc = scratch[-1][1], area_under_curve(scratch)
    if not curves or any(c[-1][1] >= final or area_under_curve(c) >= auc for c in curves.values()):
        return None

    best = max(curves, key=lambda m: curves[m][-1][1])
    message = (f"negative transfer: scratch reached {final:.1f} in {scratch[-1][0]} target steps, the best use of the "
               f"source ({best}) {curves[best][-1][1]:.1f}; train on the target from scratch or shrink the gap")
    warnings.warn(message, NegativeTransferWarning, stacklevel=2)
    return message
