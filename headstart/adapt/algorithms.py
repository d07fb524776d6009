"""The adaptation algorithms by name, what they can be combined with, and the settings of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Callable

from torch import Tensor, nn

from headstart.adapt.cdan import ConditionalDomainAdversarialLoss
from headstart.adapt.coral import CoralLoss
from headstart.adapt.dann import DomainAdversarialLoss
from headstart.adapt.mmd import MultipleKernelMMD
from headstart.adapt.modules import AdversarialAlignment
from headstart.errors import HeadstartError

TRAINED_BASES = ("finetune", "lora", "scratch")
AlignmentLoss = Callable[[int, int, int], nn.Module]  # (feature_dim, num_classes, seed) -> loss module


@dataclass(frozen=True)
class Algorithm:
    """An adaptation algorithm, registered once: the base methods it works with and, when it
    aligns the domains, its loss (built by ``loss(feature_dim, num_classes, seed)``), whether that
    loss also sees the classifier's logits, and its default grid of alignment weights.
    Procedures (``headstart.adapt.procedures``) consult these declarations."""

    name: str
    summary: str
    bases: tuple[str, ...]
    default_base: str
    loss: AlignmentLoss | None = None
    weights: tuple[float, ...] = ()  # default grid of alignment weights
    needs_logits: bool = False

    @property
    def aligns(self) -> bool:
        return self.loss is not None


# Weight grids are set a priori from each loss's scale, never from target labels: DANN, CDAN and
# MMD losses are O(0.1-1) like the cross-entropy; CORAL's depends on the features' scale (measured
# 1e-4 on EfficientNet-Lite0 features of MNIST vs digits, 1e-9 for a freshly initialised CNN),
# hence a grid over four orders of magnitude.
_ALGORITHMS = [
    Algorithm("source_only", "No adaptation: train on the source alone (the baseline).", (*TRAINED_BASES, "probe"), "finetune"),
    Algorithm("dann", "DANN: domain discriminator behind gradient reversal.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: DomainAdversarialLoss(dim), (0.3, 1.0)),
    Algorithm("cdan", "CDAN+E: discriminator on features x predictions, entropy-weighted.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: ConditionalDomainAdversarialLoss(dim, classes, seed=seed), (0.3, 1.0), needs_logits=True),
    Algorithm("mmd", "DAN: multi-kernel maximum mean discrepancy of the features.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: MultipleKernelMMD(), (0.3, 1.0)),
    Algorithm("coral", "Deep CORAL: match the features' covariances.", TRAINED_BASES, "finetune",
              lambda dim, classes, seed: CoralLoss(), (1.0, 1e2, 1e4)),
    Algorithm("self_training", "Iterated, class-balanced, confidence-thresholded pseudo-labels.", (*TRAINED_BASES, "probe"), "finetune"),
    Algorithm("adabn", "AdaBN: each domain's own BatchNorm statistics.", ("probe", "finetune", "scratch"), "probe"),
]
ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in _ALGORITHMS}


def get_algorithm(name: str) -> Algorithm:
    if name not in ALGORITHMS:
        raise HeadstartError(f"unknown adaptation method {name!r}; available: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


@dataclass
class AdaptConfig:
    """Settings of an adaptation run beyond the base method's ``Recipe``."""

    method: str = "dann"
    base: str | None = None  # None: the algorithm's default base method
    weights: list[float] | None = None  # alignment weights to choose from; None: the algorithm's grid
    rounds: int = 3  # self-training rounds
    threshold: float = 0.5  # self-training: minimum confidence of a pseudo-label
    max_fraction: float = 0.6  # self-training: share of the target labelled in the last round
    selection_size: int = 1000  # target examples the selection criterion looks at

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def resolve(self) -> AdaptConfig:
        """Fill the algorithm's defaults and check every value; a new config."""
        algorithm = get_algorithm(self.method)
        base = self.base or algorithm.default_base
        if base not in algorithm.bases:
            raise HeadstartError(f"{self.method} works with base method {', '.join(algorithm.bases)}, not {base!r}")
        weights = [float(w) for w in (self.weights if self.weights is not None else algorithm.weights)]
        if algorithm.aligns and (not weights or min(weights) < 0):
            raise HeadstartError(f"{self.method} needs one or more non-negative alignment weights, got {self.weights}")
        if self.rounds < 1 or not 0 <= self.threshold <= 1 or not 0 < self.max_fraction <= 1:
            raise HeadstartError("self-training needs rounds >= 1, threshold in [0, 1] and max_fraction in (0, 1]")
        if self.selection_size < 2:
            raise HeadstartError(f"selection_size must be at least 2, got {self.selection_size}")
        return AdaptConfig(**{**asdict(self), "base": base, "weights": weights if algorithm.aligns else []})


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
