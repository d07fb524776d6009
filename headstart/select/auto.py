"""``method="auto"``: choose what to transfer from the scores and the amount of data, then check
that transfer beats the no-transfer baseline and keep whichever model is better.

1. **Backbone**: the candidate whose final features have the highest LogME on the training data
   (all installed backbones of the data's modality unless ``candidates`` are given).
2. **Probe or fine-tune**: fine-tune only when the smallest class has at least
   ``FINETUNE_MIN_PER_CLASS = 256`` examples, twice the largest size measured. In
   ``bench/transferability.py`` (BBC News with MiniLM-L6, MNIST with EfficientNet-Lite0, 8 to 128 examples
   per class), fine-tuning the last two groups beat the probe twice in six (by 0.9 and 3.8 points,
   both at 8 per class), lost by 0.2 to 10.6 points otherwise, and took 15 to 1,000 times as long; the
   probe, a convex fit that cannot over-fit the backbone, is the better bet at those sizes
   (``docs/benchmarks.md``, "Choosing what to transfer").
3. **Depth**: when fine-tuning, ``rank_depths`` suggests how many layer groups to re-train (the
   groups above the deepest depth whose features score as well as the best), at least one.
4. **Guard**: the choice and the modality's baseline (``headstart.baselines``) are trained on the
   same examples and compared on the same held-out examples: the given ``val`` data, else
   stratified k-fold cross-validation for a probe (cheap, and with few examples one split is too
   noisy to decide on: 8 per class leave 2 per class to validate), else one stratified fold held
   out for fine-tuning. Transfer is kept only if its accuracy is higher; otherwise the baseline is
   kept, with a ``NegativeTransferWarning``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold

from headstart.data.dataset import Dataset
from headstart.data.sources import load_data
from headstart.errors import HeadstartError, NegativeTransferWarning
from headstart.fitted import FittedModel, Transferred
from headstart.select.baseline_model import BaselineModel, fit_baseline_model
from headstart.select.series_baseline import SeriesBaselineModel
from headstart.select.rank import (
    DEFAULT_SCORES,
    RankTable,
    candidate_backbones,
    labelled_data,
    rank_backbones,
    rank_depths,
)
from headstart.transfer import transfer

FINETUNE_MIN_PER_CLASS = 256
MAX_FOLDS = 5
MIN_PER_CLASS = 3  # k-fold needs 2 per class in each training part for the baseline's own CV
CHOOSING_SCORE = DEFAULT_SCORES[0]  # LogME: rank_backbones orders candidates by it
SCORE_LABEL = "LogME"  # how tables name CHOOSING_SCORE


@dataclass(frozen=True)
class Plan:
    """What to transfer, and why."""

    backbone: str
    method: str  # "probe" | "finetune"
    unfreeze: int
    reason: str

    def recipe_options(self) -> dict[str, Any]:
        extra = {"unfreeze": self.unfreeze} if self.method == "finetune" else {}
        return {"backbone": self.backbone, "method": self.method, **extra}

    def describe(self) -> str:
        if self.method == "finetune":
            return f"fine-tuning the last {self.unfreeze} layer group(s) of {self.backbone}"
        return f"a probe on {self.backbone}"


@dataclass(frozen=True)
class Comparison:
    """Accuracy of the transferred model and of the baseline on the same held-out examples."""

    transfer: float
    baseline: float
    protocol: str  # how the held-out examples were chosen
    n_validated: int

    @property
    def transfer_wins(self) -> bool:
        return self.transfer > self.baseline


def fit_auto(
    data: Dataset | str | Path,
    *,
    candidates: Sequence[str] | None = None,
    val: Dataset | str | Path | None = None,
    shots: int | None = None,
    out: str | Path | None = None,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    **options: Any,
) -> FittedModel:
    """Choose, train and guard a transfer (see the module docstring); return the better model.

    ``options`` are ``Recipe`` fields passed to the transfer runs (``seed``, ``epochs``, ``bf16`` …);
    auto chooses ``backbone``, ``method`` and ``unfreeze`` itself. The returned model's
    ``info["decision"]`` says in one sentence what was chosen and why, ``info["auto"]`` holds the
    scores, the plan and the validation accuracies.

    >>> fit_auto("bbc_news:train", shots=8).info["decision"]  # doctest: +SKIP
    'Transfer helps: a probe on minilm-l6 ...'
    """
    chosen_by_user = sorted({"backbone", "method", "unfreeze"} & set(options))
    if chosen_by_user:
        raise HeadstartError(f"method 'auto' chooses {', '.join(chosen_by_user)} itself; pick a method to set them")
    seed = int(options.get("seed", 0))
    train = labelled_data(data, shots, seed, text_col, label_col)
    if train.task != "classification":
        raise HeadstartError(f"{train.name}: method 'auto' handles classification, not {train.task}; choose a method")
    say = _stage_printer(progress)
    val_data = _validation_data(val, train, text_col, label_col)
    splits = validation_splits(train, val_data, seed)
    names = list(candidates or candidate_backbones(train.modality, train))
    say(f"auto: scoring {len(names)} backbone(s) on {len(train)} examples ({', '.join(names)})")
    ranking = rank_backbones(train, names, seed=seed, progress=progress)
    plan = plan_transfer(train, ranking, seed=seed, progress=progress)
    if plan.method == "finetune":
        splits = splits[:1]  # one fine-tuning run is the budget
    protocol = "validation on the given data" if val_data is not None else (
        f"{len(splits)}-fold cross-validation" if len(splits) > 1 else "validation on a held-out stratified fold")
    say(f"auto: comparing {plan.describe()} with the no-transfer baseline by {protocol}")
    transferred, baseline, comparison = _compare(plan, splits, protocol, seed, out, progress, options, say)

    keep: FittedModel
    if len(splits) > 1:  # cross-validated: refit the winner on every training example
        say(f"auto: refitting the {'transfer' if comparison.transfer_wins else 'baseline'} on all {len(train)} examples")
        keep = (transfer(train, **plan.recipe_options(), out=out, progress=progress, **options) if comparison.transfer_wins
                else fit_baseline_model(train, seed))
    else:
        keep = transferred if comparison.transfer_wins else baseline
    decision = decision_sentence(plan, ranking, comparison, baseline.name)
    keep.info.update(
        decision=decision, shots=shots,
        auto={"ranking": ranking.to_rows(), "plan": plan.recipe_options() | {"reason": plan.reason},
              "validation": asdict(comparison) | {"winner": "transfer" if comparison.transfer_wins else "baseline",
                                                  "baseline_name": baseline.name}},
    )
    if not comparison.transfer_wins:
        warnings.warn(decision, NegativeTransferWarning, stacklevel=2)
    return keep


def plan_transfer(
    train: Dataset, ranking: RankTable, *, finetune_from: int = FINETUNE_MIN_PER_CLASS, seed: int = 0, progress: bool = False
) -> Plan:
    """The backbone (best first score), probe or fine-tune (``finetune_from`` examples per class
    or more) and the depth."""
    best = ranking.best
    per_class = min(train.class_counts().values())
    if per_class < finetune_from:
        reason = f"{per_class} examples per class, fewer than the {finetune_from} it takes to fine-tune"
        return Plan(best.backbone, "probe", 0, reason)
    depths = rank_depths(train, best.backbone, seed=seed, progress=progress)
    unfreeze = max(1, depths.suggested_unfreeze or 0)
    return Plan(best.backbone, "finetune", unfreeze, f"{per_class} examples per class are enough to fine-tune; {depths.reason}")


def validation_splits(train: Dataset, val: Dataset | None, seed: int) -> list[tuple[Dataset, Dataset]]:
    """``[(train, val)]`` for given validation data, else the stratified k-fold splits of ``train``."""
    if val is not None:
        return [(train, val)]
    smallest = min(train.class_counts().values())
    if smallest < MIN_PER_CLASS:
        raise HeadstartError(
            f"{train.name}: method 'auto' needs {MIN_PER_CLASS} examples per class to validate on "
            f"(the smallest class has {smallest}), or validation data (val=...)"
        )
    folds = StratifiedKFold(min(MAX_FOLDS, smallest), shuffle=True, random_state=seed)
    return [(train.subset(fit_idx), train.subset(val_idx)) for fit_idx, val_idx in folds.split(np.zeros(len(train)), train.labels)]


def decision_sentence(plan: Plan, ranking: RankTable, comparison: Comparison, baseline_name: str) -> str:
    """One readable sentence: the scores, the choice, the validation result and what was kept."""
    best = ranking.best
    score = f"{CHOOSING_SCORE} {best.scores[CHOOSING_SCORE]:.3f}"
    scored = f"best {score} of {len(ranking.candidates)} backbones" if len(ranking.candidates) > 1 else score
    accuracies = (f"{comparison.transfer:.1%} accuracy against {comparison.baseline:.1%} for {baseline_name} "
                  f"in {comparison.protocol} on {comparison.n_validated} examples")
    if comparison.transfer_wins:
        return f"Transfer helps: {plan.describe()} ({scored}; {plan.reason}) reaches {accuracies}, so it is kept."
    return (f"Negative transfer: {plan.describe()} ({scored}; {plan.reason}) reaches only {accuracies}, "
            f"so the baseline is kept.")


def explanation_rows(info: dict[str, Any]) -> list[dict[str, str]]:
    """``auto``'s reasoning as table rows, from a model's ``info``: one row per scored backbone
    (its ``CHOOSING_SCORE``; the chosen one with its validated accuracy) and one for the baseline;
    ``kept`` marks the model returned. Every value is a display string."""
    auto = info["auto"]
    plan, validation = auto["plan"], auto["validation"]
    transfer_kept = validation["winner"] == "transfer"
    rows = []
    for row in auto["ranking"]:
        chosen = row["backbone"] == plan["backbone"]
        rows.append({
            "method": plan["method"] if chosen else "not tried", "backbone": row["backbone"],
            SCORE_LABEL: f"{row[CHOOSING_SCORE]:.3f}", "validated": f"{validation['transfer']:.1%}" if chosen else "",
            "kept": "yes" if chosen and transfer_kept else "",
        })
    rows.append({"method": validation["baseline_name"], "backbone": "none", SCORE_LABEL: "", "validated": f"{validation['baseline']:.1%}",
                 "kept": "" if transfer_kept else "yes"})
    return rows


def explanation_caption(info: dict[str, Any]) -> str:
    """How the rows of ``explanation_rows`` were measured, and why the plan was chosen."""
    auto = info["auto"]
    validation = auto["validation"]
    return (f"{SCORE_LABEL} on the training data (higher is better); validated: accuracy by {validation['protocol']} "
            f"on {validation['n_validated']} examples; {auto['plan']['method']} because {auto['plan']['reason']}")


def _stage_printer(progress: bool) -> Callable[[str], None]:
    """Where auto says which stage it is in: standard error, when progress is shown."""
    if not progress:
        return lambda line: None
    from rich.console import Console

    console = Console(stderr=True, markup=False, highlight=False, emoji=False)
    return lambda line: console.print(line)


def _compare(
    plan: Plan, splits: list[tuple[Dataset, Dataset]], protocol: str, seed: int,
    out: str | Path | None, progress: bool, options: dict[str, Any], say: Callable[[str], None],
) -> tuple[Transferred, BaselineModel | SeriesBaselineModel, Comparison]:
    """Train both models on each split's training part; pool their accuracy over the held-out parts."""
    correct = np.zeros(2)
    for fold, (fit_part, held_out) in enumerate(splits, 1):
        say(f"auto: split {fold}/{len(splits)}: {plan.method} and baseline on {len(fit_part)} examples, validated on {len(held_out)}")
        transferred = transfer(fit_part, **plan.recipe_options(), out=out, progress=progress, **options)
        baseline = fit_baseline_model(fit_part, seed)
        for i, model in enumerate((transferred, baseline)):
            correct[i] += model.evaluate(held_out)["accuracy"] * len(held_out)
    n = sum(len(held_out) for _, held_out in splits)
    return transferred, baseline, Comparison(correct[0] / n, correct[1] / n, protocol, n)


def _validation_data(val: Dataset | str | Path | None, train: Dataset, text_col: str, label_col: str) -> Dataset | None:
    if val is None:
        return None
    dataset = val if isinstance(val, Dataset) else load_data(val, text_col=text_col, label_col=label_col)
    if dataset.classes != train.classes:
        raise HeadstartError(f"{dataset.name}: its classes {dataset.classes} differ from the training data's {train.classes}")
    return dataset
