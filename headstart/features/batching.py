"""Run a backbone over many inputs in batches: sorted by length when inputs vary, decoded per batch.

When the backbone measures its inputs (``Backbone.input_lengths``, e.g. tokens of a text) they are
sorted longest first so that each batch is padded only to its own longest input (with n inputs of
lengths l_i, padding to the global maximum costs n·max(l) slots; sorted batches cost about Σ l_i).
Inputs are decoded batch by batch by the backbone, never all at once. Everything runs in eval mode
under ``torch.inference_mode``, and optionally under bf16 autocast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from rich.progress import track
from rich.text import Text  # a backbone name or path is shown as it is: no markup, no emoji

from headstart.errors import HeadstartError
from headstart.zoo.base import Backbone

MIN_BATCHES_FOR_PROGRESS = 3


def plan_batches(num_inputs: int, batch_size: int, lengths: np.ndarray | None = None) -> list[np.ndarray]:
    """Index batches covering every input once: longest first if ``lengths`` are given."""
    order = np.arange(num_inputs) if lengths is None else np.argsort(-lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, num_inputs, batch_size)]


def state_lengths(backbone: Backbone, states: Sequence[Any]) -> np.ndarray | None:
    """Each state's length (its rows: tokens) when the backbone's states vary in length, else ``None``."""
    return np.array([len(s) for s in states]) if backbone.ragged_states else None


def prepare_batch(backbone: Backbone, items: Sequence[Any]) -> Any:
    """The backbone's input batch for raw ``items`` (decoded by the backbone, not augmented)."""
    return backbone.prepare_inputs(items)


@contextmanager
def eval_mode(backbone: Backbone) -> Iterator[None]:
    """Eval mode for the duration; restores the training flag afterwards."""
    was_training = backbone.training
    backbone.eval()
    try:
        yield
    finally:
        backbone.train(was_training)


def run_batches(
    backbone: Backbone,
    inputs: Sequence[Any],
    compute: Callable[[Any], Any],
    *,
    batch_size: int | None,
    bf16: bool,
    progress: bool,
    description: str,
    lengths: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, Any]]:
    """Yield ``(indices, compute(batch))`` over batches of ``inputs``, sorted by length if they vary.

    ``compute`` should return one numpy array per batch (a row per input) or a list of one array
    per input; ``lengths`` are ``backbone.input_lengths(inputs)`` if already known, ``batch_size``
    ``None`` the backbone's ``inference_batch_size``. The whole loop,
    the caller's loop body included, runs in eval mode under ``torch.inference_mode`` (and bf16
    autocast if asked). A batch with NaN or infinite outputs is computed once more; if they remain,
    a ``HeadstartError`` names the backbone and how many inputs.
    """
    if lengths is None:
        lengths = backbone.input_lengths(inputs)
    batches = plan_batches(len(inputs), batch_size or backbone.inference_batch_size, lengths)
    show = progress and len(batches) >= MIN_BATCHES_FOR_PROGRESS
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    with eval_mode(backbone), torch.inference_mode(), autocast:
        for indices in track(batches, description=Text(description), transient=True, disable=not show):
            batch = prepare_batch(backbone, [inputs[i] for i in indices])
            out = compute(batch)
            if nonfinite_inputs(out):
                out = compute(batch)  # once more: a passing fault heals, a broken backbone does not
                if bad := nonfinite_inputs(out):
                    hint = " (with bf16: try without it)" if bf16 else ""
                    raise HeadstartError(
                        f"backbone {backbone.name!r} gives NaN or infinite outputs for {bad} of {len(indices)} "
                        f"inputs in a batch, also when run again{hint}; nothing was cached"
                    )
            yield indices, out


def nonfinite_inputs(out: np.ndarray | Sequence[np.ndarray]) -> int:
    """How many inputs of a batch's output (rows of an array, or one array per input) hold NaN or inf."""
    return sum(not np.isfinite(rows).all() for rows in out)
