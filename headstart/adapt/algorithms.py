"""The adaptation algorithms by name, what they can be combined with, and the settings of a run."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable

from torch import Tensor, nn

from headstart.adapt.cdan import ConditionalDomainAdversarialLoss
from headstart.adapt.coral import CoralLoss
from headstart.adapt.dann import DomainAdversarialLoss
from headstart.adapt.mmd import MultipleKernelMMD
from headstart.adapt.modules import AdversarialAlignment
from headstart.errors import HeadstartError

TRAINED_BASES = ("finetune", "lora", "scratch")
AlignmentLoss = Callable[[int, int, int], nn.Module]  # (feature_dim, num_classes, seed) -> loss module


@dataclass
class AlignmentSettings:
    """Settings of the aligning algorithms (DANN, CDAN, MMD, CORAL)."""

    weights: list[float] | None = None  # alignment weights to choose from by the selection criterion; None: the algorithm's default

    def __post_init__(self) -> None:
        if self.weights is not None:
            if not isinstance(self.weights, (list, tuple)) or not self.weights or min(float(w) for w in self.weights) < 0:
                raise HeadstartError(f"weights must be a non-empty list of non-negative alignment weights, not {self.weights!r}")
            self.weights = [float(w) for w in self.weights]


@dataclass
class SelfTrainingSettings:
    """Settings of self-training: rounds of class-balanced, confidence-thresholded pseudo-labels."""

    rounds: int = 3  # pseudo-labelling rounds
    threshold: float = 0.5  # minimum confidence of a pseudo-label
    max_fraction: float = 0.6  # share of the target pseudo-labelled in the last round

    def __post_init__(self) -> None:
        if self.rounds < 1 or not 0 <= self.threshold <= 1 or not 0 < self.max_fraction <= 1:
            raise HeadstartError("self-training needs rounds >= 1, threshold in [0, 1] and max_fraction in (0, 1]")


@dataclass
class NoSettings:
    """An algorithm without settings of its own."""


@dataclass(frozen=True)
class Algorithm:
    """An adaptation algorithm, registered once: the base methods it works with and, when it
    aligns the domains, its loss (built by ``loss(feature_dim, num_classes, seed)``), whether that
    loss also sees the classifier's logits, and its default alignment weight(s).
    Procedures (``headstart.adapt.procedures``) consult these declarations."""

    name: str
    summary: str
    bases: tuple[str, ...]
    default_base: str
    loss: AlignmentLoss | None = None
    weights: tuple[float, ...] = ()  # default alignment weights (one: a grid costs a run per weight)
    needs_logits: bool = False
    settings: type = NoSettings  # the algorithm's own settings dataclass

    @property
    def aligns(self) -> bool:
        return self.loss is not None

    def setting_names(self) -> list[str]:
        return [f.name for f in fields(self.settings)]


# One alignment weight by default, set a priori from each loss's scale, never from target labels
# (a grid, chosen by the selection criterion, on request: one training run per weight). DANN, CDAN
# and MMD losses are O(0.1-1) like the cross-entropy; 0.3 for the adversarial ones, whose larger
# weights unsettled training from scratch in bench/adapt.py. CORAL is scale-free (``CoralLoss``).
_ALGORITHMS = [
    Algorithm("source_only", "No adaptation: train on the source alone (the baseline).", (*TRAINED_BASES, "probe"), "finetune"),
    Algorithm("dann", "DANN: domain discriminator behind gradient reversal.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: DomainAdversarialLoss(dim), (0.3,), settings=AlignmentSettings),
    Algorithm("cdan", "CDAN+E: discriminator on features x predictions, entropy-weighted.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: ConditionalDomainAdversarialLoss(dim, classes, seed=seed), (0.3,), needs_logits=True, settings=AlignmentSettings),
    Algorithm("mmd", "DAN: multi-kernel maximum mean discrepancy of the features.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: MultipleKernelMMD(), (1.0,), settings=AlignmentSettings),
    Algorithm("coral", "Deep CORAL: match the features' covariances.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: CoralLoss(), (1.0,), settings=AlignmentSettings),
    Algorithm("self_training", "Iterated, class-balanced, confidence-thresholded pseudo-labels.", (*TRAINED_BASES, "probe"), "finetune",
              settings=SelfTrainingSettings),
    Algorithm("adabn", "AdaBN: each domain's own BatchNorm statistics.", ("probe", "finetune", "scratch"), "probe"),
]
ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in _ALGORITHMS}


def get_algorithm(name: str) -> Algorithm:
    if name not in ALGORITHMS:
        raise HeadstartError(f"unknown adaptation method {name!r}; available: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


SHARED_SETTINGS = ("base", "selection_size")
ALGORITHM_SETTINGS = frozenset(f.name for cls in (AlignmentSettings, SelfTrainingSettings) for f in fields(cls))


@dataclass
class AdaptConfig:
    """A resolved adaptation run, beyond the base method's ``Recipe``: the settings every algorithm
    shares (``base``, ``selection_size``) and the chosen algorithm's own, with its defaults filled
    in (``build`` checks them against the algorithm's settings dataclass)."""

    method: str = "dann"
    base: str | None = None  # None: the algorithm's default base method
    selection_size: int = 1000  # target examples the selection criterion looks at
    weights: list[float] | None = None  # aligning algorithms: the weights to choose from
    rounds: int = 3  # self-training
    threshold: float = 0.5
    max_fraction: float = 0.6

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def build(cls, method: str, **values: Any) -> AdaptConfig:
        """The config of algorithm ``method`` from the user's ``values``: shared settings and the
        algorithm's own; another algorithm's settings are refused with a one-line error."""
        algorithm = get_algorithm(method)
        own = algorithm.setting_names()
        for key in values:
            if key in SHARED_SETTINGS or key in own:
                continue
            valid = [*SHARED_SETTINGS, *own]
            if key in ALGORITHM_SETTINGS:
                raise HeadstartError(
                    f"{key} does nothing with adaptation method {method}; {method}'s settings: {', '.join(own) or 'none'}; "
                    f"shared settings: {', '.join(SHARED_SETTINGS)}")
            hint = difflib.get_close_matches(key, valid, n=1)
            raise HeadstartError(f"unknown adaptation setting {key}{f'; did you mean {hint[0]}?' if hint else ''}")
        settings = algorithm.settings(**{k: v for k, v in values.items() if k in own})
        base = values.get("base") or algorithm.default_base
        if base not in algorithm.bases:
            raise HeadstartError(f"{method} works with base method {', '.join(algorithm.bases)}, not {base!r}")
        selection_size = values.get("selection_size", cls.selection_size)
        if selection_size < 2:
            raise HeadstartError(f"selection_size must be at least 2, got {selection_size}")
        own_values = asdict(settings)
        if algorithm.aligns:
            own_values["weights"] = own_values["weights"] if own_values.get("weights") is not None else list(algorithm.weights)
        else:
            own_values["weights"] = []
        return cls(method=method, base=base, selection_size=selection_size, **own_values)


class FeatureAlignment(nn.Module):
    r"""``weight`` times an alignment loss :math:`L(f_s, f_t)` on pooled backbone features (or
    :math:`L(f_s, f_t, g_s, g_t)` with the logits, for losses that need them); adversarial losses
    warm their gradient reversal up with ``step(progress)``."""

    def __init__(self, loss: nn.Module, weight: float, *, conditional: bool = False) -> None:
        super().__init__()
        self.loss, self.weight, self.conditional = loss, weight, conditional

    @property
    def adversarial(self) -> bool:
        return isinstance(self.loss, AdversarialAlignment)

    def step(self, progress: float) -> None:
        if self.adversarial:
            self.loss.step(progress)

    def forward(self, f_s: Tensor, f_t: Tensor, logits_s: Tensor, logits_t: Tensor) -> Tensor:
        f_s, f_t = f_s.float(), f_t.float()
        value = self.loss(f_s, f_t, logits_s.float(), logits_t.float()) if self.conditional else self.loss(f_s, f_t)
        return self.weight * value


def build_alignment(name: str, feature_dim: int, num_classes: int, weight: float, seed: int = 0) -> FeatureAlignment:
    """The alignment loss of algorithm ``name`` for ``feature_dim``-d features and ``num_classes`` classes."""
    algorithm = get_algorithm(name)
    if algorithm.loss is None:
        aligning = ", ".join(a.name for a in _ALGORITHMS if a.aligns)
        raise HeadstartError(f"{name!r} has no alignment loss; these do: {aligning}")
    return FeatureAlignment(algorithm.loss(feature_dim, num_classes, seed), weight, conditional=algorithm.needs_logits)
