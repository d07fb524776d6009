"""Rank backbones, or the layer groups of one backbone, by transferability scores.

Every candidate's features come from the on-disk feature cache (extracted once, then read back in
milliseconds), so a ranking costs one forward pass per new input and a few linear-algebra calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.special import softmax
from threadpoolctl import threadpool_limits

from headstart.data import load_data, require_labels
from headstart.data.dataset import Dataset
from headstart.data.splits import sample_shots
from headstart.errors import HeadstartError, did_you_mean
from headstart.features import (
    extract_features,
    extract_features_at_depths,
    extract_source_logits,
)
from headstart.select import SCORES, logme
from headstart.zoo import Backbone, list_backbones, load_backbone

DEFAULT_SCORES = ("logme", "hscore_shrinkage", "nce", "leep")
DEPTH_SCORES = ("logme", "hscore_shrinkage")
# A depth "scores as well as the best" when it is within this share of the spread of the scores
# over all depths (the primary score's units differ between scores and datasets; the spread does not).
AS_GOOD_SHARE = 0.1

DataSpec = Dataset | str | Path


@dataclass
class Candidate:
    """One ranked candidate: a backbone's pooled features at one layer group, and their scores.

    ``scores[name]`` is ``None`` where the score does not apply (NCE and LEEP need a source
    classifier). ``seconds`` is the time spent on this candidate: its scores, plus its feature
    extraction unless that was shared with other candidates (``RankTable.seconds`` has the total).
    """

    backbone: str
    depth: int
    feature_dim: int
    scores: dict[str, float | None]
    seconds: float


@dataclass
class RankTable:
    """Candidates ordered best first by the first score; ``suggested_unfreeze`` for depth tables."""

    candidates: list[Candidate]
    score_names: tuple[str, ...]
    n_examples: int
    seconds: float
    suggested_unfreeze: int | None = None
    reason: str = ""
    ranks: dict[str, list[int | None]] = field(init=False)

    def __post_init__(self) -> None:
        primary = self.score_names[0]
        self.candidates.sort(key=lambda c: _sort_key(c.scores[primary]))
        self.ranks = {name: _ranks([c.scores[name] for c in self.candidates]) for name in self.score_names}

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def to_rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per candidate: identity, each score and its rank (1 = best), seconds."""
        rows = []
        for i, c in enumerate(self.candidates):
            row: dict[str, Any] = {"backbone": c.backbone, "depth": c.depth, "feature_dim": c.feature_dim}
            for name in self.score_names:
                row[name] = c.scores[name]
                row[f"{name}_rank"] = self.ranks[name][i]
            row["seconds"] = round(c.seconds, 3)
            rows.append(row)
        return rows


def rank_backbones(
    data: DataSpec,
    backbones: Sequence[str | Backbone],
    *,
    scores: Sequence[str] = DEFAULT_SCORES,
    shots: int | None = None,
    seed: int = 0,
    bf16: bool = False,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
) -> RankTable:
    """Score each backbone's final features (and its source classifier's predictions) on ``data``.

    ``shots=K`` scores K examples per class (drawn with ``seed``). Rows are ordered by the first
    score; each score also gets its own ranks.

    >>> rank_backbones("bbc_news:train", ["minilm-l6"], shots=8).best.backbone  # doctest: +SKIP
    'minilm-l6'
    """
    dataset = labelled_data(data, shots, seed, text_col, label_col)
    names = _check_scores(scores)
    if not backbones:
        raise HeadstartError("rank_backbones needs at least one backbone")
    started = time.perf_counter()
    candidates = []
    for spec in backbones:
        net = spec if isinstance(spec, Backbone) else load_backbone(spec)
        begun = time.perf_counter()
        features = extract_features(net, dataset, bf16=bf16, progress=progress)
        probs = _source_probs(net, dataset, names, bf16, progress)
        values = score_all(names, dataset, features, probs)
        candidates.append(Candidate(net.name, net.num_groups - 1, features.shape[1], values, time.perf_counter() - begun))
    return RankTable(candidates, names, len(dataset), time.perf_counter() - started)


def rank_depths(
    data: DataSpec,
    backbone: str | Backbone,
    *,
    scores: Sequence[str] = DEPTH_SCORES,
    shots: int | None = None,
    seed: int = 0,
    bf16: bool = False,
    progress: bool = False,
    text_col: str = "text",
    label_col: str = "label",
) -> RankTable:
    """Score the pooled output of every layer group of one backbone; suggest how many to unfreeze.

    Rule (with ``s_d`` the first score at depth ``d`` of ``L`` groups): the depths that score as
    well as the best are those with ``s_d >= max s - 0.1 (max s - min s)``; let ``d*`` be the
    deepest of them. The groups above ``d*`` make the features fit this task worse, so they are
    the ones to re-train: ``suggested_unfreeze = L - 1 - d*``. When the last group is among the
    best, that is 0 and a probe on the final features needs no fine-tuning; the further down the
    features peak, the more of the source-specific top has to be trained (Yosinski et al., 2014:
    higher layers are the more specific to the source task).
    All depths come from one pass through the backbone. Source-classifier scores (NCE, LEEP)
    apply to the last depth only. Measured in ``docs/benchmarks.md`` ("Choosing what to
    transfer"): informative across EfficientNet depths (Kendall tau 0.85 to 0.89 with probe
    accuracy), not across MiniLM-L6's, whose depths differ by less than test-set noise.
    """
    dataset = labelled_data(data, shots, seed, text_col, label_col)
    names = _check_scores(scores)
    net = backbone if isinstance(backbone, Backbone) else load_backbone(backbone)
    started = time.perf_counter()
    by_depth = extract_features_at_depths(net, dataset, bf16=bf16, progress=progress)
    probs = _source_probs(net, dataset, names, bf16, progress)
    last = net.num_groups - 1
    candidates = []
    for depth, features in by_depth.items():
        begun = time.perf_counter()
        values = score_all(names, dataset, features, probs if depth == last else None)
        candidates.append(Candidate(net.name, depth, features.shape[1], values, time.perf_counter() - begun))
    unfreeze, reason = suggest_unfreeze({c.depth: c.scores[names[0]] for c in candidates}, names[0])
    return RankTable(candidates, names, len(dataset), time.perf_counter() - started, unfreeze, reason)


def suggest_unfreeze(score_by_depth: dict[int, float | None], score_name: str) -> tuple[int, str]:
    """Groups to re-train, ``L - 1 - d*``, and why, by the rule in ``rank_depths``."""
    scored = {d: s for d, s in score_by_depth.items() if s is not None}
    if not scored:
        raise HeadstartError(f"{score_name} applies to no depth; rank depths by a feature score such as logme")
    best, worst = max(scored.values()), min(scored.values())
    as_good = [d for d, s in scored.items() if s >= best - AS_GOOD_SHARE * (best - worst)]
    deepest, last = max(as_good), max(score_by_depth)
    unfreeze = last - deepest
    peak = max(scored, key=scored.__getitem__)
    if unfreeze == 0:
        return 0, f"the last layer group's features score as well as any ({score_name}), so a probe on them suffices"
    return unfreeze, (
        f"{score_name} peaks at layer group {peak} and falls off after group {deepest}, "
        f"so the {unfreeze} group(s) above it should be re-trained"
    )


def score_all(
    names: Sequence[str], dataset: Dataset, features: np.ndarray, source_probs: np.ndarray | None
) -> dict[str, float | None]:
    """Each named score of ``dataset``'s labels, ``None`` where it does not apply.

    Classification uses every score; for regression targets only LogME applies. BLAS runs on one
    thread: these are small factorisations, and on a busy machine extra threads slow them down
    many times over (measured: LogME of 40 x 384 features 0.7 s on two threads, 0.014 s on one).
    """
    values: dict[str, float | None] = {}
    with threadpool_limits(1):
        for name in names:
            if dataset.task == "regression":
                values[name] = logme(features, dataset.labels, regression=True) if name == "logme" else None
            elif SCORES[name].needs == "features":
                values[name] = SCORES[name].function(features, dataset.labels)
            else:
                values[name] = None if source_probs is None else SCORES[name].function(source_probs, dataset.labels)
    return values


def labelled_data(data: DataSpec, shots: int | None, seed: int, text_col: str, label_col: str) -> Dataset:
    """``data`` as a labelled classification or regression ``Dataset``, cut to ``shots`` per class."""
    dataset = data if isinstance(data, Dataset) else load_data(data, text_col=text_col, label_col=label_col)
    require_labels(dataset)
    if dataset.task == "multilabel":
        raise HeadstartError(f"{dataset.name}: transferability scores need class labels or regression targets, not multilabel")
    return sample_shots(dataset, shots, seed) if shots else dataset


def candidate_backbones(modality: str, data: Dataset | None = None) -> list[str]:
    """Registered backbones of ``modality`` whose weights are on this machine (and, given ``data``,
    that read its inputs: a waveform backbone does not read feature frames); when none is, those whose
    weights are fetched from the registry at first use."""
    readable = [e for e in list_backbones(modality) if data is None or e.family.reads(data)]
    names = [e.name for e in readable if e.installed()] or [e.name for e in readable]
    if not names:
        raise HeadstartError(f"no registered {modality} backbone reads {data.name if data else 'this data'}; see "
                             "`headstart backbones`, or pre-train one (headstart pretrain DATA --out DIR, then --backbone DIR)")
    return names


def _source_probs(net: Backbone, dataset: Dataset, names: Sequence[str], bf16: bool, progress: bool) -> np.ndarray | None:
    """The source classifier's softmax on ``dataset`` (cached logits), if a requested score needs it."""
    wanted = any(SCORES[n].needs == "source_probs" for n in names)
    if not (wanted and net.has_source_head and dataset.task == "classification"):
        return None
    logits = extract_source_logits(net, dataset, bf16=bf16, progress=progress)
    return softmax(logits.astype(np.float64), axis=1)


def _check_scores(scores: Sequence[str]) -> tuple[str, ...]:
    names = tuple(scores)
    unknown = [n for n in names if n not in SCORES]
    if unknown or not names:
        what = (f"unknown transferability score {unknown[0]!r}{did_you_mean(unknown[0], SCORES)}" if unknown
                else "no transferability score given")
        raise HeadstartError(f"{what}; choose from {', '.join(SCORES)}")
    return names


def _sort_key(value: float | None) -> tuple[bool, float]:
    """Best first; candidates where the score does not apply go last."""
    return (value is None, -(value or 0.0))


def _ranks(values: Sequence[float | None]) -> list[int | None]:
    """Competition ranks (1 = highest; ties share a rank); ``None`` stays ``None``."""
    present = [v for v in values if v is not None]
    return [None if v is None else 1 + sum(other > v for other in present) for v in values]
