r"""Self-training: label the target with the model's own confident, class-balanced predictions.

Round :math:`r = 1 \dots R` predicts :math:`p_i = \operatorname{softmax}(g(x_i))` on every target
example, keeps the confident ones class by class (:func:`select_pseudo_labels`, with a share
:math:`\rho_r = \rho_{\max}\, r / R` that grows round by round, so the easiest examples are
labelled first) and trains again on the source plus these pseudo-labelled examples. Class balance
follows CBST (Zou et al., "Unsupervised Domain Adaptation for Semantic Segmentation via
Class-Balanced Self-Training", ECCV 2018): without it the classes the source model already
favours swallow the pseudo-labels and the bias feeds on itself.
"""

from __future__ import annotations

import numpy as np

from headstart.errors import HeadstartError


def select_pseudo_labels(probabilities: np.ndarray, threshold: float, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Indices (sorted) and predicted classes of the target examples to pseudo-label.

    With :math:`n` examples and :math:`C` classes, class :math:`c` contributes its most confident
    examples among those predicted as :math:`c` with confidence :math:`\max_k p_{ik} \ge` ``threshold``,
    at most :math:`\lfloor \rho\, n / C \rfloor` of them (:math:`\rho` = ``fraction``): no class can
    take more than its uniform share of the pseudo-labels.
    """
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise HeadstartError(f"pseudo-labelling needs an (n, classes) probability array, got shape {probabilities.shape}")
    if not 0.0 <= threshold <= 1.0 or not 0.0 <= fraction <= 1.0:
        raise HeadstartError(f"threshold and fraction must be in [0, 1], got {threshold} and {fraction}")
    n, num_classes = probabilities.shape
    predicted, confidence = probabilities.argmax(1), probabilities.max(1)
    quota = int(fraction * n / num_classes)
    chosen = []
    for c in range(num_classes):
        members = np.flatnonzero((predicted == c) & (confidence >= threshold))
        chosen.append(members[np.argsort(-confidence[members], kind="stable")[:quota]])
    indices = np.sort(np.concatenate(chosen))
    return indices, predicted[indices]


def round_fractions(rounds: int, max_fraction: float) -> list[float]:
    r"""The share :math:`\rho_r = \rho_{\max}\, r / R` of the target labelled in round :math:`r = 1 \dots R`."""
    return [max_fraction * r / rounds for r in range(1, rounds + 1)]
