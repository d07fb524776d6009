"""The adaptation procedures, one per kind of algorithm, each turning a ``Problem`` into an ``Outcome``.

- alignment (dann, cdan, mmd, coral): train with the alignment loss once per weight (one by
  default, a grid on request), keep the run the selection criterion prefers;
- source_only: the same training without a target batch (the baseline);
- self_training: source training, then rounds of pseudo-labelling and training again, keeping the
  round the criterion prefers (round 0 is the source-only model);
- adabn: source statistics while learning the head (and any trained groups), the target's after.

Target labels never reach a procedure: the target is unlabelled here, except few-shot labels the
user asked for (``Problem.shots``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from headstart.adapt.adabn import (
    reestimate_batchnorm,
    require_batchnorm,
    state_identity,
)
from headstart.adapt.algorithms import (
    AdaptConfig,
    FeatureAlignment,
    build_alignment,
    get_algorithm,
)
from headstart.adapt.objective import (
    Adaptation,
    DomainRows,
    Labelled,
    encode,
    paired_domains,
    selection_subset,
)
from headstart.adapt.selection import selection_score
from headstart.adapt.self_training import round_fractions, select_pseudo_labels
from headstart.data.dataset import Dataset
from headstart.errors import HeadstartError
from headstart.features import extract_features
from headstart.methods.base import Method
from headstart.methods.probe import fit_linear_head
from headstart.model import TransferModel
from headstart.training.run import RunResult, run


@dataclass
class Snapshot:
    """A model seen from both domains: features of a source sample and of the target, and class
    probabilities on the source validation rows and on the target."""

    source_features: np.ndarray
    target_features: np.ndarray
    val_probabilities: np.ndarray
    target_probabilities: np.ndarray


@dataclass
class Problem:
    """One adaptation problem: the model (head already fit on the source when pre-trained), its
    base method, the settings, and the data (the target without labels)."""

    model: TransferModel
    method: Method
    config: AdaptConfig
    source: Dataset
    val: Dataset
    target: Dataset
    source_inputs: Sequence[Any]  # every source input in its original order (AdaBN's source statistics)
    shots: Labelled | None = None
    progress: bool = False
    log_dir: Path | None = None
    resume: bool = False  # continue each training run from its last checkpoint in ``log_dir``, if any
    source_sample: np.ndarray = field(init=False)  # source rows whose features a Snapshot keeps
    _rows: DomainRows | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.target.labels is not None:
            raise HeadstartError("internal: the target reaches adaptation with labels")
        rng = np.random.default_rng(self.seed)
        self.source_sample = np.sort(rng.choice(len(self.source), min(len(self.source), self.config.selection_size), replace=False))

    @property
    def seed(self) -> int:
        return self.method.recipe.seed

    @property
    def num_classes(self) -> int:
        return self.source.num_classes

    @property
    def start(self) -> int:
        """First group run during training; the groups below are frozen and their output cached."""
        return self.method.first_trainable(self.model.backbone.num_groups) if self.method.trains else 0

    def rows(self) -> DomainRows:
        """Training rows of the pre-trained backbone, built once."""
        if self._rows is None:
            self._rows = self.build_rows()
        return self._rows

    def build_rows(self) -> DomainRows:
        """Training rows of the backbone as it is now (states cached under its ``weights_hash``)."""
        return DomainRows.build(
            self.model, self.start, self.source, self.val, self.target, recipe=self.method.recipe,
            progress=self.progress, selection_size=self.config.selection_size,
        )

    def pretrained_features(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled features of the untouched pre-trained backbone on the source, validation and
        target data: from the cached frozen-prefix states when training will use them, else cached
        features (one backbone pass per dataset either way)."""
        if self.start > 0:
            rows = self.rows()
            return tuple(encode(self.model, domain, self.start)[0] for domain in (rows.source, rows.val, rows.target))
        return tuple(self.features(d) for d in (self.source, self.val, self.target))

    def train(
        self, model: TransferModel, rows: DomainRows, tag: str, *, alignment: FeatureAlignment | None = None,
        labelled: Labelled | None = None, budget: float = 1.0,
    ) -> RunResult:
        """Train ``model`` on the source (and ``labelled`` target rows), with ``alignment`` if given, and
        return it at its best epoch by the selection criterion (``RunResult.best``). With ``log_dir``
        the run's logs and checkpoints go to ``log_dir/<tag>/`` (``checkpoints/last.ckpt``, which
        ``resume`` continues from). ``budget``: the share of the epoch count this run gets."""
        recipe = self.method.recipe
        if recipe.augment:
            raise HeadstartError("adaptation runs without augmentation: set augment=False")
        run_dir = self.log_dir / tag if self.log_dir is not None else None
        last = run_dir / "checkpoints" / "last.ckpt" if run_dir is not None else None
        resume = last if self.resume and last is not None and last.exists() else None
        data = partial(paired_domains, rows, labelled, align=alignment is not None, recipe=recipe)  # data(start)
        return run(model, self.method, Adaptation(alignment), data, run_dir=run_dir, resume=resume, progress=self.progress,
                   budget=budget)

    def features(self, data: Dataset) -> np.ndarray:
        """Pooled features, cached under the backbone's ``weights_hash`` (see ``state_identity``)."""
        return extract_features(self.model.backbone, data, bf16=self.method.recipe.bf16, progress=self.progress)

    def fit_head(self, features: np.ndarray, labels: np.ndarray) -> None:
        self.model.head = fit_linear_head(features, labels, "classification", self.num_classes, self.seed)


@dataclass
class Outcome:
    """The adapted model, how it sees both domains, and what the selection criterion decided."""

    model: TransferModel
    snapshot: Snapshot
    selection: dict[str, float]  # the criterion's values for the kept model
    chosen: dict[str, Any] = field(default_factory=dict)  # hyper-parameters chosen by the criterion
    candidates: list[dict[str, Any]] = field(default_factory=list)  # every candidate with its criterion values
    history: list[dict[str, float]] = field(default_factory=list)


def run_procedure(problem: Problem) -> Outcome:
    """Adapt ``problem.model`` with the algorithm ``problem.config.method``: ``align`` for every
    algorithm with an alignment loss, else the algorithm's own procedure."""
    algorithm = get_algorithm(problem.config.method)
    return align(problem) if algorithm.aligns else PROCEDURES[algorithm.name](problem)


def align(problem: Problem) -> Outcome:
    """Train with the alignment loss at every weight asked for; keep the criterion's favourite."""
    config, rows = problem.config, problem.rows()
    runs: list[tuple[float, RunResult]] = []
    for weight in config.weights:
        model = copy.deepcopy(problem.model)
        torch.manual_seed(problem.seed)  # the same discriminator initialisation for every weight
        alignment = build_alignment(config.method, model.backbone.feature_dim, problem.num_classes, weight, problem.seed)
        runs.append((weight, problem.train(model, rows, f"{config.method}-w{weight:g}", alignment=alignment, labelled=problem.shots)))
    weight, best = max(runs, key=lambda wr: wr[1].best["selection_score"])
    candidates = [{"weight": w, **result.best, "epochs_run": result.epochs_run} for w, result in runs]
    return Outcome(best.model, trained_snapshot(problem, best.model, rows), best.best, {"weight": weight}, candidates, best.history)


def source_only(problem: Problem) -> Outcome:
    """No adaptation: the base method on the source (and few-shot target labels, if any)."""
    if not problem.method.trains:
        return _probe_rounds(problem, rounds=[])
    rows = problem.rows()
    result = problem.train(problem.model, rows, "source_only", labelled=problem.shots)
    return Outcome(result.model, trained_snapshot(problem, result.model, rows), result.best, history=result.history)


def self_training(problem: Problem) -> Outcome:
    """Source training, then ``rounds`` of class-balanced pseudo-labelling and training again: each
    round continues from the last, and together they get the epochs of one run (a round at least one)."""
    config = problem.config
    fractions = round_fractions(config.rounds, config.max_fraction)
    if not problem.method.trains:
        return _probe_rounds(problem, fractions)
    model, rows = problem.model, problem.rows()
    result = problem.train(model, rows, "round0", labelled=problem.shots)
    candidates = [{"round": 0, "pseudo_labels": 0, **result.best}]
    history = [{**h, "round": 0} for h in result.history]
    best = (result.best, copy.deepcopy(model.state_dict()), 0)
    for r, fraction in enumerate(fractions, 1):
        _, probabilities = encode(model, rows.target, rows.start)
        labelled = pseudo_labelled(probabilities, config, fraction, problem.shots)
        result = problem.train(model, rows, f"round{r}", labelled=labelled, budget=1 / len(fractions))
        candidates.append({"round": r, "pseudo_labels": len(labelled.indices), **result.best})
        history += [{**h, "round": r} for h in result.history]
        if result.best["selection_score"] > best[0]["selection_score"]:
            best = (result.best, copy.deepcopy(model.state_dict()), r)
    model.load_state_dict(best[1])
    return Outcome(model, trained_snapshot(problem, model, rows), best[0], {"rounds": best[2]}, candidates, history)


def adabn(problem: Problem) -> Outcome:
    """Source BatchNorm statistics while the head (and any trained group) learns, the target's after.

    Statistics are estimated on every source input (training and validation, in their original
    order, so that runs with other seeds reuse them) and on every target input.
    """
    model, backbone = problem.model, problem.model.backbone
    require_batchnorm(backbone)
    reestimate_batchnorm(backbone, problem.source_inputs)
    history: list[dict[str, float]] = []
    if problem.method.trains:
        with state_identity(backbone):
            rows = problem.build_rows()
        history = problem.train(model, rows, "adabn-source").history
        source_features, _ = encode(model, rows.source.subset(problem.source_sample), rows.start)
        _, val_probabilities = encode(model, rows.val, rows.start)
    else:
        with state_identity(backbone):
            source, val = problem.features(problem.source), problem.features(problem.val)
        problem.fit_head(source, problem.source.labels)
        source_features, val_probabilities = source[problem.source_sample], head_probabilities(model, val)
    reestimate_batchnorm(backbone, problem.target.inputs)
    with state_identity(backbone):
        target_features = problem.features(problem.target)
    snapshot = Snapshot(source_features, target_features, val_probabilities, head_probabilities(model, target_features))
    return Outcome(model, snapshot, _criterion(problem, snapshot), history=history)


def pseudo_labelled(probabilities: np.ndarray, config: AdaptConfig, fraction: float, shots: Labelled | None) -> Labelled:
    """Class-balanced pseudo-labels, with the few-shot labels (which win where both exist)."""
    indices, labels = select_pseudo_labels(probabilities, config.threshold, fraction)
    merged = np.full(len(probabilities), -1)
    merged[indices] = labels
    if shots is not None:
        merged[shots.indices] = shots.labels
    chosen = np.flatnonzero(merged >= 0)
    return Labelled(chosen, merged[chosen])


def trained_snapshot(problem: Problem, model: TransferModel, rows: DomainRows) -> Snapshot:
    source_features, _ = encode(model, rows.source.subset(problem.source_sample), rows.start)
    _, val_probabilities = encode(model, rows.val, rows.start)
    target_features, target_probabilities = encode(model, rows.target, rows.start)
    return Snapshot(source_features, target_features, val_probabilities, target_probabilities)


def head_probabilities(model: TransferModel, features: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.head(torch.from_numpy(features)).softmax(-1).numpy()


def _criterion(problem: Problem, snapshot: Snapshot) -> dict[str, float]:
    """The selection criterion of a snapshot, on the target subset training would have used."""
    subset = selection_subset(len(problem.target), problem.config.selection_size, problem.seed)
    return selection_score(snapshot.val_probabilities, problem.val.labels, snapshot.target_probabilities[subset])


def _probe_rounds(problem: Problem, rounds: list[float]) -> Outcome:
    """Linear-probe self-training on cached features: refit the head on the source plus the
    pseudo-labelled target each round (``rounds`` = the labelled shares; empty: source only).
    ``problem.model.head`` is the source probe on entry."""
    model, config, shots = problem.model, problem.config, problem.shots
    source, val, target = (problem.features(d) for d in (problem.source, problem.val, problem.target))
    if shots is not None:  # the head holds the source probe; the few-shot labels join it
        problem.fit_head(np.concatenate([source, target[shots.indices]]), np.concatenate([problem.source.labels, shots.labels]))

    def snapshot() -> Snapshot:
        return Snapshot(source[problem.source_sample], target, head_probabilities(model, val), head_probabilities(model, target))

    current = snapshot()
    best = (_criterion(problem, current), copy.deepcopy(model.head), 0)
    candidates = [{"round": 0, "pseudo_labels": 0, **best[0]}]
    for r, fraction in enumerate(rounds, 1):
        labelled = pseudo_labelled(current.target_probabilities, config, fraction, shots)
        problem.fit_head(np.concatenate([source, target[labelled.indices]]), np.concatenate([problem.source.labels, labelled.labels]))
        current = snapshot()
        criterion = _criterion(problem, current)
        candidates.append({"round": r, "pseudo_labels": len(labelled.indices), **criterion})
        if criterion["selection_score"] > best[0]["selection_score"]:
            best = (criterion, copy.deepcopy(model.head), r)
    model.head = best[1]
    chosen = {"rounds": best[2]} if rounds else {}
    return Outcome(model, snapshot(), best[0], chosen, candidates if rounds else [])


PROCEDURES: dict[str, Callable[[Problem], Outcome]] = {"source_only": source_only, "self_training": self_training, "adabn": adabn}
