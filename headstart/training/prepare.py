"""The front of every pipeline: the backbone, the input check, the model, the probe warm start.

``fit``, ``adapt`` and ``fit_multitask`` all start here, then train with ``headstart.training.run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from headstart.data.dataset import Dataset
from headstart.features import extract_features
from headstart.methods import Method, get_method
from headstart.methods.probe import fit_linear_head
from headstart.model import TransferModel
from headstart.recipe import Recipe
from headstart.zoo import Backbone, load_backbone

DEFAULT_VAL_FRACTION = 0.2
MIN_PER_CLASS_FOR_VAL = 10  # fewer leaves too few to early-stop on: the run trains for a fixed budget
MIN_UNLABELLED_FOR_VAL = 50  # the same, for data without classes


@dataclass
class Prepared:
    """A run's model (head warm-started, method applied) and method, and when the run started."""

    model: TransferModel
    method: Method
    started: float = field(default_factory=time.perf_counter)

    def seconds(self) -> float:
        """Seconds since the backbone started loading."""
        return time.perf_counter() - self.started


def prepare(
    recipe: Recipe,
    data: Mapping[str, Dataset],
    head: Callable[[Backbone], nn.Module],
    warm_start: Callable[[Prepared, bool], None],
    *,
    trains: bool | None = None,
) -> Prepared:
    """Seed torch with the recipe's seed, load the recipe's backbone, check that it takes every dataset of ``data`` (by name in the
    message), put ``head(backbone)`` on it, warm-start the head and apply the method.

    With a pre-trained method ``warm_start(prepared, keep)`` runs before ``method.prepare``; ``keep``
    says whether the head starts from the linear probe's solution: always when nothing trains
    (``trains``, default ``method.trains``), else when ``recipe.head_init == "probe"`` (LP-FT).
    """
    started = time.perf_counter()
    torch.manual_seed(recipe.seed)  # a random head (or a scratch backbone) depends on the seed alone
    method = get_method(recipe.method)(recipe)
    net = method.backbone_for(load_backbone(recipe.backbone, **recipe.backbone_options))
    for who, dataset in data.items():
        net.check_inputs(dataset, who)
    method.first_trainable(net.num_groups)  # refuses a depth the backbone does not have, before any work
    prepared = Prepared(TransferModel(net, head(net)), method, started)
    if method.pretrained:
        warm_start(prepared, not (method.trains if trains is None else trains) or recipe.head_init == "probe")
    method.prepare(prepared.model)
    return prepared


def probe_head(model: TransferModel, data: Dataset, task: str, out_dim: int, recipe: Recipe, progress: bool) -> nn.Linear:
    """The linear probe on ``data``'s (cached) pre-trained features."""
    features = extract_features(model.backbone, data, bf16=recipe.bf16, progress=progress)
    return fit_linear_head(features, data.labels, task, out_dim, recipe.seed)


def val_fraction(data: Dataset, recipe: Recipe, trains: bool) -> float:
    """The recipe's validation share; by default 0.2 for trained runs when every class has >= 10
    examples (without classes: >= 50 examples), else none (the run trains for a fixed budget)."""
    if recipe.val_fraction is not None:
        return recipe.val_fraction
    counts = data.class_counts()
    enough = min(counts.values()) >= MIN_PER_CLASS_FOR_VAL if counts else len(data) >= MIN_UNLABELLED_FOR_VAL
    return DEFAULT_VAL_FRACTION if trains and enough else 0.0


def trainable_params(method: Method, model: TransferModel) -> int:
    """Parameters the method trains (its optimiser groups)."""
    return sum(p.numel() for g in method.parameter_groups(model) for p in g["params"])
