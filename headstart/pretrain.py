"""Source pre-training: headstart's own series encoder (``hs-tcn``) trained on a corpus of series.

``pretrain(corpus, out)`` trains a ``TCNBackbone`` from random weights on random windows of the
corpus (a context of up to ``context`` points, the next ``horizon`` points as target) with the
pinball loss of its nine quantiles, and saves it as a backbone folder that
``load_backbone(out)`` opens; the folder records what it was trained on and how long it took.

A corpus item is a numpy array ``(T,)`` or ``(C, T)`` (each row one series), a forecasting
collection (anything with ``values``, e.g. ``headstart.data.series.SeriesCollection``), a series
classification ``Dataset`` (each input's rows are series: pre-train an encoder on *other* UCR
sets), or a catalogue name or path read by ``headstart.data.series.load_series`` (or, for a
classification set such as ``"gunpoint:train"``, ``headstart.data.load_data``).

It is a plain AdamW loop (a few hundred steps on CPU; Lightning's machinery of checkpoints and
early stopping would outweigh it): each step draws ``batch_size`` windows, a series chosen in
proportion to its length and a cut point uniformly among those leaving at least
``MIN_CONTEXT`` points before it; targets running past a series' end are masked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from headstart.data.dataset import Dataset
from headstart.errors import DataError
from headstart.zoo.tcn import TCNBackbone, TCNConfig, load_tcn, save_tcn

MIN_CONTEXT = 8  # observed points before a window's cut
Progress = Callable[[int, int, float], None]  # (step, steps, running loss)


def pinball_loss(quantiles: torch.Tensor, target: torch.Tensor, levels: Sequence[float]) -> torch.Tensor:
    """Mean quantile loss of ``quantiles`` ``(R, H, Q)`` against ``target`` ``(R, H)`` over its
    finite entries."""
    observed = torch.isfinite(target)
    diff = torch.nan_to_num(target).unsqueeze(-1) - quantiles
    q = torch.tensor(levels, dtype=quantiles.dtype, device=quantiles.device)
    loss = torch.maximum(q * diff, (q - 1) * diff).mean(-1)
    return (loss * observed).sum() / observed.sum().clamp_min(1)


def corpus_rows(corpus: Any) -> tuple[list[np.ndarray], list[str]]:
    """The corpus as 1-D float32 series (rows shorter than ``MIN_CONTEXT + 1`` dropped) and a
    description of each item."""
    items = corpus if isinstance(corpus, (list, tuple)) else [corpus]
    rows: list[np.ndarray] = []
    names: list[str] = []
    for index, item in enumerate(items):
        name, series = _item_series(item, index)
        kept = [r for r in series if np.isfinite(r).sum() > MIN_CONTEXT]
        rows.extend(kept)
        names.append(f"{name} ({len(kept)} series, {sum(len(r) for r in kept)} points)")
    if not rows:
        raise DataError(f"the pre-training corpus has no series longer than {MIN_CONTEXT + 1} points")
    return rows, names


def _item_series(item: Any, index: int) -> tuple[str, list[np.ndarray]]:
    if isinstance(item, (str, Path)):
        item = _read(item)
    if isinstance(item, np.ndarray) or (isinstance(item, list) and item and np.isscalar(item[0])):
        array = np.asarray(item, dtype=np.float32)
        return f"array {index}", list(array.reshape(-1, array.shape[-1]))
    if hasattr(item, "values") and hasattr(item, "ids"):  # a forecasting collection
        return str(item.name), [np.asarray(v, dtype=np.float32) for v in item.values]
    if isinstance(item, Dataset):  # a classification set: every input's rows
        item.require_modality(TCNBackbone.modality)
        rows = [r for x in item.inputs for r in np.atleast_2d(np.asarray(x, dtype=np.float32))]
        return str(item.name), rows
    raise DataError(f"corpus item {index}: expected an array, a series collection, a series dataset or a name, "
                    f"got {type(item).__name__}")


def _read(spec: str | Path) -> Any:
    """A catalogue name or path: a forecasting collection if ``load_series`` reads it, else a
    series classification set."""
    from headstart.data.series import load_series

    try:
        return load_series(spec)
    except DataError as forecasting_error:
        from headstart.data.sources import load_data

        try:
            dataset = load_data(spec)
        except DataError:
            raise forecasting_error from None
        dataset.require_modality(TCNBackbone.modality)
        return dataset


class WindowSampler:
    """Random (context, target) windows of ``rows``; see the module docstring."""

    def __init__(self, rows: list[np.ndarray], context: int, horizon: int, seed: int) -> None:
        self.rows, self.context, self.horizon = rows, context, horizon
        lengths = np.array([len(r) - MIN_CONTEXT for r in rows], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.rng = np.random.default_rng(seed)

    def sample(self, size: int) -> tuple[list[np.ndarray], np.ndarray]:
        contexts, targets = [], np.full((size, self.horizon), np.nan, dtype=np.float64)
        for i, row_index in enumerate(self.rng.choice(len(self.rows), size=size, p=self.weights)):
            row = self.rows[row_index]
            observed_before = np.cumsum(np.isfinite(row))
            first = int(np.searchsorted(observed_before, MIN_CONTEXT)) + 1  # cut leaves MIN_CONTEXT observed points
            cut = int(self.rng.integers(first, len(row)))
            contexts.append(row[max(0, cut - self.context): cut])
            target = row[cut: cut + self.horizon]
            targets[i, : len(target)] = target
        return contexts, targets


def window_loss(backbone: TCNBackbone, contexts: list[np.ndarray], targets: np.ndarray) -> torch.Tensor:
    """The pinball loss of ``backbone``'s own forecast head on windows, in each context's scale."""
    batch = backbone.prepare_inputs(contexts)
    quantiles = backbone.pretrained_head(backbone.forward_features(batch))
    return pinball_loss(quantiles, batch.normalise(torch.from_numpy(targets)), backbone.quantiles)


def pretrain(
    corpus: Any,
    out: str | Path,
    *,
    epochs: int = 5,
    steps_per_epoch: int = 100,
    batch_size: int = 32,
    context: int = 512,
    horizon: int = 48,
    width: int = 64,
    blocks: int = 9,
    lr: float = 1e-3,
    seed: int = 0,
    progress: Progress | None = None,
) -> TCNBackbone:
    """Pre-train an ``hs-tcn`` encoder on ``corpus`` and save it as the backbone folder ``out``.

    >>> net = pretrain([airline, lynx], "my-encoder", epochs=1, steps_per_epoch=20)  # doctest: +SKIP
    >>> load_backbone("my-encoder").forecast([airline[-100:]], 12).shape  # doctest: +SKIP
    (1, 12, 9)
    """
    if min(epochs, steps_per_epoch, batch_size, context, horizon, width, blocks) < 1:
        raise DataError("epochs, steps_per_epoch, batch_size, context, horizon, width and blocks must all be positive")
    rows, described = corpus_rows(corpus)
    torch.manual_seed(seed)
    config = TCNConfig(context=context, width=width, blocks=blocks, horizon=horizon)
    backbone = TCNBackbone(config, name=f"hs-tcn {Path(out).name}").train()
    sampler = WindowSampler(rows, context, horizon, seed)
    steps = epochs * steps_per_epoch
    optimiser = torch.optim.AdamW(backbone.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / max(1, steps // 20)) * 0.5 * (1 + math.cos(math.pi * step / steps)))
    start, running, losses = time.perf_counter(), math.nan, []
    for step in range(steps):
        loss = window_loss(backbone, *sampler.sample(batch_size))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(backbone.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        running = loss.item() if math.isnan(running) else 0.95 * running + 0.05 * loss.item()
        if (step + 1) % steps_per_epoch == 0:
            losses.append(round(running, 5))
        if progress is not None:
            progress(step + 1, steps, running)
    seconds = time.perf_counter() - start
    trained = {
        "corpus": described, "series": len(rows), "points": int(sum(len(r) for r in rows)),
        "objective": "pinball loss of 9 quantiles on random windows", "epochs": epochs, "steps": steps,
        "batch_size": batch_size, "lr": lr, "seed": seed, "seconds": round(seconds, 1),
        "loss_by_epoch": losses, "torch_threads": torch.get_num_threads(), "architecture": asdict(config),
    }
    save_tcn(backbone.eval(), out, trained)
    return load_tcn(out)
