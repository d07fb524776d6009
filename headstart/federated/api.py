"""``headstart.federate``: one command's federated transfer run, simulated on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from headstart.artifacts import check_writable
from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.data.sources import training_spec
from headstart.errors import HeadstartError
from headstart.federated.partition import column_values, partition
from headstart.federated.server import CHECKPOINT_DIR
from headstart.federated.simulation import simulate
from headstart.fitted import COLUMNS_KEY, Transferred
from headstart.recipe import Recipe
from headstart.zoo import default_backbone

LOCAL_EPOCHS = 1  # per client and round: more lets non-IID clients drift apart
PERSONAL_TEST = 0.25  # share of each client's examples held out to compare its personalised model with the global one
PROBE_HEAD_LR = 1e-2  # the probe's head trains by gradient here (a closed-form fit cannot continue from the global one)


def federate(
    data: Dataset | str | Path,
    *,
    clients: int = 5,
    partition_by: str = "iid",
    rounds: int = 10,
    method: str = "probe",
    backbone: str | None = None,
    strategy: str = "fedavg",
    mu: float = 0.01,
    fraction: float = 1.0,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    personalise: bool = False,
    dp_noise: float | None = None,
    dp_clip: float = 1.0,
    logit_adjust: bool = False,
    global_schedule: bool = False,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    **options: Any,
) -> Transferred:
    """Split ``data`` over ``clients`` (``partition_by``: iid | dirichlet:ALPHA | quantity:ALPHA |
    by:COLUMN), federate ``method`` (probe: the head only; finetune: the last ``unfreeze`` groups;
    lora: the adapters; each with its head) for ``rounds`` rounds of Flower's ``strategy`` (fedavg
    | fedprox with ``mu`` | fedavgm: server momentum), each sampled client training ``epochs`` (default 1) local epochs,
    and return the global model (saved to ``out`` when given, with a checkpoint after every round
    in ``out/federation`` that ``resume=True`` continues from). With ``personalise``, each client
    keeps ``PERSONAL_TEST`` of its examples out of training, fine-tunes the global model on the
    rest afterwards, and ``info["federated"]["personalised"]`` has both accuracies on that split.
    ``dp_noise=z`` adds central differential privacy (Flower's server-side fixed clipping: every
    update clipped to L2 norm ``dp_clip``, Gaussian noise ``z * dp_clip / clients`` on the
    aggregate); ``info["federated"]["privacy"]`` reports the parameters. ``logit_adjust`` has every
    client train with the logit-adjusted loss of its own label prior (classification), so that
    clients with different class mixes fit the same class-balanced model (``SingleTask``);
    ``global_schedule`` makes the recipe's learning-rate schedule span all rounds (each round a
    stretch of it: warm-up in the first, decay to 0 by the last) instead of restarting every round.

    >>> model = federate("bbc_news:train", clients=3, partition_by="dirichlet:0.5", rounds=3)  # doctest: +SKIP
    >>> model.info["federated"]["trainable_share"] < 0.001  # doctest: +SKIP
    True
    """
    if out is not None:
        check_writable(out)  # before any work, not after training
    spec = training_spec(data)
    dataset = spec if isinstance(spec, Dataset) else load_data(spec, text_col=text_col, label_col=label_col)
    require_labels(dataset)
    recipe = run_recipe(method, backbone or default_backbone(dataset.modality), seed, **options)
    groups = column_values(spec, partition_by.removeprefix("by:")) if partition_by.startswith("by:") and not isinstance(spec, Dataset) else None
    parts = partition(dataset, clients, partition_by, seed=seed, groups=groups)
    tests = None
    if personalise:
        if recipe.task != "classification":
            raise HeadstartError("personalise compares accuracies: it needs classification data")
        parts, tests = map(list, zip(*(hold_out(part, PERSONAL_TEST, seed) for part in parts), strict=True))
    checkpoint = None if out is None else Path(out) / CHECKPOINT_DIR
    model = simulate(parts, recipe, rounds=rounds, strategy=strategy, mu=mu, fraction=fraction, checkpoint=checkpoint, resume=resume,
                     tests=tests, progress=progress, dp_noise=dp_noise, dp_clip=dp_clip, logit_adjust=logit_adjust,
                     global_schedule=global_schedule)
    model.info["federated"]["partition"] = partition_by
    model.info[COLUMNS_KEY] = {"text_col": text_col, "label_col": label_col}
    if out is not None:
        model.save(out)
    return model


def run_recipe(method: str, backbone: str, seed: int, **options: Any) -> Recipe:
    """The recipe every client trains with: ``LOCAL_EPOCHS`` per round unless ``epochs`` is given,
    and for the probe (whose head trains by gradient here) ``PROBE_HEAD_LR``."""
    options.setdefault("epochs", LOCAL_EPOCHS)
    if method == "probe":
        options.setdefault("head_lr", PROBE_HEAD_LR)
    return Recipe.build(backbone=backbone, method=method, seed=seed, **options)


def hold_out(part: Dataset, share: float, seed: int) -> tuple[Dataset, Dataset]:
    """A seeded random ``(train, test)`` split of one client's data, ``share`` of it (at least one) for test."""
    if len(part) < 3:
        raise HeadstartError(f"client {part.name} has {len(part)} examples: too few to hold some out for --personalise")
    order = np.random.default_rng(seed).permutation(len(part))
    cut = max(1, round(share * len(part)))
    return part.subset(np.sort(order[cut:]), name=f"{part.name}:train"), part.subset(np.sort(order[:cut]), name=f"{part.name}:test")
