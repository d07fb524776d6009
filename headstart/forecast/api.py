"""``fit_forecast``: forecasting as a kind of run over ``headstart.training.prepare`` and ``run``.

Training windows come from each series' points before its first back-test origin (``windows``),
each with the backbone's own context (``context_length``: 2,048 points for fracast-0, what an
hs-tcn was pre-trained with, 512 by default), so training sees the history a forecast reads; a
series shorter than that gives windows of all its points (short yearly series work as long as one
window of ``MIN_CONTEXT`` points and the horizon fits before their held-out origins). The head maps the last group's pooled features to scaled ``(B, H, 9)`` quantiles and trains on
the pinball loss (``Forecasting``). ``zeroshot`` trains nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from headstart.data.dataset import Dataset
from headstart.data.series import SeriesCollection
from headstart.forecast.fitted import Forecaster
from headstart.forecast.objective import Forecasting
from headstart.forecast.windows import MIN_CONTEXT, backtest_split
from headstart.recipe import Recipe
from headstart.training.prepare import prepare

METHODS = {"zeroshot": "probe", "probe": "probe", "finetune": "finetune", "lora": "lora", "scratch": "scratch"}


def fit_forecast(data: SeriesCollection, backbone: str | None = None, method: str = "finetune", *, horizon: int,
                 origins: int = 3, progress: bool = False, **options: Any) -> Forecaster:
    """Train a ``horizon``-step forecaster of ``data`` with ``method`` (zeroshot, probe, finetune, lora,
    scratch; ``auto`` is ``headstart.forecast.auto.fit_auto_forecast``)."""
    if method == "finetune":
        options.setdefault("unfreeze", 1)  # series default: the last group (the decoder of fracast-0)
    recipe = Recipe.build(backbone=backbone or "fracast-0", method=METHODS[method], task="regression", **options)
    pretrained_head = method not in ("probe", "scratch")
    prepared = prepare(recipe, {data.name: data}, lambda net: net.forecast_head(horizon, pretrained=pretrained_head),
                       lambda prepared, keep: None, trains=method != "zeroshot")
    model, chosen = prepared.model, prepared.method
    net = model.backbone
    info: dict[str, Any] = {"horizon": horizon, "origins": origins, "context_length": net.context_length}
    if method != "zeroshot":  # zero-shot needs no training windows: any series with MIN_CONTEXT points forecasts
        from headstart.training.data import RunData, Rows, ShuffledBatches
        from headstart.training.run import run

        train, _ = backtest_split(data.values, data.ids, net.context_length, horizon, origins, stride=max(1, horizon // 2),
                                  min_context=max(MIN_CONTEXT, net.min_observed))
        contexts = [w.context.astype(np.float32) for w in train]
        targets = torch.tensor(np.stack([w.target for w in train]), dtype=torch.float32)
        windows = Dataset(contexts, None, None, "series", "forecast", data.name)
        info["n_windows"] = len(train)
        scaled = model.backbone.prepare_inputs(contexts).normalise(targets)  # each window scaled by its context alone

        def batch(x: Any, idx: list[int]) -> tuple[Any, torch.Tensor]:
            """Raw targets for a series batch (the objective scales them), pre-scaled ones for cached rows."""
            return (x, targets[idx]) if hasattr(x, "normalise") else (x, scaled[idx])

        def rows(start: int) -> RunData:
            items = Rows.of(model, windows, start, recipe, progress)
            return RunData(lambda idx: batch(items.take(idx), idx),
                           lambda rank, world: ShuffledBatches(len(train), recipe.batch_size, recipe.seed, rank, world), [], len(train))

        result = run(model, chosen, Forecasting(), rows, progress=progress)
        info.update(epochs=result.epochs_run, history=result.history)
    model.eval()
    info["train_seconds"] = prepared.seconds()
    return Forecaster(model.backbone, model.head, horizon, method, info)
